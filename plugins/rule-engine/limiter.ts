/**
 * @module Per-rule alert rate limiters (Datadog `events/rate_limiter.go`), in event time so a
 * replay limits exactly as the live run did: a token bucket of 1 per 100 ms with a burst of 40
 * by default; `every: d` allows one alert per `d`; `limiter_token: [fields]` keeps one limiter
 * per distinct value of those fields (at most 500, least recently used evicted).
 */
import { durationNs } from "../../core/duration.ts";
import type { Event } from "../../core/model/types.ts";

/** The defaults of the rule engine's `rate_limit` config, as written in a manifest. */
export const RATE_LIMIT_DEFAULTS = { period: "100ms", burst: 40, max_tokens: 500 } as const;

/** A token bucket refilled by the passing of event time. */
export class TokenBucket {
	#tokens: number;
	#last: number | undefined;

	/** `period` ns per token, at most `burst` tokens. */
	constructor(
		readonly period: number,
		readonly burst: number,
	) {
		this.#tokens = burst;
	}

	/** Take a token at event time `now` (ns); false when none is left. Time never runs backwards here. */
	allow(now: number): boolean {
		if (this.#last === undefined) this.#last = now;
		else if (now > this.#last) {
			this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#last) / this.period);
			this.#last = now;
		}
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;
		return true;
	}
}

export interface LimiterOptions {
	/** Default period between alerts (ns) and burst, for rules without `every`. */
	readonly period: number;
	readonly burst: number;
	/** Most distinct tokens kept per `limiter_token` rule. */
	readonly maxTokens: number;
}

export const DEFAULT_LIMITER: LimiterOptions = {
	period: durationNs(RATE_LIMIT_DEFAULTS.period),
	burst: RATE_LIMIT_DEFAULTS.burst,
	maxTokens: RATE_LIMIT_DEFAULTS.max_tokens,
};

export interface RuleLimiter {
	allow(event: Event): boolean;
}

/** One limiter per distinct token (the `limiter_token` fields' values), LRU-bounded. */
class PerTokenLimiter implements RuleLimiter {
	readonly #buckets = new Map<string, TokenBucket>();

	constructor(
		readonly token: (event: Event) => string,
		readonly make: () => TokenBucket,
		readonly max: number,
	) {}

	allow(event: Event): boolean {
		const key = this.token(event);
		let bucket = this.#buckets.get(key);
		if (bucket) {
			// re-insert: Map order is the recency order
			this.#buckets.delete(key);
		} else {
			bucket = this.make();
			if (this.#buckets.size >= this.max) this.#buckets.delete(this.#buckets.keys().next().value!);
		}
		this.#buckets.set(key, bucket);
		return bucket.allow(event.timestamp);
	}

	get size(): number {
		return this.#buckets.size;
	}
}

/**
 * The limiter of a rule. `every` (ns, 0 = default) and `token` (reads the limiter token of an
 * event; absent without `limiter_token`).
 */
export const ruleLimiter = (
	every: number | undefined,
	token: ((event: Event) => string) | undefined,
	options: LimiterOptions = DEFAULT_LIMITER,
): RuleLimiter => {
	const make = every ? () => new TokenBucket(every, 1) : () => new TokenBucket(options.period, options.burst);
	if (token) return new PerTokenLimiter(token, make, options.maxTokens);
	const bucket = make();
	return { allow: (event) => bucket.allow(event.timestamp) };
};
