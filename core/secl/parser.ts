/**
 * @module The SECL parser: Datadog's grammar, tightest to loosest — primary, unary
 * (`! not - ^`), bit operations (`& | ^`, one level, right-associative), arithmetic (`+ -`,
 * left-to-right), comparison (scalar ops or `in` / `not in` / `allin` an array) and boolean
 * operators, where `&&` and `||` have **equal precedence and group to the right**
 * (`a && b || c` is `a && (b || c)`), as in Datadog.
 *
 * When to use: {@link parse} for a rule, {@link parseMacro} for a macro body (which may also be an
 * array or a single value).
 */
import type { ArrayOp, Ast, BitOp, Node, ScalarOp, StringPart } from "./ast.ts";
import { fail } from "./diagnostics.ts";
import { type Token, tokenize } from "./lexer.ts";

const SCALAR_OPS = new Set<string>(["==", "!=", "<", "<=", ">", ">=", "=~", "!~"]);
const BIT_OPS = new Set<string>(["&", "|", "^"]);
const REGISTER = /\[([^\]]*)\]/g;
const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g;

class Parser {
	#i = 0;
	constructor(
		readonly source: string,
		readonly tokens: Token[],
	) {}

	get peek(): Token {
		return this.tokens[this.#i] as Token;
	}

	#next(): Token {
		const t = this.tokens[this.#i] as Token;
		if (t.kind !== "eof") this.#i++;
		return t;
	}

	#is(text: string): boolean {
		const t = this.peek;
		return (t.kind === "punct" || t.kind === "ident") && t.text === text;
	}

	#isWordAt(k: number, text: string): boolean {
		const t = this.tokens[this.#i + k];
		return t !== undefined && t.kind === "ident" && t.text === text;
	}

