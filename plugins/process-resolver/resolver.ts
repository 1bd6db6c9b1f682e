/**
 * @module Resolving the process of every event of a batch (Datadog's `handleEvent`): fork, exec and
 * exit maintain the cache; every other event gets its process context, ancestors, container and
 * cgroup, or the `no_process_context` / `broken_process_lineage` error the monitor reports.
 *
 * When to use: built by the process resolver plugin; tests drive it directly with synthetic
 * events against the real /proc or a directory laid out like it.
 */

import type { Event, EventErrorKind, ProcessContext } from "../../core/model/types.ts";
import type { Counter, Logger } from "../../core/sdk.ts";
import { type CgroupMove, type Entry, ProcessCache } from "./cache.ts";
import type { CgroupInfo } from "./cgroup.ts";
import type { NameTable } from "./names.ts";
import type { ProcFs, ProcProcess } from "./procfs.ts";

/**
 * `auto`: leave events whose process context is already resolved (replayed captures): those
 * carrying lineage (`parent`/`ancestors`), and, for any type but exec, those carrying `file` or
 * `argv` (kernel events carry these only on exec). `always`: resolve every event from the cache.
 */
export type ResolveMode = "auto" | "always";

export interface ResolverCounters {
	readonly hits: Counter;
	readonly misses: Counter;
	readonly procfsFills: Counter;
	readonly passthrough: Counter;
	readonly noProcessContext: Counter;
	readonly brokenLineage: Counter;
	readonly evictedExited: Counter;
	readonly evictedLive: Counter;
}

export interface ResolverOptions {
	readonly mode: ResolveMode;
	readonly procfs: ProcFs;
	readonly names: NameTable;
	readonly capacity: number;
	readonly maxAncestors: number;
	/** Exited entries stay this long (event time, ns) for late events of the process. */
	readonly exitRetentionNs: number;
	/** The passwd and group files are checked for changes at most this often (event time, ns). */
	readonly namesReloadNs: number;
	readonly log: Logger;
	readonly counters: ResolverCounters;
}

/**
 * Event types whose process context may be another process's or none (network softirqs, module
 * loads by the kernel): resolved when possible, never flagged with a process error (Datadog's
 * `eventWithNoProcessContext`).
 */
const NO_PROCESS_CONTEXT = new Set([
	"dns",
	"dns_response",
	"imds",
	"packet",
	"raw_packet",
	"network_flow_monitor",
	"load_module",
	"unload_module",
]);

/** Parent chains filled from /proc on the spot stop after this many levels. */
const MAX_FILL_DEPTH = 256;

const resolvedAlready = (type: string, p: ProcessContext): boolean =>
	p.ancestors !== undefined ||
	p.parent !== undefined ||
	(type !== "exec" && (p.file !== undefined || p.argv !== undefined));

/** Credential fields each credential-change payload carries. */
const CRED_PAYLOADS: Readonly<Record<string, readonly (keyof ProcessContext)[]>> = {
	setuid: ["uid", "euid", "fsuid"],
	setgid: ["gid", "egid", "fsgid"],
	capset: ["cap_effective", "cap_permitted"],
};

export class ProcessResolver {
	readonly cache: ProcessCache;
	readonly #o: ResolverOptions;
	readonly #auto: boolean;
	/** On a pure cgroup v2 host the kernel cgroup id identifies a cgroup path; elsewhere it cannot. */
	readonly #cgroupIds: boolean;
	readonly #pathsByCgroupId = new Map<string, CgroupInfo>();
	/** Pids /proc had nothing for during this batch: tried once per batch. */
	readonly #missed = new Set<number>();
	#namesCheckedAt = Number.NEGATIVE_INFINITY;

