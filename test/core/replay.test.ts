import { afterAll, describe, expect, test } from "bun:test";
import { startAgent } from "../../core/agent.ts";
import { LogRoot } from "../../core/log.ts";
import { decodeEvent, encodeEvent, encodeRecordLine } from "../../core/model/record.ts";
import type { Event } from "../../core/sdk.ts";
import recordPlugin from "../../plugins/record/index.ts";
import replayPlugin from "../../probes/replay/index.ts";
import { eventsSink, manifestOf, memorySink, tempDir, valuesLine } from "../helpers.ts";

const dir = tempDir("vigil-replay-");
afterAll(() => dir.cleanup());

const replay = async (
	file: string,
	config: Record<string, unknown> = {},
	agent: Record<string, unknown> = {},
) => {
	const sink = memorySink({ all: true });
	const lines: string[] = [];
	const a = startAgent({
		manifest: manifestOf(
			[
				{ plugin: replayPlugin, config: { speed: "max", loop: false, batch_size: 1024, file, ...config } },
				{ plugin: sink.plugin },
			],
			agent,
		),
		log: new LogRoot("debug", (l) => lines.push(l)),
	});
	return { a, sink, lines };
};

describe("replay probe", () => {
	test("replays SECL-values lines with ns and ISO timestamps, then the agent ends by itself", async () => {
		const file = dir.file(
			"values.jsonl",
			[
				valuesLine(
					"open",
					{ "open.file.path": "/etc/shadow", "open.flags": 2, "process.pid": 42 },
					1_700_000_000_000_000_000,
				),
				valuesLine(
					"exec",
					{ "exec.file.path": "/usr/bin/curl", "exec.argv": ["-s", "x"] },
					"2026-01-02T03:04:05.123456789Z",
				),
			].join("\n"),
		);
		const { a, sink } = await replay(file);
		const result = await a.done;
		expect(result.code).toBe(0);
		const [open, exec] = sink.events();
		expect(open!.open).toEqual({ file: { path: "/etc/shadow" }, flags: 2 });
		expect(open!.process.pid).toBe(42);
		expect(open!.timestamp).toBe(1_700_000_000_000_000_000);
		expect(exec!.timestamp).toBe(Date.parse("2026-01-02T03:04:05.123Z") * 1e6 + 456789);
		expect(exec!.exec).toBe(exec!.process);
		expect(exec!.process.argv).toEqual(["-s", "x"]);
	});

	test("malformed lines are reported with their line number, counted and skipped; good lines all arrive", async () => {
		const file = dir.file(
			"bad.jsonl",
			[
				valuesLine("open", { "open.file.path": "/a" }, 1),
				"{not json",
				valuesLine("open", { "open.nope": 1 }, 2),
				"",
				valuesLine("open", { "open.flags": "x" }, 3),
				JSON.stringify({ vigil: 1, event: { type: "open" } }),
				"[1,2]",
				valuesLine("bogus_type", {}, 4),
				valuesLine("open", { "open.file.path": "/b" }, 5),
			].join("\n"),
		);
		const { a, sink, lines } = await replay(file);
		const result = await a.done;
		expect(sink.events().map((e) => (e.open as { file: { path: string } }).file.path)).toEqual(["/a", "/b"]);
		expect(result.stats["replay.malformed"]).toBe(6);
		const warnings = lines.filter((l) => l.includes("malformed line skipped"));
		expect(warnings.map((w) => /bad\.jsonl:(\d+):/.exec(w)?.[1])).toEqual(["2", "3", "5", "6", "7", "8"]);
		expect(warnings[1]).toContain('values["open.nope"]: unknown field "open.nope"');
		expect(warnings[2]).toContain('values["open.flags"]: expected int, got "x"');
		expect(warnings[3]).toContain("event.timestamp: expected nanoseconds");
		expect(warnings[5]).toContain('type: unknown event type "bogus_type"');
	});

	test("loop replays again with timestamps shifted forward so event time keeps increasing", async () => {
		const file = dir.file(
			"loop.jsonl",
			[valuesLine("open", {}, 1_000_000), valuesLine("open", {}, 5_000_000)].join("\n"),
		);
		const sink = memorySink({ all: true });
		const a = startAgent({
			manifest: manifestOf([
				{ plugin: replayPlugin, config: { file, speed: "max", loop: true, batch_size: 1 } },
				{ plugin: sink.plugin },
			]),
			log: new LogRoot("error"),
		});
		await a.started;
		while (sink.events().length < 6) await Bun.sleep(2);
		a.stop();
		await a.done;
		const ts = sink
			.events()
			.map((e) => e.timestamp)
			.slice(0, 6);
		expect(ts).toEqual([1_000_000, 5_000_000, 6_000_000, 10_000_000, 11_000_000, 15_000_000]);
	});

	test("max speed never drops: the replay waits for room in a tiny bus", async () => {
		const file = dir.file(
			"many.jsonl",
			Array.from({ length: 500 }, (_, i) => valuesLine("open", { "process.pid": i }, i)).join("\n"),
		);
		const { a, sink } = await replay(file, { batch_size: 7 }, { queue: { capacity: 16, batch_size: 4 } });
		const result = await a.done;
		expect(sink.events().map((e) => e.process.pid)).toEqual(Array.from({ length: 500 }, (_, i) => i));
		expect(result.stats["bus.dropped{probe=replay}"]).toBe(0);
	});

	test("realtime speed paces events by their timestamps (factor 10: 300 ms of capture in ~30 ms)", async () => {
		const file = dir.file(
			"paced.jsonl",
			[0, 100, 200, 300].map((ms) => valuesLine("open", {}, 1e15 + ms * 1e6)).join("\n"),
		);
		const arrivals: number[] = [];
		const timed = eventsSink("timed", (events) => {
			for (const _ of events) arrivals.push(performance.now());
		});
		const a = startAgent({
			manifest: manifestOf([
				{ plugin: replayPlugin, config: { file, speed: 10, loop: false, batch_size: 1024 } },
				{ plugin: timed },
			]),
			log: new LogRoot("error"),
		});
		await a.done;
		expect(arrivals).toHaveLength(4);
		// paced, not all at once: the last event arrives after the first by at least most of 30 ms
		expect(arrivals[3]! - arrivals[0]!).toBeGreaterThanOrEqual(20);
	});

	test("a missing capture file is a probe error the agent reports and survives", async () => {
		const { a, lines } = await replay(`${dir.path}/nope.jsonl`);
		const result = await a.done;
		expect(result.code).toBe(0);
		expect(result.stats["probe.failures{probe=replay}"]).toBe(1);
		expect(lines.some((l) => l.includes("does not exist"))).toBe(true);
	});
});

