/**
 * @module Feature probes: what this kernel and this process allow, asked of the kernel itself
 * rather than guessed from version numbers.
 *
 * Each probe returns `true` (or a value) when the feature is there, or an {@link Unsupported}
 * carrying the sentinel {@link NOT_SUPPORTED}, the reason and what to do; callers test with
 * {@link isNotSupported}. Requirements (privileges, BTF, ring buffer, helpers, tracefs) stop the
 * start; hooks decide which programs load (a missing tracepoint disables only its programs).
 *
 * When to use: `probeKernel()` once at start, before loading.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hook } from "./spec.ts";

export const NOT_SUPPORTED: unique symbol = Symbol("vigil/ebpf/not-supported");

export interface Unsupported {
	readonly [NOT_SUPPORTED]: true;
	readonly reason: string;
	/** What to do about it. */
	readonly fix?: string;
}

export const notSupported = (reason: string, fix?: string): Unsupported => ({
	[NOT_SUPPORTED]: true,
	reason,
	...(fix ? { fix } : {}),
});

export const isNotSupported = (x: unknown): x is Unsupported =>
	typeof x === "object" && x !== null && (x as Partial<Unsupported>)[NOT_SUPPORTED] === true;

export type Probe<T = true> = T | Unsupported;

/** Why the probe cannot start, and what to do. */
export class ProbeStartError extends Error {
	override readonly name = "ProbeStartError";
	constructor(
		readonly reason: string,
		readonly fix: string,
	) {
		super(`${reason}: ${fix}`);
	}
}

export const KERNEL_BTF = "/sys/kernel/btf/vmlinux";
const TRACEFS_ROOTS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capabilities of this process, from /proc/self/status. */
export const effectiveCaps = (status = "/proc/self/status"): bigint => {
	const line = readFileSync(status, "utf8")
		.split("\n")
		.find((l) => l.startsWith("CapEff:"));
	return line ? BigInt(`0x${line.slice(7).trim()}`) : 0n;
};

/** Loading tracing programs needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN. */
export const probePrivileges = (caps = effectiveCaps()): Probe => {
	const has = (c: bigint) => ((caps >> c) & 1n) === 1n;
	if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return true;
	return notSupported(
		`not permitted to load BPF programs (uid ${process.getuid?.() ?? "?"}, CapEff ${caps.toString(16)}: CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, are needed)`,
		"run the agent as root, or grant it CAP_BPF and CAP_PERFMON (e.g. systemd AmbientCapabilities=CAP_BPF CAP_PERFMON)",
	);
};

export const probeBtf = (path = KERNEL_BTF): Probe =>
	existsSync(path)
		? true
		: notSupported(
				`${path} is missing: this kernel exposes no BTF, which CO-RE programs need`,
				"use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2021)",
			);

/** The tracefs mount point, if one is mounted. */
export const findTracefs = (roots: readonly string[] = TRACEFS_ROOTS): string | undefined =>
	roots.find((r) => existsSync(join(r, "events")));

/**
 * tracefs is where tracepoints are looked up. When it is not mounted and `mount` is true, mount
 * it at /sys/kernel/tracing (root only).
 */
export const probeTracefs = (
	mount: (target: string) => number,
	allowMount: boolean,
	roots: readonly string[] = TRACEFS_ROOTS,
): Probe<string> => {
	const found = findTracefs(roots);
	if (found) return found;
	const target = roots[0]!;
	const fix = `mount it: mount -t tracefs nodev ${target} (or let the probe do it: mount_tracefs: true)`;
	if (!allowMount) return notSupported(`tracefs is not mounted`, fix);
	const err = mount(target);
	if (err === 0 && findTracefs(roots)) return target;
	return notSupported(`tracefs is not mounted and mounting it at ${target} failed (errno ${-err})`, fix);
};

export interface HookIndex {
	has(hook: Hook): Probe;
}

/** Which tracepoints exist, from tracefs `events/`. */
export const hookIndex = (tracefs: string): HookIndex => {
	const events = join(tracefs, "events");
	let byName: Map<string, string> | undefined;
	const rawCategory = (name: string): string | undefined => {
		if (!byName) {
			byName = new Map();
			for (const cat of readdirSync(events)) {
				try {
					for (const ev of readdirSync(join(events, cat))) byName.set(ev, cat);
				} catch {
					// files such as events/enable
				}
			}
		}
		return byName.get(name);
	};
	return {
		has(hook) {
			if (hook.kind === "tracepoint") {
				return existsSync(join(events, hook.category, hook.name, "id"))
					? true
					: notSupported(`tracepoint ${hook.category}:${hook.name} does not exist in this kernel`);
			}
			return rawCategory(hook.name)
				? true
				: notSupported(`raw tracepoint ${hook.name} does not exist in this kernel`);
		},
	};
};

/** BPF program, map and helper ids used below (include/uapi/linux/bpf.h). */
export const BPF_PROG_TYPE_TRACEPOINT = 5;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
export const BPF_MAP_TYPE_RINGBUF = 27;
export const HELPERS = {
	bpf_get_current_task_btf: 158,
	bpf_task_pt_regs: 175,
	bpf_find_vma: 180,
	bpf_loop: 181,
} as const;

export interface KernelProbes {
	probeProgType(type: number): number;
	probeMapType(type: number): number;
	probeHelper(progType: number, helper: number): number;
}

/** Program types, the ring buffer and the helpers every program uses. */
export const probeBpf = (k: KernelProbes): Probe => {
	const missing: string[] = [];
	if (k.probeProgType(BPF_PROG_TYPE_TRACEPOINT) !== 1) missing.push("tracepoint programs");
	if (k.probeProgType(BPF_PROG_TYPE_RAW_TRACEPOINT) !== 1) missing.push("raw tracepoint programs");
	if (k.probeMapType(BPF_MAP_TYPE_RINGBUF) !== 1) missing.push("BPF ring buffers (Linux 5.8)");
	for (const [name, id] of Object.entries(HELPERS)) {
		if (k.probeHelper(BPF_PROG_TYPE_TRACEPOINT, id) !== 1) missing.push(`helper ${name}`);
	}
	if (missing.length === 0) return true;
	return notSupported(
		`this kernel lacks ${missing.join(", ")}`,
		"use Linux 5.17 or later with BPF enabled (CONFIG_BPF_SYSCALL, CONFIG_BPF_EVENTS)",
	);
};
