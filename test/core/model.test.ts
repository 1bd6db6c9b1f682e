import { describe, expect, test } from "bun:test";
import { parseDurationNs } from "../../core/duration.ts";
import { FieldRegistry } from "../../core/model/registry.ts";
import { eventFromValues, parseTimestamp } from "../../core/model/values.ts";
import type { Event } from "../../core/sdk.ts";
import { StatsRegistry } from "../../core/stats.ts";
import { REPO } from "../helpers.ts";

const linux = FieldRegistry.linux();
const get = (name: string, e: Event) => linux.field(name)!.get(e);

describe("event model from Datadog's catalogue", () => {
	test("the generated model is up to date with secl_linux.json / secl_windows.json", async () => {
		const proc = Bun.spawn(["bun", "scripts/gen-model.ts", "--check"], { cwd: REPO, stderr: "pipe" });
		expect(await proc.exited).toBe(0);
	});

	test("every Linux event type of the catalogue is in the model, plus the newer ones", () => {
		const names = [...linux.eventTypes()].map((t) => t.name);
		for (const t of [
			"open",
			"exec",
			"exit",
			"ptrace",
			"signal",
			"dns",
			"imds",
			"sysctl",
			"network_flow_monitor",
			"prctl",
			"setsockopt",
			"cgroup_write",
		]) {
			expect(names).toContain(t);
		}
		expect(linux.field("open.file.path")).toMatchObject({ type: "string", path: true, eventTypes: ["open"] });
		expect(linux.field("process.cap_effective")).toMatchObject({
			type: "int",
			constants: "Kernel Capability constants",
		});
		expect(linux.field("connect.addr.ip")?.type).toBe("ip");
		expect(linux.field("network.destination.ip")?.eventTypes).toEqual(["dns", "imds"]);
		expect(linux.field("dns.question.name")?.caseInsensitive).toBe(true);
		const windows = FieldRegistry.windows();
		expect(windows.field("create.registry.key_name")?.eventTypes).toEqual(["create_key"]);
		expect(windows.field("process.cmdline")?.caseInsensitive).toBe(true);
	});

	test("process helpers: args joins argv, args_flags and args_options follow Datadog's parser", () => {
		const e: Event = {
			type: "exec",
			timestamp: 0,
			flags: 0,
			process: { argv: ["-sV", "--color=auto", "-p", "22", "--verbose", "host", "-"] },
		};
		expect(get("process.args", e)).toBe("-sV --color=auto -p 22 --verbose host -");
		expect(get("process.args_flags", e)).toEqual(["s", "V", "sV", "color", "p", "verbose"]);
		expect(get("process.args_options", e)).toEqual(["color=auto", "p=22", "verbose=host"]);
		expect(get("process.argv", e)).toEqual(["-sV", "--color=auto", "-p", "22", "--verbose", "host", "-"]);
		expect(
			get("process.envs", { ...e, process: { envp: ["PATH=/bin", "LD_PRELOAD=/x.so", "EMPTY"] } }),
		).toEqual(["PATH", "LD_PRELOAD", "EMPTY"]);
	});

	test("argument and environment values are derived once while one argv/envp is read, afresh for another", () => {
		const argv = ["-sV", "--color=auto", "host"];
		const parent = { argv, envp: ["HOME=/root", "LD_PRELOAD=/x.so"] };
		const e: Event = { type: "exec", timestamp: 0, flags: 0, process: parent };
		const flags = get("process.args_flags", e);
		const envs = get("process.envs", e);
		// the exec's own fields and a copy of the context (as the resolver makes) read the same arrays
		expect(get("exec.args_flags", { ...e, exec: parent })).toBe(flags);
		const copy: Event = { ...e, process: { ...parent } };
		expect(get("process.args_flags", copy)).toBe(flags);
		expect(get("process.envs", copy)).toBe(envs);
		expect(get("process.args", copy)).toBe(get("process.args", e));
		// an exec replaces argv: the values follow the new one, and the old one is derived again
		const exec: Event = { ...e, process: { ...parent, argv: ["-x"] } };
		expect(get("process.args_flags", exec)).toEqual(["x"]);
		expect(get("process.args", exec)).toBe("-x");
		const again = get("process.args_flags", e);
		expect(again).not.toBe(flags);
		expect(again).toEqual(flags);
		// an argv grown in place is read afresh
		argv.push("-q");
		expect(get("process.args_flags", e)).toEqual(["s", "V", "sV", "color", "q"]);
		// nothing shows on the arrays themselves; frozen arrays work
		expect(argv).toEqual(["-sV", "--color=auto", "host", "-q"]);
		expect(JSON.stringify(argv)).toBe('["-sV","--color=auto","host","-q"]');
		expect(Object.keys(argv)).toEqual(["0", "1", "2", "3"]);
		expect(Object.getOwnPropertySymbols(argv)).toEqual([]);
		const frozen: Event = { ...e, process: { argv: Object.freeze(["-ab"]) as string[] } };
		expect(get("process.args_flags", frozen)).toEqual(["a", "b", "ab"]);
		expect(get("process.args", frozen)).toBe("-ab");
	});

	test("file helpers: name from path, rights from mode, lengths, extension", () => {
		const e: Event = {
			type: "open",
			timestamp: 0,
			flags: 0,
			process: {},
			open: { file: { path: "/etc/kubernetes/manifests/pod.yaml", mode: 0o104755 } },
		};
		expect(get("open.file.name", e)).toBe("pod.yaml");
		expect(get("open.file.extension", e)).toBe(".yaml");
		expect(get("open.file.rights", e)).toBe(0o4755);
		expect(get("open.file.path.length", e)).toBe(34);
		expect(get("open.file.name.length", e)).toBe(8);
		expect(get("open.retval", e)).toBe(0);
		expect(get("open.file.user", e)).toBe("");
	});

	test("ancestors iterate: every element's value, the count, and the parent as the first ancestor", () => {
		const parent = { comm: "git", argv: ["clone", "--recursive"], file: { path: "/usr/bin/git" } };
		const e: Event = {
			type: "exec",
			timestamp: 0,
			flags: 0,
			process: { parent, ancestors: [parent, { comm: "bash", file: { path: "/bin/bash" } }] },
		};
		expect(get("process.ancestors.comm", e)).toEqual(["git", "bash"]);
		expect(get("process.ancestors.file.name", e)).toEqual(["git", "bash"]);
		expect(get("process.ancestors.args_flags", e)).toEqual(["recursive"]);
		expect(get("process.ancestors.length", e)).toBe(2);
		expect(get("process.parent.comm", e)).toBe("git");
		const it = linux.field("process.ancestors.comm")!.iterator!;
		expect(it.name).toBe("process.ancestors");
		expect(it.items(e).map((x) => it.get(x, e))).toEqual(["git", "bash"]);
	});

	test("connect.addr.is_public is derived from the address", () => {
		const at = (ip: string): Event => ({
			type: "connect",
			timestamp: 0,
			flags: 0,
			process: {},
			connect: { addr: { ip } },
		});
		expect(get("connect.addr.is_public", at("8.8.8.8"))).toBe(true);
		for (const ip of [
			"10.1.2.3",
			"192.168.0.1",
			"172.20.0.1",
			"127.0.0.1",
			"169.254.169.254",
			"::1",
			"fd00::1",
			"fe80::1",
		]) {
			expect(get("connect.addr.is_public", at(ip))).toBe(false);
		}
		expect(get("connect.addr.is_public", at("2001:4860::8888"))).toBe(true);
		// the edges of the private ranges, and text that is not a dotted quad
		expect(get("connect.addr.is_public", at("172.32.0.1"))).toBe(true);
		expect(get("connect.addr.is_public", at("172.31.255.255"))).toBe(false);
		expect(get("connect.addr.is_public", at("100.63.0.1"))).toBe(true);
		expect(get("connect.addr.is_public", at("100.64.0.1"))).toBe(false);
		expect(get("connect.addr.is_public", at("::ffff:8.8.4.4"))).toBe(true);
		expect(get("connect.addr.is_public", at("::ffff:10.0.0.1"))).toBe(false);
		for (const ip of ["1.2.3", "1.2.3.4.5", "1.2.3.256", "1..2.3", "1.2.3.", "a.b.c.d", "1.2.3.1234", ""])
			expect(get("connect.addr.is_public", at(ip))).toBe(false);
	});
});

