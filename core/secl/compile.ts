/**
 * @module Compile a SECL rule (or a value expression of a `set` action) into a function over
 * events: parse, type-check against the context's registry, macros, variables and constants,
 * then generate JavaScript.
 */
import type { Event } from "../model/types.ts";
import type { Ast } from "./ast.ts";
import { Checker } from "./checker.ts";
import { generateRule, generateValue } from "./codegen.ts";
import { estimate, firstReads, order } from "./cost.ts";
import { fail } from "./diagnostics.ts";
import type { SeclContext } from "./index.ts";
import type { Ir, ValueType } from "./ir.ts";
import { parse } from "./parser.ts";

export interface CompiledRule {
	readonly expression: string;
	/** OS of the registry it was checked against (path and case rules differ). */
	readonly os: "linux" | "windows";
	/** The one event type the rule applies to. */
	readonly eventType: string;
	/** Fields the rule reads (current names, macros included). */
	readonly fields: readonly string[];
	readonly ast: Ast;
	/** The checked form (read by `approversOf`). */
	readonly ir: Ir;
	/**
	 * Of the ordered form the generated code tests (see `order` in cost.ts): its estimated cost
	 * and the fields it reads first, for the index plan of a rule set.
	 */
	readonly ordered: { readonly cost: number; readonly firstReads: readonly string[] };
	/** The generated JavaScript, for debugging. */
	readonly source: string;
	/**
	 * Whether the event matches. Durations use `event.timestamp` as now; variables are read
	 * from the context's store. Allocates nothing beyond what derived fields need.
	 */
	evaluate(event: Event): boolean;
}

export interface CompiledValue {
	readonly expression: string;
	readonly type: ValueType;
	readonly array: boolean;
	readonly fields: readonly string[];
	/** Event type of the fields read, `*` when only common fields are read. */
	readonly eventType: string;
	evaluate(event: Event): unknown;
}

/** Compile a rule expression. Throws a SeclError carrying the first diagnostic. */
export const compile = (expression: string, ctx: SeclContext): CompiledRule => {
	const ast = parse(expression);
	const checked = new Checker(ast, ctx).rule(ast.root);
	// conditions have no side effects: the generated code tests the cheap, decisive ones first
	const ordered = order(checked.ir);
	const { fn, source } = generateRule(ordered, checked.registers);
	return {
		expression,
		os: ctx.registry.os,
		eventType: checked.eventType,
		fields: checked.fields,
		ast,
		ir: checked.ir,
		ordered: { cost: estimate(ordered).cost, firstReads: firstReads(ordered) },
		source,
		evaluate: fn,
	};
};

/**
 * Compile an expression whose value is wanted: a `set` action's `expression`
 * (`"${process.correlation_key}:${process.correlation_entity}"`, `${x} + 1`, `exec.cgroup.id`).
 */
export const compileValue = (expression: string, ctx: SeclContext): CompiledValue => {
	const ast = parse(expression);
	const checked = new Checker(ast, ctx).value(ast.root);
	const { fn } = generateValue(checked.ir);
	return {
		expression,
		type: checked.type,
		array: checked.many,
		fields: checked.fields,
		eventType: checked.eventType,
		evaluate: fn,
	};
};

/**
 * Type-check macro `id` on its own (it is otherwise checked where rules use it). Throws a
 * SeclError located in the macro's expression; unknown ids throw `unknown_macro`.
 */
export const checkMacro = (id: string, ctx: SeclContext): void => {
	const macro = ctx.macros.get(id);
	if (!macro) fail(id, "unknown_macro", `unknown macro "${id}"`, 0, id.length);
	new Checker(macro!.ast, ctx).macro(macro!.ast.root);
};
