/**
 * Kernel test harness: starts the `ebpf` probe through the plugin SDK (`setup` then `run`) in a
 * test plugin context, runs real programs, and collects the events of the processes a test
 * started.
 *
 * These tests need root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF. When that is missing
 * they fail with the exact reason; they never skip silently.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { ensureBpfObjects } from "../../bpf/build.ts";
import type { Emit, Event } from "../../core/sdk.ts";
import plugin, { EbpfConfig, type EbpfProbe } from "../../probes/ebpf/index.ts";
import { type TestContext, testContext } from "../context.ts";
import { tempDir as sharedTempDir } from "../helpers.ts";

export const ROOT = resolve(import.meta.dir, "../..");
const TMP = join(ROOT, "test/.tmp");

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
	const tc = testContext({ name: "ebpf", baseDir: ROOT });
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

/**
 * The probe of a test file: before its first test the fixture program is built, the probe started
 * with `config` and a temp directory made (`ready` receives both); after its last test they are
 * stopped and removed.
 */
export const useProbe = (
	name: string,
	config: Partial<v.InferInput<typeof EbpfConfig>>,
	ready: (probe: ProbeRun, dir: string) => void,
): void => {
	let probe: ProbeRun | undefined;
	let tmp: ReturnType<typeof tempDir> | undefined;
	beforeAll(async () => {
		actionsBinary();
		probe = await startProbe(config);
		tmp = tempDir(name);
		ready(probe, tmp.path);
	});
	afterAll(async () => {
		await probe?.stop();
		tmp?.cleanup();
	});
};

/** A fresh directory under test/.tmp. */
export const tempDir = (prefix: string) => sharedTempDir(`${prefix}-`, TMP);

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
	return { ran, events: await eventsOf(probe, ran.pid, cmd.join(" ")) };
}

/**
 * Wait until the probe has read the exit of `pid` (the last event of a process; `what` names it
 * in the timeout message), then give the events of it and its descendants.
 */
export async function eventsOf(probe: ProbeRun, pid: number, what: string): Promise<Event[]> {
	await probe.waitFor(
		() => probe.events.some((e) => e.type === "exit" && e.process.pid === pid),
		`the exit of ${what} (pid ${pid})`,
	);
	return probe.tree(pid);
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
