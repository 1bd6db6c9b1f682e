import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../test/helpers.ts";
import { FieldRegistry } from "../model/registry.ts";
import { eventFromValues } from "../model/values.ts";
import { detectHost } from "./host.ts";
import { loadPolicies } from "./loader.ts";
import type { PolicyInfo, PolicyReport, RuleReport } from "./types.ts";

const tmp = tempDir("vigil-policy-loader-");
afterAll(() => tmp.cleanup());

let dirCount = 0;
/** A rules directory holding `files` (name → text). */
const rulesDir = (files: Record<string, string>): string => {
	const dir = join(tmp.path, `rules${dirCount++}`);
	mkdirSync(dir);
	for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
	return dir;
};

const host = detectHost();
const load = (
	dirs: string[],
	extra: Parameters<typeof loadPolicies>[0] extends infer O ? Partial<O> : never = {},
) => loadPolicies({ dirs, host, ...extra });

const ruleOf = (policies: readonly PolicyReport[], policy: string, id: string): RuleReport => {
	const p = policies.find((x) => x.name === policy);
	const r = p?.rules.find((x) => x.id === id);
	if (!r) throw new Error(`no rule ${id} in ${policy}: ${JSON.stringify(p?.rules.map((x) => x.id))}`);
	return r;
};

describe("load report statuses", async () => {
	const dir = rulesDir({
		"custom.policy": `version: 2.1.0
rules:
  - id: ok
    expression: open.file.path == "/etc/shadow"
    tags: { severity: high }
    product_tags: [policy:test]
  - id: broken_syntax
    expression: open.file.path == && exec.file.name == "x"
  - id: unknown_field
    expression: |-
      open.file.path == "/etc/shadow"
        && open.file.colour == "red"
  - id: bad_version
    expression: open.file.path == "/x"
    agent_version: ">= banana"
  - id: other_os
    expression: open.file.path == "/x"
    filters: ['os == "windows"']
  - id: too_new
    expression: open.file.path == "/x"
    agent_version: ">= 99.0"
  - id: exec_rule
    expression: exec.file.name == "nc"
  - id: no_expression
    description: forgot it
  - id: bad_filter
    expression: open.file.path == "/x"
    filters: ['os === "linux"']
`,
	});
	const result = await load([dir], { enabledEventTypes: new Set(["open"]), agentVersion: "7.73.0" });
	const rules = result.report.policies[0]!.rules;
	const status = (id: string) => rules.find((r) => r.id === id);
	const file = join(dir, "custom.policy");

	test("the policy is named after its file with its version and source", () => {
		expect(result.report.policies[0]).toMatchObject({
			name: "custom.policy",
			version: "2.1.0",
			source: "file",
		});
		expect(rules.map((r) => r.id)).toEqual([
			"ok",
			"broken_syntax",
			"unknown_field",
			"bad_version",
			"other_os",
			"too_new",
			"exec_rule",
			"no_expression",
			"bad_filter",
		]);
	});

	test("loaded rules carry their expression, tags and product tags", () => {
		expect(status("ok")).toEqual({
			id: "ok",
			expression: 'open.file.path == "/etc/shadow"',
			status: "loaded",
			tags: { severity: "high" },
			product_tags: ["policy:test"],
		});
		expect(result.rules.get("ok")?.eventType).toBe("open");
	});

	test("a syntax error is located in the file", () => {
		expect(status("broken_syntax")?.status).toBe("syntax_error");
		expect(status("broken_syntax")?.message).toMatch(new RegExp(`^${file}:8:\\d+: .*\\[syntax\\]$`));
	});

	test("a type error is an error located on its line and column inside a block expression", () => {
		expect(status("unknown_field")?.status).toBe("error");
		expect(status("unknown_field")?.message).toStartWith(`${file}:12:12: `);
		expect(status("unknown_field")?.message).toEndWith("[unknown_field]");
	});

	test("a malformed agent_version is an agent_version_error at the constraint", () => {
		expect(status("bad_version")).toMatchObject({ status: "agent_version_error" });
		expect(status("bad_version")?.message).toBe(
			`${file}:15:20: agent_version: ">=banana" is not a version comparison (in ">= banana")`,
		);
	});

	test("rules left out by filters or agent_version are filtered, naming why", () => {
		expect(status("other_os")).toMatchObject({ status: "filtered" });
		expect(status("other_os")?.message).toStartWith(
			'excluded by filter: os == "windows" (this host: os linux',
		);
		expect(status("too_new")).toMatchObject({
			status: "filtered",
			message: 'excluded by agent_version ">= 99.0" (agent version 7.73.0)',
		});
	});

	test("a rule over an event type no probe produces is event_type_disabled", () => {
		expect(status("exec_rule")).toMatchObject({
			status: "event_type_disabled",
			message: "no enabled probe produces exec events",
		});
		expect(result.rules.has("exec_rule")).toBe(false);
	});

	test("a rule without expression and a rule with an invalid filter are errors", () => {
		expect(status("no_expression")).toMatchObject({
			status: "error",
			message: `${file}:24:5: no rule expression`,
		});
		expect(status("bad_filter")).toMatchObject({ status: "error" });
		expect(status("bad_filter")?.message).toContain("filters[0]:");
	});

	test("only loaded rules are in the rule set, and the counts add up", () => {
		expect([...result.rules.keys()]).toEqual(["ok"]);
		expect(result.counts.rules).toEqual({
			loaded: 1,
			filtered: 2,
			event_type_disabled: 1,
			agent_version_error: 1,
			syntax_error: 1,
			error: 3,
		});
	});
});

