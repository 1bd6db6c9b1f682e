/**
 * @module The SECL lexer: Datadog's token set (`compiler/ast/secl.go`). Whitespace and comments
 * (`#…` and `//…` to the end of the line) are dropped; string, pattern and regex literals keep
 * their text raw (no escape processing, only `\"` does not end the literal).
 */
import { fail } from "./diagnostics.ts";

export type TokenKind =
	| "ident"
	| "string"
	| "pattern"
	| "regex"
	| "int"
	| "duration"
	| "ip"
	| "cidr"
	| "variable"
	| "punct"
	| "eof";

export interface Token {
	readonly kind: TokenKind;
	/** Raw text for punctuation and identifiers; the unquoted text for literals; the name for variables. */
	readonly text: string;
	readonly offset: number;
	readonly length: number;
	/** Nanoseconds for durations, the value for ints. */
	readonly number?: number;
}

const TWO_CHAR = new Set(["&&", "||", "==", "!=", ">=", "<=", "=~", "!~"]);
const ONE_CHAR = new Set(["(", ")", "[", "]", ",", "!", "-", "+", "^", "&", "|", "<", ">"]);

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z_][A-Za-z0-9_.]*(?:\[[A-Za-z0-9_]*\][A-Za-z0-9_.]*)*/y;
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/y;
const IPV4 = /\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,3})?/y;
const IPV6 = /(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*(?:\/\d{1,3})?/y;
const NUMBER = /\d+/y;
const DURATION = /(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+/y;
const WORD_CHAR = /[A-Za-z0-9_.]/;

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Nanoseconds of a Go-style duration (`1h30m`, `100ms`). */
const parseDuration = (text: string): number => {
	let total = 0;
	for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
		total += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
	}
	return Math.round(total);
};

const sticky = (re: RegExp, source: string, at: number): RegExpExecArray | null => {
	re.lastIndex = at;
	return re.exec(source);
};

/** Tokenize `source`; throws a `syntax` SeclError at the first bad character. */
export const tokenize = (source: string): Token[] => {
	const tokens: Token[] = [];
	let i = 0;
	const n = source.length;
	while (i < n) {
		const c = source[i] as string;
		if (c === " " || c === "\t" || c === "\n" || c === "\r") {
			i++;
			continue;
		}
		if (c === "#" || (c === "/" && source[i + 1] === "/")) {
			const eol = source.indexOf("\n", i);
			i = eol < 0 ? n : eol;
			continue;
		}
		if (c === '"' || ((c === "~" || c === "r") && source[i + 1] === '"')) {
			const open = c === '"' ? i : i + 1;
			const end = closingQuote(source, open);
			const kind = c === '"' ? "string" : c === "~" ? "pattern" : "regex";
			tokens.push({ kind, text: source.slice(open + 1, end), offset: i, length: end + 1 - i });
			i = end + 1;
			continue;
		}
		if (c === "$" && source[i + 1] === "{") {
			const m = sticky(VARIABLE, source, i);
			if (!m) fail(source, "syntax", `invalid variable reference, expected \${name} or \${scope.name}`, i, 2);
			tokens.push({ kind: "variable", text: m![1] as string, offset: i, length: m![0].length });
			i += m![0].length;
			continue;
		}
		const ip = lexIp(source, i);
		if (ip) {
			tokens.push(ip);
			i += ip.length;
			continue;
		}
		if (c >= "0" && c <= "9") {
			const d = sticky(DURATION, source, i);
			if (d && !WORD_CHAR.test(source[i + d[0].length] ?? "")) {
				tokens.push({
					kind: "duration",
					text: d[0],
					offset: i,
					length: d[0].length,
					number: parseDuration(d[0]),
				});
				i += d[0].length;
				continue;
			}
			const m = sticky(NUMBER, source, i)!;
			const after = source[i + m[0].length] ?? "";
			if (WORD_CHAR.test(after)) {
				let end = i + m[0].length;
				while (end < n && WORD_CHAR.test(source[end] as string)) end++;
				fail(
					source,
					"syntax",
					`invalid number "${source.slice(i, end)}" (durations take ns, us, ms, s, m or h)`,
					i,
					end - i,
				);
			}
			const value = Number(m[0]);
			if (!Number.isSafeInteger(value))
				fail(source, "syntax", `integer ${m[0]} is too large`, i, m[0].length);
			tokens.push({ kind: "int", text: m[0], offset: i, length: m[0].length, number: value });
			i += m[0].length;
			continue;
		}
		if (IDENT_START.test(c)) {
			const m = sticky(IDENT, source, i)!;
			tokens.push({ kind: "ident", text: m[0], offset: i, length: m[0].length });
			i += m[0].length;
			continue;
		}
		const two = source.slice(i, i + 2);
		if (TWO_CHAR.has(two)) {
			tokens.push({ kind: "punct", text: two, offset: i, length: 2 });
			i += 2;
			continue;
		}
		if (ONE_CHAR.has(c)) {
			tokens.push({ kind: "punct", text: c, offset: i, length: 1 });
			i++;
			continue;
		}
		fail(source, "syntax", `unexpected character ${JSON.stringify(c)}`, i, 1);
	}
	tokens.push({ kind: "eof", text: "", offset: n, length: 0 });
	return tokens;
};

const closingQuote = (source: string, open: number): number => {
	for (let j = open + 1; j < source.length; j++) {
		const ch = source[j];
		if (ch === "\\") j++;
		else if (ch === '"') return j;
	}
	return fail(source, "syntax", "unterminated string literal", open, 1);
};

const lexIp = (source: string, i: number): Token | undefined => {
	const v4 = sticky(IPV4, source, i);
	if (v4 && !WORD_CHAR.test(source[i + v4[0].length] ?? "")) {
		const text = v4[0];
		const [addr, bits] = text.split("/") as [string, string | undefined];
		if (!addr.split(".").every((o) => Number(o) <= 255) || (bits !== undefined && Number(bits) > 32)) {
			fail(source, "syntax", `invalid IP address "${text}"`, i, text.length);
		}
		return { kind: bits === undefined ? "ip" : "cidr", text, offset: i, length: text.length };
	}
	const c = source[i] as string;
	if (!/[0-9A-Fa-f:]/.test(c)) return undefined;
	const v6 = sticky(IPV6, source, i);
	if (!v6 || WORD_CHAR.test(source[i + v6[0].length] ?? "") || source[i + v6[0].length] === ":")
		return undefined;
	const text = v6[0];
	const [addr, bits] = text.split("/") as [string, string | undefined];
	if (parseIpv6(addr) === undefined || (bits !== undefined && Number(bits) > 128)) {
		fail(source, "syntax", `invalid IP address "${text}"`, i, text.length);
	}
	return { kind: bits === undefined ? "ip" : "cidr", text, offset: i, length: text.length };
};

/** The 16 bytes of an IPv6 address (IPv4-suffixed forms included), or undefined. */
export const parseIpv6 = (text: string): Uint8Array | undefined => {
	let s = text;
	const out = new Uint8Array(16);
	let tail: number[] = [];
	const dot = s.lastIndexOf(":");
	if (s.includes(".")) {
		const v4 = parseIpv4(s.slice(dot + 1));
		if (v4 === undefined) return undefined;
		s = `${s.slice(0, dot + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
	}
	const halves = s.split("::");
	if (halves.length > 2) return undefined;
	const group = (part: string): number[] | undefined => {
		if (part === "") return [];
		const out: number[] = [];
		for (const g of part.split(":")) {
			if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
			out.push(Number.parseInt(g, 16));
		}
		return out;
	};
	const head = group(halves[0] as string);
	if (!head) return undefined;
	if (halves.length === 2) {
		const t = group(halves[1] as string);
		if (!t || head.length + t.length > 7) return undefined;
		tail = t;
	} else if (head.length !== 8) return undefined;
	const words = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
	words.forEach((w, k) => {
		out[2 * k] = w >> 8;
		out[2 * k + 1] = w & 0xff;
	});
	return out;
};

/** An IPv4 address as an unsigned 32-bit number, or undefined. */
export const parseIpv4 = (text: string): number | undefined => {
	const parts = text.split(".");
	if (parts.length !== 4) return undefined;
	let v = 0;
	for (const p of parts) {
		if (!/^\d{1,3}$/.test(p)) return undefined;
		const o = Number(p);
		if (o > 255) return undefined;
		v = v * 256 + o;
	}
	return v;
};
