/**
 * @module The SECL code generator: turns a checked expression ({@link Ir}) into one JavaScript
 * function with `new Function`. Field accessors, sets, matchers and variables are passed in as
 * parameters; literal comparisons, set lookups and loops over arrays are inlined, and each loop
 * (an any/none test over an array, a register's `exists`) becomes a helper function declared once
 * per rule, so evaluating a rule allocates nothing.
 *
 * Generated code was measured against a tree of closures over the same checked form; see
 * `bench/secl.ts` and the figures in `core/secl/README.md`.
 */
import type { Event } from "../model/types.ts";
import { cachedRead, eventCache, slotOf } from "./cache.ts";
import type { Ir, Pred, Quantifier } from "./ir.ts";

/** 64-bit-safe bit operations: JS `&` truncates to 32 bits, capability sets use bit 40. */
const small = (a: number, b: number): boolean => (a | 0) === a && (b | 0) === b;
const big = (a: number): bigint => BigInt(Math.trunc(a));
export const runtime = {
	band: (a: number, b: number): number => (small(a, b) ? a & b : Number(BigInt.asIntN(64, big(a) & big(b)))),
	bor: (a: number, b: number): number => (small(a, b) ? a | b : Number(BigInt.asIntN(64, big(a) | big(b)))),
	bxor: (a: number, b: number): number => (small(a, b) ? a ^ b : Number(BigInt.asIntN(64, big(a) ^ big(b)))),
	bnot: (a: number): number => ((a | 0) === a ? ~a : Number(BigInt.asIntN(64, ~big(a)))),
	/** Text of a value interpolated in a string: arrays are joined with `,`. */
	text: (v: unknown): string => (Array.isArray(v) ? v.join(",") : String(v)),
	/** `a <op> b` where either side is an array (any pair for ==, none for !=). */
	compareMany: (a: unknown, b: unknown, op: string, norm: ((s: string) => string) | undefined): boolean => {
		const as = (Array.isArray(a) ? a : [a]).map((x) => (norm ? norm(x as string) : x));
		const bs = (Array.isArray(b) ? b : [b]).map((x) => (norm ? norm(x as string) : x));
		if (op === "!=") return !as.some((x) => bs.includes(x));
		for (const x of as) {
			for (const y of bs) {
				if (op === "==" ? x === y : compare(x as number, op, y as number)) return true;
			}
		}
		return false;
	},
	/** `a in b` for an array `b` known per event (any, none or all of `a`'s values in `b`). */
	member: (
		a: unknown,
		aMany: boolean,
		b: readonly unknown[],
		q: Quantifier,
		norm: ((s: string) => string) | undefined,
	): boolean => {
		const hay = norm ? b.map((x) => norm(x as string)) : b;
		const has = (x: unknown) => hay.includes(norm ? norm(x as string) : x);
		if (!aMany) return q === "none" ? !has(a) : has(a);
		const values = a as readonly unknown[];
		for (let i = 0; i < values.length; i++) {
			const hit = has(values[i]);
			if (q === "all" ? !hit : hit) return q === "all" ? false : q === "any";
		}
		return q !== "any";
	},
};

const compare = (x: number, op: string, y: number): boolean =>
	op === "<"
		? x < y
		: op === "<="
			? x <= y
			: op === ">"
				? x > y
				: op === ">="
					? x >= y
					: op === "=="
						? x === y
						: x !== y;

/** The value of an integer expression made only of literals and bit operations, if it is one. */
export const constantOf = (ir: Ir): number | undefined => {
	if (ir.k === "lit") return typeof ir.v === "number" ? ir.v : undefined;
	if (ir.k === "bnot") {
		const a = constantOf(ir.a);
		return a === undefined ? undefined : runtime.bnot(a);
	}
	if (ir.k !== "bit") return undefined;
	const a = constantOf(ir.a);
	const b = constantOf(ir.b);
	if (a === undefined || b === undefined) return undefined;
	return ir.o === "&" ? runtime.band(a, b) : ir.o === "|" ? runtime.bor(a, b) : runtime.bxor(a, b);
};

/**
 * The values a generated function is given: the parameters of its `new Function` factory, some
 * fixed (`H`, `K`…), the others named as the generated code asks for them, one name per
 * distinct value.
 */
export class Externals {
	readonly #names: string[];
	readonly #values: unknown[];
	readonly #ids = new Map<unknown, string>();

	constructor(fixed: Readonly<Record<string, unknown>>) {
		this.#names = Object.keys(fixed);
		this.#values = Object.values(fixed);
	}