	#unexpected(expected: string): never {
		const t = this.peek;
		const what =
			t.kind === "eof" ? "end of expression" : `"${this.source.slice(t.offset, t.offset + t.length)}"`;
		return fail(
			this.source,
			"syntax",
			`unexpected ${what}, expected ${expected}`,
			t.offset,
			Math.max(1, t.length),
		);
	}

	#expect(text: string, expected = `"${text}"`): Token {
		if (!this.#is(text)) this.#unexpected(expected);
		return this.#next();
	}

	end(): void {
		if (this.peek.kind !== "eof") this.#unexpected("an operator or the end of the expression");
	}

	expression(): Node {
		const left = this.comparison();
		let op: "&&" | "||" | undefined;
		if (this.#is("&&") || this.#is("and")) op = "&&";
		else if (this.#is("||") || this.#is("or")) op = "||";
		if (!op) return left;
		this.#next();
		const right = this.expression();
		return { kind: "bool", op, left, right, ...span(left, right) };
	}

	comparison(): Node {
		const left = this.arithmetic();
		const t = this.peek;
		if (t.kind === "punct" && SCALAR_OPS.has(t.text)) {
			this.#next();
			const right = this.comparison();
			return { kind: "compare", op: t.text as ScalarOp, left, right, ...span(left, right) };
		}
		let op: ArrayOp | undefined;
		if (this.#is("in")) op = "in";
		else if (this.#is("allin")) op = "allin";
		else if (this.#is("not") && this.#isWordAt(1, "in")) {
			this.#next();
			op = "notin";
		}
		if (!op) return left;
		this.#next();
		const right = this.array();
		return { kind: "membership", op, left, right, ...span(left, right) };
	}

	arithmetic(): Node {
		let left = this.bitOperation();
		while (this.#is("+") || this.#is("-")) {
			const op = this.#next().text as "+" | "-";
			const right = this.bitOperation();
			left = { kind: "arith", op, left, right, ...span(left, right) };
		}
		return left;
	}

	bitOperation(): Node {
		const left = this.unary();
		const t = this.peek;
		if (t.kind !== "punct" || !BIT_OPS.has(t.text)) return left;
		this.#next();
		const right = this.bitOperation();
		return { kind: "bit", op: t.text as BitOp, left, right, ...span(left, right) };
	}

	unary(): Node {
		const t = this.peek;
		if (this.#is("!") || this.#is("not")) {
			this.#next();
			const operand = this.unary();
			return { kind: "not", operand, ...span(t, operand) };
		}
		if (this.#is("-") || this.#is("+")) {
			this.#next();
			const operand = this.unary();
			if (t.text === "+") {
				if (operand.kind !== "int")
					fail(this.source, "syntax", `"+" is only allowed before a number`, t.offset, 1);
				return { ...operand, ...span(t, operand) };
			}
			if (operand.kind === "int") return { kind: "int", value: -operand.value, ...span(t, operand) };
			return { kind: "negate", operand, ...span(t, operand) };
		}
		if (this.#is("^")) {
			this.#next();
			const operand = this.unary();
			return { kind: "bitnot", operand, ...span(t, operand) };
		}
		return this.primary();
	}

	primary(): Node {
		const t = this.peek;
		switch (t.kind) {
			case "ident":
				if (t.text === "in" || t.text === "allin" || t.text === "and" || t.text === "or") break;
				this.#next();
				return this.ident(t);
			case "int":
				this.#next();
				return { kind: "int", value: t.number as number, offset: t.offset, length: t.length };
			case "duration":
				this.#next();
				return { kind: "duration", value: t.number as number, offset: t.offset, length: t.length };
			case "ip":
			case "cidr":
				this.#next();
				return { kind: "ip", value: t.text, cidr: t.kind === "cidr", offset: t.offset, length: t.length };
			case "variable":
				this.#next();
				return { kind: "variable", name: t.text, offset: t.offset, length: t.length };
			case "string": {
				this.#next();
				const parts = interpolate(t);
				return {
					kind: "string",
					value: t.text,
					offset: t.offset,
					length: t.length,
					...(parts ? { parts } : {}),
				};
			}
			case "pattern": {
				this.#next();
				const parts = interpolate(t);
				return {
					kind: "pattern",
					value: t.text,
					offset: t.offset,
					length: t.length,
					...(parts ? { parts } : {}),
				};
			}
			case "regex":
				this.#next();
				return { kind: "regex", value: t.text, offset: t.offset, length: t.length };
			case "punct":
				if (t.text === "(") {
					this.#next();
					const inner = this.expression();
					const close = this.#expect(")", `")" to close the "(" at ${position(this.source, t.offset)}`);
					return { ...inner, offset: t.offset, length: close.offset + 1 - t.offset };
				}
				break;
		}
		return this.#unexpected('a field, a value or "("');
	}

	ident(t: Token): Node {
		const regs = [...t.text.matchAll(REGISTER)];
		if (regs.length === 0) {
			if (t.text.includes("[") || t.text.includes("]")) {
				fail(this.source, "syntax", `malformed register in "${t.text}"`, t.offset, t.length);
			}
			return { kind: "ident", name: t.text, offset: t.offset, length: t.length };
		}
		const reg = regs[0] as RegExpExecArray;
		const at = t.offset + reg.index;
		if (regs.length > 1) {
			fail(
				this.source,
				"register",
				"only one register per field is allowed",
				t.offset + (regs[1] as RegExpExecArray).index,
				3,
			);
		}
		const register = reg[1] as string;
		if (!/^[A-Za-z][A-Za-z0-9]*$/.test(register)) {
			fail(
				this.source,
				"register",
				`invalid register name "${register}" (use a letter, as in [A])`,
				at,
				reg[0].length,
			);
		}
		const iterator = t.text.slice(0, reg.index);
		const rest = t.text.slice(reg.index + reg[0].length);
		if (iterator === "" || (rest !== "" && !rest.startsWith("."))) {
			fail(this.source, "syntax", `malformed register in "${t.text}"`, at, reg[0].length);
		}
		return { kind: "ident", name: iterator + rest, register, iterator, offset: t.offset, length: t.length };
	}

	/** `[...]`, a CIDR, a variable or an identifier (macro or array field). */
	array(): Node {
		const t = this.peek;
		if (t.kind === "cidr" || t.kind === "ip" || t.kind === "variable" || t.kind === "ident")
			return this.primary();
		if (!this.#is("[")) return this.#unexpected(`"[", a macro, a variable or a field`);
		this.#next();
		const items: Node[] = [];
		while (!this.#is("]")) {
			items.push(this.arrayItem());
			if (this.#is(",")) {
				this.#next();
				if (this.#is("]")) this.#unexpected('a value after ","');
			} else if (!this.#is("]")) this.#unexpected(`"," or "]"`);
		}
		const close = this.#next();
		return { kind: "array", items, offset: t.offset, length: close.offset + 1 - t.offset };
	}

	arrayItem(): Node {
		const t = this.peek;
		switch (t.kind) {
			case "string":
			case "pattern":
			case "regex":
			case "int":
			case "duration":
			case "ip":
			case "cidr":
				return this.primary();
			case "ident":
				this.#next();
				return this.ident(t);
			case "punct":
				if (t.text === "-" || t.text === "+") {
					const n = this.unary();
					if (n.kind === "int") return n;
				}
				break;
		}
		return this.#unexpected("a string, a pattern, a regex, a number, an IP or a constant");
	}
}

const span = (a: { offset: number; length: number }, b: { offset: number; length: number }) => ({
	offset: a.offset,
	length: b.offset + b.length - a.offset,
});

const position = (source: string, offset: number): string => {
	const before = source.slice(0, offset);
	const line = before.split("\n").length;
	return `${line}:${offset - before.lastIndexOf("\n")}`;
};

const interpolate = (t: Token): StringPart[] | undefined => {
	if (!t.text.includes("${")) return undefined;
	const parts: StringPart[] = [];
	let last = 0;
	// the literal text starts after the opening quote (and the ~ of a pattern)
	const base = t.offset + t.length - t.text.length - 1;
	for (const m of t.text.matchAll(INTERPOLATION)) {
		if (m.index > last) parts.push(t.text.slice(last, m.index));
		parts.push({ variable: m[1] as string, offset: base + m.index, length: m[0].length });
		last = m.index + m[0].length;
	}
	if (parts.length === 0) return undefined;
	if (last < t.text.length) parts.push(t.text.slice(last));
	return parts;
};

/** Parse a rule expression. Throws a `syntax` (or `register`) SeclError. */
export const parse = (expression: string): Ast => {
	const p = new Parser(expression, tokenize(expression));
	if (p.peek.kind === "eof") fail(expression, "syntax", "empty expression", 0, 1);
	const root = p.expression();
	p.end();
	return { source: expression, root };
};

/** Parse a macro body: an expression, an array (`["a", "b"]`) or a single value. */
export const parseMacro = (expression: string): Ast => {
	const p = new Parser(expression, tokenize(expression));
	if (p.peek.kind === "eof") fail(expression, "syntax", "empty macro expression", 0, 1);
	const root = p.peek.kind === "punct" && p.peek.text === "[" ? p.array() : p.expression();
	p.end();
	return { source: expression, root };
};
