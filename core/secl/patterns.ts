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

export interface Matcher {
	test(value: string): boolean;
	/** How it matches, for approvers and diagnostics. */
	readonly kind: "exact" | "prefix" | "suffix" | "pieces" | "glob" | "substring" | "re2" | "any";
	readonly source: string;
	/** For regexes: the literal values (or prefixes) it accepts, when they can be listed. */
	readonly literals?: { readonly kind: "exact" | "prefix"; readonly values: readonly string[] };
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

/** Compile a `~"…"` pattern (or the string right of `=~`). Throws {@link PatternError}. */
export const compilePattern = (pattern: string, o: PatternOptions = {}): Matcher => {
	const fold = foldFor(o);
	const p = fold ? fold(pattern) : pattern;
	const meter = o.meter;
	const inner = o.path || o.windowsPath ? compileGlob(p, meter) : compileWildcard(p, meter);
	if (!fold) return { ...inner, source: pattern };
	return { kind: inner.kind, source: pattern, test: (v) => inner.test(fold(v)) };
};

/** A pattern where `*` matches anything; `**` is rejected. */
const compileWildcard = (p: string, meter: Meter | undefined): Matcher => {
	if (p.includes("**")) throw new PatternError(`"**" is not allowed in patterns`);
	const pieces = p.split("*");
	if (pieces.length === 1) return { kind: "exact", source: p, test: (v) => v === p };
	if (pieces.every((x) => x === "")) return { kind: "any", source: p, test: () => true };
	const first = pieces[0] as string;
	const last = pieces[pieces.length - 1] as string;
	const middle = pieces.slice(1, -1).filter((x) => x !== "");
	if (!meter && middle.length === 0) {
		if (last === "") return { kind: "prefix", source: p, test: (v) => v.startsWith(first) };
		if (first === "") return { kind: "suffix", source: p, test: (v) => v.endsWith(last) };
	}
	if (!meter && first === "" && last === "" && middle.length === 1) {
		const needle = middle[0] as string;
		return { kind: "substring", source: p, test: (v) => v.includes(needle) };
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
	if (!p.includes("*")) return { kind: "exact", source: p, test: (v) => v === p };
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
		return { kind: "prefix", source: p, test: (v) => v.startsWith(prefix) };
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
	if (!meter) return { kind: "re2", source: regex, test: (v) => re.test(v) };
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
	return {
		...prefix,
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
		...(kind === "exact" || kind === "prefix" ? { literals: { kind, values: alts } } : {}),
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