describe("files and directories", () => {
	test("a file that is not YAML is reported and the other files load", async () => {
		const dir = rulesDir({
			"a.policy": "rules:\n  - id: a\n    expression: [\n",
			"b.policy": 'rules:\n  - id: b\n    expression: open.file.path == "/b"\n',
		});
		const r = await load([dir]);
		expect(r.report.policies[0]!.errors?.[0]).toMatch(new RegExp(`^${join(dir, "a.policy")}:\\d+:\\d+: `));
		expect(r.report.policies[1]!.rules).toMatchObject([{ id: "b", status: "loaded" }]);
		expect(r.counts.fileErrors).toBe(1);
	});

	test("default.policy loads first, the others by name, directories in order; a missing directory is reported", async () => {
		const one = rulesDir({
			"b.policy": "rules: []\n",
			"default.policy": "rules: []\n",
			"a.policy": "rules: []\n",
			"notes.txt": "x",
		});
		const two = rulesDir({ "0.policy": "rules: []\n", "default.policy": "rules: []\n" });
		const r = await load([one, two, join(tmp.path, "nowhere")]);
		expect(r.report.policies.map((p) => p.name)).toEqual([
			"default.policy",
			"a.policy",
			"b.policy",
			"0.policy",
		]);
		expect(r.report.errors).toEqual([
			`${join(two, "default.policy")}: skipped, only the first default.policy loads (${join(one, "default.policy")})`,
			`${join(tmp.path, "nowhere")}: cannot read the rules directory (not found)`,
		]);
	});
});

