/**
 * @module What happens to one batch: the processor chain in manifest order, each a plain loop,
 * then fan-out of alerts, custom events and (for sinks that want them) events to every sink.
 *
 * Each sink has its own bounded buffer and its own fiber that writes with retry and backoff, so
 * a slow or broken sink never holds back the pipeline or the other sinks; what overflows its
 * buffer is counted (`sink.dropped{sink=…}`).
 */
import { Effect, Schedule } from "effect";
import { errorText } from "./errors.ts";
import type { Alert, CustomEvent, Event, SinkItem } from "./model/types.ts";
import type { Counter, Logger, Output, ProcessorInstance, SinkInstance } from "./sdk.ts";
import type { StatsRegistry } from "./stats.ts";
import { Wakeup } from "./wakeup.ts";

/** Run a plugin method that may return a value, a Promise or an Effect. */
export const fromMaybeAsync = <T>(thunk: () => unknown): Effect.Effect<T, unknown> =>
	Effect.suspend(() => {
		let r: unknown;
		try {
			r = thunk();
		} catch (e) {
			return Effect.fail(e);
		}
		if (Effect.isEffect(r)) return r as Effect.Effect<T, unknown>;
		if (r instanceof Promise) return Effect.tryPromise({ try: () => r as Promise<T>, catch: (e) => e });
		return Effect.succeed(r as T);
	});

export interface ProcessorSlot {
	readonly name: string;
	readonly instance: ProcessorInstance;
}

export interface SinkOptions {
	/** Items buffered before new ones are dropped. */
	capacity: number;
	/** Most items handed to one `write`. */
	maxWrite: number;
}

/** What a sink's buffer holds, in arrival order: batches of events or of alerts/custom events. */
type Chunk = { readonly events: readonly Event[] } | { readonly items: readonly SinkItem[] };
const sizeOf = (c: Chunk): number => ("events" in c ? c.events.length : c.items.length);

export class SinkRunner {
	readonly #chunks: Chunk[] = [];
	#count = 0;
	#ended = false;
	readonly #wakeup = new Wakeup();
	readonly #dropped: Counter;
	readonly #written: Counter;
	readonly #failures: Counter;
	/** Whether the sink takes events, and which. */
	readonly takesEvents: boolean;
	readonly wantsEvent: ((e: Event) => boolean) | undefined;

	constructor(
		readonly name: string,
		readonly instance: SinkInstance,
		readonly options: SinkOptions,
		stats: StatsRegistry,
		readonly log: Logger,
	) {
		this.#dropped = stats.counter("sink.dropped", { sink: name });
		this.#written = stats.counter("sink.written", { sink: name });
		this.#failures = stats.counter("sink.write_failures", { sink: name });
		stats.gauge("sink.buffered", () => this.#count, { sink: name });
		this.takesEvents = typeof instance.writeEvents === "function";
		this.wantsEvent = this.takesEvents ? instance.wantsEvent?.bind(instance) : undefined;
	}

	get buffered(): number {
		return this.#count;
	}

	/** Buffer alerts and custom events; what does not fit is dropped and counted. */
	offer(items: readonly SinkItem[]): void {
		const kept = this.#fit(items.length);
		if (kept > 0) this.#push({ items: kept === items.length ? items : items.slice(0, kept) });
	}

	/** Buffer events (already filtered); what does not fit is dropped and counted. */
	offerEvents(events: readonly Event[]): void {
		const kept = this.#fit(events.length);
		if (kept > 0) this.#push({ events: kept === events.length ? events : events.slice(0, kept) });
	}

	#fit(n: number): number {
		if (n === 0) return 0;
		const room = this.#ended ? 0 : Math.max(this.options.capacity - this.#count, 0);
		if (n > room) this.#dropped.inc(n - room);
		return Math.min(n, room);
	}

