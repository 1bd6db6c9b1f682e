/**
 * @module A set of compiled rules evaluated together: bucketed by event type, and within a
 * bucket indexed, so an event only runs the rules that can match it.
 *
 * Each rule offers index keys (`indexKeysOf` in `approvers.ts`: necessary conditions such as
 * "`exec.file.name` is one of these, or `process.args_flags` has one of those", or a pair of
 * such conditions that must both hold), and the bucket indexes each rule by the key `planIndex`
 * (`index-plan.ts`) finds worth its lookups; rules with no such key run on every event. A field
 * index holds exact values, prefixes (a radix trie), suffixes, basenames, substrings and bit
 * masks, and looks up every element of an array field. A bucket is evaluated by one generated
 * function: the lookups, which set a mark per rule found (a paired key's second condition sets a
 * mark of its own, and the rule counts as found only with both), then, in the order the rules
 * were added, each rule found or without a key. Keys are necessary conditions, so the index never
 * skips a rule that would match.
 *
 * When to use: the rule engine builds one per loaded policy set and calls {@link RuleSet.evaluate}
 * for each event; {@link RuleSet.approvers} feeds in-kernel filters.
 */

import { envNameEnd } from "../model/derive.ts";
import type { RegisteredField } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import {
	type Approvers,
	approversOfIr,
	type FieldApprovers,
	type IndexKey,
	indexKeysOf,
	mergeApprovers,
} from "./approvers.ts";
import { cachedRead, eventCache, nextGeneration, slotOf } from "./cache.ts";
import { Externals } from "./codegen.ts";
import type { CompiledRule } from "./compile.ts";
import { ARRAY_COST, fieldCost } from "./cost.ts";
import type { SeclContext } from "./index.ts";
import { planIndex } from "./index-plan.ts";
import type { IndexValue, Scalar } from "./ir.ts";
import { KeySample } from "./key-sample.ts";
import { indexFoldFor, Needles } from "./patterns.ts";
import { TextTrie } from "./trie.ts";

interface Entry<T> {
	readonly id: string;
	readonly rule: CompiledRule;
	readonly payload: T;
	readonly approvers: FieldApprovers;
}

export interface RuleSetStats {
	readonly rules: number;
	/**
	 * Per event type: rules, rules reached only through the index, the indexed fields, and
	 * whether the index was planned with a sample of the type's events (see {@link Sampling}).
	 */
	readonly buckets: Record<string, { rules: number; indexed: number; fields: string[]; learned: boolean }>;
}

/** JavaScript that sets the marks of `entries` in `hits`: one constant per word of marks. */
const markSource = (entries: readonly number[]): string => {
	const words = new Map<number, number>();
	for (const i of entries) words.set(i >>> 5, ((words.get(i >>> 5) ?? 0) | (1 << (i & 31))) >>> 0);
	return [...words].map(([w, bits]) => `hits[${w}] |= ${bits};`).join(" ");
};

/** A trie walk that marks the entries of the texts it finds. */
const MARK = { found: markSource, miss: "return;" } as const;

/**
 * Where lookups mark the entries they find: a bit per entry (bit `i & 31` of word `i >>> 5`),
 * so that the rules to run are found by walking the set bits rather than by testing every rule.
 */
type Hits = Uint32Array;

/** Words of marks for `entries` entries. */
const markWords = (entries: number): number => Math.ceil(entries / 32);

const addAll = (hits: Hits, entries: readonly number[]): void => {
	for (let k = 0; k < entries.length; k++) {
		const i = entries[k] as number;
		hits[i >>> 5] = (hits[i >>> 5] as number) | (1 << (i & 31));
	}
};

/** The entry list of `key` in `map` (added when new). */
const listOf = <K>(map: Map<K, number[]>, key: K): number[] => {
	let list = map.get(key);
	if (list === undefined) {
		list = [];
		map.set(key, list);
	}
	return list;
};

/** Up to this many pairs of first characters, the substrings of a field are searched for those first. */
const INLINE_PAIRS = 2;

