import { describe, expect, test } from "bun:test";
import { readPolicy } from "./reader.ts";

const read = (text: string) => readPolicy(text, "rules/custom.policy", { type: "custom" });

describe("reading a policy file", () => {
	test("unknown keys are ignored and reported as warnings with their location", () => {
		const p = read(`version: 1.2.0
type: policy
rules:
  - id: r1
    expression: open.file.path == "/etc/shadow"
    priority: high
    actions:
      - set:
          name: x
          value: 1
          colour: red
`);
		expect(p.errors).toEqual([]);
		expect(p.warnings).toEqual([
			'rules/custom.policy:2:1: unknown key "type" ignored',
			'rules/custom.policy:6:5: rule r1: unknown key "priority" ignored',
			'rules/custom.policy:11:11: rule r1: unknown key "actions[0].set.colour" ignored',
		]);
		expect(p.rules[0]!.def).toMatchObject({ id: "r1", actions: [{ set: { name: "x", value: 1 } }] });
	});

	test("any scalar reads as a string where a string is expected, as yaml.v3 does", () => {
		const p = read(`version: 1.0
rules:
  - id: 42
    version: 01
    expression: exec.file.name == "x"
    tags: { threat_score: 4, verified: true }
`);
		expect(p.info.version).toBe("1.0");
		expect(p.rules[0]!.def).toMatchObject({
			id: "42",
			version: "01",
			tags: { threat_score: "4", verified: "true" },
		});
	});

	test("invalid YAML yields no definitions and an error at its line and column", () => {
		const p = read("rules:\n  - id: a\n    expression: [\n");
		expect(p.rules).toEqual([]);
		expect(p.errors).toHaveLength(1);
		expect(p.errors[0]).toMatch(/^rules\/custom\.policy:\d+:\d+: /);
	});

	test("an invalid rule is reported with its location and leaves its neighbours alone", () => {
		const p = read(`rules:
  - id: good_one
    expression: open.file.path == "/a"
  - id: bad_one
    expression: open.file.path == "/b"
    disabled: "yes"
  - id: also_good
    expression: open.file.path == "/c"
`);
		expect(p.rules.map((r) => [r.id, r.error])).toEqual([
			["good_one", undefined],
			["bad_one", 'rules/custom.policy:6:15: disabled: Invalid type: Expected boolean but received "yes"'],
			["also_good", undefined],
		]);
	});

	test("ids must be letters, digits and _, and may not be an event id of the agent", () => {
		const p = read(`rules:
  - id: has-dash
    expression: open.file.path == "/a"
  - expression: open.file.path == "/b"
  - id: ruleset_loaded
    expression: open.file.path == "/c"
macros:
  - id: "m m"
    values: [a]
`);
		expect(p.rules[0]!.error).toBe(
			'rules/custom.policy:2:9: id: rule id "has-dash" is invalid: use only letters, digits and _',
		);
		expect(p.rules[1]!.id).toBe("rules[1]");
		expect(p.rules[1]!.error).toBe("rules/custom.policy:4:5: a rule needs an id");
		expect(p.rules[2]!.error).toBe(
			'rules/custom.policy:5:9: rule id "ruleset_loaded" is reserved for an event the agent sends itself',
		);
		expect(p.macros[0]!.error).toContain('macro id "m m" is invalid');
	});

	test("actions are checked: one kind each, a set needs exactly one source, expressions need a default", () => {
		const p = read(`rules:
  - id: r
    expression: open.file.path == "/a"
    actions:
      - set: { name: a, value: 1, field: open.file.path }
      - set: { name: b, expression: open.file.path }
      - kill: { signal: SIGNOPE }
      - log: {}
        hash: {}
`);
		const error = p.rules[0]!.error ?? "";
		expect(error).toContain("actions[0].set: a set action needs exactly one of value, field or expression");
		expect(error).toContain("actions[1].set: a set action with an expression needs a default_value");
		expect(error).toContain('actions[2].kill.signal: unknown signal "SIGNOPE"');
		expect(error).toContain("actions[3]: an action has one kind, this one has hash and log");
	});

	test("durations read as Go durations or integer nanoseconds", () => {
		const p = read(`rules:
  - id: r
    expression: open.file.path == "/a"
    every: 1m30s
    actions:
      - set: { name: a, value: true, ttl: 600000000000 }
  - id: s
    expression: open.file.path == "/a"
    every: soon
`);
		expect(p.rules[0]!.def).toMatchObject({ every: 90e9, actions: [{ set: { ttl: 600e9 } }] });
		expect(p.rules[1]!.error).toContain(
			'every: expected a duration (10s, 1m30s) or an integer of nanoseconds, got "soon"',
		);
	});

	test("offsets in an expression map to the file through block scalars, quotes and folding", () => {
		const p = read(`rules:
  - id: block
    expression: |-
      open.file.path == "/a"
        && process.comm == "x"
  - id: quoted
    expression: 'open.file.name == ''it''s'''
  - id: folded
    expression: open.file.path == "/a"
      && open.flags > 0
`);
		const block = p.rules[0]!.source.expression!;
		expect(block(0)).toEqual({ file: "rules/custom.policy", line: 4, col: 7 });
		// "&&" starts the second line of the value, after two spaces of its own indentation
		const second = 'open.file.path == "/a"\n  '.length;
		expect(block(second)).toEqual({ file: "rules/custom.policy", line: 5, col: 9 });
		const quoted = p.rules[1]!.source.expression!;
		expect(quoted("open.file.name == ".length)).toEqual({ file: "rules/custom.policy", line: 7, col: 36 });
		const folded = p.rules[2]!.source.expression!;
		expect(folded('open.file.path == "/a" '.length)).toEqual({
			file: "rules/custom.policy",
			line: 10,
			col: 7,
		});
	});

	test("an empty file is an empty policy", () => {
		const p = read("");
		expect(p).toMatchObject({ rules: [], macros: [], errors: [], warnings: [] });
	});
});