describe("merging policies", async () => {
	const dir = rulesDir({
		"default.policy": `version: 1.0.0
macros:
  - id: SHELLS
    values: [sh, bash]
  - id: EDITORS
    values: [vi]
rules:
  - id: shell_spawn
    expression: exec.file.name in SHELLS
    description: a shell
    tags: { a: "1", b: "2" }
    product_tags: [x]
    actions:
      - log: { level: info }
  - id: to_disable
    expression: open.file.path == "/a"
  - id: to_reenable
    expression: open.file.path == "/b"
  - id: overridden_all
    expression: open.file.path == "/c"
    description: old
    tags: { old: "yes" }
  - id: split_old
    expression: open.file.path == "/old"
    agent_version: "< 7.71"
  - id: split_new
    expression: open.file.path == "/new"
    agent_version: ">= 7.71"
`,
		"a.policy": `version: a1
macros:
  - id: SHELLS
    values: [zsh]
    combine: merge
  - id: EDITORS
    values: [nano]
rules:
  - id: shell_spawn
    combine: override
    expression: exec.file.name == "ignored"
    override_options: { fields: [actions, every, tags, product_tags] }
    every: 10s
    tags: { b: "20", c: "3" }
    product_tags: [x, y]
    actions:
      - log: { level: info }
      - log: { level: warning, message: again }
  - id: to_disable
    disabled: true
  - id: to_reenable
    disabled: true
  - id: overridden_all
    combine: override
    override_options: { fields: [all] }
    expression: open.file.path == "/ignored"
    description: new
  - id: custom_rule
    expression: open.file.path == "/d"
  - id: custom_dup
    expression: open.file.path == "/e"
  - id: custom_all
    expression: open.file.path == "/g"
    description: mine
`,
		"b.policy": `rules:
  - id: to_reenable
    disabled: false
  - id: custom_rule
    disabled: true
  - id: custom_dup
    expression: open.file.path == "/f"
  - id: custom_all
    combine: override
    override_options: { fields: [all] }
    description: theirs
  - id: split_old
    expression: open.file.path == "/split-custom"
`,
	});
	const r = await load([dir], { agentVersion: "7.73.0" });
	const p = r.report.policies;
	const def: PolicyInfo = { name: "default.policy", version: "1.0.0", source: "file" };
	const a: PolicyInfo = { name: "a.policy", version: "a1", source: "file" };
	const b: PolicyInfo = { name: "b.policy", version: "", source: "file" };

	test("an override merges actions, every, tags and product tags, never the expression", () => {
		const rule = r.rules.get("shell_spawn")!;
		expect(rule.def.expression).toBe("exec.file.name in SHELLS");
		expect(rule.def.every).toBe(10e9);
		expect(rule.def.tags).toEqual({ a: "1", b: "20", c: "3" });
		expect(rule.def.product_tags).toEqual(["x", "y"]);
		expect(rule.def.actions).toEqual([
			{ log: { level: "info" } },
			{ log: { level: "warning", message: "again" } },
		]);
		expect(ruleOf(p, "default.policy", "shell_spawn")).toMatchObject({
			status: "loaded",
			expression: "exec.file.name in SHELLS",
			modified_by: [a],
			actions: [
				{ log: { level: "info", message: "Rule shell_spawn triggered" } },
				{ log: { level: "warning", message: "again" } },
			],
		});
	});

	test("override all replaces every field but the expression of a default rule", () => {
		const rule = r.rules.get("overridden_all")!;
		expect(rule.def).toMatchObject({ description: "new", expression: 'open.file.path == "/c"' });
		expect(rule.def.tags).toBeUndefined();
	});

	test("a custom policy disables a default rule; a later one can enable it again", () => {
		expect(ruleOf(p, "default.policy", "to_disable")).toMatchObject({
			status: "filtered",
			message: "disabled by policy a.policy",
			modified_by: [a],
		});
		expect(r.rules.has("to_disable")).toBe(false);
		expect(ruleOf(p, "default.policy", "to_reenable")).toMatchObject({
			status: "loaded",
			modified_by: [a, b],
		});
		expect(r.rules.has("to_reenable")).toBe(true);
	});

	test("a custom policy cannot disable another custom policy's rule", () => {
		expect(ruleOf(p, "a.policy", "custom_rule").status).toBe("loaded");
		expect(ruleOf(p, "b.policy", "custom_rule")).toMatchObject({ status: "error" });
		expect(ruleOf(p, "b.policy", "custom_rule").message).toContain("cannot be disabled by policy b.policy");
	});

	test("a second definition without combine is an error and the first one stays", () => {
		expect(r.rules.get("custom_dup")!.def.expression).toBe('open.file.path == "/e"');
		expect(ruleOf(p, "b.policy", "custom_dup").message).toMatch(
			/rule custom_dup is already defined in policy a\.policy .*; use combine: override to change it$/,
		);
	});

	test("override all is refused over a custom rule", () => {
		expect(ruleOf(p, "b.policy", "custom_all")).toMatchObject({ status: "error" });
		expect(ruleOf(p, "b.policy", "custom_all").message).toContain(
			'override_options.fields "all" only applies to rules of the default policy',
		);
		expect(r.rules.get("custom_all")!.def.description).toBe("mine");
	});

	test("a definition left out by agent_version does not take the id", () => {
		expect(ruleOf(p, "default.policy", "split_old")).toMatchObject({ status: "filtered" });
		expect(ruleOf(p, "b.policy", "split_old")).toMatchObject({ status: "loaded" });
		expect(r.rules.get("split_old")!.policy).toEqual(b);
		expect(ruleOf(p, "default.policy", "split_new")).toMatchObject({ status: "loaded" });
		expect(r.rules.get("split_new")!.policy).toEqual(def);
	});

	test("macros merge values across policies; a second definition without combine is an error", () => {
		const registry = FieldRegistry.linux();
		const zsh = eventFromValues(registry, { type: "exec", values: { "exec.file.name": "zsh" } });
		expect(r.rules.get("shell_spawn")!.compiled.evaluate(zsh)).toBe(true);
		const macros = p.find((x) => x.name === "a.policy")!.macros;
		expect(macros).toEqual([
			{
				id: "EDITORS",
				status: "error",
				message: expect.stringContaining("macro EDITORS is already defined in policy default.policy"),
			},
		]);
		expect(r.counts.macroErrors).toBe(1);
	});
});