describe("record format", () => {
	const sample = (): Event => {
		const grand = { pid: 1, comm: "systemd", file: { path: "/usr/lib/systemd/systemd" } };
		const parent = { pid: 10, comm: "bash", argv: ["-i"], file: { path: "/usr/bin/bash" } };
		const process = {
			pid: 11,
			comm: "cat",
			argv: ["/etc/shadow"],
			parent,
			ancestors: [parent, grand],
			container: { id: "" },
		};
		return {
			type: "exec",
			timestamp: 1_700_000_000_123_456_800,
			flags: 8,
			process,
			exec: process,
			cache: { whatever: 1 },
		};
	};

	test("encodes ancestors flat and exec as an alias, and decodes back to the same event", () => {
		const encoded = encodeEvent(sample());
		expect(encoded.aliases).toEqual(["exec"]);
		expect("exec" in encoded).toBe(false);
		expect("cache" in encoded).toBe(false);
		const proc = encoded.process as Record<string, unknown>;
		expect("parent" in proc).toBe(false);
		expect((proc.ancestors as unknown[]).length).toBe(2);
		const decoded = decodeEvent(JSON.parse(JSON.stringify(encoded)));
		const { cache: _, ...expected } = sample();
		expect(decoded).toEqual(expected);
		expect(decoded.exec).toBe(decoded.process);
		expect(decoded.process.parent).toBe(decoded.process.ancestors![0]);
	});

	test("the record sink writes what the replay probe plays back identically", async () => {
		const capture = dir.file(
			"src.jsonl",
			[
				valuesLine(
					"open",
					{ "open.file.path": "/etc/hosts", "process.ancestors.comm": ["bash", "init"] },
					10,
				),
				valuesLine("exit", { "exit.code": 3, "process.pid": 9 }, 20),
			].join("\n"),
		);
		const out = `${dir.path}/rec/out.jsonl`;
		const first = startAgent({
			manifest: manifestOf([
				{ plugin: replayPlugin, config: { file: capture, speed: "max", loop: false, batch_size: 1024 } },
				{ plugin: recordPlugin, config: { file: out, append: false } },
			]),
			log: new LogRoot("error"),
		});
		expect((await first.done).stats["record.events"]).toBe(2);
		expect((await Bun.file(out).text()).split("\n").filter(Boolean)).toHaveLength(2);
		const { a, sink } = await replay(out);
		await a.done;
		const [open, exit] = sink.events();
		expect(open!.process.ancestors!.map((p) => p.comm)).toEqual(["bash", "init"]);
		expect(open!.process.parent).toBe(open!.process.ancestors![0]);
		expect(exit!.exit).toBe(exit!.process);
		expect(exit!.process).toEqual({ code: 3, pid: 9 });
		expect(encodeRecordLine(exit!)).toBe(
			JSON.stringify({
				vigil: 1,
				event: { type: "exit", timestamp: 20, flags: 0, process: { code: 3, pid: 9 }, aliases: ["exit"] },
			}),
		);
	});
});
