// biome-ignore-all lint/suspicious/noTemplateCurlyInString: SECL expressions write variables as ${name}
import { describe, expect, test } from "bun:test";
import { FieldRegistry } from "../model/registry.ts";
import type { Event, ProcessContext } from "../model/types.ts";
import { eventFromValues } from "../model/values.ts";
import { compile, compileValue, MacroStore, type SeclContext, VariableStore } from "./index.ts";

const NOW = 1_750_000_000e9;
const linux = FieldRegistry.linux();
const context = (registry = linux): SeclContext => ({
	registry,
	macros: new MacroStore(),
	variables: new VariableStore(),
});
const event = (type: string, values: Record<string, unknown>, timestamp = NOW): Event =>
	eventFromValues(linux, { type, values, timestamp });
const matches = (expr: string, e: Event, ctx = context()): boolean => compile(expr, ctx).evaluate(e);

/** An exec event whose process has these ancestors (parent first). */
const execWith = (proc: ProcessContext, ancestors: ProcessContext[]): Event => {
	const p: ProcessContext = { ...proc, ancestors, ...(ancestors[0] ? { parent: ancestors[0] } : {}) };
	return { type: "exec", timestamp: NOW, flags: 0, process: p, exec: p };
};

describe("scalars", () => {
	const open = event("open", {
		"open.file.path": "/etc/shadow",
		"open.flags": 0o101,
		"process.comm": "cat",
		"process.uid": 1000,
	});

	test("string equality is exact and strings are raw", () => {
		expect(matches('open.file.path == "/etc/shadow"', open)).toBe(true);
		expect(matches('open.file.path == "/etc/shado"', open)).toBe(false);
		expect(matches('open.file.path != "/etc/passwd"', open)).toBe(true);
		const raw = event("open", { "open.file.path": "/x", "process.comm": String.raw`a\"b` });
		expect(matches(String.raw`open.file.path == "/x" && process.comm == "a\"b"`, raw)).toBe(true);
		expect(matches(`open.file.path == "/x" && process.comm == 'a"b'`.replace("'a\"b'", '"a\\"b"'), raw)).toBe(
			true,
		);
	});

	test("operands may be swapped: the literal on the left", () => {
		expect(matches('"/etc/shadow" == open.file.path', open)).toBe(true);
		expect(matches("1001 > process.uid && open.flags > 0", open)).toBe(true);
		expect(matches("999 > process.uid && open.flags > 0", open)).toBe(false);
		expect(matches('r"^ca" == process.comm && open.flags > 0', open)).toBe(true);
	});

	test("ints compare with all six operators", () => {
		for (const [expr, want] of [
			["process.uid == 1000", true],
			["process.uid != 1000", false],
			["process.uid < 1001", true],
			["process.uid <= 1000", true],
			["process.uid > 1000", false],
			["process.uid >= 1000", true],
		] as const) {
			expect(matches(`${expr} && open.flags > 0`, open)).toBe(want);
		}
	});

	test("bool fields stand alone or compare with true/false", () => {
		const e = event("open", { "open.file.path": "/x", "open.file.in_upper_layer": true });
		expect(matches("open.file.in_upper_layer", e)).toBe(true);
		expect(matches("!open.file.in_upper_layer", e)).toBe(false);
		expect(matches("open.file.in_upper_layer == true", e)).toBe(true);
		expect(matches("open.file.in_upper_layer == false", e)).toBe(false);
		expect(matches("open.file.in_upper_layer != false", e)).toBe(true);
	});

	test("precedence at evaluation: not true && false is false; a && b || c is a && (b || c)", () => {
		const ctx = context();
		expect(compileValue("not true && false", ctx).evaluate(open)).toBe(false);
		expect(compileValue("!(true && false)", ctx).evaluate(open)).toBe(true);
		// (false && true) || true would be true; Datadog groups false && (true || true)
		expect(compileValue("false && true || true", ctx).evaluate(open)).toBe(false);
	});
});

