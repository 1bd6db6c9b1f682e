/**
 * @module String matchers for SECL patterns (`~"…"`), path globs and regexes (`r"…"`), all in
 * time linear in the length of the matched value: rule authors are trusted, event data (paths,
 * argv) is not.
 *
 * - Patterns on ordinary fields: `*` matches any run of characters (slashes included). A pattern
 *   is split on `*` into literal pieces; the first must be a prefix, the last a suffix and the
 *   others are found left to right, each search starting where the previous one ended, so every
 *   character of the value is scanned by at most one search. No backtracking.
 * - Globs on path fields: `*` stays within a `/`-separated segment, `**` (only as the last
 *   segment) matches one or more remaining segments, and between segments (`/var/**\/token`)
 *   zero or more. Segments are matched in place with the same piece search; blocks between `**`
 *   are found left to right, never revisiting a segment for the same pattern segment.
 * - Regexes: RE2 semantics through `re2js` (linear time), unanchored like Go's `MatchString`,
 *   with fast paths for literal alternations (`.*(curl|wget).*` → substring search) and
 *   anchored literals.
 *
 * Matchers accept a {@link Meter} so tests can add up the characters each step may examine and
 * prove the bound without timing anything.
 */
import { RE2JS } from "re2js";
import { normalizeIp } from "./ip.ts";

export interface Matcher {
	test(value: string): boolean;
	/** How it matches, for approvers and diagnostics. */
	readonly kind: "exact" | "prefix" | "suffix" | "pieces" | "glob" | "substring" | "re2" | "any";
	readonly source: string;
	/** For `exact`, `prefix`, `suffix` and `substring` patterns: the text compared. */
	readonly literal?: string;
	/** For regexes: the literal values (or prefixes) it accepts, when they can be listed. */
	readonly literals?: { readonly kind: "exact" | "prefix"; readonly values: readonly string[] };
	/** For regexes: text every match contains or ends with (one of `values`), when it can be listed. */
	readonly needles?: { readonly kind: "substring" | "suffix"; readonly values: readonly string[] };
}

/**
 * Receives the number of characters each primitive step (a prefix check, a bounded `indexOf`, a
 * segment comparison) may examine. Only tests pass one, to prove the linear bound.
 */
export type Meter = (chars: number) => void;

export class PatternError extends Error {}

export interface PatternOptions {
	/** Path field: `*` stops at `/`, `**` ends the glob. */
	path?: boolean;
	caseInsensitive?: boolean;
	/** Windows paths: `\` and `/` are the same separator, case does not matter. */
	windowsPath?: boolean;
	meter?: Meter;
}

/** How patterns and comparisons treat a field: globs on paths, case folding. */
export const patternOptionsFor = (
	field: { name: string; path?: boolean; caseInsensitive?: boolean } | undefined,
	os: "linux" | "windows",
): { path: boolean; windowsPath: boolean; caseInsensitive: boolean } => ({
	path: os === "linux" && field?.path === true,
	// Windows file paths, NT device paths included, compare as Datadog's WindowsPathCmp
	windowsPath: os === "windows" && (field?.path === true || field?.name.endsWith(".device_path") === true),
	caseInsensitive: field?.caseInsensitive === true,
});

/** Case and separator folding applied to both the pattern and each value. */
export const foldFor = (o: PatternOptions): ((s: string) => string) | undefined =>
	o.windowsPath
		? (s) => s.replaceAll("\\", "/").toLowerCase()
		: o.caseInsensitive
			? (s) => s.toLowerCase()
			: undefined;

/**
 * How a rule set's index compares values of `field` with the values of its keys: folded as the
 * field's patterns fold them, IP addresses in canonical form; undefined when values compare as
 * they are.
 */
export const indexFoldFor = (
	field: { name: string; type: string; path?: boolean; caseInsensitive?: boolean },
	os: "linux" | "windows",
): ((s: string) => string) | undefined =>
	field.type === "ip" ? normalizeIp : foldFor(patternOptionsFor(field, os));

/** Compile a `~"…"` pattern (or the string right of `=~`). Throws {@link PatternError}. */
export const compilePattern = (pattern: string, o: PatternOptions = {}): Matcher => {
	const fold = foldFor(o);
	const p = fold ? fold(pattern) : pattern;
	const meter = o.meter;
	const inner = o.path || o.windowsPath ? compileGlob(p, meter) : compileWildcard(p, meter);
	if (!fold) return { ...inner, source: pattern };
	// the literal is folded and the test folds its value: leave the literal out
	return { kind: inner.kind, source: pattern, test: (v) => inner.test(fold(v)) };
};

