/**
 * Kernel test harness: starts the `ebpf` probe through the plugin SDK (`setup` then `run`) with
 * a minimal plugin context of its own, runs real programs, and collects the events of the
 * processes a test started.
 *
 * These tests need root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF. When that is missing
 * they fail with the exact reason; they never skip silently.
 */
import { expect } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { ensureBpfObjects } from "../../bpf/build.ts";
import { FieldRegistry } from "../../core/model/registry.ts";
import type { Counter, CustomEvent, Emit, Event, PluginContext, Stats } from "../../core/sdk.ts";
import plugin, { EbpfConfig, type EbpfProbe } from "../../probes/ebpf/index.ts";

export const ROOT = resolve(import.meta.dir, "../..");
const TMP = join(ROOT, "test/.tmp");

/** Counters and gauges as the agent would keep them, readable by tests. */
export class TestStats implements Stats {
	readonly counters = new Map<string, { value: number }>();
	readonly gauges = new Map<string, () => number>();
	private key(name: string, tags?: Record<string, string>): string {
		const t = Object.entries(tags ?? {})
			.sort(([a], [b]) => a.localeCompare(b))
			.map(([k, x]) => `${k}=${x}`)
			.join(",");
		return t ? `${name}{${t}}` : name;
	}
	counter(name: string, tags?: Record<string, string>): Counter {
		const k = this.key(name, tags);
		let c = this.counters.get(k);
		if (!c) {
			const cell = { value: 0 };
			c = cell;
			this.counters.set(k, cell);
		}
		const cell = c;
		return {
			inc(by = 1) {
				cell.value += by;
			},
			get value() {
				return cell.value;
			},
		};
	}
	gauge(name: string, read: () => number, tags?: Record<string, string>): void {
		this.gauges.set(this.key(name, tags), read);
	}
	/** The value of counter `name{tags}` (0 if never bumped). */
	get(name: string, tags?: Record<string, string>): number {
		return this.counters.get(this.key(name, tags))?.value ?? 0;
	}
	/** Sum of every counter named `name`, whatever its tags. */
	sum(name: string): number {
		let s = 0;
		for (const [k, c] of this.counters) if (k === name || k.startsWith(`${name}{`)) s += c.value;
		return s;
	}
}

export interface TestContext {
	ctx: PluginContext;
	stats: TestStats;
	customs: CustomEvent[];
	logs: { level: string; message: string; fields?: Record<string, unknown> }[];
	abort: AbortController;
}

export const testContext = (): TestContext => {
	const stats = new TestStats();
	const customs: CustomEvent[] = [];
	const logs: TestContext["logs"] = [];
	const abort = new AbortController();
	const services = new Map<string, unknown>();
	const log =
		(level: string) =>
		(message: string, fields?: Record<string, unknown>): void => {
			logs.push({ level, message, ...(fields ? { fields } : {}) });
		};
	const ctx: PluginContext = {
		name: "ebpf",
		log: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
		stats,
		registry: FieldRegistry.linux(),
		services: {
			provide: (k, x) => void services.set(k, x),
			get: <T>(k: string) => services.get(k) as T | undefined,
		},
		agent: {
			hostname: "test",
			version: "0.0.0",
			datadogAgentVersion: "7.66.0",
			os: "linux",
			arch: process.arch,
			pid: process.pid,
			baseDir: ROOT,
		},
		emitCustom: (e) => void customs.push(e),
		emitAlert: () => {},
		producedEventTypes: () => new Set(),
		signal: abort.signal,
	};
	return { ctx, stats, customs, logs, abort };
};

