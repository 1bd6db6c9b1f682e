import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Event, ProcessContext } from "../../core/model/types.ts";
import type { RuleEngine } from "./engine.ts";
import { engineFor, event, policyDir, recorder, T0 } from "./testing.ts";

const dir = policyDir();
const dirs = [dir];
afterAll(() => {
	for (const d of dirs) d.cleanup();
});

const rec = recorder();
let engine: RuleEngine;

const POLICY = `rules:
  - id: set_value
    expression: open.file.path == "/value"
    actions:
      - set: { name: flag, value: true }
  - id: set_field
    expression: open.file.path =~ "/field/*"
    actions:
      - set: { name: last_path, field: open.file.path }
  - id: set_expression
    expression: open.file.path == "/expression"
    actions:
      - set: { name: key, expression: process.comm, default_value: "" }
  - id: set_expression_concat
    expression: open.file.path == "/interpolated"
    actions:
      - set: { name: key, expression: '"pid_\${process.pid}"', default_value: "" }
  - id: append_capped
    expression: open.file.path =~ "/append/*"
    actions:
      - set: { name: seen, field: open.file.name, append: true, size: 2 }
  - id: process_scope
    expression: open.file.path == "/process"
    actions:
      - set: { name: marked, value: "yes", scope: process, inherited: true }
  - id: container_scope
    expression: open.file.path == "/container"
    actions:
      - set: { name: hits, value: 1, scope: container, append: true }
  - id: cgroup_scope
    expression: open.file.path == "/cgroup"
    actions:
      - set: { name: categories, value: ssh, scope: cgroup, append: true, ttl: 10s }
  - id: private_value
    expression: open.file.path == "/private"
    actions:
      - set: { name: secret, value: hidden, private: true }
      - set: { name: visible, value: shown }
  - id: filtered_action
    expression: open.file.path == "/filtered"
    actions:
      - filter: process.comm == "allowed"
        set: { name: filtered_flag, value: true }
  - id: scope_field
    expression: cgroup_write.pid != 0
    actions:
      - set: { name: moved, value: "by-other", scope: process, scope_field: cgroup_write.pid }
  - id: reads_flag
    expression: open.file.path == "/check" && \${flag}
`;

beforeAll(async () => {
	dir.file("set.policy", POLICY);
	engine = engineFor(dir.path, rec);
	await engine.reload();
});

const run = (...events: Event[]) => engine.process(events, rec.out);
const variable = (ref: string) => engine.current!.context.variables.get(ref)!;
const open = (
	path: string,
	extra: Partial<Event> = {},
	process: ProcessContext = { pid: 4242, created_at: T0 - 1e9, comm: "tester" },
	ts = T0,
) => event("open", { file: { path } }, process, ts, extra);