/** A pattern where `*` matches anything; `**` is rejected. */
const compileWildcard = (p: string, meter: Meter | undefined): Matcher => {
	if (p.includes("**")) throw new PatternError(`"**" is not allowed in patterns`);
	const pieces = p.split("*");
	if (pieces.length === 1) return { kind: "exact", source: p, literal: p, test: (v) => v === p };
	if (pieces.every((x) => x === "")) return { kind: "any", source: p, test: () => true };
	const first = pieces[0] as string;
	const last = pieces[pieces.length - 1] as string;
	const middle = pieces.slice(1, -1).filter((x) => x !== "");
	if (!meter && middle.length === 0) {
		if (last === "") return { kind: "prefix", source: p, literal: first, test: (v) => v.startsWith(first) };
		if (first === "") return { kind: "suffix", source: p, literal: last, test: (v) => v.endsWith(last) };
	}
	if (!meter && first === "" && last === "" && middle.length === 1) {
		const needle = middle[0] as string;
		return { kind: "substring", source: p, literal: needle, test: (v) => v.includes(needle) };
	}
	return { kind: "pieces", source: p, test: (v) => piecesMatch(v, 0, v.length, first, middle, last, meter) };
};

/**
 * Whether `v[start, end)` is `first` + … + `middle[0]` + … + `last` with anything between.
 * Greedy leftmost search is exact for `*`-only patterns, and each search starts after the
 * previous match, so the searches cover disjoint ranges of the value.
 */
const piecesMatch = (
	v: string,
	start: number,
	end: number,
	first: string,
	middle: readonly string[],
	last: string,
	meter: Meter | undefined,
): boolean => {
	if (end - start < first.length + last.length) return false;
	meter?.(first.length + last.length);
	if (!v.startsWith(first, start)) return false;
	const stop = end - last.length;
	if (last !== "" && !v.startsWith(last, stop)) return false;
	let pos = start + first.length;
	for (const piece of middle) {
		const at = v.indexOf(piece, pos);
		meter?.((at < 0 ? stop : Math.min(at + piece.length, stop)) - pos);
		if (at < 0 || at + piece.length > stop) return false;
		pos = at + piece.length;
	}
	return true;
};

type Segment =
	| { kind: "exact"; text: string }
	| { kind: "any" }
	| { kind: "pieces"; first: string; middle: readonly string[]; last: string };

const compileSegment = (s: string): Segment => {
	if (!s.includes("*")) return { kind: "exact", text: s };
	const pieces = s.split("*");
	if (pieces.every((x) => x === "")) return { kind: "any" };
	return {
		kind: "pieces",
		first: pieces[0] as string,
		middle: pieces.slice(1, -1).filter((x) => x !== ""),
		last: pieces[pieces.length - 1] as string,
	};
};

const segmentMatch = (
	seg: Segment,
	v: string,
	start: number,
	end: number,
	meter: Meter | undefined,
): boolean => {
	switch (seg.kind) {
		case "exact":
			meter?.(seg.text.length + 1);
			return end - start === seg.text.length && v.startsWith(seg.text, start);
		case "any":
			meter?.(1);
			return true;
		case "pieces":
			return piecesMatch(v, start, end, seg.first, seg.middle, seg.last, meter);
	}
};

const DOUBLE_STAR = `"**" must be a whole path segment, as in /var/**/token or /etc/**`;

/**
 * A path glob: `/`-separated segments, `*` within one segment; a `**` segment matches zero or
 * more segments, or one or more at the end (`/etc/**` matches files under /etc, not /etc).
 */
const compileGlob = (p: string, meter: Meter | undefined): Matcher => {
	if (p === "*" || p === "**") return { kind: "any", source: p, test: () => true };
	const parts = p.split("/").filter((s, i, all) => !(s === "**" && all[i - 1] === "**"));
	if (parts.some((s) => s.includes("**") && s !== "**")) throw new PatternError(DOUBLE_STAR);
	if (!p.includes("*")) return { kind: "exact", source: p, literal: p, test: (v) => v === p };
	const deepEnd = parts[parts.length - 1] === "**";
	if (parts.slice(0, -1).includes("**")) {
		// `/a/**` is `/a/**/*`: one or more segments after /a
		return { kind: "glob", source: p, test: deepGlob(deepEnd ? [...parts, "*"] : parts, meter) };
	}
	if (deepEnd) parts.pop();
	const segments = parts.map(compileSegment);
	const n = segments.length;
	// a literal head (`/etc/ssh/`) is checked at once before the per-segment walk
	let head = 0;
	while (head < n && (segments[head] as Segment).kind === "exact") head++;
	const prefix = parts.slice(0, head).join("/") + (head > 0 ? "/" : "");
	if (deepEnd && head === n && !meter)
		return { kind: "prefix", source: p, literal: prefix, test: (v) => v.startsWith(prefix) };
	return {
		kind: "glob",
		source: p,
		test: (v) => {
			meter?.(prefix.length);
			if (head > 0 && !v.startsWith(prefix)) return false;
			let pos = head > 0 ? prefix.length : 0;
			for (let i = head; i < n; i++) {
				const slash = v.indexOf("/", pos);
				meter?.((slash < 0 ? v.length : slash) - pos + 1);
				const last = i === n - 1;
				if (last && !deepEnd) {
					if (slash >= 0) return false;
					return segmentMatch(segments[i] as Segment, v, pos, v.length, meter);
				}
				if (slash < 0) return false;
				if (!segmentMatch(segments[i] as Segment, v, pos, slash, meter)) return false;
				pos = slash + 1;
			}
			// only a final `**` gets here, after a "/": one or more segments remain
			return true;
		},
	};
};

