import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { registry, testContext } from "../../test/context.ts";
import plugin, { PROCESS_CACHE_SERVICE, type ProcessCacheService, ProcessResolverConfig } from "./index.ts";
import { kernelEvent, ROOT_CREDS, writeFakeProcess } from "./testing.ts";

const ID = "c0ffee00".repeat(8);
const base = mkdtempSync(join(tmpdir(), "vigil-process-resolver-plugin-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const validate = (config: unknown) => plugin.config!["~standard"].validate(config);

describe("config", () => {
	test("defaults fill in", async () => {
		const result = await validate({});
		expect(result.issues).toBeUndefined();
		expect(result).toMatchObject({
			value: { mode: "auto", snapshot: true, cache_size: 16384, max_ancestors: 200, proc_root: "/proc" },
		});
	});

	test("bad values and unknown keys are errors naming their path", async () => {
		const result = v.safeParse(ProcessResolverConfig, {
			cache_size: 0,
			exit_retention: "soon",
			mode: "sometimes",
			cache: 5,
		});
		expect(result.success).toBe(false);
		const paths = Object.keys(v.flatten<typeof ProcessResolverConfig>(result.issues!).nested ?? {}).sort();
		expect(paths).toEqual(["cache", "cache_size", "exit_retention", "mode"]);
	});
});

describe("the plugin", () => {
	const proc = join(base, "proc");
	mkdirSync(proc);
	writeFakeProcess(proc, { pid: 1, ppid: 0, comm: "init", exe: "/usr/bin/sleep", argv: ["/sbin/init"] });
	writeFakeProcess(proc, { pid: 2, ppid: 0, comm: "kthreadd", kthread: true });
	writeFakeProcess(proc, {
		pid: 30,
		ppid: 1,
		comm: "app",
		uid: 1234,
		gid: 1234,
		exe: "/usr/bin/sleep",
		argv: ["app", "--serve"],
		cgroup: `0::/system.slice/docker-${ID}.scope\n`,
	});
	writeFileSync(
		join(base, "passwd"),
		"root:x:0:0:root:/root:/bin/sh\nalice:x:1234:1234::/home/alice:/bin/sh\n",
	);
	writeFileSync(join(base, "group"), "root:x:0:\nstaff:x:1234:\n");
	const config = v.parse(ProcessResolverConfig, {
		proc_root: "proc",
		passwd_path: "passwd",
		group_path: "group",
	});

	test("start takes the snapshot; events get their process, names resolve in every *.user field", async () => {
		const { ctx, stats, services, logs } = testContext({ name: "process-resolver", baseDir: base });
		const instance = await plugin.setup!(ctx, config);
		await instance.start?.();
		const cache = services.for("rule-engine").get<ProcessCacheService>(PROCESS_CACHE_SERVICE)!;
		expect(cache.dump().map((d) => d.pid)).toEqual([1, 2, 30]);
		expect(logs.find((l) => l.message === "process snapshot done")?.fields).toMatchObject({ processes: 3 });

		const creds = { ...ROOT_CREDS, uid: 1234, euid: 1234, fsuid: 1234, gid: 1234, egid: 1234, fsgid: 1234 };
		const event = kernelEvent(
			"open",
			1,
			{ pid: 30, comm: "app", ...creds },
			{ file: { path: "/data/x", uid: 1234, gid: 0 } },
		);
		instance.process([event], { alert: () => {}, custom: () => {} });
		expect(event.error).toBeUndefined();
		expect(event.process).toBe(cache.get(30)!);
		expect(registry.field("process.user")!.get(event)).toBe("alice");
		expect(registry.field("process.group")!.get(event)).toBe("staff");
		expect(registry.field("open.file.user")!.get(event)).toBe("alice");
		expect(registry.field("open.file.group")!.get(event)).toBe("root");
		expect(registry.field("process.argv")!.get(event)).toEqual(["--serve"]);
		expect(registry.field("container.id")!.get(event)).toBe(ID);
		expect(registry.field("process.container.id")!.get(event)).toBe(ID);
		expect(registry.field("cgroup.id")!.get(event)).toBe(`/system.slice/docker-${ID}.scope`);
		expect(registry.field("cgroup.manager")!.get(event)).toBe("docker");
		expect(registry.field("process.ancestors.pid")!.get(event)).toEqual([1]);
		expect(cache.byContainer(ID).map((p) => p.pid)).toEqual([30]);

		expect(stats.get("process_resolver.cache.size")).toBe(3);
		expect(stats.get("process_resolver.cache.hits")).toBe(1);
		expect(stats.get("process_resolver.cache.misses")).toBe(0);
		await instance.close?.();
	});

	test("exit listeners registered through the service hear of exits", async () => {
		const { ctx, services } = testContext({ name: "process-resolver", baseDir: base });
		const instance = await plugin.setup!(ctx, { ...config, snapshot: false });
		await instance.start?.();
		const cache = services.for("rule-engine").get<ProcessCacheService>(PROCESS_CACHE_SERVICE)!;
		expect(cache.size).toBe(0);
		const exited: number[] = [];
		cache.onExit((p) => exited.push(p.pid!));
		const out = { alert: () => {}, custom: () => {} };
		instance.process([kernelEvent("exit", 5, { pid: 30, comm: "app", cause: 0, code: 0 })], out);
		expect(exited).toEqual([]);
		await instance.close?.();
		expect(exited).toEqual([30]);
	});
});
