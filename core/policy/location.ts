/**
 * @module Positions in policy files: turn an offset inside a YAML scalar's value (an expression
 * as SECL sees it) into `file:line:col` in the file, through block indentation, folded lines,
 * quotes and escapes.
 */
import type { LineCounter, Scalar } from "yaml";
import type { ExpressionLocator, Location } from "./types.ts";

/** Location of a source offset. */
export const locationAt = (file: string, lines: LineCounter, offset: number): Location => {
	const { line, col } = lines.linePos(offset);
	return { file, line, col };
};

/**
 * Where each character of a scalar's value sits in the source. The value is a transformation
 * of the source text that only drops characters (indentation, quotes, escape backslashes) or
 * turns line breaks into spaces, so walking both in step and skipping what the value lacks
 * finds every character's origin. A character the source spells differently (`\t` escapes)
 * maps to where the walk stands.
 */
const alignValue = (value: string, source: string, start: number, end: number): Int32Array => {
	const map = new Int32Array(value.length + 1);
	let s = start;
	for (let i = 0; i < value.length; i++) {
		const c = value[i]!;
		let j = s;
		while (j < end && source[j] !== c && !(c === " " && (source[j] === "\n" || source[j] === "\r"))) j++;
		if (j < end) {
			map[i] = j;
			s = j + 1;
		} else {
			map[i] = Math.min(s, end);
		}
	}
	map[value.length] = value.length > 0 ? map[value.length - 1]! + 1 : start;
	return map;
};

/** A locator for offsets inside the string value of `node`. */
export const scalarLocator = (
	file: string,
	source: string,
	lines: LineCounter,
	node: Scalar,
): ExpressionLocator => {
	const range = node.range;
	const value = typeof node.value === "string" ? node.value : String(node.source ?? node.value ?? "");
	if (!range) return () => ({ file, line: 0, col: 0 });
	let start = range[0];
	const end = range[1];
	if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
		const nl = source.indexOf("\n", start);
		start = nl < 0 || nl >= end ? end : nl + 1;
	} else if (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") {
		start += 1;
	}
	let map: Int32Array | undefined;
	return (offset: number) => {
		map ??= alignValue(value, source, start, end);
		const at = map[Math.max(0, Math.min(offset, value.length))]!;
		return locationAt(file, lines, at);
	};
};
