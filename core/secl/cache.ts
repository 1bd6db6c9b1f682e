/**
 * @module Field values read once per event across all the rules of a rule set. Many rules read
 * the same fields (`exec.file.name`, `process.ancestors.file.path`, derived `exec.args_flags`…);
 * while a {@link RuleSet} evaluates an event, generated rules keep each value in a slot of this
 * cache, tagged with the event's generation. Outside a rule set evaluation (a rule evaluated on
 * its own) the generation is NaN, which never matches, so every read goes to the event.
 *
 * Slots are numbered per accessor function, so one field has one slot whatever rule reads it.
 */
import type { Event } from "../model/types.ts";

export const eventCache = {
	/** The event being evaluated by a rule set, if any. */
	event: undefined as Event | undefined,
	/** Its generation: unique per evaluation. */
	generation: Number.NaN,
	/** Per slot: the generation its value was read at. */
	tags: [] as number[],
	/** Per slot: the value. */
	values: [] as unknown[],
};

const slots = new Map<unknown, number>();
let generations = 0;

/** The slot of an accessor (allocated on first use, at compile time). */
export const slotOf = (get: (e: Event) => unknown): number => {
	let s = slots.get(get);
	if (s === undefined) {
		s = eventCache.tags.length;
		slots.set(get, s);
		eventCache.tags.push(Number.NaN);
		eventCache.values.push(undefined);
	}
	return s;
};

/**
 * Generated code reading field `get` (the name of its accessor in the generated function)
 * through slot `s`: the cached value when tagged with the current generation, else read and
 * cached. Expects `t` (the tags), `w` (the values), `n` (the generation) and `e` (the event).
 */
export const cachedRead = (s: number, get: string): string =>
	`(t[${s}] === n ? w[${s}] : (t[${s}] = n, w[${s}] = ${get}(e)))`;

/** A fresh generation for the next event a rule set evaluates. */
export const nextGeneration = (): number => ++generations;