/**
 * A glob with `**` between segments: blocks of segments separated by `**`. The first block is
 * anchored at the start, the last at the end, and the others are found left to right at the
 * earliest segment where they fit — exact for "any number of segments" wildcards, as with `*` in
 * patterns — so each segment is compared at most once per pattern segment.
 */
const deepGlob = (parts: readonly string[], meter: Meter | undefined): ((v: string) => boolean) => {
	const blocks: Segment[][] = [[]];
	for (const s of parts) {
		if (s === "**") blocks.push([]);
		else (blocks[blocks.length - 1] as Segment[]).push(compileSegment(s));
	}
	const first = blocks[0] as Segment[];
	const last = blocks[blocks.length - 1] as Segment[];
	const middle = blocks.slice(1, -1).filter((b) => b.length > 0);
	const at = (block: readonly Segment[], v: string, bounds: readonly number[], from: number): boolean => {
		for (let j = 0; j < block.length; j++) {
			const k = from + j;
			if (!segmentMatch(block[j] as Segment, v, bounds[2 * k] as number, bounds[2 * k + 1] as number, meter))
				return false;
		}
		return true;
	};
	return (v) => {
		// segment k spans [bounds[2k], bounds[2k+1])
		const bounds: number[] = [];
		let start = 0;
		for (let i = v.indexOf("/"); i >= 0; i = v.indexOf("/", i + 1)) {
			bounds.push(start, i);
			start = i + 1;
		}
		bounds.push(start, v.length);
		meter?.(v.length + 1);
		const count = bounds.length / 2;
		const tail = count - last.length;
		if (tail < first.length || !at(first, v, bounds, 0) || !at(last, v, bounds, tail)) return false;
		let pos = first.length;
		for (const block of middle) {
			let found = -1;
			for (let j = pos; j + block.length <= tail; j++) {
				if (at(block, v, bounds, j)) {
					found = j;
					break;
				}
			}
			if (found < 0) return false;
			pos = found + block.length;
		}
		return true;
	};
};

const LITERAL = /^[A-Za-z0-9_\- ]+$/;

/**
 * Compile an `r"…"` regex (RE2 syntax, unanchored search). Throws {@link PatternError} with
 * RE2's message for invalid syntax.
 */
export const compileRegex = (
	regex: string,
	o: { caseInsensitive?: boolean; meter?: Meter } = {},
): Matcher => {
	const ci = o.caseInsensitive ?? false;
	let re: RE2JS;
	try {
		re = RE2JS.compile(regex, ci ? RE2JS.CASE_INSENSITIVE : 0);
	} catch (err) {
		throw new PatternError((err as Error).message);
	}
	const fast = literalRegex(regex, ci, o.meter) ?? wildcardRegex(regex, ci, re, o.meter);
	if (fast) return fast;
	const meter = o.meter;
	if (!meter) {
		// most values lack the text any match must hold: look for it before running RE2
		const required = requiredText(regex, ci);
		if (required === undefined) return { kind: "re2", source: regex, test: (v) => re.test(v) };
		const needles = new Needles<true>();
		for (const text of required.values) needles.add(text, true);
		const { fold } = required;
		return {
			kind: "re2",
			source: regex,
			// an index folds values as the field does: the text serves it unless only `(?i)` folds
			...(fold && !ci ? {} : { needles: { kind: "substring" as const, values: required.values } }),
			test: fold
				? (v) => (NON_ASCII.test(v) || needles.test(v.toLowerCase())) && re.test(v)
				: (v) => needles.test(v) && re.test(v),
		};
	}
	// metered: hand RE2 the UTF-8 bytes through a proxy that counts every byte it reads
	return {
		kind: "re2",
		source: regex,
		test: (v) => {
			const bytes = Array.from(new TextEncoder().encode(v));
			let reads = 0;
			const counted = new Proxy(bytes, {
				get: (target, key, receiver) => {
					if (typeof key === "string" && key.length > 0 && key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57)
						reads++;
					return Reflect.get(target, key, receiver);
				},
			});
			const result = re.test(counted);
			meter(reads);
			return result;
		},
	};
};

