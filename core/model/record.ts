/**
 * @module vigil's lossless record format: one JSON object per line, `{"vigil":1,"event":{…}}`,
 * written by the `record` sink and read by the `replay` probe, so any live run can be replayed.
 *
 * The event is written as it is in memory with two reductions that decoding undoes: process
 * ancestors are written flat (without their own `parent`/`ancestors`, which are derivable), and
 * `exec`/`exit` payloads that are the very object of `process` are written once, listed in
 * `aliases`. The `cache` of lazily resolved values is not written.
 */
import type { Event, ProcessContext } from "./types.ts";

export const RECORD_VERSION = 1;

const flatProcess = (p: ProcessContext): Record<string, unknown> => {
	const out: Record<string, unknown> = {};
	for (const k in p) {
		if (k === "parent" || k === "ancestors") continue;
		out[k] = p[k];
	}
	return out;
};

const encodeProcess = (p: ProcessContext): Record<string, unknown> => {
	const out = flatProcess(p);
	const ancestors = p.ancestors;
	if (ancestors && ancestors.length > 0) {
		out.ancestors = ancestors.map(flatProcess);
		if (p.parent && p.parent !== ancestors[0]) out.parent = flatProcess(p.parent);
	} else if (p.parent) {
		out.parent = flatProcess(p.parent);
	}
	return out;
};

/** Values that hold process contexts with ancestry (other than `process`). */
const NESTED_PROCESSES: readonly [string, string][] = [
	["ptrace", "tracee"],
	["signal", "target"],
];

/** The JSON-ready form of an event. */
export const encodeEvent = (ev: Event): Record<string, unknown> => {
	const out: Record<string, unknown> = {};
	const aliases: string[] = [];
	for (const k in ev) {
		if (k === "cache") continue;
		const value = ev[k];
		if (k === "process") out.process = encodeProcess(ev.process);
		else if ((k === "exec" || k === "exit") && value === ev.process) aliases.push(k);
		else out[k] = value;
	}
	for (const [type, key] of NESTED_PROCESSES) {
		const payload = out[type] as Record<string, unknown> | undefined;
		const p = payload?.[key] as ProcessContext | undefined;
		if (p && typeof p === "object") out[type] = { ...payload, [key]: encodeProcess(p) };
	}
	if (aliases.length > 0) out.aliases = aliases;
	return out;
};

/** One line of the record format (without the newline). */
export const encodeRecordLine = (ev: Event): string =>
	JSON.stringify({ vigil: RECORD_VERSION, event: encodeEvent(ev) });

export class RecordError extends Error {
	override readonly name = "RecordError";
}

const restoreProcess = (p: ProcessContext): void => {
	if (!p.parent && p.ancestors && p.ancestors.length > 0) p.parent = p.ancestors[0];
};

/** The event of a decoded record line's `event` object; throws {@link RecordError}. */
export const decodeEvent = (raw: unknown): Event => {
	if (typeof raw !== "object" || raw === null || Array.isArray(raw))
		throw new RecordError("event: expected an object");
	const ev = raw as Record<string, unknown>;
	if (typeof ev.type !== "string" || ev.type === "") throw new RecordError("event.type: expected a string");
	if (typeof ev.timestamp !== "number" || !Number.isFinite(ev.timestamp)) {
		throw new RecordError("event.timestamp: expected nanoseconds since the epoch");
	}
	if (typeof ev.process !== "object" || ev.process === null)
		throw new RecordError("event.process: expected an object");
	if (ev.flags !== undefined && typeof ev.flags !== "number")
		throw new RecordError("event.flags: expected a number");
	ev.flags ??= 0;
	const event = ev as Event;
	restoreProcess(event.process);
	for (const [type, key] of NESTED_PROCESSES) {
		const p = (event[type] as Record<string, ProcessContext> | undefined)?.[key];
		if (p && typeof p === "object") restoreProcess(p);
	}
	const aliases = ev.aliases;
	if (aliases !== undefined) {
		if (!Array.isArray(aliases)) throw new RecordError("event.aliases: expected an array");
		for (const a of aliases) {
			if (a !== "exec" && a !== "exit")
				throw new RecordError(`event.aliases: unknown alias ${JSON.stringify(a)}`);
			event[a] = event.process;
		}
		delete ev.aliases;
	}
	return event;
};
