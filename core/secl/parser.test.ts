// biome-ignore-all lint/suspicious/noTemplateCurlyInString: SECL expressions write variables as ${name}
import { describe, expect, test } from "bun:test";
import type { Node } from "./ast.ts";
import { SeclError } from "./diagnostics.ts";
import { tokenize } from "./lexer.ts";
import { parse, parseMacro } from "./parser.ts";

/** A compact rendering of the tree: operators in prefix form, leaves as written. */
const shape = (n: Node): string => {
	switch (n.kind) {
		case "bool":
		case "compare":
		case "bit":
		case "arith":
			return `(${n.op} ${shape(n.left)} ${shape(n.right)})`;
		case "membership":
			return `(${n.op} ${shape(n.left)} ${shape(n.right)})`;
		case "not":
			return `(! ${shape(n.operand)})`;
		case "negate":
			return `(- ${shape(n.operand)})`;
		case "bitnot":
			return `(^ ${shape(n.operand)})`;
		case "ident":
			return n.register
				? `${n.iterator}[${n.register}]${n.name.slice((n.iterator as string).length)}`
				: n.name;
		case "string":
			return JSON.stringify(n.value);
		case "pattern":
			return `~${JSON.stringify(n.value)}`;
		case "regex":
			return `r${JSON.stringify(n.value)}`;
		case "int":
			return String(n.value);
		case "duration":
			return `${n.value}ns`;
		case "ip":
			return n.value;
		case "variable":
			return `\${${n.name}}`;
		case "array":
			return `[${n.items.map(shape).join(" ")}]`;
	}
};

const tree = (expr: string) => shape(parse(expr).root);

const syntaxError = (expr: string): SeclError => {
	try {
		parse(expr);
	} catch (e) {
		if (e instanceof SeclError) return e;
		throw e;
	}
	throw new Error(`${expr} parsed`);
};

describe("tokens", () => {
	test("strings are raw: only the quotes are removed, escapes are kept as written", () => {
		const [t] = tokenize(String.raw`"a\"b\n"`);
		expect(t?.kind).toBe("string");
		expect(t?.text).toBe(String.raw`a\"b\n`);
	});

	test("durations become nanoseconds, including compound ones", () => {
		const ns = (s: string) => tokenize(s)[0]?.number;
		expect(ns("5s")).toBe(5e9);
		expect(ns("100ms")).toBe(100e6);
		expect(ns("1m")).toBe(60e9);
		expect(ns("1h")).toBe(3600e9);
		expect(ns("2h30m")).toBe(2 * 3600e9 + 30 * 60e9);
		expect(tokenize("5s")[0]?.kind).toBe("duration");
	});

	test("IPv4, IPv6 and CIDR literals", () => {
		const kinds = (s: string) => tokenize(s).map((t) => `${t.kind}:${t.text}`);
		expect(kinds("10.0.0.1 ::1 10.0.0.0/8 fe80::1/64 ::/128")).toEqual([
			"ip:10.0.0.1",
			"ip:::1",
			"cidr:10.0.0.0/8",
			"cidr:fe80::1/64",
			"cidr:::/128",
			"eof:",
		]);
	});

	test("comments with # and // run to the end of the line", () => {
		expect(tree('open.file.path == "/x" # trailing\n&& open.flags > 0 // other')).toBe(
			'(&& (== open.file.path "/x") (> open.flags 0))',
		);
	});

	test("identifiers keep dots; registers are split out", () => {
		const n = parse('process.ancestors[A].file.name == "x"').root;
		expect(n.kind).toBe("compare");
		const left = (n as Extract<Node, { kind: "compare" }>).left;
		expect(left).toMatchObject({
			kind: "ident",
			name: "process.ancestors.file.name",
			register: "A",
			iterator: "process.ancestors",
		});
	});

	test("variables and interpolated strings", () => {
		const n = parse('open.file.path == "/proc/${process.pid}/maps"').root as Extract<
			Node,
			{ kind: "compare" }
		>;
		const right = n.right as Extract<Node, { kind: "string" }>;
		expect(right.parts).toEqual(["/proc/", { variable: "process.pid", offset: 25, length: 14 }, "/maps"]);
		expect(tree("process.pid == ${pid}")).toBe("(== process.pid ${pid})");
	});
});

