/**
 * @module The `ebpf` probe: real events from the running kernel, through BPF programs on
 * syscall tracepoints and scheduler raw tracepoints (see `bpf/`), read from a ring buffer in
 * batches and decoded into vigil's event model. First in the flow: its batches go to the bus,
 * then to the process resolver, profiles, rules and sinks.
 *
 * Start-up: feature probes (privileges, BTF, libbpf, tracefs, BPF features; each failure says
 * what to do), load of only the programs the configured event types need, attach, then a
 * self-test (open, chmod, chown, exec of a temporary file) reported as a `self_test` custom
 * event. Stop: everything is detached and freed. Losses are counted where they happen and
 * reported as `lost_events`.
 *
 * When to use: in a manifest, `- use: ebpf` (see README.md for the options).
 */
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import * as v from "valibot";
import { OBJECT_PATH } from "../../bpf/build.ts";
import type { Counter, Emit, Event, PluginContext, ProbeInstance, ProbePlugin } from "../../core/sdk.ts";
import { EVENT_TYPES, FAMILIES, TYPE_NAMES } from "./catalogue.ts";
import { Decoder } from "./decode.ts";
import {
	findTracefs,
	hookIndex,
	isNotSupported,
	type Probe,
	ProbeStartError,
	probeBpf,
	probeBtf,
	probePrivileges,
	probeTracefs,
} from "./features.ts";
import { LoadedObject, type LoadReport, planLoad, type RingReader } from "./loader.ts";
import { LossAccounting } from "./loss.ts";
import { cstr, NativeError, native } from "./native.ts";
import { SelfTest } from "./selftest.ts";
import { ObjectSpec } from "./spec.ts";

const EVENT_TYPE_NAMES = EVENT_TYPES.map((t) => t.name) as [string, ...string[]];

const PowerOfTwo = v.pipe(
	v.number(),
	v.integer(),
	v.minValue(4096, "must be at least 4096 (one page)"),
	v.check((n) => (n & (n - 1)) === 0, "must be a power of two"),
);

export const EbpfConfig = v.strictObject({
	/** Event families to enable (default: all). */
	families: v.optional(v.array(v.picklist(FAMILIES))),
	/** Event types to enable; overrides `families` when given. */
	event_types: v.optional(v.array(v.picklist(EVENT_TYPE_NAMES))),
	/** Ring buffer size in bytes (a power of two). */
	ring_buffer_size: v.optional(PowerOfTwo, 16 * 1024 * 1024),
	/** How long to wait between two reads of an idle ring buffer, ms. */
	poll_interval_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)), 10),
	/** Events per batch handed to the bus. */
	batch_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_536)), 1024),
	/** Bytes of argv and of envp copied at exec (at most 8192 each). */
	args_max_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(64), v.maxValue(8192)), 4096),
	envs_max_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8192)), 8192),
	/** Run the start-up self-test (open, chmod, chown, exec), and its deadline. */
	self_test: v.optional(v.boolean(), true),
	self_test_timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100)), 5000),
	/** Minimum event time between two `lost_events` custom events, ms. */
	lost_events_interval_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 10_000),
	/** How often the kernel counters are read, ms. */
	stats_interval_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10)), 1000),
	/** Mount tracefs at /sys/kernel/tracing when it is not mounted. */
	mount_tracefs: v.optional(v.boolean(), true),
	/** The BPF object (default: bpf/.output/vigil.bpf.o, built by `bun bpf/build.ts`). */
	object: v.optional(v.string()),
});
export type EbpfConfig = v.InferOutput<typeof EbpfConfig>;

/** Event types selected by a configuration, in catalogue order. */
export const selectedEventTypes = (config: EbpfConfig): string[] => {
	if (config.event_types) return EVENT_TYPE_NAMES.filter((t) => config.event_types!.includes(t));
	const families = new Set(config.families ?? FAMILIES);
	return EVENT_TYPES.filter((t) => families.has(t.family)).map((t) => t.name);
};

const require = <T>(probe: Probe<T>): T => {
	if (isNotSupported(probe)) throw new ProbeStartError(probe.reason, probe.fix ?? "");
	return probe;
};