describe("bit operations and constants", () => {
	test("open.flags & O_CREAT > 0 parses as (open.flags & O_CREAT) > 0", () => {
		const created = event("open", { "open.file.path": "/tmp/x", "open.flags": 0o101 });
		const read = event("open", { "open.file.path": "/tmp/x", "open.flags": 0 });
		expect(matches("open.flags & O_CREAT > 0", created)).toBe(true);
		expect(matches("open.flags & O_CREAT > 0", read)).toBe(false);
		expect(matches("open.flags & (O_WRONLY|O_RDWR) > 0", created)).toBe(true);
		expect(matches("open.flags | O_RDWR == 67", created)).toBe(true);
		expect(matches("open.flags ^ O_WRONLY == O_CREAT", created)).toBe(true);
	});

	test("capabilities are bitmasks, including bits above 31", () => {
		const e = event("exec", { "exec.file.path": "/x", "process.cap_effective": 2 ** 39 + 2 ** 21 });
		expect(matches('exec.file.path != "" && process.cap_effective & CAP_BPF > 0', e)).toBe(true);
		expect(matches('exec.file.path != "" && process.cap_effective & CAP_SYS_ADMIN > 0', e)).toBe(true);
		expect(matches('process.cap_effective & CAP_PERFMON > 0 && exec.file.path != ""', e)).toBe(false);
		expect(compileValue("^0", context()).evaluate(e)).toBe(-1);
		expect(compileValue("^(1 << 0)".replace("(1 << 0)", "CAP_BPF"), context()).evaluate(e)).toBe(
			-(2 ** 39) - 1,
		);
	});

	test("errors are negative errnos, compared with retval", () => {
		const e = event("open", { "open.file.path": "/x", "open.retval": -13 });
		expect(matches("open.retval == EACCES", e)).toBe(true);
		expect(matches("open.retval in [EPERM, EACCES]", e)).toBe(true);
		expect(matches("open.retval in [EPERM, ENOENT]", e)).toBe(false);
		expect(matches("open.retval == -13", e)).toBe(true);
	});

	test("a constant that several families define takes the compared field's family", () => {
		// BPF_MAP_LOOKUP_ELEM is both a command and a helper; both are 1, the family decides nothing here
		const e = event("bpf", { "bpf.cmd": 5, "bpf.prog.helpers": [1, 58] });
		expect(matches("bpf.cmd == BPF_PROG_LOAD && BPF_OVERRIDE_RETURN in bpf.prog.helpers", e)).toBe(true);
		expect(matches("bpf.cmd == BPF_PROG_LOAD && BPF_PROBE_WRITE_USER in bpf.prog.helpers", e)).toBe(false);
	});
});

