/**
 * @module Coded SECL diagnostics: what went wrong, where (offset, 1-based line:col, length in the
 * expression) and a caret excerpt, so a policy loader can prefix its own `file:line:col`.
 */

export type DiagnosticCode =
	/** The expression does not follow the grammar (also: empty rule, bad literal). */
	| "syntax"
	/** An identifier that is neither a field, a macro nor a constant. */
	| "unknown_field"
	/** Operand types that the operator does not accept (`open.flags == "x"`). */
	| "type_mismatch"
	/** Fields of two different event types in one rule. */
	| "multiple_event_types"
	/** A field that exists but not on the rule's event type. */
	| "field_not_available"
	/** The rule reads no event-specific field, so it applies to no event type. */
	| "no_event_type"
	| "unknown_macro"
	| "unknown_constant"
	| "unknown_variable"
	/** A pattern or glob that cannot be compiled (`**` not at the end, `**` on a non-path field). */
	| "invalid_pattern"
	| "invalid_regex"
	/** A pattern or regex whose text depends on the event (interpolated variable). */
	| "non_static_pattern"
	/** A misused iterator register (`[A]` on two iterators, on a non-iterator, `[_]`). */
	| "register"
	/** A path literal that cannot be a resolved path (relative, `..`, too long). */
	| "invalid_path"
	/** A macro whose definition is invalid (recursive, duplicate, expression and values both set). */
	| "invalid_macro"
	/** A variable declaration that is invalid or collides with a field, constant or other declaration. */
	| "invalid_variable";

export interface Diagnostic {
	readonly code: DiagnosticCode;
	/** What is wrong, without the location: `"**" is allowed only at the end of patterns`. */
	readonly message: string;
	/** 0-based offset of the span in the expression. */
	readonly offset: number;
	/** 1-based line and column of the span's start. */
	readonly line: number;
	readonly col: number;
	/** Length of the span (at least 1). */
	readonly length: number;
	/** The source line followed by a caret line under the span. */
	readonly excerpt: string;
}

/** Thrown by every SECL entry point; `message` is `line:col: message` then the excerpt. */
export class SeclError extends Error {
	override readonly name = "SeclError";
	constructor(readonly diagnostic: Diagnostic) {
		super(`${diagnostic.line}:${diagnostic.col}: ${diagnostic.message}\n${diagnostic.excerpt}`);
	}
}

/** The diagnostic for the span `[offset, offset + length)` of `source`. */
export const diagnostic = (
	source: string,
	code: DiagnosticCode,
	message: string,
	offset: number,
	length = 1,
): Diagnostic => {
	const at = Math.max(0, Math.min(offset, source.length));
	const lineStart = source.lastIndexOf("\n", at - 1) + 1;
	let lineEnd = source.indexOf("\n", at);
	if (lineEnd < 0) lineEnd = source.length;
	const line = countLines(source, lineStart);
	const col = at - lineStart + 1;
	const text = source.slice(lineStart, lineEnd);
	const span = Math.max(1, Math.min(length, lineEnd - at || 1));
	// keep tabs in the caret line so the carets stay aligned under tab-indented text
	const pad = text.slice(0, at - lineStart).replace(/[^\t]/g, " ");
	return {
		code,
		message,
		offset: at,
		line,
		col,
		length: Math.max(1, length),
		excerpt: `${text}\n${pad}${"^".repeat(span)}`,
	};
};

const countLines = (source: string, end: number): number => {
	let n = 1;
	for (let i = source.indexOf("\n"); i >= 0 && i < end; i = source.indexOf("\n", i + 1)) n++;
	return n;
};

/** Throw a {@link SeclError} for a span of `source`. */
export const fail = (
	source: string,
	code: DiagnosticCode,
	message: string,
	offset: number,
	length = 1,
): never => {
	throw new SeclError(diagnostic(source, code, message, offset, length));
};
