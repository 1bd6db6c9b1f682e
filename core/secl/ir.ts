/**
 * @module The checked form of a SECL expression: typed, macros expanded, constants folded,
 * patterns compiled. The type checker (`checker.ts`) produces it, the code generator
 * (`codegen.ts`) turns it into a JavaScript function and `approvers.ts` reads it.
 */
import type { RegisteredField } from "../model/registry.ts";
import type { ArithOp, BitOp } from "./ast.ts";
import type { Variable } from "./variables.ts";

export type ValueType = "string" | "int" | "bool" | "ip";
export type Scalar = string | number | boolean;
export type OrderOp = "<" | "<=" | ">" | ">=";

/** Values a field must take for a rule to match (see `approvers.ts`). */
export type ApproverValue =
	| { readonly kind: "exact"; readonly value: Scalar; readonly caseInsensitive?: true }
	/** The value starts with this text (for paths, a directory ending with `/`). */
	| { readonly kind: "prefix"; readonly value: string; readonly caseInsensitive?: true }
	/** The last `/`-separated segment of a path is this text. */
	| { readonly kind: "basename"; readonly value: string; readonly caseInsensitive?: true };

/**
 * What a rule set's index may look a value up by: the approver kinds, text the value must
 * contain or end with (from unanchored patterns, which approvers do not express), and bits of
 * an integer of which one must be set.
 */
export type IndexValue =
	| ApproverValue
	| { readonly kind: "substring" | "suffix"; readonly value: string; readonly caseInsensitive?: true }
	/** An integer with some bit of this mask set (`open.flags & O_CREAT > 0`). */
	| { readonly kind: "mask"; readonly value: number; readonly caseInsensitive?: undefined };

/**
 * A test applied to each value of an operand. `eq`, `ord` and `set` are inlined by the code
 * generator; `fn` is called. `approvers` lists the values the test can accept, when they are
 * enumerable (an `==`, an `in` of literals, a glob with a literal directory…). `index`, when
 * present, is what a rule set's index uses instead: for each alternative the test accepts, one
 * necessary condition, chosen to narrow the most (`~"*stratum+tcp*"` has no approver but the
 * substring `stratum+tcp`); it stays on tests over array fields, where any element passing is
 * enough.
 */
export type Pred = (
	| { readonly p: "eq"; readonly v: Scalar }
	| { readonly p: "ord"; readonly o: OrderOp; readonly v: number }
	| { readonly p: "set"; readonly s: ReadonlySet<Scalar> }
	| { readonly p: "fn"; readonly fn: (x: never) => boolean }
) & {
	readonly approvers?: readonly ApproverValue[];
	readonly index?: readonly IndexValue[];
	/** For `fn`: a rough cost of one call in ns (a list of patterns costs more than one). */
	readonly cost?: number;
};

/** Any / none / all of an operand's values pass the test (scalars have one value). */
export type Quantifier = "any" | "none" | "all";

export type Ir =
	| { readonly k: "lit"; readonly v: Scalar }
	/** A field read with its accessor; an array for array fields. */
	| { readonly k: "field"; readonly f: RegisteredField }
	/** A field read from the element of an iterator bound to a register. */
	| { readonly k: "item"; readonly f: RegisteredField; readonly reg: number; readonly many: boolean }
	| { readonly k: "var"; readonly v: Variable }
	/** A string built per event from text and values (arrays joined with `,`). */
	| { readonly k: "interp"; readonly parts: readonly (string | Ir)[] }
	| { readonly k: "and" | "or"; readonly a: Ir; readonly b: Ir }
	| { readonly k: "not" | "neg" | "bnot"; readonly a: Ir }
	| { readonly k: "bit"; readonly o: BitOp; readonly a: Ir; readonly b: Ir }
	| { readonly k: "arith"; readonly o: ArithOp; readonly a: Ir; readonly b: Ir }
	/** `a` (scalar or many) against a static test (which folds case itself where the field needs it). */
	| {
			readonly k: "test";
			readonly a: Ir;
			readonly many: boolean;
			readonly q: Quantifier;
			readonly pred: Pred;
	  }
	/** Two dynamic operands (`exec.cgroup.id != process.parent.cgroup.id`). */
	| {
			readonly k: "cmp";
			readonly o: "==" | "!=" | OrderOp;
			readonly a: Ir;
			readonly b: Ir;
			readonly aMany: boolean;
			readonly bMany: boolean;
			/** String folding (case-insensitive fields) or IP normalisation applied to both sides. */
			readonly norm?: (s: string) => string;
	  }
	/** `a in b` where `b` is an array known only per event (a variable, an array field). */
	| {
			readonly k: "member";
			readonly a: Ir;
			readonly aMany: boolean;
			readonly b: Ir;
			readonly q: Quantifier;
			readonly norm?: (s: string) => string;
	  }
	/** Age of a timestamp: `now - a <op> d` (a duration compared with a time field). */
	| { readonly k: "age"; readonly a: Ir; readonly o: "==" | "!=" | OrderOp; readonly d: number }
	/** Some element of an iterator satisfies `body` (register `reg` bound to it). */
	| {
			readonly k: "exists";
			readonly reg: number;
			readonly items: (e: never) => readonly unknown[];
			readonly body: Ir;
	  };
