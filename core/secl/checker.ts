/**
 * @module The SECL type checker: resolves identifiers (fields and legacy aliases, macros,
 * constants), variables and registers, checks operand types, determines the one event type a
 * rule applies to, validates path literals, compiles patterns and regexes, and produces the
 * checked form ({@link Ir}) that the code generator and the approvers read.
 */
import type { RegisteredField } from "../model/registry.ts";
import { passing } from "./approvers.ts";
import type { ArrayOp, Ast, Node, NodeOf, ScalarOp } from "./ast.ts";
import { Constants } from "./constants.ts";
import { type DiagnosticCode, fail, SeclError } from "./diagnostics.ts";
import type { SeclContext } from "./index.ts";
import { type Cidr, inRanges, normalizeIp, parseCidr } from "./ip.ts";
import type { ApproverValue, IndexValue, Ir, OrderOp, Pred, Quantifier, Scalar, ValueType } from "./ir.ts";
import { registerLegacyAliases } from "./legacy.ts";
import {
	compileList,
	compilePattern,
	compileRegex,
	foldFor,
	globBasename,
	globPrefix,
	type ListPattern,
	type Matcher,
	matcherCost,
	PatternError,
	patternOptionsFor,
} from "./patterns.ts";

/** Rough costs of one test, in ns, for ordering conditions (see `cost.ts`). */
const IP_COST = 60;
const FOLD_COST = 12;

/** Datadog's path limits (`model_helpers_unix.go`). */
const MAX_PATH_DEPTH = 1363;
const MAX_SEGMENT_LENGTH = 255;

/** A value operand: a field, variable, literal, constant or computed value. */
interface Value {
	readonly o: "value";
	readonly ir: Ir;
	readonly t: ValueType;
	readonly many: boolean;
	readonly node: Node;
	/** Known at compile time. */
	readonly lit?: Scalar;
	readonly dur?: boolean;
	readonly cidr?: Cidr;
	/** A plain field read (patterns on it follow the field's path/case rules). */
	readonly field?: RegisteredField;
	/** Text that depends on the event (interpolated string). */
	readonly dynamic?: boolean;
	/** Result of arithmetic: durations compare raw. */
	readonly computed?: boolean;
}

/** How patterns treat a field (see `patternOptionsFor`). */
type FieldPatternOptions = ReturnType<typeof patternOptionsFor>;

interface PatternOperand {
	readonly o: "pattern";
	readonly regex: boolean;
	readonly text: string;
	readonly node: Node;
	readonly dynamic: boolean;
}

/** Where an array element was written, when not in the expression being checked (a macro). */
interface Origin {
	readonly frame: Frame;
	/** The macro reference in the enclosing expression. */
	readonly ref: Node;
	readonly id: string;
}

type ArrayItem = (
	| { readonly kind: "string" | "pattern" | "regex"; readonly value: string }
	| { readonly kind: "int"; readonly value: number; readonly constant?: string }
	| { readonly kind: "bool"; readonly value: boolean; readonly constant?: string }
	| { readonly kind: "ip"; readonly value: string; readonly cidr: Cidr }
) & { readonly node: Node; readonly origin?: Origin };

interface ArrayOperand {
	readonly o: "array";
	readonly items: readonly ArrayItem[];
	readonly node: Node;
}

type Operand = Value | PatternOperand | ArrayOperand;

export interface Checked {
	readonly ir: Ir;
	readonly type: ValueType;
	readonly many: boolean;
	readonly eventType: string;
	readonly fields: readonly string[];
	readonly registers: number;
}

interface Frame {
	readonly source: string;
	/** The macro reference in the rule, when checking a macro body. */
	readonly macro?: { readonly id: string };
}

const typeName = (t: ValueType, many = false): string => `${t === "ip" ? "IP" : t}${many ? " array" : ""}`;

const FLIP: Record<OrderOp, OrderOp> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

const registries = new WeakSet<object>();

export class Checker {
	readonly #ctx: SeclContext;
	readonly #constants: Constants;
	readonly #source: string;
	#frame: Frame;
	readonly #macroStack: string[] = [];
	readonly #fields = new Set<string>();
	/** Event types allowed so far, and the field that narrowed them last. */
	#types: { types: readonly string[]; field: string; node: Node; frame: Frame } | undefined;
	readonly #registers: { name: string; iterator: string; items: (e: never) => readonly unknown[] }[] = [];

	constructor(ast: Ast, ctx: SeclContext) {
		this.#ctx = ctx;
		this.#constants = ctx.constants ?? Constants.forOs(ctx.registry.os);
		this.#source = ast.source;
		this.#frame = { source: ast.source };
		if (!registries.has(ctx.registry)) {
			registerLegacyAliases(ctx.registry);
			registries.add(ctx.registry);
		}
	}

	#fail(code: DiagnosticCode, message: string, node: { offset: number; length: number }): never {
		return fail(this.#frame.source, code, message, node.offset, node.length);
	}

	/** Check a rule: a boolean expression applying to exactly one event type. */
	rule(root: Node): Checked {
		const v = this.#value(this.#operand(root), root);
		const cond = this.#condition(v);
		return this.#finish(this.#hoistRegisters(cond), "bool", false, true);
	}