	#push(chunk: Chunk): void {
		this.#chunks.push(chunk);
		this.#count += sizeOf(chunk);
		this.#wakeup.notify();
	}

	end(): void {
		this.#ended = true;
		this.#wakeup.notify();
	}

	/** The next run of same-kind chunks, merged up to `maxWrite` (a larger chunk goes whole). */
	#take(): Chunk {
		const first = this.#chunks.shift()!;
		let size = sizeOf(first);
		const isEvents = "events" in first;
		const run: Chunk[] = [first];
		while (this.#chunks.length > 0) {
			const next = this.#chunks[0]!;
			const n = sizeOf(next);
			if ("events" in next !== isEvents || size + n > this.options.maxWrite) break;
			run.push(this.#chunks.shift()!);
			size += n;
		}
		this.#count -= size;
		if (run.length === 1) return first;
		return isEvents
			? { events: run.flatMap((c) => (c as { events: readonly Event[] }).events) }
			: { items: run.flatMap((c) => (c as { items: readonly SinkItem[] }).items) };
	}

	readonly #waitForWork = this.#wakeup.wait(() => this.#count > 0 || this.#ended);

	#call(chunk: Chunk): unknown {
		return "events" in chunk ? this.instance.writeEvents!(chunk.events) : this.instance.write(chunk.items);
	}

	#failed(chunk: Chunk, e: unknown): false {
		this.#failures.inc();
		this.log.warn(`write failed, retrying: ${errorText(e)}`, { items: sizeOf(chunk) });
		return false;
	}

	#writeOnce(chunk: Chunk): Effect.Effect<void, unknown> {
		return fromMaybeAsync<void>(() => this.#call(chunk)).pipe(
			Effect.tapError((e) => Effect.sync(() => this.#failed(chunk, e))),
		);
	}

	/** The sink's fiber: write until ended and drained. Retries forever with capped backoff. */
	run(): Effect.Effect<void> {
		const retry = Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("10 seconds")]);
		const self = this;
		return Effect.gen(function* () {
			while (true) {
				if (self.#count === 0) {
					if (self.#ended) return;
					yield* self.#waitForWork;
					continue;
				}
				const chunk = self.#take();
				// fast path: a sink that writes synchronously, or whose Promise resolves, costs no
				// retry machinery; only a failed write enters the retry schedule
				let written = false;
				try {
					const r = self.#call(chunk);
					if (r instanceof Promise)
						written = yield* Effect.promise(() =>
							r.then(
								() => true,
								(e) => self.#failed(chunk, e),
							),
						);
					else if (!Effect.isEffect(r)) written = true;
				} catch (e) {
					self.#failed(chunk, e);
				}
				if (!written) yield* Effect.retry(self.#writeOnce(chunk), retry).pipe(Effect.ignore);
				self.#written.inc(sizeOf(chunk));
			}
		});
	}
}

/** The batch itself when every event is wanted (no copy), else the wanted ones. */
const filterEvents = (batch: Event[], wants: ((e: Event) => boolean) | undefined): readonly Event[] => {
	if (!wants) return batch;
	for (let i = 0; i < batch.length; i++) {
		if (wants(batch[i]!)) continue;
		const out = batch.slice(0, i);
		for (let j = i + 1; j < batch.length; j++) if (wants(batch[j]!)) out.push(batch[j]!);
		return out;
	}
	return batch;
};

/** Runs the processor chain over batches and hands what it raises to the sinks. */
export class Pipeline {
	readonly #alerts: Alert[] = [];
	readonly #custom: CustomEvent[] = [];
	readonly #out: Output = {
		alert: (a) => {
			this.#alerts.push(a);
		},
		custom: (c) => {
			this.#custom.push(c);
		},
	};
	readonly #errors: Counter[];
	readonly #lastErrorLog: number[];
	readonly #batches: Counter;
	readonly #events: Counter;
	readonly #alertCount: Counter;
	readonly #customCount: Counter;
	readonly #eventSinks: readonly SinkRunner[];

	constructor(
		readonly processors: readonly ProcessorSlot[],
		readonly sinks: readonly SinkRunner[],
		stats: StatsRegistry,
		readonly logFor: (name: string) => Logger,
	) {
		this.#errors = processors.map((p) => stats.counter("processor.errors", { processor: p.name }));
		this.#lastErrorLog = processors.map(() => 0);
		this.#batches = stats.counter("pipeline.batches");
		this.#events = stats.counter("pipeline.events");
		this.#alertCount = stats.counter("pipeline.alerts");
		this.#customCount = stats.counter("pipeline.custom_events");
		this.#eventSinks = sinks.filter((s) => s.takesEvents);
	}

	/** Process one batch synchronously. A processor that throws is counted and logged; the rest run. */
	run(batch: Event[]): void {
		this.#batches.inc();
		this.#events.inc(batch.length);
		const procs = this.processors;
		for (let i = 0; i < procs.length; i++) {
			try {
				procs[i]!.instance.process(batch, this.#out);
			} catch (e) {
				this.#errors[i]!.inc();
				const now = Date.now();
				// one line per processor per 10 s of wall time: a broken processor must not flood the log
				if (now - this.#lastErrorLog[i]! > 10_000) {
					this.#lastErrorLog[i] = now;
					this.logFor(procs[i]!.name).error(`process failed on a batch of ${batch.length}: ${errorText(e)}`, {
						stack: e instanceof Error ? e.stack?.split("\n").slice(1, 4).join(" | ") : undefined,
					});
				}
			}
		}
		// events first (sinks that take them), then what the batch raised
		for (const s of this.#eventSinks) s.offerEvents(filterEvents(batch, s.wantsEvent));
		const alerts = this.#alerts.length;
		const custom = this.#custom.length;
		if (alerts + custom > 0) {
			this.#alertCount.inc(alerts);
			this.#customCount.inc(custom);
			const items: SinkItem[] = [...this.#alerts, ...this.#custom];
			this.#alerts.length = 0;
			this.#custom.length = 0;
			for (const s of this.sinks) s.offer(items);
		}
	}

	/** A custom event raised outside a batch (reload reports, self-test, stats). */
	emitCustom(event: CustomEvent): void {
		this.#customCount.inc();
		for (const s of this.sinks) s.offer([event]);
	}

	/** An alert completed outside its batch (an action that finished later). */
	emitAlert(alert: Alert): void {
		this.#alertCount.inc();
		for (const s of this.sinks) s.offer([alert]);
	}
}
