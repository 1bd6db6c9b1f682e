/**
 * @module A set of compiled rules evaluated together: bucketed by event type, and within a
 * bucket indexed by approvers, so an event only runs the rules that can match it.
 *
 * Each rule with approvers is indexed on one of its approver fields (the one most rules of the
 * bucket share): an exact-value map, a map of prefixes looked up at the lengths in use, and a
 * basename map. For an event, the candidates are the rules found under the event's value of each
 * indexed field plus the rules without approvers, run in the order they were added. Approvers are
 * necessary conditions, so the index never skips a rule that would match.
 *
 * When to use: the rule engine builds one per loaded policy set and calls {@link RuleSet.evaluate}
 * for each event; {@link RuleSet.approvers} feeds in-kernel filters.
 */
import type { RegisteredField } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import { type Approvers, approversOfIr, type FieldApprovers, mergeApprovers } from "./approvers.ts";
import { eventCache, nextGeneration, readSlot, slotOf } from "./cache.ts";
import type { CompiledRule } from "./compile.ts";
import type { SeclContext } from "./index.ts";
import type { ApproverValue, Scalar } from "./ir.ts";
import { foldFor, patternOptionsFor } from "./patterns.ts";

interface Entry<T> {
	readonly id: string;
	readonly rule: CompiledRule;
	readonly payload: T;
	readonly approvers: FieldApprovers;
	/** The registered fields of the approvers (their accessors feed the index). */
	readonly fields: ReadonlyMap<string, RegisteredField>;
}

export interface RuleSetStats {
	readonly rules: number;
	/** Per event type: rules, rules reached only through the index, and the indexed fields. */
	readonly buckets: Record<string, { rules: number; indexed: number; fields: string[] }>;
}