	/** Check an expression whose value is wanted (a `set` action's `expression`). */
	value(root: Node): Checked {
		const v = this.#value(this.#operand(root), root);
		if (this.#registers.length > 0)
			this.#fail("register", "registers are not allowed in value expressions", root);
		return this.#finish(v.ir, v.t, v.many, false);
	}

	/**
	 * Check a macro body on its own: an expression or value type-checks (fields of any event
	 * type), an array's elements resolve and its patterns and regexes compile.
	 */
	macro(root: Node): void {
		if (root.kind !== "array") {
			this.#value(this.#operand(root), root);
			return;
		}
		for (const item of root.items.flatMap((i) => this.#arrayItems(i))) {
			if (item.kind !== "pattern" && item.kind !== "regex") continue;
			this.#inOrigin(item, () => {
				try {
					if (item.kind === "regex") compileRegex(item.value);
					else if (item.value.includes("/")) compilePattern(item.value, { path: true });
					else compilePattern(item.value);
				} catch (err) {
					if (err instanceof PatternError)
						this.#fail(item.kind === "regex" ? "invalid_regex" : "invalid_pattern", err.message, item.node);
					throw err;
				}
			});
		}
	}

	#finish(ir: Ir, type: ValueType, many: boolean, needType: boolean): Checked {
		let eventType = "*";
		if (this.#types) {
			const { types } = this.#types;
			if (types.length === 1) eventType = types[0] as string;
			else {
				// several candidates (a field shared by dns and imds…): the rule's own prefix decides
				const own = types.filter((t) => [...this.#fields].some((f) => f.startsWith(`${t}.`)));
				if (own.length === 1) eventType = own[0] as string;
				else if (needType) {
					fail(
						this.#source,
						"multiple_event_types",
						`the rule applies to several event types (${types.join(", ")}); use a field of one of them`,
						0,
						this.#source.length,
					);
				}
			}
		} else if (needType) {
			fail(
				this.#source,
				"no_event_type",
				"the rule reads no event-specific field, so it applies to no event type",
				0,
				this.#source.length,
			);
		}
		return { ir, type, many, eventType, fields: [...this.#fields], registers: this.#registers.length };
	}

	// ---- operands ----

	#operand(node: Node): Operand {
		switch (node.kind) {
			case "ident":
				return this.#ident(node, "value");
			case "string":
				if (node.parts) {
					const parts = node.parts.map((p) =>
						typeof p === "string"
							? p
							: this.#variable({ kind: "variable", name: p.variable, offset: p.offset, length: p.length }).ir,
					);
					return { o: "value", ir: { k: "interp", parts }, t: "string", many: false, node, dynamic: true };
				}
				return {
					o: "value",
					ir: { k: "lit", v: node.value },
					t: "string",
					many: false,
					node,
					lit: node.value,
				};
			case "pattern":
				if (node.parts) this.#fail("non_static_pattern", "patterns cannot interpolate variables", node);
				return { o: "pattern", regex: false, text: node.value, node, dynamic: false };
			case "regex":
				return { o: "pattern", regex: true, text: node.value, node, dynamic: false };
			case "int":
				return { o: "value", ir: { k: "lit", v: node.value }, t: "int", many: false, node, lit: node.value };
			case "duration":
				return {
					o: "value",
					ir: { k: "lit", v: node.value },
					t: "int",
					many: false,
					node,
					lit: node.value,
					dur: true,
				};
			case "ip": {
				const cidr = parseCidr(node.value);
				if (!cidr) this.#fail("syntax", `invalid IP address "${node.value}"`, node);
				const text = node.cidr ? node.value : normalizeIp(node.value);
				return {
					o: "value",
					ir: { k: "lit", v: text },
					t: "ip",
					many: false,
					node,
					lit: text,
					...(node.cidr ? { cidr: cidr! } : {}),
				};
			}
			case "variable":
				return this.#variable(node);
			case "array":
				return { o: "array", items: node.items.flatMap((i) => this.#arrayItems(i)), node };
			case "bool": {
				const a = this.#condition(this.#value(this.#operand(node.left), node.left));
				const b = this.#condition(this.#value(this.#operand(node.right), node.right));
				return { o: "value", ir: { k: node.op === "&&" ? "and" : "or", a, b }, t: "bool", many: false, node };
			}
			case "not": {
				const a = this.#condition(this.#value(this.#operand(node.operand), node.operand));
				return { o: "value", ir: { k: "not", a }, t: "bool", many: false, node };
			}
			case "negate":
			case "bitnot": {
				const a = this.#int(node.operand, node.kind === "negate" ? "-" : "^");
				return {
					o: "value",
					ir: { k: node.kind === "negate" ? "neg" : "bnot", a: a.ir },
					t: "int",
					many: false,
					node,
					computed: true,
				};
			}
			case "bit":
			case "arith": {
				const a = this.#int(node.left, node.op);
				const b = this.#int(node.right, node.op);
				const ir: Ir =
					node.kind === "bit"
						? { k: "bit", o: node.op, a: a.ir, b: b.ir }
						: { k: "arith", o: node.op, a: a.ir, b: b.ir };
				const dur = node.kind === "arith" && a.dur === true && b.dur === true;
				return { o: "value", ir, t: "int", many: false, node, computed: true, ...(dur ? { dur } : {}) };
			}
			case "compare":
				return this.#compare(node);
			case "membership":
				return this.#membership(node);
		}
	}

	#value(op: Operand, node: Node): Value {
		if (op.o === "value") return op;
		if (op.o === "pattern")
			this.#fail(
				"type_mismatch",
				`a ${op.regex ? "regex" : "pattern"} can only be compared with a string (==, !=, =~, !~, in)`,
				node,
			);
		return this.#fail("type_mismatch", "an array can only be the right side of in, not in or allin", node);
	}

	#int(node: Node, op: string): Value {
		const v = this.#value(this.#operand(node), node);
		if (v.t !== "int" || v.many)
			this.#fail("type_mismatch", `"${op}" needs int operands, got ${typeName(v.t, v.many)}`, node);
		return v;
	}

	/** A boolean operand as a condition (an array of bools is true when any element is). */
	#condition(v: Value): Ir {
		if (v.t !== "bool")
			this.#fail("type_mismatch", `expected a boolean expression, got ${typeName(v.t, v.many)}`, v.node);
		if (v.many) return { k: "test", a: v.ir, many: true, q: "any", pred: { p: "eq", v: true } };
		if (v.ir.k === "field" || v.ir.k === "item" || v.ir.k === "var") {
			return {
				k: "test",
				a: v.ir,
				many: false,
				q: "any",
				pred: { p: "eq", v: true, approvers: [{ kind: "exact", value: true }] },
			};
		}
		return v.ir;
	}

