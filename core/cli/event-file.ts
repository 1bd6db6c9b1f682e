/**
 * @module The event file of `vigil policy eval` and `vigil secl eval`:
 * `{"type":"open","timestamp":…,"values":{"open.file.path":"/etc/shadow",…}}`, the form of
 * Datadog's `policy eval --event-file`. `timestamp` (nanoseconds or ISO-8601) defaults to now.
 *
 * When to use: a command that takes one event from a file; `eventFromValues` builds events from
 * values already in memory. `valuesRead` / `valuesReadLines` show what an evaluation read.
 */
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { parseDocument } from "yaml";
import type { Event } from "../model/types.ts";
import { eventFromValues, ValuesError } from "../model/values.ts";
import type { FieldRegistryView } from "../sdk.ts";

export class EventFileError extends Error {
	override readonly name = "EventFileError";
}

const EventFile = v.object({
	type: v.string("expected the event type as a string"),
	timestamp: v.optional(v.union([v.number(), v.string()], "expected nanoseconds or an ISO-8601 date")),
	values: v.optional(v.record(v.string(), v.unknown()), {}),
});

/**
 * The event of the file at `path`, its fields checked against `registry`. Throws
 * {@link EventFileError} naming the file and, for JSON syntax, the line and column.
 */
export const readEventFile = (path: string, registry: FieldRegistryView): Event => {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch (e) {
		throw new EventFileError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (e) {
		const pos = parseDocument(text).errors[0]?.linePos?.[0];
		throw new EventFileError(
			`${path}${pos ? `:${pos.line}:${pos.col}` : ""}: invalid JSON: ${(e as Error).message}`,
		);
	}
	const parsed = v.safeParse(EventFile, data);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const at = v.getDotPath(issue);
		throw new EventFileError(`${path}: ${at ? `${at}: ` : ""}${issue.message}`);
	}
	try {
		return eventFromValues(registry, parsed.output, Date.now() * 1e6);
	} catch (e) {
		if (e instanceof ValuesError) throw new EventFileError(`${path}: ${e.message}`);
		throw e;
	}
};

/** The value of each of `fields` (those an expression reads) that events of `event`'s type have. */
export const valuesRead = (
	registry: FieldRegistryView,
	fields: readonly string[],
	event: Event,
): Record<string, unknown> => {
	const read: Record<string, unknown> = {};
	for (const name of fields) {
		const field = registry.field(name);
		if (field && registry.availableOn(field, event.type)) read[name] = field.get(event);
	}
	return read;
};

/** `values read:` then one `  name = <JSON value>` line per value read. */
export const valuesReadLines = (read: Record<string, unknown>): string[] => {
	const lines = ["values read:"];
	for (const [name, value] of Object.entries(read))
		lines.push(`  ${name} = ${JSON.stringify(value) ?? "undefined"}`);
	return lines;
};
