/**
 * @module Approvers: for a rule, per field, the values the field must take for the rule to be
 * able to match — `open.file.path in ["/etc/shadow", ~"/etc/ssh/*"] && …` gives
 * `open.file.path: [exact "/etc/shadow", prefix "/etc/ssh/"]`. They are what an in-kernel
 * filter needs to drop events no rule can match, and what {@link RuleSet} indexes rules by.
 *
 * Derived from the checked expression: `a && b` keeps the approvers of both sides (each is a
 * necessary condition); `a || b` keeps a field only when both sides have approvers on it (the
 * union); negations, `!=`, `not in`, ranges, array fields and unanchored patterns give none.
 *
 * The data is plain JSON: `{ [eventType]: { [field]: ApproverValue[] } }`. For a rule set, a field
 * is listed for an event type only when every rule of that type has approvers on it; an event of
 * that type can then match a rule only if, for every listed field, its value is approved.
 *
 * Index keys ({@link indexKeysOf}) are the rule set's own, wider reading of the same idea: they
 * may span several fields (`a || b` on different fields), come in pairs that must both hold
 * (`a && b`), look at array elements, use text a value contains or ends with and bits an integer
 * has set; {@link selectivity} estimates how often a value passes.
 */
import type { RegisteredField } from "../model/registry.ts";
import { constantOf } from "./codegen.ts";
import type { CompiledRule } from "./compile.ts";
import type { ApproverValue, IndexValue, Ir } from "./ir.ts";

export type { ApproverValue, IndexValue };
/** Field name → approved values. */
export type FieldApprovers = Record<string, ApproverValue[]>;
/** Event type → field approvers. */
export type Approvers = Record<string, FieldApprovers>;

const key = (v: IndexValue): string =>
	`${v.kind}\u0000${typeof v.value}\u0000${String(v.value)}\u0000${v.caseInsensitive ? 1 : 0}`;

const union = <V extends IndexValue>(a: readonly V[], b: readonly V[]): V[] => {
	const seen = new Map<string, V>();
	for (const v of [...a, ...b]) seen.set(key(v), v);
	return [...seen.values()];
};

/**
 * Field approvers of a checked boolean expression. `fields`, when given, receives the
 * registered field of each approver (for indexing).
 */
export const approversOfIr = (
	ir: Ir,
	fields?: Map<string, RegisteredField>,
): Map<string, ApproverValue[]> => {
	switch (ir.k) {
		case "test": {
			if (ir.a.k !== "field" || ir.many || ir.q !== "any" || !ir.pred.approvers) return new Map();
			fields?.set(ir.a.f.name, ir.a.f);
			return new Map([[ir.a.f.name, [...ir.pred.approvers]]]);
		}
		case "and": {
			const a = approversOfIr(ir.a, fields);
			for (const [field, values] of approversOfIr(ir.b, fields)) {
				const mine = a.get(field);
				// both are necessary conditions; keep the narrower one
				if (!mine || values.length < mine.length) a.set(field, values);
			}
			return a;
		}
		case "or": {
			const a = approversOfIr(ir.a, fields);
			const b = approversOfIr(ir.b, fields);
			const out = new Map<string, ApproverValue[]>();
			for (const [field, values] of a) {
				const other = b.get(field);
				if (other) out.set(field, union(values, other));
			}
			return out;
		}
		case "exists":
			// conditions on the rule's own fields inside the loop still hold for the whole rule
			return approversOfIr(ir.body, fields);
		default:
			return new Map();
	}
};

/** A rule's approvers: `{ [rule.eventType]: { field: values } }` (empty fields when none). */
export const approversOf = (rule: Pick<CompiledRule, "eventType" | "ir">): Approvers => ({
	[rule.eventType]: Object.fromEntries(approversOfIr(rule.ir)),
});

/** Merge the approvers of the rules of one event type: fields every rule has, values united. */
export const mergeApprovers = (rules: readonly FieldApprovers[]): FieldApprovers => {
	if (rules.length === 0) return {};
	const out: FieldApprovers = {};
	for (const field of Object.keys(rules[0] as FieldApprovers)) {
		if (!rules.every((r) => r[field])) continue;
		out[field] = rules.reduce<ApproverValue[]>((acc, r) => union(acc, r[field] as ApproverValue[]), []);
	}
	return out;
};

