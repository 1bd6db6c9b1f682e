/**
 * @module Benchmark of the process resolver's per-event cost, beside a floor measured in the same
 * run: a plain loop that looks each event's pid up in a Map and attaches the value (the least any
 * process cache does). Cases: cache hits on the main thread with unchanged credentials (the common
 * case; target well under 100 ns/event), hits from other threads (cached per-thread contexts),
 * and fork → exec → open → exit lifecycles, on this host (cgroup v1 or hybrid: exec reads
 * /proc/<pid>/cgroup) and on a /proc laid out as a pure cgroup v2 host (exec reads nothing).
 *
 * Run: `bun bench/process-resolver.ts`, or `bun run bench process-resolver`.
 */
import type { Event, ProcessContext } from "../core/model/types.ts";
import { StatsRegistry } from "../core/stats.ts";
import { NameTable } from "../plugins/process-resolver/names.ts";
import { ProcFs } from "../plugins/process-resolver/procfs.ts";
import { ProcessResolver } from "../plugins/process-resolver/resolver.ts";
import { counters, ROOT_CREDS, writeFakeProcess } from "../plugins/process-resolver/testing.ts";
import { recordingLogger } from "../test/context.ts";
import { tempDir } from "../test/helpers.ts";
import { median } from "./stats.ts";

const PROCESSES = 2000;
const BATCH = 1024;
const BATCHES = 200;
const RUNS = 7;
const FIRST_PID = 5_000_000;

const makeResolver = (procRoot = "/proc"): ProcessResolver => {
	const resolver = new ProcessResolver({
		mode: "auto",
		procfs: new ProcFs(procRoot),
		names: new NameTable("/etc/passwd", "/etc/group"),
		capacity: 16384,
		maxAncestors: 200,
		exitRetentionNs: 10e9,
		namesReloadNs: 5e9,
		log: recordingLogger([]),
		counters: counters(new StatsRegistry()),
	});
	resolver.reloadNames();
	resolver.snapshot();
	// Synthetic processes under pid 1, two levels deep, as the kernel probe would announce them.
	const forks: Event[] = [];
	for (let i = 0; i < PROCESSES; i++) {
		const pid = FIRST_PID + i;
		const ppid = i < 100 ? 1 : FIRST_PID + (i % 100);
		forks.push({
			type: "fork",
			timestamp: 1,
			flags: 0,
			process: { pid, tid: pid, ppid, comm: "app", ...ROOT_CREDS },
		});
	}
	resolver.process(forks);
	return resolver;
};

/** Kernel-shaped `open` events; `raw` keeps each event's probe object so a run can start afresh. */
const makeBatches = (thread: boolean): { batches: Event[][]; raw: ProcessContext[][] } => {
	const batches: Event[][] = [];
	const raw: ProcessContext[][] = [];
	let seed = 42;
	const random = () => {
		seed = (seed * 1103515245 + 12345) & 0x7fffffff;
		return seed;
	};
	for (let b = 0; b < BATCHES; b++) {
		const events: Event[] = [];
		const processes: ProcessContext[] = [];
		for (let i = 0; i < BATCH; i++) {
			const pid = FIRST_PID + (random() % PROCESSES);
			const p: ProcessContext = { pid, tid: thread ? pid + 1_000_000 : pid, comm: "app", ...ROOT_CREDS };
			processes.push(p);
			events.push({
				type: "open",
				timestamp: 2 + b,
				flags: 0,
				process: p,
				open: { file: { path: "/etc/hosts" } },
			});
		}
		batches.push(events);
		raw.push(processes);
	}
	return { batches, raw };
};

const reset = (batches: Event[][], raw: ProcessContext[][]): void => {
	for (let b = 0; b < batches.length; b++) {
		const events = batches[b]!;
		const processes = raw[b]!;
		for (let i = 0; i < events.length; i++) {
			const e = events[i]!;
			e.process = processes[i]!;
			e.container = undefined;
			e.cgroup = undefined;
		}
	}
};

/** ns/event of `work` over all batches, median of RUNS after one warm-up. */
const measure = (batches: Event[][], raw: ProcessContext[][], work: (batch: Event[]) => void): number => {
	const times: number[] = [];
	for (let run = 0; run <= RUNS; run++) {
		reset(batches, raw);
		const t0 = performance.now();
		for (const batch of batches) work(batch);
		const ms = performance.now() - t0;
		if (run > 0) times.push(ms);
	}
	return (median(times) * 1e6) / (BATCHES * BATCH);
};

