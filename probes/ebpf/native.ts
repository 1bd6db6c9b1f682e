/**
 * @module The native layer: `native/libbpf_shim.c` compiled by bun:ffi's `cc` and linked with the
 * system libbpf, with typed wrappers that turn C conventions (negative errno, NULL pointers,
 * libbpf's log) into exceptions that say what to do.
 *
 * Compiled once per process (≈10 ms) on first use; every wrapper is a single FFI call.
 *
 * When to use: only from the loader (`loader.ts`), the object spec (`spec.ts`) and the
 * feature probes (`features.ts`); nothing else touches libbpf.
 */
import { cc, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { join } from "node:path";

const SHIM = join(import.meta.dir, "native", "libbpf_shim.c");

const symbols = {
	vg_init: { args: [], returns: "i32" },
	vg_log_take: { args: ["ptr", "i32"], returns: "i32" },
	vg_errno: { args: [], returns: "i32" },
	vg_open: { args: ["ptr"], returns: "ptr" },
	vg_close: { args: ["ptr"], returns: "void" },
	vg_prog_count: { args: ["ptr"], returns: "i32" },
	vg_prog_at: { args: ["ptr", "i32", "ptr", "i32", "ptr", "i32"], returns: "i32" },
	vg_map_count: { args: ["ptr"], returns: "i32" },
	vg_map_at: { args: ["ptr", "i32", "ptr", "i32"], returns: "i32" },
	vg_set_autoload: { args: ["ptr", "ptr", "i32"], returns: "i32" },
	vg_set_max_entries: { args: ["ptr", "ptr", "u32"], returns: "i32" },
	vg_set_rodata: { args: ["ptr", "ptr", "ptr", "i32"], returns: "i32" },
	vg_load: { args: ["ptr"], returns: "i32" },
	vg_map_fd: { args: ["ptr", "ptr"], returns: "i32" },
	vg_attach: { args: ["ptr", "ptr"], returns: "ptr" },
	vg_link_destroy: { args: ["ptr"], returns: "i32" },
	vg_detach_start: { args: ["ptr", "i32"], returns: "ptr" },
	vg_detach_done: { args: ["ptr"], returns: "i32" },
	vg_ring_open: { args: ["i32", "u32", "u32"], returns: "ptr" },
	vg_ring_drain: { args: ["ptr", "ptr", "u32"], returns: "i32" },
	vg_ring_used: { args: ["ptr"], returns: "u32" },
	vg_ring_close: { args: ["ptr"], returns: "void" },
	vg_map_lookup: { args: ["i32", "ptr", "ptr"], returns: "i32" },
	vg_num_possible_cpus: { args: [], returns: "i32" },
	vg_clock_offset: { args: [], returns: "f64" },
	vg_probe_prog_type: { args: ["i32"], returns: "i32" },
	vg_probe_map_type: { args: ["i32"], returns: "i32" },
	vg_probe_helper: { args: ["i32", "i32"], returns: "i32" },
	vg_mount_tracefs: { args: ["ptr"], returns: "i32" },
} as const;

type Lib = ReturnType<typeof cc<typeof symbols>>["symbols"];

/** libbpf or its headers are not usable here; the message names the package to install. */
export class NativeError extends Error {
	override readonly name = "NativeError";
}

let lib: Lib | undefined;

const libbpfHint = (): string => {
	const haveSo = [
		"/usr/lib/x86_64-linux-gnu/libbpf.so.1",
		"/usr/lib/aarch64-linux-gnu/libbpf.so.1",
		"/usr/lib64/libbpf.so.1",
	].some(existsSync);
	const haveHeaders = existsSync("/usr/include/bpf/libbpf.h");
	if (!haveSo) return "libbpf is not installed: apt-get install libbpf1 libbpf-dev";
	if (!haveHeaders) return "libbpf headers are missing: apt-get install libbpf-dev";
	return "check that libbpf-dev matches the installed libbpf";
};

/** The compiled shim; compiles it on first call. Throws {@link NativeError}. */
export function native(): Lib {
	if (lib) return lib;
	try {
		lib = cc({ source: SHIM, library: ["bpf", "pthread"], symbols }).symbols;
	} catch (e) {
		throw new NativeError(`cannot build the libbpf shim (${SHIM}): ${libbpfHint()}\n${String(e)}`);
	}
	lib.vg_init();
	return lib;
}

/** A returned pointer: Bun returns numbers for pointers; NULL is null (or 0). */
export const asPtr = (p: Pointer | bigint | null): Pointer | null => (p ? (p as Pointer) : null);

const encoder = new TextEncoder();
/** A NUL-terminated copy of `s` for `const char *` arguments. */
export const cstr = (s: string): Uint8Array => encoder.encode(`${s}\0`);

const LOG = new Uint8Array(1 << 17);
/** libbpf's messages since the last call (warnings, verifier logs). */
export function takeLog(): string {
	const n = native().vg_log_take(LOG, LOG.length);
	return new TextDecoder().decode(LOG.subarray(0, n));
}

const ERRNO: Record<number, string> = {
	1: "EPERM",
	2: "ENOENT",
	7: "E2BIG",
	12: "ENOMEM",
	13: "EACCES",
	16: "EBUSY",
	22: "EINVAL",
	28: "ENOSPC",
	38: "ENOSYS",
	95: "EOPNOTSUPP",
	524: "ENOTSUPP",
};
export const errnoName = (e: number): string => ERRNO[Math.abs(e)] ?? `errno ${Math.abs(e)}`;
