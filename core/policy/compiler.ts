/**
 * @module Policy compiler: turns the merged macros and rules into a SECL {@link RuleSet} of
 * loaded rules, and says for every rule why it did or did not load.
 *
 * Order, as Datadog's `RuleSet.LoadPolicies`: macros first (a broken macro is reported and the
 * rules using it fail on the unknown name); then every `set` action's variable is declared so
 * that `${x}` type-checks wherever it is read; then each rule is compiled (`fim.write.file.*`
 * rules into their expansions), its event type checked against the enabled ones, its actions'
 * filters, values and limiter tokens compiled. One rule's failure never affects another's.
 */

import { errorText } from "../errors.ts";
import type { FieldRegistry, RegisteredField } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import {
	type CompiledRule,
	type CompiledValue,
	Constants,
	compile,
	compileValue,
	MacroStore,
	RuleSet,
	type SeclContext,
	SeclError,
	type Variable,
	type VariableDefinition,
	VariableStore,
	type VariableType,
	type VariableValue,
} from "../secl/index.ts";
import type { CollectedMacro, CollectedRule } from "./collector.ts";
import { expandFim } from "./fim.ts";
import {
	type ActionDef,
	type ExpressionLocator,
	formatLocation,
	type MacroEntry,
	type PolicyInfo,
	type RuleDef,
	type RuleStatus,
	type SetActionDef,
} from "./types.ts";

/** A `set` action ready to run: the variable and how to get the value from an event. */
export interface LoadedSet {
	readonly def: SetActionDef;
	readonly variable: Variable;
	/** The value to store; undefined when there is nothing to store (no value, not set). */
	readonly value: (event: Event) => VariableValue | undefined;
	/** `scope_field`: the pid of the process whose scope receives the value. */
	readonly scopePid?: (event: Event) => number;
}

export interface LoadedAction {
	readonly def: ActionDef;
	/** The action's `filter`: whether the action runs for this match. */
	readonly filter?: (event: Event) => boolean;
	readonly set?: LoadedSet;
	/** `hash`: the file path to hash, read from the event. */
	readonly hashPath?: (event: Event) => string;
}

/** A rule in the rule set: what the rule engine needs when it matches. */
export interface LoadedRule {
	/** Id in the rule set (an expansion's `__fim_expanded_…` id). */
	readonly id: string;
	/** The merged definition (for an expansion: the written rule's, with its `group_id`). */
	readonly def: RuleDef;
	readonly policy: PolicyInfo;
	readonly eventType: string;
	readonly compiled: CompiledRule;
	readonly actions: readonly LoadedAction[];
	/** `limiter_token`: the token of an event (the fields' values joined). */
	readonly limiterToken?: (event: Event) => string;
}

export interface RuleOutcome {
	readonly status: RuleStatus;
	readonly message?: string;
}

export interface CompileOptions {
	readonly registry: FieldRegistry;
	/** A store to declare variables in, keeping its values (a reload's previous store). */
	readonly variables?: VariableStore;
	/** Event types some enabled probe produces; undefined = all of the registry's. */
	readonly enabledEventTypes?: ReadonlySet<string>;
}

export interface Compilation {
	readonly context: SeclContext;
	readonly ruleSet: RuleSet<LoadedRule>;
	readonly rules: ReadonlyMap<string, LoadedRule>;
	readonly macroOutcomes: ReadonlyMap<MacroEntry, RuleOutcome>;
	/** Variables declared with a type other than the one the given store already had. */
	readonly variableConflicts: number;
}

const located = (locate: ExpressionLocator | undefined, e: SeclError, prefix = ""): string => {
	const d = e.diagnostic;
	const where = locate ? `${formatLocation(locate(d.offset))}: ` : "";
	return `${where}${prefix}${d.message} [${d.code}]`;
};

const statusOf = (e: SeclError): RuleStatus => (e.diagnostic.code === "syntax" ? "syntax_error" : "error");

class RuleError extends Error {
	constructor(
		readonly status: RuleStatus,
		message: string,
	) {
		super(message);
	}
}

