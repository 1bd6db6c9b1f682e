import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO, runCommand, tempDir, vigil } from "../../test/helpers.ts";
import type { RulesetReport } from "../policy/types.ts";
import { main } from "./main.ts";

const tmp = tempDir("vigil-cli-policy-");
afterAll(() => tmp.cleanup());
const DATADOG = resolve(REPO, "../shared/reference/datadog");

const run = (...args: string[]) => runCommand(main, args, tmp.path);

mkdirSync(join(tmp.path, "good"));
tmp.file(
	"good/main.policy",
	`version: 1.0.0
rules:
  - id: shadow_read
    expression: open.file.path == "/etc/shadow" && process.comm != "passwd"
  - id: netcat
    expression: exec.file.name in ["nc", "ncat"]
  - id: future
    expression: exec.file.name == "x"
    agent_version: ">= 7.80"
`,
);
mkdirSync(join(tmp.path, "bad"));
tmp.file(
	"bad/main.policy",
	'rules:\n  - id: broken\n    expression: open.file.path == "/a" &&\n  - id: fine\n    expression: open.file.path == "/b"\n',
);

describe("vigil policy check", () => {
	test("prints each rule's status and exits 0 when nothing failed", async () => {
		const r = await run("policy", "check", "--policies", "good");
		expect(r.code).toBe(0);
		expect(r.out.split("\n")).toEqual([
			"main.policy (version 1.0.0), file",
			"  shadow_read  loaded",
			"  netcat       loaded",
			'  future       filtered             excluded by agent_version ">= 7.80" (agent version 7.73.0)',
			"2 rules loaded, 1 filtered, 0 failed from 1 policy",
		]);
	});

	test("exits 1 when a rule fails, naming it with file:line:col", async () => {
		const r = await run("policy", "check", "--policies", "bad");
		expect(r.code).toBe(1);
		expect(r.out).toMatch(
			new RegExp(`broken  syntax_error +${join(tmp.path, "bad/main.policy")}:3:42: .*\\[syntax\\]`),
		);
		expect(r.out).toContain("fine    loaded");
	});

	test("--json prints the ruleset_loaded structure; --agent-version changes what agent_version admits", async () => {
		const r = await run("policy", "check", "--policies", "good", "--json", "--agent-version", "7.80.1");
		expect(r.code).toBe(0);
		const report = JSON.parse(r.out) as RulesetReport;
		expect(report.policies[0]!.rules.map((x) => [x.id, x.status])).toEqual([
			["shadow_read", "loaded"],
			["netcat", "loaded"],
			["future", "loaded"],
		]);
		expect(Date.parse(report.date)).not.toBeNaN();
	});

	test("--manifest: the rule engine's directories, and rules no configured probe can trigger are event_type_disabled", async () => {
		tmp.file(
			"open-only.ts",
			`export default { kind: "probe", name: "open-only", produces: () => ["open"], setup: () => ({ run: () => {} }) };\n`,
		);
		tmp.file(
			"manifest.yaml",
			"agent:\n  datadog_agent_version: 7.81.0\nplugins:\n  - use: ./open-only.ts\n  - use: rule-engine\n    config:\n      policies: [good]\n",
		);
		const r = await run("policy", "check", "--manifest", "manifest.yaml", "--json");
		expect(r.code).toBe(0);
		const report = JSON.parse(r.out) as RulesetReport;
		expect(report.policies[0]!.rules.map((x) => [x.id, x.status, x.message])).toEqual([
			["shadow_read", "loaded", undefined],
			["netcat", "event_type_disabled", "no enabled probe produces exec events"],
			["future", "event_type_disabled", "no enabled probe produces exec events"],
		]);
	});

	test("an invalid manifest exits 1 with its problems; a bad flag exits 2", async () => {
		tmp.file("broken.yaml", "plugins: []\n");
		const broken = await run("policy", "check", "--manifest", "broken.yaml");
		expect(broken.code).toBe(1);
		expect(broken.err).toContain("plugins");
		const flag = await run("policy", "check", "--polices", "good");
		expect(flag.code).toBe(2);
		expect(flag.err).toContain("--polices");
	});

	test("as a program: Datadog's default.policy, on Linux and with the Windows model", async () => {
		for (const extra of [[], ["--windows-model"]]) {
			const { out, code } = await vigil(["policy", "check", "--policies", DATADOG, ...extra]);
			expect(code).toBe(0);
			const summary = out.trimEnd().split("\n").at(-1)!;
			const [, loaded, filtered] = /^(\d+) rules loaded, (\d+) filtered, 0 failed/.exec(summary) ?? [];
			expect(Number(loaded) + Number(filtered)).toBe(319);
			if (extra.length > 0)
				expect(out).toContain("  wmi_spawning_shell                                loaded");
			else expect(out).toContain("  wmi_spawning_shell                                filtered");
		}
	});
});

