/**
 * @module What a rule set indexes the rules of one event type by. Every rule offers index keys
 * (`indexKeysOf`: necessary conditions on one or more fields, with an estimated pass rate), and
 * every key has a price per event: reading its fields and looking the value up in each kind of
 * table it needs (exact values, prefixes, suffixes, substrings…). Indexing a rule saves its
 * evaluation on the events its key rejects.
 *
 * The plan is a local search over the set of lookups to make per event. For a set, each rule
 * takes its cheapest key among those the set covers, or runs on every event; the estimated cost
 * per event is what the lookups cost plus what the rules cost. A field that some rule running on
 * every event reads first is read anyway, so only its lookup is paid. Starting from no lookup,
 * the search adds one key's lookups or drops one lookup, whichever lowers the cost most, until
 * nothing does.
 */
import type { RegisteredField } from "../model/registry.ts";
import type { IndexKey } from "./approvers.ts";
import { fieldCost } from "./cost.ts";
import type { IndexValue } from "./ir.ts";

/** Nanoseconds, roughly, to look a value up in a table of each kind (most values miss). */
const TABLE_COST: Record<IndexValue["kind"], number> = {
	exact: 4,
	basename: 25,
	prefix: 30,
	suffix: 15,
	substring: 55,
	mask: 2,
};
/** Reading a field for the index, on top of the field's own cost. */
const READ_COST = 10;
/** Calling a rule found by the index, on top of its own cost. */
const CALL_COST = 30;
/** Elements an array field is assumed to hold (each is looked up). */
const ELEMENTS = 4;
/** A bound on the search (each step adds or drops lookups; plans settle well before). */
const MAX_STEPS = 200;
/** Moves × options per step above which the search is not worth its time. */
const MAX_WORK = 200_000;

export interface PlannedRule {
	/** Estimated cost of evaluating the rule (see `cost.ts`). */
	readonly cost: number;
	readonly keys: readonly IndexKey[];
	/** The fields the rule reads on every event it runs on. */
	readonly fields: readonly string[];
}

interface Option {
	readonly key: IndexKey;
	/** Lookups the key needs: field reads (by field name) and tables (`name\0kind`). */
	readonly resources: readonly number[];
	/** Those of the key itself, made on every event. */
	readonly first: readonly number[];
	/**
	 * Those of its second key (`also`), made only on the events its first key passes (see
	 * `compileBucket` in ruleset.ts): their price is shared by the rules that need them, in
	 * proportion to how often their first keys pass.
	 */
	readonly second: readonly number[];
	/** How often the first key passes. */
	readonly pass: number;
	/** The rule's expected cost when indexed by this key. */
	readonly cost: number;
}

/**
 * For each rule, the key to index it by, or undefined to run it on every event. `readCost` is
 * what reading a field for a lookup costs (the rule set looks some fields up without deriving
 * them); rules reading a field pay {@link fieldCost}.
 */
export const planIndex = (
	rules: readonly PlannedRule[],
	readCost: (field: RegisteredField) => number = fieldCost,
): (IndexKey | undefined)[] => {
	// lookups are numbered; a field read's price depends on whether the field is read anyway
	const ids = new Map<string, number>();
	const price: number[] = [];
	const readOf: (string | undefined)[] = [];
	const idOf = (name: string, cost: number, field?: string): number => {
		let id = ids.get(name);
		if (id === undefined) {
			id = price.length;
			ids.set(name, id);
			price.push(cost);
			readOf.push(field);
		}
		return id;
	};
	const options: Option[][] = rules.map((r) =>
		r.keys
			.filter((k) => k.score < 1)
			.map((key) => {
				// the lookups of a key, and apart those of the key that must hold with it (`also`)
				const lookups = (k: IndexKey | undefined, tag: string): number[] =>
					[...(k?.fields ?? [])].flatMap(([name, { field, values }]) => {
						const many = field.array === true ? ELEMENTS : 1;
						return [
							idOf(`${name}${tag}`, readCost(field as RegisteredField), name),
							...[...new Set(values.map((v) => v.kind))].map((kind) =>
								idOf(`${name}\u0000${kind}${tag}`, many * TABLE_COST[kind]),
							),
						];
					});
				const first = lookups(key, "");
				const second = lookups(key.also, "\u0000also");
				const alsoScore = key.also?.score ?? 1;
				return {
					key,
					resources: [...first, ...second],
					first,
					second,
					pass: alsoScore > 0 ? Math.min(1, key.score / alsoScore) : 1,
					cost: key.score * (r.cost + CALL_COST),
				};
			}),
	);
	const alone = rules.map((r) => r.cost + CALL_COST);

	/**
	 * The rules' choices (undefined for a rule that runs on every event) and the cost per event
	 * when the lookups in `chosen` are made.
	 */
	const evaluate = (chosen: Uint8Array): { total: number; picks: (Option | undefined)[] } => {
		const picks = options.map((list, r) => {
			let pick: Option | undefined;
			for (const o of list) {
				if ((pick === undefined || o.cost < pick.cost) && o.resources.every((id) => chosen[id] === 1))
					pick = o;
			}
			// the cheapest key available is taken if it costs less than running the rule unfiltered
			return pick !== undefined && pick.cost < (alone[r] as number) ? pick : undefined;
		});
		const readAnyway = new Set<string>();
		// each lookup made, with the share of events it is made on
		const used = new Map<number, number>();
		let total = 0;
		picks.forEach((pick, r) => {
			if (pick !== undefined) {
				total += pick.cost;
				for (const id of pick.first) used.set(id, 1);
				for (const id of pick.second) used.set(id, Math.min(1, (used.get(id) ?? 0) + pick.pass));
			} else {
				total += alone[r] as number;
				for (const f of (rules[r] as PlannedRule).fields) readAnyway.add(f);
			}
		});
		for (const [id, share] of used) {
			const field = readOf[id];
			total +=
				share *
				(field === undefined
					? (price[id] as number)
					: READ_COST + (readAnyway.has(field) ? 0 : (price[id] as number)));
		}
		return { total, picks };
	};

	const moves = [...new Set(options.flat().map((o) => o.resources.join(",")))].map((s) =>
		s.split(",").map(Number),
	);
	// a search step evaluates every move over every rule: past a budget (thousands of rules of
	// one event type), each rule simply takes its narrowest key that narrows at all
	const work = moves.length * options.reduce((n, list) => n + list.length + 1, 0);
	if (work > MAX_WORK) {
		return options.map(
			(list) => list.reduce<Option | undefined>((a, o) => (a && a.cost <= o.cost ? a : o), undefined)?.key,
		);
	}
	let chosen: Uint8Array = new Uint8Array(price.length);
	let best = evaluate(chosen);
	for (let step = 0; step < MAX_STEPS; step++) {
		let next: { chosen: Uint8Array; total: number; picks: (Option | undefined)[] } | undefined;
		const consider = (candidate: Uint8Array) => {
			const e = evaluate(candidate);
			if (e.total < (next?.total ?? best.total) - 1e-6) next = { chosen: candidate, ...e };
		};
		for (const add of moves) {
			if (add.every((id) => chosen[id] === 1)) continue;
			const candidate = chosen.slice();
			for (const id of add) candidate[id] = 1;
			consider(candidate);
		}
		for (let id = 0; id < chosen.length; id++) {
			if (chosen[id] !== 1) continue;
			const candidate = chosen.slice();
			candidate[id] = 0;
			consider(candidate);
		}
		if (next === undefined) break;
		chosen = next.chosen;
		best = next;
	}
	return best.picks.map((pick) => pick?.key);
};
