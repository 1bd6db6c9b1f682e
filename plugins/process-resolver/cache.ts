/**
 * @module The process cache: one entry per process image, linked to its ancestor entry (the fork
 * parent, or the same pid's image before an exec), each publishing an immutable
 * {@link ProcessContext} that events point to.
 *
 * Versions, not mutation: processors run one after another over a whole batch, so the rule engine
 * reads an event's context after the resolver has handled every later event of the batch. An
 * entry therefore never changes a context it has published: a change of credentials, comm,
 * cgroup, exit time, user names or of an ancestor publishes a new object, and earlier events keep
 * theirs. Contexts are shared between events of a process and must be treated as read-only.
 *
 * When to use: through the process resolver plugin; other plugins read it as the
 * {@link ProcessCacheService} `vigil/process-resolver/cache`.
 */

import { basename, type NameResolver } from "../../core/model/derive.ts";
import type { CgroupContext, ContainerContext, FileFields, ProcessContext } from "../../core/model/types.ts";
import type { Counter } from "../../core/sdk.ts";
import type { CgroupInfo } from "./cgroup.ts";
import type { Credentials, ProcProcess } from "./procfs.ts";

/** What other plugins get as `vigil/process-resolver/cache`. Contexts are shared: never modify one. */
export interface ProcessCacheService {
	/** The current context of `pid`, if the cache has it (exited processes stay a while). */
	get(pid: number): ProcessContext | undefined;
	/** Current contexts of the processes forked by `pid` (by any of its images). */
	children(pid: number): ProcessContext[];
	/** Current contexts of the processes in container `id`. */
	byContainer(id: string): ProcessContext[];
	/**
	 * Call `listener` once per process that exited (or whose pid was reused without an exit
	 * being seen), with its final context. It runs after every processor has handled the batch
	 * holding the exit event: at the start of the next batch, or when the agent stops. Returns a
	 * function that removes the listener.
	 */
	onExit(listener: (process: ProcessContext) => void): () => void;
	/** Every current entry as plain data, for `process-cache dump`. */
	dump(): ProcessCacheDumpEntry[];
	readonly size: number;
}

export interface ProcessCacheDumpEntry {
	pid: number;
	ppid?: number;
	comm?: string;
	path?: string;
	argv0?: string;
	argv?: string[];
	uid?: number;
	euid?: number;
	user?: string;
	container_id?: string;
	cgroup?: string;
	created_at?: number;
	exec_time?: number;
	exit_time?: number;
	is_exec: boolean;
	is_thread: boolean;
	is_kworker: boolean;
	source?: string;
	/** Pids of the ancestor entries, nearest first (the pre-exec image repeats the pid). */
	ancestor_pids: number[];
	lineage_valid: boolean;
}

/** Where an entry's first data came from (Datadog's process `source`). */
export type EntrySource = "snapshot" | "procfs" | "event";

export interface CacheCounters {
	/** Exited entries evicted (retention elapsed, or room needed). */
	readonly evictedExited: Counter;
	/** Live entries evicted as least recently used. */
	readonly evictedLive: Counter;
}

/** A cgroup a process was found in, with its kernel id when known. */
export interface CgroupMove {
	readonly info: CgroupInfo;
	readonly kid: string | undefined;
}

export interface CacheOptions {
	readonly capacity: number;
	readonly maxAncestors: number;
	readonly names: NameResolver;
	readonly counters: CacheCounters;
	/**
	 * Resolves the cgroup of `pid` when an event shows it in cgroup `kid` that differs from its
	 * entry's; undefined when unknown (the entry then keeps its cgroup). Absent: never track.
	 */
	readonly cgroupOf?: (pid: number, kid: string) => CgroupMove | undefined;
}

/** Thread contexts cached per entry; a process with more live threads rebuilds some. */
const MAX_THREAD_VARIANTS = 256;
/**
 * A process start time read from /proc is in clock ticks since a boot time known to ~10 ms; a
 * fork event this close to it is the same process.
 */
const PROC_START_SLACK_NS = 1e9;
/** Interned cgroup/container objects; cleared when full (attached contexts keep theirs). */
const MAX_CGROUPS = 4096;