describe("vigil policy eval", () => {
	tmp.file(
		"shadow.json",
		JSON.stringify({ type: "open", values: { "open.file.path": "/etc/shadow", "process.comm": "cat" } }),
	);
	tmp.file(
		"passwd.json",
		JSON.stringify({ type: "open", values: { "open.file.path": "/etc/shadow", "process.comm": "passwd" } }),
	);
	tmp.file("nc.json", JSON.stringify({ type: "exec", values: { "exec.file.name": "nc" } }));
	tmp.file("bad.json", JSON.stringify({ type: "open", values: { "open.file.colour": "red" } }));
	tmp.file("broken.json", '{"type": "open",\n  "values": {\n');
	/** `vigil policy eval` of rule `id` in ./good against the event of `file`. */
	const evalRule = (id: string, file: string, ...flags: string[]) =>
		run("policy", "eval", "--policies", "good", "--rule-id", id, "--event-file", file, ...flags);

	test("exit 0 on a match, with the approvers and the values read", async () => {
		const r = await evalRule("shadow_read", "shadow.json");
		expect(r.code).toBe(0);
		expect(r.out.split("\n")).toEqual([
			"shadow_read: match",
			"approvers:",
			'  open.file.path: exact "/etc/shadow"',
			"values read:",
			'  open.file.path = "/etc/shadow"',
			'  process.comm = "cat"',
		]);
	});

	test("exit 1 when it does not match; --json says so", async () => {
		const r = await evalRule("shadow_read", "passwd.json", "--json");
		expect(r.code).toBe(1);
		expect(JSON.parse(r.out)).toEqual({
			rule: "shadow_read",
			matched: false,
			eventType: "open",
			approvers: { "open.file.path": [{ kind: "exact", value: "/etc/shadow" }] },
			values: { "open.file.path": "/etc/shadow", "process.comm": "passwd" },
		});
		const other = await evalRule("netcat", "shadow.json");
		expect(other.code).toBe(1);
		expect(other.out).toContain("the rule applies to exec events, this is a open event");
	});

	test("exit 2 for a rule that is not loaded (with why), an unknown rule, or an invalid event", async () => {
		const filtered = await evalRule("future", "nc.json");
		expect(filtered.code).toBe(2);
		expect(filtered.err).toBe(
			'vigil policy eval: rule future is not loaded: filtered: excluded by agent_version ">= 7.80" (agent version 7.73.0)',
		);
		const unknown = await evalRule("nope", "nc.json");
		expect(unknown.code).toBe(2);
		expect(unknown.err).toContain("no rule nope");
		const bad = await evalRule("shadow_read", "bad.json");
		expect(bad.code).toBe(2);
		expect(bad.err).toContain('values["open.file.colour"]: unknown field "open.file.colour"');
		const broken = await evalRule("shadow_read", "broken.json", "--json");
		expect(broken.code).toBe(2);
		expect(JSON.parse(broken.out).error).toMatchObject({
			code: "invalid_event",
			message: expect.stringMatching(/broken\.json:\d+:\d+: invalid JSON/),
		});
		const missing = await run("policy", "eval", "--policies", "good", "--event-file", "nc.json");
		expect(missing.code).toBe(2);
		expect(missing.err).toContain("--rule-id is required");
	});
});
