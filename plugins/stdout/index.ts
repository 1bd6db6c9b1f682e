/**
 * @module The `stdout` sink: JSON lines on standard output.
 *
 * Alerts and custom events always; with `events: all`, every event too (the tracing view when
 * trying vigil out), optionally only some event `types`. Each line has a `kind` (`alert`,
 * `custom`, `event`) and an ISO `date` of its event time beside the raw nanosecond timestamp.
 */
import * as v from "valibot";
import { encodeEvent } from "../../core/model/record.ts";
import type { Event, SinkInstance, SinkItem, SinkPlugin } from "../../core/sdk.ts";

const Config = v.strictObject({
	events: v.optional(v.picklist(["alerts", "all"]), "alerts"),
	/** With `events: all`, only these event types (default: every type). */
	types: v.optional(v.array(v.string())),
	/** Indent JSON (one object spans several lines). */
	pretty: v.optional(v.boolean(), false),
});
type Config = v.InferOutput<typeof Config>;

const isoDate = (ns: number): string => {
	const d = new Date(ns / 1e6);
	return Number.isNaN(d.getTime()) ? "" : d.toISOString();
};

/** The JSON form of an event line. */
const eventJson = (event: Event): Record<string, unknown> => ({
	kind: "event",
	date: isoDate(event.timestamp),
	event: encodeEvent(event),
});

/** The JSON form of one alert or custom event. */
const itemJson = (item: SinkItem): Record<string, unknown> => {
	switch (item.kind) {
		case "alert":
			return {
				kind: "alert",
				date: isoDate(item.timestamp),
				rule: item.rule,
				event: encodeEvent(item.event),
				...(item.actions ? { actions: item.actions } : {}),
				...(item.context ? { context: item.context } : {}),
			};
		case "custom":
			return {
				kind: "custom",
				type: item.type,
				date: isoDate(item.timestamp),
				timestamp: item.timestamp,
				data: item.data,
				...(item.tags ? { tags: item.tags } : {}),
			};
	}
};

interface LineWriter {
	write(text: string): Promise<void> | void;
}

const stdoutWriter: LineWriter = {
	write: (text) =>
		new Promise<void>((resolve, reject) => {
			process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
		}),
};

/** Build the sink over a writer (standard output unless another is given). */
const makeStdoutSink = (config: Config, out: LineWriter = stdoutWriter): SinkInstance => {
	const types = config.types ? new Set(config.types) : undefined;
	const indent = config.pretty ? 2 : undefined;
	/** One write for the whole batch, a line per item. */
	const writeLines = <T>(items: readonly T[], json: (item: T) => Record<string, unknown>) => {
		let text = "";
		for (const item of items) text += `${JSON.stringify(json(item), null, indent)}\n`;
		return out.write(text);
	};
	const sink: SinkInstance = { write: (items) => writeLines(items, itemJson) };
	if (config.events === "all") {
		sink.writeEvents = (events) => writeLines(events, eventJson);
		if (types) sink.wantsEvent = (e) => types.has(e.type);
	}
	return sink;
};

const plugin: SinkPlugin<Config> = {
	kind: "sink",
	name: "stdout",
	description: "JSON lines on standard output: alerts, custom events and optionally every event",
	config: Config,
	setup: (_ctx, config) => makeStdoutSink(config),
};

export default plugin;
