import { describe, expect, test } from "bun:test";
import { RuleDisarmer } from "./disarmer.ts";

const T0 = 1_700_000_000_000_000_000;
const on = { enabled: true, maxAllowed: 5, period: 60e9 };
const off = { ...on, enabled: false };

describe("kill disarmers", () => {
	test("a rule killing in a sixth distinct container within a minute is disarmed until a quiet minute passes", () => {
		const d = new RuleDisarmer(on, off);
		for (let i = 0; i < 5; i++) expect(d.allow(T0 + i * 1e9, `c${i}`, "/bin/x").allowed).toBe(true);
		// the same containers again are fine
		expect(d.allow(T0 + 6e9, "c0", "/bin/x").allowed).toBe(true);
		const sixth = d.allow(T0 + 7e9, "c5", "/bin/x");
		expect(sixth).toEqual({
			allowed: false,
			reason: "container disarmer: more than 5 distinct containers within 60s",
		});
		expect(d.disarmed).toBe(true);
		// disarmed: even a known container is refused while the period runs
		expect(d.allow(T0 + 30e9, "c0", "/bin/x").allowed).toBe(false);
		// a minute after the last kill every container has aged out: armed again
		expect(d.allow(T0 + 6e9 + 60e9, "c9", "/bin/x").allowed).toBe(true);
		expect(d.disarmedCount).toBe(1);
	});

	test("the executable disarmer counts distinct executables; host processes and unknown paths do not count", () => {
		const d = new RuleDisarmer(on, { ...on, maxAllowed: 2 });
		expect(d.allow(T0, "", "/usr/bin/a").allowed).toBe(true);
		expect(d.allow(T0, "", "/usr/bin/b").allowed).toBe(true);
		expect(d.allow(T0, "", "").allowed).toBe(true);
		expect(d.allow(T0, "", "/usr/bin/c")).toEqual({
			allowed: false,
			reason: "executable disarmer: more than 2 distinct executables within 60s",
		});
	});

	test("an action may opt out of a disarmer", () => {
		const d = new RuleDisarmer(on, { ...on, maxAllowed: 1 });
		expect(d.allow(T0, "", "/a").allowed).toBe(true);
		expect(d.allow(T0, "", "/b", { executable: true }).allowed).toBe(true);
		expect(d.allow(T0, "", "/c").allowed).toBe(false);
	});
});
