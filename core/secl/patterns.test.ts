import { describe, expect, test } from "bun:test";
import { RE2JS } from "re2js";
import { randomWord, seededRandom } from "../../test/random.ts";
import {
	compileList,
	compilePattern,
	compileRegex,
	globBasename,
	globPrefix,
	type Meter,
	Needles,
	PatternError,
	requiredText,
} from "./patterns.ts";

/** A meter and the total it counted. */
const metered = (): { meter: Meter; total: () => number } => {
	let n = 0;
	return {
		meter: (c) => {
			n += c;
		},
		total: () => n,
	};
};

describe("patterns on ordinary fields", () => {
	test.each([
		["ba*", "bash", true],
		["ba*", "abash", false],
		["*sh", "bash", true],
		["*a*b*", "xaxxbx", true],
		["*a*b*", "xbxxax", false],
		["a*b*c", "abc", true],
		["a*b*c", "aXbYc", true],
		["a*b*c", "aXcYb", false],
		["*/bin/*", "-c /bin/ls", true],
		["*", "", true],
		["", "", true],
		["", "x", false],
		["exact", "exact", true],
		["aa*aa", "aaa", false],
	])("%p on %p is %p", (pattern, value, want) => {
		expect(compilePattern(pattern).test(value)).toBe(want);
		// the metered variant takes the general path and must agree
		expect(compilePattern(pattern, { meter: () => {} }).test(value)).toBe(want);
	});

	test("** is rejected", () => {
		expect(() => compilePattern("a**")).toThrow(PatternError);
		expect(() => compilePattern("a**")).toThrow('"**" is not allowed in patterns');
	});

	test("case-insensitive patterns fold both sides", () => {
		expect(compilePattern("*.EXAMPLE.com", { caseInsensitive: true }).test("api.example.COM")).toBe(true);
	});
});

describe("path globs", () => {
	test.each([
		["/etc/*", "/etc/passwd", true],
		["/etc/*", "/etc/ssh/config", false],
		["/etc/*", "/etc", false],
		["/etc/**", "/etc/ssh/config", true],
		["/etc/**", "/etc/", true],
		["/etc/**", "/etc", false],
		["/etc/**", "/etcetera/x", false],
		["/etc/ssh*/*_config", "/etc/ssh/sshd_config", true],
		["/etc/ssh*/*_config", "/etc/sshd/x_config", true],
		["/etc/ssh*/*_config", "/etc/ssh/sub/sshd_config", false],
		["*/bin/sh", "/bin/sh", true],
		["*/bin/sh", "/usr/bin/sh", false],
		["/home/*/.ssh/id_rsa", "/home/alice/.ssh/id_rsa", true],
		["/home/*/.ssh/id_rsa", "/home/a/b/.ssh/id_rsa", false],
		["/var/**/token", "/var/token", true],
		["/var/**/token", "/var/a/b/c/token", true],
		["/var/**/token", "/var/a/token/x", false],
		["/**/x", "/a/b/x", true],
		["/a/**/b/**", "/a/x/b/y/z", true],
		["/a/**/b/**", "/a/x/b", false],
		["/proc/*/environ", "/proc/42/environ", true],
		["*", "relative", true],
	])("%p on %p is %p", (glob, path, want) => {
		expect(compilePattern(glob, { path: true }).test(path)).toBe(want);
		expect(compilePattern(glob, { path: true, meter: () => {} }).test(path)).toBe(want);
	});

	test("** must be a whole segment", () => {
		expect(() => compilePattern("/etc/a**", { path: true })).toThrow('"**" must be a whole path segment');
		expect(() => compilePattern("/**x/y", { path: true })).toThrow(PatternError);
	});

	test("Windows paths fold case and separators", () => {
		const m = compilePattern("C:\\Windows\\System32\\*.dll", { windowsPath: true });
		expect(m.test("c:/windows/system32/EVIL.DLL")).toBe(true);
		expect(m.test("C:\\Windows\\System32\\drivers\\x.dll")).toBe(false);
	});

	test("literal prefix and basename of a glob (for approvers)", () => {
		expect(globPrefix("/etc/ssh/*")).toBe("/etc/ssh/");
		expect(globPrefix("/etc/ssh/ssh*")).toBe("/etc/ssh/");
		expect(globPrefix("*/bin/sh")).toBe("");
		expect(globBasename("*/bin/sh")).toBe("sh");
		expect(globBasename("/etc/*")).toBeUndefined();
	});
});

