/**
 * @module Agent statistics: counters bumped on hot paths as plain numbers, and gauges read when
 * the stats are taken. Every drop in the pipeline is a counter here, so losses are never silent.
 *
 * When to use: through `ctx.stats` in plugins; `StatsRegistry.snapshot()` for `agent_stats`
 * custom events, the shutdown summary and tests.
 */
import type { Counter, Stats } from "./sdk.ts";

const keyOf = (name: string, tags?: Record<string, string>): string => {
	if (!tags) return name;
	const entries = Object.entries(tags);
	if (entries.length === 0) return name;
	entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return `${name}{${entries.map(([k, v]) => `${k}=${v}`).join(",")}}`;
};

class PlainCounter implements Counter {
	value = 0;
	inc(by = 1): void {
		this.value += by;
	}
}

export class StatsRegistry implements Stats {
	readonly #counters = new Map<string, PlainCounter>();
	readonly #gauges = new Map<string, () => number>();

	counter(name: string, tags?: Record<string, string>): Counter {
		const key = keyOf(name, tags);
		let c = this.#counters.get(key);
		if (!c) {
			c = new PlainCounter();
			this.#counters.set(key, c);
		}
		return c;
	}

	gauge(name: string, read: () => number, tags?: Record<string, string>): void {
		this.#gauges.set(keyOf(name, tags), read);
	}

	/** Current value of one counter or gauge by its full key (`bus.dropped{probe=replay}`). */
	get(key: string): number | undefined {
		const c = this.#counters.get(key);
		if (c) return c.value;
		const g = this.#gauges.get(key);
		return g ? g() : undefined;
	}

	/** Every counter and gauge, keys sorted. A gauge that throws reads as NaN. */
	snapshot(): Record<string, number> {
		const out: Record<string, number> = {};
		for (const [k, c] of this.#counters) out[k] = c.value;
		for (const [k, g] of this.#gauges) {
			try {
				out[k] = g();
			} catch {
				out[k] = Number.NaN;
			}
		}
		return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
	}
}