describe("precedence and grouping (Datadog's grammar)", () => {
	test("&& and || have equal precedence and group to the right", () => {
		expect(tree("a && b || c")).toBe("(&& a (|| b c))");
		expect(tree("a || b && c")).toBe("(|| a (&& b c))");
		expect(tree("a and b or c")).toBe("(&& a (|| b c))");
	});

	test("unary binds tighter than comparisons and boolean operators", () => {
		expect(tree("not true && false")).toBe("(&& (! true) false)");
		expect(tree("!a == b")).toBe("(== (! a) b)");
	});

	test("bit operations bind tighter than comparisons: open.flags & O_CREAT > 0", () => {
		expect(tree("open.flags & O_CREAT > 0")).toBe("(> (& open.flags O_CREAT) 0)");
		expect(tree("open.flags & (O_WRONLY|O_RDWR) > 0")).toBe("(> (& open.flags (| O_WRONLY O_RDWR)) 0)");
	});

	test("bit operators share one level and group to the right; arithmetic goes left to right", () => {
		expect(tree("a & b | c")).toBe("(& a (| b c))");
		expect(tree("a - b + 3s")).toBe("(+ (- a b) 3000000000ns)");
		expect(tree("a + b & c")).toBe("(+ a (& b c))");
	});

	test("membership operators take arrays, macros, variables, fields and CIDRs", () => {
		expect(tree('x in ["a", ~"b*", r"c"]')).toBe('(in x ["a" ~"b*" r"c"])');
		expect(tree("x not in SHELLS")).toBe("(notin x SHELLS)");
		expect(tree("x allin [10.0.0.0/8]")).toBe("(allin x [10.0.0.0/8])");
		expect(tree("ip in 10.0.0.0/8")).toBe("(in ip 10.0.0.0/8)");
		expect(tree('"aws" not in ${cgroup.x}')).toBe('(notin "aws" ${cgroup.x})');
		expect(tree("retval in [-13, EPERM]")).toBe("(in retval [-13 EPERM])");
	});

	test("unary minus and bitwise not", () => {
		expect(tree("retval == -13")).toBe("(== retval -13)");
		expect(tree("a == -b")).toBe("(== a (- b))");
		expect(tree("a == ^b")).toBe("(== a (^ b))");
	});
});

describe("syntax errors are located with line, column and a caret excerpt", () => {
	test("an unexpected token", () => {
		const e = syntaxError('open.file.path == "/etc/shadow" &&');
		expect(e.diagnostic).toMatchObject({ code: "syntax", line: 1, col: 35 });
		expect(e.diagnostic.message).toContain("end of expression");
	});

	test("the location is on the right line of a multi-line expression", () => {
		const e = syntaxError('open.file.path == "/x"\n  && open.flags >> 1');
		expect(e.diagnostic).toMatchObject({ line: 2, col: 18 });
		expect(e.diagnostic.excerpt).toBe("  && open.flags >> 1\n                 ^");
		expect(e.message).toBe(`2:18: ${e.diagnostic.message}\n${e.diagnostic.excerpt}`);
	});

	test("unterminated strings, bad numbers, unclosed parentheses, empty rules", () => {
		expect(syntaxError('x == "abc').diagnostic).toMatchObject({
			col: 6,
			message: "unterminated string literal",
		});
		expect(syntaxError("x == 12abc").diagnostic.message).toContain("invalid number");
		expect(syntaxError("(a && b").diagnostic.message).toContain('")" to close the "(" at 1:1');
		expect(syntaxError("   ").diagnostic.message).toBe("empty expression");
		expect(syntaxError("x in []]").diagnostic.code).toBe("syntax");
		expect(syntaxError("x == 300.1.1.1").diagnostic.message).toContain("invalid IP address");
	});

	test("registers must be letters and one per field", () => {
		expect(syntaxError('process.ancestors[_].comm == "x"').diagnostic.code).toBe("register");
		expect(syntaxError("a[A].b[B] == 1").diagnostic.message).toContain("only one register");
	});
});

describe("macro bodies", () => {
	test("may be an array, a value or an expression", () => {
		expect(shape(parseMacro('["a", "b"]').root)).toBe('["a" "b"]');
		expect(shape(parseMacro("S_IXUSR|S_IXGRP").root)).toBe("(| S_IXUSR S_IXGRP)");
		expect(shape(parseMacro('exec.comm in ["a"]').root)).toBe('(in exec.comm ["a"])');
	});
});