/**
 * A rough share of events whose value passes `v`, to choose what to index a rule by: exact
 * values and literal text narrow a lot, booleans, the empty string and shallow directories
 * (`/etc/`, `/proc/`) little. Only the order of the figures matters.
 */
export const selectivity = (v: IndexValue): number => {
	switch (v.kind) {
		case "exact":
			// the empty string is what an unset field reads (no container, no session): common
			return typeof v.value === "boolean" || v.value === ""
				? 0.5
				: typeof v.value === "number"
					? 0.01
					: 0.002;
		case "basename":
			return 0.002;
		case "prefix":
			return v.value.endsWith("/") ? directories(v.value) : byLength(v.value);
		case "suffix":
			return byLength(v.value);
		case "mask":
			// flags and modes: a bit such as O_CREAT or S_ISUID is set on some events, not most
			return 0.3;
		case "substring":
			// a directory anywhere in a path passes more often than at its start
			return v.value.startsWith("/") && v.value.endsWith("/")
				? Math.min(1, 2 * directories(v.value))
				: v.value.length < 3
					? 0.3
					: byLength(v.value);
	}
};

/** `/etc/` passes often, `/usr/lib/` less, `/etc/ssh/sshd_config.d/` rarely. */
const directories = (dir: string): number => {
	let depth = 0;
	for (let i = 1; i < dir.length; i++) if (dir.charCodeAt(i) === 47) depth++;
	return depth <= 1 ? 0.2 : depth === 2 ? 0.05 : 0.005;
};

/** Longer text passes less often; one character passes often unless it is punctuation (`[`). */
const byLength = (text: string): number =>
	text.length === 0
		? 1
		: text.length < 2
			? /[A-Za-z0-9/.\-_ ]/.test(text)
				? 0.2
				: 0.02
			: text.length < 4
				? 0.05
				: 0.005;

/**
 * A necessary condition a rule set can index a rule by: the rule can match only if, for one of
 * the fields, the event's value (for an array field, one of its elements) is accepted by one of
 * the values. `score` estimates the share of events that pass it.
 */
export interface IndexKey {
	readonly fields: ReadonlyMap<string, { readonly field: RegisteredField; readonly values: IndexValue[] }>;
	readonly score: number;
	/**
	 * A second key that must hold too (the rule is `a && b` and each side has a key): the rule
	 * runs only when both find it. `score` is then that of both.
	 */
	readonly also?: IndexKey;
}

const MAX_KEYS = 6;

/** The share of events passing any of `values`, taking them as independent. */
export const passing = (values: Iterable<IndexValue>): number => {
	let none = 1;
	for (const v of values) none *= 1 - selectivity(v);
	return 1 - none;
};

const keyOf = (fields: Map<string, { field: RegisteredField; values: IndexValue[] }>): IndexKey => ({
	fields,
	score: passing([...fields.values()].flatMap((f) => f.values)),
});

/** The key of one field taking one of `values`. */
const fieldKey = (field: RegisteredField, values: IndexValue[]): IndexKey =>
	keyOf(new Map([[field.name, { field, values }]]));

const byScore = (a: IndexKey, b: IndexKey) => a.score - b.score;

type KeyFields = IndexKey["fields"];

/** The fields of `x` and `y` united: a value passing either passes. */
const unite = (x: KeyFields, y: KeyFields): Map<string, { field: RegisteredField; values: IndexValue[] }> => {
	const merged = new Map<string, { field: RegisteredField; values: IndexValue[] }>();
	for (const [name, f] of [...x, ...y]) {
		const have = merged.get(name);
		merged.set(name, { field: f.field, values: have ? union(have.values, f.values) : [...f.values] });
	}
	return merged;
};

/** Both keys, each a necessary condition: the pair is one too, and narrower (taken as independent). */
const both = (x: IndexKey, y: IndexKey): IndexKey => ({
	fields: x.fields,
	score: x.score * y.score,
	also: y,
});

/** A key's text: fields, values, and the key that must hold with it. */
const signature = (k: IndexKey): string =>
	[...k.fields]
		.map(([name, f]) => `${name}=${f.values.map(key).join(",")}`)
		.sort()
		.join(";") + (k.also ? ` & ${signature(k.also)}` : "");

/** `keys` without repeats (both sides of a rule often give the same key). */
const distinct = (keys: readonly IndexKey[]): IndexKey[] => {
	const seen = new Set<string>();
	return keys.filter((k) => {
		const s = signature(k);
		if (seen.has(s)) return false;
		seen.add(s);
		return true;
	});
};