describe("regexes", () => {
	test("unanchored search with RE2 syntax, fast paths agree with RE2", () => {
		const cases: [string, string[]][] = [
			[".*(curl|wget).*", ["/usr/bin/curl -s", "wge", "x wget"]],
			["^(curl|wget)$", ["curl", "curlx"]],
			["^\\[.*\\]$", ["[kworker/0:1]", "[x", "x]", "[a\nb]"]],
			["OUTPUT.*ACCEPT", ["-A OUTPUT -j ACCEPT", "ACCEPT OUTPUT"]],
			["libpam\\.so", ["/lib/libpam.so.0", "libpamxso"]],
			["(a+)+$", ["aaa", "aab", "b"]],
			["\\d{2,3}-x", ["12-x", "1-x"]],
		];
		for (const [re, values] of cases) {
			const m = compileRegex(re);
			const ref = RE2JS.compile(re);
			for (const v of values) expect([re, v, m.test(v)]).toEqual([re, v, ref.test(v)]);
			const mi = compileRegex(re, { caseInsensitive: true });
			const refi = RE2JS.compile(re, RE2JS.CASE_INSENSITIVE);
			for (const v of values.map((x) => x.toUpperCase()))
				expect([re, v, mi.test(v)]).toEqual([re, v, refi.test(v)]);
		}
	});

	test("literal regexes become string operations; others run on RE2", () => {
		expect(compileRegex(".*(curl|wget).*").kind).toBe("substring");
		expect(compileRegex("^/tmp/").kind).toBe("prefix");
		expect(compileRegex("^\\[.*\\]$").kind).toBe("pieces");
		expect(compileRegex("(a+)+$").kind).toBe("re2");
		expect(compileRegex("^(curl|wget)$").literals).toEqual({ kind: "exact", values: ["curl", "wget"] });
	});

	test("invalid regexes give RE2's message", () => {
		expect(() => compileRegex("a(b")).toThrow(/missing closing \)/);
		// backreferences and lookarounds are not RE2
		expect(() => compileRegex("(a)\\1")).toThrow(PatternError);
	});
});

describe("matching is linear in the length of the value (attacker-controlled)", () => {
	const N = 100_000;

	test('a 100 kB argument against r"(a+)+$": RE2 reads each byte a bounded number of times', () => {
		const { meter, total } = metered();
		const m = compileRegex("(a+)+$", { meter });
		expect(m.kind).toBe("re2");
		expect(m.test(`${"a".repeat(N)}!`)).toBe(false);
		expect(total()).toBeLessThanOrEqual(4 * (N + 1));
		// and it does find a match when there is one
		expect(m.test("a".repeat(N))).toBe(true);
	});

	test("nested quantifiers with alternation: (x+x+)+y against 100 kB of x", () => {
		const { meter, total } = metered();
		expect(compileRegex("(x+x+)+y", { meter }).test("x".repeat(N))).toBe(false);
		expect(total()).toBeLessThanOrEqual(4 * N);
	});

	test("a many-star pattern against 100 kB: the piece searches never overlap", () => {
		const { meter, total } = metered();
		const m = compilePattern(`*${"a*".repeat(30)}b`, { meter });
		expect(m.test("a".repeat(N))).toBe(false);
		expect(total()).toBeLessThanOrEqual(N + 64);
		expect(m.test(`${"a".repeat(N)}b`)).toBe(true);
	});

	test("a many-star glob against a 100 kB path segment", () => {
		const { meter, total } = metered();
		const m = compilePattern(`/*${"a*".repeat(30)}b/x`, { path: true, meter });
		expect(m.test(`/${"a".repeat(N)}/x`)).toBe(false);
		expect(total()).toBeLessThanOrEqual(3 * N);
	});

	test("many ** segments against a path of 50,000 segments", () => {
		const { meter, total } = metered();
		const m = compilePattern("/**/a/**/a/**/a/**/a/**/b/c", { path: true, meter });
		const path = "/a".repeat(N / 2);
		expect(m.test(path)).toBe(false);
		// each segment is compared at most once per pattern segment (7) plus the split
		expect(total()).toBeLessThanOrEqual(8 * (N + N / 2));
		expect(m.test(`${path}/b/c`)).toBe(true);
	});

	test("a wildcard regex (literal text and .*) against 100 kB", () => {
		const { meter, total } = metered();
		const m = compileRegex(`^${"a.*".repeat(20)}b$`, { meter });
		expect(m.kind).toBe("pieces");
		expect(m.test("a".repeat(N))).toBe(false);
		expect(total()).toBeLessThanOrEqual(N + 64);
	});
});