	/** A name for a value passed into the generated code (one per distinct value). */
	ext(value: unknown, prefix: string): string {
		let id = this.#ids.get(value);
		if (id === undefined) {
			id = `${prefix}${this.#names.length}`;
			this.#ids.set(value, id);
			this.#names.push(id);
			this.#values.push(value);
		}
		return id;
	}

	/** Run `source` as the body of a function of the named values, with the values. */
	instantiate<F>(source: string): F {
		const factory = new Function(...this.#names, source) as (...args: unknown[]) => F;
		return factory(...this.#values);
	}
}

class Gen extends Externals {
	readonly helpers: string[] = [];
	/** Temporaries of the generated code (one per `member`, holding its array). */
	temps = 0;

	constructor() {
		super({ H: runtime, K: eventCache });
	}

	/** A helper function declared once per rule; helpers take `(e, n)` (event, cache generation). */
	helper(body: (name: string) => string): string {
		const name = `h${this.helpers.length}`;
		this.helpers.push(body(name));
		return name;
	}

	literal(v: unknown): string {
		return typeof v === "string" ? JSON.stringify(v) : String(v);
	}

	pred(pred: Pred, x: string): string {
		switch (pred.p) {
			case "eq":
				return `(${x} === ${this.literal(pred.v)})`;
			case "ord":
				return `(${x} ${pred.o} ${pred.v})`;
			case "set":
				return `${this.ext(pred.s, "S")}.has(${x})`;
			case "fn":
				return `${this.ext(pred.fn, "F")}(${x})`;
		}
	}

	value(ir: Ir): string {
		switch (ir.k) {
			case "lit":
				return this.literal(ir.v);
			case "field": {
				// read once per event during a rule set evaluation (see cache.ts)
				return cachedRead(slotOf(ir.f.get), this.ext(ir.f.get, "G"));
			}
			case "item":
				return `${this.ext(ir.f.iterator!.get, "I")}(R[${ir.reg}], e)`;
			case "var":
				return `${this.ext(ir.v, "V")}.get(e)`;
			case "interp":
				return `(${ir.parts.map((p) => (typeof p === "string" ? JSON.stringify(p) : `H.text(${this.value(p)})`)).join(" + ")})`;
			case "neg":
				return `(-${this.value(ir.a)})`;
			case "bnot":
				return `H.bnot(${this.value(ir.a)})`;
			case "bit": {
				// constants are folded (`O_CREAT | O_TRUNC | …`): one call per test, not one per operator
				const a = constantOf(ir.a);
				const b = constantOf(ir.b);
				const fn = ir.o === "&" ? "band" : ir.o === "|" ? "bor" : "bxor";
				if (a !== undefined && b !== undefined) return String(runtime[fn](a, b));
				// `x & MASK` with a mask in 31 bits: JS's 32-bit `&` keeps exactly the bits it tests
				const mask = ir.o === "&" ? (b ?? a) : undefined;
				if (mask !== undefined && mask >= 0 && mask < 2 ** 31 && Number.isInteger(mask))
					return `(${this.value(b === undefined ? ir.b : ir.a)} & ${mask})`;
				return `H.${fn}(${a ?? this.value(ir.a)}, ${b ?? this.value(ir.b)})`;
			}
			case "arith":
				return `(${this.value(ir.a)} ${ir.o} ${this.value(ir.b)})`;
			default:
				return this.bool(ir);
		}
	}

	bool(ir: Ir): string {
		switch (ir.k) {
			case "and":
				return `(${this.bool(ir.a)} && ${this.bool(ir.b)})`;
			case "or":
				return `(${this.bool(ir.a)} || ${this.bool(ir.b)})`;
			case "not":
				return `!${this.bool(ir.a)}`;
			case "lit":
				return ir.v === true ? "true" : "false";
			case "test":
				return ir.many
					? this.#manyTest(ir)
					: ir.q === "none"
						? `!${this.pred(ir.pred, this.value(ir.a))}`
						: this.pred(ir.pred, this.value(ir.a));
			case "cmp": {
				if (ir.aMany || ir.bMany) {
					const norm = ir.norm ? this.ext(ir.norm, "N") : "undefined";
					return `H.compareMany(${this.value(ir.a)}, ${this.value(ir.b)}, "${ir.o}", ${norm})`;
				}
				const op = ir.o === "==" ? "===" : ir.o === "!=" ? "!==" : ir.o;
				if (ir.norm) {
					const n = this.ext(ir.norm, "N");
					return `(${n}(${this.value(ir.a)}) ${op} ${n}(${this.value(ir.b)}))`;
				}
				return `(${this.value(ir.a)} ${op} ${this.value(ir.b)})`;
			}
			case "member": {
				const norm = ir.norm ? this.ext(ir.norm, "N") : "undefined";
				// an empty array (an unset variable, mostly) decides without reading `a`
				const empty = ir.q === "any" ? "false" : ir.q === "none" ? "true" : ir.aMany ? null : "false";
				const temp = `T${this.temps++}`;
				const call = `H.member(${this.value(ir.a)}, ${ir.aMany}, ${temp}, "${ir.q}", ${norm})`;
				return empty === null
					? `((${temp} = ${this.value(ir.b)}), ${call})`
					: `((${temp} = ${this.value(ir.b)}).length === 0 ? ${empty} : ${call})`;
			}
			case "age": {
				const op = ir.o === "==" ? "===" : ir.o === "!=" ? "!==" : ir.o;
				return `((e.timestamp - ${this.value(ir.a)}) ${op} ${ir.d})`;
			}
			case "exists": {
				const items = this.ext(ir.items, "X");
				const body = this.bool(ir.body);
				const name = this.helper(
					(h) =>
						`function ${h}(e, n) {\n\tconst it = ${items}(e);\n\tfor (let i = 0; i < it.length; i++) {\n\t\tR[${ir.reg}] = it[i];\n\t\tif (${body}) return true;\n\t}\n\treturn false;\n}`,
				);
				return `${name}(e, n)`;
			}
			default:
				return `(${this.value(ir)} === true)`;
		}
	}

	/** any / none / all of an array's values pass the test, as a loop in a helper function. */
	#manyTest(ir: Extract<Ir, { k: "test" }>): string {
		const hit = ir.q === "all" ? `!${this.pred(ir.pred, "x")}` : this.pred(ir.pred, "x");
		const onHit = ir.q === "any" ? "return true;" : "return false;";
		const end = ir.q === "any" ? "return false;" : "return true;";
		const loop = (v: string) =>
			`for (let i = 0; i < ${v}.length; i++) {\n\t\tconst x = ${v}[i];\n\t\tif (${hit}) ${onHit}\n\t}`;
		const it = ir.a.k === "field" ? ir.a.f.iterator : undefined;
		if (ir.a.k === "field" && it) {
			// an ancestors field: walk the ancestors rather than build the array, unless it is cached
			const s = slotOf(ir.a.f.get);
			const items = this.ext(it.items, "I");
			const get = this.ext(it.get, "J");
			const name = this.helper(
				(h) =>
					`function ${h}(e, n) {\n\tif (t[${s}] === n) {\n\t\tconst v = w[${s}];\n\t\t${loop("v")}\n\t\t${end}\n\t}\n\tconst it = ${items}(e);\n\tfor (let k = 0; k < it.length; k++) {\n\t\tconst v = ${get}(it[k], e);\n\t\tif (Array.isArray(v)) {\n\t\t${loop("v")}\n\t\t} else {\n\t\t\tconst x = v;\n\t\t\tif (${hit}) ${onHit}\n\t\t}\n\t}\n\t${end}\n}`,
			);
			return `${name}(e, n)`;
		}
		const value = this.value(ir.a);
		const name = this.helper(
			(h) => `function ${h}(e, n) {\n\tconst v = ${value};\n\t${loop("v")}\n\t${end}\n}`,
		);
		return `${name}(e, n)`;
	}

	build<T>(expr: string, registers: number): { fn: (e: Event) => T; source: string } {
		const source = `"use strict";\nconst R = new Array(${registers});\n${this.temps > 0 ? `let ${Array.from({ length: this.temps }, (_, i) => `T${i}`).join(", ")};\n` : ""}const t = K.tags, w = K.values;\n${this.helpers.join("\n")}\nreturn function evaluate(e) {\n\tconst n = K.event === e ? K.generation : NaN;\n\treturn ${expr};\n};`;
		return { fn: this.instantiate<(e: Event) => T>(source), source };
	}
}

/** A rule's predicate. `source` is the generated code (for debugging and tests). */
export const generateRule = (ir: Ir, registers: number): { fn: (e: Event) => boolean; source: string } => {
	const g = new Gen();
	return g.build<boolean>(g.bool(ir), registers);
};

/** A value expression's function (for `set` actions). */
export const generateValue = (ir: Ir): { fn: (e: Event) => unknown; source: string } => {
	const g = new Gen();
	return g.build<unknown>(g.value(ir), 0);
};
