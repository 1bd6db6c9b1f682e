/**
 * @module What is loaded and attached: the kernel side of the probe (cilium/ebpf's Collection,
 * as opposed to the {@link ObjectSpec} read from the file).
 *
 * The lifecycle is libbpf-bootstrap's: open → set read-only config → choose the programs to
 * load → load → attach → read the ring buffer → close. Only the programs of the enabled event
 * types load, and only those whose hook exists in this kernel; an event type none of whose
 * programs can attach is reported as unsupported instead of failing the start.
 * {@link LoadedObject.close} detaches and frees everything (links, ring reader, maps, programs).
 *
 * When to use: from the probe plugin, after the feature probes passed.
 */
import type { Pointer } from "bun:ffi";
import { EVENT_TYPES, eventType, OPTIONAL_PROGRAMS } from "./catalogue.ts";
import { type HookIndex, isNotSupported } from "./features.ts";
import { DEFINES, STRUCTS } from "./layout.ts";
import { asPtr, cstr, errnoName, native, takeLog } from "./native.ts";
import type { ObjectSpec } from "./spec.ts";

export interface LoadConfig {
	/** Event types to report (names from the catalogue). */
	readonly eventTypes: readonly string[];
	/** The agent's own pid: its syscalls are not reported. */
	readonly selfPid: number;
	/** Ring buffer size in bytes: a power of two, at least one page. */
	readonly ringBytes: number;
	/** Bytes of argv and envp copied at exec. */
	readonly argsMax: number;
	readonly envsMax: number;
	/** Ask the kernel to wake the reader on each record (only useful to a reader blocked in poll). */
	readonly wakeup: boolean;
}

export interface LoadReport {
	/** Event types that load and attach. */
	readonly eventTypes: readonly string[];
	readonly attached: readonly string[];
	/** Programs not loaded or not attached, and why. */
	readonly skipped: readonly { program: string; reason: string }[];
	/** Requested event types that this kernel cannot produce, and why. */
	readonly unsupported: readonly { eventType: string; reason: string }[];
	readonly loadMs: number;
}

export class LoadError extends Error {
	override readonly name = "LoadError";
}

/** The last lines of libbpf's log (the verifier's verdict is at the end). */
const logTail = (log: string, lines = 40): string => log.trim().split("\n").slice(-lines).join("\n");

const u32 = (v: number) => new Uint32Array([v >>> 0]);
const u64 = (v: bigint) => new BigUint64Array([v]);

/** What {@link LoadedObject.load} would load, before the kernel has a say (it may still refuse an attach). */
export interface LoadPlan {
	/** Requested event types with a required (not optional) program whose hook exists, in catalogue order. */
	readonly enabled: string[];
	/** Programs to load: those of the enabled event types whose hook exists. */
	readonly load: Set<string>;
	/** Programs of the requested event types whose hook is missing, and why. */
	readonly skipped: { program: string; reason: string }[];
	/** Requested event types none of whose required programs can attach, and why. */
	readonly unsupported: { eventType: string; reason: string }[];
}

/**
 * Which programs of `spec` to load for `eventTypes` on a kernel with `hooks`. An event type is
 * enabled when one of its programs other than {@link OPTIONAL_PROGRAMS} has its hook; its
 * optional programs then load too when they can.
 */
export const planLoad = (spec: ObjectSpec, eventTypes: readonly string[], hooks: HookIndex): LoadPlan => {
	const wanted = new Set(eventTypes);
	const skipped: { program: string; reason: string }[] = [];
	const hookOk = new Map<string, boolean>();
	for (const p of spec.programs) {
		const ok = hooks.has(p.hook);
		hookOk.set(p.name, ok === true);
		if (isNotSupported(ok) && EVENT_TYPES.some((t) => wanted.has(t.name) && t.programs.includes(p.name))) {
			skipped.push({ program: p.name, reason: ok.reason });
		}
	}
	const unsupported: { eventType: string; reason: string }[] = [];
	const enabled: string[] = [];
	const load = new Set<string>();
	for (const t of EVENT_TYPES) {
		if (!wanted.has(t.name)) continue;
		const usable = t.programs.filter((p) => hookOk.get(p) && !OPTIONAL_PROGRAMS.has(p));
		if (usable.length === 0) {
			const why = skipped
				.filter((s) => t.programs.includes(s.program) && !OPTIONAL_PROGRAMS.has(s.program))
				.map((s) => s.reason);
			unsupported.push({ eventType: t.name, reason: why[0] ?? "no program in the object" });
			continue;
		}
		enabled.push(t.name);
		for (const p of t.programs) if (hookOk.get(p)) load.add(p);
	}
	return { enabled, load, skipped, unsupported };
};