describe("patterns, globs and regexes", () => {
	const exec = event("exec", {
		"exec.file.path": "/usr/bin/bash",
		"exec.comm": "bash",
		"exec.args": "-c /bin/ls /tmp",
	});

	test("patterns on ordinary fields: * matches any run, slashes included", () => {
		expect(matches('exec.comm =~ "ba*"', exec)).toBe(true);
		expect(matches('exec.comm =~ "*sh"', exec)).toBe(true);
		expect(matches('exec.comm == ~"z*"', exec)).toBe(false);
		expect(matches('exec.args =~ "*/bin/*"', exec)).toBe(true);
		expect(matches('exec.comm !~ "ba*"', exec)).toBe(false);
		expect(matches('exec.comm =~ "*"', exec)).toBe(true);
		expect(matches('exec.comm =~ ""', exec)).toBe(false);
		expect(matches('exec.comm =~ ""', event("exec", { "exec.file.path": "/x", "exec.comm": "" }))).toBe(true);
	});

	test("globs on path fields: * stays within a segment, ** at the end goes deep", () => {
		const at = (path: string) => event("open", { "open.file.path": path });
		expect(matches('open.file.path =~ "/etc/*"', at("/etc/passwd"))).toBe(true);
		expect(matches('open.file.path =~ "/etc/*"', at("/etc/ssh/sshd_config"))).toBe(false);
		expect(matches('open.file.path =~ "/etc/**"', at("/etc/ssh/sshd_config"))).toBe(true);
		expect(matches('open.file.path =~ "/etc/**"', at("/etc"))).toBe(false);
		expect(matches('open.file.path =~ "/etc/ssh/ssh*_config"', at("/etc/ssh/sshd_config"))).toBe(true);
		expect(matches('open.file.path =~ "*/bin/sh"', at("/bin/sh"))).toBe(true);
		expect(matches('open.file.path =~ "/var/**/token"', at("/var/run/secrets/x/token"))).toBe(true);
		expect(matches('open.file.path =~ "/var/**/token"', at("/var/token"))).toBe(true);
		expect(matches('open.file.path =~ "/var/**/token"', at("/var/run/token2"))).toBe(false);
		expect(matches('open.file.path == ~"/etc/*"', at("/etc/hosts"))).toBe(true);
	});

	test("regexes search unanchored (RE2 syntax)", () => {
		expect(matches('exec.args =~ r"/bin/l[s]"', exec)).toBe(true);
		expect(matches('exec.args == r"/bin/l[s]"', exec)).toBe(true);
		expect(matches('exec.args != r"/bin/l[s]"', exec)).toBe(false);
		expect(matches('exec.args == r"/bin/l[x]"', exec)).toBe(false);
		expect(matches('exec.comm == r"^bas"', exec)).toBe(true);
		expect(matches('exec.comm == r"^as"', exec)).toBe(false);
		expect(matches('exec.args in [r".*(curl|ls).*"]', exec)).toBe(true);
		expect(
			matches(
				'exec.comm in [r"^\\[.*\\]$"]',
				event("exec", { "exec.file.path": "/x", "exec.comm": "[kworker/0:1]" }),
			),
		).toBe(true);
	});

	test("in: bare strings are literals, ~ and r members match", () => {
		expect(matches('exec.comm in ["ba*"]', exec)).toBe(false);
		expect(matches('exec.comm in ["sh", ~"ba*"]', exec)).toBe(true);
		expect(matches('exec.comm in ["sh", r"^b.sh$"]', exec)).toBe(true);
		expect(matches('exec.comm not in ["sh", ~"ba*"]', exec)).toBe(false);
		expect(matches('exec.file.path in ["/usr/bin/bash", ~"/bin/*"]', exec)).toBe(true);
	});

	test("case-insensitive fields fold case for ==, in and patterns", () => {
		const dns = event("dns", { "dns.question.name": "Api.Telegram.ORG" });
		expect(matches('dns.question.name == "api.telegram.org"', dns)).toBe(true);
		expect(matches('dns.question.name in ["API.TELEGRAM.org"]', dns)).toBe(true);
		expect(matches('dns.question.name =~ "*.telegram.org"', dns)).toBe(true);
		expect(matches('dns.question.name in [r"TELEGRAM"]', dns)).toBe(true);
		expect(matches('dns.question.name != "api.telegram.org"', dns)).toBe(false);
	});

	test("Windows model: registry paths fold case; file paths also fold \\ to /", () => {
		const win = FieldRegistry.windows();
		const ctx = context(win);
		const set = eventFromValues(win, {
			type: "set_key_value",
			values: {
				"set.registry.key_path":
					"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\KnownDLLs\\x",
			},
		});
		expect(
			matches(
				'set.registry.key_path in [~"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\KnownDLLs*"]',
				set,
				ctx,
			),
		).toBe(true);
		expect(matches('set.registry.key_path =~ "hkey_local_machine\\system\\*"', set, ctx)).toBe(true);
		const create = eventFromValues(win, {
			type: "create",
			values: { "create.file.path": "C:\\Windows\\System32\\evil.dll" },
		});
		expect(matches('create.file.path =~ "c:\\windows\\system32\\*.dll"', create, ctx)).toBe(true);
		expect(matches('create.file.path =~ "C:/Windows/*.dll"', create, ctx)).toBe(false);
		expect(matches('create.file.path == "c:/windows/system32/evil.dll"', create, ctx)).toBe(true);
	});
});