describe("file integrity rules", async () => {
	const dir = rulesDir({
		"fim.policy": `rules:
  - id: passwd_written
    expression: fim.write.file.path == "/etc/passwd" && process.comm != "vipw"
`,
	});
	const registry = FieldRegistry.linux();
	const r = await load([dir]);
	const matches = (type: string, values: Record<string, unknown>): string[] => {
		const out: string[] = [];
		r.ruleSet.evaluate(eventFromValues(registry, { type, values }), (id) => out.push(id));
		return out;
	};

	test("expand to one rule per file-writing event type", () => {
		expect([...r.rules.keys()]).toEqual(
			["open", "chmod", "chown", "link", "rename", "unlink", "utimes"].map(
				(t) => `__fim_expanded_${t}_passwd_written_passwd_written`,
			),
		);
		expect(r.report.policies[0]!.rules).toEqual([
			{
				id: "passwd_written",
				expression: 'fim.write.file.path == "/etc/passwd" && process.comm != "vipw"',
				status: "loaded",
				message: "expanded to open, chmod, chown, link, rename, unlink, utimes rules",
			},
		]);
		expect(r.rules.get("__fim_expanded_open_passwd_written_passwd_written")!.def.group_id).toBe(
			"passwd_written",
		);
	});

	test("an open counts only with a write flag", () => {
		expect(matches("open", { "open.file.path": "/etc/passwd", "open.flags": 1 })).toEqual([
			"__fim_expanded_open_passwd_written_passwd_written",
		]);
		expect(matches("open", { "open.file.path": "/etc/passwd", "open.flags": 0 })).toEqual([]);
		expect(
			matches("open", { "open.file.path": "/etc/passwd", "open.flags": 1, "process.comm": "vipw" }),
		).toEqual([]);
	});

	test("a rename counts where the file leaves and where it lands; chmod and unlink count", () => {
		const rename = "__fim_expanded_rename_passwd_written_passwd_written";
		expect(
			matches("rename", { "rename.file.path": "/etc/passwd", "rename.file.destination.path": "/tmp/x" }),
		).toEqual([rename]);
		expect(
			matches("rename", { "rename.file.path": "/tmp/x", "rename.file.destination.path": "/etc/passwd" }),
		).toEqual([rename]);
		expect(matches("chmod", { "chmod.file.path": "/etc/passwd" })).toEqual([
			"__fim_expanded_chmod_passwd_written_passwd_written",
		]);
		expect(matches("unlink", { "unlink.file.path": "/etc/passwd" })).toEqual([
			"__fim_expanded_unlink_passwd_written_passwd_written",
		]);
	});

	test("only the produced event types load, and errors point into the written expression", async () => {
		const partial = await load([dir], { enabledEventTypes: new Set(["open", "unlink"]) });
		expect(partial.report.policies[0]!.rules[0]).toMatchObject({
			status: "loaded",
			message:
				"expanded to open, unlink rules (chmod, chown, link, rename, utimes not produced by any enabled probe)",
		});
		const bad = rulesDir({
			"bad.policy": 'rules:\n  - id: bad\n    expression: fim.write.file.colour == "x"\n',
		});
		const failed = await load([bad]);
		expect(failed.report.policies[0]!.rules[0]!.status).toBe("error");
		expect(failed.report.policies[0]!.rules[0]!.message).toStartWith(
			`open expansion: ${join(bad, "bad.policy")}:3:17: `,
		);
	});
});
