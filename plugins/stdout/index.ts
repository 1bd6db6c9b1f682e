/**
 * @module The `stdout` sink: JSON lines on standard output.
 *
 * Alerts and custom events always; with `events: all`, every event too (the tracing view when
 * trying vigil out), optionally only some event `types`. Each line has a `kind` (`alert`,
 * `custom`, `event`) and an ISO `date` of its event time beside the raw nanosecond timestamp.
 */
import * as v from "valibot";
import { encodeEvent } from "../../core/model/record.ts";
import type { Event, SinkItem, SinkPlugin } from "../../core/sdk.ts";

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

/** The JSON form of one sink item, shared with other line-oriented sinks. */
export const itemJson = (item: SinkItem): Record<string, unknown> => {
	switch (item.kind) {
		case "event":
			return { kind: "event", date: isoDate(item.event.timestamp), event: encodeEvent(item.event) };
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

export interface LineWriter {
	write(text: string): Promise<void> | void;
}

const stdoutWriter: LineWriter = {
	write: (text) =>
		new Promise<void>((resolve, reject) => {
			process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
		}),
};

/** Build the sink over any writer (tests pass their own). */
export const makeStdoutSink = (config: Config, out: LineWriter = stdoutWriter) => {
	const types = config.types ? new Set(config.types) : undefined;
	return {
		...(config.events === "all"
			? { wantsEvent: (e: Event) => types === undefined || types.has(e.type) }
			: {}),
		write: (items: readonly SinkItem[]) => {
			let text = "";
			for (const item of items)
				text += `${JSON.stringify(itemJson(item), null, config.pretty ? 2 : undefined)}\n`;
			return out.write(text);
		},
	};
};

const plugin: SinkPlugin<Config> = {
	kind: "sink",
	name: "stdout",
	description: "JSON lines on standard output: alerts, custom events and optionally every event",
	config: Config,
	setup: (_ctx, config) => makeStdoutSink(config),
};

export default plugin;
