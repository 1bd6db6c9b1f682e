/**
 * @module valibot schemas of policy definitions (Datadog's `RuleDefinition`, `MacroDefinition`,
 * `ActionDefinition`): what a macro, a rule and each action must look like once read from YAML.
 * Unknown keys pass here (yaml.v3 ignores them); the reader reports them as warnings.
 */
import { constants } from "node:os";
import * as v from "valibot";
import { parseDurationNs } from "../duration.ts";

/** Rules, macros, group ids and variable names: letters, digits and `_`, not empty. */
export const ID_PATTERN = /^[a-zA-Z0-9_]+$/;

/**
 * Ids of the custom events the agent sends itself (Datadog's `events.AllCustomRuleIDs()`, the
 * removed ones included, and vigil's `agent_stats`): a rule may not take one.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set([
	"ruleset_loaded",
	"heartbeat",
	"self_test",
	"abnormal_path",
	"no_process_context",
	"broken_process_lineage",
	"anomaly_detection",
	"ebpfless_hello_msg",
	"internal_core_dump",
	"sysctl_snapshot",
	"rawpacket_action",
	"lost_events",
	"fork_bomb",
	"truncated_parents",
	"agent_stats",
]);

const id = (what: string) =>
	v.pipe(
		v.string(`expected the ${what} id as a string`),
		v.minLength(1, `the ${what} id is empty`),
		v.regex(ID_PATTERN, (i) => `${what} id "${String(i.input)}" is invalid: use only letters, digits and _`),
	);

/** A Go duration (`10s`, `1m30s`, `500ms`) or an integer number of nanoseconds. */
const Duration = v.pipe(
	v.union([v.string(), v.number()], "expected a duration (10s, 1m30s) or an integer of nanoseconds"),
	v.rawTransform(({ dataset, addIssue, NEVER }) => {
		const raw = dataset.value;
		const ns =
			typeof raw === "number" ? (Number.isInteger(raw) && raw >= 0 ? raw : undefined) : parseDurationNs(raw);
		if (ns === undefined) {
			addIssue({
				message: `expected a duration (10s, 1m30s) or an integer of nanoseconds, got ${JSON.stringify(raw)}`,
			});
			return NEVER;
		}
		return ns;
	}),
);

const Strings = v.array(v.string("expected a string"), "expected a list of strings");

const isVariableValue = (x: unknown): boolean => {
	if (typeof x === "string" || typeof x === "boolean") return true;
	if (typeof x === "number") return Number.isInteger(x);
	if (!Array.isArray(x)) return false;
	return (
		x.every((e) => typeof e === "string") || x.every((e) => typeof e === "number" && Number.isInteger(e))
	);
};
const VariableValue = v.custom<unknown>(
	isVariableValue,
	"expected a string, an integer, a boolean, or a list of strings or of integers",
);

const SetSchema = v.pipe(
	v.looseObject({
		name: id("variable"),
		value: v.optional(VariableValue),
		field: v.optional(v.string()),
		expression: v.optional(v.string()),
		default_value: v.optional(VariableValue),
		append: v.optional(v.boolean()),
		scope: v.optional(
			v.picklist(["process", "container", "cgroup"], 'expected scope "process", "container" or "cgroup"'),
		),
		scope_field: v.optional(v.string()),
		size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, "expected a size of at least 1"))),
		ttl: v.optional(Duration),
		inherited: v.optional(v.boolean()),
		private: v.optional(v.boolean()),
	}),
	v.check(
		(s) => [s.value, s.field, s.expression].filter((x) => x !== undefined).length === 1,
		"a set action needs exactly one of value, field or expression",
	),
	v.check(
		(s) => s.expression === undefined || s.default_value !== undefined,
		"a set action with an expression needs a default_value",
	),
	v.check(
		(s) => s.scope_field === undefined || s.scope === "process",
		"scope_field is only allowed with scope: process",
	),
	v.check((s) => !s.inherited || s.scope === "process", "inherited is only allowed with scope: process"),
);

const SIGNALS = constants.signals as Readonly<Record<string, number>>;

const KillSchema = v.looseObject({
	signal: v.pipe(
		v.string("expected a signal name"),
		v.check(
			(s) => s.startsWith("SIG") && SIGNALS[s] !== undefined,
			(i) => `unknown signal ${JSON.stringify(i.input)}`,
		),
	),
	scope: v.optional(v.picklist(["process", "container"], 'expected scope "process" or "container"')),
	disable_container_disarmer: v.optional(v.boolean()),
	disable_executable_disarmer: v.optional(v.boolean()),
});

const HashSchema = v.looseObject({
	field: v.optional(v.string()),
	max_file_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

const CoredumpSchema = v.looseObject({
	process: v.optional(v.boolean()),
	mount: v.optional(v.boolean()),
	dentry: v.optional(v.boolean()),
	no_compression: v.optional(v.boolean()),
});

const LogSchema = v.looseObject({
	level: v.optional(
		v.picklist(["debug", "info", "warning", "error"], 'expected level "debug", "info", "warning" or "error"'),
		"info",
	),
	message: v.optional(v.string()),
});

const ACTION_KINDS = ["set", "kill", "hash", "coredump", "log"] as const;

const ActionSchema = v.pipe(
	v.looseObject({
		filter: v.optional(v.string()),
		set: v.optional(SetSchema),
		kill: v.optional(KillSchema),
		hash: v.optional(HashSchema),
		coredump: v.optional(CoredumpSchema),
		log: v.optional(LogSchema),
	}),
	v.rawCheck(({ dataset, addIssue }) => {
		if (!dataset.typed) return;
		const raw = dataset.value as Record<string, unknown>;
		const kinds = ACTION_KINDS.filter((k) => raw[k] !== undefined);
		if (kinds.length !== 1) {
			addIssue({
				message:
					kinds.length === 0
						? "an action needs one of set, kill, hash, coredump or log"
						: `an action has one kind, this one has ${kinds.join(" and ")}`,
			});
		}
	}),
);

export const RuleSchema = v.looseObject({
	id: id("rule"),
	version: v.optional(v.string()),
	expression: v.optional(v.string()),
	description: v.optional(v.string()),
	tags: v.optional(v.record(v.string(), v.string("expected a string tag value"))),
	product_tags: v.optional(Strings),
	agent_version: v.optional(v.string()),
	filters: v.optional(Strings),
	disabled: v.optional(v.boolean()),
	combine: v.optional(v.picklist(["override"], 'expected combine "override"')),
	override_options: v.optional(
		v.looseObject({
			fields: v.array(
				v.picklist(
					["all", "expression", "actions", "every", "tags", "product_tags"],
					'expected "all", "actions", "every", "tags" or "product_tags"',
				),
			),
		}),
	),
	actions: v.optional(v.array(ActionSchema, "expected a list of actions")),
	every: v.optional(Duration),
	limiter_token: v.optional(Strings),
	silent: v.optional(v.boolean()),
	group_id: v.optional(id("group")),
});

export const MacroSchema = v.pipe(
	v.looseObject({
		id: id("macro"),
		expression: v.optional(v.string()),
		values: v.optional(Strings),
		description: v.optional(v.string()),
		agent_version: v.optional(v.string()),
		filters: v.optional(Strings),
		combine: v.optional(v.picklist(["merge", "override"], 'expected combine "merge" or "override"')),
	}),
	v.check(
		(m) => (m.expression === undefined) !== (m.values === undefined),
		"a macro needs exactly one of expression or values",
	),
);