	#variable(node: NodeOf<"variable">): Value {
		const v = this.#ctx.variables.get(node.name);
		if (!v)
			this.#fail(
				"unknown_variable",
				`unknown variable "\${${node.name}}" (declare it with a set action)`,
				node,
			);
		return { o: "value", ir: { k: "var", v: v! }, t: v!.type, many: v!.array, node };
	}

	/** `at`: where the identifier stands — a value, the array right of `in`, or an array element. */
	#ident(node: NodeOf<"ident">, at: "value" | "array" | "item"): Operand {
		if (node.register !== undefined) return this.#registerField(node);
		const macro = this.#ctx.macros.get(node.name);
		if (macro) return this.#macro(node, macro.id, macro.ast, at);
		const field = this.#ctx.registry.field(node.name);
		if (field) return this.#field(field, node);
		const constant = this.#constants.get(node.name);
		if (constant) {
			if (constant.array) {
				const items = (constant.value as readonly string[]).map(
					(value): ArrayItem => ({ kind: "string", value, node }),
				);
				return { o: "array", items, node };
			}
			return {
				o: "value",
				ir: { k: "lit", v: constant.value as Scalar },
				t: constant.type as ValueType,
				many: false,
				node,
				lit: constant.value as Scalar,
			};
		}
		if (at === "array") this.#fail("unknown_macro", `unknown macro "${node.name}"`, node);
		if (at === "item") this.#fail("unknown_constant", `unknown constant "${node.name}"`, node);
		if (!node.name.includes(".")) {
			if (/^[A-Z][A-Z0-9_]*$/.test(node.name))
				this.#fail("unknown_constant", `unknown constant or macro "${node.name}"`, node);
			this.#fail("unknown_field", `unknown field or macro "${node.name}"`, node);
		}
		return this.#fail("unknown_field", `unknown field "${node.name}"`, node);
	}

	#macro(node: Node, id: string, ast: Ast, at: "value" | "array" | "item"): Operand {
		if (this.#macroStack.includes(id)) {
			this.#fail(
				"invalid_macro",
				`macro "${id}" refers to itself (${[...this.#macroStack, id].join(" → ")})`,
				node,
			);
		}
		const outer = this.#frame;
		this.#macroStack.push(id);
		this.#frame = { source: ast.source, macro: { id } };
		try {
			const root = ast.root;
			const op =
				root.kind === "array"
					? ({ o: "array", items: root.items.flatMap((i) => this.#arrayItems(i)), node: root } as const)
					: root.kind === "ident"
						? this.#ident(root, at)
						: this.#operand(root);
			if (op.o === "array") {
				// elements are checked against the field later: remember where they were written
				const origin: Origin = { frame: this.#frame, ref: node, id };
				return { o: "array", items: op.items.map((i) => (i.origin ? i : { ...i, origin })), node };
			}
			// the operand keeps the rule's span so later errors point at the macro reference
			return { ...op, node };
		} catch (err) {
			if (!(err instanceof SeclError)) throw err;
			const d = err.diagnostic;
			// the innermost macro says where in its own expression the problem is
			const where = d.message.startsWith("in macro ") ? "" : ` (${d.line}:${d.col} of its expression)`;
			return fail(outer.source, d.code, `in macro ${id}${where}: ${d.message}`, node.offset, node.length);
		} finally {
			this.#macroStack.pop();
			this.#frame = outer;
		}
	}

	#useField(field: RegisteredField, node: Node): void {
		this.#fields.add(field.name);
		if (field.eventTypes.includes("*")) return;
		const prev = this.#types;
		if (!prev) {
			this.#types = { types: field.eventTypes, field: field.name, node, frame: this.#frame };
			return;
		}
		const types = prev.types.filter((t) => field.eventTypes.includes(t));
		if (types.length > 0) {
			this.#types = { types, field: field.name, node, frame: this.#frame };
			return;
		}
		const mine = field.eventTypes.join(" or ");
		const theirs = prev.types.join(" or ");
		// a field named after another event type is a second event type; otherwise it is simply absent
		const ownType = field.eventTypes.some((t) => field.name.startsWith(`${t}.`));
		if (ownType && prev.types.some((t) => prev.field.startsWith(`${t}.`))) {
			this.#fail(
				"multiple_event_types",
				`"${field.name}" is a ${mine} field but the rule already applies to ${theirs} events (through "${prev.field}"); a rule has one event type`,
				node,
			);
		}
		this.#fail(
			"field_not_available",
			`field "${field.name}" is not available on ${theirs} events (only on ${mine})`,
			node,
		);
	}

	#field(field: RegisteredField, node: Node): Value {
		this.#useField(field, node);
		return {
			o: "value",
			ir: { k: "field", f: field },
			t: field.type,
			many: field.array === true,
			node,
			field,
		};
	}

	/** Whether one element of an iterator field is an array (`process.ancestors.argv`, like `process.argv`). */
	#elementMany(field: RegisteredField): boolean {
		const it = field.iterator;
		if (!it?.name.endsWith("ancestors")) return false;
		return this.#ctx.registry.field(`process.${field.name.slice(it.name.length + 1)}`)?.array === true;
	}

	#registerField(node: NodeOf<"ident">): Value {
		const field = this.#ctx.registry.field(node.name);
		if (!field) this.#fail("unknown_field", `unknown field "${node.name}"`, node);
		const it = field!.iterator;
		if (!it || it.name !== node.iterator) {
			this.#fail(
				"register",
				`"${node.iterator}" is not an iterator, registers like [${node.register}] need one (process.ancestors…)`,
				node,
			);
		}
		this.#useField(field!, node);
		let reg = this.#registers.findIndex((r) => r.name === node.register);
		if (reg < 0) {
			reg = this.#registers.length;
			this.#registers.push({
				name: node.register as string,
				iterator: it!.name,
				items: it!.items as (e: never) => readonly unknown[],
			});
		} else if ((this.#registers[reg] as { iterator: string }).iterator !== it!.name) {
			this.#fail(
				"register",
				`register [${node.register}] is already used on "${(this.#registers[reg] as { iterator: string }).iterator}"; use another register for "${it!.name}"`,
				node,
			);
		}
		const many = this.#elementMany(field!);
		return { o: "value", ir: { k: "item", f: field!, reg, many }, t: field!.type, many, node };
	}

	#arrayItems(node: Node): ArrayItem[] {
		switch (node.kind) {
			case "string":
				if (node.parts) this.#fail("non_static_pattern", "array values cannot interpolate variables", node);
				return [{ kind: "string", value: node.value, node }];
			case "pattern":
				if (node.parts) this.#fail("non_static_pattern", "patterns cannot interpolate variables", node);
				return [{ kind: "pattern", value: node.value, node }];
			case "regex":
				return [{ kind: "regex", value: node.value, node }];
			case "int":
			case "duration":
				return [{ kind: "int", value: node.value, node }];
			case "ip": {
				const cidr = parseCidr(node.value);
				if (!cidr) this.#fail("syntax", `invalid IP address "${node.value}"`, node);
				return [{ kind: "ip", value: node.value, cidr: cidr!, node }];
			}
			case "ident": {
				const op = this.#ident(node, "item");
				if (op.o === "array") return [...op.items];
				if (op.o === "value" && op.lit !== undefined && !op.many) {
					if (op.t === "int") return [{ kind: "int", value: op.lit as number, node, constant: node.name }];
					if (op.t === "bool") return [{ kind: "bool", value: op.lit as boolean, node, constant: node.name }];
					if (op.t === "string") return [{ kind: "string", value: op.lit as string, node }];
				}
				return this.#fail(
					"type_mismatch",
					`"${node.name}" is not a constant value and cannot be an array element`,
					node,
				);
			}
			default:
				return this.#fail(
					"syntax",
					"arrays hold strings, patterns, regexes, numbers, IPs or constants",
					node,
				);
		}
	}

	// ---- comparisons ----

	#compare(node: NodeOf<"compare">): Value {
		let left = this.#operand(node.left);
		let right = this.#operand(node.right);
		let op: ScalarOp = node.op;
		// literal, pattern or array on the left: swap so the field is on the left (`r".*" == process.name`)
		const staticSide = (x: Operand) => x.o !== "value" || x.lit !== undefined;
		if (staticSide(left) && !staticSide(right)) {
			[left, right] = [right, left];
			if (op === "<" || op === "<=" || op === ">" || op === ">=") op = FLIP[op];
		}
		const bool = (ir: Ir): Value => ({ o: "value", ir, t: "bool", many: false, node });
		if (left.o === "array" || right.o === "array") {
			this.#fail("type_mismatch", `use "in" to compare with an array, not "${node.op}"`, node);
		}
		if (left.o === "pattern") this.#fail("type_mismatch", "both sides are patterns", node);
		const a = left as Value;
		if (op === "=~" || op === "!~") {
			if (right.o === "value") {
				if (right.t !== "string")
					this.#fail(
						"type_mismatch",
						`"${op}" needs a string pattern on the right, got ${typeName(right.t, right.many)}`,
						right.node,
					);
				if (right.dynamic || right.lit === undefined) {
					this.#fail(
						"non_static_pattern",
						`the pattern of "${op}" must be a literal, not a value that depends on the event`,
						right.node,
					);
				}
				right = { o: "pattern", regex: false, text: right.lit as string, node: right.node, dynamic: false };
			}
			return bool(this.#matchTest(a, right as PatternOperand, op === "=~" ? "any" : "none"));
		}
		if (right.o === "pattern") {
			if (op !== "==" && op !== "!=")
				this.#fail("type_mismatch", `patterns compare with ==, !=, =~ or !~, not "${op}"`, node);
			return bool(this.#matchTest(a, right, op === "==" ? "any" : "none"));
		}
		const b = right as Value;
		if (a.t !== b.t) {
			this.#fail(
				"type_mismatch",
				`cannot compare ${typeName(a.t, a.many)} with ${typeName(b.t, b.many)}`,
				node,
			);
		}
		if (op !== "==" && op !== "!=" && a.t !== "int") {
			this.#fail("type_mismatch", `"${op}" compares ints, not ${typeName(a.t)}`, node);
		}
		const o = op as "==" | "!=" | OrderOp;
		// a duration against a time field is an age: `container.created_at < 1s` is now - created_at < 1s
		if (
			b.dur &&
			!a.computed &&
			a.lit === undefined &&
			(a.field || a.ir.k === "item" || a.ir.k === "var") &&
			!a.many
		) {
			return bool({ k: "age", a: a.ir, o, d: b.lit as number });
		}
		if (b.lit !== undefined && !b.many) {
			this.#checkLiteral(a, b);
			return bool(this.#literalTest(a, o, b));
		}
		if (a.t === "bool" && (o === "==" || o === "!=") && !a.many && !b.many) {
			return bool({ k: "cmp", o, a: a.ir, b: b.ir, aMany: false, bMany: false });
		}
		return bool({ k: "cmp", o, a: a.ir, b: b.ir, aMany: a.many, bMany: b.many, ...this.#norm(a, b) });
	}

	#norm(a: Value, b: Value): { norm?: (s: string) => string } {
		if (a.t === "ip") return { norm: normalizeIp };
		const fold = foldFor(this.#patternOptions(a.field ?? b.field));
		return fold ? { norm: fold } : {};
	}

	/** `a <op> literal`. */
	#literalTest(a: Value, o: "==" | "!=" | OrderOp, b: Value): Ir {
		const q: Quantifier = o === "!=" ? "none" : "any";
		if (a.t === "ip") {
			const ranges = [b.cidr ?? (parseCidr(b.lit as string) as Cidr)];
			const exact = b.cidr ? undefined : [{ kind: "exact", value: b.lit as string } as const];
			return this.#test(a, q, {
				p: "fn",
				fn: ((x: string) => inRanges(ranges, x)) as (x: never) => boolean,
				cost: IP_COST,
				...(exact ? { approvers: exact } : {}),
			});
		}
		if (o === "==" || o === "!=") {
			const fold = a.t === "string" ? foldFor(this.#patternOptions(a.field)) : undefined;
			if (fold) {
				const v = fold(b.lit as string);
				return this.#test(a, q, {
					p: "fn",
					fn: ((x: string) => fold(x) === v) as (x: never) => boolean,
					cost: FOLD_COST,
					approvers: [{ kind: "exact", value: v, caseInsensitive: true }],
				});
			}
			return this.#test(a, q, {
				p: "eq",
				v: b.lit as Scalar,
				approvers: [{ kind: "exact", value: b.lit as Scalar }],
			});
		}
		return this.#test(a, "any", { p: "ord", o, v: b.lit as number });
	}

	#test(a: Value, q: Quantifier, pred: Pred): Ir {
		// approvers are scalar facts (in-kernel filters); the index also looks up array elements
		const keep = q !== "any" ? undefined : a.many ? "index" : "all";
		return { k: "test", a: a.ir, many: a.many, q, pred: keep === "all" ? pred : stripApprovers(pred, keep) };
	}

	#patternOptions(field: RegisteredField | undefined) {
		return patternOptionsFor(field, this.#ctx.registry.os);
	}

	/**
	 * Compile a pattern or regex for operand `a`. Patterns on case-insensitive or Windows path
	 * fields are compiled folded: `folded` says the test expects a value already folded (by
	 * `fold`, then set), so a list of patterns folds each value once. `o` are the field's options.
	 */
	#matcher(
		a: Value,
		p: { regex: boolean; text: string; node: Node },
	): { m: Matcher; folded: boolean; fold: ((s: string) => string) | undefined; o: FieldPatternOptions } {
		if (a.t !== "string") {
			this.#fail("type_mismatch", `patterns and regexes match strings, not ${typeName(a.t, a.many)}`, p.node);
		}
		const o = this.#patternOptions(a.field);
		try {
			if (p.regex) {
				if (o.path)
					this.#fail("invalid_regex", `regexp not supported on path field "${a.field?.name}"`, p.node);
				return {
					m: compileRegex(p.text, { caseInsensitive: o.caseInsensitive || o.windowsPath }),
					folded: false,
					fold: undefined,
					o,
				};
			}
			if (o.path) this.#checkPath(p.text, p.node, a.field as RegisteredField);
			const fold = foldFor(o);
			if (!fold) return { m: compilePattern(p.text, o), folded: false, fold: undefined, o };
			return { m: compilePattern(fold(p.text), { path: o.path || o.windowsPath }), folded: true, fold, o };
		} catch (err) {
			if (err instanceof PatternError)
				this.#fail(p.regex ? "invalid_regex" : "invalid_pattern", err.message, p.node);
			throw err;
		}
	}

	#matchTest(a: Value, p: PatternOperand, q: Quantifier): Ir {
		const { m, fold, o } = this.#matcher(a, p);
		const approvers = patternApprovers(m, p.regex, o);
		const index = patternIndex(m, p.regex, o);
		const test = fold ? (x: string) => m.test(fold(x)) : m.test;
		return this.#test(a, q, {
			p: "fn",
			fn: test as (x: never) => boolean,
			cost: matcherCost(m) + (fold ? FOLD_COST : 0),
			...(approvers ? { approvers } : {}),
			...(index ? { index } : {}),
		});
	}

	/** Path literals must be resolvable paths (`model_helpers_unix.go` validatePath). */
	#checkPath(text: string, node: Node, field: RegisteredField): void {
		if (this.#ctx.registry.os !== "linux" || text === "" || text === "*") return;
		const bad = (why: string) =>
			this.#fail("invalid_path", `invalid path "${text}" for ${field.name}: ${why}`, node);
		if (text !== cleanPath(text))
			bad('paths must be absolute and clean (no "..", ".", "//" or trailing "/")');
		if (!text.startsWith("/") && !text.startsWith("*")) bad("paths must be absolute");
		const segments = text.split("/");
		if (segments.length > MAX_PATH_DEPTH) bad(`paths are at most ${MAX_PATH_DEPTH} segments deep`);
		if (segments.some((s) => s.length > MAX_SEGMENT_LENGTH))
			bad(`path segments are at most ${MAX_SEGMENT_LENGTH} characters`);
	}

	#checkLiteral(a: Value, b: Value): void {
		if (a.t === "string" && a.field && this.#validatesPath(a.field))
			this.#checkPath(b.lit as string, b.node, a.field);
	}

	#validatesPath(field: RegisteredField): boolean {
		return this.#ctx.registry.os === "linux" && field.name.endsWith("path");
	}

	#membership(node: NodeOf<"membership">): Value {
		const a = this.#value(this.#operand(node.left), node.left);
		const rightNode = node.right;
		const right = rightNode.kind === "ident" ? this.#ident(rightNode, "array") : this.#operand(rightNode);
		const bool = (ir: Ir): Value => ({ o: "value", ir, t: "bool", many: false, node });
		const q = quantifier(node.op, a);
		if (right.o === "pattern") {
			return bool(this.#matchTest(a, right, q === "none" ? "none" : "any"));
		}
		if (right.o === "value") {
			if (right.cidr || (right.lit !== undefined && !right.many)) {
				// `ip in 10.0.0.0/8` or a single value
				if (a.t !== right.t)
					this.#fail(
						"type_mismatch",
						`cannot look for ${typeName(a.t, a.many)} in ${typeName(right.t)}`,
						node,
					);
				return bool(this.#setTest(a, q, [this.#itemOf(right)], node.op));
			}
			if (!right.many)
				this.#fail(
					"type_mismatch",
					`the right side of "${opText(node.op)}" must be an array, got ${typeName(right.t)}`,
					rightNode,
				);
			if (a.t !== right.t)
				this.#fail(
					"type_mismatch",
					`cannot look for ${typeName(a.t, a.many)} in ${typeName(right.t, true)}`,
					node,
				);
			// `"x" in container.tags` is a test on the array field: any element equal to "x"
			if (a.lit !== undefined && !a.many && a.t !== "ip" && right.ir.k === "field")
				return bool(this.#literalTest(right, q === "none" ? "!=" : "==", a));
			return bool({ k: "member", a: a.ir, aMany: a.many, b: right.ir, q, ...this.#norm(a, right) });
		}
		return bool(this.#setTest(a, q, right.items, node.op));
	}

	#itemOf(v: Value): ArrayItem {
		if (v.cidr) return { kind: "ip", value: v.lit as string, cidr: v.cidr, node: v.node };
		switch (v.t) {
			case "ip":
				return { kind: "ip", value: v.lit as string, cidr: parseCidr(v.lit as string) as Cidr, node: v.node };
			case "int":
				return { kind: "int", value: v.lit as number, node: v.node };
			case "bool":
				return { kind: "bool", value: v.lit as boolean, node: v.node };
			case "string":
				return { kind: "string", value: v.lit as string, node: v.node };
		}
	}

	/** `a in [static items]`. */
	#setTest(a: Value, q: Quantifier, items: readonly ArrayItem[], op: ArrayOp): Ir {
		const kinds = new Set(items.map((i) => (i.kind === "pattern" || i.kind === "regex" ? "string" : i.kind)));
		const head = items[0];
		if (kinds.size > 1) {
			const constants = items.some((i) => "constant" in i && i.constant);
			const odd = items.find(
				(i) => (i.kind === "pattern" || i.kind === "regex" ? "string" : i.kind) !== [...kinds][0],
			) as ArrayItem;
			this.#inOrigin(odd, () =>
				this.#fail(
					"type_mismatch",
					constants
						? "can't mix constants types in an array"
						: `an array holds one type, this one mixes ${[...kinds].join(" and ")}`,
					odd.node,
				),
			);
		}
		const kind = [...kinds][0] as ArrayItem["kind"] | undefined;
		const expected: ValueType = kind === undefined ? a.t : kind === "string" ? "string" : (kind as ValueType);
		if (expected !== a.t && head) {
			this.#inOrigin(head, () =>
				this.#fail(
					"type_mismatch",
					`cannot look for ${typeName(a.t, a.many)} in an array of ${typeName(expected)}s`,
					head.node,
				),
			);
		}
		if (op === "allin" && !(a.t === "ip" && a.many)) q = q === "all" ? "any" : q;
		if (a.t === "ip") {
			const ranges = items.map((i) => (i as { cidr: Cidr }).cidr);
			const approvers = items.every((i) => i.kind === "ip" && !i.value.includes("/"))
				? items.map((i) => ({ kind: "exact", value: normalizeIp(i.value as string) }) as const)
				: undefined;
			return this.#test(a, q, {
				p: "fn",
				fn: ((x: string) => inRanges(ranges, x)) as (x: never) => boolean,
				cost: IP_COST + ranges.length,
				...(approvers ? { approvers } : {}),
			});
		}
		if (a.t !== "string") {
			const s = new Set(items.map((i) => i.value as Scalar));
			return this.#test(a, q, {
				p: "set",
				s,
				approvers: [...s].map((value) => ({ kind: "exact", value }) as const),
			});
		}
		const o = this.#patternOptions(a.field);
		const fold = foldFor(o);
		const exact = new Set<string>();
		const patterns: ListPattern[] = [];
		const approvers: ApproverValue[] = [];
		let approvable = true;
		const index: IndexValue[] = [];
		let indexable = true;
		for (const item of items) {
			this.#inOrigin(item, () => {
				if (item.kind === "string") {
					if (a.field && this.#validatesPath(a.field)) this.#checkPath(item.value, item.node, a.field);
					const v = fold ? fold(item.value) : item.value;
					exact.add(v);
					const exactValue = fold
						? ({ kind: "exact", value: v, caseInsensitive: true } as const)
						: ({ kind: "exact", value: v } as const);
					approvers.push(exactValue);
					index.push(exactValue);
					return;
				}
				const { m, folded } = this.#matcher(a, {
					regex: item.kind === "regex",
					text: item.value as string,
					node: item.node,
				});
				patterns.push({ matcher: m, folded });
				const ap = patternApprovers(m, item.kind === "regex", o);
				if (ap) approvers.push(...ap);
				else approvable = false;
				const ix = patternIndex(m, item.kind === "regex", o);
				if (ix) index.push(...ix);
				else indexable = false;
			});
		}
		const ap = { ...(approvable ? { approvers } : {}), ...(indexable ? { index } : {}) };
		if (patterns.length === 0) {
			if (fold)
				return this.#test(a, q, {
					p: "fn",
					fn: ((x: string) => exact.has(fold(x))) as (x: never) => boolean,
					cost: FOLD_COST,
					...ap,
				});
			return this.#test(a, q, { p: "set", s: exact, ...ap });
		}
		const list = compileList(exact, patterns, fold, o.path || o.windowsPath);
		return this.#test(a, q, { p: "fn", fn: list.test as (x: never) => boolean, cost: list.cost, ...ap });
	}

	/** Run `check` on an array element in the expression it was written in (a macro's, maybe). */
	#inOrigin<R>(item: ArrayItem, check: () => R): R {
		const origin = item.origin;
		if (!origin || origin.frame === this.#frame) return check();
		const outer = this.#frame;
		this.#frame = origin.frame;
		try {
			return check();
		} catch (err) {
			if (!(err instanceof SeclError)) throw err;
			const d = err.diagnostic;
			return fail(
				outer.source,
				d.code,
				`in macro ${origin.id} (${d.line}:${d.col} of its expression): ${d.message}`,
				origin.ref.offset,
				origin.ref.length,
			);
		} finally {
			this.#frame = outer;
		}
	}

	// ---- registers ----

	/**
	 * A rule naming `[A]` holds when some element bound to A satisfies it. Conditions that do not
	 * mention a register are checked once, outside the loop over elements.
	 */
	#hoistRegisters(ir: Ir): Ir {
		if (this.#registers.length === 0) return ir;
		const conjuncts = flattenAnd(ir);
		const outside = conjuncts.filter((c) => !usesRegister(c));
		let body = andOf(conjuncts.filter((c) => usesRegister(c)));
		for (let reg = this.#registers.length - 1; reg >= 0; reg--) {
			const r = this.#registers[reg] as { items: (e: never) => readonly unknown[] };
			body = { k: "exists", reg, items: r.items, body };
		}
		return andOf([...outside, body]);
	}
}