	constructor(options: ResolverOptions) {
		this.#o = options;
		this.#auto = options.mode === "auto";
		this.#cgroupIds = options.procfs.pureCgroupV2();
		this.cache = new ProcessCache({
			capacity: options.capacity,
			maxAncestors: options.maxAncestors,
			names: options.names,
			counters: options.counters,
			...(this.#cgroupIds ? { cgroupOf: (pid: number, kid: string) => this.#cgroupById(pid, kid) } : {}),
		});
	}

	/** Walk /proc and create an entry per process, parents first. Returns the number read. */
	snapshot(): number {
		const procs = new Map<number, ProcProcess>();
		for (const pid of this.#o.procfs.pids()) {
			const proc = this.#o.procfs.read(pid);
			if (proc) procs.set(pid, proc);
		}
		const built = new Map<number, Entry | undefined>();
		const build = (pid: number, depth: number): Entry | undefined => {
			if (built.has(pid)) return built.get(pid);
			const proc = procs.get(pid);
			if (!proc) return undefined;
			built.set(pid, undefined);
			// A parent that exited during the walk is gone; its child has been reparented since.
			if (proc.ppid > 0 && !procs.has(proc.ppid)) proc.ppid = this.#o.procfs.ppid(pid) ?? proc.ppid;
			const parent = proc.ppid > 0 && depth < MAX_FILL_DEPTH ? build(proc.ppid, depth + 1) : undefined;
			const entry = this.cache.fromProc(proc, parent, "snapshot");
			built.set(pid, entry);
			return entry;
		};
		for (const pid of procs.keys()) build(pid, 0);
		return procs.size;
	}

	/** Re-read the passwd and group files if they changed; logs the lines that do not parse. */
	reloadNames(): boolean {
		const { reloaded, issues } = this.#o.names.refresh();
		for (const i of issues) {
			this.#o.log.warn(`${i.file}${i.line > 0 ? `:${i.line}:${i.col}` : ""}: ${i.message}`);
		}
		if (reloaded) this.cache.namesChanged();
		return reloaded;
	}

	process(batch: Event[]): void {
		this.cache.flushExits((e) => this.#o.log.error("process exit listener failed", { error: String(e) }));
		this.#missed.clear();
		if (batch.length === 0) return;
		const first = batch[0]!.timestamp;
		if (Math.abs(first - this.#namesCheckedAt) >= this.#o.namesReloadNs) {
			this.#namesCheckedAt = first;
			this.reloadNames();
		}
		for (let i = 0; i < batch.length; i++) this.#handle(batch[i]!);
		this.cache.expire(batch[batch.length - 1]!.timestamp - this.#o.exitRetentionNs);
	}

	/** Deliver the last exits to the listeners (the agent is stopping). */
	close(): void {
		this.cache.flushExits((e) => this.#o.log.error("process exit listener failed", { error: String(e) }));
	}

	#handle(event: Event): void {
		const p = event.process;
		if (p === undefined || p === null) return;
		const pid = p.pid;
		if (pid === undefined) return;
		if (this.#auto && resolvedAlready(event.type, p)) {
			this.#o.counters.passthrough.inc();
			return;
		}
		switch (event.type) {
			case "fork":
				// A thread shares its process's entry: resolve it like any event of that process.
				if (p.is_thread === true || p.ppid === pid) break;
				this.#fork(event, p, pid);
				return;
			case "exec":
				this.#exec(event, p, pid);
				return;
			case "exit":
				this.#exit(event, p, pid);
				return;
			case "setuid":
			case "setgid":
			case "capset":
				this.#credentials(event, p, pid);
				return;
			case "signal":
			case "ptrace":
			case "cgroup_write":
				this.#common(event, p, pid);
				this.#otherProcess(event);
				return;
		}
		this.#common(event, p, pid);
	}

	#common(event: Event, p: ProcessContext, pid: number): void {
		const entry = this.#entry(event, pid);
		if (entry !== undefined) this.#attach(event, entry, this.cache.contextFor(entry, p, false));
	}

	/** The entry of `pid`, filled from /proc if missing; sets `no_process_context` when neither has it. */
	#entry(event: Event, pid: number): Entry | undefined {
		const entry = this.#known(pid, true);
		if (entry === undefined && !NO_PROCESS_CONTEXT.has(event.type)) {
			this.#error(
				event,
				"no_process_context",
				`process ${pid} is not in the process cache and /proc has no entry for it`,
			);
			this.#o.counters.noProcessContext.inc();
		}
		return entry;
	}

	/**
	 * The entry of `pid` from the cache, else filled from /proc (at `depth` in a parent chain).
	 * `counted`: the lookup counts as a cache hit or miss.
	 */
	#known(pid: number, counted: boolean, depth = 0): Entry | undefined {
		const entry = this.cache.lookup(pid);
		if (entry !== undefined) {
			if (counted) this.#o.counters.hits.inc();
			return entry;
		}
		if (counted) this.#o.counters.misses.inc();
		return this.#fill(pid, depth);
	}

