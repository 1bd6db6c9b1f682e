import { afterAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { Event, ProcessContext, ProcessorInstance } from "../../core/sdk.ts";
import { PROCESS_CACHE_SERVICE, type ProcessCacheService } from "../process-resolver/index.ts";
import plugin, { RULE_ENGINE_SERVICE, RuleEngineConfig, type RuleEngineService } from "./index.ts";
import { event, policyDir, recorder, T0, until } from "./testing.ts";

const dirs: ReturnType<typeof policyDir>[] = [];
afterAll(() => {
	for (const d of dirs) d.cleanup();
});
/** A rules directory of its own for each test. */
const fresh = () => {
	const d = policyDir();
	dirs.push(d);
	return d;
};

const version = (n: number, rules = 50) =>
	`version: "${n}"\nrules:\n${Array.from({ length: rules }, (_, i) => `  - id: v${n}_rule_${i}\n    expression: open.file.path == "/watched"\n`).join("")}`;

const start = async (config: unknown, produced?: ReadonlySet<string>) => {
	const rec = recorder({ produced });
	const instance = (await plugin.setup!(rec.ctx, v.parse(RuleEngineConfig, config))) as ProcessorInstance;
	await instance.start?.();
	const service = rec.services.for("test").get<RuleEngineService>(RULE_ENGINE_SERVICE)!;
	return { rec, instance, service };
};

const openAt = (ts: number): Event =>
	event("open", { file: { path: "/watched" } }, { pid: 77, created_at: 1 }, ts);

describe("config", () => {
	test("defaults fill in", () => {
		expect(v.parse(RuleEngineConfig, {})).toMatchObject({
			policies: ["rules"],
			windows_model: false,
			reload: { watch: true, debounce: "500ms", sighup: true },
			heartbeat: { first_interval: "1m", first_count: 5, interval: "10m" },
			enforcement: {
				enabled: true,
				disarmer: { container: { max_allowed: 5, period: "1m" } },
				exit_timeout: "2s",
			},
			hash: { max_file_size: 10 * 1024 * 1024, max_hash_rate: 500, algorithms: ["sha1", "sha256"] },
			rate_limit: { period: "100ms", burst: 40, max_tokens: 500 },
		});
	});

	test("bad values and unknown keys are errors naming their path", () => {
		const result = v.safeParse(RuleEngineConfig, {
			agent_version: "seven",
			reload: { debounce: "soon" },
			hash: { algorithms: ["crc32"] },
			rules: ["x"],
		});
		expect(result.success).toBe(false);
		const paths = Object.keys(v.flatten<typeof RuleEngineConfig>(result.issues!).nested ?? {}).sort();
		expect(paths).toEqual(["agent_version", "hash.algorithms.0", "reload.debounce", "rules"]);
	});
});

describe("the plugin", () => {
	test("loads its policies at start, reports them and raises alerts from batches", async () => {
		const dir = fresh();
		dir.file("main.policy", version(1, 3));
		const { rec, instance, service } = await start({
			policies: [dir.path],
			reload: { watch: false, sighup: false },
		});
		expect(rec.custom.map((c) => c.type)).toEqual(["ruleset_loaded"]);
		expect(service.report()?.policies[0]).toMatchObject({ name: "main.policy", version: "1" });
		expect(rec.logs.find((l) => l.message.startsWith("policies loaded:"))?.message).toMatch(
			/^policies loaded: 3 rules loaded, 0 filtered, 0 failed from 1 policy in \d+ ms$/,
		);
		instance.process([openAt(T0)], rec.out);
		expect(rec.alerts.map((a) => a.rule.id)).toEqual(["v1_rule_0", "v1_rule_1", "v1_rule_2"]);
		await instance.close?.();
	});

	test("rules over event types no probe produces are reported event_type_disabled", async () => {
		const dir = fresh();
		dir.file(
			"main.policy",
			'rules:\n  - id: on_exec\n    expression: exec.file.name == "x"\n  - id: on_open\n    expression: open.file.path == "/x"\n',
		);
		const { instance, service } = await start(
			{ policies: [dir.path], reload: { watch: false, sighup: false } },
			new Set(["open"]),
		);
		expect(service.report()!.policies[0]!.rules.map((r) => [r.id, r.status])).toEqual([
			["on_exec", "event_type_disabled"],
			["on_open", "loaded"],
		]);
		await instance.close?.();
	});

	test("a reload through the service swaps the rule set between batches: no batch sees half of one", async () => {
		const dir = fresh();
		dir.file("main.policy", version(1));
		const { rec, instance, service } = await start({
			policies: [dir.path],
			reload: { watch: false, sighup: false },
		});
		const perBatch: string[][] = [];
		let ts = T0;
		let reloaded = false;
		const reload = (async () => {
			// give the batch loop a head start, then change the file under it and reload
			await Bun.sleep(20);
			dir.file("main.policy", version(2));
			const report = await service.reload();
			reloaded = true;
			return report;
		})();
		const batch = () => {
			rec.alerts.length = 0;
			ts += 1e9;
			instance.process([openAt(ts)], rec.out);
			perBatch.push(rec.alerts.map((a) => a.rule.id));
		};
		while (!reloaded) {
			batch();
			await Bun.sleep(0);
		}
		const during = perBatch.length;
		for (let i = 0; i < 3; i++) batch();
		const report = await reload;
		expect(report.policies[0]).toMatchObject({ version: "2" });
		expect(during).toBeGreaterThan(1);
		// every batch saw exactly one complete rule set: 50 alerts, all of one version
		for (const ids of perBatch) {
			expect(ids).toHaveLength(50);
			expect(new Set(ids.map((id) => id.split("_")[0])).size).toBe(1);
		}
		expect(perBatch[0]![0]).toStartWith("v1_");
		expect(perBatch.at(-1)![0]).toStartWith("v2_");
		expect(rec.custom.filter((c) => c.type === "ruleset_loaded")).toHaveLength(2);
		await instance.close?.();
	});

	test("a changed policy file reloads by itself after the debounce", async () => {
		const dir = fresh();
		dir.file("main.policy", version(1, 1));
		const { rec, instance } = await start({
			policies: [dir.path],
			reload: { watch: true, debounce: "50ms", sighup: false },
		});
		dir.file("extra.policy", 'rules:\n  - id: added_later\n    expression: open.file.path == "/watched"\n');
		await until(() => rec.custom.filter((c) => c.type === "ruleset_loaded").length === 2);
		instance.process([openAt(T0)], rec.out);
		expect(rec.alerts.map((a) => a.rule.id).sort()).toEqual(["added_later", "v1_rule_0"]);
		await instance.close?.();
	});

	test("a reload with a broken rule keeps the good ones and reports the bad one", async () => {
		const dir = fresh();
		dir.file("main.policy", version(1, 1));
		dir.file("extra.policy", "rules:\n  - id: broken\n    expression: open.file.path ==\n");
		const { rec, instance, service } = await start({
			policies: [dir.path],
			reload: { watch: false, sighup: false },
		});
		const report = await service.reload();
		expect(report.policies.flatMap((p) => p.rules.map((r) => [r.id, r.status]))).toEqual([
			["broken", "syntax_error"],
			["v1_rule_0", "loaded"],
		]);
		expect(
			rec.logs.some((l) => l.level === "warn" && l.message.startsWith("rule broken: syntax_error:")),
		).toBe(true);
		instance.process([openAt(T0)], rec.out);
		expect(rec.alerts.map((a) => a.rule.id)).toEqual(["v1_rule_0"]);
		await instance.close?.();
	});

	test("SIGHUP reloads", async () => {
		const dir = fresh();
		dir.file("main.policy", version(1, 1));
		const { rec, instance } = await start({ policies: [dir.path], reload: { watch: false, sighup: true } });
		process.kill(process.pid, "SIGHUP");
		await until(() => rec.custom.filter((c) => c.type === "ruleset_loaded").length === 2);
		await instance.close?.();
		expect(process.listenerCount("SIGHUP")).toBe(0);
	});

	test("with a process cache, exits it reports free process scopes, and scope_field finds the process's start time", async () => {
		const dir = fresh();
		dir.file(
			"main.policy",
			`rules:
  - id: mark
    expression: open.file.path == "/mark"
    actions:
      - set: { name: marked, value: true, scope: process }
  - id: mark_other
    expression: cgroup_write.pid != 0
    actions:
      - set: { name: marked, value: true, scope: process, scope_field: cgroup_write.pid }
  - id: check
    expression: open.file.path == "/check" && \${process.marked}
`,
		);
		const rec = recorder();
		const listeners: ((p: ProcessContext) => void)[] = [];
		const target: ProcessContext = { pid: 501, created_at: T0 - 7e9 };
		const cache: Partial<ProcessCacheService> = {
			get: (pid) => (pid === 501 ? target : undefined),
			byContainer: () => [],
			onExit: (l) => {
				listeners.push(l);
				return () => listeners.splice(listeners.indexOf(l), 1);
			},
		};
		rec.services.for("process-resolver").provide(PROCESS_CACHE_SERVICE, cache);
		const config = v.parse(RuleEngineConfig, {
			policies: [dir.path],
			reload: { watch: false, sighup: false },
		});
		const instance = (await plugin.setup!(rec.ctx, config)) as ProcessorInstance;
		await instance.start?.();
		const proc: ProcessContext = { pid: 500, created_at: T0 - 9e9 };
		const at = (path: string, p: ProcessContext) => event("open", { file: { path } }, p);
		instance.process(
			[
				at("/mark", proc),
				event("cgroup_write", { pid: 501 }, { pid: 1, created_at: 1 }),
				at("/check", proc),
				at("/check", target),
			],
			rec.out,
		);
		expect(rec.alerts.filter((a) => a.rule.id === "check").map((a) => a.event.process.pid)).toEqual([
			500, 501,
		]);
		for (const l of listeners) l(proc);
		rec.alerts.length = 0;
		instance.process([at("/check", proc), at("/check", target)], rec.out);
		expect(rec.alerts.filter((a) => a.rule.id === "check").map((a) => a.event.process.pid)).toEqual([501]);
		await instance.close?.();
		expect(listeners).toHaveLength(0);
	});

	test("flush waits for alerts whose actions are still running", async () => {
		const dir = fresh();
		dir.file("payload", "some bytes");
		dir.file(
			"main.policy",
			'rules:\n  - id: hashed\n    expression: open.file.name == "payload"\n    actions:\n      - hash: {}\n',
		);
		const { rec, instance } = await start({ policies: [dir.path], reload: { watch: false, sighup: false } });
		instance.process(
			[event("open", { file: { path: `${dir.path}/payload` } }, { pid: 999_997, created_at: 1 })],
			rec.out,
		);
		expect(rec.alerts).toHaveLength(0);
		await instance.flush?.();
		expect(rec.alerts.map((a) => a.actions?.[0]?.state)).toEqual(["DONE"]);
		await instance.close?.();
	});

	test("heartbeats name each policy, at the first interval and then the longer one", async () => {
		const dir = fresh();
		dir.file("main.policy", version(7, 1));
		dir.file("extra.policy", "rules: []\n");
		const { rec, instance } = await start({
			policies: [dir.path],
			reload: { watch: false, sighup: false },
			heartbeat: { first_interval: "10ms", first_count: 2, interval: "30ms" },
		});
		await until(() => rec.custom.filter((c) => c.type === "heartbeat").length >= 6);
		const beats = rec.custom.filter((c) => c.type === "heartbeat");
		expect(beats[0]!.data).toEqual({
			policy: { name: "extra.policy", version: "", source: "file" },
			date: expect.any(String),
		});
		expect(beats[1]!.data).toMatchObject({ policy: { name: "main.policy", version: "7", source: "file" } });
		await instance.close?.();
	});
});