const variableTypeOf = (value: unknown): { type: VariableType; array: boolean } | undefined => {
	const scalar = (x: unknown): VariableType | undefined =>
		typeof x === "string"
			? "string"
			: typeof x === "number"
				? "int"
				: typeof x === "boolean"
					? "bool"
					: undefined;
	if (Array.isArray(value)) {
		const t = value.length > 0 ? scalar(value[0]) : "string";
		return t ? { type: t, array: true } : undefined;
	}
	const t = scalar(value);
	return t ? { type: t, array: false } : undefined;
};

export class PolicyCompiler {
	readonly context: SeclContext;
	readonly #registry: FieldRegistry;
	readonly #enabled: ReadonlySet<string> | undefined;
	readonly #ruleSet = new RuleSet<LoadedRule>();
	readonly #rules = new Map<string, LoadedRule>();
	readonly #macroOutcomes = new Map<MacroEntry, RuleOutcome>();
	/** Rules whose `set` actions could not be declared, with the reason. */
	readonly #declarationErrors = new Map<CollectedRule, string>();
	#variableConflicts = 0;

	constructor(options: CompileOptions) {
		this.#registry = options.registry;
		this.#enabled = options.enabledEventTypes;
		this.context = {
			registry: options.registry,
			macros: new MacroStore(),
			variables: options.variables ?? new VariableStore(),
			constants: Constants.forOs(options.registry.os),
		};
	}

