/**
 * @module A second SECL back end, for comparison only: the same checked form (`Ir`) turned into a
 * tree of closures instead of generated code, with the same per-event field cache. `bench/secl.ts`
 * runs both on the same rules and events; the generated code is what `core/secl` ships.
 */
import type { Event } from "../core/model/types.ts";
import { eventCache, slotOf } from "../core/secl/cache.ts";
import { runtime } from "../core/secl/codegen.ts";
import type { Ir, Pred } from "../core/secl/ir.ts";

type F = (e: Event) => unknown;
type B = (e: Event) => boolean;

/** Register elements and the cache generation of the evaluation in progress. */
const registers: unknown[] = [];
let generation = Number.NaN;

const predicate = (p: Pred): ((x: unknown) => boolean) => {
	switch (p.p) {
		case "eq": {
			const v = p.v;
			return (x) => x === v;
		}
		case "ord": {
			const v = p.v;
			if (p.o === "<") return (x) => (x as number) < v;
			if (p.o === "<=") return (x) => (x as number) <= v;
			if (p.o === ">") return (x) => (x as number) > v;
			return (x) => (x as number) >= v;
		}
		case "set": {
			const s = p.s;
			return (x) => s.has(x as never);
		}
		case "fn":
			return p.fn as (x: unknown) => boolean;
	}
};

const compare = (o: string, a: unknown, b: unknown): boolean =>
	o === "=="
		? a === b
		: o === "!="
			? a !== b
			: o === "<"
				? (a as number) < (b as number)
				: o === "<="
					? (a as number) <= (b as number)
					: o === ">"
						? (a as number) > (b as number)
						: (a as number) >= (b as number);

const value = (ir: Ir): F => {
	switch (ir.k) {
		case "lit": {
			const v = ir.v;
			return () => v;
		}
		case "field": {
			const get = ir.f.get;
			const s = slotOf(get);
			const { tags, values } = eventCache;
			return (e) => {
				if (tags[s] === generation) return values[s];
				const v = get(e);
				tags[s] = generation;
				values[s] = v;
				return v;
			};
		}
		case "item": {
			const get = ir.f.iterator!.get;
			const reg = ir.reg;
			return (e) => get(registers[reg], e);
		}
		case "var": {
			const v = ir.v;
			return (e) => v.get(e);
		}
		case "interp": {
			const parts = ir.parts.map((p) => (typeof p === "string" ? () => p : value(p)));
			return (e) => parts.map((p) => runtime.text(p(e))).join("");
		}
		case "neg": {
			const a = value(ir.a);
			return (e) => -(a(e) as number);
		}
		case "bnot": {
			const a = value(ir.a);
			return (e) => runtime.bnot(a(e) as number);
		}
		case "bit": {
			const a = value(ir.a);
			const b = value(ir.b);
			const op = ir.o === "&" ? runtime.band : ir.o === "|" ? runtime.bor : runtime.bxor;
			return (e) => op(a(e) as number, b(e) as number);
		}
		case "arith": {
			const a = value(ir.a);
			const b = value(ir.b);
			return ir.o === "+"
				? (e) => (a(e) as number) + (b(e) as number)
				: (e) => (a(e) as number) - (b(e) as number);
		}
		default:
			return bool(ir);
	}
};

const bool = (ir: Ir): B => {
	switch (ir.k) {
		case "and": {
			const a = bool(ir.a);
			const b = bool(ir.b);
			return (e) => a(e) && b(e);
		}
		case "or": {
			const a = bool(ir.a);
			const b = bool(ir.b);
			return (e) => a(e) || b(e);
		}
		case "not": {
			const a = bool(ir.a);
			return (e) => !a(e);
		}
		case "lit": {
			const v = ir.v === true;
			return () => v;
		}
		case "test": {
			const a = value(ir.a);
			const p = predicate(ir.pred);
			if (!ir.many) return ir.q === "none" ? (e) => !p(a(e)) : (e) => p(a(e));
			if (ir.q === "any") return (e) => (a(e) as unknown[]).some(p);
			if (ir.q === "none") return (e) => !(a(e) as unknown[]).some(p);
			return (e) => (a(e) as unknown[]).every(p);
		}
		case "cmp": {
			const a = value(ir.a);
			const b = value(ir.b);
			const { o, norm } = ir;
			if (ir.aMany || ir.bMany) return (e) => runtime.compareMany(a(e), b(e), o, norm);
			if (norm) return (e) => compare(o, norm(a(e) as string), norm(b(e) as string));
			return (e) => compare(o, a(e), b(e));
		}
		case "member": {
			const a = value(ir.a);
			const b = value(ir.b);
			const { aMany, q, norm } = ir;
			return (e) => runtime.member(a(e), aMany, b(e) as unknown[], q, norm);
		}
		case "age": {
			const a = value(ir.a);
			const { o, d } = ir;
			return (e) => compare(o, e.timestamp - (a(e) as number), d);
		}
		case "exists": {
			const items = ir.items as unknown as (e: Event) => readonly unknown[];
			const body = bool(ir.body);
			const reg = ir.reg;
			return (e) => {
				const it = items(e);
				for (let i = 0; i < it.length; i++) {
					registers[reg] = it[i];
					if (body(e)) return true;
				}
				return false;
			};
		}
		default: {
			const v = value(ir);
			return (e) => v(e) === true;
		}
	}
};

/** A rule's predicate as closures (same semantics as the generated code). */
export const closureRule = (ir: Ir): B => {
	const body = bool(ir);
	return (e) => {
		const outer = generation;
		generation = eventCache.event === e ? eventCache.generation : Number.NaN;
		try {
			return body(e);
		} finally {
			generation = outer;
		}
	};
};
