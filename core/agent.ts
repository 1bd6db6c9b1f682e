/**
 * @module The agent runtime: sets up the manifest's plugins, runs probes → bus → processors →
 * sinks, and shuts down cleanly.
 *
 * Lifecycle (Effect for structure, never per event):
 * 1. every plugin is set up in manifest order inside one scope; if any setup fails, the ones
 *    already set up are closed and the agent reports which plugin failed — nothing starts half-way;
 * 2. sinks start (one fiber each), then processors' `start`, then the consumer, then probes;
 * 3. the agent stops when every probe has ended (a finite replay) or on `stop()`
 *    (SIGINT/SIGTERM from the CLI): probes are aborted, the queue is drained through the
 *    processors, sinks flush within `shutdown_timeout` (what they still hold is counted lost),
 *    and plugins close in reverse order.
 */
import { hostname as osHostname } from "node:os";
import { Effect, Exit, Fiber } from "effect";
import { EventBus } from "./bus.ts";
import { parseDurationNs } from "./duration.ts";
import { errorText } from "./errors.ts";
import { LogRoot } from "./log.ts";
import { buildRegistry, type LoadedPlugin, type Manifest, producedEventTypes } from "./manifest.ts";
import type { FieldRegistry } from "./model/registry.ts";
import type { Alert, CustomEvent } from "./model/types.ts";
import { fromMaybeAsync, Pipeline, type ProcessorSlot, SinkRunner } from "./pipeline.ts";
import type { AgentInfo, PluginContext, ProbeInstance, ProcessorInstance, SinkInstance } from "./sdk.ts";
import { ServiceRegistry } from "./services.ts";
import { StatsRegistry } from "./stats.ts";
import { DATADOG_AGENT_VERSION, VIGIL_VERSION } from "./version.ts";

export class PluginSetupError extends Error {
	override readonly name = "PluginSetupError";
	constructor(
		readonly plugin: string,
		readonly index: number,
		cause: unknown,
	) {
		super(`plugin ${plugin} (plugins[${index}]) failed to set up: ${errorText(cause)}`);
	}
}

export interface AgentOptions {
	readonly manifest: Manifest;
	readonly log?: LogRoot;
	readonly stats?: StatsRegistry;
	readonly registry?: FieldRegistry;
}

export interface AgentResult {
	/** 0 clean stop, 1 a plugin failed to set up. */
	readonly code: number;
	readonly error?: Error;
	readonly stats: Record<string, number>;
}

export interface Agent {
	readonly stats: StatsRegistry;
	readonly registry: FieldRegistry;
	/** Ask the agent to stop: probes abort, queued events drain, sinks flush. */
	stop(reason?: string): void;
	/** Resolves once the agent has fully stopped. */
	readonly done: Promise<AgentResult>;
	/** Resolves once every plugin is set up and probes are running. */
	readonly started: Promise<void>;
}