class Entry {
	ctx: ProcessContext;
	/** Contexts of threads other than the main one (different tid, comm or credentials). */
	threads: Map<number, ProcessContext> | undefined;
	/** Entries whose ancestor is this one: forked children and the next image of this pid. */
	children: Set<Entry> | undefined;
	/** Names generation `ctx` was built with. */
	gen: number;
	/** An ancestor published a newer context than the one in `ctx.ancestors`. */
	stale = false;
	used = 0;
	exited = false;
	/** Holds `pid` in the cache map (false once replaced by an exec, a new fork or evicted). */
	current = false;
	cgroupKid: string | undefined;
	brokenAt: string | undefined;

	constructor(
		readonly pid: number,
		readonly parent: Entry | undefined,
		/** The chain of ancestors reaches pid 1 or kthreadd. */
		readonly lineage: boolean,
		ctx: ProcessContext,
		gen: number,
	) {
		this.ctx = ctx;
		this.gen = gen;
	}
}

export type { Entry };

/** Every context is built here first, so all share one property order (one hidden class). */
const shape = (c: ProcessContext): ProcessContext => ({
	pid: c.pid,
	ppid: c.ppid,
	tid: c.tid,
	uid: c.uid,
	gid: c.gid,
	euid: c.euid,
	egid: c.egid,
	fsuid: c.fsuid,
	fsgid: c.fsgid,
	user: undefined,
	group: undefined,
	euser: undefined,
	egroup: undefined,
	fsuser: undefined,
	fsgroup: undefined,
	auid: c.auid,
	cap_effective: c.cap_effective,
	cap_permitted: c.cap_permitted,
	comm: c.comm,
	tty_name: c.tty_name,
	created_at: c.created_at,
	exec_time: c.exec_time,
	exit_time: c.exit_time,
	argv0: c.argv0,
	argv: c.argv,
	args_truncated: c.args_truncated,
	envp: c.envp,
	envs_truncated: c.envs_truncated,
	file: c.file,
	interpreter: c.interpreter,
	is_thread: c.is_thread,
	is_kworker: c.is_kworker,
	is_exec: c.is_exec,
	is_exec_child: c.is_exec_child,
	source: c.source,
	container: c.container,
	cgroup: c.cgroup,
	parent: undefined,
	ancestors: undefined,
});

/** True when every credential the event carries equals the context's. */
const sameCreds = (p: ProcessContext, c: ProcessContext): boolean =>
	(p.uid === undefined || p.uid === c.uid) &&
	(p.gid === undefined || p.gid === c.gid) &&
	(p.euid === undefined || p.euid === c.euid) &&
	(p.egid === undefined || p.egid === c.egid) &&
	(p.fsuid === undefined || p.fsuid === c.fsuid) &&
	(p.fsgid === undefined || p.fsgid === c.fsgid) &&
	(p.auid === undefined || p.auid === c.auid) &&
	(p.cap_effective === undefined || p.cap_effective === c.cap_effective) &&
	(p.cap_permitted === undefined || p.cap_permitted === c.cap_permitted);

const CRED_KEYS = [
	"uid",
	"gid",
	"euid",
	"egid",
	"fsuid",
	"fsgid",
	"auid",
	"cap_effective",
	"cap_permitted",
] as const satisfies ReadonlyArray<keyof Credentials>;

/** Copy the credentials `from` carries onto `to`. */
const copyCreds = (to: ProcessContext, from: Credentials | ProcessContext): void => {
	for (const k of CRED_KEYS) {
		const v = from[k];
		if (v !== undefined) to[k] = v;
	}
};

/** The kernel names an exec'd task after its file, cut to TASK_COMM_LEN - 1 bytes. */
const commOf = (file: FileFields | undefined): string | undefined =>
	file === undefined ? undefined : (file.name ?? basename(file.path)).slice(0, 15);

const sameArgs = (a: ProcessContext, b: ProcProcess): boolean => {
	if (a.argv0 !== b.argv0) return false;
	const x = a.argv ?? [];
	if (x.length !== b.argv.length) return false;
	for (let i = 0; i < x.length; i++) if (x[i] !== b.argv[i]) return false;
	return true;
};

interface Interned {
	readonly cgroup: CgroupContext;
	readonly container: ContainerContext | undefined;
}