describe("arrays: any / none semantics", () => {
	const e = event("exec", { "exec.file.path": "/usr/bin/git", "exec.argv": ["clone", "--recursive", "url"] });

	test("==, =~ and in hold when any element does", () => {
		expect(matches('exec.argv == "clone"', e)).toBe(true);
		expect(matches('exec.argv == "pull"', e)).toBe(false);
		expect(matches('exec.argv =~ "--rec*"', e)).toBe(true);
		expect(matches('exec.argv in ["pull", "url"]', e)).toBe(true);
	});

	test("!=, !~ and not in hold when no element does", () => {
		expect(matches('exec.argv != "clone"', e)).toBe(false);
		expect(matches('exec.argv != "pull"', e)).toBe(true);
		expect(matches('exec.argv !~ "--rec*"', e)).toBe(false);
		expect(matches('exec.argv not in ["pull", "push"]', e)).toBe(true);
		expect(matches('exec.argv not in ["pull", "url"]', e)).toBe(false);
	});

	test("a value in an array field, and the empty array", () => {
		expect(matches('"url" in exec.argv', e)).toBe(true);
		expect(matches('"x" in exec.argv', e)).toBe(false);
		expect(matches('"x" not in exec.argv', e)).toBe(true);
		const none = event("exec", { "exec.file.path": "/x" });
		expect(matches('exec.argv == "clone"', none)).toBe(false);
		expect(matches('exec.argv != "clone"', none)).toBe(true);
	});

	test("derived arrays: args_flags and args_options", () => {
		const auditctl = event("exec", {
			"exec.file.path": "/sbin/auditctl",
			"exec.argv": ["-abc", "--width=8", "-T", "8"],
		});
		expect(matches('exec.args_flags in ["b"] && exec.args_flags == "abc"', auditctl)).toBe(true);
		expect(matches('exec.args_options in ["width=8"] && exec.args_options == "T=8"', auditctl)).toBe(true);
	});

	test("ancestors: any ancestor / no ancestor", () => {
		const x = execWith({ pid: 10, comm: "sh", file: { path: "/bin/sh" } }, [
			{ pid: 9, comm: "bash", file: { path: "/bin/bash" } },
			{ pid: 1, comm: "systemd", file: { path: "/usr/lib/systemd/systemd" } },
		]);
		expect(matches('exec.comm == "sh" && process.ancestors.comm == "systemd"', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.ancestors.file.path not in ["/usr/bin/apt"]', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.ancestors.file.name in ["bash"]', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.ancestors.length == 2', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.parent.comm == "bash"', x)).toBe(true);
	});

	test("ancestors whose values are arrays: any element of any ancestor", () => {
		const x = execWith({ pid: 10, comm: "sh", file: { path: "/bin/sh" } }, [
			{ pid: 9, comm: "git", argv: ["clone", "--recursive"], file: { path: "/usr/bin/git" } },
			{ pid: 1, comm: "systemd", argv: ["--system"], file: { path: "/usr/lib/systemd/systemd" } },
		]);
		expect(matches('exec.comm == "sh" && process.ancestors.args_flags == "recursive"', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.ancestors.args_flags in ["system", "x"]', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.ancestors.argv in ["clone"]', x)).toBe(true);
		expect(matches('exec.comm == "sh" && process.ancestors.argv not in ["clone"]', x)).toBe(false);
		expect(matches('exec.comm == "sh" && process.ancestors.args_flags == "quiet"', x)).toBe(false);
	});

	test("in an array known per event (a variable): any, none, and the empty array", () => {
		const ctx = context();
		const names = ctx.variables.declare({ name: "names", type: "string", array: true, scope: "cgroup" });
		const e = event("exec", { "exec.file.path": "/x", "exec.argv": ["a", "b"], "cgroup.id": "g" });
		const any = compile('exec.file.path != "" && exec.argv in ${cgroup.names}', ctx);
		const none = compile('exec.file.path != "" && exec.argv not in ${cgroup.names}', ctx);
		const one = compile('exec.file.path != "" && "b" in ${cgroup.names}', ctx);
		expect([any.evaluate(e), none.evaluate(e), one.evaluate(e)]).toEqual([false, true, false]);
		names.append(e, "z");
		expect([any.evaluate(e), none.evaluate(e), one.evaluate(e)]).toEqual([false, true, false]);
		names.append(e, "b");
		expect([any.evaluate(e), none.evaluate(e), one.evaluate(e)]).toEqual([true, false, true]);
	});

	test(".length of strings", () => {
		expect(matches("open.file.path.length > 10", event("open", { "open.file.path": "/etc/shadow" }))).toBe(
			true,
		);
		expect(matches("open.file.path.length > 11", event("open", { "open.file.path": "/etc/shadow" }))).toBe(
			false,
		);
	});
});