/** Check everything the probe needs before touching the kernel; throws {@link ProbeStartError}. */
export const preflight = (config: EbpfConfig): { object: string; tracefs: string } => {
	require(probePrivileges());
	require(probeBtf());
	let n: ReturnType<typeof native>;
	try {
		n = native();
	} catch (e) {
		if (e instanceof NativeError) throw new ProbeStartError("libbpf is not usable", e.message);
		throw e;
	}
	const object = config.object ?? OBJECT_PATH;
	if (!existsSync(object)) {
		throw new ProbeStartError(`the BPF object ${object} is missing`, "build it: bun bpf/build.ts");
	}
	const tracefs = require(probeTracefs((target) => n.vg_mount_tracefs(cstr(target)), config.mount_tracefs));
	require(
		probeBpf({
			probeProgType: (t) => n.vg_probe_prog_type(t),
			probeMapType: (t) => n.vg_probe_map_type(t),
			probeHelper: (p, h) => n.vg_probe_helper(p, h),
		}),
	);
	return { object, tracefs };
};

/** What a running probe does; {@link EbpfProbe.run} drains until its signal aborts. */
export class EbpfProbe implements ProbeInstance {
	private readonly reader: RingReader;
	private readonly decoder: Decoder;
	private readonly loss: LossAccounting;
	/** Decoded records per type id already added to the `ebpf.read` counters. */
	private readonly reported: number[] = [];
	private readonly read = new Map<string, Counter>();
	private readonly malformed: Counter;
	private readonly selfTestClaimed: Counter;
	private lastEventTime = 0;
	private lastStats = 0;
	private selfTest: SelfTest | undefined;

	private constructor(
		private readonly ctx: PluginContext,
		private readonly config: EbpfConfig,
		readonly loaded: LoadedObject,
	) {
		this.reader = loaded.reader({ batchBytes: 1 << 20, maxRecords: 4 * config.batch_size });
		this.decoder = new Decoder({ clockOffset: native().vg_clock_offset() });
		this.loss = new LossAccounting(ctx.stats, (e) => ctx.emitCustom(e), config.lost_events_interval_ms * 1e6);
		this.malformed = ctx.stats.counter("ebpf.malformed");
		this.selfTestClaimed = ctx.stats.counter("ebpf.self_test.events");
		ctx.stats.gauge("ebpf.programs.attached", () => loaded.report.attached.length);
	}

	/** Check the host, load and attach; throws {@link ProbeStartError} or a load error. */
	static async start(ctx: PluginContext, config: EbpfConfig): Promise<EbpfProbe> {
		const { object, tracefs } = preflight(config);
		const loaded = LoadedObject.load(
			ObjectSpec.read(object),
			{
				eventTypes: selectedEventTypes(config),
				selfPid: ctx.agent.pid,
				ringBytes: config.ring_buffer_size,
				argsMax: config.args_max_bytes,
				envsMax: config.envs_max_bytes,
				wakeup: false,
			},
			hookIndex(tracefs),
		);
		try {
			const r = loaded.report;
			ctx.log.info(
				`attached ${r.attached.length} programs in ${Math.round(r.loadMs)} ms for ${r.eventTypes.length} event types`,
				{ eventTypes: r.eventTypes },
			);
			for (const u of r.unsupported)
				ctx.log.warn(`event type ${u.eventType} is not supported here: ${u.reason}`);
			return new EbpfProbe(ctx, config, loaded);
		} catch (e) {
			await loaded.close();
			throw e;
		}
	}

	/** What was loaded and attached, what was not and why. */
	get report(): LoadReport {
		return this.loaded.report;
	}

	/** Now, as event time (ns since the epoch). */
	private now(): number {
		return Date.now() * 1e6;
	}

