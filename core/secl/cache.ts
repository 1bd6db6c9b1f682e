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

/** The value of slot `s` for `e`: cached during a rule set evaluation of `e`. */
export const readSlot = (s: number, get: (e: Event) => unknown, e: Event): unknown => {
	const c = eventCache;
	if (c.event !== e) return get(e);
	if (c.tags[s] === c.generation) return c.values[s];
	const v = get(e);
	c.tags[s] = c.generation;
	c.values[s] = v;
	return v;
};

/** A fresh generation for the next event a rule set evaluates. */
export const nextGeneration = (): number => ++generations;
