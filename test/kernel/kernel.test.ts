/**
 * Kernel events from the real kernel: bpf() commands, executable memory, modules. Module
 * events need a kernel with loadable modules; where there are none, the test checks that the
 * probe says so precisely, and prints why the event itself could not be exercised.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { OBJECT_PATH } from "../../bpf/build.ts";
import { EVENT_TYPES } from "../../probes/ebpf/catalogue.ts";
import { findTracefs, hookIndex } from "../../probes/ebpf/features.ts";
import { LoadedObject } from "../../probes/ebpf/loader.ts";
import { ObjectSpec } from "../../probes/ebpf/spec.ts";
import { buildOnce, observeAct, ofType, type ProbeRun, payload, useProbe } from "./harness.ts";

let probe: ProbeRun;
let dir: string;
useProbe(
	"kernel",
	{
		families: ["kernel"],
		event_types: ["bpf", "mmap", "mprotect", "load_module", "unload_module", "exec", "fork", "exit"],
	},
	(p, d) => {
		probe = p;
		dir = d;
	},
);

const BPF_MAP_CREATE = 0;
const BPF_PROG_LOAD = 5;
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_SOCKET_FILTER = 1;
const BPF_FUNC_get_prandom_u32 = 7;
const PROT_READ = 1;
const PROT_EXEC = 4;
const VM_READ = 1;
const VM_WRITE = 2;
const VM_EXEC = 4;

describe("bpf", () => {
	test("map creation reports the command, the map type and name", async () => {
		const { events } = await observeAct(probe, ["bpf_map", "vgtestmap"]);
		const e = ofType(events, "bpf").find((x) => payload(x).cmd === BPF_MAP_CREATE);
		expect(payload(e).map).toEqual({ type: BPF_MAP_TYPE_ARRAY, name: "vgtestmap" });
		expect(payload(e).retval).toBeGreaterThanOrEqual(0);
	});

	test("a program load reports its type, name, tag and the helpers it calls", async () => {
		const { events } = await observeAct(probe, ["bpf_prog", "vgtestprog"]);
		const e = ofType(events, "bpf").find((x) => payload(x).cmd === BPF_PROG_LOAD);
		const prog = payload(e).prog;
		expect(prog.type).toBe(BPF_PROG_TYPE_SOCKET_FILTER);
		expect(prog.name).toBe("vgtestprog");
		expect(prog.helpers).toEqual([BPF_FUNC_get_prandom_u32]);
		expect(prog.tag).toMatch(/^[0-9a-f]{16}$/);
		expect(payload(e).retval).toBeGreaterThanOrEqual(0);
	});
});

describe("executable memory", () => {
	test("mmap of a file with PROT_EXEC reports the file and the protection", async () => {
		const { events } = await observeAct(probe, ["mmap", "/bin/true"]);
		const e = ofType(events, "mmap").find((x) => payload(x).file?.path === "/usr/bin/true");
		expect(payload(e).protection).toBe(PROT_READ | PROT_EXEC);
		expect(payload(e).retval).toBeGreaterThan(0);
	});

	test("mprotect to PROT_EXEC reports the requested and the previous protection", async () => {
		const { events } = await observeAct(probe, ["mprotect"]);
		const e = ofType(events, "mprotect")[0];
		expect(payload(e).req_protection).toBe(PROT_READ | PROT_EXEC);
		expect(payload(e).vm_protection & (VM_READ | VM_WRITE | VM_EXEC)).toBe(VM_READ | VM_WRITE);
		expect(payload(e).retval).toBe(0);
	});
});

describe("modules", () => {
	/** The reason this kernel cannot report `type`, printed loudly, or undefined if it can. */
	const unsupported = (type: string): string | undefined => {
		const u = probe.probe.report.unsupported.find((x) => x.eventType === type);
		if (!u) return undefined;
		console.error(
			`\n!!! ${type} cannot be exercised on this kernel: ${u.reason}` +
				"\n!!! (a kernel without loadable modules has no such hooks). Checked instead: the probe reports it as unsupported.\n",
		);
		expect(u.reason).toMatch(/does not exist in this kernel/);
		expect(probe.logs.some((l) => l.level === "warn" && l.message.includes(type))).toBe(true);
		return u.reason;
	};

	test("a module load is reported with the file and the error, or the probe says exactly why it cannot be", async () => {
		if (unsupported("load_module")) return;
		const notAModule = `${dir}/not-a-module.ko`;
		await Bun.write(notAModule, "not an ELF file");
		const { events } = await observeAct(probe, ["finit_module", notAModule]);
		const e = ofType(events, "load_module")[0];
		expect(payload(e).file.path).toBe(notAModule);
		expect(payload(e).name).toBe("not-a-module");
		expect(payload(e).loaded_from_memory).toBe(false);
		expect(payload(e).retval).toBeLessThan(0);
	});

	test("a module unload is reported with its name and ENOENT, or the probe says exactly why it cannot be", async () => {
		if (unsupported("unload_module")) return;
		const { events } = await observeAct(probe, ["delete_module", "vigil_no_such_module"]);
		const e = ofType(events, "unload_module")[0];
		expect(payload(e)).toEqual({ name: "vigil_no_such_module", retval: -2 });
	});

	test("every program, module ones included, passes this kernel's verifier", async () => {
		await buildOnce();
		const tracefs = findTracefs();
		expect(tracefs).toBeDefined();
		const real = hookIndex(tracefs!);
		const everything = { has: () => true as const };
		const lo = LoadedObject.load(
			ObjectSpec.read(OBJECT_PATH),
			{
				eventTypes: EVENT_TYPES.map((t) => t.name),
				selfPid: process.pid,
				ringBytes: 1 << 16,
				argsMax: 4096,
				envsMax: 8192,
				wakeup: false,
			},
			everything,
		);
		try {
			const spec = ObjectSpec.read(OBJECT_PATH);
			// loaded means verified; attaching fails only where the hook does not exist
			const missing = spec.programs.filter((p) => real.has(p.hook) !== true).map((p) => p.name);
			expect(lo.report.skipped.map((s) => s.program).sort()).toEqual(missing.sort());
			expect(lo.report.attached.length + missing.length).toBe(spec.programs.length);
		} finally {
			await lo.close();
		}
		expect(existsSync(OBJECT_PATH)).toBe(true);
	});
});
