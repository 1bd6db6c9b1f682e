/**
 * @module The `record` sink: writes every event in vigil's lossless record format (JSONL), so a
 * live run can be replayed later with the `replay` probe (`vigil replay FILE`).
 */
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import * as v from "valibot";
import { encodeRecordLine } from "../../core/model/record.ts";
import type { Event, SinkPlugin } from "../../core/sdk.ts";

const Config = v.strictObject({
	/** Output file; relative to the manifest's folder. */
	file: v.pipe(v.string(), v.minLength(1)),
	/** Only these event types (default: all). */
	types: v.optional(v.array(v.string())),
	/** Append to an existing file instead of replacing it. */
	append: v.optional(v.boolean(), false),
});
type Config = v.InferOutput<typeof Config>;

const plugin: SinkPlugin<Config> = {
	kind: "sink",
	name: "record",
	description: "Records every event to a JSONL file that the replay probe can play back",
	config: Config,
	async setup(ctx, config) {
		const file = isAbsolute(config.file) ? config.file : resolve(ctx.agent.baseDir, config.file);
		mkdirSync(dirname(file), { recursive: true });
		if (!config.append) await Bun.write(file, "");
		const writer = Bun.file(file).writer();
		const types = config.types ? new Set(config.types) : undefined;
		const written = ctx.stats.counter("record.events");
		return {
			...(types ? { wantsEvent: (e: Event) => types.has(e.type) } : {}),
			// alerts and custom events are not part of a recording
			write: () => {},
			async writeEvents(events: readonly Event[]) {
				let text = "";
				for (const e of events) text += `${encodeRecordLine(e)}\n`;
				writer.write(text);
				await writer.flush();
				written.inc(events.length);
			},
			async close() {
				await writer.end();
			},
		};
	},
};

export default plugin;