const ESCAPED = new Set([..."\\.+*?()|[]{}^$/-"]);

/** Case folding outside ASCII (RE2's `(?i)` matches `ſ` for `s`, `K` for `k`): no shortcut there. */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Text every match of a regex contains, as alternatives (one of `values` is in any match), for
 * the regexes the fast paths leave to RE2: `(?i)(restore|recover|…).*(your_|…)` needs one of
 * `restore`, `recover`… Read from the regex's top level: literal runs and groups of literal
 * alternatives are required unless a quantifier makes them optional; the longest requirement
 * wins. `fold` says the values are lower case and the value must be too. Undefined when the
 * regex does not say (classes, nested groups, short text).
 */
export const requiredText = (regex: string, ci: boolean): { values: string[]; fold: boolean } | undefined => {
	let r = regex;
	let fold = ci;
	if (r.startsWith("(?i)")) {
		fold = true;
		r = r.slice(4);
	}
	// other flags, quoting, and escapes that stand for more than one character: no shortcut
	if (/\(\?[a-zA-Z-]/.test(r.replaceAll(/\(\?P</g, "("))) return undefined;
	for (let i = 0; i < r.length; i++) {
		if (r[i] !== "\\") continue;
		const x = r[i + 1] as string;
		if (!(ESCAPED.has(x) || x === " " || "dDwWsSbB".includes(x))) return undefined;
		i++;
	}
	const branches = splitTop(r, "|");
	if (branches === undefined) return undefined;
	const out: string[] = [];
	for (const branch of branches) {
		const best = bestFactor(branch);
		if (best === undefined) return undefined;
		out.push(...best);
	}
	const values = [...new Set(fold ? out.map((x) => x.toLowerCase()) : out)];
	return { values, fold };
};

/** `r` split on `sep` outside groups and classes; undefined when unbalanced. */
const splitTop = (r: string, sep: string): string[] | undefined => {
	const out: string[] = [];
	let depth = 0;
	let start = 0;
	for (let i = 0; i < r.length; i++) {
		const c = r[i] as string;
		if (c === "\\") i++;
		else if (c === "[") {
			const end = classEnd(r, i);
			if (end < 0) return undefined;
			i = end;
		} else if (c === "(") depth++;
		else if (c === ")") depth--;
		else if (c === sep && depth === 0) {
			out.push(r.slice(start, i));
			start = i + 1;
		}
		if (depth < 0) return undefined;
	}
	if (depth !== 0) return undefined;
	out.push(r.slice(start));
	return out;
};

/** Index of the `]` closing the class opened at `i`, or -1. */
const classEnd = (r: string, i: number): number => {
	let j = i + 1;
	if (r[j] === "^") j++;
	if (r[j] === "]") j++;
	for (; j < r.length; j++) {
		if (r[j] === "\\") j++;
		else if (r[j] === "]") return j;
	}
	return -1;
};

const MIN_REQUIRED = 3;

/**
 * The requirement of a concatenation that narrows most: a literal run or a group of literal
 * alternatives, whose shortest alternative is the longest (at least {@link MIN_REQUIRED}).
 */
const bestFactor = (r: string): string[] | undefined => {
	const factors: string[][] = [];
	let run = "";
	const flush = () => {
		if (run !== "") factors.push([run]);
		run = "";
	};
	for (let i = 0; i < r.length; ) {
		const c = r[i] as string;
		let item: { literal?: string; group?: string[] } = {};
		let next = i + 1;
		if (c === "\\") {
			const x = r[i + 1];
			if (x === undefined) return undefined;
			next = i + 2;
			if (ESCAPED.has(x) || x === " ") item = { literal: x };
		} else if (c === "[") {
			const end = classEnd(r, i);
			if (end < 0) return undefined;
			next = end + 1;
		} else if (c === "(") {
			let depth = 1;
			let j = i + 1;
			for (; j < r.length && depth > 0; j++) {
				if (r[j] === "\\") j++;
				else if (r[j] === "(") depth++;
				else if (r[j] === ")") depth--;
			}
			if (depth !== 0) return undefined;
			next = j;
			const inner = r.slice(r.startsWith("(?:", i) ? i + 3 : i + 1, j - 1);
			const alts = splitTop(inner, "|");
			const words = alts?.map(literalText);
			if (words?.every((w) => w !== undefined)) item = { group: words as string[] };
		} else if (!".+*?{}^$|)".includes(c)) item = { literal: c };
		// a quantifier after the item decides whether it is required
		const q = r[next];
		let optional = false;
		if (q === "*" || q === "?") {
			optional = true;
			next++;
		} else if (q === "+") next++;
		else if (q === "{") {
			const repeat = /^\{(\d+)(,\d*)?\}/.exec(r.slice(next));
			if (!repeat) return undefined;
			optional = Number(repeat[1]) === 0;
			next += repeat[0].length;
		}
		if (r[next] === "?") next++;
		if (item.literal !== undefined && !optional && q !== "+" && q !== "{") run += item.literal;
		else {
			// a repeated literal is required once; it ends the run either way
			if (item.literal !== undefined && !optional) run += item.literal;
			flush();
			if (item.group && !optional) factors.push(item.group);
		}
		i = next;
	}
	flush();
	let best: string[] | undefined;
	let bestLength = MIN_REQUIRED - 1;
	for (const f of factors) {
		const shortest = Math.min(...f.map((x) => x.length));
		if (shortest > bestLength) {
			best = f;
			bestLength = shortest;
		}
	}
	return best;
};

/** The text of a regex made of literal characters only (escapes included), or undefined. */
const literalText = (r: string): string | undefined => {
	let out = "";
	for (let i = 0; i < r.length; i++) {
		const c = r[i] as string;
		if (c === "\\") {
			const x = r[i + 1];
			if (x === undefined || !(ESCAPED.has(x) || x === " ")) return undefined;
			out += x;
			i++;
		} else if (".+*?()|[]{}^$".includes(c)) return undefined;
		else out += c;
	}
	return out;
};

/**
 * Regexes made of literal text and `.*` (`^\[.*\]$`, `OUTPUT.*ACCEPT`) become wildcard
 * patterns. RE2's `.` does not match a newline, so values containing one go to `re`.
 */
const wildcardRegex = (
	regex: string,
	ci: boolean,
	re: RE2JS,
	meter: Meter | undefined,
): Matcher | undefined => {
	let r = regex;
	const start = r.startsWith("^");
	if (start) r = r.slice(1);
	const end = r.endsWith("$") && !r.endsWith("\\$");
	if (end) r = r.slice(0, -1);
	let text = "";
	for (let i = 0; i < r.length; i++) {
		const c = r[i] as string;
		if (c === "\\") {
			const next = r[i + 1];
			if (next === undefined || !ESCAPED.has(next)) return undefined;
			text += next;
			i++;
		} else if (c === "." && r[i + 1] === "*") {
			text += "\u0000";
			i++;
		} else if (".+*?()|[]{}^$".includes(c) || c === "*") {
			return undefined;
		} else text += c;
	}
	// NUL stands for `.*` (a literal NUL cannot be written in a rule)
	const pieces = text.split("\u0000");
	const first = start ? (pieces[0] as string) : "";
	const last = end ? (pieces[pieces.length - 1] as string) : "";
	const middle = pieces.slice(start ? 1 : 0, end ? -1 : undefined).filter((x) => x !== "");
	const fold = ci ? (v: string) => v.toLowerCase() : (v: string) => v;
	const [f, m, l] = [fold(first), middle.map(fold), fold(last)];
	if (start && end && pieces.length === 1) return undefined;
	const prefix = start && f !== "" ? { literals: { kind: "prefix" as const, values: [f] } } : {};
	// every match holds each literal piece: the last one as a suffix when anchored, or the longest
	const longest = [f, ...m, l].reduce((a, b) => (b.length > a.length ? b : a), "");
	const needles =
		end && l !== ""
			? { needles: { kind: "suffix" as const, values: [l] } }
			: longest !== ""
				? { needles: { kind: "substring" as const, values: [longest] } }
				: {};
	return {
		...prefix,
		...needles,
		kind: start && middle.length === 0 && !end ? "prefix" : "pieces",
		source: regex,
		test: (v) => (v.includes("\n") ? re.test(v) : piecesMatch(fold(v), 0, v.length, f, m, l, meter)),
	};
};

/**
 * Regexes that are literal alternations, optionally wrapped in `.*` or anchored, become string
 * operations: `.*(curl|wget).*` is "contains curl or wget", `^/tmp/` a prefix test.
 */
const literalRegex = (regex: string, ci: boolean, meter: Meter | undefined): Matcher | undefined => {
	let r = regex;
	let anchoredStart = false;
	let anchoredEnd = false;
	if (r.startsWith("^")) {
		anchoredStart = true;
		r = r.slice(1);
	} else if (r.startsWith(".*")) r = r.slice(2);
	if (r.endsWith("$") && !r.endsWith("\\$")) {
		anchoredEnd = true;
		r = r.slice(0, -1);
	} else if (r.endsWith(".*") && !r.endsWith("\\.*")) r = r.slice(0, -2);
	const grouped = r.startsWith("(") && r.endsWith(")");
	if (grouped) r = r.slice(r.startsWith("(?:") ? 3 : 1, -1);
	const words = r.split("|");
	if (words.some((w) => !LITERAL.test(w))) return undefined;
	// `^a|b` is `(^a)|b` in RE2: only a grouped alternation can carry the anchors
	if (words.length > 1 && !grouped && (anchoredStart || anchoredEnd)) return undefined;
	const alts = ci ? words.map((w) => w.toLowerCase()) : words;
	const fold = ci ? (v: string) => v.toLowerCase() : (v: string) => v;
	let one: (v: string, w: string) => boolean;
	if (anchoredStart && anchoredEnd) one = (v, w) => v === w;
	else if (anchoredStart) one = (v, w) => v.startsWith(w);
	else if (anchoredEnd) one = (v, w) => v.endsWith(w);
	else one = (v, w) => v.includes(w);
	const kind =
		anchoredStart && anchoredEnd ? "exact" : anchoredStart ? "prefix" : anchoredEnd ? "suffix" : "substring";
	return {
		kind,
		source: regex,
		...(kind === "exact" || kind === "prefix"
			? { literals: { kind, values: alts } }
			: { needles: { kind, values: alts } }),
		test: (v) => {
			const s = fold(v);
			for (const w of alts) {
				meter?.(s.length);
				if (one(s, w)) return true;
			}
			return false;
		},
	};
};

/** The literal directory prefix of a path glob (`/etc/ssh/*` → `/etc/ssh/`), "" if none. */
export const globPrefix = (pattern: string): string => {
	const star = pattern.indexOf("*");
	if (star < 0) return pattern;
	const slash = pattern.lastIndexOf("/", star);
	return slash < 0 ? "" : pattern.slice(0, slash + 1);
};

/** The literal last segment of a path glob (`/*\/bin/sh` → `sh`), undefined if it has a `*`. */
export const globBasename = (pattern: string): string | undefined => {
	const base = pattern.slice(pattern.lastIndexOf("/") + 1);
	return base.includes("*") || base === "" ? undefined : base;
};

/**
 * A set of literal strings ("needles") looked for in a value in one pass: pattern lists such as
 * `in [~"*id_rsa*", ~"*credentials*", …]` and the substring index of a rule set. Few needles are
 * searched one by one with `includes`; more are found by walking the value once and, where the
 * two characters at a position start some needle (a filter on the pair, then a map), comparing
 * those needles in place. Each position costs at most the total length of the needles sharing
 * its first two characters, a bound set by the rules, so matching stays linear in the value.
 */
export class Needles<T> {
	readonly #texts: string[] = [];
	readonly #tags: T[] = [];
	/** Needles of one character, by code. */
	readonly #single = new Map<number, number[]>();
	/** Longer needles by their first two codes (`c0 * 65536 + c1`). */
	readonly #pairs = new Map<number, number[]>();
	/** Bit `pair(c0, c1) & 4095` is set when some needle may start with c0 c1 (512 bytes). */
	readonly #filter = new Uint32Array(128);
	#hasEmpty = false;
	#hasSingle = false;
	#hasPairs = false;
	/** The distinct first characters of the longer needles. */
	readonly #firsts: number[] = [];
	readonly #found: T[] = [];
	readonly #meter: Meter | undefined;

	constructor(meter?: Meter) {
		this.#meter = meter;
	}

	get size(): number {
		return this.#texts.length;
	}

	add(text: string, tag: T): void {
		const i = this.#texts.length;
		this.#texts.push(text);
		this.#tags.push(tag);
		if (text.length === 0) {
			this.#hasEmpty = true;
			return;
		}
		const c0 = text.charCodeAt(0);
		const single = text.length === 1;
		const map = single ? this.#single : this.#pairs;
		const key = single ? c0 : c0 * 65536 + text.charCodeAt(1);
		const list = map.get(key) ?? [];
		list.push(i);
		map.set(key, list);
		if (single) this.#hasSingle = true;
		else {
			this.#hasPairs = true;
			if (!this.#firsts.includes(c0)) this.#firsts.push(c0);
			const bit = ((c0 << 7) + text.charCodeAt(1)) & 4095;
			this.#filter[bit >>> 5] = (this.#filter[bit >>> 5] as number) | (1 << (bit & 31));
		}
	}

	/**
	 * The distinct first two characters of the needles, when every needle has two or more: a
	 * value contains some needle only if it contains one of these (the rule set's substring index
	 * searches for them first, inline).
	 */
	leadingPairs(): readonly string[] | undefined {
		if (this.#hasEmpty || this.#hasSingle) return undefined;
		// the keys of the longer needles' lists are `c0 * 65536 + c1`
		return [...this.#pairs.keys()].map((k) => String.fromCharCode(Math.floor(k / 65536), k % 65536));
	}

	/** Whether `v` contains some needle. */
	test(v: string): boolean {
		return this.#scan(v, true, v.length) > 0;
	}

	/**
	 * How many needles `v[0, end)` contains (a needle found at several places counts each time);
	 * their tags are `found(0)`…`found(n - 1)` until the next search.
	 */
	find(v: string, end = v.length): number {
		return this.#scan(v, false, end);
	}

	found(k: number): T {
		return this.#found[k] as T;
	}

	/** Put tags found in `v[0, end)` in `#found`; returns how many (stops at the first when `first`). */
	#scan(v: string, first: boolean, end: number): number {
		const texts = this.#texts;
		const tags = this.#tags;
		const out = this.#found;
		const meter = this.#meter;
		let count = 0;
		if (this.#hasEmpty) {
			// the empty string is in every value
			for (let i = 0; i < texts.length; i++) {
				if ((texts[i] as string).length > 0) continue;
				out[count++] = tags[i] as T;
				if (first) return count;
			}
		}
		if (texts.length <= FEW_NEEDLES && meter === undefined && this.#firsts.length > 1) {
			for (let i = 0; i < texts.length; i++) {
				const text = texts[i] as string;
				// the first occurrence is the one that ends first
				const at = text.length > 0 ? v.indexOf(text) : -1;
				if (at >= 0 && at + text.length <= end) {
					out[count++] = tags[i] as T;
					if (first) return count;
				}
			}
			return count;
		}
		if (this.#hasSingle) {
			if (meter !== undefined) meter(end);
			for (let p = 0; p < end; p++) {
				const ones = this.#single.get(v.charCodeAt(p));
				if (ones === undefined) continue;
				for (let k = 0; k < ones.length; k++) {
					out[count++] = tags[ones[k] as number] as T;
					if (first) return count;
				}
			}
		}
		if (!this.#hasPairs || end < 2) return count;
		const filter = this.#filter;
		const firsts = this.#firsts;
		if (firsts.length === 1) {
			// every needle starts with one character (`/` in paths): only its positions are tried
			// (a loop over the codes: `indexOf` from each one is a call into the runtime per hit)
			const c0 = firsts[0] as number;
			let from = 0;
			for (let p = 0; p + 1 < end; p++) {
				if (v.charCodeAt(p) !== c0) continue;
				if (meter !== undefined) {
					meter(p + 1 - from);
					from = p + 1;
				}
				const c1 = v.charCodeAt(p + 1);
				const bit = ((c0 << 7) + c1) & 4095;
				if (((filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) continue;
				const list = this.#pairs.get(c0 * 65536 + c1);
				if (list === undefined) continue;
				for (let k = 0; k < list.length; k++) {
					const i = list[k] as number;
					const text = texts[i] as string;
					if (meter !== undefined) meter(text.length);
					if (p + text.length <= end && v.startsWith(text, p)) {
						out[count++] = tags[i] as T;
						if (first) return count;
					}
				}
			}
			if (meter !== undefined) meter(end - from);
			return count;
		}
		// the walk reads each character once (metered here, not per step: it is the hot loop)
		if (meter !== undefined) meter(end);
		let c1 = v.charCodeAt(0);
		for (let p = 1; p < end; p++) {
			const c0 = c1;
			c1 = v.charCodeAt(p);
			const bit = ((c0 << 7) + c1) & 4095;
			if (((filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) continue;
			const list = this.#pairs.get(c0 * 65536 + c1);
			if (list === undefined) continue;
			for (let k = 0; k < list.length; k++) {
				const i = list[k] as number;
				const text = texts[i] as string;
				if (meter !== undefined) meter(text.length);
				if (p - 1 + text.length <= end && v.startsWith(text, p - 1)) {
					out[count++] = tags[i] as T;
					if (first) return count;
				}
			}
		}
		return count;
	}
}

/** Up to this many needles, `includes` per needle beats one walk over the value. */
const FEW_NEEDLES = 4;

/** A rough cost of one test of a matcher, in ns, to order conditions. */
export const matcherCost = (m: Matcher): number => {
	switch (m.kind) {
		case "any":
			return 1;
		case "exact":
		case "prefix":
		case "suffix":
		case "substring":
			return 4;
		case "pieces":
			return 10;
		case "glob":
			return 20;
		case "re2":
			return 300;
	}
};

/** A pattern of an `in` list; `folded` says its test expects a value already folded. */
export interface ListPattern {
	readonly matcher: Matcher;
	readonly folded: boolean;
}

/** Patterns sorted by what they need, for one kind of input (folded or as is). */
class PatternGroups {
	readonly exact = new Set<string>();
	readonly prefixes: string[] = [];
	readonly suffixes: string[] = [];
	readonly needles: Needles<true>;
	/** Path globs whose last segment is literal, by that segment. */
	readonly byBasename = new Map<string, Matcher[]>();
	readonly rest: Matcher[] = [];
	any = false;

	constructor(readonly meter: Meter | undefined) {
		this.needles = new Needles<true>(meter);
	}

	add(m: Matcher, path: boolean): void {
		const literal = m.literal;
		if (m.kind === "any") this.any = true;
		else if (m.kind === "exact" && literal !== undefined) this.exact.add(literal);
		else if (m.kind === "prefix" && literal !== undefined) this.prefixes.push(literal);
		else if (m.kind === "suffix" && literal !== undefined) this.suffixes.push(literal);
		else if (m.kind === "substring" && literal !== undefined) this.needles.add(literal, true);
		else {
			const base = path && m.kind === "glob" ? globBasename(m.source) : undefined;
			if (base === undefined) this.rest.push(m);
			else this.byBasename.set(base, [...(this.byBasename.get(base) ?? []), m]);
		}
	}

	get empty(): boolean {
		return (
			!this.any &&
			this.exact.size === 0 &&
			this.prefixes.length === 0 &&
			this.suffixes.length === 0 &&
			this.needles.size === 0 &&
			this.byBasename.size === 0 &&
			this.rest.length === 0
		);
	}

	test(v: string): boolean {
		const meter = this.meter;
		meter?.(v.length);
		if (this.any || this.exact.has(v)) return true;
		const prefixes = this.prefixes;
		for (let i = 0; i < prefixes.length; i++) {
			meter?.((prefixes[i] as string).length);
			if (v.startsWith(prefixes[i] as string)) return true;
		}
		const suffixes = this.suffixes;
		for (let i = 0; i < suffixes.length; i++) {
			meter?.((suffixes[i] as string).length);
			if (v.endsWith(suffixes[i] as string)) return true;
		}
		if (this.needles.size > 0 && this.needles.test(v)) return true;
		if (this.byBasename.size > 0) {
			meter?.(v.length);
			const candidates = this.byBasename.get(v.slice(v.lastIndexOf("/") + 1));
			if (candidates !== undefined) for (const m of candidates) if (m.test(v)) return true;
		}
		const rest = this.rest;
		for (let i = 0; i < rest.length; i++) if ((rest[i] as Matcher).test(v)) return true;
		return false;
	}

	cost(): number {
		return (
			4 +
			2 * (this.prefixes.length + this.suffixes.length) +
			(this.needles.size > 0 ? 30 : 0) +
			(this.byBasename.size > 0 ? 15 : 0) +
			this.rest.reduce((n, m) => n + matcherCost(m), 0)
		);
	}
}

/**
 * One test for an `in` list of strings and patterns, the value scanned about once however long
 * the list: exact values (and patterns without a star) in a set, literal prefixes and suffixes
 * compared in place, `*text*` patterns found together in one walk ({@link Needles}), and path
 * globs whose last segment is literal (`/home/*\/.ssh/id_rsa`) tried only when the value's last
 * segment is that one. `fold`, when the field folds case or separators, is applied once to the
 * value for the patterns compiled folded. Returns the test and a rough cost of one call. The
 * meter (tests only) counts the characters the list's own steps examine; give the patterns the
 * same meter to count theirs.
 */
export const compileList = (
	exact: Iterable<string>,
	patterns: readonly ListPattern[],
	fold: ((s: string) => string) | undefined,
	path: boolean,
	meter?: Meter,
): { test: (v: string) => boolean; cost: number } => {
	const folded = new PatternGroups(meter);
	const raw = new PatternGroups(meter);
	for (const v of exact) folded.exact.add(v);
	// without folding every test takes the value as is: one group
	for (const p of patterns) (p.folded || !fold ? folded : raw).add(p.matcher, path);
	const cost = folded.cost() + (raw.empty ? 0 : raw.cost()) + (fold ? 10 : 0);
	if (raw.empty) {
		if (!fold) return { test: (v) => folded.test(v), cost };
		return { test: (v) => folded.test(fold(v)), cost };
	}
	return { test: (v) => folded.test(fold ? fold(v) : v) || raw.test(v), cost };
};
