/**
 * The TypeScript record layouts (layout.ts) against the definition: the BTF of the compiled
 * object (struct sizes, member names, order, offsets and sizes, the event type enum) and the
 * `#define`s of the C headers. Needs clang and bpftool (to build and read the object), not
 * the kernel.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBpfObjects, OBJECT_PATH } from "../../bpf/build.ts";
import { DEFINES, EVENT_IDS, STRUCTS } from "./layout.ts";

interface BtfType {
	id: number;
	kind: string;
	name?: string;
	size?: number;
	type_id?: number;
	nr_elems?: number;
	members?: { name: string; type_id: number; bits_offset: number }[];
	values?: { name: string; val: number }[];
}

let types = new Map<number, BtfType>();
const byName = (kind: string, name: string) =>
	[...types.values()].find((t) => t.kind === kind && t.name === name);

const sizeOf = (id: number): number => {
	const t = types.get(id)!;
	if (t.kind === "TYPEDEF" || t.kind === "VOLATILE" || t.kind === "CONST") return sizeOf(t.type_id!);
	if (t.kind === "ARRAY") return t.nr_elems! * sizeOf(t.type_id!);
	return t.size!;
};

/** Struct names reachable from `vg_layout`, the anchor that lists every record type. */
const reachable = (name: string, out = new Set<string>()): Set<string> => {
	const t = byName("STRUCT", name);
	if (!t) return out;
	for (const m of t.members ?? []) {
		let target = types.get(m.type_id)!;
		while (target.kind === "ARRAY" || target.kind === "TYPEDEF") target = types.get(target.type_id!)!;
		if (target.kind === "STRUCT" && target.name && !out.has(target.name)) {
			out.add(target.name);
			reachable(target.name, out);
		}
	}
	return out;
};

beforeAll(async () => {
	await ensureBpfObjects();
	const r = Bun.spawnSync(["bpftool", "btf", "dump", "file", OBJECT_PATH, "-j"]);
	if (r.exitCode !== 0) throw new Error(`bpftool failed: ${r.stderr.toString()}`);
	const json = JSON.parse(r.stdout.toString()) as { types: BtfType[] };
	types = new Map(json.types.map((t) => [t.id, t]));
});

describe("record layouts match the compiled object", () => {
	test("every record struct of the object is described, and nothing else", () => {
		const inObject = reachable("vg_layout");
		expect([...inObject].sort()).toEqual(Object.keys(STRUCTS).sort());
	});

	for (const [name, layout] of Object.entries(STRUCTS)) {
		test(`${name}: size, member order, offsets and sizes`, () => {
			const t = byName("STRUCT", name);
			expect(t).toBeDefined();
			expect(t!.size).toBe(layout.size);
			const btf: Record<string, number[]> = Object.fromEntries(
				t!.members!.map((m) => [m.name, [m.bits_offset / 8, sizeOf(m.type_id)]]),
			);
			const ts: Record<string, number[]> = Object.fromEntries(
				Object.entries(layout.members).map(([k, v]) => [k, [...v]]),
			);
			expect(btf).toEqual(ts);
			expect(t!.members!.map((m) => m.name)).toEqual(Object.keys(layout.members));
		});
	}

	test("event type ids match enum vg_event_type", () => {
		const e = byName("ENUM", "vg_event_type");
		expect(Object.fromEntries(e!.values!.map((x) => [x.name, x.val]))).toEqual({ ...EVENT_IDS });
	});
});

describe("constants match the C headers", () => {
	const headers = join(import.meta.dir, "../../bpf/include");
	const defines = new Map<string, number>();
	for (const f of readdirSync(headers)) {
		for (const m of readFileSync(join(headers, f), "utf8").matchAll(
			/^#define\s+(VG_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b/gm,
		)) {
			defines.set(m[1]!, Number(m[2]!));
		}
	}
	for (const [name, value] of Object.entries(DEFINES)) {
		test(`${name} = ${value}`, () => {
			expect(defines.get(name)).toBe(value);
		});
	}
});