const quantifier = (op: ArrayOp, a: Value): Quantifier =>
	op === "notin" ? "none" : op === "allin" && a.many ? "all" : "any";

const opText = (op: ArrayOp): string => (op === "notin" ? "not in" : op);

/** Drop the approvers of a test, keeping what the index may use when `keep` is "index". */
const stripApprovers = (pred: Pred, keep?: "index"): Pred => {
	const { approvers, index, ...rest } = pred;
	const kept = keep === "index" ? (index ?? approvers) : undefined;
	return (kept ? { ...rest, index: kept } : rest) as Pred;
};

const flattenAnd = (ir: Ir): Ir[] => (ir.k === "and" ? [...flattenAnd(ir.a), ...flattenAnd(ir.b)] : [ir]);

const andOf = (list: Ir[]): Ir => {
	let out = list[list.length - 1] as Ir;
	for (let i = list.length - 2; i >= 0; i--) out = { k: "and", a: list[i] as Ir, b: out };
	return out;
};

const usesRegister = (ir: Ir): boolean => {
	switch (ir.k) {
		case "item":
			return true;
		case "lit":
		case "field":
		case "var":
			return false;
		case "interp":
			return ir.parts.some((p) => typeof p !== "string" && usesRegister(p));
		case "and":
		case "or":
		case "bit":
		case "arith":
		case "cmp":
		case "member":
			return usesRegister(ir.a) || usesRegister(ir.b);
		case "not":
		case "neg":
		case "bnot":
		case "test":
		case "age":
			return usesRegister(ir.a);
		case "exists":
			return usesRegister(ir.body);
	}
};

