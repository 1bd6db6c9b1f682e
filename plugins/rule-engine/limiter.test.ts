import { describe, expect, test } from "bun:test";
import type { Event } from "../../core/model/types.ts";
import { DEFAULT_LIMITER, ruleLimiter, TokenBucket } from "./limiter.ts";

const T0 = 1_700_000_000_000_000_000;
const at = (ns: number, comm = "a"): Event => ({
	type: "exec",
	timestamp: T0 + ns,
	flags: 0,
	process: { comm },
});
const allowed = (limiter: { allow(e: Event): boolean }, events: Event[]) =>
	events.filter((e) => limiter.allow(e)).length;

describe("rule rate limiters, in event time", () => {
	test("by default a rule raises a burst of 40, then one per 100 ms of event time", () => {
		const limiter = ruleLimiter(undefined, undefined);
		expect(
			allowed(
				limiter,
				Array.from({ length: 50 }, () => at(0)),
			),
		).toBe(40);
		expect(limiter.allow(at(50e6))).toBe(false);
		expect(limiter.allow(at(100e6))).toBe(true);
		expect(limiter.allow(at(100e6))).toBe(false);
		// a second of quiet refills ten tokens
		expect(
			allowed(
				limiter,
				Array.from({ length: 20 }, () => at(1100e6)),
			),
		).toBe(10);
	});

	test("the wall clock plays no part: the same timestamps give the same answers however fast they come", () => {
		const a = ruleLimiter(undefined, undefined);
		const b = ruleLimiter(undefined, undefined);
		const events = Array.from({ length: 200 }, (_, i) => at(i * 7e6));
		const first = events.map((e) => a.allow(e));
		const second = events.map((e) => b.allow(e));
		expect(second).toEqual(first);
		expect(first.filter(Boolean).length).toBe(40 + Math.floor((199 * 7e6) / 100e6));
	});

	test("every: d allows one alert per d", () => {
		const limiter = ruleLimiter(10e9, undefined);
		expect([at(0), at(1e9), at(9.9e9), at(10e9), at(15e9), at(20e9)].map((e) => limiter.allow(e))).toEqual([
			true,
			false,
			false,
			true,
			false,
			true,
		]);
	});

	test("events going back in time do not refill the bucket", () => {
		const bucket = new TokenBucket(1e9, 1);
		expect(bucket.allow(T0 + 5e9)).toBe(true);
		expect(bucket.allow(T0)).toBe(false);
		expect(bucket.allow(T0 + 5.5e9)).toBe(false);
		expect(bucket.allow(T0 + 6e9)).toBe(true);
	});

	test("limiter_token gives each token its own limiter, at most max_tokens of them", () => {
		const token = (e: Event) => String(e.process.comm);
		const limiter = ruleLimiter(60e9, token, { ...DEFAULT_LIMITER, maxTokens: 2 });
		expect(limiter.allow(at(0, "a"))).toBe(true);
		expect(limiter.allow(at(0, "b"))).toBe(true);
		expect(limiter.allow(at(1e9, "a"))).toBe(false);
		expect(limiter.allow(at(1e9, "b"))).toBe(false);
		// a third token evicts the least recently used one (a), which then starts afresh
		expect(limiter.allow(at(2e9, "c"))).toBe(true);
		expect(limiter.allow(at(3e9, "a"))).toBe(true);
		expect(limiter.allow(at(3e9, "c"))).toBe(false);
	});
});