describe("events from SECL values", () => {
	test("values are written through the registry; exec is the process", () => {
		const e = eventFromValues(linux, {
			type: "exec",
			timestamp: 5,
			values: { "exec.file.path": "/bin/sh", "process.pid": 3, "process.ancestors.comm": ["a", "b"] },
		});
		expect(e.exec).toBe(e.process);
		expect(e.process.file?.path).toBe("/bin/sh");
		expect(e.process.pid).toBe(3);
		expect(get("process.ancestors.comm", e)).toEqual(["a", "b"]);
		expect(
			get("process.parent.comm", { ...e, process: { ...e.process, parent: e.process.ancestors![0] } }),
		).toBe("a");
	});

	test("each kind of bad input names where it is", () => {
		expect(() => eventFromValues(linux, { type: "" })).toThrow("type: expected an event type");
		expect(() => eventFromValues(linux, { type: "opn" })).toThrow('type: unknown event type "opn"');
		expect(() => eventFromValues(linux, { type: "open", values: { "open.nope": 1 } })).toThrow(
			'values["open.nope"]: unknown field',
		);
		expect(() => eventFromValues(linux, { type: "open", values: { "exec.file.path": "/x" } })).toThrow(
			"not available on open events",
		);
		expect(() => eventFromValues(linux, { type: "open", values: { "open.flags": [1] } })).toThrow(
			"expected a single int, got an array",
		);
		expect(() => eventFromValues(linux, { type: "exec", values: { "exec.argv": ["ok", 2] } })).toThrow(
			"expected an array of string, got 2",
		);
		expect(() => eventFromValues(linux, { type: "open", values: { "open.file.name.length": 3 } })).toThrow(
			"derived and cannot be set",
		);
		expect(() => eventFromValues(linux, { type: "open", timestamp: "yesterday" })).toThrow(
			'timestamp: "yesterday" is not an ISO-8601 date',
		);
	});

	test("ISO timestamps keep their nanoseconds", () => {
		expect(parseTimestamp("2026-11-25T10:00:00.000000001Z")).toBe(
			Date.parse("2026-11-25T10:00:00Z") * 1e6 + 1,
		);
		expect(parseTimestamp(42)).toBe(42);
		expect(() => parseTimestamp(-1)).toThrow("expected nanoseconds");
	});
});

describe("small core pieces", () => {
	test("durations", () => {
		expect(parseDurationNs("250ms")).toBe(250e6);
		expect(parseDurationNs("1m30s")).toBe(90e9);
		expect(parseDurationNs("2h")).toBe(7200e9);
		expect(parseDurationNs("0")).toBe(0);
		expect(parseDurationNs("10 s")).toBeUndefined();
		expect(parseDurationNs("5d")).toBeUndefined();
	});

	test("stats: same name and tags share a counter; gauges are read at snapshot time", () => {
		const s = new StatsRegistry();
		s.counter("x", { b: "2", a: "1" }).inc();
		s.counter("x", { a: "1", b: "2" }).inc(2);
		let depth = 1;
		s.gauge("depth", () => depth);
		depth = 7;
		expect(s.snapshot()).toEqual({ depth: 7, "x{a=1,b=2}": 3 });
	});
});