/** Approver values of a pattern, or undefined when it can match values we cannot enumerate. */
const patternApprovers = (
	m: Matcher,
	regex: boolean,
	o: FieldPatternOptions,
): ApproverValue[] | undefined => {
	const ci = o.caseInsensitive || o.windowsPath ? ({ caseInsensitive: true } as const) : {};
	const fold = foldFor(o);
	const text = fold ? fold(m.source) : m.source;
	if (regex) {
		// only regexes anchored at the start enumerate (`^(curl|wget)$`, `^/tmp/`)
		if (!m.literals) return undefined;
		const kind = m.literals.kind;
		return m.literals.values.map((value) => ({ kind, value, ...ci }) as ApproverValue);
	}
	if (m.kind === "exact") return [{ kind: "exact", value: text, ...ci }];
	if (m.kind === "any") return undefined;
	if (o.path || o.windowsPath) {
		const prefix = globPrefix(text);
		if (prefix.length > 1) return [{ kind: "prefix", value: prefix, ...ci }];
		const base = globBasename(text);
		return base === undefined ? undefined : [{ kind: "basename", value: base, ...ci }];
	}
	const star = text.indexOf("*");
	return star > 0 ? [{ kind: "prefix", value: text.slice(0, star), ...ci }] : undefined;
};