	addMacros(macros: readonly CollectedMacro[]): void {
		for (const m of macros) {
			const def = m.def;
			try {
				this.context.macros.add(
					def.id,
					def.values !== undefined ? { values: def.values } : { expression: def.expression ?? "" },
				);
				this.#macroOutcomes.set(m.origin, { status: "loaded" });
			} catch (e) {
				if (!(e instanceof SeclError)) throw e;
				this.#macroOutcomes.set(m.origin, {
					status: "error",
					message: located(m.origin.source.expression, e),
				});
			}
		}
	}

	/**
	 * Declare the variables of every rule's `set` actions up front, as Datadog does; disabled
	 * rules too, so a rule reading a variable whose only setter is disabled reads its zero value
	 * instead of failing.
	 */
	declareVariables(rules: readonly CollectedRule[]): void {
		for (const rule of rules) {
			for (const [i, action] of (rule.def.actions ?? []).entries()) {
				const set = action.set;
				if (!set) continue;
				try {
					this.#declare(set);
				} catch (e) {
					const message = e instanceof SeclError ? e.diagnostic.message : errorText(e);
					this.#declarationErrors.set(
						rule,
						`${formatLocation(rule.origin.source.at)}: actions[${i}].set: ${message}`,
					);
					break;
				}
			}
		}
	}

	#declare(set: SetActionDef): Variable {
		let shape: { type: VariableType; array: boolean } | undefined;
		if (set.value !== undefined) shape = variableTypeOf(set.value);
		else if (set.expression !== undefined) shape = variableTypeOf(set.default_value);
		else if (set.field !== undefined) {
			const f = this.#registry.field(set.field);
			if (!f) throw new Error(`unknown field "${set.field}"`);
			shape = { type: f.type, array: f.array ?? false };
		}
		if (!shape) throw new Error(`cannot tell the type of variable "${set.name}" from its value`);
		const scope = set.scope ?? "global";
		const array = shape.array || set.append === true;
		const existing = this.context.variables.get(scope === "global" ? set.name : `${scope}.${set.name}`);
		if (existing && !existing.builtin && (existing.type !== shape.type || existing.array !== array))
			this.#variableConflicts++;
		const def: VariableDefinition = {
			name: set.name,
			type: shape.type,
			array,
			scope,
			...(set.size !== undefined ? { size: set.size } : {}),
			...(set.ttl !== undefined && set.ttl > 0 ? { ttl: set.ttl } : {}),
			...(set.inherited ? { inherited: true } : {}),
			...(set.private ? { private: true } : {}),
		};
		return this.context.variables.declare(def, {
			registry: this.#registry,
			constants: this.context.constants,
		});
	}

	/** Compile one merged rule; returns its outcome and adds what loads to the rule set. */
	addRule(rule: CollectedRule): RuleOutcome {
		const def = rule.def;
		const source = rule.origin.source;
		if (def.disabled) {
			return {
				status: "filtered",
				message: rule.disabledBy ? `disabled by policy ${rule.disabledBy.name}` : "disabled",
			};
		}
		const declarationError = this.#declarationErrors.get(rule);
		if (declarationError) return { status: "error", message: declarationError };
		if (def.expression === undefined || def.expression.trim() === "") {
			return { status: "error", message: `${formatLocation(source.at)}: no rule expression` };
		}
		const expansions = expandFim(def.id, def.group_id, def.expression);
		if (!expansions) {
			try {
				this.#load(def.id, def, rule, def.expression, (o) => o);
				return { status: "loaded" };
			} catch (e) {
				return this.#failure(e);
			}
		}
		const loaded: string[] = [];
		const disabled: string[] = [];
		let failure: RuleOutcome | undefined;
		for (const x of expansions) {
			try {
				this.#load(x.id, { ...def, group_id: x.groupId }, rule, x.expression, x.original);
				loaded.push(x.eventType);
			} catch (e) {
				const o = this.#failure(e);
				if (o.status === "event_type_disabled") disabled.push(x.eventType);
				else failure ??= { status: o.status, message: `${x.eventType} expansion: ${o.message}` };
			}
		}
		if (failure) return failure;
		if (loaded.length === 0)
			return {
				status: "event_type_disabled",
				message: `no enabled probe produces ${disabled.join(", ")} events`,
			};
		return {
			status: "loaded",
			message: `expanded to ${loaded.join(", ")} rules${disabled.length > 0 ? ` (${disabled.join(", ")} not produced by any enabled probe)` : ""}`,
		};
	}

	#failure(e: unknown): RuleOutcome {
		if (e instanceof RuleError) return { status: e.status, message: e.message };
		throw e;
	}

	#compileIn(
		expression: string,
		locate: ExpressionLocator | undefined,
		mapOffset: (o: number) => number,
		prefix = "",
	): CompiledRule {
		try {
			return compile(expression, this.context);
		} catch (e) {
			if (!(e instanceof SeclError)) throw e;
			const at = locate ? (o: number) => locate(mapOffset(o)) : undefined;
			throw new RuleError(statusOf(e), located(at, e, prefix));
		}
	}

	#load(
		id: string,
		def: RuleDef,
		rule: CollectedRule,
		expression: string,
		mapOffset: (o: number) => number,
	): void {
		const source = rule.origin.source;
		const compiled = this.#compileIn(expression, source.expression, mapOffset);
		const eventType = compiled.eventType;
		if (this.#enabled && !this.#enabled.has(eventType)) {
			throw new RuleError("event_type_disabled", `no enabled probe produces ${eventType} events`);
		}
		const actions = (def.actions ?? []).map((a, i) => this.#action(a, i, eventType, rule));
		const limiterToken = def.limiter_token
			? this.#limiterToken(def.limiter_token, eventType, rule)
			: undefined;
		const loaded: LoadedRule = {
			id,
			def,
			policy: source.policy,
			eventType,
			compiled,
			actions,
			...(limiterToken ? { limiterToken } : {}),
		};
		this.#ruleSet.add(id, compiled, loaded);
		this.#rules.set(id, loaded);
	}

	#field(name: string, eventType: string, where: string): RegisteredField {
		const f = this.#registry.field(name);
		if (!f) throw new RuleError("error", `${where}: unknown field "${name}"`);
		if (!this.#registry.availableOn(f, eventType)) {
			throw new RuleError("error", `${where}: field "${name}" is not available on ${eventType} events`);
		}
		return f;
	}

	#limiterToken(fields: readonly string[], eventType: string, rule: CollectedRule): (event: Event) => string {
		const where = `${formatLocation(rule.origin.source.at)}: limiter_token`;
		const getters = fields.map((name) => this.#field(name, eventType, where).get);
		return (event) => getters.map((g) => String(g(event))).join("\u0000");
	}

	#action(a: ActionDef, i: number, eventType: string, rule: CollectedRule): LoadedAction {
		const locators = rule.origin.source.actions?.[i];
		const at = `${formatLocation(rule.origin.source.at)}: actions[${i}]`;
		const filter =
			a.filter !== undefined ? this.#actionFilter(a.filter, eventType, locators?.filter, i) : undefined;
		let set: LoadedSet | undefined;
		if (a.set) set = this.#set(a.set, eventType, at, locators?.expression, i);
		let hashPath: ((event: Event) => string) | undefined;
		if (a.hash) {
			const name = a.hash.field ? `${a.hash.field.replace(/\.path$/, "")}.path` : `${eventType}.file.path`;
			const fallback = this.#registry.field(name) ? name : "process.file.path";
			const f = this.#field(fallback, eventType, `${at}.hash`);
			hashPath = (event) => String(f.get(event) ?? "");
		}
		return {
			def: a,
			...(filter ? { filter } : {}),
			...(set ? { set } : {}),
			...(hashPath ? { hashPath } : {}),
		};
	}

	/**
	 * An action filter may read only common fields (`process.pid != 0`) or variables, so it is
	 * compiled as a boolean value rather than as a rule (which must name an event type).
	 */
	#actionFilter(
		expression: string,
		eventType: string,
		locate: ExpressionLocator | undefined,
		i: number,
	): (event: Event) => boolean {
		const prefix = `actions[${i}].filter: `;
		const compiled = this.#compileValueIn(expression, locate, prefix);
		const where = locate ? `${formatLocation(locate(0))}: ` : "";
		if (compiled.type !== "bool" || compiled.array) {
			throw new RuleError(
				"error",
				`${where}${prefix}expected a condition, got a ${compiled.type}${compiled.array ? " array" : ""} value`,
			);
		}
		if (compiled.eventType !== eventType && compiled.eventType !== "*") {
			throw new RuleError(
				"error",
				`${where}${prefix}reads ${compiled.eventType} fields but the rule is about ${eventType} events`,
			);
		}
		return (event) => compiled.evaluate(event) === true;
	}

	#compileValueIn(expression: string, locate: ExpressionLocator | undefined, prefix: string): CompiledValue {
		try {
			return compileValue(expression, this.context);
		} catch (e) {
			if (!(e instanceof SeclError)) throw e;
			throw new RuleError(statusOf(e), located(locate, e, prefix));
		}
	}

	#set(
		set: SetActionDef,
		eventType: string,
		at: string,
		locate: ExpressionLocator | undefined,
		i: number,
	): LoadedSet {
		const variable = this.context.variables.get(set.scope ? `${set.scope}.${set.name}` : set.name);
		if (!variable) throw new RuleError("error", `${at}.set: variable "${set.name}" was not declared`);
		let value: (event: Event) => VariableValue | undefined;
		if (set.value !== undefined) {
			const v = set.value as VariableValue;
			value = () => v;
		} else if (set.field !== undefined) {
			const f = this.#field(set.field, eventType, `${at}.set.field`);
			value = (event) => f.get(event) as VariableValue;
		} else {
			const compiled = this.#compileValueIn(set.expression ?? "", locate, `actions[${i}].set.expression: `);
			const where = locate ? `${formatLocation(locate(0))}: ` : "";
			if (compiled.eventType !== eventType && compiled.eventType !== "*") {
				throw new RuleError(
					"error",
					`${where}actions[${i}].set.expression: reads ${compiled.eventType} fields but the rule is about ${eventType} events`,
				);
			}
			if (compiled.type !== variable.type) {
				throw new RuleError(
					"error",
					`${where}actions[${i}].set.expression: a ${compiled.type} value for the ${variable.type} variable "${set.name}"`,
				);
			}
			value = (event) => compiled.evaluate(event) as VariableValue;
		}
		let scopePid: ((event: Event) => number) | undefined;
		if (set.scope_field !== undefined) {
			const f = this.#field(set.scope_field, eventType, `${at}.set.scope_field`);
			if (f.type !== "int")
				throw new RuleError(
					"error",
					`${at}.set.scope_field: "${set.scope_field}" is not a pid (an int field)`,
				);
			scopePid = (event) => Number(f.get(event) ?? 0);
		}
		return { def: set, variable, value, ...(scopePid ? { scopePid } : {}) };
	}

	result(): Compilation {
		return {
			context: this.context,
			ruleSet: this.#ruleSet,
			rules: this.#rules,
			macroOutcomes: this.#macroOutcomes,
			variableConflicts: this.#variableConflicts,
		};
	}
}