describe("registers", () => {
	const rule =
		'exec.comm in ["sh"] && process.ancestors[A].comm == "git" && process.ancestors[A].argv in ["clone"]';

	test("one ancestor must satisfy every condition naming [A]", () => {
		const same = execWith({ comm: "sh" }, [{ comm: "bash" }, { comm: "git", argv: ["clone", "x"] }]);
		expect(matches(rule, same)).toBe(true);
	});

	test("conditions met by different ancestors do not match", () => {
		const split = execWith({ comm: "sh" }, [
			{ comm: "git", argv: ["pull"] },
			{ comm: "bash", argv: ["clone"] },
		]);
		expect(matches(rule, split)).toBe(false);
		// without a register, each condition takes any ancestor
		expect(
			matches(
				'exec.comm in ["sh"] && process.ancestors.comm == "git" && process.ancestors.argv in ["clone"]',
				split,
			),
		).toBe(true);
	});

	test("[A].x != v holds when some element differs", () => {
		const x = execWith({ comm: "sh" }, [{ comm: "git" }, { comm: "bash" }]);
		expect(matches('exec.comm == "sh" && process.ancestors[A].comm != "git"', x)).toBe(true);
		const all = execWith({ comm: "sh" }, [{ comm: "git" }]);
		expect(matches('exec.comm == "sh" && process.ancestors[A].comm != "git"', all)).toBe(false);
	});

	test("two registers iterate independently", () => {
		const x = execWith({ comm: "sh" }, [
			{ comm: "a", pid: 2 },
			{ comm: "b", pid: 1 },
		]);
		expect(
			matches(
				'exec.comm == "sh" && process.ancestors[A].comm == "a" && process.ancestors[B].comm == "b" && process.ancestors[A].pid > process.ancestors[B].pid',
				x,
			),
		).toBe(true);
		expect(
			matches(
				'exec.comm == "sh" && process.ancestors[A].comm == "a" && process.ancestors[B].comm == "b" && process.ancestors[A].pid < process.ancestors[B].pid',
				x,
			),
		).toBe(false);
	});
});

describe("durations", () => {
	test("a duration against a time field is an age (now - field) with event time as now", () => {
		const fresh = event("exec", { "exec.file.path": "/x", "container.created_at": NOW - 0.5e9 });
		const old = event("exec", { "exec.file.path": "/x", "container.created_at": NOW - 5e9 });
		expect(matches('exec.file.path != "" && container.created_at < 1s', fresh)).toBe(true);
		expect(matches('exec.file.path != "" && container.created_at < 1s', old)).toBe(false);
		expect(matches('exec.file.path != "" && container.created_at > 1s', old)).toBe(true);
		expect(matches('exec.file.path != "" && 1s > container.created_at', fresh)).toBe(true);
		expect(
			matches(
				'exec.file.path != "" && process.file.modification_time < 30s',
				event("exec", { "exec.file.path": "/x", "process.file.modification_time": NOW - 10e9 }),
			),
		).toBe(true);
	});

	test("in arithmetic, durations are raw nanoseconds", () => {
		const ctx = context();
		const e = event("exec", {
			"exec.file.path": "/x",
			"process.created_at": 100,
			"process.file.modification_time": 100 + 1e9,
		});
		expect(compileValue("10s + 40s == 50s", ctx).evaluate(e)).toBe(true);
		expect(compileValue("2h30m", ctx).evaluate(e)).toBe(9e12);
		const raw = (d: string) =>
			`exec.file.path != "" && process.file.modification_time - process.created_at + ${d} <= 5s`;
		expect(matches(raw("3s"), e)).toBe(true);
		expect(matches(raw("5s"), e)).toBe(false);
	});
});