describe("set actions", () => {
	test("every rule of the policy loads", () => {
		expect(engine.report!.policies[0]!.rules.filter((r) => r.status !== "loaded")).toEqual([]);
	});

	test("value: a later rule reads what an earlier match stored", () => {
		run(open("/check"));
		expect(rec.alerts.filter((a) => a.rule.id === "reads_flag")).toHaveLength(0);
		run(open("/value"), open("/check"));
		expect(rec.alerts.filter((a) => a.rule.id === "reads_flag")).toHaveLength(1);
	});

	test("field: the event's value of the field", () => {
		run(open("/field/one"));
		expect(variable("last_path").get(open("/x"))).toBe("/field/one");
	});

	test("expression: computed per match, variables interpolated", () => {
		run(open("/expression", {}, { pid: 7, created_at: 1, comm: "bash" }));
		expect(variable("key").get(open("/x"))).toBe("bash");
		run(open("/interpolated", {}, { pid: 8, created_at: 1 }));
		expect(variable("key").get(open("/x"))).toBe("pid_8");
	});

	test("append: values gather without duplicates, the oldest dropped beyond size", () => {
		run(open("/append/a"), open("/append/b"), open("/append/a"));
		expect(variable("seen").get(open("/x"))).toEqual(["b", "a"]);
		run(open("/append/c"));
		expect(variable("seen").get(open("/x"))).toEqual(["a", "c"]);
	});

	test("process scope: per process, inherited by descendants, freed when the process exits", () => {
		const parent = { pid: 100, created_at: T0 - 5e9, comm: "sh" };
		const child = { pid: 101, created_at: T0 - 1e9, comm: "curl", ancestors: [parent] };
		const other = { pid: 102, created_at: T0 - 1e9, comm: "cat" };
		run(open("/process", {}, parent));
		expect(variable("process.marked").get(open("/x", {}, parent))).toBe("yes");
		expect(variable("process.marked").get(open("/x", {}, child))).toBe("yes");
		expect(variable("process.marked").get(open("/x", {}, other))).toBe("");
		run(event("exit", { cause: 0 }, parent, T0 + 1e9));
		expect(variable("process.marked").get(open("/x", {}, parent))).toBe("");
	});

	test("inherited values are copied when the child forks and outlive the parent", () => {
		const parent = { pid: 110, created_at: T0 - 5e9, comm: "sh" };
		const child = { pid: 111, created_at: T0 - 1e9, comm: "curl", parent, ancestors: [parent] };
		run(open("/process", {}, parent));
		run(event("fork", {}, child, T0 - 1e9));
		run(event("exit", { cause: 0 }, parent, T0 + 1e9));
		expect(variable("process.marked").get(open("/x", {}, parent))).toBe("");
		expect(variable("process.marked").get(open("/x", {}, child, T0 + 2e9))).toBe("yes");
	});

	test("container and cgroup scopes: per container or cgroup; an event outside any stores nothing", () => {
		const inA = { container: { id: "aaaa" } };
		run(open("/container", inA), open("/container", inA), open("/container"));
		expect(variable("container.hits").get(open("/x", inA))).toEqual([1]);
		expect(variable("container.hits").get(open("/x", { container: { id: "bbbb" } }))).toEqual([]);
		const cg = { cgroup: { id: "/system.slice/web.service" } };
		run(open("/cgroup", cg));
		expect(variable("cgroup.categories").get(open("/x", cg))).toEqual(["ssh"]);
		expect(variable("cgroup.categories").get(open("/x", { cgroup: { id: "/other" } }))).toEqual([]);
	});

	test("ttl: a value lives for its ttl of event time", () => {
		const cg = { cgroup: { id: "/ttl.slice" } };
		run(open("/cgroup", cg, undefined, T0 + 100e9));
		expect(variable("cgroup.categories").get(open("/x", cg, undefined, T0 + 105e9))).toEqual(["ssh"]);
		expect(variable("cgroup.categories").get(open("/x", cg, undefined, T0 + 111e9))).toEqual([]);
	});

	test("private values are stored but never reach an alert", () => {
		run(open("/private"));
		expect(variable("secret").get(open("/x"))).toBe("hidden");
		const alert = rec.alerts.filter((a) => a.rule.id === "private_value").at(-1)!;
		const globals = (alert.context!.variables as Record<string, Record<string, unknown>>).global!;
		expect(globals.visible).toBe("shown");
		expect(globals).not.toHaveProperty("secret");
	});

	test("an action filter decides per match whether the action runs", () => {
		run(open("/filtered", {}, { pid: 5, created_at: 1, comm: "denied" }));
		expect(variable("filtered_flag").get(open("/x"))).toBe(false);
		run(open("/filtered", {}, { pid: 5, created_at: 1, comm: "allowed" }));
		expect(variable("filtered_flag").get(open("/x"))).toBe(true);
		expect(rec.stats.get("rule_engine.actions{action=set,outcome=filtered}")).toBe(1);
	});

	test("scope_field: the value goes to the process named by the field, not the event's", () => {
		const mover = { pid: 300, created_at: 1, comm: "runc" };
		run(event("cgroup_write", { pid: 301, file: { path: "/sys/fs/cgroup/x/cgroup.procs" } }, mover));
		expect(variable("process.moved").get(open("/x", {}, { pid: 301, created_at: 0 }))).toBe("by-other");
		expect(variable("process.moved").get(open("/x", {}, mover))).toBe("");
	});

	test("set actions are counted", () => {
		expect(rec.stats.get("rule_engine.actions{action=set,outcome=done}")).toBeGreaterThan(10);
	});
});

describe("variables across reloads", () => {
	test("values survive a reload; a variable whose type changed starts afresh instead of failing its rules", async () => {
		const d = policyDir();
		dirs.push(d);
		d.file(
			"v.policy",
			'rules:\n  - id: r\n    expression: open.file.path == "/v"\n    actions:\n      - set: { name: kept, value: "one" }\n      - set: { name: retyped, value: "text" }\n',
		);
		const r = recorder();
		const e = engineFor(d.path, r);
		await e.reload();
		e.process([open("/v")], r.out);
		await e.reload();
		expect(e.current!.context.variables.get("kept")!.get(open("/x"))).toBe("one");
		d.file(
			"v.policy",
			'rules:\n  - id: r\n    expression: open.file.path == "/v"\n    actions:\n      - set: { name: kept, value: "one" }\n      - set: { name: retyped, value: 5 }\n',
		);
		const load = await e.reload();
		expect(load.report.policies[0]!.rules[0]!.status).toBe("loaded");
		expect(e.current!.context.variables.get("retyped")!.type).toBe("int");
	});
});
