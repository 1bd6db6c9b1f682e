/**
 * @module The `replay` probe: events from a JSONL capture, so rules, profiles and sinks can be
 * exercised without a kernel and a run can be reproduced exactly.
 *
 * Each line is either Datadog's `policy eval --event-file` form keyed by SECL field names —
 * `{"type":"open","timestamp":<ns or ISO-8601>,"values":{"open.file.path":"/etc/shadow"}}` — or
 * vigil's lossless record format written by the `record` sink (`{"vigil":1,"event":{…}}`). A
 * malformed line is reported with its line number, counted (`replay.malformed`) and skipped.
 *
 * Speed `max` emits as fast as the bus takes events (waiting for room, never dropping);
 * `realtime` (or a factor, `2` = twice as fast) paces events by their timestamps. `loop` starts
 * over at the end with timestamps shifted forward, so event time keeps increasing. Without
 * `loop`, the probe ends at the end of the file, and the agent drains and exits.
 *
 * A line without a timestamp takes the previous line's (the first such line takes the wall
 * clock at start): give timestamps for deterministic replays.
 */
import { isAbsolute, resolve } from "node:path";
import * as v from "valibot";
import { errorText } from "../../core/errors.ts";
import { readLines } from "../../core/lines.ts";
import { decodeEvent } from "../../core/model/record.ts";
import { eventFromValues } from "../../core/model/values.ts";
import type { Emit, Event, FieldRegistryView, ProbePlugin } from "../../core/sdk.ts";

const Config = v.strictObject({
	/** Capture file (JSONL); relative to the manifest's folder. */
	file: v.pipe(v.string(), v.minLength(1)),
	speed: v.optional(
		v.union([v.picklist(["max", "realtime"]), v.pipe(v.number(), v.gtValue(0, "expected a factor > 0"))]),
		"max",
	),
	loop: v.optional(v.boolean(), false),
	/** Events per emitted batch. */
	batch_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1024),
});
type Config = v.InferOutput<typeof Config>;

/** Malformed lines logged one by one before switching to a summary every 1000. */
const LOG_EACH = 10;

const sleep = (ms: number, signal: AbortSignal) =>
	new Promise<void>((done) => {
		if (signal.aborted) return done();
		const t = setTimeout(done, ms);
		signal.addEventListener(
			"abort",
			() => {
				clearTimeout(t);
				done();
			},
			{ once: true },
		);
	});

/** One line to one event; throws a message for malformed lines. */
const parseLine = (text: string, registry: FieldRegistryView, lastTs: number): Event => {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (e) {
		throw new Error(`not JSON: ${errorText(e)}`);
	}
	if (typeof raw !== "object" || raw === null || Array.isArray(raw))
		throw new Error("expected a JSON object");
	const obj = raw as Record<string, unknown>;
	if ("vigil" in obj) {
		if (obj.vigil !== 1) throw new Error(`unsupported record version ${JSON.stringify(obj.vigil)}`);
		const ev = decodeEvent(obj.event);
		if (!registry.eventType(ev.type)) throw new Error(`event.type: unknown event type "${ev.type}"`);
		return ev;
	}
	if ("type" in obj)
		return eventFromValues(registry, obj as { type: string; values?: Record<string, unknown> }, lastTs);
	throw new Error('expected {"type":…,"values":{…}} or a vigil record {"vigil":1,"event":{…}}');
};

const plugin: ProbePlugin<Config> = {
	kind: "probe",
	name: "replay",
	description: "Replays a JSONL capture (SECL values or vigil records)",
	config: Config,
	setup(ctx, config) {
		const file = isAbsolute(config.file) ? config.file : resolve(ctx.agent.baseDir, config.file);
		const malformed = ctx.stats.counter("replay.malformed");
		const emitted = ctx.stats.counter("replay.events");
		return {
			async run(emit: Emit, signal: AbortSignal) {
				if (!(await Bun.file(file).exists())) throw new Error(`capture ${file} does not exist`);
				const factor = config.speed === "max" ? 0 : config.speed === "realtime" ? 1 : config.speed;
				let shift = 0;
				let lastTs = Date.now() * 1e6;
				let paceStart = 0;
				let paceTs = 0;
				let batch: Event[] = [];
				const flush = async () => {
					if (batch.length === 0) return;
					await emit.waitForRoom(batch.length);
					emitted.inc(emit(batch));
					batch = [];
				};
				for (;;) {
					let lines = 0;
					let loopFirst: number | undefined;
					for await (const [text, number] of readLines(file)) {
						if (signal.aborted) break;
						if (text.trim() === "") continue;
						let ev: Event;
						try {
							ev = parseLine(text, ctx.registry, lastTs - shift);
						} catch (e) {
							malformed.inc();
							const n = malformed.value;
							const why = errorText(e);
							if (n <= LOG_EACH) ctx.log.warn(`${file}:${number}: malformed line skipped: ${why}`);
							else if (n % 1000 === 0)
								ctx.log.warn(`${n} malformed lines skipped so far (latest ${file}:${number}: ${why})`);
							continue;
						}
						lines++;
						ev.timestamp += shift;
						loopFirst ??= ev.timestamp;
						lastTs = ev.timestamp;
						if (factor > 0) {
							if (paceStart === 0) {
								paceStart = performance.now();
								paceTs = ev.timestamp;
							}
							const due = paceStart + (ev.timestamp - paceTs) / 1e6 / factor;
							const wait = due - performance.now();
							if (wait > 1) {
								await flush();
								await sleep(wait, signal);
							}
						}
						batch.push(ev);
						if (batch.length >= config.batch_size) await flush();
					}
					await flush();
					if (!config.loop || signal.aborted || lines === 0) break;
					// next pass: shift so the file's first event follows the last one
					shift += lastTs - (loopFirst ?? lastTs) + 1e6;
				}
				if (malformed.value > LOG_EACH) ctx.log.warn(`${malformed.value} malformed lines skipped in ${file}`);
			},
		};
	},
};

export default plugin;
