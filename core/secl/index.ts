/**
 * @module SECL, Datadog's Security Evaluation and Control Language: parse, type-check and compile
 * rule expressions, evaluate them on events, and group compiled rules into a {@link RuleSet}.
 *
 * When to use: the policy layer builds one {@link SeclContext} per rule set (field registry,
 * every policy's macros in one {@link MacroStore}, every `set` action's variable declared in one
 * {@link VariableStore}), {@link compile}s each rule and adds the loaded ones to a
 * {@link RuleSet}; the rule engine calls {@link RuleSet.evaluate} for each event. `vigil secl eval`
 * and tests use {@link compile} directly. Every error is a {@link SeclError} carrying a coded
 * {@link Diagnostic} with a line:col location and a caret excerpt.
 */

import type { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";

export { type Approvers, type ApproverValue, approversOf, type FieldApprovers } from "./approvers.ts";
export type { Ast, Node } from "./ast.ts";
export { type CompiledRule, type CompiledValue, checkMacro, compile, compileValue } from "./compile.ts";
export { type Constant, Constants } from "./constants.ts";
export type { Diagnostic, DiagnosticCode } from "./diagnostics.ts";
export { SeclError } from "./diagnostics.ts";
export { LEGACY_FIELDS, registerLegacyAliases } from "./legacy.ts";
export { type MacroDefinition, MacroStore } from "./macros.ts";
export { parse } from "./parser.ts";
export { RuleSet, type RuleSetStats } from "./ruleset.ts";
export {
	type ScopedVariables,
	type Variable,
	type VariableDefinition,
	type VariableScope,
	VariableStore,
	type VariableType,
	type VariableValue,
} from "./variables.ts";

import type { Constants } from "./constants.ts";
import type { MacroStore } from "./macros.ts";
import type { VariableStore } from "./variables.ts";

/**
 * Everything an expression is checked and compiled against. One context per rule set: the
 * macros and variables of every policy live in the same stores.
 */
export interface SeclContext {
	readonly registry: FieldRegistry;
	readonly macros: MacroStore;
	readonly variables: VariableStore;
	/** Defaults to the constants of the registry's OS (`Constants.forOs(registry.os)`). */
	readonly constants?: Constants;
}

/** Re-exported for callers that type `evaluate` arguments. */
export type { Event };
