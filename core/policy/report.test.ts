import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Ajv from "ajv";
import { REPO, tempDir } from "../../test/helpers.ts";
import { detectHost } from "./host.ts";
import { loadPolicies } from "./loader.ts";
import { formatGoDuration, formatReport } from "./report.ts";

const SCHEMAS = resolve(REPO, "../shared/reference/datadog/schemas");
const DATADOG = resolve(REPO, "../shared/reference/datadog");

/**
 * Datadog's `ruleset_loaded` schema. The `$schema` lines go (Ajv reads the keywords these use in
 * its default draft, not draft-04's meta-schema); `withFiltered` adds vigil's one extra status.
 */
const validator = (withFiltered: boolean) => {
	const strip = (file: string) => {
		const { $schema: _meta, ...schema } = JSON.parse(readFileSync(join(SCHEMAS, file), "utf8"));
		return schema;
	};
	const schema = strip("ruleset_loaded.schema.json");
	if (withFiltered) schema.$defs.rule.properties.status.enum.push("filtered");
	const ajv = new Ajv({ strict: false, allErrors: true });
	ajv.addSchema(strip("datetime.schema.json"));
	return ajv.compile(schema);
};

const tmp = tempDir("vigil-policy-report-");
afterAll(() => tmp.cleanup());

describe("the ruleset_loaded report", () => {
	test("Datadog's default.policy report validates against Datadog's schema (plus the filtered status)", async () => {
		const load = await loadPolicies({ dirs: [DATADOG], host: detectHost() });
		const validate = validator(true);
		expect(validate(load.report) ? [] : validate.errors).toEqual([]);
		// the actions of the policy are serialized the way the schema describes them
		const rules = load.report.policies[0]!.rules;
		const withTtl = rules.flatMap((r) => r.actions ?? []).find((a) => a.set?.ttl !== undefined);
		expect(typeof withTtl?.set?.ttl).toBe("string");
		expect(rules.flatMap((r) => r.actions ?? []).some((a) => a.hash?.enabled === true)).toBe(true);
	});

	test("without filtered rules it validates against the unmodified schema, every other status included", async () => {
		tmp.file(
			"all.policy",
			`rules:
  - id: loaded_rule
    expression: open.file.path == "/a"
    actions:
      - set: { name: seen, value: true, scope: process, ttl: 10s }
      - kill: { signal: SIGKILL }
  - id: syntax
    expression: open.file.path ==
  - id: type_error
    expression: open.flags == "x"
  - id: version_error
    expression: open.file.path == "/a"
    agent_version: "> what"
  - id: disabled_type
    expression: exec.file.name == "a"
`,
		);
		const load = await loadPolicies({
			dirs: [tmp.path],
			host: detectHost(),
			enabledEventTypes: new Set(["open"]),
		});
		expect(load.report.policies[0]!.rules.map((r) => r.status)).toEqual([
			"loaded",
			"syntax_error",
			"error",
			"agent_version_error",
			"event_type_disabled",
		]);
		const validate = validator(false);
		expect(validate(load.report) ? [] : validate.errors).toEqual([]);
		expect(load.report.policies[0]!.rules[0]!.actions).toEqual([
			{ set: { name: "seen", value: true, scope: "process", ttl: "10s" } },
			{ kill: { signal: "SIGKILL" } },
		]);
	});

	test("the text form lists each rule with its status and message, then a summary", async () => {
		const load = await loadPolicies({
			dirs: [tmp.path],
			host: detectHost(),
			enabledEventTypes: new Set(["open"]),
		});
		const text = formatReport(load.report).split("\n");
		expect(text[0]).toBe("all.policy, file");
		expect(text[1]).toBe("  loaded_rule    loaded");
		expect(text[5]).toBe("  disabled_type  event_type_disabled  no enabled probe produces exec events");
		expect(text.at(-1)).toBe(
			"1 rules loaded, 0 filtered, 1 with event type disabled, 3 failed from 1 policy",
		);
	});
});

describe("Go duration strings", () => {
	test.each([
		[0, "0s"],
		[1, "1ns"],
		[1500, "1.5µs"],
		[250e6, "250ms"],
		[10e9, "10s"],
		[90e9, "1m30s"],
		[600e9, "10m0s"],
		[3600e9, "1h0m0s"],
		[1.5e9, "1.5s"],
	])("%d ns is %s", (ns, text) => {
		expect(formatGoDuration(ns)).toBe(text);
	});
});
