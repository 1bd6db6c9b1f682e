/**
 * @module Test support for the process resolver: its counters, synthetic kernel events shaped like
 * the eBPF probe's, fake /proc entries, and real processes started for the length of a test.
 *
 * When to use: from this folder's `*.test.ts` files only.
 */
import { mkdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import type { ProcessContext } from "../../core/model/types.ts";
import type { Event } from "../../core/sdk.ts";
import { StatsRegistry } from "../../core/stats.ts";
import type { ResolverCounters } from "./resolver.ts";

export const counters = (stats = new StatsRegistry()): ResolverCounters => ({
	hits: stats.counter("hits"),
	misses: stats.counter("misses"),
	procfsFills: stats.counter("fills"),
	passthrough: stats.counter("passthrough"),
	noProcessContext: stats.counter("no_process_context"),
	brokenLineage: stats.counter("broken_lineage"),
	evictedExited: stats.counter("evicted_exited"),
	evictedLive: stats.counter("evicted_live"),
});

/** Credentials of root, as a kernel event carries them. */
export const ROOT_CREDS = {
	uid: 0,
	gid: 0,
	euid: 0,
	egid: 0,
	fsuid: 0,
	fsgid: 0,
	auid: 4294967295,
	cap_effective: 0x1ffffffffff,
	cap_permitted: 0x1ffffffffff,
} as const;

/** A kernel event of `type` for `process`, like the eBPF probe decodes one. */
export const kernelEvent = (
	type: string,
	timestamp: number,
	process: ProcessContext,
	payload?: Record<string, unknown>,
): Event => {
	const event: Event = { type, timestamp, flags: 0, process: { tid: process.pid, ...process } };
	if (payload) event[type] = payload;
	if (type === "exec" || type === "exit") event[type] = event.process;
	return event;
};

/** Start `argv` and wait until its pid runs `exe` (a wrapper such as setpriv has exec'd). */
export const startProcess = async (argv: string[], exe: string, env?: Record<string, string>) => {
	const child = Bun.spawn(argv, { stdout: "ignore", stderr: "ignore", ...(env ? { env } : {}) });
	for (let i = 0; i < 500; i++) {
		try {
			if (readlinkSync(`/proc/${child.pid}/exe`) === exe) break;
		} catch {
			// not started yet
		}
		await Bun.sleep(10);
	}
	return {
		pid: child.pid,
		async stop() {
			child.kill("SIGKILL");
			await child.exited;
		},
	};
};

export interface FakeProcess {
	pid: number;
	ppid: number;
	comm: string;
	uid?: number;
	gid?: number;
	exe?: string;
	argv?: string[];
	env?: string[];
	/** Content of the `cgroup` file. */
	cgroup?: string;
	startTicks?: number;
	/** PF_KTHREAD set, no exe, empty cmdline. */
	kthread?: boolean;
}

/** Lay out `<root>/<pid>/…` like /proc for one process (for hosts and runtimes this one lacks). */
export const writeFakeProcess = (root: string, p: FakeProcess): void => {
	const dir = `${root}/${p.pid}`;
	mkdirSync(dir, { recursive: true });
	const uid = p.uid ?? 0;
	const gid = p.gid ?? 0;
	const flags = p.kthread ? 0x00208040 : 0x00400100;
	const stat = [
		p.pid,
		`(${p.comm})`,
		"S",
		p.ppid,
		p.pid,
		p.pid,
		0,
		-1,
		flags,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		20,
		0,
		1,
		0,
	];
	writeFileSync(`${dir}/stat`, `${[...stat, p.startTicks ?? 100, 0, 0].join(" ")}\n`);
	writeFileSync(
		`${dir}/status`,
		`Name:\t${p.comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${gid}\t${gid}\t${gid}\t${gid}\n` +
			"CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n",
	);
	writeFileSync(`${dir}/loginuid`, "4294967295");
	writeFileSync(`${dir}/cgroup`, p.cgroup ?? "0::/\n");
	if (p.kthread) {
		writeFileSync(`${dir}/cmdline`, "");
		return;
	}
	writeFileSync(`${dir}/cmdline`, `${(p.argv ?? [p.comm]).join("\0")}\0`);
	writeFileSync(`${dir}/environ`, p.env && p.env.length > 0 ? `${p.env.join("\0")}\0` : "");
	if (p.exe) symlinkSync(p.exe, `${dir}/exe`);
};
