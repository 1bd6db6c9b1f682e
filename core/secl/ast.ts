/**
 * @module The SECL syntax tree. Every node carries its span (`offset`, `length`) in the source
 * so later stages can point at the exact text they reject.
 */

export interface Span {
	readonly offset: number;
	readonly length: number;
}

export type ScalarOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~";
export type ArrayOp = "in" | "notin" | "allin";
export type BoolOp = "&&" | "||";
export type BitOp = "&" | "|" | "^";
export type ArithOp = "+" | "-";

/** A piece of a string literal: text, or a `${variable}` read per event. */
export type StringPart =
	| string
	| { readonly variable: string; readonly offset: number; readonly length: number };

export type Node =
	| (Span & { readonly kind: "bool"; readonly op: BoolOp; readonly left: Node; readonly right: Node })
	| (Span & { readonly kind: "not"; readonly operand: Node })
	| (Span & { readonly kind: "negate"; readonly operand: Node })
	| (Span & { readonly kind: "bitnot"; readonly operand: Node })
	| (Span & { readonly kind: "bit"; readonly op: BitOp; readonly left: Node; readonly right: Node })
	| (Span & { readonly kind: "arith"; readonly op: ArithOp; readonly left: Node; readonly right: Node })
	| (Span & { readonly kind: "compare"; readonly op: ScalarOp; readonly left: Node; readonly right: Node })
	| (Span & { readonly kind: "membership"; readonly op: ArrayOp; readonly left: Node; readonly right: Node })
	| (Span & {
			readonly kind: "ident";
			/** The name without register: `process.ancestors.comm` for `process.ancestors[A].comm`. */
			readonly name: string;
			/** `A` in `process.ancestors[A].comm`. */
			readonly register?: string;
			/** The name before the register: `process.ancestors`. */
			readonly iterator?: string;
	  })
	| (Span & {
			readonly kind: "string";
			/** The text between the quotes, unprocessed (`"a\"b"` is `a\"b`). */
			readonly value: string;
			/** Present when the string interpolates variables (`"/proc/${process.pid}/maps"`). */
			readonly parts?: readonly StringPart[];
	  })
	| (Span & { readonly kind: "pattern"; readonly value: string; readonly parts?: readonly StringPart[] })
	| (Span & { readonly kind: "regex"; readonly value: string })
	| (Span & { readonly kind: "int"; readonly value: number })
	/** A duration literal, in nanoseconds. */
	| (Span & { readonly kind: "duration"; readonly value: number })
	| (Span & { readonly kind: "ip"; readonly value: string; readonly cidr: boolean })
	/** `${name}` or `${scope.name}`. */
	| (Span & { readonly kind: "variable"; readonly name: string })
	| (Span & { readonly kind: "array"; readonly items: readonly Node[] });

export type NodeKind = Node["kind"];
export type NodeOf<K extends NodeKind> = Extract<Node, { kind: K }>;

/** A parsed expression: the root node and the text it came from (for diagnostics). */
export interface Ast {
	readonly source: string;
	readonly root: Node;
}