/** Keys of one condition (no `also`). */
const single = (keys: readonly IndexKey[]): IndexKey[] => keys.filter((k) => k.also === undefined);

/**
 * `field & C > 0` (or `>= k` with k ≥ 1, or `!= 0`) on a scalar integer field, `C` a constant
 * within 31 bits: true only if the field has some bit of `C` set (a test JavaScript's 32-bit `&`
 * makes exactly, as the generated rules do).
 */
const maskTest = (ir: Extract<Ir, { k: "test" }>): { field: RegisteredField; bits: number } | undefined => {
	const a = ir.a;
	if (a.k !== "bit" || a.o !== "&" || ir.many) return undefined;
	const [f, c] = a.a.k === "field" ? [a.a, a.b] : a.b.k === "field" ? [a.b, a.a] : [undefined, undefined];
	if (f?.k !== "field" || c === undefined || f.f.type !== "int" || f.f.array === true) return undefined;
	const bits = constantOf(c);
	if (bits === undefined || !Number.isInteger(bits) || bits <= 0 || bits >= 2 ** 31) return undefined;
	const p = ir.pred;
	const nonzero =
		(ir.q === "any" && p.p === "ord" && ((p.o === ">" && p.v >= 0) || (p.o === ">=" && p.v >= 1))) ||
		(ir.q === "none" && p.p === "eq" && p.v === 0);
	return nonzero ? { field: f.f, bits } : undefined;
};

/**
 * The index keys of a checked rule, best first: each alone is a necessary condition. `a && b`
 * offers the keys of both sides, and pairs of them, one of each side, both required (`also`: a
 * rule on `open.file.path =~ "/etc/pam.d/*" && open.flags & O_WRONLY > 0` runs only on writes
 * under `/etc/pam.d/`); `a || b` needs one key of each side, merged (so a rule that is
 * `exec.file.name == "x" || process.args_flags == "y"` is found under either field; two pairs
 * merge half by half); a test gives a key when its values can be enumerated (approvers,
 * substrings, suffixes), array fields included, and a test of bits (`open.flags & O_CREAT > 0`)
 * gives a mask. An empty list: the rule must run on every event of its type.
 */
export const indexKeysOf = (ir: Ir): IndexKey[] => {
	switch (ir.k) {
		case "test": {
			const mask = maskTest(ir);
			if (mask !== undefined) return [fieldKey(mask.field, [{ kind: "mask", value: mask.bits }])];
			const values = ir.pred.index ?? ir.pred.approvers;
			if (ir.a.k !== "field" || ir.q !== "any" || !values || values.length === 0) return [];
			return [fieldKey(ir.a.f, [...values])];
		}
		case "and": {
			// each side's keys, and pairs of them (one condition of each side, both required)
			const a = indexKeysOf(ir.a);
			const b = indexKeysOf(ir.b);
			const pairs = single(a)
				.slice(0, 2)
				.flatMap((x) =>
					single(b)
						.slice(0, 2)
						.map((y) => both(x, y)),
				);
			// the best of both kinds: a pair needs two lookups, a single key may be looked up anyway
			const all = distinct([...a, ...b, ...pairs]).sort(byScore);
			return [
				...all.filter((k) => k.also === undefined).slice(0, MAX_KEYS),
				...all.filter((k) => k.also !== undefined).slice(0, MAX_KEYS),
			].sort(byScore);
		}
		case "or": {
			// one key of each side, united (a pair with a pair: both halves united); and the best
			// single keys united, so that a key of one condition is always offered
			const a = indexKeysOf(ir.a);
			const b = indexKeysOf(ir.b);
			const out: IndexKey[] = [];
			const add = (x: IndexKey, y: IndexKey) => {
				const key = keyOf(unite(x.fields, y.fields));
				out.push(x.also && y.also ? both(key, keyOf(unite(x.also.fields, y.also.fields))) : key);
			};
			for (const x of a.slice(0, 2)) for (const y of b.slice(0, 2)) add(x, y);
			const [x, y] = [single(a)[0], single(b)[0]];
			if (x && y) add(x, y);
			return distinct(out).sort(byScore);
		}
		case "exists":
			return indexKeysOf(ir.body);
		default:
			return [];
	}
};