describe("needles: many literal strings looked for in one pass", () => {
	const r = seededRandom(7);
	const word = (alphabet: string, min: number, max: number) => randomWord(r, alphabet, min, max);

	test.each([
		["varied first characters, many needles", "abc/", 12],
		["one first character (a jump from / to /)", "/ab", 12],
		["few needles", "abc", 3],
	])("%s: every needle a value contains is found, as includes says", (_, alphabet, count) => {
		for (let round = 0; round < 200; round++) {
			const texts = [...new Set(Array.from({ length: count }, () => word(alphabet, 1, 4)))];
			if (alphabet.startsWith("/")) for (let i = 0; i < texts.length; i++) texts[i] = `/${texts[i]}`;
			const needles = new Needles<string>();
			for (const t of texts) needles.add(t, t);
			for (let v = 0; v < 20; v++) {
				const value = word(alphabet, 0, 30);
				const want = texts.filter((t) => value.includes(t)).sort();
				const n = needles.find(value);
				const got = [...new Set(Array.from({ length: n }, (_, k) => needles.found(k)))].sort();
				expect({ value, got }).toEqual({ value, got: want });
				expect(needles.test(value)).toBe(want.length > 0);
			}
		}
	});

	test("the empty needle is in every value", () => {
		const needles = new Needles<string>();
		needles.add("", "empty");
		needles.add("zz", "zz");
		expect(needles.test("")).toBe(true);
		expect(needles.find("abc")).toBe(1);
		expect(needles.found(0)).toBe("empty");
	});

	test("100 kB of a character that starts every needle: each position costs at most the needles' length", () => {
		const { meter, total } = metered();
		const texts = Array.from({ length: 20 }, (_, i) => `${"a".repeat(10 + i)}b`);
		const needles = new Needles<number>(meter);
		for (const [i, t] of texts.entries()) needles.add(t, i);
		const N = 100_000;
		expect(needles.test("a".repeat(N))).toBe(false);
		const sum = texts.reduce((n, t) => n + t.length, 0);
		expect(total()).toBeLessThanOrEqual(N * (sum + 1));
		expect(needles.test(`${"a".repeat(N)}b`)).toBe(true);
	});

	test("the jump scan is linear too: 100 kB of slashes against path needles", () => {
		const { meter, total } = metered();
		const needles = new Needles<number>(meter);
		for (const [i, t] of ["/.ssh/", "/.aws/", "//x"].entries()) needles.add(t, i);
		const N = 100_000;
		expect(needles.test("/".repeat(N))).toBe(false);
		expect(total()).toBeLessThanOrEqual(N * 8);
	});
});

