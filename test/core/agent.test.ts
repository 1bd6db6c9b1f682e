import { describe, expect, test } from "bun:test";
import { Effect } from "effect";
import { startAgent } from "../../core/agent.ts";
import { LogRoot } from "../../core/log.ts";
import type { Alert, Event, Plugin, ProcessorPlugin } from "../../core/sdk.ts";
import { arrayProbe, ev, manifestOf, memorySink } from "../helpers.ts";

const quiet = () => {
	const lines: string[] = [];
	return { log: new LogRoot("debug", (l) => lines.push(l)), lines };
};

const ruleLike = (pred: (e: Event) => boolean): ProcessorPlugin => ({
	kind: "processor",
	name: "match",
	setup: () => ({
		process(batch, out) {
			for (const e of batch) {
				if (pred(e)) out.alert({ kind: "alert", timestamp: e.timestamp, rule: { id: "r" }, event: e });
			}
		},
	}),
});

describe("agent runtime", () => {
	test("runs processors in manifest order on every event and fans alerts out to every sink", async () => {
		const order: string[] = [];
		const tagger = (name: string): Plugin => ({
			kind: "processor",
			name,
			setup: () => ({
				process(batch) {
					for (const e of batch) order.push(`${name}:${e.process.pid}`);
				},
			}),
		});
		const a = memorySink();
		const b = memorySink({ all: true });
		const batch = [ev("open", { process: { pid: 1 } }), ev("open", { process: { pid: 2 } })];
		const agent = startAgent({
			manifest: manifestOf([
				{ plugin: arrayProbe([batch]) },
				{ plugin: tagger("first") },
				{ plugin: tagger("second") },
				{ plugin: ruleLike((e) => e.process.pid === 2) },
				{ plugin: a.plugin, name: "a" },
				{ plugin: b.plugin, name: "b" },
			]),
			log: quiet().log,
		});
		const result = await agent.done;
		expect(result.code).toBe(0);
		expect(order).toEqual(["first:1", "first:2", "second:1", "second:2"]);
		expect(a.items.map((i) => i.kind)).toEqual(["alert"]);
		expect((a.items[0] as Alert).event.process.pid).toBe(2);
		// the all-events sink sees the batch's events, then what the batch raised
		expect(b.items.map((i) => i.kind)).toEqual(["event", "event", "alert"]);
	});

	test("a processor that throws is counted and logged; the others still run", async () => {
		const sink = memorySink();
		const { log, lines } = quiet();
		const agent = startAgent({
			manifest: manifestOf([
				{ plugin: arrayProbe([[ev("open")]]) },
				{
					plugin: {
						kind: "processor",
						name: "broken",
						setup: () => ({
							process: () => {
								throw new Error("boom");
							},
						}),
					},
				},
				{ plugin: ruleLike(() => true) },
				{ plugin: sink.plugin },
			]),
			log,
		});
		const result = await agent.done;
		expect(result.code).toBe(0);
		expect(result.stats["processor.errors{processor=broken}"]).toBe(1);
		expect(sink.items).toHaveLength(1);
		expect(lines.some((l) => l.includes("[broken]") && l.includes("boom"))).toBe(true);
	});

	test("a plugin whose setup throws is named, earlier plugins are closed, nothing starts", async () => {
		let closed = false;
		let ran = false;
		const probe: Plugin = {
			kind: "probe",
			name: "probe",
			setup: () => ({
				run: () => {
					ran = true;
				},
				close: () => {
					closed = true;
				},
			}),
		};
		const agent = startAgent({
			manifest: manifestOf([
				{ plugin: probe },
				{
					plugin: {
						kind: "processor",
						name: "fragile",
						setup: () => {
							throw new Error("no database");
						},
					},
				},
			]),
			log: quiet().log,
		});
		const result = await agent.done;
		expect(result.code).toBe(1);
		expect(result.error?.message).toBe("plugin fragile (plugins[1]) failed to set up: no database");
		expect(closed).toBe(true);
		expect(ran).toBe(false);
	});

	test("stop() aborts a live probe, drains queued events through processors and flushes sinks", async () => {
		const sink = memorySink({ all: true });
		const live: Plugin = {
			kind: "probe",
			name: "live",
			setup: () => ({
				run: (emit, signal) =>
					new Promise<void>((resolve) => {
						emit([ev("exec"), ev("exec")]);
						signal.addEventListener("abort", () => {
							// a last batch right as we stop still goes through
							emit([ev("exit")]);
							resolve();
						});
					}),
			}),
		};
		let flushed = false;
		const flushing: Plugin = {
			kind: "sink",
			name: "flushing",
			setup: () => ({
				write: () => {},
				flush: () => {
					flushed = true;
				},
			}),
		};
		const agent = startAgent({
			manifest: manifestOf([{ plugin: live }, { plugin: sink.plugin }, { plugin: flushing }]),
			log: quiet().log,
		});
		await agent.started;
		await Bun.sleep(20);
		agent.stop("test");
		const result = await agent.done;
		expect(result.code).toBe(0);
		expect(sink.events().map((e) => e.type)).toEqual(["exec", "exec", "exit"]);
		expect(flushed).toBe(true);
	});

	test("a sink that fails is retried with the same items and loses nothing", async () => {
		const sink = memorySink({ fail: 2 });
		const agent = startAgent({
			manifest: manifestOf([
				{ plugin: arrayProbe([[ev("open")]]) },
				{ plugin: ruleLike(() => true) },
				{ plugin: sink.plugin },
			]),
			log: quiet().log,
		});
		const result = await agent.done;
		expect(result.stats["sink.write_failures{sink=memory}"]).toBe(2);
		expect(sink.items).toHaveLength(1);
		expect(result.stats["sink.written{sink=memory}"]).toBe(1);
	});

	test("a slow sink's overflow is counted, not silent, and a fast sink still gets everything", async () => {
		let release: () => void = () => {};
		const gate = new Promise<void>((r) => {
			release = r;
		});
		const slowItems: unknown[] = [];
		const slow: Plugin = {
			kind: "sink",
			name: "slow",
			setup: () => ({
				write: () => {},
				writeEvents: async (events) => {
					await gate;
					slowItems.push(...events);
				},
			}),
		};
		const fast = memorySink({ all: true });
		// a probe that pauses between batches, as a live source does
		const paced: Plugin = {
			kind: "probe",
			name: "paced",
			setup: () => ({
				run: async (emit) => {
					for (let i = 0; i < 6; i++) {
						emit(Array.from({ length: 5 }, () => ev("open")));
						await Bun.sleep(5);
					}
				},
			}),
		};
		setTimeout(() => release(), 200);
		const agent = startAgent({
			manifest: manifestOf([{ plugin: paced }, { plugin: slow }, { plugin: fast.plugin, name: "fast" }], {
				sinks: { buffer: 10 },
			}),
			log: quiet().log,
		});
		const result = await agent.done;
		const dropped = result.stats["sink.dropped{sink=slow}"]!;
		expect(dropped).toBeGreaterThan(0);
		// nothing vanished: every event was either written or counted as dropped
		expect(slowItems.length + dropped).toBe(30);
		expect(fast.items).toHaveLength(30);
		expect(result.stats["sink.dropped{sink=fast}"]).toBe(0);
	});

	test("the Effect surface: make() builds the instance in a scope whose finalizers run on stop", async () => {
		const log: string[] = [];
		const plugin: Plugin = {
			kind: "processor",
			name: "scoped",
			make: () =>
				Effect.acquireRelease(
					Effect.sync(() => {
						log.push("acquire");
						return { process: () => {} };
					}),
					() => Effect.sync(() => log.push("release")),
				),
		};
		const agent = startAgent({
			manifest: manifestOf([{ plugin: arrayProbe([[ev("open")]]) }, { plugin }]),
			log: quiet().log,
		});
		expect((await agent.done).code).toBe(0);
		expect(log).toEqual(["acquire", "release"]);
	});

	test("custom events raised outside batches reach sinks, even from setup", async () => {
		const sink = memorySink();
		const announcer: Plugin = {
			kind: "processor",
			name: "announcer",
			setup: (ctx) => {
				ctx.emitCustom({ kind: "custom", type: "ruleset_loaded", timestamp: 1, data: { n: 1 } });
				return { process: () => {} };
			},
		};
		const agent = startAgent({
			manifest: manifestOf([{ plugin: arrayProbe([]) }, { plugin: announcer }, { plugin: sink.plugin }]),
			log: quiet().log,
		});
		await agent.done;
		expect(sink.items).toEqual([{ kind: "custom", type: "ruleset_loaded", timestamp: 1, data: { n: 1 } }]);
	});

	test("a probe that fails is logged and counted; the agent keeps going and stops cleanly", async () => {
		const { log, lines } = quiet();
		const bad: Plugin = {
			kind: "probe",
			name: "bad",
			setup: () => ({
				run: async () => {
					throw new Error("device gone");
				},
			}),
		};
		const sink = memorySink({ all: true });
		const agent = startAgent({
			manifest: manifestOf([
				{ plugin: bad },
				{ plugin: arrayProbe([[ev("open")]]) },
				{ plugin: sink.plugin },
			]),
			log,
		});
		const result = await agent.done;
		expect(result.code).toBe(0);
		expect(result.stats["probe.failures{probe=bad}"]).toBe(1);
		expect(lines.some((l) => l.includes("device gone"))).toBe(true);
		expect(sink.events()).toHaveLength(1);
	});

	test("on stop, processors flush pending work and what it raises still reaches the sinks", async () => {
		const sink = memorySink();
		const slowAction: Plugin = {
			kind: "processor",
			name: "slow-action",
			setup: (ctx) => {
				const pending: Promise<void>[] = [];
				return {
					process(batch) {
						for (const e of batch) {
							pending.push(
								Bun.sleep(30).then(() =>
									ctx.emitAlert({ kind: "alert", timestamp: e.timestamp, rule: { id: "late" }, event: e }),
								),
							);
						}
					},
					flush: () => Promise.all(pending).then(() => {}),
				};
			},
		};
		const agent = startAgent({
			manifest: manifestOf([
				{ plugin: arrayProbe([[ev("open")]]) },
				{ plugin: slowAction },
				{ plugin: sink.plugin },
			]),
			log: quiet().log,
		});
		const result = await agent.done;
		expect(sink.items.map((i) => (i.kind === "alert" ? i.rule.id : i.kind))).toEqual(["late"]);
		expect(result.stats["pipeline.alerts"]).toBe(1);
	});
});
