import { describe, expect, test } from "bun:test";
import { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import { eventFromValues } from "../model/values.ts";
import { type IndexKey, indexKeysOf } from "./approvers.ts";
import { compile, MacroStore, type SeclContext, VariableStore } from "./index.ts";
import { KeySample } from "./key-sample.ts";

const linux = FieldRegistry.linux();
const context = (): SeclContext => ({
	registry: linux,
	macros: new MacroStore(),
	variables: new VariableStore(),
});
const connect = (values: Record<string, unknown>): Event =>
	eventFromValues(linux, { type: "connect", values, timestamp: 1e18 });
const keysOf = (expr: string): IndexKey[] => indexKeysOf(compile(expr, context()).ir);
const names = (k: IndexKey): string[] => [...k.fields.keys()];

describe("index keys scored by a sample of events", () => {
	test("a key's score becomes the share of sampled events that pass it, the estimate weighing as 4 events", () => {
		const [family] = keysOf("connect.addr.family == AF_INET");
		const key = family as IndexKey;
		const sample = new KeySample([key], "linux");
		for (let i = 0; i < 96; i++) sample.add(connect({ "connect.addr.family": i < 48 ? 2 : 10 }));
		expect(sample.size).toBe(96);
		const [learned] = sample.learned(key);
		expect(learned?.score).toBeCloseTo((48 + 4 * key.score) / 100, 6);
		expect(key.score).toBeLessThan(0.05);
		// a key the sample was not given is left as it is
		const [other] = keysOf("connect.addr.port == 6667");
		expect(sample.learned(other as IndexKey)).toEqual([other as IndexKey]);
	});

	test("every value kind is tested as the index tests it: prefixes, basenames, suffixes, substrings, masks, array elements, IPs", () => {
		const pass = (expr: string, values: Record<string, unknown>, type = "connect"): number => {
			const keys = indexKeysOf(compile(expr, context()).ir);
			const key = keys[0] as IndexKey;
			const sample = new KeySample([key], "linux");
			for (let i = 0; i < 100; i++) sample.add(eventFromValues(linux, { type, values, timestamp: 1e18 }));
			return (sample.learned(key)[0] as IndexKey).score;
		};
		const open = (path: string, flags = 0) => ({ "open.file.path": path, "open.flags": flags });
		expect(pass('open.file.path =~ "/etc/ssh/*"', open("/etc/ssh/sshd_config"), "open")).toBeGreaterThan(0.9);
		expect(pass('open.file.path =~ "/etc/ssh/*"', open("/etc/sshx"), "open")).toBeLessThan(0.05);
		expect(pass('open.file.path =~ "*.pem"', open("/srv/key.pem"), "open")).toBeGreaterThan(0.9);
		expect(pass('open.file.path =~ "/*/bin/sh"', open("/usr/bin/sh"), "open")).toBeGreaterThan(0.9);
		expect(pass('open.file.path =~ "/*/bin/sh"', open("/usr/bin/bash"), "open")).toBeLessThan(0.05);
		expect(pass("open.flags & O_CREAT > 0", open("/a", 64 | 1), "open")).toBeGreaterThan(0.9);
		expect(pass("open.flags & O_CREAT > 0", open("/a", 1), "open")).toBeLessThan(0.5);
		expect(
			pass('connect.addr.hostname in [~"*.ngrok.io"]', { "connect.addr.hostname": "a.ngrok.io" }),
		).toBeGreaterThan(0.9);
		const exec = (argv: string[]) => ({ "exec.argv": argv });
		expect(pass('exec.args_flags in ["upload-file"]', exec(["--upload-file", "x"]), "exec")).toBeGreaterThan(
			0.9,
		);
		expect(pass('exec.args_flags in ["upload-file"]', exec(["x"]), "exec")).toBeLessThan(0.05);
		expect(pass('exec.args =~ "*stratum+tcp*"', exec(["-o", "stratum+tcp://pool"]), "exec")).toBeGreaterThan(
			0.9,
		);
		// IPs compare in canonical form
		expect(pass("connect.addr.ip == 10.0.0.1", { "connect.addr.ip": "::ffff:10.0.0.1" })).toBeGreaterThan(
			0.9,
		);
	});

	test("a pair comes both ways round, its second half scored on the events that pass its first", () => {
		const pair = keysOf("connect.addr.port == 6667 && connect.addr.family == AF_INET").find((k) => k.also);
		const key = pair as IndexKey;
		const sample = new KeySample([key], "linux");
		// every connect is AF_INET; one in ten goes to port 6667
		for (let i = 0; i < 200; i++)
			sample.add(connect({ "connect.addr.family": 2, "connect.addr.port": i % 10 === 0 ? 6667 : 443 }));
		const [asIs, turned] = sample.learned(key) as [IndexKey, IndexKey];
		expect(names(asIs)).toEqual(names(key));
		expect(names(turned)).toEqual(names(key.also as IndexKey));
		expect(names(turned.also as IndexKey)).toEqual(names(key));
		// both ways, the pair passes one connect in ten
		expect(asIs.score).toBeCloseTo(turned.score, 9);
		expect(asIs.score).toBeGreaterThan(0.08);
		expect(asIs.score).toBeLessThan(0.12);
		// the plan reads how often the first half passes as score / second's score
		const firstShare = (k: IndexKey) => k.score / (k.also as IndexKey).score;
		const port = names(key)[0] === "connect.addr.port";
		const [portFirst, familyFirst] = port ? [asIs, turned] : [turned, asIs];
		expect(firstShare(portFirst)).toBeLessThan(0.12);
		expect(firstShare(familyFirst)).toBeGreaterThan(0.95);
	});
});
