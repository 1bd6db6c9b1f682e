/**
 * @module Static estimates over the checked form ({@link Ir}): roughly how many nanoseconds an
 * expression takes and how often it holds, and the reordering they allow. SECL conditions have no
 * side effects, so `a && b` may test `b` first: {@link order} puts the cheap and decisive operands
 * of every `&&` and `||` chain first (`${cgroup.count} >= 3` before seven lists of globs). The
 * rule set also uses the estimates to decide which rules are worth indexing.
 *
 * The figures are guesses from measurements of the generated code on one core (a cached field
 * read, a set lookup, a glob, a regex); only their order matters. Pass rates follow the same
 * guesses as `selectivity` in `approvers.ts`: an `==` on a string rarely holds, a `!=` nearly
 * always does.
 */
import type { RegisteredField } from "../model/registry.ts";
import { passing } from "./approvers.ts";
import type { Ir, Pred } from "./ir.ts";

export interface Estimate {
	/** Nanoseconds, roughly. */
	readonly cost: number;
	/** The share of events for which it holds. */
	readonly pass: number;
}

/** Elements an array field is assumed to hold (argv, ancestors, env names…). */
const ELEMENTS = 4;

/** Reading an array field that is stored as is on the event (`exec.argv`, `exec.envp`). */
export const ARRAY_COST = 60;

/**
 * Reading a field on an event, the first time (later reads of the same event hit the cache of
 * the rule set): a property chain costs little beyond the memory it touches; a basename is cut
 * from a path; argument and environment values are parsed from argv and envp; ancestor fields
 * build an array over the ancestors.
 */
export const fieldCost = (f: RegisteredField): number => {
	if (f.iterator) return 250;
	const n = f.name;
	if (/\.(args|args_flags|args_options|envs)$/.test(n)) return 150;
	if (f.array) return ARRAY_COST;
	if (/\.(name|extension|is_public|user|group|length)$/.test(n)) return 40;
	return 15;
};

const predCost = (p: Pred): number => {
	switch (p.p) {
		case "eq":
		case "ord":
			return 1;
		case "set":
			return 6;
		case "fn":
			return p.cost ?? 20;
	}
};

const predPass = (p: Pred): number => {
	const values = p.index ?? p.approvers;
	if (values) return passing(values);
	// tests under `!=` and `not in` keep no approvers: their values say the same
	if (p.p === "eq") return passing([{ kind: "exact", value: p.v }]);
	if (p.p === "set") return passing([...p.s].map((value) => ({ kind: "exact", value }) as const));
	if (p.p === "ord") return 0.5;
	return 0.2;
};

const valueCost = (ir: Ir): number => {
	switch (ir.k) {
		case "lit":
			return 0;
		case "field":
			return fieldCost(ir.f);
		case "item":
			return 8;
		case "var":
			return 40;
		case "interp":
			return 30 + ir.parts.reduce((n, p) => n + (typeof p === "string" ? 0 : valueCost(p)), 0);
		case "neg":
		case "bnot":
			return 1 + valueCost(ir.a);
		case "bit":
		case "arith":
			return 2 + valueCost(ir.a) + valueCost(ir.b);
		default:
			return estimate(ir).cost;
	}
};

const CMP_PASS = { "==": 0.1, "!=": 0.9, "<": 0.5, "<=": 0.5, ">": 0.5, ">=": 0.5 } as const;

/** Cost and pass rate of a boolean expression, evaluated left to right with short circuits. */
export const estimate = (ir: Ir): Estimate => {
	switch (ir.k) {
		case "and": {
			const a = estimate(ir.a);
			const b = estimate(ir.b);
			return { cost: a.cost + a.pass * b.cost, pass: a.pass * b.pass };
		}
		case "or": {
			const a = estimate(ir.a);
			const b = estimate(ir.b);
			return { cost: a.cost + (1 - a.pass) * b.cost, pass: a.pass + b.pass - a.pass * b.pass };
		}
		case "not": {
			const a = estimate(ir.a);
			return { cost: a.cost + 1, pass: 1 - a.pass };
		}
		case "lit":
			return { cost: 0, pass: ir.v === true ? 1 : 0 };
		case "test": {
			const read = valueCost(ir.a);
			const each = predCost(ir.pred);
			const p = predPass(ir.pred);
			if (!ir.many) return { cost: read + each, pass: ir.q === "none" ? 1 - p : p };
			const any = 1 - (1 - p) ** ELEMENTS;
			return {
				cost: read + 5 + ELEMENTS * each,
				pass: ir.q === "any" ? any : ir.q === "none" ? 1 - any : p ** ELEMENTS,
			};
		}
		case "cmp": {
			const many = ir.aMany || ir.bMany ? 60 : 0;
			return { cost: valueCost(ir.a) + valueCost(ir.b) + (ir.norm ? 25 : 1) + many, pass: CMP_PASS[ir.o] };
		}
		case "member":
			return { cost: valueCost(ir.a) + valueCost(ir.b) + 60, pass: ir.q === "none" ? 0.9 : 0.1 };
		case "age":
			return { cost: valueCost(ir.a) + 2, pass: 0.5 };
		case "exists": {
			const body = estimate(ir.body);
			return { cost: 30 + ELEMENTS * body.cost, pass: 1 - (1 - body.pass) ** ELEMENTS };
		}
		default:
			// a boolean value: a field, a variable…
			return { cost: valueCost(ir) + 1, pass: 0.5 };
	}
};

const chain = (ir: Ir, k: "and" | "or", out: Ir[]): Ir[] => {
	if (ir.k === k) {
		chain(ir.a, k, out);
		chain(ir.b, k, out);
	} else out.push(ir);
	return out;
};

/**
 * The same expression with the operands of each `&&` chain sorted by cost over the chance to
 * fail (the order that minimises the expected cost of independent tests), and of each `||` chain
 * by cost over the chance to hold. Ties keep the written order. Register loops (`exists`) move as
 * a whole and are ordered inside, so the conditions on one register stay in its loop.
 */
export const order = (ir: Ir): Ir => {
	switch (ir.k) {
		case "and":
		case "or": {
			const k = ir.k;
			const parts = chain(ir, k, []).map((p) => {
				const o = order(p);
				const e = estimate(o);
				const decisive = k === "and" ? 1 - e.pass : e.pass;
				return { ir: o, rank: decisive <= 0 ? Number.POSITIVE_INFINITY : e.cost / decisive };
			});
			const sorted = parts
				.map((p, i) => ({ ...p, i }))
				.sort((x, y) => (x.rank === y.rank ? x.i - y.i : x.rank < y.rank ? -1 : 1));
			let out = (sorted[sorted.length - 1] as { ir: Ir }).ir;
			for (let i = sorted.length - 2; i >= 0; i--) out = { k, a: (sorted[i] as { ir: Ir }).ir, b: out };
			return out;
		}
		case "not":
			return { ...ir, a: order(ir.a) };
		case "exists":
			return { ...ir, body: order(ir.body) };
		default:
			return ir;
	}
};

/** Fields an expression reads whatever the event: those of the test it starts with. */
export const firstReads = (ir: Ir): string[] => {
	switch (ir.k) {
		case "and":
		case "or":
		case "not":
			return firstReads(ir.a);
		case "field":
			return [ir.f.name];
		case "test":
		case "neg":
		case "bnot":
			return firstReads(ir.a);
		case "bit":
		case "arith":
		case "cmp":
		case "member":
			return [...firstReads(ir.a), ...firstReads(ir.b)];
		case "age":
			return firstReads(ir.a);
		default:
			return [];
	}
};