/** A probe running in this process, collecting everything it emits. */
export interface ProbeRun extends TestContext {
	probe: EbpfProbe;
	events: Event[];
	/** Events refused while `accept` was false (emit accepted none of the batch). */
	refused: Event[];
	/** Whether emit accepts batches, as a bus with room does. */
	accept: boolean;
	/** Events of `pid` and of the processes it forked, in order. */
	tree(pid: number): Event[];
	/** Wait until `pred` holds on the collected events (polls; fails after `timeoutMs`). */
	waitFor(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
	stop(): Promise<void>;
}

let built: Promise<unknown> | undefined;

/** Build the BPF object once per test process. */
export const buildOnce = (): Promise<unknown> => {
	built ??= ensureBpfObjects();
	return built;
};

/**
 * Set up and run the probe. Throws (failing the test, loudly) when the kernel or the
 * privileges do not allow it.
 */
export async function startProbe(config: Partial<v.InferInput<typeof EbpfConfig>> = {}): Promise<ProbeRun> {
	await buildOnce();
	const tc = testContext();
	const parsed = v.parse(EbpfConfig, { self_test: false, ...config });
	let probe: EbpfProbe;
	try {
		probe = (await plugin.setup!(tc.ctx, parsed)) as EbpfProbe;
	} catch (e) {
		const banner = "=".repeat(100);
		console.error(
			`\n${banner}\nKERNEL TESTS CANNOT RUN HERE: ${e instanceof Error ? e.message : String(e)}\n` +
				`They need root (or CAP_BPF + CAP_PERFMON), a kernel with BTF, libbpf, clang and tracefs.\n${banner}\n`,
		);
		throw e;
	}
	const events: Event[] = [];
	const refused: Event[] = [];
	const run: ProbeRun = {
		...tc,
		probe,
		events,
		refused,
		accept: true,
		tree(pid) {
			const pids = new Set([pid]);
			const out: Event[] = [];
			for (const e of events) {
				if (e.type === "fork" && pids.has((e.fork as { parent_pid: number }).parent_pid))
					pids.add(e.process.pid!);
				if (pids.has(e.process.pid!)) out.push(e);
			}
			return out;
		},
		async waitFor(pred, what, timeoutMs = 10_000) {
			const end = performance.now() + timeoutMs;
			while (!pred()) {
				if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
				await Bun.sleep(10);
			}
		},
		async stop() {
			tc.abort.abort();
			await running;
			await probe.close();
		},
	};
	const emit: Emit = Object.assign(
		(batch: Event[]) => {
			const to = run.accept ? events : refused;
			for (const e of batch) to.push(e);
			return run.accept ? batch.length : 0;
		},
		{ waitForRoom: async () => {} },
	);
	const running = Promise.resolve(probe.run(emit, tc.abort.signal));
	return run;
}

/** A fresh directory under test/.tmp, removed by the returned function. */
export const tempDir = (prefix: string): { dir: string; remove: () => void } => {
	mkdirSync(TMP, { recursive: true });
	const dir = mkdtempSync(join(TMP, `${prefix}-`));
	return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

let actions: string | undefined;

/** The fixture program (test/kernel/fixtures/actions.c), compiled once. */
export const actionsBinary = (): string => {
	if (actions) return actions;
	mkdirSync(TMP, { recursive: true });
	const out = join(TMP, "actions");
	const r = Bun.spawnSync([
		"gcc",
		"-O1",
		"-Wall",
		"-o",
		out,
		join(import.meta.dir, "fixtures/actions.c"),
		"-lpthread",
	]);
	if (r.exitCode !== 0) throw new Error(`cannot compile the test fixture: ${r.stderr.toString()}`);
	actions = out;
	return out;
};

export interface Ran {
	pid: number;
	code: number;
	stdout: string;
}

/** Run a command to completion. */
export async function run(
	cmd: string[],
	options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
	const p = Bun.spawn(cmd, {
		cwd: options.cwd,
		env: options.env ?? process.env,
		stdout: "pipe",
		stderr: "pipe",
	});
	const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
	return { pid: p.pid, code, stdout: stdout.trim() };
}

/** Run the fixture program with `args`. */
export const act = (args: string[], options: { cwd?: string } = {}): Promise<Ran> =>
	run([actionsBinary(), ...args], options);

/**
 * Run `cmd` and wait until the probe has read its exit (the last event of a process), then
 * return what it ran and the events of it and its descendants.
 */
export async function observe(
	probe: ProbeRun,
	cmd: string[],
	options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ ran: Ran; events: Event[] }> {
	const ran = await run(cmd, options);
	await probe.waitFor(
		() => probe.events.some((e) => e.type === "exit" && e.process.pid === ran.pid),
		`the exit of ${cmd.join(" ")} (pid ${ran.pid})`,
	);
	return { ran, events: probe.tree(ran.pid) };
}

/** Like {@link observe}, for the fixture program. */
export const observeAct = (probe: ProbeRun, args: string[], options: { cwd?: string } = {}) =>
	observe(probe, [actionsBinary(), ...args], options);

/** Events of `type` in a list. */
export const ofType = (events: Event[], type: string): Event[] => events.filter((e) => e.type === type);

/** The payload of an event (`event.open` for an open). */
// biome-ignore lint/suspicious/noExplicitAny: tests read payloads by SECL name
export const payload = (e: Event | undefined): any => (e ? e[e.type] : undefined);

export { expect };
