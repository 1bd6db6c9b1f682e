import { describe, expect, test } from "bun:test";
import type { RegisteredField } from "../../core/model/registry.ts";
import type { Event } from "../../core/model/types.ts";
import { indexKeysOf } from "../../core/secl/approvers.ts";
import { generateRule } from "../../core/secl/codegen.ts";
import {
	type ApproverValue,
	approversOf,
	type CompiledRule,
	checkMacro,
	RuleSet,
} from "../../core/secl/index.ts";
import type { IndexValue, Ir } from "../../core/secl/ir.ts";
import { seededRandom } from "../random.ts";
import { loadDefaultPolicy, readDefaultPolicy } from "./default-policy.ts";

/** Registers a checked rule uses: one past the highest its loops bind. */
const registersOf = (ir: Ir): number => {
	switch (ir.k) {
		case "exists":
			return Math.max(ir.reg + 1, registersOf(ir.body));
		case "and":
		case "or":
			return Math.max(registersOf(ir.a), registersOf(ir.b));
		case "not":
			return registersOf(ir.a);
		default:
			return 0;
	}
};

describe("Datadog's default.policy", () => {
	const policy = readDefaultPolicy();

	test.each(["linux", "windows"] as const)(
		"every %s rule and macro parses and type-checks against its model",
		(os) => {
			const loaded = loadDefaultPolicy(os);
			const errors = [
				...loaded.macros.filter((m) => m.error).map((m) => `macro ${m.id}: ${m.error?.message}`),
				...loaded.rules.filter((r) => r.error).map((r) => `${r.id}: ${r.error?.message}`),
			];
			for (const m of loaded.macros) {
				try {
					checkMacro(m.id, loaded.ctx);
				} catch (e) {
					errors.push(`macro ${m.id}: ${(e as Error).message}`);
				}
			}
			expect(errors).toEqual([]);
			const filtered = policy.rules.filter((r) => (r.filters ?? []).some((f) => f.includes(`os == "${os}"`)));
			const ids = new Set(loaded.rules.map((r) => r.id.replace(/^__fim_expanded_[a-z]+_\d_/, "")));
			for (const r of filtered) expect(ids.has(r.id)).toBe(true);
			expect(loaded.rules.length).toBeGreaterThanOrEqual(os === "linux" ? 280 : 37);
		},
	);

	test("the Linux rules span the expected event types, one each", () => {
		const { rules } = loadDefaultPolicy("linux");
		const types = new Set(rules.map((r) => r.compiled?.eventType));
		for (const t of [
			"exec",
			"open",
			"connect",
			"dns",
			"bpf",
			"ptrace",
			"unlink",
			"chmod",
			"imds",
			"setsockopt",
			"prctl",
			"cgroup_write",
		]) {
			expect(types.has(t)).toBe(true);
		}
	});
});