/**
 * Rules indexed on one field of one bucket. Exact strings and prefixes (`/etc/ssh/`, `python`
 * from `~"python*"`) in a trie walked along the value as far as it goes; suffixes (`.icp0.io`) and
 * basenames (`sh` from `~"/*\/bin/sh"`, as the suffix `/sh`) in one walked from its end; both
 * compiled to code with the lookup. Substrings found in one walk over the value
 * ({@link Needles}); numbers and booleans in a map. An array field is looked up element by
 * element.
 */
class FieldIndex {
	/** Exact values that are not strings (numbers, booleans). */
	readonly #scalars = new Map<Scalar, number[]>();
	/** Bit masks of integers, one of whose bits must be set. */
	readonly #masks = new Map<number, number[]>();
	/** Exact strings and prefixes, walked from the start of the value. */
	readonly #forward = new TextTrie();
	/** Suffixes and basenames, walked from the end of the value. */
	readonly #backward = new TextTrie();
	readonly #substrings = new Needles<number[]>();
	readonly #substringLists = new Map<string, number[]>();
	readonly #get: (e: Event) => unknown;
	readonly #slot: number;
	readonly #fold: ((s: string) => string) | undefined;
	readonly #many: boolean;

	constructor(
		readonly field: RegisteredField,
		os: "linux" | "windows",
	) {
		this.#get = field.get;
		this.#slot = slotOf(field.get);
		// values are compared as the rules compare them: folded, or IPs in canonical form
		this.#fold = indexFoldFor(field, os);
		this.#many = field.array === true;
	}

