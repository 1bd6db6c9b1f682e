/**
 * @module How often index keys pass, learned from a sample of the events a rule set sees. The
 * index plan (`index-plan.ts`) weighs keys by the share of events they pass, and the static
 * estimates (`selectivity` in `approvers.ts`) take every value as rare: `connect.addr.family ==
 * AF_INET` passes nearly every connect, `open.flags & O_CREAT > 0` depends on the host. A
 * bucket of a rule set tests every key its rules offer on a sample of its events, then plans
 * again with the shares it saw. Any plan is correct (a key is a necessary condition of its
 * rule); the sample only makes the plan cheaper for the events the host actually produces.
 */
import type { RegisteredField } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import type { IndexKey } from "./approvers.ts";
import type { IndexValue } from "./ir.ts";
import { indexFoldFor } from "./patterns.ts";

/** Weight of the static estimate, in events, beside the sampled ones (a key never seen passing keeps a share near its estimate). */
const PRIOR = 4;

type KeyFields = IndexKey["fields"];
type KeyField = { readonly field: RegisteredField; readonly values: readonly IndexValue[] };

/** Whether `value` (folded as the field's index folds it) is accepted by one of `values`. */
const accepts = (
	value: unknown,
	values: readonly IndexValue[],
	fold: ((s: string) => string) | undefined,
) => {
	const text = typeof value === "string" ? (fold ? fold(value) : value) : undefined;
	for (const v of values) {
		switch (v.kind) {
			case "exact":
				if (text !== undefined && typeof v.value === "string") {
					if (text === (fold ? fold(v.value) : v.value)) return true;
				} else if (value === v.value) return true;
				break;
			case "prefix":
				if (text?.startsWith(v.value)) return true;
				break;
			case "suffix":
				if (text?.endsWith(v.value)) return true;
				break;
			case "basename":
				if (text?.endsWith(`/${v.value}`)) return true;
				break;
			case "substring":
				if (text?.includes(v.value)) return true;
				break;
			case "mask":
				if (typeof value === "number" && (value & v.value) !== 0) return true;
				break;
		}
	}
	return false;
};

interface Counted {
	readonly key: IndexKey;
	/** Sampled events its own fields accepted. */
	first: number;
	/** Sampled events its second key (`also`) accepted. */
	second: number;
	/** Sampled events both accepted. */
	both: number;
}

export class KeySample {
	readonly #counted = new Map<IndexKey, Counted>();
	readonly #folds = new Map<unknown, ((s: string) => string) | undefined>();
	#events = 0;

	constructor(
		keys: Iterable<IndexKey>,
		readonly os: "linux" | "windows",
	) {
		for (const key of keys) this.#counted.set(key, { key, first: 0, second: 0, both: 0 });
	}

	/** Events sampled so far. */
	get size(): number {
		return this.#events;
	}

	#fold({ field: f }: KeyField): ((s: string) => string) | undefined {
		if (!this.#folds.has(f)) this.#folds.set(f, indexFoldFor(f, this.os));
		return this.#folds.get(f);
	}

	#passes(fields: KeyFields, e: Event): boolean {
		for (const entry of fields.values()) {
			const fold = this.#fold(entry);
			const value = entry.field.get(e);
			if (Array.isArray(value)) {
				for (const item of value) if (accepts(item, entry.values, fold)) return true;
			} else if (accepts(value, entry.values, fold)) return true;
		}
		return false;
	}

	/** Test every key on `e`. */
	add(e: Event): void {
		this.#events++;
		for (const c of this.#counted.values()) {
			const first = this.#passes(c.key.fields, e);
			const also = c.key.also;
			const second = also !== undefined && this.#passes(also.fields, e);
			if (first) c.first++;
			if (second) c.second++;
			if (first && (also === undefined || second)) c.both++;
		}
	}

	/**
	 * `key` scored with what the sample saw (the static estimate weighing as {@link PRIOR}
	 * events): its score is the share of events passing it. A pair comes both ways round (its
	 * second half is looked up only when the first passes: which half goes first depends on what
	 * each costs to look up, the index plan's choice), the second half's score being the share
	 * of the events passing the first that pass it too, so that the plan reads how often the
	 * first passes as their quotient. A key the sample did not test is returned as is.
	 */
	learned(key: IndexKey): IndexKey[] {
		const c = this.#counted.get(key);
		if (c === undefined) return [key];
		const n = this.#events + PRIOR;
		const also = key.also;
		const both = (c.both + PRIOR * key.score) / n;
		if (also === undefined) return [{ ...key, score: both }];
		const first = (c.first + (PRIOR * key.score) / also.score) / n;
		const second = (c.second + PRIOR * also.score) / n;
		const pair = (a: IndexKey, b: IndexKey, pass: number): IndexKey => ({
			fields: a.fields,
			score: both,
			also: { fields: b.fields, score: Math.min(1, both / pass) },
		});
		return [pair(key, also, first), pair(also, key, second)];
	}
}
