/**
 * @module Benchmark of the core pipeline: events/s through bus → 3 no-op processors → a
 * counting sink that receives every event, beside a plain JS loop doing the same work on the
 * same events in the same run. Targets: ≥ 5M events/s, ≤ 3× the plain loop.
 */
import { startAgent } from "../core/agent.ts";
import { LogRoot } from "../core/log.ts";
import type { Event, Plugin } from "../core/sdk.ts";
import { arrayProbe, eventsSink, manifestOf } from "../test/helpers.ts";
import { median } from "./stats.ts";

const EVENTS = 2_000_000;
const BATCH = 1024;
const RUNS = 5;

const makeBatches = (): Event[][] => {
	const out: Event[][] = [];
	for (let i = 0; i < EVENTS; i += BATCH) {
		const b: Event[] = [];
		for (let j = i; j < Math.min(i + BATCH, EVENTS); j++) {
			b.push({
				type: "open",
				timestamp: j,
				flags: 0,
				process: { pid: j & 1023 },
				open: { file: { path: "/etc/hosts" }, flags: 0 },
			});
		}
		out.push(b);
	}
	return out;
};

// the per-event work both sides do: three trivial processor steps and a count
let sinkCount = 0;
const step = (e: Event): void => {
	e.flags |= 0;
};

const plainLoop = (batches: Event[][]): number => {
	const t0 = performance.now();
	sinkCount = 0;
	for (const b of batches) {
		for (let i = 0; i < b.length; i++) step(b[i]!);
		for (let i = 0; i < b.length; i++) step(b[i]!);
		for (let i = 0; i < b.length; i++) step(b[i]!);
		for (let i = 0; i < b.length; i++) sinkCount++;
	}
	const ms = performance.now() - t0;
	if (sinkCount !== EVENTS) throw new Error(`plain loop counted ${sinkCount} of ${EVENTS}`);
	return ms;
};

const noop = (name: string): Plugin => ({
	kind: "processor",
	name,
	setup: () => ({
		process(batch) {
			for (let i = 0; i < batch.length; i++) step(batch[i]!);
		},
	}),
});

const throughAgent = async (
	batches: Event[][],
): Promise<{ ms: number; counted: number; dropped: number }> => {
	let counted = 0;
	const probe = arrayProbe(batches, "bench");
	const sink = eventsSink("count", (events) => {
		counted += events.length;
	});
	const agent = startAgent({
		manifest: manifestOf(
			[
				{ plugin: probe },
				{ plugin: noop("a") },
				{ plugin: noop("b") },
				{ plugin: noop("c") },
				{ plugin: sink },
			],
			{
				sinks: { buffer: 65536, max_write: 4096 },
			},
		),
		log: new LogRoot("error"),
	});
	const t0 = performance.now();
	const result = await agent.done;
	const ms = performance.now() - t0;
	return {
		ms,
		counted,
		dropped:
			(result.stats["bus.dropped{probe=bench}"] ?? 0) + (result.stats["sink.dropped{sink=count}"] ?? 0),
	};
};

export async function run(): Promise<Record<string, number>> {
	const batches = makeBatches();
	plainLoop(batches);
	await throughAgent(batches.slice(0, 50));
	const plain: number[] = [];
	const agent: number[] = [];
	let lost = 0;
	for (let r = 0; r < RUNS; r++) {
		plain.push(plainLoop(batches));
		const a = await throughAgent(batches);
		if (a.counted !== EVENTS) throw new Error(`the counting sink saw ${a.counted} of ${EVENTS} events`);
		lost += a.dropped;
		agent.push(a.ms);
	}
	const plainMs = median(plain);
	const agentMs = median(agent);
	const figures = {
		events: EVENTS,
		plain_loop_events_per_s: Math.round(EVENTS / (plainMs / 1000)),
		pipeline_events_per_s: Math.round(EVENTS / (agentMs / 1000)),
		ratio_pipeline_to_plain: Number((agentMs / plainMs).toFixed(2)),
		dropped: lost,
	};
	console.log(
		"bus: bus + 3 no-op processors + counting sink (all events), median of",
		RUNS,
		"alternating runs",
	);
	console.table(figures);
	return figures;
}

if (import.meta.main) await run();