	add(entry: number, values: readonly IndexValue[]): void {
		const push = (list: number[]) => {
			if (list[list.length - 1] !== entry) list.push(entry);
		};
		const fold = this.#fold;
		for (const v of values) {
			switch (v.kind) {
				case "exact": {
					if (typeof v.value === "string") {
						push(this.#forward.addExact(fold ? fold(v.value) : v.value));
						break;
					}
					push(listOf(this.#scalars, v.value));
					break;
				}
				case "basename":
					// the last segment of a path glob (`/*/bin/sh`): a path it matches ends with `/sh`
					push(this.#backward.addSuffix(`/${v.value}`));
					break;
				case "mask":
					push(listOf(this.#masks, v.value));
					break;
				case "prefix":
					push(this.#forward.addPrefix(v.value));
					break;
				case "suffix":
					push(this.#backward.addSuffix(v.value));
					break;
				case "substring": {
					let list = this.#substringLists.get(v.value);
					if (!list) {
						list = [];
						this.#substringLists.set(v.value, list);
						this.#substrings.add(v.value, list);
					}
					push(list);
					break;
				}
			}
		}
	}

	/**
	 * JavaScript for the lookup of this index: add to `hits` the entries whose values accept the
	 * event's value (any element of an array). Only the tables in use are tested, and the code is
	 * generated per rule set so that each field's read and each table's call site sees one kind
	 * of value (see {@link compileBucket}). The tables look at a text `v[0, end)`: the value, or
	 * an env name inside its `NAME=value` entry. `read` reads the field (and a string's length)
	 * ahead of the lookups; `call` looks it up.
	 */
	source(
		x: (value: unknown, prefix: string) => string,
		one: string,
	): { helper: string; read: string; call: string } {
		const text: string[] = [];
		const tries: string[] = [];
		if (this.#forward.size > 0) {
			tries.push(this.#forward.source(`${one}_forward`, "v, end, hits", false, x, MARK));
			text.push(`${one}_forward(v, end, hits);`);
		}
		if (this.#backward.size > 0) {
			tries.push(this.#backward.source(`${one}_backward`, "v, end, hits", true, x, MARK));
			text.push(`${one}_backward(v, end, hits);`);
		}
		if (this.#substrings.size > 0) {
			const n = x(this.#substrings, "S");
			const find = `{ const k = ${n}.find(v, end); for (let j = 0; j < k; j++) addAll(hits, ${n}.found(j)); }`;
			// with few pairs of first characters, the value is searched for them first (most
			// values hold none): `indexOf` inline costs a third of a call to the generic search
			const pairs = this.#substrings.leadingPairs();
			if (pairs !== undefined && pairs.length <= INLINE_PAIRS) {
				const any = pairs.map((p) => `((q = v.indexOf(${JSON.stringify(p)})) >= 0 && q + 2 <= end)`);
				text.push(`{ let q; if (${any.join(" || ")}) ${find} }`);
			} else text.push(find);
		}
		const lines: string[] = [...tries];
		if (text.length > 0)
			lines.push(`function ${one}_text(v, end, hits) {`, ...text.map((l) => `\t${l}`), "}");
		// `n` is the length of a string value, -1 for other values
		lines.push(`function ${one}(value, n, hits) {`);
		if (text.length > 0) {
			lines.push(
				this.#fold === undefined
					? `\tif (n >= 0) return ${one}_text(value, n, hits);`
					: `\tif (n >= 0) { const v = ${x(this.#fold, "N")}(value); return ${one}_text(v, v.length, hits); }`,
			);
		}
		if (this.#scalars.size > 0) {
			lines.push(
				`\tconst h = ${x(this.#scalars, "X")}.get(value);`,
				"\tif (h !== undefined) addAll(hits, h);",
			);
		}
		// masks are within 31 bits (see `indexKeysOf`): JavaScript's `&` tests them exactly
		for (const [mask, entries] of this.#masks)
			lines.push(`\tif (typeof value === "number" && (value & ${mask}) !== 0) { ${markSource(entries)} }`);
		lines.push("}");
		const each = (list: string) =>
			`for (let i = 0; i < ${list}.length; i++) { const y = ${list}[i]; ${one}(y, typeof y === "string" ? y.length : -1, hits); }`;
		const s = this.#slot;
		const read = cachedRead(s, x(this.#get, "G"));
		const it = this.field.iterator;
		const owner = envOwnerOf(this.field);
		const v = `v_${one}`;
		if (it) {
			// an ancestors field: walk the ancestors rather than build the array, unless it is cached
			const items = x(it.items, "I");
			const get = x(it.get, "J");
			return {
				helper: lines.join("\n"),
				read: "",
				call: `if (t[${s}] === n) { const a = w[${s}]; ${each("a")} } else { const it = ${items}(e); for (let k = 0; k < it.length; k++) { const a = ${get}(it[k], e); if (Array.isArray(a)) { ${each("a")} } else ${one}(a, typeof a === "string" ? a.length : -1, hits); } }`,
			};
		}
		if (
			owner !== undefined &&
			text.length > 0 &&
			this.#scalars.size === 0 &&
			this.#masks.size === 0 &&
			this.#fold === undefined
		) {
			// env names: as `envs` in derive.ts reads them (literal names first), but each looked up
			// in its entry unless a rule already derived them for this event
			const process = `e${owner.map((k) => `?.${k}`).join("")}`;
			// with only exact names and prefixes, an entry is walked up to its `=` without finding
			// the `=` first (most entries leave the trie at their first characters)
			const forwardOnly = this.#backward.size === 0 && this.#substrings.size === 0;
			if (forwardOnly)
				lines.push(this.#forward.source(`${one}_entry`, "v, end, hits", false, x, { ...MARK, stop: 61 }));
			const lookup = forwardOnly
				? `${one}_entry(entry, entry.length, hits)`
				: `${one}_text(entry, ${x(envNameEnd, "L")}(entry), hits)`;
			return {
				helper: lines.join("\n"),
				read: "",
				call: `if (t[${s}] === n) { const a = w[${s}]; ${each("a")} } else { const p = ${process}; const names = p?.envs; if (names) { if (Array.isArray(names)) { ${each("names")} } } else { const envp = p?.envp; if (envp) for (let i = 0; i < envp.length; i++) { const entry = envp[i]; if (typeof entry === "string") ${lookup}; } } }`,
			};
		}
		if (this.#many)
			return {
				helper: lines.join("\n"),
				read: `const ${v} = ${read};`,
				call: `if (Array.isArray(${v})) { ${each(v)} }`,
			};
		return {
			helper: lines.join("\n"),
			read: `const ${v} = ${read}, n_${one} = typeof ${v} === "string" ? ${v}.length : -1;`,
			call: `${one}(${v}, n_${one}, hits);`,
		};
	}
}

/**
 * Event types whose own object is the event's process: on `exec` and `exit` events,
 * `event.exec` (`event.exit`) is `event.process` (the model's contract, kept by the probes and by
 * `eventFromValues`), so `exec.args` and `process.args` are one value and their index keys share
 * one lookup, made through whichever of the two fields some key named first. An event that
 * breaks the contract (a hand-built one) runs the rules keyed on the other field unfiltered.
 */
const PROCESS_EVENTS = new Set(["exec", "exit"]);

/** `key` with its fields renamed, the values of fields given one name united. */
const renameFields = (key: IndexKey, rename: (name: string) => string): IndexKey => {
	const fields = new Map<string, { field: RegisteredField; values: IndexValue[] }>();
	for (const [name, f] of key.fields) {
		const to = rename(name);
		const have = fields.get(to);
		fields.set(to, have ? { field: have.field, values: [...have.values, ...f.values] } : f);
	}
	const also = key.also && renameFields(key.also, rename);
	return fields.size === key.fields.size &&
		[...fields.keys()].every((n) => key.fields.has(n)) &&
		also === key.also
		? key
		: { fields, score: key.score, ...(also ? { also } : {}) };
};

/**
 * The process whose env names `field` lists (`["exec"]` for `exec.envs`), when the index looks
 * the names up in place: in the `NAME=value` entries of `envp`, without deriving them (a name is
 * a string cut from its entry, and the first read of a cut string copies it). The process sits
 * in the event at the path its fields are named after (`process.parent.envs` reads
 * `event.process.parent`), as for every field of the model.
 */
export const envOwnerOf = (field: RegisteredField): readonly string[] | undefined =>
	field.name.endsWith(".envs") && field.array === true && !field.iterator && !field.caseInsensitive
		? field.name.split(".").slice(0, -1)
		: undefined;

/**
 * The evaluation of a bucket as one generated function, like the rules (`codegen.ts`): look the
 * event up in every field index (fields read through the event cache), then, in add order, call
 * each rule that the lookups marked or that has no key. Each lookup and each rule has its own
 * call site, so none of them sees more than one function or one kind of value however many
 * event types go through, and small rules can be inlined.
 *
 * The fields are all read, with the length of each string, before the first lookup: the reads
 * do not depend on each other, so the processor fetches the event's objects from memory
 * together instead of one after the other between lookups. An exec, whose process context,
 * file and argument strings are all new, has a dozen of them (in `bench/secl.ts` this saved
 * about 100 ns of an exec's 2 µs).
 */
const compileBucket = <T>(
	entries: readonly Entry<T>[],
	indexes: readonly FieldIndex[],
	/**
	 * Indexes of second keys (`also`), each looked up only when the lookups of `indexes` marked
	 * one of the rules in `need`, whose second key reads it.
	 */
	seconds: readonly { index: FieldIndex; need: readonly number[] }[],
	indexed: readonly boolean[],
	/** Rules whose key has a second key that must hold too (its marks follow the rules' own). */
	paired: readonly boolean[],
	/** On exec and exit events: the type, and the rules to run unfiltered when `event.<type>` is not `event.process`. */
	processEvent?: { own: string; aliased: readonly boolean[] },
): ((e: Event, onMatch: (id: string, payload: T) => void, hits: Hits) => void) => {
	const externals = new Externals({ K: eventCache, addAll });
	const ext = (value: unknown, prefix: string): string => externals.ext(value, prefix);
	// names that say what they are in a profile: the bucket's event type, each index's field
	const name = (s: string) => s.replace(/[^A-Za-z0-9]/g, "_");
	const parts = indexes.map((index) => index.source(ext, `lookup_${name(index.field.name)}`));
	// the rules of each word of marks: the word starts with the bits of the rules that have no
	// key (and, on exec and exit events whose own object is not the process, of those keyed on
	// the other field), and its set bits are walked in order, each one's rule called through a
	// switch (a jump, and one call site per rule). Each word's walk is a function of its own:
	// the first run of a rarely found rule leaves the optimized code of one walk, not of the
	// whole bucket, so the lookups and the other walks stay optimized (measured: 2-5 % less
	// time per event on default.policy than one function)
	const words = markWords(entries.length);
	/** The marks of the rules `keep` says. */
	const marksOf = (keep: (i: number) => boolean): Uint32Array => {
		const marks = new Uint32Array(words);
		addAll(
			marks,
			entries.flatMap((_, i) => (keep(i) ? [i] : [])),
		);
		return marks;
	};
	const always = marksOf((i) => !indexed[i]);
	const apart = marksOf((i) => indexed[i] === true && processEvent?.aliased[i] === true);
	const pairs = marksOf((i) => paired[i] === true);
	// a second key's lookup (and the read of its field, often derived: `process.args`) is made
	// only when some rule that needs it was found by its first key, which most events miss
	const guarded = seconds.map(({ index, need }, k) => {
		const part = index.source(ext, `lookup_${name(index.field.name)}_also`);
		const needed = new Set(need);
		const marks = marksOf((i) => needed.has(i));
		const any = [...marks].flatMap((m, w) => (m !== 0 ? [`(hits[${w}] & ${m}) !== 0`] : []));
		const body = [part.read, part.call].filter((l) => l !== "").join(" ");
		return {
			helper: `${part.helper}\nfunction also_${k}(e, n, hits) { ${body} }`,
			call: `\tif (${any.join(" || ") || "false"}) also_${k}(e, n, hits);`,
		};
	});
	const walks = Array.from({ length: words }, (_, w) => {
		const cases = entries.slice(w * 32, w * 32 + 32).map((entry, k) => {
			const rule = ext(entry.rule.evaluate, "R");
			const id = ext(entry.id, "D");
			const payload = `${ext(entry, "E")}.payload`;
			return `\t\tcase ${k}: if (${rule}(e)) onMatch(${id}, ${payload}); break;`;
		});
		return [
			`function walk_${w}(e, onMatch, b) {`,
			`\tfor (; b !== 0; ) {`,
			`\t\tconst low = b & -b;`,
			`\t\tb ^= low;`,
			`\t\tswitch (31 - Math.clz32(low)) {`,
			...cases.map((c) => `\t${c}`),
			`\t\t}`,
			`\t}`,
			`}`,
		].join("\n");
	});
	const calls = Array.from({ length: words }, (_, w) => {
		// a paired rule's mark counts only with its second key's (`~pairs` keeps the others)
		const found =
			pairs[w] !== 0 ? `(hits[${w}] & (hits[${w + words}] | ${~(pairs[w] as number) >>> 0}))` : `hits[${w}]`;
		const init = `${found} | ${always[w]}${apart[w] !== 0 ? ` | (apart ? ${apart[w]} : 0)` : ""}`;
		return `\twalk_${w}(e, onMatch, ${init});`;
	});
	const source = [
		`"use strict";`,
		`const t = K.tags, w = K.values;`,
		...parts.map((p) => p.helper),
		...guarded.map((g) => g.helper),
		...walks,
		`return function ${name(`rules_${entries[0]?.rule.eventType}`)}(e, onMatch, hits) {`,
		`\tconst n = K.event === e ? K.generation : NaN;`,
		...Array.from({ length: pairs.some((b) => b !== 0) ? 2 * words : words }, (_, w) => `\thits[${w}] = 0;`),
		...parts.filter((p) => p.read !== "").map((p) => `\t${p.read}`),
		...parts.map((p) => `\t${p.call}`),
		...guarded.map((g) => g.call),
		...(apart.some((b) => b !== 0) ? [`\tconst apart = e.${processEvent?.own} !== e.process;`] : []),
		...calls,
		`};`,
	].join("\n");
	return externals.instantiate<(e: Event, onMatch: (id: string, payload: T) => void, hits: Hits) => void>(
		source,
	);
};

/**
 * How a bucket learns how often its rules' index keys pass (see key-sample.ts): it tests them on
 * one event in `every` until it has sampled `size` events, then plans its index again with what
 * it saw. A `size` of 0 keeps the plan of the static estimates.
 */
export interface Sampling {
	readonly every: number;
	readonly size: number;
}

/** The default: 256 of a type's first 2048 events. */
const SAMPLING: Sampling = { every: 8, size: 256 };

class Bucket<T> {
	readonly entries: Entry<T>[] = [];
	#built = false;
	/** Each rule's index keys, as the plan sees them (field names made canonical). */
	#keys: IndexKey[][] | undefined;
	/** The sample being taken; undefined once it is complete (or before the first build). */
	#sample: KeySample | undefined;
	/** The complete sample the plan is made with. */
	#learned: KeySample | undefined;
	#seen = 0;
	#unindexed = 0;
	#indexes: FieldIndex[] = [];
	#seconds: FieldIndex[] = [];
	#run: (e: Event, onMatch: (id: string, payload: T) => void, hits: Hits) => void = () => {};
	/** Marks by nesting depth: a callback may evaluate another event on this rule set. */
	#hits: Hits[] = [];
	#depth = 0;

	constructor(readonly sampling: Sampling) {}

	add(entry: Entry<T>): void {
		this.entries.push(entry);
		this.#built = false;
		// a new rule brings keys of its own: the sample starts again
		this.#keys = undefined;
		this.#sample = undefined;
		this.#learned = undefined;
	}

	/** Index the rules as `planIndex` says; the others run on every event. */
	#build(): void {
		const type = this.entries[0]?.rule.eventType ?? "";
		const own = PROCESS_EVENTS.has(type) ? `${type}.` : undefined;
		// on exec and exit events `exec.x` is `process.x` (see PROCESS_EVENTS): one name for both
		const canonical = (name: string) =>
			own !== undefined && name.startsWith(own) ? `process.${name.slice(own.length)}` : name;
		if (this.#keys === undefined) {
			const keys = this.entries.map((e) => indexKeysOf(e.rule.ir).map((key) => renameFields(key, canonical)));
			this.#keys = keys;
			this.#sample =
				this.sampling.size > 0 ? new KeySample(keys.flat(), this.entries[0]?.rule.os ?? "linux") : undefined;
			this.#seen = 0;
		}
		const keys = this.#keys;
		const learned = this.#learned;
		const plan = planIndex(
			this.entries.map((e, i) => ({
				cost: e.rule.ordered.cost,
				keys: learned ? (keys[i] as IndexKey[]).flatMap((k) => learned.learned(k)) : (keys[i] as IndexKey[]),
				fields: e.rule.ordered.firstReads.map(canonical),
			})),
			// env names are looked up in their entries: the price of reading the entries
			(f) => (envOwnerOf(f) === undefined ? fieldCost(f) : ARRAY_COST),
		);
		const indexes = new Map<string, FieldIndex>();
		// second keys have indexes of their own, looked up after the others (see `compileBucket`)
		const seconds = new Map<string, { index: FieldIndex; need: number[] }>();
		// a rule's mark is entry `i`; the mark of the key that must hold with its key (`also`) is
		// entry `i + second`, in the words of marks after the rules' own
		const second = 32 * markWords(this.entries.length);
		const os = (i: number) => (this.entries[i] as Entry<T>).rule.os;
		plan.forEach((key, i) => {
			if (key === undefined) return;
			for (const [name, { field, values }] of key.fields) {
				let index = indexes.get(name);
				if (!index) {
					index = new FieldIndex(field, os(i));
					indexes.set(name, index);
				}
				index.add(i, values);
			}
			for (const [name, { field, values }] of key.also?.fields ?? []) {
				let s = seconds.get(name);
				if (!s) {
					s = { index: new FieldIndex(field, os(i)), need: [] };
					seconds.set(name, s);
				}
				s.index.add(i + second, values);
				s.need.push(i);
			}
		});
		// rules whose key was on the field that is not the one looked up
		const other = (k: IndexKey | undefined, looked: (name: string) => RegisteredField | undefined) =>
			[...(k?.fields ?? [])].some(([name, { field }]) => looked(name) !== field);
		const aliased = plan.map(
			(key) =>
				other(key, (name) => indexes.get(name)?.field) ||
				other(key?.also, (name) => seconds.get(name)?.index.field),
		);
		this.#unindexed = plan.filter((k) => k === undefined).length;
		this.#indexes = [...indexes.values()];
		this.#seconds = [...seconds.values()].map((s) => s.index);
		this.#run = compileBucket(
			this.entries,
			this.#indexes,
			[...seconds.values()],
			plan.map((k) => k !== undefined),
			plan.map((k) => k?.also !== undefined),
			own === undefined ? undefined : { own: type, aliased },
		);
		this.#hits = [];
		this.#built = true;
	}

	/**
	 * Evaluate the rules on `event`. The caller holds the event cache; `leave` must follow,
	 * whatever happens (the rule set does both in one `try`).
	 */
	enter(event: Event, onMatch: (id: string, payload: T) => void): void {
		const depth = this.#depth++;
		if (!this.#built) this.#build();
		const sample = this.#sample;
		if (sample !== undefined && depth === 0 && ++this.#seen % this.sampling.every === 0) {
			try {
				sample.add(event);
				if (sample.size >= this.sampling.size) {
					// plan again with the shares seen, from the next event on
					this.#learned = sample;
					this.#sample = undefined;
					this.#built = false;
				}
			} catch {
				// a field that cannot be read on this event (a plugin's accessor that throws): the
				// sample stops, the plan stays as estimated, the rules run as ever
				this.#sample = undefined;
			}
		}
		let hits = this.#hits[depth];
		if (hits === undefined) {
			// the rules' marks, then the marks of the keys that must hold with theirs
			hits = new Uint32Array(2 * markWords(this.entries.length));
			this.#hits[depth] = hits;
		}
		this.#run(event, onMatch, hits);
	}

	leave(): void {
		this.#depth--;
	}

	stats(): { rules: number; indexed: number; fields: string[]; learned: boolean } {
		if (!this.#built) this.#build();
		return {
			rules: this.entries.length,
			indexed: this.entries.length - this.#unindexed,
			learned: this.#learned !== undefined,
			fields: [...new Set([...this.#indexes, ...this.#seconds].map((i) => i.field.name))],
		};
	}
}

export class RuleSet<T> {
	readonly #buckets = new Map<string, Bucket<T>>();
	readonly #ids = new Set<string>();
	readonly #os: "linux" | "windows" | undefined;
	readonly #sampling: Sampling;

	/**
	 * Everything the rule set needs comes with the compiled rules; given a context, it also
	 * refuses rules compiled for another OS model (their path and case rules differ).
	 * `sampling` sets how each event type's bucket learns how often index keys pass.
	 */
	constructor(ctx?: SeclContext, options: { readonly sampling?: Sampling } = {}) {
		this.#os = ctx?.registry.os;
		this.#sampling = options.sampling ?? SAMPLING;
	}

	/** Add a compiled rule under its event type. Throws on a duplicate id. */
	add(id: string, rule: CompiledRule, payload: T): void {
		if (this.#ids.has(id)) throw new Error(`rule "${id}" is already in the rule set`);
		if (this.#os && rule.os !== this.#os)
			throw new Error(`rule "${id}" was compiled for ${rule.os}, this rule set is for ${this.#os}`);
		this.#ids.add(id);
		let bucket = this.#buckets.get(rule.eventType);
		if (!bucket) {
			bucket = new Bucket<T>(this.#sampling);
			this.#buckets.set(rule.eventType, bucket);
		}
		const approvers = Object.fromEntries(approversOfIr(rule.ir));
		bucket.add({ id, rule, payload, approvers });
	}

	/**
	 * Call `onMatch` for every rule matching the event, in the order the rules were added. Field
	 * values are read once per event for all the rules, so `onMatch` must not change the event's
	 * fields (variables may change: they are read afresh by every rule).
	 */
	evaluate(event: Event, onMatch: (id: string, payload: T) => void): void {
		const bucket = this.#buckets.get(event.type);
		if (!bucket) return;
		// fields are read once for all the rules (cache.ts); a callback evaluating another event
		// gets its own generation and ours is restored after
		const c = eventCache;
		const savedEvent = c.event;
		const savedGeneration = c.generation;
		c.event = event;
		c.generation = nextGeneration();
		try {
			bucket.enter(event, onMatch);
		} finally {
			bucket.leave();
			c.event = savedEvent;
			c.generation = savedGeneration;
		}
	}

	/** Event types that have at least one rule. */
	eventTypes(): ReadonlySet<string> {
		return new Set(this.#buckets.keys());
	}

	/** Per event type, the fields every rule of that type has approvers on, with the values united. */
	approvers(): Approvers {
		const out: Approvers = {};
		for (const [type, bucket] of this.#buckets)
			out[type] = mergeApprovers(bucket.entries.map((e) => e.approvers));
		return out;
	}

	get size(): number {
		return this.#ids.size;
	}

	stats(): RuleSetStats {
		const buckets: RuleSetStats["buckets"] = {};
		for (const [type, bucket] of this.#buckets) buckets[type] = bucket.stats();
		return { rules: this.#ids.size, buckets };
	}
}