	async run(emit: Emit, signal: AbortSignal): Promise<void> {
		if (this.config.self_test) {
			this.selfTest = new SelfTest(
				new Set(this.loaded.report.eventTypes),
				this.config.self_test_timeout_ms,
				(e) => {
					const failed = e.data.failed_tests as string[];
					if (failed.length > 0)
						this.ctx.log.warn("self-test failed", { failed, succeeded: e.data.succeeded_tests });
					else this.ctx.log.info("self-test succeeded", { tests: e.data.succeeded_tests });
					this.ctx.emitCustom(e);
				},
				() => this.now(),
			);
			this.selfTest.start();
		}
		while (!signal.aborted) {
			const full = this.drain(emit);
			this.selfTest?.tick();
			if (full) {
				// more is waiting: let the bus run, then read again
				await new Promise((r) => setImmediate(r));
				continue;
			}
			this.maybeStats(false);
			await sleep(this.config.poll_interval_ms, undefined, { signal }).catch(() => {});
		}
		while (this.drain(emit)) {}
		this.maybeStats(true);
	}

	/** Read, decode and emit what the ring holds; true if the batch buffer filled up. */
	drain(emit: Emit): boolean {
		const count = this.reader.drain();
		if (count === 0) return false;
		const decoded: Event[] = [];
		const malformedBefore = this.decoder.malformed;
		this.decoder.batch(this.reader.bytes, this.reader.view, this.reader.used, decoded);
		if (this.decoder.malformed > malformedBefore)
			this.malformed.inc(this.decoder.malformed - malformedBefore);
		const size = this.config.batch_size;
		let batch: Event[] = [];
		const st = this.selfTest?.active ? this.selfTest : undefined;
		for (const e of decoded) {
			if (st?.claim(e)) {
				this.selfTestClaimed.inc();
				continue;
			}
			batch.push(e);
			if (batch.length === size) {
				this.emitBatch(emit, batch);
				batch = [];
			}
		}
		if (batch.length > 0) this.emitBatch(emit, batch);
		const last = decoded[decoded.length - 1];
		if (last) this.lastEventTime = last.timestamp;
		this.flushRead();
		return count >= 4 * size || this.reader.used >= 1 << 20;
	}

	private flushRead(): void {
		const decoded = this.decoder.decoded;
		for (let id = 1; id < TYPE_NAMES.length; id++) {
			const n = decoded[id]! - (this.reported[id] ?? 0);
			if (n === 0) continue;
			this.reported[id] = decoded[id]!;
			const type = TYPE_NAMES[id]!;
			let c = this.read.get(type);
			if (!c) {
				c = this.ctx.stats.counter("ebpf.read", { type });
				this.read.set(type, c);
			}
			c.inc(n);
		}
	}

	/** Hand a batch to the bus; what it has no room for (a suffix of the batch) is counted lost. */
	private emitBatch(emit: Emit, batch: Event[]): void {
		const accepted = emit(batch);
		if (accepted < batch.length) this.loss.bus(accepted === 0 ? batch : batch.slice(accepted));
	}

	/** Read the kernel counters (at most every stats_interval_ms unless forced) and report losses. */
	private maybeStats(force: boolean): void {
		const t = performance.now();
		if (!force && t - this.lastStats < this.config.stats_interval_ms) return;
		this.lastStats = t;
		const { sent, lost, lostPerCpu } = this.loaded.counters();
		this.loss.kernel(sent, lost, lostPerCpu);
		this.loss.flush(Math.max(this.lastEventTime, this.now()));
	}

	close(): Promise<void> {
		return this.loaded.close();
	}
}

/** Event types the probe would produce under `config` on this kernel (the loader's plan), when that can be known. */
const produces = (config: EbpfConfig): string[] => {
	const selected = selectedEventTypes(config);
	const tracefs = findTracefs();
	const object = config.object ?? OBJECT_PATH;
	if (!tracefs || !existsSync(object)) return selected;
	try {
		return planLoad(ObjectSpec.read(object), selected, hookIndex(tracefs)).enabled;
	} catch {
		return selected;
	}
};

const plugin: ProbePlugin<EbpfConfig> = {
	kind: "probe",
	name: "ebpf",
	description: "Kernel events through eBPF: process, file, network and kernel activity",
	config: EbpfConfig,
	produces,
	setup: (ctx, config) => EbpfProbe.start(ctx, config),
};

export default plugin;
