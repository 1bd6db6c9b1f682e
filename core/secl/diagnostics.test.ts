// biome-ignore-all lint/suspicious/noTemplateCurlyInString: SECL expressions write variables as ${name}
import { describe, expect, test } from "bun:test";
import { FieldRegistry } from "../model/registry.ts";
import { Constants } from "./constants.ts";
import {
	checkMacro,
	compile,
	type Diagnostic,
	type DiagnosticCode,
	MacroStore,
	type SeclContext,
	SeclError,
	VariableStore,
} from "./index.ts";

const linux = FieldRegistry.linux();
const context = (): SeclContext => ({
	registry: linux,
	macros: new MacroStore(),
	variables: new VariableStore(),
});

const diagnose = (expr: string, ctx = context()): Diagnostic => {
	try {
		compile(expr, ctx);
	} catch (e) {
		if (e instanceof SeclError) return e.diagnostic;
		throw e;
	}
	throw new Error(`${expr} compiled`);
};

/** The text the diagnostic points at. */
const spanOf = (expr: string, d: Diagnostic) => expr.slice(d.offset, d.offset + d.length);

const cases: [DiagnosticCode, string, string, string][] = [
	// code, expression, text under the caret, part of the message
	["syntax", 'open.file.path == "/x" &&& open.flags > 0', "&", "unexpected"],
	["unknown_field", 'open.file.pth == "/x"', "open.file.pth", 'unknown field "open.file.pth"'],
	["unknown_constant", "open.flags & O_CRAETE > 0", "O_CRAETE", 'unknown constant or macro "O_CRAETE"'],
	["unknown_constant", "open.retval in [EPERM, ENOPE]", "ENOPE", 'unknown constant "ENOPE"'],
	["unknown_macro", "exec.comm in SHELLZ", "SHELLZ", 'unknown macro "SHELLZ"'],
	["unknown_variable", "open.flags == ${nope}", "${nope}", 'unknown variable "${nope}"'],
	["type_mismatch", 'open.flags == "x"', 'open.flags == "x"', "cannot compare int with string"],
	["type_mismatch", "open.file.path > 3", "open.file.path > 3", "cannot compare string with int"],
	["type_mismatch", 'open.flags =~ "x*"', '"x*"', "match strings, not int"],
	["type_mismatch", 'open.file.path in ["/a", 3]', "3", "mixes string and int"],
	["type_mismatch", "open.file.path", "open.file.path", "expected a boolean expression, got string"],
	[
		"multiple_event_types",
		'open.file.path == "/x" && exec.file.path == "/y"',
		"exec.file.path",
		"a rule has one event type",
	],
	[
		"field_not_available",
		'open.file.path == "/x" && network.destination.port == 53',
		"network.destination.port",
		"not available on open events",
	],
	["no_event_type", "process.uid == 0", "process.uid == 0", "applies to no event type"],
	["invalid_pattern", 'exec.comm =~ "a**b"', '"a**b"', '"**" is not allowed in patterns'],
	["invalid_pattern", 'open.file.path == ~"/**x"', '~"/**x"', '"**" must be a whole path segment'],
	["invalid_regex", 'exec.comm =~ r"a(b"', 'r"a(b"', "missing closing )"],
	[
		"invalid_regex",
		'open.file.path =~ r"/etc/.*"',
		'r"/etc/.*"',
		'regexp not supported on path field "open.file.path"',
	],
	[
		"non_static_pattern",
		'open.file.path =~ "/proc/${process.pid}/*"',
		'"/proc/${process.pid}/*"',
		"must be a literal",
	],
	[
		"non_static_pattern",
		'open.file.path == ~"/proc/${process.pid}/*"',
		'~"/proc/${process.pid}/*"',
		"cannot interpolate",
	],
	["register", 'process.comm[A] == "x" && exec.comm == "y"', "process.comm[A]", "is not an iterator"],
	["register", 'process.ancestors[_].comm == "x"', "[_]", 'invalid register name "_"'],
	[
		"register",
		'ptrace.request == 1 && process.ancestors[A].comm == "a" && ptrace.tracee.ancestors[A].comm == "b"',
		"ptrace.tracee.ancestors[A].comm",
		'register [A] is already used on "process.ancestors"',
	],
	["invalid_path", 'open.file.path == "etc/passwd"', '"etc/passwd"', "paths must be absolute"],
	["invalid_path", 'open.file.path in ["/etc/", "/x"]', '"/etc/"', "clean"],
	["invalid_path", 'open.file.path =~ "/etc/../x/*"', '"/etc/../x/*"', "clean"],
];

describe("every diagnostic code, with its message and the span it points at", () => {
	test.each(cases)("%s: %s", (code, expr, span, message) => {
		const d = diagnose(expr);
		expect(d.code).toBe(code);
		expect(spanOf(expr, d)).toBe(span);
		expect(d.message).toContain(message);
		expect(d.line).toBe(1);
		expect(d.col).toBe(d.offset + 1);
		expect(d.excerpt).toBe(`${expr}\n${" ".repeat(d.offset)}${"^".repeat(span.length)}`);
	});

	test("a path segment longer than 255 characters", () => {
		const d = diagnose(`open.file.path == "/${"a".repeat(256)}"`);
		expect(d).toMatchObject({ code: "invalid_path" });
		expect(d.message).toContain("at most 255 characters");
	});
});

