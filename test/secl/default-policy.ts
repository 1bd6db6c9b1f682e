/**
 * @module Datadog's `default.policy` compiled with nothing but the SECL module: a minimal read of
 * the YAML (macros, then the variables every `set` action declares, then rules), for the SECL
 * conformance tests and `bench/secl.ts`. The policy layer (`core/policy`) is the real loader.
 *
 * `os` picks the model: rules and macros whose `filters` name the other OS are left out.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { FieldRegistry } from "../../core/model/registry.ts";
import {
	type CompiledRule,
	Constants,
	compile,
	MacroStore,
	type SeclContext,
	SeclError,
	VariableStore,
	type VariableType,
} from "../../core/secl/index.ts";

export const DEFAULT_POLICY = resolve(import.meta.dir, "../../../shared/reference/datadog/default.policy");

interface SetAction {
	name: string;
	scope?: "process" | "container" | "cgroup";
	value?: unknown;
	field?: string;
	expression?: string;
	default_value?: unknown;
	append?: boolean;
	size?: number;
	ttl?: number | string;
	inherited?: boolean;
	private?: boolean;
}
interface PolicyRule {
	id: string;
	expression: string;
	filters?: string[];
	actions?: { set?: SetAction }[];
}
interface PolicyMacro {
	id: string;
	expression?: string;
	values?: string[];
	filters?: string[];
}
interface PolicyFile {
	macros: PolicyMacro[];
	rules: PolicyRule[];
}

export interface LoadedRule {
	readonly id: string;
	readonly expression: string;
	readonly compiled?: CompiledRule;
	readonly error?: SeclError;
}

export interface LoadedPolicy {
	readonly ctx: SeclContext;
	readonly macros: readonly { id: string; expression: string; error?: SeclError }[];
	readonly rules: readonly LoadedRule[];
}

/** Whether a definition's filters leave it on `os` (filters name `os == "linux"`/`"windows"`). */
const forOs = (filters: string[] | undefined, os: "linux" | "windows"): boolean => {
	if (!filters || filters.length === 0) return true;
	return filters.some((f) => !/os == "(linux|windows)"/.test(f) || f.includes(`os == "${os}"`));
};

const scalarType = (v: unknown): VariableType | undefined =>
	typeof v === "string"
		? "string"
		: typeof v === "number"
			? "int"
			: typeof v === "boolean"
				? "bool"
				: undefined;

const DURATION = /^(\d+)(ms|s|m|h)$/;
const ttlNs = (ttl: number | string | undefined): number | undefined => {
	if (ttl === undefined) return undefined;
	if (typeof ttl === "number") return ttl;
	const m = DURATION.exec(ttl);
	if (!m) return undefined;
	return Number(m[1]) * ({ ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 } as Record<string, number>)[m[2] as string]!;
};

const FIM_OPEN_FLAGS = "open.flags & (O_CREAT|O_TRUNC|O_APPEND|O_RDWR|O_WRONLY) > 0";

/**
 * Datadog expands a rule on `fim.write.file.*` into one rule per file-writing event type (open
 * with write flags, chmod, chown, link, rename and its destination, unlink, utimes).
 */
export const expandFim = (r: { id: string; expression: string }): { id: string; expression: string }[] => {
	if (!r.expression.includes("fim.write.file.")) return [r];
	const as = (evt: string, prefix: string, group: number) => ({
		id: `__fim_expanded_${evt}_${group}_${r.id}`,
		expression: r.expression.replaceAll("fim.write.file.", prefix),
	});
	const open = as("open", "open.file.", 0);
	return [
		{ ...open, expression: `(${open.expression}) && ${FIM_OPEN_FLAGS}` },
		as("chmod", "chmod.file.", 0),
		as("chown", "chown.file.", 0),
		as("link", "link.file.", 0),
		as("rename", "rename.file.", 0),
		as("rename", "rename.file.destination.", 1),
		as("unlink", "unlink.file.", 0),
		as("utimes", "utimes.file.", 0),
	];
};

export const readDefaultPolicy = (): PolicyFile =>
	parseYaml(readFileSync(DEFAULT_POLICY, "utf8")) as PolicyFile;

/** Compile default.policy for `os`; every macro and rule is kept with its error if any. */
export const loadDefaultPolicy = (os: "linux" | "windows"): LoadedPolicy => {
	const policy = readDefaultPolicy();
	const registry = FieldRegistry.forOs(os);
	const ctx: SeclContext = {
		registry,
		macros: new MacroStore(),
		variables: new VariableStore(),
		constants: Constants.forOs(os),
	};
	const macros: { id: string; expression: string; error?: SeclError }[] = [];
	for (const m of policy.macros) {
		if (!forOs(m.filters, os)) continue;
		try {
			ctx.macros.add(m.id, m.values ? { values: m.values } : { expression: m.expression ?? "" });
			macros.push({ id: m.id, expression: m.expression ?? JSON.stringify(m.values) });
		} catch (e) {
			if (!(e instanceof SeclError)) throw e;
			macros.push({ id: m.id, expression: m.expression ?? "", error: e });
		}
	}
	const rules = policy.rules.filter((r) => forOs(r.filters, os));
	// Datadog collects set actions first so that `${x}` type-checks in any rule
	for (const r of rules) {
		for (const a of r.actions ?? []) {
			const s = a.set;
			if (!s) continue;
			let type: VariableType | undefined;
			let array = false;
			if (s.field) {
				const f = registry.field(s.field);
				type = f?.type;
				array = f?.array === true;
			} else {
				const v = s.value ?? s.default_value;
				array = Array.isArray(v);
				type = scalarType(Array.isArray(v) ? v[0] : v);
			}
			if (!type) continue;
			ctx.variables.declare({
				name: s.name,
				type,
				// `append` collects values: Datadog makes such a variable an array
				array: array || s.append === true,
				...(s.scope ? { scope: s.scope } : {}),
				...(s.size !== undefined ? { size: s.size } : {}),
				...(ttlNs(s.ttl) !== undefined ? { ttl: ttlNs(s.ttl) } : {}),
				...(s.inherited ? { inherited: true } : {}),
				...(s.private ? { private: true } : {}),
			});
		}
	}
	const loaded: LoadedRule[] = rules.flatMap((r) =>
		expandFim(r).map(({ id, expression }) => {
			try {
				return { id, expression, compiled: compile(expression, ctx) };
			} catch (e) {
				if (!(e instanceof SeclError)) throw e;
				return { id, expression, error: e };
			}
		}),
	);
	return { ctx, macros, rules: loaded };
};