/** Start an agent for a loaded manifest. */
export const startAgent = (options: AgentOptions): Agent => {
	const { manifest } = options;
	const logRoot = options.log ?? new LogRoot(manifest.agent.log_level);
	const log = logRoot.for("agent");
	const stats = options.stats ?? new StatsRegistry();
	const registry = options.registry ?? buildRegistry(manifest);
	const services = new ServiceRegistry();
	const controller = new AbortController();
	const info: AgentInfo = {
		hostname: manifest.agent.hostname ?? osHostname(),
		version: VIGIL_VERSION,
		datadogAgentVersion: manifest.agent.datadog_agent_version ?? DATADOG_AGENT_VERSION,
		os: process.platform,
		arch: process.arch,
		pid: process.pid,
		baseDir: manifest.baseDir,
	};
	let produced: ReadonlySet<string> | undefined;
	let pipeline: Pipeline | undefined;
	// what plugins raise before the pipeline exists (during setup) waits here
	const early: (CustomEvent | Alert)[] = [];

	let requestStop: (reason: string) => void = () => {};
	const stopRequested = new Promise<string>((resolve) => {
		requestStop = resolve;
	});
	let markStarted: () => void = () => {};
	const started = new Promise<void>((resolve) => {
		markStarted = resolve;
	});

	const contextFor = (p: LoadedPlugin): PluginContext => ({
		name: p.name,
		log: logRoot.for(p.name),
		stats,
		registry,
		services: services.for(p.name),
		agent: info,
		emitCustom: (event) => {
			if (pipeline) pipeline.emitCustom(event);
			else early.push(event);
		},
		emitAlert: (alert) => {
			if (pipeline) pipeline.emitAlert(alert);
			else early.push(alert);
		},
		producedEventTypes: () => {
			produced ??= producedEventTypes(manifest, registry);
			return produced;
		},
		signal: controller.signal,
	});

	const setupOne = (p: LoadedPlugin) => {
		const ctx = contextFor(p);
		const plugin = p.plugin;
		type Instance = ProbeInstance | ProcessorInstance | SinkInstance;
		const build: Effect.Effect<Instance, unknown, import("effect").Scope.Scope> = plugin.make
			? (
					plugin.make as (
						c: PluginContext,
						cfg: unknown,
					) => Effect.Effect<Instance, unknown, import("effect").Scope.Scope>
				)(ctx, p.config)
			: fromMaybeAsync<Instance>(() =>
					(plugin.setup as (c: PluginContext, cfg: unknown) => unknown)(ctx, p.config),
				);
		return Effect.acquireRelease(build, (instance) =>
			fromMaybeAsync<void>(() => instance.close?.()).pipe(
				Effect.catch((e) => Effect.sync(() => ctx.log.warn(`close failed: ${errorText(e)}`))),
			),
		).pipe(
			Effect.mapError((e) => new PluginSetupError(p.name, p.index, e)),
			Effect.map((instance) => ({ p, instance })),
		);
	};

	const shutdownMs = (parseDurationNs(manifest.agent.shutdown_timeout) ?? 5e9) / 1e6;
	const statsMs = (parseDurationNs(manifest.agent.stats_interval) ?? 0) / 1e6;

	const program = Effect.gen(function* () {
		const built: { p: LoadedPlugin; instance: ProbeInstance | ProcessorInstance | SinkInstance }[] = [];
		for (const p of manifest.plugins) built.push(yield* setupOne(p));

		const bus = new EventBus(
			{ capacity: manifest.agent.queue.capacity, batchSize: manifest.agent.queue.batch_size },
			stats,
		);
		const sinks = built
			.filter((b) => b.p.plugin.kind === "sink")
			.map(
				(b) =>
					new SinkRunner(
						b.p.name,
						b.instance as SinkInstance,
						{ capacity: manifest.agent.sinks.buffer, maxWrite: manifest.agent.sinks.max_write },
						stats,
						logRoot.for(b.p.name),
					),
			);
		const processors: ProcessorSlot[] = built
			.filter((b) => b.p.plugin.kind === "processor")
			.map((b) => ({ name: b.p.name, instance: b.instance as ProcessorInstance }));
		const pipe = new Pipeline(processors, sinks, stats, (n) => logRoot.for(n));
		pipeline = pipe;
		for (const e of early.splice(0)) {
			if (e.kind === "alert") pipe.emitAlert(e);
			else pipe.emitCustom(e);
		}

		const sinkFibers = [];
		for (const s of sinks) sinkFibers.push(yield* Effect.forkChild(s.run()));

		for (const proc of processors) {
			if (proc.instance.start) {
				yield* fromMaybeAsync<void>(() => proc.instance.start?.()).pipe(
					Effect.mapError(
						(e) =>
							new PluginSetupError(proc.name, manifest.plugins.find((p) => p.name === proc.name)!.index, e),
					),
				);
			}
		}

		const consumer = yield* Effect.forkChild(
			Effect.gen(function* () {
				while (true) {
					const batch = bus.poll();
					if (batch) {
						pipe.run(batch);
						// let probes, timers and sink fibers run between batches
						yield* Effect.yieldNow;
						continue;
					}
					if (bus.ended) return;
					yield* bus.waitForWork;
				}
			}),
		);

		const probes = built.filter((b) => b.p.plugin.kind === "probe");
		let running = probes.length;
		let allProbesEnded: () => void = () => {};
		const probesEnded = new Promise<void>((resolve) => {
			allProbesEnded = resolve;
			if (running === 0) resolve();
		});
		const probeFibers = [];
		for (const b of probes) {
			const emit = bus.emitterFor(b.p.name);
			const plog = logRoot.for(b.p.name);
			probeFibers.push(
				yield* Effect.forkChild(
					fromMaybeAsync<void>(() => (b.instance as ProbeInstance).run(emit, controller.signal)).pipe(
						Effect.catch((e) =>
							Effect.sync(() => {
								stats.counter("probe.failures", { probe: b.p.name }).inc();
								plog.error(`probe stopped on an error: ${errorText(e)}`);
							}),
						),
						Effect.ensuring(
							Effect.sync(() => {
								if (--running === 0) allProbesEnded();
							}),
						),
					),
				),
			);
		}

		if (statsMs > 0) {
			yield* Effect.forkChild(
				Effect.gen(function* () {
					while (true) {
						yield* Effect.sleep(statsMs);
						pipe.emitCustom({
							kind: "custom",
							type: "agent_stats",
							timestamp: Date.now() * 1e6,
							data: stats.snapshot(),
						});
					}
				}),
			);
		}

		markStarted();
		log.info(`started: ${manifest.plugins.map((p) => p.name).join(", ")}`);
		const reason = yield* Effect.promise(() =>
			Promise.race([probesEnded.then(() => "every probe ended"), stopRequested]),
		);
		log.info(`stopping: ${reason}`);

		controller.abort();
		for (const f of probeFibers) yield* Fiber.await(f);
		bus.end();
		yield* Fiber.join(consumer);
		// processors finish pending work (hashes, kills) while the sinks still take what it raises
		for (const proc of processors) {
			if (!proc.instance.flush) continue;
			yield* fromMaybeAsync<void>(() => proc.instance.flush?.()).pipe(
				Effect.timeoutOption(shutdownMs),
				Effect.catch((e) => Effect.sync(() => logRoot.for(proc.name).warn(`flush failed: ${errorText(e)}`))),
			);
		}

		for (const s of sinks) s.end();
		const flushed = yield* Effect.timeoutOption(Fiber.joinAll(sinkFibers), shutdownMs);
		if (flushed._tag === "None") {
			for (const s of sinks) {
				if (s.buffered > 0) {
					stats.counter("sink.lost_on_shutdown", { sink: s.name }).inc(s.buffered);
					logRoot.for(s.name).warn(`${s.buffered} items not written before the shutdown timeout`);
				}
			}
			for (const f of sinkFibers) yield* Fiber.interrupt(f);
		}
		for (const s of sinks) {
			yield* fromMaybeAsync<void>(() => s.instance.flush?.()).pipe(
				Effect.catch((e) => Effect.sync(() => logRoot.for(s.name).warn(`flush failed: ${errorText(e)}`))),
			);
		}
	});

	const done = Effect.runPromiseExit(Effect.scoped(program)).then((exit): AgentResult => {
		markStarted();
		const snapshot = stats.snapshot();
		if (Exit.isSuccess(exit)) return { code: 0, stats: snapshot };
		const failure = exit.cause.reasons.find((r) => r._tag === "Fail") as { error: unknown } | undefined;
		const error =
			failure?.error instanceof Error ? failure.error : new Error(String(failure?.error ?? exit.cause));
		log.error(error.message);
		return { code: 1, error, stats: snapshot };
	});

	return {
		stats,
		registry,
		started,
		done,
		stop: (reason = "stop requested") => requestStop(reason),
	};
};