describe("IP addresses and CIDRs", () => {
	const at = (ip: string) => event("connect", { "connect.addr.ip": ip, "connect.addr.port": 22 });

	test("containment with in, not in and ==", () => {
		expect(matches("connect.addr.ip in [127.0.0.0/8, ::1/128]", at("127.1.2.3"))).toBe(true);
		expect(matches("connect.addr.ip in [127.0.0.0/8, ::1/128]", at("::1"))).toBe(true);
		expect(matches("connect.addr.ip in [127.0.0.0/8, ::1/128]", at("10.0.0.1"))).toBe(false);
		expect(matches("connect.addr.ip not in [127.0.0.0/8, 0.0.0.0/32, ::1/128, ::/128]", at("8.8.8.8"))).toBe(
			true,
		);
		expect(matches("connect.addr.ip == 10.0.0.0/8", at("10.200.0.1"))).toBe(true);
		expect(matches("connect.addr.ip != 10.0.0.0/8", at("10.200.0.1"))).toBe(false);
		expect(matches("connect.addr.ip in 192.168.0.0/16", at("192.168.3.4"))).toBe(true);
	});

	test("addresses compare by value, IPv4-mapped IPv6 as IPv4", () => {
		expect(matches("connect.addr.ip == ::1", at("0:0:0:0:0:0:0:1"))).toBe(true);
		expect(matches("connect.addr.ip == 10.0.0.1", at("::ffff:10.0.0.1"))).toBe(true);
		expect(matches("connect.addr.ip == 10.0.0.2", at("10.0.0.1"))).toBe(false);
	});

	test("allin needs every element of an IP array inside; in needs one", () => {
		const flows = (ips: string[]): Event => ({
			type: "network_flow_monitor",
			timestamp: NOW,
			flags: 0,
			process: {},
			network_flow_monitor: { flows: ips.map((ip) => ({ destination: { ip } })) },
		});
		const rule = (op: string) => `network_flow_monitor.flows.destination.ip ${op} [10.0.0.0/8]`;
		expect(matches(rule("allin"), flows(["10.0.0.1", "10.9.9.9"]))).toBe(true);
		expect(matches(rule("allin"), flows(["10.0.0.1", "8.8.8.8"]))).toBe(false);
		expect(matches(rule("in"), flows(["10.0.0.1", "8.8.8.8"]))).toBe(true);
		expect(matches(rule("not in"), flows(["8.8.4.4", "8.8.8.8"]))).toBe(true);
	});

	test("allin on strings behaves as in", () => {
		const e = event("exec", { "exec.file.path": "/x", "exec.argv": ["a", "zz"] });
		expect(matches('exec.argv allin ["a", "b"]', e)).toBe(true);
	});
});

