/**
 * @module What the BPF object declares: its programs (name, section, the hook each attaches to)
 * and maps, read from the ELF file by libbpf without loading anything into the kernel.
 *
 * This is the "spec" half of the loader (cilium/ebpf's CollectionSpec): deterministic and
 * testable without privileges. `loader.ts` turns a spec plus a configuration into kernel
 * objects.
 *
 * When to use: `ObjectSpec.read(path)` to plan a load or to check the catalogue against the
 * object.
 */
import { asPtr, cstr, errnoName, native, takeLog } from "./native.ts";

export type Hook =
	| { readonly kind: "tracepoint"; readonly category: string; readonly name: string }
	| { readonly kind: "raw_tracepoint"; readonly name: string };

export interface ProgramSpec {
	readonly name: string;
	readonly section: string;
	readonly hook: Hook;
}

export class SpecError extends Error {
	override readonly name = "SpecError";
}

/** The hook of an ELF section name (`tracepoint/syscalls/sys_exit_open`, `raw_tracepoint/x`). */
export const hookOf = (section: string): Hook | undefined => {
	const parts = section.split("/");
	if ((parts[0] === "tracepoint" || parts[0] === "tp") && parts.length === 3) {
		return { kind: "tracepoint", category: parts[1]!, name: parts[2]! };
	}
	if ((parts[0] === "raw_tracepoint" || parts[0] === "raw_tp") && parts.length === 2) {
		return { kind: "raw_tracepoint", name: parts[1]! };
	}
	return undefined;
};

const decoder = new TextDecoder();
const cString = (b: Uint8Array): string => decoder.decode(b.subarray(0, Math.max(0, b.indexOf(0))));

export class ObjectSpec {
	private constructor(
		readonly path: string,
		readonly programs: readonly ProgramSpec[],
		readonly maps: readonly string[],
	) {}

	/** Read the object at `path`. Throws {@link SpecError} if libbpf cannot parse it. */
	static read(path: string): ObjectSpec {
		const n = native();
		const obj = asPtr(n.vg_open(cstr(path)));
		if (!obj) {
			const err = n.vg_errno();
			throw new SpecError(`cannot open BPF object ${path}: ${errnoName(err)}\n${takeLog().trim()}`);
		}
		try {
			const programs: ProgramSpec[] = [];
			const name = new Uint8Array(128);
			const sec = new Uint8Array(256);
			for (let i = 0, count = n.vg_prog_count(obj); i < count; i++) {
				n.vg_prog_at(obj, i, name, name.length, sec, sec.length);
				const section = cString(sec);
				const hook = hookOf(section);
				if (!hook)
					throw new SpecError(`${path}: program ${cString(name)} has an unknown section "${section}"`);
				programs.push({ name: cString(name), section, hook });
			}
			const maps: string[] = [];
			for (let i = 0, count = n.vg_map_count(obj); i < count; i++) {
				n.vg_map_at(obj, i, name, name.length);
				maps.push(cString(name));
			}
			return new ObjectSpec(path, programs, maps);
		} finally {
			n.vg_close(obj);
			takeLog();
		}
	}

	program(name: string): ProgramSpec | undefined {
		return this.programs.find((p) => p.name === name);
	}
}
