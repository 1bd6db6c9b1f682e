import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Event } from "../../core/model/types.ts";
import type { KillReport } from "./kill.ts";
import { engineFor, event, policyDir, recorder, T0, until } from "./testing.ts";

const dir = policyDir();
const dirs = [dir];
afterAll(() => {
	for (const d of dirs) d.cleanup();
});

const children: Subprocess[] = [];
afterEach(() => {
	for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** A real process to act on: `sleep` in its own process group, killed after the test at the latest. */
const sleeper = (): Subprocess => {
	const child = Bun.spawn(["sleep", "300"], { stdio: ["ignore", "ignore", "ignore"] });
	children.push(child);
	return child;
};

const setup = async (name: string, policy: string, options: Parameters<typeof engineFor>[2] = {}) => {
	const d = policyDir();
	dirs.push(d);
	d.file(name, policy);
	const rec = recorder();
	const engine = engineFor(d.path, rec, options);
	await engine.reload();
	const failing = engine.report!.policies.flatMap((p) => p.rules).filter((r) => r.status !== "loaded");
	expect(failing).toEqual([]);
	return { rec, engine, run: (...events: Event[]) => engine.process(events, rec.out) };
};

const execOf = (pid: number, path = "/usr/bin/sleep", extra: Partial<Event> = {}, ts = T0): Event =>
	event("exec", {}, { pid, created_at: T0 - 1e9, comm: "sleep", file: { path } }, ts, extra);

describe("log", () => {
	test("logs at its level with its message, or `Rule <id> triggered`", async () => {
		const { rec, run } = await setup(
			"log.policy",
			`rules:
  - id: logged
    expression: exec.file.name == "sleep"
    actions:
      - log: { level: warning, message: a sleeper started }
      - log: {}
`,
		);
		run(execOf(9999));
		const lines = rec.logs.filter((l) => l.fields?.rule_id === "logged");
		expect(lines.map((l) => [l.level, l.message])).toEqual([
			["warn", "a sleeper started"],
			["info", "Rule logged triggered"],
		]);
	});
});

describe("kill", () => {
	const KILL = `rules:
  - id: kill_sleep
    expression: exec.file.name == "sleep"
    actions:
      - kill: { signal: SIGKILL }
  - id: term_sleep
    expression: exec.file.name == "sleep" && exec.comm == "sleep-term"
    actions:
      - kill: { signal: SIGTERM }
`;

	test("SIGKILL kills the real process; the alert waits for its exit and reports it", async () => {
		const { rec, run } = await setup("kill.policy", KILL);
		const child = sleeper();
		// event time close to now, as for a live event, so the time to respond is meaningful
		const detected = Date.now() * 1e6;
		run(execOf(child.pid, "/usr/bin/sleep", {}, detected));
		expect(await child.exited).toBe(137);
		expect(child.signalCode).toBe("SIGKILL");
		await until(() => rec.alerts.length === 1);
		const report = rec.alerts[0]!.actions![0] as unknown as KillReport;
		expect(report).toMatchObject({
			type: "kill",
			signal: "SIGKILL",
			scope: "process",
			status: "performed",
			pids: [child.pid],
		});
		expect(Date.parse(report.exited_at!)).toBeGreaterThanOrEqual(Date.parse(report.killed_at!));
		expect(Date.parse(report.detected_at)).toBe(Math.floor(detected / 1e6));
		expect(report.ttr).toMatch(/^\d+(\.\d+)?(ns|µs|ms|s)$/);
		expect(rec.stats.get("rule_engine.actions{action=kill,outcome=performed}")).toBe(1);
	});

	test("another signal is sent as such and the alert goes with the batch", async () => {
		const { rec, run } = await setup(
			"term.policy",
			`rules:
  - id: term_sleep
    expression: exec.file.name == "sleep"
    actions:
      - kill: { signal: SIGTERM }
`,
		);
		const child = sleeper();
		run(execOf(child.pid));
		expect(rec.alerts).toHaveLength(1);
		expect(rec.alerts[0]!.actions).toMatchObject([{ signal: "SIGTERM", status: "performed" }]);
		await child.exited;
		expect(child.signalCode).toBe("SIGTERM");
	});

	test("with enforcement disabled nothing is killed and the alert says so", async () => {
		const { rec, run } = await setup("kill.policy", KILL, {
			enforcement: {
				enabled: false,
				container: { enabled: true, maxAllowed: 5, period: 60e9 },
				executable: { enabled: true, maxAllowed: 5, period: 60e9 },
				exitTimeoutMs: 5000,
			},
		});
		const child = sleeper();
		run(execOf(child.pid));
		expect(rec.alerts[0]!.actions).toMatchObject([
			{ status: "enforcement_disabled", message: "enforcement is disabled" },
		]);
		expect(child.exitCode).toBeNull();
		expect(child.killed).toBe(false);
	});

	test("the executable disarmer stops a rule killing too many different programs; the survivor lives", async () => {
		const { rec, run } = await setup("kill.policy", KILL, {
			enforcement: {
				enabled: true,
				container: { enabled: true, maxAllowed: 5, period: 60e9 },
				executable: { enabled: true, maxAllowed: 2, period: 60e9 },
				exitTimeoutMs: 5000,
			},
		});
		const [a, b, c] = [sleeper(), sleeper(), sleeper()];
		run(execOf(a.pid, "/opt/one/sleep"), execOf(b.pid, "/opt/two/sleep"), execOf(c.pid, "/opt/three/sleep"));
		await Promise.all([a.exited, b.exited]);
		await until(() => rec.alerts.length === 3);
		const statuses = rec.alerts.map((x) => (x.actions![0] as { status: string; pids?: number[] }).status);
		expect(statuses.sort()).toEqual(["performed", "performed", "rule_disarmed"]);
		const disarmed = rec.alerts.find(
			(x) => (x.actions![0] as { status: string }).status === "rule_disarmed",
		)!;
		expect(disarmed.actions![0]).toMatchObject({
			message: "executable disarmer: more than 2 distinct executables within 60s",
		});
		expect(c.exitCode).toBeNull();
		expect(process.kill(c.pid, 0)).toBe(true);
	});

	test("the container disarmer counts distinct containers", async () => {
		const { rec, run } = await setup("kill.policy", KILL, {
			enforcement: {
				enabled: true,
				container: { enabled: true, maxAllowed: 1, period: 60e9 },
				executable: { enabled: true, maxAllowed: 5, period: 60e9 },
				exitTimeoutMs: 5000,
			},
		});
		const [a, b] = [sleeper(), sleeper()];
		run(
			execOf(a.pid, "/usr/bin/sleep", { container: { id: "c1" } }),
			execOf(b.pid, "/usr/bin/sleep", { container: { id: "c2" } }),
		);
		await a.exited;
		await until(() => rec.alerts.length === 2);
		expect(rec.alerts.map((x) => (x.actions![0] as { status: string }).status).sort()).toEqual([
			"performed",
			"rule_disarmed",
		]);
		expect(b.exitCode).toBeNull();
	});

	test("container scope signals every process of the container", async () => {
		const [a, b, outside] = [sleeper(), sleeper(), sleeper()];
		const { rec, run } = await setup(
			"container.policy",
			`rules:
  - id: kill_container
    expression: exec.file.name == "sleep"
    actions:
      - kill: { signal: SIGKILL, scope: container }
`,
			{
				processCache: () =>
					({ byContainer: (id: string) => (id === "ctr1" ? [{ pid: a.pid }, { pid: b.pid }] : []) }) as never,
			},
		);
		run(execOf(a.pid, "/usr/bin/sleep", { container: { id: "ctr1" } }));
		await Promise.all([a.exited, b.exited]);
		expect([a.signalCode, b.signalCode]).toEqual(["SIGKILL", "SIGKILL"]);
		await until(() => rec.alerts.length === 1);
		expect(rec.alerts[0]!.actions).toMatchObject([
			{ scope: "container", status: "performed", pids: [a.pid, b.pid] },
		]);
		expect(outside.exitCode).toBeNull();
	});

	test("pid 1 is never signalled", async () => {
		const { rec, run } = await setup(
			"term.policy",
			`rules:
  - id: term_init
    expression: exec.file.name == "init"
    actions:
      - kill: { signal: SIGTERM }
`,
		);
		run(execOf(1, "/sbin/init"));
		expect(rec.alerts[0]!.actions).toMatchObject([{ status: "no_target", message: "no process to signal" }]);
	});
});

describe("hash", () => {
	const content = "#!/bin/sh\necho vigil hash test\n";
	const file = join(dir.path, "payload.sh");
	writeFileSync(file, content);
	const big = join(dir.path, "big.bin");
	writeFileSync(big, Buffer.alloc(4096, 1));
	const HASH = `rules:
  - id: hash_open
    expression: open.file.name in ["payload.sh", "big.bin", "missing.sh"]
    actions:
      - hash: {}
  - id: hash_process
    expression: exec.file.name == "tool"
    actions:
      - hash: { field: process.file }
`;
	const openOf = (path: string, ts = T0) =>
		event("open", { file: { path } }, { pid: 999_999, created_at: 1 }, ts);

	test("sha1 and sha256 of the real file reach the alert, which waits for them", async () => {
		const { rec, run } = await setup("hash.policy", HASH);
		run(openOf(file));
		expect(rec.alerts).toHaveLength(0);
		await until(() => rec.alerts.length === 1);
		expect(rec.alerts[0]!.actions).toEqual([
			{
				type: "hash",
				path: file,
				state: "DONE",
				trigger: "rule",
				size: content.length,
				hashes: [
					`sha1:${createHash("sha1").update(content).digest("hex")}`,
					`sha256:${createHash("sha256").update(content).digest("hex")}`,
				],
			},
		]);
	});

	test("the field option hashes another file of the event (the process's executable)", async () => {
		const { rec, run } = await setup("hash.policy", HASH);
		// a live process: the file is read through its /proc/<pid>/root
		const live = sleeper();
		run(
			event("exec", {}, { pid: live.pid, created_at: 1, comm: "tool", file: { path: file, name: "tool" } }),
		);
		await until(() => rec.alerts.length === 1);
		expect(rec.alerts[0]!.actions).toMatchObject([{ path: file, state: "DONE" }]);
	});

	test("files over the size cap are not read; missing files and excess requests are reported", async () => {
		const { rec, run } = await setup("hash.policy", HASH, {
			hash: { algorithms: ["sha256"], maxFileSize: 1024, maxHashRate: 2, maxPending: 64 },
		});
		run(openOf(big), openOf(join(dir.path, "missing.sh")), openOf(file));
		await until(() => rec.alerts.length === 3);
		const byPath = Object.fromEntries(
			rec.alerts.map((a) => [(a.actions![0] as { path: string }).path, a.actions![0]]),
		);
		expect(byPath[big]).toMatchObject({ state: "FILE_TOO_BIG", size: 4096 });
		expect(byPath[join(dir.path, "missing.sh")]).toMatchObject({ state: "FILE_NOT_FOUND" });
		// two hashes per second of event time: the third request in the same instant is refused
		expect(byPath[file]).toMatchObject({ state: "HASH_WAS_RATE_LIMITED" });
	});
});

describe("coredump, silent rules and alerts", () => {
	test("coredump is reported unsupported; a silent rule runs its actions but raises no alert", async () => {
		const { rec, engine, run } = await setup(
			"misc.policy",
			`rules:
  - id: dump
    expression: exec.file.name == "a"
    actions:
      - coredump: { process: true }
  - id: quiet
    expression: exec.file.name == "b"
    silent: true
    actions:
      - set: { name: quiet_seen, value: true }
`,
		);
		run(execOf(10, "/bin/a"), execOf(11, "/bin/b"));
		expect(rec.alerts.map((a) => a.rule.id)).toEqual(["dump"]);
		expect(rec.alerts[0]!.actions).toEqual([
			{ type: "coredump", status: "unsupported", message: "coredump actions are not supported by vigil" },
		]);
		expect(engine.current!.context.variables.get("quiet_seen")!.get(execOf(12))).toBe(true);
		expect(rec.stats.get("rule_engine.matches{rule_id=quiet}")).toBe(1);
	});

	test("an alert carries the rule, its policy and the event", async () => {
		const { rec, run } = await setup(
			"alert.policy",
			`version: 3.0.0
rules:
  - id: described
    version: 1.2.3
    description: something ran
    expression: exec.file.name == "a"
    tags: { severity: high }
    product_tags: [mitre:T1059]
    group_id: family
`,
		);
		const e = execOf(10, "/bin/a");
		run(e);
		expect(rec.alerts).toEqual([
			{
				kind: "alert",
				timestamp: T0,
				rule: {
					id: "described",
					version: "1.2.3",
					description: "something ran",
					tags: { severity: "high" },
					product_tags: ["mitre:T1059"],
					group_id: "family",
					policy: { name: "alert.policy", version: "3.0.0", source: "file" },
				},
				event: e,
			},
		]);
	});

	test("alerts are rate limited per rule in event time and the drops counted", async () => {
		const { rec, run } = await setup(
			"limit.policy",
			`rules:
  - id: noisy
    expression: exec.file.name == "a"
  - id: once_a_minute
    expression: exec.file.name == "b"
    every: 1m
  - id: per_comm
    expression: exec.file.name == "c"
    every: 1m
    limiter_token: [process.comm]
`,
		);
		run(...Array.from({ length: 50 }, () => execOf(10, "/bin/a")));
		expect(rec.stats.get("rule_engine.rate_limiter.allow{rule_id=noisy}")).toBe(40);
		expect(rec.stats.get("rule_engine.rate_limiter.drop{rule_id=noisy}")).toBe(10);
		run(execOf(10, "/bin/b"), execOf(10, "/bin/b", {}, T0 + 30e9), execOf(10, "/bin/b", {}, T0 + 61e9));
		expect(rec.alerts.filter((a) => a.rule.id === "once_a_minute").map((a) => a.timestamp)).toEqual([
			T0,
			T0 + 61e9,
		]);
		const commOf = (comm: string) =>
			event("exec", {}, { pid: 20, created_at: 1, comm, file: { path: "/bin/c" } });
		run(commOf("x"), commOf("x"), commOf("y"));
		expect(rec.alerts.filter((a) => a.rule.id === "per_comm").map((a) => a.event.process.comm)).toEqual([
			"x",
			"y",
		]);
	});

	test("events of the agent itself and events with an error are not evaluated", async () => {
		const { rec, run } = await setup(
			"skip.policy",
			`rules:
  - id: any_exec
    expression: exec.file.name == "a"
`,
		);
		run(
			execOf(process.pid, "/bin/a"),
			execOf(10, "/bin/a", { error: { kind: "no_process_context", message: "unresolved" } }),
			execOf(11, "/bin/a"),
		);
		expect(rec.alerts.map((a) => a.event.process.pid)).toEqual([11]);
		expect(rec.stats.get("rule_engine.skipped{reason=own_pid}")).toBe(1);
		expect(rec.stats.get("rule_engine.skipped{reason=event_error}")).toBe(1);
	});
});
