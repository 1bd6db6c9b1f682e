/**
 * @module Events from SECL-keyed values: the form Datadog's `policy eval --event-file` reads,
 * `{"type":"open","timestamp":…,"values":{"open.file.path":"/etc/shadow","process.pid":42}}`.
 *
 * Used by the replay probe, `vigil policy eval`, `vigil secl eval` and tests. Every value is
 * written through the field registry's `set`, so the resulting event has the same layout a
 * probe produces. For `exec` and `exit` events, `event.exec`/`event.exit` and `event.process` are
 * one object, as the probes emit them.
 */

import type { FieldRegistryView } from "../sdk.ts";
import type { Event } from "./types.ts";

export class ValuesError extends Error {
	override readonly name = "ValuesError";
	constructor(
		message: string,
		/** Where in the input: `values["open.flags"]`, `type`… */
		readonly at: string,
	) {
		super(`${at}: ${message}`);
	}
}

export interface ValuesInput {
	type: string;
	timestamp?: number | string;
	values?: Record<string, unknown>;
}

/** Nanoseconds since the epoch from a number (ns) or an ISO-8601 string. */
export const parseTimestamp = (ts: number | string | undefined, at = "timestamp"): number | undefined => {
	if (ts === undefined) return undefined;
	if (typeof ts === "number") {
		if (!Number.isFinite(ts) || ts < 0)
			throw new ValuesError(`expected nanoseconds since the epoch, got ${ts}`, at);
		return ts;
	}
	if (typeof ts === "string") {
		const ms = Date.parse(ts);
		if (Number.isNaN(ms)) throw new ValuesError(`"${ts}" is not an ISO-8601 date`, at);
		// keep sub-millisecond digits that Date drops
		const frac = /\.(\d+)/.exec(ts)?.[1] ?? "";
		const subMs = frac.length > 3 ? Number(`0.${frac.slice(3)}`.slice(0, 8)) * 1e6 : 0;
		return ms * 1e6 + Math.round(subMs);
	}
	throw new ValuesError("expected a number (ns) or an ISO-8601 string", at);
};

const typeOk = (type: string, v: unknown): boolean => {
	switch (type) {
		case "string":
		case "ip":
			return typeof v === "string";
		case "int":
			return typeof v === "number" && Number.isFinite(v);
		case "bool":
			return typeof v === "boolean";
	}
	return false;
};

/** Build an event; throws {@link ValuesError} naming the first bad value. */
export const eventFromValues = (
	registry: FieldRegistryView,
	input: ValuesInput,
	defaultTimestamp = 0,
): Event => {
	if (typeof input.type !== "string" || input.type === "")
		throw new ValuesError("expected an event type", "type");
	if (!registry.eventType(input.type)) throw new ValuesError(`unknown event type "${input.type}"`, "type");
	const ev: Event = {
		type: input.type,
		timestamp: parseTimestamp(input.timestamp) ?? defaultTimestamp,
		flags: 0,
		process: {},
	};
	// the process after exec / the exiting process is the event's process: `exec.file.path` and
	// `process.file.path` name one value, as on a live event
	if (ev.type === "exec" || ev.type === "exit") ev[ev.type] = ev.process;
	const values = input.values ?? {};
	if (typeof values !== "object" || values === null || Array.isArray(values)) {
		throw new ValuesError("expected an object of SECL field names to values", "values");
	}
	for (const [name, value] of Object.entries(values)) {
		const at = `values["${name}"]`;
		const field = registry.field(name);
		if (!field) throw new ValuesError(`unknown field "${name}"`, at);
		if (!registry.availableOn(field, input.type)) {
			throw new ValuesError(`field "${name}" is not available on ${input.type} events`, at);
		}
		if (!field.set) throw new ValuesError(`field "${name}" is derived and cannot be set`, at);
		const list = Array.isArray(value) ? value : [value];
		if (!field.array && Array.isArray(value))
			throw new ValuesError(`expected a single ${field.type}, got an array`, at);
		for (const v of list) {
			if (!typeOk(field.type, v))
				throw new ValuesError(
					`expected ${field.array ? "an array of " : ""}${field.type}, got ${JSON.stringify(v)}`,
					at,
				);
		}
		field.set(ev, value);
	}
	return ev;
};