/**
 * What the index may look a value up by for one pattern or regex: of the necessary conditions
 * it implies (a literal prefix, a literal last segment, a suffix, the longest literal run), the
 * one that narrows most. Values are folded as the field folds them.
 */
const patternIndex = (m: Matcher, regex: boolean, o: FieldPatternOptions): IndexValue[] | undefined => {
	const ci = o.caseInsensitive || o.windowsPath ? ({ caseInsensitive: true } as const) : {};
	const fold = foldFor(o) ?? ((s: string) => s);
	const options: IndexValue[][] = [];
	if (regex) {
		if (m.literals)
			options.push(m.literals.values.map((v) => ({ kind: m.literals!.kind, value: fold(v), ...ci })));
		if (m.needles)
			options.push(m.needles.values.map((v) => ({ kind: m.needles!.kind, value: fold(v), ...ci })));
	} else {
		const text = fold(m.source);
		if (m.kind === "exact") return [{ kind: "exact", value: text, ...ci }];
		if (m.kind === "any") return undefined;
		const pieces = text.split("*");
		const first = pieces[0] as string;
		const last = pieces[pieces.length - 1] as string;
		const longest = pieces.reduce((a, b) => (b.length > a.length ? b : a), "");
		// globs and patterns alike: text before the first star starts the value, text after the
		// last one ends it, and every literal run shows up somewhere in it
		if (first !== "") options.push([{ kind: "prefix", value: first, ...ci }]);
		if (last !== "") options.push([{ kind: "suffix", value: last, ...ci }]);
		// a run that starts or ends the pattern is better used as the prefix or suffix it is
		if (longest !== "" && longest !== first && longest !== last)
			options.push([{ kind: "substring", value: longest, ...ci }]);
		if (o.path || o.windowsPath) {
			const base = globBasename(text);
			if (base !== undefined) options.push([{ kind: "basename", value: base, ...ci }]);
		}
	}
	// a walk for text anywhere costs more than a look at the start or end of the value: such keys
	// must narrow much more to be chosen
	let best: IndexValue[] | undefined;
	let bestScore = Number.POSITIVE_INFINITY;
	for (const values of options) {
		const score = passing(values) * (values.some((v) => v.kind === "substring") ? 4 : 1);
		if (score < bestScore) {
			best = values;
			bestScore = score;
		}
	}
	return best;
};

/** Go's `path.Clean`. */
const cleanPath = (p: string): string => {
	if (p === "") return ".";
	const rooted = p.startsWith("/");
	const out: string[] = [];
	for (const s of p.split("/")) {
		if (s === "" || s === ".") continue;
		if (s === "..") {
			if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
			else if (!rooted) out.push("..");
			continue;
		}
		out.push(s);
	}
	const joined = (rooted ? "/" : "") + out.join("/");
	return joined === "" ? "." : joined;
};