	#fill(pid: number, depth: number): Entry | undefined {
		if (pid <= 0 || depth > MAX_FILL_DEPTH || this.#missed.has(pid)) return undefined;
		const proc = this.#o.procfs.read(pid);
		if (proc === undefined) {
			this.#missed.add(pid);
			return undefined;
		}
		const parent = this.#parentOf(proc, depth);
		this.#o.counters.procfsFills.inc();
		return this.cache.fromProc(proc, parent, "procfs");
	}

	#parentOf(proc: ProcProcess, depth: number): Entry | undefined {
		if (proc.ppid <= 0) return undefined;
		const parent = this.#known(proc.ppid, false, depth + 1);
		if (parent !== undefined) return parent;
		// The parent exited while we read: the child has been reparented (to init or a subreaper).
		const now = this.#o.procfs.ppid(proc.pid);
		if (now === undefined || now === proc.ppid || now <= 0) return undefined;
		proc.ppid = now;
		return this.#known(now, false, depth + 1);
	}

	#attach(event: Event, entry: Entry, ctx: ProcessContext): void {
		event.process = ctx;
		const container = ctx.container;
		if (container !== undefined) event.container = container;
		const cgroup = ctx.cgroup;
		if (cgroup !== undefined) event.cgroup = cgroup;
		if (!entry.lineage && !NO_PROCESS_CONTEXT.has(event.type)) {
			this.#error(event, "broken_process_lineage", this.cache.brokenAt(entry));
			this.#o.counters.brokenLineage.inc();
		}
	}

	/** An error already on the event (set by the probe) is kept: it is the first thing that went wrong. */
	#error(event: Event, kind: EventErrorKind, message: string): void {
		if (event.error === undefined) event.error = { kind, message };
	}

	#fork(event: Event, p: ProcessContext, pid: number): void {
		const ppid = p.ppid;
		const parent = ppid === undefined ? undefined : this.#known(ppid, true);
		const kid = p.cgroup?.id;
		const moved =
			this.#cgroupIds && kid !== undefined && kid !== parent?.cgroupKid
				? this.#cgroupById(pid, kid)
				: undefined;
		const entry = this.cache.fork(parent, p, event.timestamp, moved);
		this.#attach(event, entry, this.cache.contextFor(entry, p, false));
	}

	#exec(event: Event, p: ProcessContext, pid: number): void {
		let prev = this.cache.lookup(pid);
		if (prev?.exited) prev = undefined;
		let parent: Entry | undefined;
		if (prev !== undefined) this.#o.counters.hits.inc();
		else {
			this.#o.counters.misses.inc();
			if (p.ppid !== undefined) parent = this.#known(p.ppid, false);
		}
		const entry = this.cache.exec(prev, parent, p, event.timestamp, this.#cgroupAtExec(pid, p, prev));
		const ctx = entry.ctx;
		event.exec = ctx;
		this.#attach(event, entry, ctx);
	}

	/**
	 * Runtimes fork, move the child into the container's cgroup, then exec: the exec is where a
	 * container process first shows. With cgroup ids (pure v2) a changed id says so; on v1 and
	 * hybrid hosts the id of the unified hierarchy cannot, so the cgroup file is read on exec.
	 */
	#cgroupAtExec(pid: number, p: ProcessContext, prev: Entry | undefined): CgroupMove | undefined {
		const kid = p.cgroup?.id;
		if (this.#cgroupIds) {
			return kid === undefined || kid === prev?.cgroupKid ? undefined : this.#cgroupById(pid, kid);
		}
		const found = this.#o.procfs.cgroup(pid);
		return found === undefined ? undefined : { info: found.info, kid: kid ?? found.kid };
	}

	/** The cgroup with kernel id `kid`, which `pid` was seen in; learnt from /proc once per id. */
	#cgroupById(pid: number, kid: string): CgroupMove | undefined {
		const known = this.#pathsByCgroupId.get(kid);
		if (known !== undefined) return { info: known, kid };
		const found = this.#o.procfs.cgroup(pid);
		if (found === undefined) return undefined;
		// Remember the id only when /proc confirms it (the process may have moved again since).
		if (found.kid === kid) {
			if (this.#pathsByCgroupId.size >= 4096) this.#pathsByCgroupId.clear();
			this.#pathsByCgroupId.set(kid, found.info);
		}
		return { info: found.info, kid };
	}

	#exit(event: Event, p: ProcessContext, pid: number): void {
		const entry = this.#entry(event, pid);
		if (entry === undefined) {
			event.exit = event.process;
			return;
		}
		let final = this.cache.contextFor(entry, p, false);
		// Only the thread group leader's exit ends the process; another thread's exit does not.
		if (p.tid === undefined || p.tid === pid) {
			this.cache.exit(entry, event.timestamp);
			final = entry.ctx;
		}
		const ctx: ProcessContext = { ...final, cause: p.cause, code: p.code };
		event.exit = ctx;
		this.#attach(event, entry, ctx);
	}

	/**
	 * setuid, setgid and capset change the whole process (glibc applies them to every thread):
	 * the payload's new values become the process's, so this event and later ones show them.
	 */
	#credentials(event: Event, p: ProcessContext, pid: number): void {
		const entry = this.#entry(event, pid);
		if (entry === undefined) return;
		const payload = event[event.type] as Record<string, unknown> | undefined;
		const seen: ProcessContext = { ...p };
		for (const key of CRED_PAYLOADS[event.type]!) {
			const v = payload?.[key];
			if (typeof v === "number") seen[key] = v;
		}
		this.#attach(event, entry, this.cache.contextFor(entry, seen, true));
	}

	/** Events about a second process: the signal's target, the ptrace tracee, a cgroup migration. */
	#otherProcess(event: Event): void {
		if (event.type === "signal") {
			const signal = event.signal as { pid?: unknown; target?: ProcessContext } | undefined;
			if (signal === undefined || typeof signal.pid !== "number" || signal.target?.ancestors !== undefined)
				return;
			const target = this.#peek(signal.pid);
			if (target !== undefined) signal.target = target;
		} else if (event.type === "ptrace") {
			const ptrace = event.ptrace as { tracee?: ProcessContext } | undefined;
			const pid = ptrace?.tracee?.pid;
			if (ptrace === undefined || pid === undefined || ptrace.tracee?.ancestors !== undefined) return;
			const tracee = this.#peek(pid);
			if (tracee !== undefined) ptrace.tracee = tracee;
		} else {
			const pid = (event.cgroup_write as { pid?: unknown } | undefined)?.pid;
			if (typeof pid !== "number") return;
			const entry = this.cache.lookup(pid);
			const found = entry === undefined ? undefined : this.#o.procfs.cgroup(pid);
			if (entry !== undefined && found !== undefined) this.cache.moveCgroup(entry, found);
		}
	}

	#peek(pid: number): ProcessContext | undefined {
		const entry = this.#known(pid, false);
		return entry === undefined ? undefined : this.cache.current(entry);
	}
}