describe("errors inside macros", () => {
	test("point at the macro in the rule and say where in the macro", () => {
		const ctx = context();
		ctx.macros.add("BAD_PATHS", { expression: '["/etc/passwd",\n ~"/a/**b"]' });
		const expr = "open.file.path in BAD_PATHS && open.flags > 0";
		const d = diagnose(expr, ctx);
		expect(d.code).toBe("invalid_pattern");
		expect(spanOf(expr, d)).toBe("BAD_PATHS");
		expect(d.message).toBe(
			'in macro BAD_PATHS (2:2 of its expression): "**" must be a whole path segment, as in /var/**/token or /etc/**',
		);
	});

	test("nested macros name the chain", () => {
		const ctx = context();
		ctx.macros.add("inner", { expression: "exec.comm == 3" });
		ctx.macros.add("outer", { expression: 'exec.file.path == "/x" && inner' });
		const d = diagnose("outer", ctx);
		expect(d.code).toBe("type_mismatch");
		expect(d.message).toStartWith(
			"in macro outer: in macro inner (1:1 of its expression): cannot compare string with int",
		);
	});

	test("recursive macros are rejected", () => {
		const ctx = context();
		ctx.macros.add("a", { expression: "b" });
		ctx.macros.add("b", { expression: 'exec.comm == "x" && a' });
		expect(diagnose("a", ctx).message).toContain("refers to itself (a → b → a)");
		expect(diagnose("a", ctx).code).toBe("invalid_macro");
	});

	test("macro definitions: bad ids, duplicates, syntax errors located in the body", () => {
		const macros = new MacroStore();
		const code = (f: () => void) => {
			try {
				f();
			} catch (e) {
				return (e as SeclError).diagnostic;
			}
			return undefined;
		};
		expect(code(() => macros.add("bad-id", { values: [] }))?.code).toBe("invalid_macro");
		macros.add("x", { values: ["a"] });
		expect(code(() => macros.add("x", { values: ["b"] }))?.message).toBe('macro "x" is already defined');
		expect(code(() => macros.add("y", { expression: "a", values: ["b"] }))?.code).toBe("invalid_macro");
		expect(code(() => macros.add("z", { expression: '["a", ]' }))).toMatchObject({ code: "syntax", col: 7 });
	});

	test("checkMacro type-checks a macro on its own", () => {
		const ctx = context();
		ctx.macros.add("GOOD", { expression: '["a", ~"b*", r"^c"]' });
		ctx.macros.add("BAD_RE", { expression: '["a", r"(("]' });
		ctx.macros.add("BAD_EXPR", { expression: "open.flags & NOPE" });
		expect(() => checkMacro("GOOD", ctx)).not.toThrow();
		expect(() => checkMacro("BAD_RE", ctx)).toThrow(/missing closing \)/);
		expect(() => checkMacro("BAD_EXPR", ctx)).toThrow(/unknown constant or macro "NOPE"/);
		expect(() => checkMacro("MISSING", ctx)).toThrow(/unknown macro/);
	});
});

describe("variable declarations", () => {
	const declareError = (f: () => void): Diagnostic | undefined => {
		try {
			f();
		} catch (e) {
			if (e instanceof SeclError) return e.diagnostic;
			throw e;
		}
		return undefined;
	};

	test("names may not collide with fields, constants or built-ins", () => {
		const ctx = context();
		const against = { registry: linux };
		expect(
			declareError(() => ctx.variables.declare({ name: "pid", type: "int", scope: "process" }))?.message,
		).toContain("built-in");
		expect(
			declareError(() => ctx.variables.declare({ name: "comm", type: "string", scope: "process" }, against))
				?.message,
		).toContain("name of a field");
		expect(
			declareError(() =>
				ctx.variables.declare({ name: "O_CREAT", type: "int" }, { constants: Constants.linux() }),
			)?.message,
		).toContain("name of a constant");
	});

	test("a second declaration must have the same type", () => {
		const ctx = context();
		ctx.variables.declare({ name: "x", type: "string" });
		expect(() => ctx.variables.declare({ name: "x", type: "string" })).not.toThrow();
		const d = declareError(() => ctx.variables.declare({ name: "x", type: "int" }));
		expect(d).toMatchObject({
			code: "invalid_variable",
			message: 'variable "x" is already declared as string, not int',
		});
		expect(
			declareError(() =>
				ctx.variables.declare({ name: "y", type: "int", scope: "container", inherited: true }),
			)?.message,
		).toContain("only process-scoped");
		expect(declareError(() => ctx.variables.declare({ name: "bad name", type: "int" }))?.code).toBe(
			"invalid_variable",
		);
	});
});