export class ProcessCache implements ProcessCacheService {
	readonly #byPid = new Map<number, Entry>();
	readonly #byContainer = new Map<string, Set<Entry>>();
	readonly #cgroups = new Map<string, Interned>();
	readonly #containers = new Map<string, ContainerContext>();
	#exitQueue: Entry[] = [];
	#exitHead = 0;
	#lru: Array<{ entry: Entry; used: number }> = [];
	#lruHead = 0;
	#pendingExits: ProcessContext[] = [];
	readonly #exitListeners = new Set<(process: ProcessContext) => void>();
	#tick = 0;
	#gen = 0;

	constructor(readonly options: CacheOptions) {}

	get size(): number {
		return this.#byPid.size;
	}

	/** The entry holding `pid`, without touching it. */
	lookup(pid: number): Entry | undefined {
		return this.#byPid.get(pid);
	}

	/** User and group names changed: every context is rebuilt the next time it is used. */
	namesChanged(): void {
		this.#gen++;
	}

	// ---- the per-event path ----

	/**
	 * The context for an event of `entry` whose own values (tid, credentials, comm, cgroup) are
	 * `p`. Equal values give the entry's published context without allocating. Credentials or
	 * comm that changed on the main thread publish a new version (so do credentials with
	 * `processWide`, for setuid/setgid/capset); other threads get a cached per-thread context.
	 */
	contextFor(entry: Entry, p: ProcessContext, processWide: boolean): ProcessContext {
		entry.used = ++this.#tick;
		this.current(entry);
		const cgroupOf = this.options.cgroupOf;
		if (cgroupOf !== undefined) {
			const kid = p.cgroup?.id;
			if (kid !== undefined && kid !== entry.cgroupKid) this.#cgroupSeen(entry, kid, cgroupOf);
		}
		let base = entry.ctx;
		const tid = p.tid;
		const main = tid === undefined || tid === entry.pid;
		if (!sameCreds(p, base)) {
			if (!main && !processWide) return this.#threadContext(entry, p, tid!);
			const patch: ProcessContext = {};
			copyCreds(patch, p);
			this.publish(entry, patch);
			base = entry.ctx;
		}
		const comm = p.comm;
		if (comm !== undefined && comm !== base.comm) {
			if (!main) return this.#threadContext(entry, p, tid!);
			this.publish(entry, { comm });
			return entry.ctx;
		}
		if (main || tid === base.tid) return base;
		return this.#threadContext(entry, p, tid);
	}