describe("the approver index never skips a rule that would match", () => {
	test("random events over default.policy's fields: indexed evaluation equals every-rule evaluation, in the written order too", () => {
		const { ctx, rules } = loadDefaultPolicy("linux");
		const compiled = rules.map((r) => ({ id: r.id, rule: r.compiled as CompiledRule }));
		const set = new RuleSet<null>(ctx);
		for (const { id, rule } of compiled) set.add(id, rule, null);
		// the same rules indexed again after a sample of each type's first 100 events: the plan
		// made with the shares seen (pairs either way round) must find the same rules
		const learning = new RuleSet<null>(ctx, { sampling: { every: 1, size: 100 } });
		for (const { id, rule } of compiled) learning.add(id, rule, null);
		const byType = new Map<string, { id: string; rule: CompiledRule }[]>();
		for (const c of compiled) byType.set(c.rule.eventType, [...(byType.get(c.rule.eventType) ?? []), c]);

		// the rules as written, without the reordering of && and || operands the compiler does
		const written = new Map(compiled.map((c) => [c.id, generateRule(c.rule.ir, registersOf(c.rule.ir)).fn]));

		// candidate values per field: what the rules approve or the index looks up (exact, prefix +
		// tail, dir + basename, text around a substring or before a suffix) and noise
		const pool = new Map<string, unknown[]>();
		const add = (field: string, v: unknown) => pool.set(field, [...(pool.get(field) ?? []), v]);
		const addValue = (field: string, v: IndexValue) => {
			if (v.kind === "exact") add(field, v.value);
			if (v.kind === "prefix") add(field, `${v.value}x/y`);
			if (v.kind === "basename") add(field, `/some/dir/${v.value}`);
			if (v.kind === "suffix") add(field, `a.b${v.value}`);
			if (v.kind === "substring") add(field, `-x ${v.value} y`);
			if (v.caseInsensitive && typeof v.value === "string") add(field, v.value.toUpperCase());
		};
		for (const { rule } of compiled) {
			for (const [field, values] of Object.entries(approversOf(rule)[rule.eventType] ?? {}))
				for (const v of values as ApproverValue[]) addValue(field, v);
			for (const key of indexKeysOf(rule.ir))
				for (const [field, { values }] of key.fields) for (const v of values) addValue(field, v);
		}
		const r = seededRandom(1234);
		const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
		const noise = (f: RegisteredField): unknown => {
			switch (f.type) {
				case "int":
					return pick([0, 1, 2, 5, 22, 443, 6667, 60120, -13, -1, 4294967295, 1e18 - 1e9]);
				case "bool":
					return r() < 0.5;
				case "ip":
					return pick(["127.0.0.1", "10.1.2.3", "8.8.8.8", "::1", "169.254.169.254"]);
				default:
					return pick([
						"",
						"/tmp/x",
						"/etc/passwd",
						"bash",
						"curl",
						"x",
						"/usr/bin/python3",
						"-c",
						"--recursive",
					]);
			}
		};
		const valueFor = (f: RegisteredField): unknown => {
			const candidates = pool.get(f.name);
			const scalar = candidates && r() < 0.6 ? pick(candidates) : noise(f);
			if (!f.array) return scalar;
			return Array.from({ length: Math.floor(r() * 3) }, () =>
				candidates && r() < 0.5 ? pick(candidates) : noise(f),
			);
		};

		let compared = 0;
		let matchedEvents = 0;
		for (const [type, list] of byType) {
			const fields = [...new Set(list.flatMap((c) => c.rule.fields))]
				.map((n) => ctx.registry.field(n) as RegisteredField)
				.filter((f) => f.set && !f.iterator);
			for (let i = 0; i < 400; i++) {
				const e: Event = { type, timestamp: 1e18, flags: 0, process: {} };
				for (const f of fields) if (r() < 0.7) f.set?.(e, valueFor(f));
				if (type === "exec" || type === "exit") e[type] = e.process;
				e.process.ancestors = [
					{
						comm: pick(["bash", "sshd", "git", "systemd"]),
						file: { path: pick(["/usr/sbin/sshd", "/bin/bash", "/usr/bin/apt"]) },
						argv: ["clone"],
					},
				];
				const indexed: string[] = [];
				set.evaluate(e, (id) => indexed.push(id));
				const brute = list.filter((c) => c.rule.evaluate(e)).map((c) => c.id);
				expect({ type, i, ids: indexed }).toEqual({ type, i, ids: brute });
				const learnt: string[] = [];
				learning.evaluate(e, (id) => learnt.push(id));
				expect({ type, i, ids: learnt }).toEqual({ type, i, ids: brute });
				const asWritten = list
					.filter((c) => (written.get(c.id) as (e: Event) => boolean)(e))
					.map((c) => c.id);
				expect({ type, i, ids: asWritten }).toEqual({ type, i, ids: brute });
				compared++;
				if (brute.length > 0) matchedEvents++;
			}
		}
		expect(compared).toBeGreaterThan(10_000);
		const buckets = Object.values(learning.stats().buckets);
		expect(buckets.filter((b) => b.learned)).toHaveLength(buckets.length);
		// the generator reaches rules, or the comparison would prove little
		expect(matchedEvents).toBeGreaterThan(compared / 20);
	});
});