describe("variables, interpolation and macros", () => {
	test('strings interpolate variables per event: "/proc/${process.pid}/maps"', () => {
		const rule = compile('open.file.path == "/proc/${process.pid}/maps"', context());
		expect(rule.evaluate(event("open", { "open.file.path": "/proc/42/maps", "process.pid": 42 }))).toBe(true);
		expect(rule.evaluate(event("open", { "open.file.path": "/proc/42/maps", "process.pid": 43 }))).toBe(
			false,
		);
	});

	test("global and scoped variables; unset ones read as their zero value", () => {
		const ctx = context();
		const count = ctx.variables.declare({ name: "count", type: "int", scope: "process" });
		const tag = ctx.variables.declare({ name: "tag", type: "string", scope: "container" });
		const cats = ctx.variables.declare({ name: "cats", type: "string", array: true, scope: "cgroup" });
		const flag = ctx.variables.declare({ name: "flag", type: "bool" });
		const rule = compile(
			'open.file.path != "" && ${process.count} > 2 && ${container.tag} == "x" && "aws" not in ${cgroup.cats} && ${flag}',
			ctx,
		);
		const e = event("open", {
			"open.file.path": "/x",
			"process.pid": 7,
			"container.id": "c1",
			"cgroup.id": "g1",
		});
		expect(rule.evaluate(e)).toBe(false);
		count.set(e, 3);
		tag.set(e, "x");
		flag.set(e, true);
		expect(rule.evaluate(e)).toBe(true);
		cats.append(e, "aws");
		expect(rule.evaluate(e)).toBe(false);
		// another process: its own (unset) value
		const other = event("open", {
			"open.file.path": "/x",
			"process.pid": 8,
			"container.id": "c1",
			"cgroup.id": "g2",
		});
		expect(compile('open.file.path != "" && ${process.count} == 0', ctx).evaluate(other)).toBe(true);
		expect(compile('open.file.path != "" && ${container.tag} == "x"', ctx).evaluate(other)).toBe(true);
	});

	test("built-ins: ${process.pid} and ${builtins.uuid4} (fresh per read)", () => {
		const ctx = context();
		const e = event("open", { "open.file.path": "/x", "process.pid": 42 });
		expect(compile('open.file.path != "" && process.pid == ${process.pid}', ctx).evaluate(e)).toBe(true);
		const uuid = compileValue('"id_${builtins.uuid4}"', ctx);
		const a = uuid.evaluate(e) as string;
		expect(a).toMatch(/^id_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(uuid.evaluate(e)).not.toBe(a);
	});

	test("interpolated arrays are joined with commas", () => {
		const ctx = context();
		const keys = ctx.variables.declare({ name: "keys", type: "string", array: true });
		const e = event("open", { "open.file.path": "/x" });
		keys.append(e, ["a", "b"]);
		expect(compileValue('"${keys}:${process.pid}"', ctx).evaluate(e)).toBe("a,b:0");
	});

	test("macros: expression, values and nested, used as identifiers", () => {
		const ctx = context();
		ctx.macros.add("SHELLS", { values: ["bash", "sh"] });
		ctx.macros.add("MORE", { expression: '["zsh", ~"k*"]' });
		ctx.macros.add("is_shell", { expression: "exec.comm in SHELLS || exec.comm in MORE" });
		ctx.macros.add("WRITE", { expression: "O_WRONLY|O_RDWR" });
		const exec = (comm: string) => event("exec", { "exec.file.path": "/x", "exec.comm": comm });
		expect(matches("is_shell", exec("sh"), ctx)).toBe(true);
		expect(matches("is_shell", exec("ksh"), ctx)).toBe(true);
		expect(matches('is_shell && exec.comm != "ksh"', exec("ksh"), ctx)).toBe(false);
		expect(
			matches("open.flags & WRITE > 0", event("open", { "open.file.path": "/x", "open.flags": 2 }), ctx),
		).toBe(true);
	});

	test("legacy field names resolve to current ones", () => {
		const e = event("open", { "open.file.path": "/etc/passwd" });
		expect(matches('open.filename == "/etc/passwd"', e)).toBe(true);
		expect(matches('open.basename == "passwd"', e)).toBe(true);
		const x = event("exec", { "exec.file.path": "/usr/bin/curl", "process.file.path": "/usr/bin/curl" });
		expect(matches('exec.filename == "/usr/bin/curl" && process.container_path == "/usr/bin/curl"', x)).toBe(
			true,
		);
	});
});

describe("compiled rules", () => {
	test("report their event type and the fields they read, macros included", () => {
		const ctx = context();
		ctx.macros.add("root", { expression: "process.uid == 0" });
		const rule = compile('open.file.path == "/etc/shadow" && root', ctx);
		expect(rule.eventType).toBe("open");
		expect([...rule.fields].sort()).toEqual(["open.file.path", "process.uid"]);
		expect(rule.source).toContain("function evaluate(e)");
	});

	test("a field shared by several event types takes the rule's own type", () => {
		expect(compile('dns.question.name == "x" && network.destination.port == 53', context()).eventType).toBe(
			"dns",
		);
	});

	test("value expressions give their type", () => {
		const ctx = context();
		ctx.variables.declare({ name: "n", type: "int", scope: "process" });
		const v = compileValue("${process.n} + 1", ctx);
		expect(v.type).toBe("int");
		expect(v.evaluate(event("open", { "open.file.path": "/x", "process.pid": 1 }))).toBe(1);
		expect(compileValue("exec.argv", ctx)).toMatchObject({ type: "string", array: true, eventType: "exec" });
	});
});