const lifecycles = (resolver: ProcessResolver): number => {
	const times: number[] = [];
	let pid = FIRST_PID + PROCESSES;
	let ts = 1e12;
	for (let run = 0; run <= RUNS; run++) {
		const batches: Event[][] = [];
		for (let b = 0; b < 50; b++) {
			const events: Event[] = [];
			for (let i = 0; i < BATCH / 4; i++) {
				pid++;
				ts += 10;
				const creds = { comm: "sh", ...ROOT_CREDS };
				events.push({
					type: "fork",
					timestamp: ts,
					flags: 0,
					process: { pid, tid: pid, ppid: FIRST_PID, ...creds },
				});
				const exec: ProcessContext = {
					pid,
					tid: pid,
					ppid: FIRST_PID,
					...creds,
					comm: "ls",
					file: { path: "/usr/bin/ls", name: "ls", inode: 1, mount_id: 1 },
					argv0: "ls",
					argv: ["-l"],
					envp: ["PATH=/usr/bin"],
				};
				events.push({ type: "exec", timestamp: ts + 1, flags: 0, process: exec, exec });
				events.push({
					type: "open",
					timestamp: ts + 2,
					flags: 0,
					process: { pid, tid: pid, ...creds, comm: "ls" },
				});
				const exit: ProcessContext = { pid, tid: pid, ...creds, comm: "ls", cause: 0, code: 0 };
				events.push({ type: "exit", timestamp: ts + 3, flags: 0, process: exit, exit });
			}
			batches.push(events);
		}
		const t0 = performance.now();
		for (const batch of batches) resolver.process(batch);
		const ms = performance.now() - t0;
		if (run > 0) times.push(ms);
	}
	return (median(times) * 1e6) / (50 * BATCH);
};

export const run = async (): Promise<Record<string, number>> => {
	const resolver = makeResolver();
	const floorMap = new Map<number, ProcessContext>();
	for (let i = 0; i < PROCESSES; i++) floorMap.set(FIRST_PID + i, resolver.cache.get(FIRST_PID + i)!);
	const floor = (batch: Event[]): void => {
		for (let i = 0; i < batch.length; i++) {
			const e = batch[i]!;
			const ctx = floorMap.get(e.process.pid!);
			if (ctx !== undefined) e.process = ctx;
		}
	};
	const main = makeBatches(false);
	const threads = makeBatches(true);
	const floorNs = measure(main.batches, main.raw, floor);
	const hitNs = measure(main.batches, main.raw, (b) => resolver.process(b));
	const threadNs = measure(threads.batches, threads.raw, (b) => resolver.process(b));
	const lifecycleNs = lifecycles(resolver);
	// The same on a pure cgroup v2 host, where exec reads nothing from /proc.
	const v2Root = tempDir("vigil-bench-proc-");
	let lifecycleV2Ns: number;
	try {
		v2Root.file("self/cgroup", "0::/\n");
		writeFakeProcess(v2Root.path, { pid: 1, ppid: 0, comm: "init", exe: "/usr/bin/sleep" });
		lifecycleV2Ns = lifecycles(makeResolver(v2Root.path));
	} finally {
		v2Root.cleanup();
	}
	// The figures are only meaningful if the resolver did resolve: check one event of each case.
	const sample = main.batches[0]![0]!;
	if (sample.process.ancestors === undefined || sample.error !== undefined)
		throw new Error("events were not resolved");
	const result = {
		floor_ns_per_event: round(floorNs),
		hit_ns_per_event: round(hitNs),
		hit_ratio_to_floor: round(hitNs / floorNs),
		thread_hit_ns_per_event: round(threadNs),
		lifecycle_ns_per_event: round(lifecycleNs),
		lifecycle_v2_ns_per_event: round(lifecycleV2Ns),
		cache_size: resolver.cache.size,
	};
	console.log(
		`events per case: ${BATCHES * BATCH} in batches of ${BATCH}, ${PROCESSES} processes, median of ${RUNS}`,
	);
	console.table(result);
	return result;
};

const round = (x: number): number => Math.round(x * 10) / 10;

if (import.meta.main) await run();
