/**
 * @module Loss accounting: every event that does not reach the bus is counted where it is lost,
 * and the counts reconcile.
 *
 * - kernel: a record the ring buffer had no room for (the ring keeps no count itself, so the
 *   programs count reservation failures per CPU and per event type in `vg_counters`), or a
 *   syscall entry that could not be kept until its exit;
 * - bus: events the bus had no room for (`emit` accepted only part of a batch), per event type.
 *
 * For each event type: kernel sent = read + still in the ring, and read = emitted + dropped by
 * the bus + malformed + self-test. Whenever something is lost, a `lost_events` custom event
 * carries the per-type losses since the previous one, at most once per `interval` of event time.
 *
 * When to use: one per probe instance; `kernel()` after reading the kernel counters, `bus()`
 * with the events emit did not accept, `flush()` to emit what is due.
 */
import type { Counter, CustomEvent, Event, Stats } from "../../core/sdk.ts";
import { TYPE_NAMES } from "./catalogue.ts";

export interface LossSnapshot {
	/** Per event type, since the previous `lost_events`. */
	kernel: Record<string, number>;
	bus: Record<string, number>;
}

export class LossAccounting {
	private readonly kernelLost = new Map<string, Counter>();
	private readonly kernelSent = new Map<string, Counter>();
	private readonly busDropped = new Map<string, Counter>();
	private readonly lostCpu = new Map<string, Counter>();
	private readonly lastLostCpu: number[] = [];
	private readonly lastSent: number[] = [];
	private readonly lastLost: number[] = [];
	private pending: LossSnapshot = { kernel: {}, bus: {} };
	private pendingTotal = 0;
	private lastEmit: number | undefined;

	constructor(
		private readonly stats: Stats,
		private readonly emitCustom: (e: CustomEvent) => void,
		/** Minimum event time between two `lost_events`, ns. */
		private readonly intervalNs: number,
	) {}

	private counter(map: Map<string, Counter>, name: string, value: string, tag = "type"): Counter {
		let c = map.get(value);
		if (!c) {
			c = this.stats.counter(name, { [tag]: value });
			map.set(value, c);
		}
		return c;
	}

	/**
	 * Kernel counters as read from `vg_counters`: totals since load, indexed by type id, and
	 * the lost total of each CPU.
	 */
	kernel(sent: readonly number[], lost: readonly number[], lostPerCpu: readonly number[] = []): void {
		for (let cpu = 0; cpu < lostPerCpu.length; cpu++) {
			const l = lostPerCpu[cpu]! - (this.lastLostCpu[cpu] ?? 0);
			this.lastLostCpu[cpu] = lostPerCpu[cpu]!;
			if (l > 0) this.counter(this.lostCpu, "ebpf.kernel.lost_by_cpu", String(cpu), "cpu").inc(l);
		}
		for (let id = 1; id < TYPE_NAMES.length; id++) {
			const type = TYPE_NAMES[id];
			if (!type) continue;
			const s = (sent[id] ?? 0) - (this.lastSent[id] ?? 0);
			const l = (lost[id] ?? 0) - (this.lastLost[id] ?? 0);
			this.lastSent[id] = sent[id] ?? 0;
			this.lastLost[id] = lost[id] ?? 0;
			if (s > 0) this.counter(this.kernelSent, "ebpf.kernel.sent", type).inc(s);
			if (l > 0) {
				this.counter(this.kernelLost, "ebpf.kernel.lost", type).inc(l);
				this.pending.kernel[type] = (this.pending.kernel[type] ?? 0) + l;
				this.pendingTotal += l;
			}
		}
	}

	/** Events the bus did not accept. */
	bus(batch: readonly Event[]): void {
		const byType = new Map<string, number>();
		for (const e of batch) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
		for (const [type, n] of byType) {
			this.counter(this.busDropped, "ebpf.bus_dropped", type).inc(n);
			this.pending.bus[type] = (this.pending.bus[type] ?? 0) + n;
			this.pendingTotal += n;
		}
	}

	/** Emit `lost_events` if anything was lost and the last one is at least `interval` old. */
	flush(now: number): boolean {
		if (this.pendingTotal === 0) return false;
		if (this.lastEmit !== undefined && now - this.lastEmit < this.intervalNs) return false;
		this.emitCustom({
			kind: "custom",
			type: "lost_events",
			timestamp: now,
			data: {
				map: "vg_events",
				total: this.pendingTotal,
				kernel: this.pending.kernel,
				bus: this.pending.bus,
				...(this.lastEmit !== undefined ? { since: this.lastEmit } : {}),
			},
		});
		this.lastEmit = now;
		this.pending = { kernel: {}, bus: {} };
		this.pendingTotal = 0;
		return true;
	}
}