describe("in lists of strings and patterns as one test", () => {
	test("a list agrees with its members tested one by one, on paths and on plain values", () => {
		const r = seededRandom(11);
		const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
		const lists: { path: boolean; items: string[] }[] = [
			{
				path: true,
				items: [
					"/etc/shadow",
					"/home/*/.ssh/id_rsa",
					"/root/.ssh/*",
					"/etc/**",
					"*/bin/sh",
					"/var/**/token",
					"/tmp/*.sh",
				],
			},
			{ path: false, items: ["bash", "*stratum+tcp*", "*nicehash*", "python*", "*.so", "a*b*c", "*"] },
			{ path: false, items: ["x", "*ab*", "*cd*", "*ef*", "*gh*", "*ij*", "k*"] },
		];
		const parts = [
			"/",
			"etc",
			"shadow",
			"home",
			"alice",
			".ssh",
			"id_rsa",
			"root",
			"bin",
			"sh",
			"var",
			"token",
			"tmp",
			"x.sh",
			"stratum+tcp",
			"nicehash",
			"python3",
			".so",
			"a",
			"b",
			"c",
			"ab",
			"cd",
			"gh",
			"k",
		];
		for (const { path, items } of lists) {
			const exact = items.filter((i) => !i.includes("*"));
			const matchers = items.filter((i) => i.includes("*")).map((i) => compilePattern(i, { path }));
			const list = compileList(
				exact,
				matchers.map((m) => ({ matcher: m, folded: false })),
				undefined,
				path,
			);
			for (let i = 0; i < 3000; i++) {
				const value = Array.from({ length: Math.floor(r() * 6) }, () => pick(parts)).join(pick(["", "/"]));
				const want = exact.includes(value) || matchers.some((m) => m.test(value));
				expect({ items, value, got: list.test(value) }).toEqual({ items, value, got: want });
			}
		}
	});

	test("folded fields fold the value once for the folded patterns", () => {
		const fold = (s: string) => s.toLowerCase();
		const list = compileList(
			["api.example.com"],
			[{ matcher: compilePattern("*.evil.io"), folded: true }],
			fold,
			false,
		);
		expect(list.test("API.Example.COM")).toBe(true);
		expect(list.test("x.EVIL.io")).toBe(true);
		expect(list.test("evil.io.x")).toBe(false);
	});

	test("100 kB against a long list: the list's own steps stay linear", () => {
		const { meter, total } = metered();
		const items = Array.from({ length: 40 }, (_, i) => `*${"a".repeat(8)}${i}*`);
		const list = compileList(
			[],
			items.map((i) => ({ matcher: compilePattern(i, { meter }), folded: false })),
			undefined,
			false,
			meter,
		);
		const N = 100_000;
		expect(list.test("a".repeat(N))).toBe(false);
		// one walk over the value; at each position, the needles starting with "aa"
		expect(total()).toBeLessThanOrEqual(N * (items.length * 11 + 2));
	});
});

describe("regexes left to RE2 look for the text every match holds first", () => {
	test("the required text of a regex", () => {
		expect(requiredText("(?i)(restore|recover|how\\ to).*(your_|files)", false)).toEqual({
			values: ["restore", "recover", "how to"],
			fold: true,
		});
		expect(requiredText("(TCP4-LISTEN:|SOCKS)", false)).toEqual({
			values: ["TCP4-LISTEN:", "SOCKS"],
			fold: false,
		});
		expect(requiredText("abc*def", false)).toEqual({ values: ["def"], fold: false });
		expect(requiredText("foo|barbaz", false)).toEqual({ values: ["foo", "barbaz"], fold: false });
		expect(requiredText("[a-z]+hello", true)).toEqual({ values: ["hello"], fold: true });
		// too short, optional, or escapes and flags that stand for more than a character
		for (const re of [
			"x(ab)?yz",
			"ab|",
			"\\x41bcd",
			"abc(?i)def",
			"\\Qabc\\E",
			"a{x}bcd",
			"((25[0-5]|1\\d)\\.?){4}",
		])
			expect([re, requiredText(re, false)]).toEqual([re, undefined]);
	});

	test("with the shortcut, results are RE2's, case folding outside ASCII included", () => {
		const cases: [string, string[]][] = [
			[
				"(?i)(restore|recover|ransom).*(your_|files|lock)",
				["RESTORE_your_files.txt", "notes.txt", "ranſom_lock", "Recover-Files", "restore"],
			],
			["(TCP4-LISTEN:|SOCKS)[0-9]+", ["TCP4-LISTEN:4444", "socks5", "SOCKS5", "x"]],
			["[a-z]+hello\\d", ["xhello1", "hello1", "HELLO1", "ahello"]],
		];
		for (const [re, values] of cases) {
			const m = compileRegex(re);
			expect(m.kind).toBe("re2");
			const ref = RE2JS.compile(re);
			for (const v of values) expect([re, v, m.test(v)]).toEqual([re, v, ref.test(v)]);
		}
		// RE2's (?i) matches ſ (U+017F) for s: the shortcut must not drop it
		expect(RE2JS.compile("(?i)ransom").test("ranſom")).toBe(true);
		expect(compileRegex("(?i)(ransom|xyzzy)[0-9]").test("ranſom7")).toBe(true);
	});
});
