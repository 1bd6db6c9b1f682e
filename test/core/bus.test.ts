import { describe, expect, test } from "bun:test";
import { Effect } from "effect";
import { EventBus } from "../../core/bus.ts";
import type { Event } from "../../core/model/types.ts";
import { StatsRegistry } from "../../core/stats.ts";
import { ev } from "../helpers.ts";

const events = (n: number, type = "open"): Event[] =>
	Array.from({ length: n }, (_, i) => ev(type, { process: { pid: i } }));

describe("event bus", () => {
	test("hands over a whole batch that fits without copying it", () => {
		const bus = new EventBus({ capacity: 100, batchSize: 10 }, new StatsRegistry());
		const batch = events(5);
		bus.emitterFor("p")(batch);
		expect(bus.poll()).toBe(batch);
		expect(bus.poll()).toBeUndefined();
	});

	test("coalesces small batches that fit together, never splitting one to fill, and keeps order", () => {
		const bus = new EventBus({ capacity: 100, batchSize: 5 }, new StatsRegistry());
		const emit = bus.emitterFor("p");
		emit(events(2));
		emit(events(2));
		emit(events(2));
		const first = bus.poll()!;
		const second = bus.poll()!;
		expect(first.length).toBe(4);
		expect(second.length).toBe(2);
		expect([...first, ...second].map((e) => e.process.pid)).toEqual([0, 1, 0, 1, 0, 1]);
		expect(bus.poll()).toBeUndefined();
	});

	test("splits a batch larger than the batch size", () => {
		const bus = new EventBus({ capacity: 100, batchSize: 4 }, new StatsRegistry());
		bus.emitterFor("p")(events(10));
		const sizes: number[] = [];
		for (let b = bus.poll(); b; b = bus.poll()) sizes.push(b.length);
		expect(sizes).toEqual([4, 4, 2]);
		expect(bus.queued).toBe(0);
	});

	test("drops what exceeds capacity, counted per probe, and accepts the prefix that fits", () => {
		const stats = new StatsRegistry();
		const bus = new EventBus({ capacity: 10, batchSize: 1024 }, stats);
		expect(bus.emitterFor("a")(events(8))).toBe(8);
		expect(bus.emitterFor("b")(events(5))).toBe(2);
		expect(bus.emitterFor("b")(events(3))).toBe(0);
		expect(stats.get("bus.dropped{probe=b}")).toBe(6);
		expect(stats.get("bus.dropped{probe=a}")).toBe(0);
		expect(stats.get("bus.accepted")).toBe(10);
		expect(bus.poll()!.length).toBe(10);
	});

	test("a waiting producer resumes once the consumer makes room", async () => {
		const bus = new EventBus({ capacity: 4, batchSize: 2 }, new StatsRegistry());
		const emit = bus.emitterFor("p");
		emit(events(4));
		let resumed = false;
		const waiting = emit.waitForRoom(3).then(() => {
			resumed = true;
		});
		await Promise.resolve();
		expect(resumed).toBe(false);
		bus.poll();
		await Promise.resolve();
		expect(resumed).toBe(false);
		bus.poll();
		await waiting;
		expect(resumed).toBe(true);
	});

	test("after end, offers are dropped and the consumer's wait completes", async () => {
		const stats = new StatsRegistry();
		const bus = new EventBus({ capacity: 10, batchSize: 10 }, stats);
		const waiting = Effect.runPromise(bus.waitForWork);
		bus.end();
		await waiting;
		expect(bus.emitterFor("late")(events(2))).toBe(0);
		expect(stats.get("bus.dropped{probe=late}")).toBe(2);
	});
});