	#threadContext(entry: Entry, p: ProcessContext, tid: number): ProcessContext {
		let threads = entry.threads;
		const known = threads?.get(tid);
		if (known !== undefined && (p.comm === undefined || p.comm === known.comm) && sameCreds(p, known))
			return known;
		const base = entry.ctx;
		const next: ProcessContext = { ...base, tid };
		if (p.comm !== undefined) next.comm = p.comm;
		if (!sameCreds(p, base)) {
			copyCreds(next, p);
			this.#name(next);
		}
		if (threads === undefined) {
			threads = new Map();
			entry.threads = threads;
		} else if (threads.size >= MAX_THREAD_VARIANTS) {
			threads.clear();
		}
		threads.set(tid, next);
		return next;
	}

	#cgroupSeen(entry: Entry, kid: string, cgroupOf: NonNullable<CacheOptions["cgroupOf"]>): void {
		const resolved = cgroupOf(entry.pid, kid);
		entry.cgroupKid = kid;
		if (resolved) this.#enterCgroup(entry, resolved.info, kid);
	}

	/** Publish a new context for `entry` with `patch` applied; descendants will rebuild their lineage. */
	publish(entry: Entry, patch: ProcessContext): void {
		this.current(entry);
		const prev = entry.ctx;
		const next: ProcessContext = { ...prev, ...patch };
		if (!sameCreds(next, prev)) this.#name(next);
		entry.ctx = next;
		entry.threads = undefined;
		if (entry.current && next.container !== prev.container) {
			this.#unindex(entry, prev.container?.id);
			this.#index(entry);
		}
		this.#markDescendantsStale(entry);
	}

	/** Make `entry.ctx` current: names of this generation, ancestors' latest contexts. */
	#refresh(entry: Entry): void {
		const chain: Entry[] = [];
		for (
			let e: Entry | undefined = entry;
			e !== undefined && (e.gen !== this.#gen || e.stale);
			e = e.parent
		) {
			chain.push(e);
		}
		for (let i = chain.length - 1; i >= 0; i--) {
			const e = chain[i]!;
			const next: ProcessContext = { ...e.ctx };
			if (e.gen !== this.#gen) this.#name(next);
			this.#link(next, e.parent);
			e.ctx = next;
			e.gen = this.#gen;
			e.stale = false;
			e.threads = undefined;
			this.#markDescendantsStale(e);
		}
	}

	#markDescendantsStale(entry: Entry): void {
		if (entry.children === undefined) return;
		const todo: Entry[] = [entry];
		while (todo.length > 0) {
			const e = todo.pop()!;
			if (e.children === undefined) continue;
			for (const c of e.children) {
				if (c.stale) continue;
				c.stale = true;
				todo.push(c);
			}
		}
	}

	#name(c: ProcessContext): void {
		const names = this.options.names;
		c.user = c.uid === undefined ? undefined : names.user(c.uid);
		c.group = c.gid === undefined ? undefined : names.group(c.gid);
		c.euser = c.euid === undefined ? undefined : names.user(c.euid);
		c.egroup = c.egid === undefined ? undefined : names.group(c.egid);
		c.fsuser = c.fsuid === undefined ? undefined : names.user(c.fsuid);
		c.fsgroup = c.fsgid === undefined ? undefined : names.group(c.fsgid);
	}

	/** `parent` and `ancestors` of a context whose ancestor entry is `parent` (fresh). */
	#link(c: ProcessContext, parent: Entry | undefined): void {
		if (parent === undefined) {
			c.parent = undefined;
			c.ancestors = [];
			return;
		}
		const pc = parent.ctx;
		const up = pc.ancestors ?? [];
		const n = Math.min(up.length + 1, this.options.maxAncestors);
		const ancestors = new Array<ProcessContext>(n);
		ancestors[0] = pc;
		for (let i = 1; i < n; i++) ancestors[i] = up[i - 1]!;
		c.parent = pc;
		c.ancestors = ancestors;
	}

	// ---- creating entries ----

	#create(
		pid: number,
		parent: Entry | undefined,
		init: ProcessContext,
		cgroupKid: string | undefined,
		sameProcess = false,
	): Entry {
		if (parent !== undefined) this.current(parent);
		const ctx = shape(init);
		this.#name(ctx);
		this.#link(ctx, parent);
		const lineage = parent !== undefined ? parent.lineage : (pid === 1 || pid === 2) && !init.ppid;
		const entry = new Entry(pid, parent, lineage, ctx, this.#gen);
		entry.cgroupKid = cgroupKid;
		entry.used = ++this.#tick;
		if (parent !== undefined) {
			parent.children ??= new Set();
			parent.children.add(entry);
		}
		this.#insert(entry, sameProcess);
		return entry;
	}

	/**
	 * An entry from /proc (start-up snapshot or on-demand fill). A process whose executable and
	 * arguments equal its parent's is taken for a fork that did not exec (`is_thread`, Datadog's
	 * meaning); any other user process for an exec'd image.
	 */
	fromProc(proc: ProcProcess, parent: Entry | undefined, source: EntrySource): Entry {
		const pc = parent?.ctx;
		const forkedOnly =
			pc !== undefined && !proc.isKworker && pc.file?.path === proc.file?.path && sameArgs(pc, proc);
		const init: ProcessContext = {
			pid: proc.pid,
			ppid: proc.ppid,
			tid: proc.pid,
			comm: proc.comm,
			tty_name: proc.ttyName,
			created_at: proc.startNs,
			exec_time: forkedOnly ? pc?.exec_time : proc.isKworker ? undefined : proc.startNs,
			argv0: proc.argv0,
			argv: proc.argv,
			args_truncated: proc.argsTruncated,
			envp: proc.envp,
			envs_truncated: proc.envsTruncated,
			file: proc.file,
			is_thread: forkedOnly,
			is_kworker: proc.isKworker,
			is_exec: !forkedOnly && !proc.isKworker,
			is_exec_child: false,
			source,
		};
		copyCreds(init, proc.creds);
		if (proc.cgroup) Object.assign(init, this.#interned(proc.cgroup, proc.cgroupKid));
		return this.#create(proc.pid, parent, init, proc.cgroupKid);
	}

	/**
	 * A forked child: it inherits its parent's image (executable, arguments, environment,
	 * container, tty, exec time) and takes its credentials and comm from the event.
	 */
	fork(
		parent: Entry | undefined,
		p: ProcessContext,
		timestamp: number,
		cgroup: CgroupMove | undefined,
	): Entry {
		const pid = p.pid!;
		const pc: ProcessContext = parent?.ctx ?? {};
		const init: ProcessContext = {
			pid,
			ppid: p.ppid ?? parent?.pid,
			tid: pid,
			comm: p.comm ?? pc.comm,
			tty_name: pc.tty_name,
			created_at: timestamp,
			exec_time: pc.exec_time,
			argv0: pc.argv0,
			argv: pc.argv,
			args_truncated: pc.args_truncated,
			envp: pc.envp,
			envs_truncated: pc.envs_truncated,
			file: pc.file,
			interpreter: pc.interpreter,
			is_thread: true,
			is_kworker: pc.is_kworker === true,
			is_exec: false,
			is_exec_child: false,
			source: "event",
			container: pc.container,
			cgroup: pc.cgroup,
		};
		const kid = this.#fromEvent(init, parent, p, cgroup);
		// The snapshot or a /proc fill may have read the child between its fork and this event.
		const old = this.#byPid.get(pid);
		const sameProcess =
			old !== undefined &&
			old.ctx.source !== "event" &&
			Math.abs((old.ctx.created_at ?? 0) - timestamp) < PROC_START_SLACK_NS;
		return this.#create(pid, parent, init, kid, sameProcess);
	}

	/**
	 * A new image for `prev`'s pid. Its ancestor is `prev`, the pre-exec image (Datadog's
	 * `SetExecParent`), or, when the pre-exec image was missed, `parent` (the entry of ppid).
	 */
	exec(
		prev: Entry | undefined,
		parent: Entry | undefined,
		p: ProcessContext,
		timestamp: number,
		cgroup: CgroupMove | undefined,
	): Entry {
		const pid = p.pid!;
		const pc: ProcessContext = prev?.ctx ?? {};
		const file = p.file as FileFields | undefined;
		const init: ProcessContext = {
			pid,
			ppid: p.ppid ?? pc.ppid ?? parent?.pid,
			tid: pid,
			comm: p.comm ?? commOf(file),
			tty_name: pc.tty_name,
			created_at: pc.created_at ?? timestamp,
			exec_time: timestamp,
			argv0: p.argv0,
			argv: p.argv,
			args_truncated: p.args_truncated === true,
			envp: p.envp,
			envs_truncated: p.envs_truncated === true,
			file,
			interpreter: p.interpreter,
			is_thread: false,
			is_kworker: false,
			is_exec: true,
			is_exec_child: pc.is_exec === true,
			source: "event",
			container: pc.container ?? parent?.ctx.container,
			cgroup: pc.cgroup ?? parent?.ctx.cgroup,
		};
		const kid = this.#fromEvent(init, prev, p, cgroup);
		return this.#create(pid, prev ?? parent, init, kid);
	}

	/**
	 * What a fork or exec event adds to the context `init` of a process that comes after `from`:
	 * the credentials of `from`, then those of the event's process `p`, and the cgroup the event
	 * moved it to. Gives the kernel id of its cgroup (the event's, else `from`'s).
	 */
	#fromEvent(
		init: ProcessContext,
		from: Entry | undefined,
		p: ProcessContext,
		cgroup: CgroupMove | undefined,
	): string | undefined {
		if (from !== undefined) copyCreds(init, from.ctx);
		copyCreds(init, p);
		if (cgroup === undefined) return p.cgroup?.id ?? from?.cgroupKid;
		Object.assign(init, this.#interned(cgroup.info, cgroup.kid));
		return cgroup.kid;
	}

	/** Mark `entry` exited at `timestamp`; it leaves the cache after the retention or under pressure. */
	exit(entry: Entry, timestamp: number): void {
		if (entry.exited) return;
		this.publish(entry, { exit_time: timestamp });
		entry.exited = true;
		this.#exitQueue.push(entry);
		this.#pendingExits.push(entry.ctx);
	}

	/** Move `entry` to another cgroup (a `cgroup_write` or a cgroup seen on exec). */
	moveCgroup(entry: Entry, move: CgroupMove): void {
		entry.cgroupKid = move.kid ?? entry.cgroupKid;
		this.#enterCgroup(entry, move.info, move.kid);
	}

	/** Publish `entry` in the cgroup `info` (kernel id `kid`) unless it is there already. */
	#enterCgroup(entry: Entry, info: CgroupInfo, kid: string | undefined): void {
		if (info.path === entry.ctx.cgroup?.id) return;
		this.publish(entry, this.#interned(info, kid));
	}

	/** The context of `entry`, up to date (names of this generation, ancestors' latest contexts). */
	current(entry: Entry): ProcessContext {
		if (entry.gen !== this.#gen || entry.stale) this.#refresh(entry);
		return entry.ctx;
	}

	/** Where the lineage of `entry` breaks, for the `broken_process_lineage` message. */
	brokenAt(entry: Entry): string {
		if (entry.brokenAt !== undefined) return entry.brokenAt;
		let top = entry;
		while (top.parent !== undefined) top = top.parent;
		entry.brokenAt = `lineage of process ${entry.pid} stops at pid ${top.pid}, whose parent ${top.ctx.ppid ?? "?"} is unknown`;
		return entry.brokenAt;
	}

	#interned(
		info: CgroupInfo,
		kid: string | undefined,
	): { cgroup: CgroupContext; container: ContainerContext | undefined } {
		const key = `${kid ?? ""}:${info.path}`;
		let found = this.#cgroups.get(key);
		if (found === undefined) {
			const cgroup: CgroupContext = { id: info.path, manager: info.manager, version: info.version };
			if (kid !== undefined && /^\d+$/.test(kid)) cgroup.file = { inode: Number(kid) };
			let container: ContainerContext | undefined;
			if (info.containerId !== "") {
				container = this.#containers.get(info.containerId);
				if (container === undefined) {
					container = { id: info.containerId, runtime: info.manager };
					if (this.#containers.size >= MAX_CGROUPS) this.#containers.clear();
					this.#containers.set(info.containerId, container);
				}
			}
			found = { cgroup, container };
			if (this.#cgroups.size >= MAX_CGROUPS) this.#cgroups.clear();
			this.#cgroups.set(key, found);
		}
		return found;
	}

	// ---- membership and eviction ----

	#insert(entry: Entry, sameProcess: boolean): void {
		const old = this.#byPid.get(entry.pid);
		if (old !== undefined) {
			// An exec replaces its own pre-exec image; anything else holding the pid is a process
			// whose exit was never seen (pid reuse): report it as exited.
			if (!old.exited && !sameProcess && entry.parent !== old) this.#pendingExits.push(this.current(old));
			this.#remove(old);
		} else {
			this.#makeRoom();
		}
		entry.current = true;
		this.#byPid.set(entry.pid, entry);
		this.#index(entry);
	}

	#remove(entry: Entry): void {
		this.#byPid.delete(entry.pid);
		this.#unindex(entry, entry.ctx.container?.id);
		entry.current = false;
		// A removed entry stays linked while it has descendants (it is in their ancestors); a leaf
		// is unlinked, and so, in turn, are ancestors left without descendants.
		let e: Entry = entry;
		while (!e.current && (e.children === undefined || e.children.size === 0) && e.parent !== undefined) {
			e.parent.children?.delete(e);
			e = e.parent;
		}
	}

	#index(entry: Entry): void {
		const id = entry.ctx.container?.id;
		if (!id) return;
		let set = this.#byContainer.get(id);
		if (set === undefined) {
			set = new Set();
			this.#byContainer.set(id, set);
		}
		set.add(entry);
	}

	#unindex(entry: Entry, id: string | undefined): void {
		if (!id) return;
		const set = this.#byContainer.get(id);
		if (set === undefined) return;
		set.delete(entry);
		if (set.size === 0) this.#byContainer.delete(id);
	}

	#evict(entry: Entry): void {
		this.#remove(entry);
		(entry.exited ? this.options.counters.evictedExited : this.options.counters.evictedLive).inc();
	}

	/** Exited entries leave first, oldest exit first; then the least recently used. */
	#makeRoom(): void {
		while (this.#byPid.size >= this.options.capacity) {
			const victim = this.#nextExited() ?? this.#nextLeastRecent();
			if (victim === undefined) return;
			this.#evict(victim);
		}
	}

	#nextExited(): Entry | undefined {
		while (this.#exitHead < this.#exitQueue.length) {
			const e = this.#exitQueue[this.#exitHead++]!;
			if (e.current) return e;
		}
		this.#compactExitQueue();
		return undefined;
	}

	#compactExitQueue(): void {
		if (this.#exitHead > 1024 && this.#exitHead * 2 > this.#exitQueue.length) {
			this.#exitQueue = this.#exitQueue.slice(this.#exitHead);
			this.#exitHead = 0;
		}
	}

	/**
	 * Exact LRU without a list update per event: entries carry a use stamp; a scan collects the
	 * oldest 1/64 of the cache and later evictions take from it, skipping entries used since (a
	 * stamp only grows, so the untouched ones are still the oldest). Pids 1 and 2 stay.
	 */
	#nextLeastRecent(): Entry | undefined {
		for (let pass = 0; pass < 2; pass++) {
			while (this.#lruHead < this.#lru.length) {
				const c = this.#lru[this.#lruHead++]!;
				if (c.entry.current && c.entry.used === c.used) return c.entry;
			}
			const all: Array<{ entry: Entry; used: number }> = [];
			for (const e of this.#byPid.values()) if (e.pid > 2) all.push({ entry: e, used: e.used });
			all.sort((a, b) => a.used - b.used);
			this.#lru = all.slice(0, Math.max(1, this.options.capacity >> 6));
			this.#lruHead = 0;
		}
		return undefined;
	}

	/** Evict exited entries whose exit is at or before `before` (event time). */
	expire(before: number): void {
		while (this.#exitHead < this.#exitQueue.length) {
			const e = this.#exitQueue[this.#exitHead]!;
			if (e.current && (e.ctx.exit_time ?? 0) > before) break;
			this.#exitHead++;
			if (e.current) this.#evict(e);
		}
		this.#compactExitQueue();
	}

	/** Deliver the exits collected so far to the `onExit` listeners. */
	flushExits(onError: (error: unknown) => void): void {
		if (this.#pendingExits.length === 0) return;
		const exits = this.#pendingExits;
		this.#pendingExits = [];
		for (const ctx of exits) {
			for (const listener of this.#exitListeners) {
				try {
					listener(ctx);
				} catch (e) {
					onError(e);
				}
			}
		}
	}

	// ---- ProcessCacheService ----

	get(pid: number): ProcessContext | undefined {
		const e = this.#byPid.get(pid);
		return e === undefined ? undefined : this.current(e);
	}

	children(pid: number): ProcessContext[] {
		const out: ProcessContext[] = [];
		for (let image = this.#byPid.get(pid); image !== undefined && image.pid === pid; image = image.parent) {
			for (const child of image.children ?? []) {
				if (child.pid === pid) continue;
				// The child may have exec'd since: report its current image if it descends from `child`.
				const now = this.#byPid.get(child.pid);
				let e = now;
				while (e !== undefined && e !== child && e.pid === child.pid) e = e.parent;
				if (now !== undefined && e === child) out.push(this.current(now));
			}
		}
		return out;
	}

	byContainer(id: string): ProcessContext[] {
		const set = this.#byContainer.get(id);
		if (set === undefined) return [];
		return [...set].map((e) => this.current(e));
	}

	onExit(listener: (process: ProcessContext) => void): () => void {
		this.#exitListeners.add(listener);
		return () => this.#exitListeners.delete(listener);
	}

	dump(): ProcessCacheDumpEntry[] {
		const out: ProcessCacheDumpEntry[] = [];
		for (const e of this.#byPid.values()) {
			const c = this.current(e);
			const ancestorPids: number[] = [];
			for (let a = e.parent; a !== undefined; a = a.parent) ancestorPids.push(a.pid);
			out.push({
				pid: e.pid,
				ppid: c.ppid,
				comm: c.comm,
				path: c.file?.path,
				argv0: c.argv0,
				argv: c.argv,
				uid: c.uid,
				euid: c.euid,
				user: c.user,
				container_id: c.container?.id,
				cgroup: c.cgroup?.id,
				created_at: c.created_at,
				exec_time: c.exec_time,
				exit_time: c.exit_time,
				is_exec: c.is_exec === true,
				is_thread: c.is_thread === true,
				is_kworker: c.is_kworker === true,
				source: c.source as string | undefined,
				ancestor_pids: ancestorPids,
				lineage_valid: e.lineage,
			});
		}
		return out.sort((a, b) => a.pid - b.pid);
	}
}
