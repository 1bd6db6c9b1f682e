import { describe, expect, test } from "bun:test";
import { RE2JS } from "re2js";
import {
	compilePattern,
	compileRegex,
	globBasename,
	globPrefix,
	type Meter,
	PatternError,
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