export class LoadedObject {
	private links = new Map<string, Pointer>();
	private readers = new Set<RingReader>();
	private closed = false;
	private loadReport: LoadReport;
	readonly ncpus: number;
	private readonly countersFd: number;
	private readonly eventsFd: number;

	private constructor(
		private obj: Pointer,
		report: Omit<LoadReport, "attached">,
	) {
		const n = native();
		this.ncpus = n.vg_num_possible_cpus();
		this.countersFd = n.vg_map_fd(obj, cstr("vg_counters"));
		this.eventsFd = n.vg_map_fd(obj, cstr("vg_events"));
		this.loadReport = { ...report, attached: [] };
	}

	/** What was loaded, attached, skipped and why. */
	get report(): LoadReport {
		return this.loadReport;
	}

	/**
	 * Load the programs the configuration needs from `spec` and attach them. Throws
	 * {@link LoadError} when libbpf or the verifier refuses the object.
	 */
	static load(spec: ObjectSpec, config: LoadConfig, hooks: HookIndex): LoadedObject {
		const t0 = performance.now();
		const n = native();
		const { enabled, load, skipped, unsupported } = planLoad(spec, config.eventTypes, hooks);

		const obj = asPtr(n.vg_open(cstr(spec.path)));
		if (!obj)
			throw new LoadError(`cannot open ${spec.path}: ${errnoName(n.vg_errno())}\n${logTail(takeLog())}`);
		try {
			for (const p of spec.programs) n.vg_set_autoload(obj, cstr(p.name), load.has(p.name) ? 1 : 0);
			let mask = 0n;
			for (const name of enabled) mask |= 1n << BigInt(eventType(name)!.id);
			const set = (name: string, value: Uint32Array | BigUint64Array) => {
				const err = n.vg_set_rodata(obj, cstr(name), value, value.byteLength);
				if (err < 0) throw new LoadError(`cannot set ${name} in ${spec.path}: ${errnoName(err)}`);
			};
			set("vg_self_tgid", u32(config.selfPid));
			set("vg_enabled", u64(mask));
			set("vg_args_max", u32(Math.min(config.argsMax, DEFINES.VG_ARGS_MAX)));
			set("vg_envs_max", u32(Math.min(config.envsMax, DEFINES.VG_ENVS_MAX)));
			set("vg_rb_flags", u64(config.wakeup ? 0n : 1n /* BPF_RB_NO_WAKEUP */));
			const err = n.vg_set_max_entries(obj, cstr("vg_events"), config.ringBytes);
			if (err < 0)
				throw new LoadError(`cannot size the ring buffer to ${config.ringBytes} bytes: ${errnoName(err)}`);
			takeLog();
			const loaded = n.vg_load(obj);
			if (loaded < 0) {
				throw new LoadError(
					`the kernel refused vigil's BPF programs (${errnoName(loaded)}):\n${logTail(takeLog())}`,
				);
			}
		} catch (e) {
			n.vg_close(obj);
			throw e;
		}

		const lo = new LoadedObject(obj, { eventTypes: enabled, skipped, unsupported, loadMs: 0 });
		const attached: string[] = [];
		for (const p of spec.programs) {
			if (!load.has(p.name)) continue;
			const link = asPtr(n.vg_attach(obj, cstr(p.name)));
			if (!link) {
				const reason = `attach failed: ${errnoName(n.vg_errno())} ${logTail(takeLog(), 3)}`.trim();
				skipped.push({ program: p.name, reason });
				continue;
			}
			lo.links.set(p.name, link);
			attached.push(p.name);
		}
		const stillEnabled = enabled.filter((name) =>
			eventType(name)!.programs.some((p) => lo.links.has(p) && !OPTIONAL_PROGRAMS.has(p)),
		);
		for (const name of enabled) {
			if (!stillEnabled.includes(name)) {
				const t = eventType(name)!;
				const why = skipped.find((s) => t.programs.includes(s.program));
				unsupported.push({ eventType: name, reason: why?.reason ?? "no program attached" });
			}
		}
		lo.loadReport = {
			eventTypes: stillEnabled,
			attached,
			skipped,
			unsupported,
			loadMs: performance.now() - t0,
		};
		return lo;
	}

