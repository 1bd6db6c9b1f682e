/**
 * @module What happens to one batch: the processor chain in manifest order, each a plain loop,
 * then fan-out of alerts, custom events and (for sinks that want them) events to every sink.
 *
 * Each sink has its own bounded buffer and its own fiber that writes with retry and backoff, so
 * a slow or broken sink never holds back the pipeline or the other sinks; what overflows its
 * buffer is counted (`sink.dropped{sink=…}`).
 */
import { Effect, Schedule } from "effect";
import type { Alert, CustomEvent, Event, SinkItem } from "./model/types.ts";
import type { Counter, Logger, Output, ProcessorInstance, SinkInstance } from "./sdk.ts";
import type { StatsRegistry } from "./stats.ts";

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

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

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

export class SinkRunner {
	readonly #chunks: SinkItem[][] = [];
	#count = 0;
	#ended = false;
	#wake: (() => void) | undefined;
	readonly #dropped: Counter;
	readonly #written: Counter;
	readonly #failures: Counter;
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
		this.wantsEvent = instance.wantsEvent?.bind(instance);
	}

	get buffered(): number {
		return this.#count;
	}

	offer(items: SinkItem[]): void {
		if (items.length === 0) return;
		const room = this.options.capacity - this.#count;
		if (this.#ended || room <= 0) {
			this.#dropped.inc(items.length);
			return;
		}
		if (items.length > room) {
			this.#dropped.inc(items.length - room);
			items = items.slice(0, room);
		}
		this.#chunks.push(items);
		this.#count += items.length;
		const wake = this.#wake;
		this.#wake = undefined;
		wake?.();
	}

	end(): void {
		this.#ended = true;
		const wake = this.#wake;
		this.#wake = undefined;
		wake?.();
	}

	#take(): SinkItem[] {
		if (this.#chunks.length === 1 && this.#chunks[0]!.length <= this.options.maxWrite) {
			const only = this.#chunks.pop()!;
			this.#count = 0;
			return only;
		}
		const out: SinkItem[] = [];
		while (this.#chunks.length > 0 && out.length < this.options.maxWrite) {
			const c = this.#chunks[0]!;
			const take = Math.min(c.length, this.options.maxWrite - out.length);
			for (let i = 0; i < take; i++) out.push(c[i]!);
			if (take === c.length) this.#chunks.shift();
			else this.#chunks[0] = c.slice(take);
		}
		this.#count -= out.length;
		return out;
	}

	readonly #waitForWork = Effect.callback<void>((resume) => {
		if (this.#count > 0 || this.#ended) {
			resume(Effect.void);
			return;
		}
		this.#wake = () => resume(Effect.void);
		return Effect.sync(() => {
			this.#wake = undefined;
		});
	});

	#writeOnce(items: SinkItem[]): Effect.Effect<void, unknown> {
		return fromMaybeAsync<void>(() => this.instance.write(items)).pipe(
			Effect.tapError((e) =>
				Effect.sync(() => {
					this.#failures.inc();
					this.log.warn(`write failed, retrying: ${errorText(e)}`, { items: items.length });
				}),
			),
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
				const items = self.#take();
				yield* Effect.retry(self.#writeOnce(items), retry).pipe(Effect.ignore);
				self.#written.inc(items.length);
			}
		});
	}
}

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
		this.#eventSinks = sinks.filter((s) => s.wantsEvent !== undefined);
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
		const alerts = this.#alerts.length;
		const custom = this.#custom.length;
		this.#alertCount.inc(alerts);
		this.#customCount.inc(custom);
		if (alerts + custom > 0 || this.#eventSinks.length > 0) {
			// per sink, in order: the batch's events it wants, then what the batch raised
			for (const s of this.sinks) {
				const items: SinkItem[] = [];
				const wants = s.wantsEvent;
				if (wants) {
					for (let i = 0; i < batch.length; i++) {
						const ev = batch[i]!;
						if (wants(ev)) items.push({ kind: "event", event: ev });
					}
				}
				for (let i = 0; i < alerts; i++) items.push(this.#alerts[i]!);
				for (let i = 0; i < custom; i++) items.push(this.#custom[i]!);
				s.offer(items);
			}
			this.#alerts.length = 0;
			this.#custom.length = 0;
		}
	}

	/** A custom event raised outside a batch (reload reports, self-test, stats). */
	emitCustom(event: CustomEvent): void {
		this.#customCount.inc();
		for (const s of this.sinks) s.offer([event]);
	}
}
