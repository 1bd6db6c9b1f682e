/** The object spec and the catalogue agree: read from the ELF file, no kernel needed. */
import { beforeAll, describe, expect, test } from "bun:test";
import { ensureBpfObjects, OBJECT_PATH } from "../../bpf/build.ts";
import { EVENT_TYPES } from "./catalogue.ts";
import { type HookIndex, notSupported } from "./features.ts";
import { planLoad } from "./loader.ts";
import { hookOf, ObjectSpec } from "./spec.ts";

let spec: ObjectSpec;
beforeAll(async () => {
	await ensureBpfObjects();
	spec = ObjectSpec.read(OBJECT_PATH);
});

describe("the BPF object as declared", () => {
	test("every program of the object makes some event type, and every program named by an event type exists", () => {
		const declared = new Set(spec.programs.map((p) => p.name));
		const claimed = new Set(EVENT_TYPES.flatMap((t) => t.programs));
		expect([...declared].sort()).toEqual([...claimed].sort());
	});

	test("programs attach to syscall tracepoints or raw tracepoints, named after their hook", () => {
		for (const p of spec.programs) {
			if (p.hook.kind === "tracepoint") {
				expect(p.hook.category).toBe("syscalls");
				const [, dir, syscall] = /^sys_(enter|exit)_(.+)$/.exec(p.hook.name) ?? [];
				expect(p.name).toBe(`vg_${dir === "enter" ? "e" : "x"}_${syscall}`);
			} else {
				expect(p.name).toBe(`vg_${p.hook.name.replace(/^sched_process_/, "")}`);
			}
		}
	});

	test("the ring buffer, counters and per-syscall state maps are declared", () => {
		for (const m of ["vg_events", "vg_counters", "vg_scratch", "vg_pending", "vg_small"])
			expect(spec.maps).toContain(m);
	});

	test("section names map to hooks", () => {
		expect(hookOf("tracepoint/syscalls/sys_exit_openat")).toEqual({
			kind: "tracepoint",
			category: "syscalls",
			name: "sys_exit_openat",
		});
		expect(hookOf("raw_tracepoint/sched_process_exec")).toEqual({
			kind: "raw_tracepoint",
			name: "sched_process_exec",
		});
		expect(hookOf("kprobe/do_sys_open")).toBeUndefined();
	});

	test("an object that is not ELF is refused with its path in the message", () => {
		expect(() => ObjectSpec.read("/etc/hostname")).toThrow("/etc/hostname");
	});
});

describe("which programs load", () => {
	/** A kernel whose only hooks are those of `programs`. */
	const kernelWith = (...programs: string[]): HookIndex => {
		const hooks = new Set(
			spec.programs.filter((p) => programs.includes(p.name)).map((p) => JSON.stringify(p.hook)),
		);
		return { has: (hook) => (hooks.has(JSON.stringify(hook)) ? true : notSupported("no such tracepoint")) };
	};

	test("an optional program alone does not make its event type: load_module needs a module syscall", () => {
		const only = planLoad(spec, ["load_module", "exec"], kernelWith("vg_module_load", "vg_exec"));
		expect(only.enabled).toEqual(["exec"]);
		expect(only.unsupported).toEqual([{ eventType: "load_module", reason: "no such tracepoint" }]);
		expect(only.load.has("vg_module_load")).toBe(false);
		// with the syscall, the optional hook loads too
		const both = planLoad(spec, ["load_module"], kernelWith("vg_module_load", "vg_x_finit_module"));
		expect(both.enabled).toEqual(["load_module"]);
		expect([...both.load].sort()).toEqual(["vg_module_load", "vg_x_finit_module"]);
	});
});
