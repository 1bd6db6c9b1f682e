/**
 * @module The shapes that flow through policy loading: definitions as read from a policy file
 * (macros, rules, actions), where each came from, and the `ruleset_loaded` report.
 *
 * Definitions follow Datadog's `pkg/security/secl/rules/model.go` field for field, after
 * validation: durations are nanoseconds, every optional string is either a string or absent.
 */

/** Where a policy came from, as Datadog reports it. vigil loads `file` policies. */
export type PolicySource = "file" | "bundled" | "remote-config" | "self-test";

/**
 * `default` is the first `default.policy` (Datadog's shipped policy); every other file is
 * `custom`. Only a custom policy may disable a default rule, and only a default rule may be
 * overridden with `override_options.fields: [all]`.
 */
export type PolicyType = "default" | "custom";

export interface PolicyInfo {
	readonly name: string;
	readonly version: string;
	readonly source: PolicySource;
}

/** A position in a policy file (1-based line and column). */
export interface Location {
	readonly file: string;
	readonly line: number;
	readonly col: number;
}

export const formatLocation = (l: Location): string => `${l.file}:${l.line}:${l.col}`;

export interface SetActionDef {
	readonly name: string;
	readonly value?: unknown;
	readonly field?: string;
	readonly expression?: string;
	readonly default_value?: unknown;
	readonly append?: boolean;
	readonly scope?: "process" | "container" | "cgroup";
	readonly scope_field?: string;
	readonly size?: number;
	/** Nanoseconds. */
	readonly ttl?: number;
	readonly inherited?: boolean;
	readonly private?: boolean;
}

export interface KillActionDef {
	readonly signal: string;
	readonly scope?: "process" | "container";
	readonly disable_container_disarmer?: boolean;
	readonly disable_executable_disarmer?: boolean;
}

export interface HashActionDef {
	/** The file to hash (`process.file`, `exec.file`…); default: the event's own file. */
	readonly field?: string;
	readonly max_file_size?: number;
}

export interface CoredumpActionDef {
	readonly process?: boolean;
	readonly mount?: boolean;
	readonly dentry?: boolean;
	readonly no_compression?: boolean;
}

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface LogActionDef {
	readonly level: LogLevel;
	readonly message?: string;
}

/** One action of a rule: exactly one kind, optionally guarded by a SECL `filter`. */
export interface ActionDef {
	readonly filter?: string;
	readonly set?: SetActionDef;
	readonly kill?: KillActionDef;
	readonly hash?: HashActionDef;
	readonly coredump?: CoredumpActionDef;
	readonly log?: LogActionDef;
}

export type OverrideField = "all" | "expression" | "actions" | "every" | "tags" | "product_tags";

export interface RuleDef {
	readonly id: string;
	readonly version?: string;
	readonly expression?: string;
	readonly description?: string;
	readonly tags?: Readonly<Record<string, string>>;
	readonly product_tags?: readonly string[];
	readonly agent_version?: string;
	readonly filters?: readonly string[];
	readonly disabled?: boolean;
	readonly combine?: "override";
	readonly override_options?: { readonly fields: readonly OverrideField[] };
	readonly actions?: readonly ActionDef[];
	/** Nanoseconds; 0 means the default limiter. */
	readonly every?: number;
	readonly limiter_token?: readonly string[];
	readonly silent?: boolean;
	readonly group_id?: string;
}

export interface MacroDef {
	readonly id: string;
	readonly expression?: string;
	readonly values?: readonly string[];
	readonly description?: string;
	readonly agent_version?: string;
	readonly filters?: readonly string[];
	readonly combine?: "merge" | "override";
}

/**
 * Maps an offset inside an expression string to its place in the policy file, so a SECL
 * diagnostic (offset in the expression) becomes `file:line:col`.
 */
export type ExpressionLocator = (offset: number) => Location;

/** What the reader knows about where a definition sits. */
export interface DefinitionSource {
	readonly policy: PolicyInfo;
	readonly type: PolicyType;
	/** Start of the definition (its `- id:` item). */
	readonly at: Location;
	/** Locates offsets of `expression`; absent when the definition has none. */
	readonly expression?: ExpressionLocator;
	/** Locates offsets of `filters[i]`. */
	readonly filters?: readonly ExpressionLocator[];
	/** Locates offsets of `actions[i].filter` and `actions[i].set.expression`. */
	readonly actions?: readonly {
		readonly filter?: ExpressionLocator;
		readonly expression?: ExpressionLocator;
	}[];
	/** Location of `agent_version`. */
	readonly agentVersion?: Location;
}

/** A rule definition as read, or why it could not be read. */
export interface RuleEntry {
	/** The rule id, or `rules[i]` when the id itself is unusable. */
	readonly id: string;
	readonly def?: RuleDef;
	/** Raw expression text for the report when `def` is absent. */
	readonly rawExpression: string;
	readonly source: DefinitionSource;
	/** Set when the definition is invalid: the rule is reported with status `error`. */
	readonly error?: string;
}

export interface MacroEntry {
	readonly id: string;
	readonly def?: MacroDef;
	readonly source: DefinitionSource;
	readonly error?: string;
}

/** One policy file after reading. */
export interface PolicyFile {
	readonly info: PolicyInfo;
	readonly type: PolicyType;
	/** Absolute path. */
	readonly path: string;
	readonly macros: readonly MacroEntry[];
	readonly rules: readonly RuleEntry[];
	/** Unknown keys and other things ignored, with `file:line:col`. */
	readonly warnings: readonly string[];
	/** Problems that kept the whole file (or a whole section) from loading, with `file:line:col`. */
	readonly errors: readonly string[];
}

/**
 * A rule's status in the report: Datadog's five, plus vigil's `filtered` for rules left out
 * by `filters`, `agent_version` or `disabled` (Datadog drops those silently).
 */
export type RuleStatus =
	| "loaded"
	| "syntax_error"
	| "event_type_disabled"
	| "agent_version_error"
	| "error"
	| "filtered";

/** An action as `ruleset_loaded` reports it (Datadog's `RuleAction` serialization). */
export interface ActionReport {
	filter?: string;
	set?: {
		name: string;
		value?: unknown;
		default_value?: unknown;
		field?: string;
		expression?: string;
		append?: boolean;
		scope?: string;
		size?: number;
		ttl?: string;
		inherited?: boolean;
		private?: boolean;
		scope_field?: string;
	};
	kill?: { signal: string; scope?: string };
	hash?: { enabled: boolean; field?: string };
	coredump?: CoredumpActionDef;
	log?: { level: string; message: string };
}

export interface RuleReport {
	id: string;
	version?: string;
	expression: string;
	status: RuleStatus;
	message?: string;
	tags?: Record<string, string>;
	product_tags?: string[];
	actions?: ActionReport[];
	modified_by?: PolicyInfo[];
}

export interface MacroReport {
	id: string;
	status: "loaded" | "filtered" | "error";
	message?: string;
}

export interface PolicyReport extends PolicyInfo {
	rules: RuleReport[];
	/** vigil: macros defined by this policy and whether they loaded. */
	macros?: MacroReport[];
	/** vigil: what was ignored (unknown keys…), with `file:line:col`. */
	warnings?: string[];
	/** vigil: problems that kept the file or a section from loading, with `file:line:col`. */
	errors?: string[];
}

/** The `ruleset_loaded` custom event's data. */
export interface RulesetReport {
	policies: PolicyReport[];
	/** RFC 3339 time of the load. */
	date: string;
	/** vigil: problems not tied to one policy (a rules directory that cannot be read). */
	errors?: string[];
}
