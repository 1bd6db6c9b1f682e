/**
 * @module The event bus: a bounded queue between probes and the processor chain.
 *
 * Probes push whole batches synchronously (`offer`, no Effect per event); the consumer takes
 * batches of at most `batchSize` events, coalescing small ones and splitting large ones. The
 * bound is in events, not batches. What does not fit is dropped at the door and counted per probe
 * (`bus.dropped{probe=…}`), never silently.
 *
 * The consumer never waits for a batch to fill: whatever is queued is handed over at once, so an
 * event waits at most one batch's processing time (well under the 10 ms bound) before processors
 * see it.
 */
import type { Effect } from "effect";
import type { Event } from "./model/types.ts";
import type { Counter, Emit } from "./sdk.ts";
import type { StatsRegistry } from "./stats.ts";
import { Wakeup } from "./wakeup.ts";

export interface BusOptions {
	/** Maximum number of queued events. */
	capacity: number;
	/** Maximum events handed to the processors at once. */
	batchSize: number;
}

export class EventBus {
	readonly #queue: Event[][] = [];
	#head = 0;
	/** Offset of the next event inside the head batch (large batches are taken in slices). */
	#offset = 0;
	#queued = 0;
	#ended = false;
	readonly #wakeup = new Wakeup();
	#roomWaiters: { need: number; resolve: () => void }[] = [];
	readonly #dropped = new Map<string, Counter>();
	readonly #accepted: Counter;
	readonly #stats: StatsRegistry;

	constructor(
		readonly options: BusOptions,
		stats: StatsRegistry,
	) {
		this.#stats = stats;
		this.#accepted = stats.counter("bus.accepted");
		stats.gauge("bus.queued", () => this.#queued);
	}

	get queued(): number {
		return this.#queued;
	}

	get ended(): boolean {
		return this.#ended;
	}

	/** The emit function handed to probe `source`: accepts a prefix of each batch that fits. */
	emitterFor(source: string): Emit {
		let dropped = this.#dropped.get(source);
		if (!dropped) {
			dropped = this.#stats.counter("bus.dropped", { probe: source });
			this.#dropped.set(source, dropped);
		}
		const counter = dropped;
		const emit = (batch: Event[]) => this.#offer(batch, counter);
		return Object.assign(emit, { waitForRoom: (count: number) => this.#waitForRoom(count) });
	}

	#waitForRoom(count: number): Promise<void> {
		const need = Math.min(count, this.options.capacity);
		if (this.#ended || this.options.capacity - this.#queued >= need) return Promise.resolve();
		return new Promise((resolve) => this.#roomWaiters.push({ need, resolve }));
	}

	#notifyRoom(): void {
		if (this.#roomWaiters.length === 0) return;
		const room = this.options.capacity - this.#queued;
		const still: { need: number; resolve: () => void }[] = [];
		for (const w of this.#roomWaiters) {
			if (this.#ended || room >= w.need) w.resolve();
			else still.push(w);
		}
		this.#roomWaiters = still;
	}

	#offer(batch: Event[], dropped: Counter): number {
		const n = batch.length;
		if (n === 0) return 0;
		if (this.#ended) {
			dropped.inc(n);
			return 0;
		}
		const room = this.options.capacity - this.#queued;
		let accepted = n;
		if (room < n) {
			accepted = Math.max(room, 0);
			dropped.inc(n - accepted);
			if (accepted === 0) return 0;
			batch = batch.slice(0, accepted);
		}
		this.#queue.push(batch);
		this.#queued += accepted;
		this.#accepted.inc(accepted);
		this.#wakeup.notify();
		return accepted;
	}

	/**
	 * Up to `batchSize` queued events, or undefined when nothing is queued. A queued batch that
	 * fits is handed over as it is (no copy) or together with the following batches that fit
	 * whole; only a batch larger than `batchSize` is taken in slices.
	 */
	poll(): Event[] | undefined {
		if (this.#queued === 0) return undefined;
		const max = this.options.batchSize;
		const first = this.#queue[this.#head]!;
		const firstLeft = first.length - this.#offset;
		let out: Event[];
		if (this.#offset > 0 || firstLeft > max) {
			const take = Math.min(firstLeft, max);
			out = first.slice(this.#offset, this.#offset + take);
			this.#offset += take;
			this.#queued -= take;
			if (this.#offset === first.length) this.#advance();
		} else {
			this.#advance();
			this.#queued -= first.length;
			out = first;
			let next = this.#queue[this.#head];
			while (next !== undefined && this.#head < this.#queue.length && out.length + next.length <= max) {
				if (out === first) out = first.slice();
				for (let i = 0; i < next.length; i++) out.push(next[i]!);
				this.#queued -= next.length;
				this.#advance();
				next = this.#queue[this.#head];
			}
		}
		this.#notifyRoom();
		return out;
	}

	#advance(): void {
		this.#queue[this.#head] = undefined as unknown as Event[];
		this.#head++;
		this.#offset = 0;
		if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
			this.#queue.splice(0, this.#head);
			this.#head = 0;
		}
	}

	/** No more offers: the consumer drains what is queued and then sees the end. */
	end(): void {
		this.#ended = true;
		this.#notifyRoom();
		this.#wakeup.notify();
	}

	/** Completes when an offer arrives or the bus ends. */
	readonly waitForWork: Effect.Effect<void> = this.#wakeup.wait(() => this.#queued > 0 || this.#ended);
}