	/** A reader of the ring buffer; closed with this object. */
	reader(options: { batchBytes: number; maxRecords: number }): RingReader {
		this.assertOpen();
		const r = new RingReader(this.eventsFd, options.batchBytes, options.maxRecords);
		this.readers.add(r);
		return r;
	}

	/**
	 * The kernel counters summed over CPUs: records written and lost per event type id, and
	 * lost records per CPU.
	 */
	counters(): { sent: number[]; lost: number[]; lostPerCpu: number[] } {
		this.assertOpen();
		const slots = DEFINES.VG_EV_SLOTS;
		const valueSize = STRUCTS.vg_counters.size;
		const buf = new BigUint64Array((this.ncpus * valueSize) / 8);
		const err = native().vg_map_lookup(this.countersFd, u32(0), buf);
		if (err < 0) throw new LoadError(`cannot read the kernel counters: ${errnoName(err)}`);
		const sent = new Array<number>(slots).fill(0);
		const lost = new Array<number>(slots).fill(0);
		const lostPerCpu = new Array<number>(this.ncpus).fill(0);
		const perCpu = valueSize / 8;
		for (let cpu = 0; cpu < this.ncpus; cpu++) {
			for (let i = 0; i < slots; i++) {
				sent[i]! += Number(buf[cpu * perCpu + i]!);
				const l = Number(buf[cpu * perCpu + slots + i]!);
				lost[i]! += l;
				lostPerCpu[cpu]! += l;
			}
		}
		return { sent, lost, lostPerCpu };
	}

	/**
	 * Detach every program and free the object; safe to call twice. Detaching waits for the
	 * kernel (up to a few seconds for many programs), in a native thread: the event loop runs.
	 */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		const n = native();
		for (const r of this.readers) r.close();
		this.readers.clear();
		const links = [...this.links.values()];
		this.links.clear();
		if (links.length > 0) {
			const handle = asPtr(n.vg_detach_start(new BigUint64Array(links.map((l) => BigInt(l))), links.length));
			if (handle) while (n.vg_detach_done(handle) === 0) await Bun.sleep(5);
			else for (const l of links) n.vg_link_destroy(l);
		}
		n.vg_close(this.obj);
		takeLog();
	}

	private assertOpen(): void {
		if (this.closed) throw new LoadError("the BPF object is closed");
	}
}

/** The largest record: fixed part and data area. */
const MAX_RECORD = DEFINES.VG_FIXED_MAX + DEFINES.VG_DATA_SIZE;

/**
 * Copies ring buffer records into one batch buffer per drain (a C callback per record, no JS),
 * which `bytes`/`view` read; the buffer is owned here and lent to C only during a drain.
 */
export class RingReader {
	private ring: Pointer | null;
	readonly bytes: Uint8Array;
	readonly view: DataView;
	/** Bytes filled by the last drain. */
	used = 0;

	constructor(mapFd: number, batchBytes: number, maxRecords: number) {
		const n = native();
		// room for one more record beyond the soft limit: the one that crosses it is kept
		this.bytes = new Uint8Array(batchBytes + MAX_RECORD + 64);
		this.view = new DataView(this.bytes.buffer);
		this.ring = asPtr(n.vg_ring_open(mapFd, batchBytes, maxRecords));
		if (!this.ring) throw new LoadError(`cannot read the ring buffer: ${errnoName(n.vg_errno())}`);
	}

	/** Copy what the ring holds now (up to the batch limits); returns the number of records. */
	drain(): number {
		if (!this.ring) return 0;
		const n = native();
		const count = n.vg_ring_drain(this.ring, this.bytes, this.bytes.length);
		if (count < 0) throw new LoadError(`reading the ring buffer failed: ${errnoName(count)}`);
		this.used = n.vg_ring_used(this.ring);
		return count;
	}

	close(): void {
		if (!this.ring) return;
		native().vg_ring_close(this.ring);
		this.ring = null;
	}
}
