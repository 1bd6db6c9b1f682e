import { describe, expect, test } from "bun:test";
import { FieldRegistry } from "../model/registry.ts";
import type { Event, ProcessContext } from "../model/types.ts";
import { indexKeysOf } from "./approvers.ts";
import { estimate, firstReads, order } from "./cost.ts";
import { compile, MacroStore, type SeclContext, VariableStore } from "./index.ts";
import { planIndex } from "./index-plan.ts";
import type { Ir } from "./ir.ts";

const linux = FieldRegistry.linux();
const context = (): SeclContext => ({
	registry: linux,
	macros: new MacroStore(),
	variables: new VariableStore(),
});

/** The operands of the top `&&` (or `||`) chain, as the generated code tests them. */
const chain = (ir: Ir, k: "and" | "or"): Ir[] => (ir.k === k ? [...chain(ir.a, k), ...chain(ir.b, k)] : [ir]);
const fieldOf = (ir: Ir): string | undefined =>
	ir.k === "test" && ir.a.k === "field" ? ir.a.f.name : ir.k === "not" ? fieldOf(ir.a) : undefined;

describe("operands of && and || are tested cheap and decisive first", () => {
	const globs = Array.from({ length: 20 }, (_, i) => `~"/dir${i}/**"`).join(", ");

	test("a flag test goes before a long list of globs; the written form is kept for approvers", () => {
		const rule = compile(`open.file.path in [${globs}] && open.flags & O_CREAT > 0`, context());
		const ordered = chain(order(rule.ir), "and");
		expect(ordered[0]?.k).toBe("test");
		expect(JSON.stringify(ordered[0])).toContain("open.flags");
		expect(fieldOf(ordered[1] as Ir)).toBe("open.file.path");
		// rule.ir keeps the written order
		expect(fieldOf(chain(rule.ir, "and")[0] as Ir)).toBe("open.file.path");
		expect(rule.source.indexOf("& 64")).toBeLessThan(rule.source.indexOf("F"));
	});

	test("a test that rarely holds goes before one that nearly always does", () => {
		const rule = compile('exec.comm != "" && exec.comm == "nc"', context());
		const ordered = chain(order(rule.ir), "and");
		expect(ordered[0]?.k).toBe("test");
		expect(JSON.stringify(ordered[0])).toContain('"v":"nc"');
	});

	test('a field read as empty is common: `!= ""` goes before a long list of globs', () => {
		const rule = compile(`exec.file.path in [${globs}] && process.container.id != ""`, context());
		const ordered = chain(order(rule.ir), "and");
		expect(fieldOf(ordered[0] as Ir)).toBe("process.container.id");
		expect(estimate(ordered[0] as Ir).pass).toBeLessThan(0.9);
	});

	test("|| tests first what most often holds for its cost", () => {
		const rule = compile(`open.file.path in [${globs}] || open.flags > 0`, context());
		const ordered = chain(order(rule.ir), "or");
		expect(JSON.stringify(ordered[0])).toContain("open.flags");
	});

	test("conditions on a register stay in its loop, whatever the order", () => {
		const rule = compile(
			'process.ancestors[A].comm == "git" && exec.comm == "sh" && process.ancestors[A].uid == 0',
			context(),
		);
		const ordered = order(rule.ir);
		const loops = chain(ordered, "and").filter((c) => c.k === "exists");
		expect(loops).toHaveLength(1);
		const body = chain((loops[0] as Extract<Ir, { k: "exists" }>).body, "and");
		expect(body).toHaveLength(2);
		// and the meaning: one ancestor must satisfy both
		const p = (ancestors: ProcessContext[]): Event => {
			const proc: ProcessContext = { comm: "sh", ancestors };
			return { type: "exec", timestamp: 1, flags: 0, process: proc, exec: proc };
		};
		expect(rule.evaluate(p([{ comm: "git", uid: 0 }]))).toBe(true);
		expect(
			rule.evaluate(
				p([
					{ comm: "git", uid: 5 },
					{ comm: "bash", uid: 0 },
				]),
			),
		).toBe(false);
	});

	test("estimates: a regex costs more than a set lookup; != nearly always holds", () => {
		const regex = estimate(compile('exec.comm in [r"^(a|b)+x[0-9]*$"]', context()).ir);
		const set = estimate(compile('exec.comm in ["a", "b"]', context()).ir);
		expect(regex.cost).toBeGreaterThan(set.cost);
		expect(estimate(compile('exec.comm != "x"', context()).ir).pass).toBeGreaterThan(0.9);
		expect(
			firstReads(order(compile('exec.comm == "x" && exec.file.path == "/y"', context()).ir)),
		).toHaveLength(1);
	});
});

describe("the index plan", () => {
	const plan = (exprs: string[]) => {
		const rules = exprs.map((x) => compile(x, context()));
		return planIndex(
			rules.map((r) => {
				const ordered = order(r.ir);
				return { cost: estimate(ordered).cost, keys: indexKeysOf(r.ir), fields: firstReads(ordered) };
			}),
		);
	};

	test("rules gather on a field they share rather than each on its own", () => {
		const keys = plan(
			Array.from(
				{ length: 10 },
				(_, i) => `exec.file.name == "t${i}" && (process.comm == "c${i}" || process.uid in [0, ${i + 1}])`,
			),
		);
		expect(new Set(keys.map((k) => [...(k?.fields.keys() ?? [])].join(",")))).toEqual(
			new Set(["exec.file.name"]),
		);
	});

	test("a key that passes half the events is not worth a lookup for a cheap rule", () => {
		const [key] = plan(["exec.is_thread"]);
		expect(key).toBeUndefined();
	});

	test("past the search budget (thousands of rules of one type) each rule takes its narrowest key", () => {
		const keys = plan(
			Array.from(
				{ length: 3000 },
				(_, i) => `open.file.path == "/f${i}" && (process.comm == "c${i}" || process.uid == ${i})`,
			),
		);
		expect(keys.every((k) => [...(k?.fields.keys() ?? [])].join() === "open.file.path")).toBe(true);
	});

	test("an expensive rule is worth a lookup of its own", () => {
		const [key] = plan(['exec.comm == "nc" && process.ancestors.args in [r"(a+)+(b|c)[0-9]+d"]']);
		expect([...(key?.fields.keys() ?? [])]).toEqual(["exec.comm"]);
	});
});