/** The 32-bit string hash of the non-directory prefix index, over `s[0, end)`. */
const hashOf = (s: string, end = s.length): number => {
	let h = 0;
	for (let i = 0; i < end; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
	return h;
};

interface Prefix {
	readonly text: string;
	readonly entries: number[];
}

/** A directory of the prefix trie: the entries whose prefix ends here, and subdirectories. */
interface Dir {
	readonly entries: number[];
	readonly children: Map<string, Dir>;
	/** The same children as parallel arrays, compared in place when there are few. */
	readonly names: string[];
	readonly nodes: Dir[];
}

const FEW_CHILDREN = 8;

const newDir = (): Dir => ({ entries: [], children: new Map(), names: [], nodes: [] });

/** The child of `dir` named `v[start, end)`, without building the substring when there are few. */
const child = (dir: Dir, v: string, start: number, end: number): Dir | undefined => {
	const names = dir.names;
	if (names.length > FEW_CHILDREN) return dir.children.get(v.slice(start, end));
	const length = end - start;
	for (let i = 0; i < names.length; i++) {
		const name = names[i] as string;
		if (name.length === length && v.startsWith(name, start)) return dir.nodes[i];
	}
	return undefined;
};

/**
 * A cheap necessary condition for a string to be a key of the exact map: its length and last
 * character are among the keys'. Most values fail it, and skip hashing a fresh string.
 */
class KeyFilter {
	#lengths = new Uint8Array(0);
	readonly #last = new Uint8Array(128);

	add(key: string): void {
		if (this.#lengths.length <= key.length) {
			const grown = new Uint8Array(key.length + 1);
			grown.set(this.#lengths);
			this.#lengths = grown;
		}
		this.#lengths[key.length] = 1;
		this.#last[key.length === 0 ? 0 : key.charCodeAt(key.length - 1) & 127] = 1;
	}

	mayHave(v: string): boolean {
		const n = v.length;
		return (
			n < this.#lengths.length &&
			this.#lengths[n] === 1 &&
			this.#last[n === 0 ? 0 : v.charCodeAt(n - 1) & 127] === 1
		);
	}
}

/**
 * Rules indexed on one field of one bucket. Directory prefixes (`/etc/ssh/`) live in a trie of
 * path segments walked along the value as far as it goes; other prefixes (`python` from
 * `~"python*"`) are found with a rolling hash over the value's first characters, looked up at
 * each length in use and confirmed with `startsWith`.
 */
class FieldIndex {
	readonly exact = new Map<Scalar, number[]>();
	readonly #exactStrings = new KeyFilter();
	readonly basenames = new Map<string, number[]>();
	readonly #dirs: Dir = newDir();
	#hasDirs = false;
	readonly #prefixes = new Map<number, Prefix[]>();
	/** `#lengths[n]` is 1 when some non-directory prefix has length n. */
	#lengths = new Uint8Array(0);
	readonly get: (e: Event) => unknown;
	readonly slot: number;
	readonly fold: ((s: string) => string) | undefined;

	constructor(
		readonly field: RegisteredField,
		os: "linux" | "windows",
	) {
		this.get = field.get;
		this.slot = slotOf(field.get);
		this.fold = foldFor(patternOptionsFor(field, os));
	}

	add(entry: number, values: readonly ApproverValue[]): void {
		const push = (list: number[]) => {
			if (list[list.length - 1] !== entry) list.push(entry);
		};
		for (const v of values) {
			if (v.kind === "exact" || v.kind === "basename") {
				const map = (v.kind === "exact" ? this.exact : this.basenames) as Map<unknown, number[]>;
				const list = map.get(v.value) ?? [];
				push(list);
				map.set(v.value, list);
				if (v.kind === "exact" && typeof v.value === "string") this.#exactStrings.add(v.value);
			} else if (v.value.endsWith("/")) {
				let dir = this.#dirs;
				for (const segment of v.value.slice(0, -1).split("/")) {
					let next = dir.children.get(segment);
					if (!next) {
						next = newDir();
						dir.children.set(segment, next);
						dir.names.push(segment);
						dir.nodes.push(next);
					}
					dir = next;
				}
				push(dir.entries);
				this.#hasDirs = true;
			} else {
				const h = hashOf(v.value);
				const list = this.#prefixes.get(h) ?? [];
				let prefix = list.find((p) => p.text === v.value);
				if (!prefix) {
					prefix = { text: v.value, entries: [] };
					list.push(prefix);
					this.#prefixes.set(h, list);
				}
				push(prefix.entries);
				if (this.#lengths.length <= v.value.length) {
					const grown = new Uint8Array(v.value.length + 1);
					grown.set(this.#lengths);
					this.#lengths = grown;
				}
				this.#lengths[v.value.length] = 1;
			}
		}
	}

	/** Push the entries whose approvers accept the event's value. */
	lookup(event: Event, out: number[]): void {
		let v = readSlot(this.slot, this.get, event);
		if (this.fold !== undefined && typeof v === "string") v = this.fold(v);
		if (typeof v !== "string") {
			const hit = this.exact.get(v as Scalar);
			if (hit !== undefined) for (const i of hit) out.push(i);
			return;
		}
		if (this.#exactStrings.mayHave(v)) {
			const hit = this.exact.get(v);
			if (hit !== undefined) for (const i of hit) out.push(i);
		}
		if (this.#hasDirs) {
			let dir = this.#dirs;
			let start = 0;
			for (let slash = v.indexOf("/"); slash >= 0; slash = v.indexOf("/", start)) {
				const next = child(dir, v, start, slash);
				if (next === undefined) break;
				dir = next;
				for (const i of dir.entries) out.push(i);
				start = slash + 1;
			}
		}
		const lengths = this.#lengths;
		if (lengths.length > 0) {
			const scan = Math.min(lengths.length - 1, v.length);
			let h = 0;
			for (let i = 0; i < scan; i++) {
				h = (Math.imul(h, 31) + v.charCodeAt(i)) | 0;
				if (lengths[i + 1] !== 1) continue;
				const list = this.#prefixes.get(h);
				if (list === undefined) continue;
				for (const p of list)
					if (p.text.length === i + 1 && v.startsWith(p.text)) for (const k of p.entries) out.push(k);
			}
		}
		if (this.basenames.size > 0) {
			const b = this.basenames.get(v.slice(v.lastIndexOf("/") + 1));
			if (b !== undefined) for (const i of b) out.push(i);
		}
	}
}

const MIN_RULES_PER_INDEX = 3;

/** An approver is useful for indexing when it narrows: a weak prefix such as `/` does not. */
const indexable = (values: readonly ApproverValue[] | undefined): values is ApproverValue[] =>
	values !== undefined && values.length > 0 && values.every((v) => v.kind !== "prefix" || v.value.length > 1);

class Bucket<T> {
	readonly entries: Entry<T>[] = [];
	#built = false;
	#unindexed: number[] = [];
	#indexes: FieldIndex[] = [];
	#busy = false;
	readonly #scratch: number[] = [];

	add(entry: Entry<T>): void {
		this.entries.push(entry);
		this.#built = false;
	}

	/**
	 * Choose index fields greedily: the field that indexes the most rules not yet indexed, while
	 * it serves at least {@link MIN_RULES_PER_INDEX} (a lookup costs about what a rule failing on
	 * its first condition costs, so a field serving one or two rules is not worth one).
	 */
	#build(): void {
		const usable = (e: Entry<T>, field: string): boolean =>
			indexable(e.approvers[field]) && e.fields.get(field)?.array !== true;
		const left = new Set(this.entries.keys());
		const indexes: FieldIndex[] = [];
		for (;;) {
			const counts = new Map<string, number>();
			for (const i of left) {
				const e = this.entries[i] as Entry<T>;
				for (const field of Object.keys(e.approvers))
					if (usable(e, field)) counts.set(field, (counts.get(field) ?? 0) + 1);
			}
			let best: string | undefined;
			for (const [field, n] of counts)
				if (best === undefined || n > (counts.get(best) as number)) best = field;
			if (best === undefined || (counts.get(best) as number) < MIN_RULES_PER_INDEX) break;
			let index: FieldIndex | undefined;
			for (const i of [...left]) {
				const e = this.entries[i] as Entry<T>;
				if (!usable(e, best)) continue;
				index ??= new FieldIndex(e.fields.get(best) as RegisteredField, e.rule.os);
				index.add(i, e.approvers[best] as ApproverValue[]);
				left.delete(i);
			}
			if (index) indexes.push(index);
		}
		this.#unindexed = [...left].sort((a, b) => a - b);
		this.#indexes = indexes;
		this.#built = true;
	}

	evaluate(event: Event, onMatch: (id: string, payload: T) => void): void {
		if (!this.#built) this.#build();
		const entries = this.entries;
		if (this.#indexes.length === 0) {
			for (let i = 0; i < entries.length; i++) {
				const e = entries[i] as Entry<T>;
				if (e.rule.evaluate(event)) onMatch(e.id, e.payload);
			}
			return;
		}
		// a callback may evaluate another event on this rule set: it then gets its own array
		const hits = this.#busy ? [] : this.#scratch;
		hits.length = 0;
		for (const index of this.#indexes) index.lookup(event, hits);
		// few hits: insertion sort, then walk them and the unindexed rules in add order
		for (let i = 1; i < hits.length; i++) {
			const x = hits[i] as number;
			let j = i - 1;
			while (j >= 0 && (hits[j] as number) > x) {
				hits[j + 1] = hits[j] as number;
				j--;
			}
			hits[j + 1] = x;
		}
		const rest = this.#unindexed;
		const wasBusy = this.#busy;
		this.#busy = true;
		try {
			let a = 0;
			let b = 0;
			let last = -1;
			while (a < hits.length || b < rest.length) {
				const x = a < hits.length ? (hits[a] as number) : Number.MAX_SAFE_INTEGER;
				const y = b < rest.length ? (rest[b] as number) : Number.MAX_SAFE_INTEGER;
				let i: number;
				if (x <= y) {
					i = x;
					a++;
				} else {
					i = y;
					b++;
				}
				if (i === last) continue;
				last = i;
				const e = entries[i] as Entry<T>;
				if (e.rule.evaluate(event)) onMatch(e.id, e.payload);
			}
		} finally {
			this.#busy = wasBusy;
		}
	}

	stats(): { rules: number; indexed: number; fields: string[] } {
		if (!this.#built) this.#build();
		return {
			rules: this.entries.length,
			indexed: this.entries.length - this.#unindexed.length,
			fields: this.#indexes.map((i) => i.field.name),
		};
	}
}

export class RuleSet<T> {
	readonly #buckets = new Map<string, Bucket<T>>();
	readonly #ids = new Set<string>();
	readonly #os: "linux" | "windows" | undefined;

	/**
	 * Everything the rule set needs comes with the compiled rules; given a context, it also
	 * refuses rules compiled for another OS model (their path and case rules differ).
	 */
	constructor(ctx?: SeclContext) {
		this.#os = ctx?.registry.os;
	}

	/** Add a compiled rule under its event type. Throws on a duplicate id. */
	add(id: string, rule: CompiledRule, payload: T): void {
		if (this.#ids.has(id)) throw new Error(`rule "${id}" is already in the rule set`);
		if (this.#os && rule.os !== this.#os)
			throw new Error(`rule "${id}" was compiled for ${rule.os}, this rule set is for ${this.#os}`);
		this.#ids.add(id);
		let bucket = this.#buckets.get(rule.eventType);
		if (!bucket) {
			bucket = new Bucket<T>();
			this.#buckets.set(rule.eventType, bucket);
		}
		const fields = new Map<string, RegisteredField>();
		const approvers = Object.fromEntries(approversOfIr(rule.ir, fields));
		bucket.add({ id, rule, payload, approvers, fields });
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
			bucket.evaluate(event, onMatch);
		} finally {
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
