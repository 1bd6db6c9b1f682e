import { describe, expect, test } from "bun:test";
import { randomWord, seededRandom } from "../../test/random.ts";
import { setPath } from "../model/derive.ts";
import { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import { eventFromValues } from "../model/values.ts";
import { indexKeysOf } from "./approvers.ts";
import { approversOf, compile, MacroStore, RuleSet, type SeclContext, VariableStore } from "./index.ts";
import { envOwnerOf, type Sampling } from "./ruleset.ts";

const linux = FieldRegistry.linux();
const context = (): SeclContext => ({
	registry: linux,
	macros: new MacroStore(),
	variables: new VariableStore(),
});
const approvers = (expr: string, ctx = context()) => {
	const rule = compile(expr, ctx);
	return approversOf(rule)[rule.eventType];
};
const event = (type: string, values: Record<string, unknown>): Event =>
	eventFromValues(linux, { type, values, timestamp: 1e18 });

describe("approvers of a rule", () => {
	test("in with literals and globs: exact values and directory prefixes", () => {
		expect(approvers('open.file.path in ["/etc/shadow", ~"/etc/ssh/*"] && open.flags & O_CREAT > 0')).toEqual(
			{
				"open.file.path": [
					{ kind: "exact", value: "/etc/shadow" },
					{ kind: "prefix", value: "/etc/ssh/" },
				],
			},
		);
	});

	test("&&: each side's approvers are necessary; || keeps a field only when both sides have it", () => {
		expect(approvers('open.file.path == "/a" && process.comm == "cat"')).toEqual({
			"open.file.path": [{ kind: "exact", value: "/a" }],
			"process.comm": [{ kind: "exact", value: "cat" }],
		});
		expect(approvers('open.file.path == "/a" || open.file.path == "/b" && process.comm == "x"')).toEqual({
			"open.file.path": [
				{ kind: "exact", value: "/a" },
				{ kind: "exact", value: "/b" },
			],
		});
		expect(approvers('open.file.path == "/a" || process.comm == "cat"')).toEqual({});
	});

	test("negations, !=, not in, ranges, array fields and unanchored patterns give none", () => {
		expect(approvers('open.file.path != "/a"')).toEqual({});
		expect(approvers('!(open.file.path == "/a")')).toEqual({});
		expect(approvers('open.file.path not in ["/a"]')).toEqual({});
		expect(approvers("open.flags > 3")).toEqual({});
		expect(approvers('exec.argv in ["x"]')).toEqual({});
		expect(approvers('exec.comm =~ "*sh"')).toEqual({});
		expect(approvers('exec.args in [r"curl"]')).toEqual({});
	});

	test("patterns: literal prefixes, basenames of leading-star globs, anchored regexes", () => {
		expect(approvers('exec.comm =~ "python*"')).toEqual({
			"exec.comm": [{ kind: "prefix", value: "python" }],
		});
		expect(approvers('open.file.path =~ "*/bin/sh"')).toEqual({
			"open.file.path": [{ kind: "basename", value: "sh" }],
		});
		expect(approvers('exec.comm in [r"^(curl|wget)$"]')).toEqual({
			"exec.comm": [
				{ kind: "exact", value: "curl" },
				{ kind: "exact", value: "wget" },
			],
		});
		expect(approvers('exec.comm in ["a", ~"*b"]')).toEqual({});
	});

	test("ints, bools, constants and case-insensitive fields", () => {
		expect(approvers("bpf.cmd == BPF_PROG_LOAD")).toEqual({ "bpf.cmd": [{ kind: "exact", value: 5 }] });
		expect(approvers("connect.addr.port in [22, 2222]")).toEqual({
			"connect.addr.port": [
				{ kind: "exact", value: 22 },
				{ kind: "exact", value: 2222 },
			],
		});
		expect(approvers("load_module.loaded_from_memory")).toEqual({
			"load_module.loaded_from_memory": [{ kind: "exact", value: true }],
		});
		expect(approvers('dns.question.name == "API.x.COM"')).toEqual({
			"dns.question.name": [{ kind: "exact", value: "api.x.com", caseInsensitive: true }],
		});
	});

	test("conditions outside a register loop still approve", () => {
		expect(approvers('exec.comm == "sh" && process.ancestors[A].comm == "git"')).toEqual({
			"exec.comm": [{ kind: "exact", value: "sh" }],
		});
	});

	test("approvers are plain JSON", () => {
		const rule = compile('open.file.path in ["/a", ~"/b/*"]', context());
		expect(JSON.parse(JSON.stringify(approversOf(rule)))).toEqual(approversOf(rule));
	});
});

describe("rule sets", () => {
	const build = (rules: Record<string, string>) => {
		const ctx = context();
		const set = new RuleSet<string>(ctx);
		for (const [id, expr] of Object.entries(rules)) set.add(id, compile(expr, ctx), `payload:${id}`);
		return set;
	};
	const matched = (set: RuleSet<string>, e: Event) => {
		const out: string[] = [];
		set.evaluate(e, (id, payload) => {
			expect(payload).toBe(`payload:${id}`);
			out.push(id);
		});
		return out;
	};

	test("evaluate calls back every matching rule of the event's type, in add order", () => {
		const set = build({
			z_any_open: "open.flags >= 0",
			shadow: 'open.file.path == "/etc/shadow"',
			etc: 'open.file.path =~ "/etc/*"',
			exec: 'exec.comm == "cat"',
		});
		expect(matched(set, event("open", { "open.file.path": "/etc/shadow" }))).toEqual([
			"z_any_open",
			"shadow",
			"etc",
		]);
		expect(matched(set, event("open", { "open.file.path": "/tmp/x" }))).toEqual(["z_any_open"]);
		expect(matched(set, event("chmod", { "chmod.file.path": "/etc/shadow" }))).toEqual([]);
		expect([...set.eventTypes()].sort()).toEqual(["exec", "open"]);
	});

	test("approvers merge per event type; a rule without approvers on a field makes it all-pass", () => {
		const set = build({
			a: 'open.file.path == "/a" && process.comm == "x"',
			b: 'open.file.path in ["/b", ~"/c/*"]',
			c: 'exec.comm == "sh"',
		});
		expect(set.approvers()).toEqual({
			open: {
				"open.file.path": [
					{ kind: "exact", value: "/a" },
					{ kind: "exact", value: "/b" },
					{ kind: "prefix", value: "/c/" },
				],
			},
			exec: { "exec.comm": [{ kind: "exact", value: "sh" }] },
		});
		const open = build({ a: 'open.file.path == "/a"', b: "open.flags > 0" });
		expect(open.approvers()).toEqual({ open: {} });
	});

	test("duplicate ids and rules of another OS model are refused", () => {
		const set = build({ a: 'open.file.path == "/a"' });
		expect(() => set.add("a", compile('open.file.path == "/b"', context()), "")).toThrow(
			/already in the rule set/,
		);
		const win = FieldRegistry.windows();
		const winRule = compile('create.file.path == "c:/x"', {
			registry: win,
			macros: new MacroStore(),
			variables: new VariableStore(),
		});
		expect(() => set.add("w", winRule, "")).toThrow(/compiled for windows/);
	});

	test("the index is used: most rules are reached only through it", () => {
		const rules: Record<string, string> = {};
		for (let i = 0; i < 30; i++) rules[`r${i}`] = `open.file.path == "/f${i}" && open.flags >= 0`;
		rules.catchall = "open.flags >= 0";
		const set = build(rules);
		expect(set.stats().buckets.open).toEqual({
			rules: 31,
			indexed: 30,
			fields: ["open.file.path"],
			learned: false,
		});
		let evaluated = 0;
		const ctx = context();
		const counting = new RuleSet<null>(ctx);
		for (const [id, expr] of Object.entries(rules)) {
			const rule = compile(expr, ctx);
			const evaluate = (e: Event) => {
				evaluated++;
				return rule.evaluate(e);
			};
			counting.add(id, { ...rule, evaluate }, null);
		}
		const ids: string[] = [];
		counting.evaluate(event("open", { "open.file.path": "/f7" }), (id) => ids.push(id));
		expect(ids).toEqual(["r7", "catchall"]);
		expect(evaluated).toBe(2);
	});

	test("a callback may evaluate another event on the same rule set", () => {
		const set = build({ a: 'open.file.path == "/a"', b: 'open.file.path =~ "/a*"' });
		const seen: string[] = [];
		set.evaluate(event("open", { "open.file.path": "/a" }), (id) => {
			seen.push(id);
			if (id === "a")
				set.evaluate(event("open", { "open.file.path": "/ab" }), (inner) => seen.push(`inner:${inner}`));
		});
		expect(seen).toEqual(["a", "inner:b", "b"]);
	});
});

describe("what the index looks up", () => {
	/** A rule set that records which rules it evaluates. */
	const counting = (rules: Record<string, string>, sampling?: Sampling, ctx = context()) => {
		const set = new RuleSet<null>(ctx, sampling ? { sampling } : {});
		const evaluated: string[] = [];
		for (const [id, expr] of Object.entries(rules)) {
			const rule = compile(expr, ctx);
			const evaluate = (e: Event) => {
				evaluated.push(id);
				return rule.evaluate(e);
			};
			set.add(id, { ...rule, evaluate }, null);
		}
		return (e: Event) => {
			evaluated.length = 0;
			const matched: string[] = [];
			set.evaluate(e, (id) => matched.push(id));
			return { evaluated: [...evaluated], matched };
		};
	};
	const many = (n: number, rule: (i: number) => string) =>
		Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}`, rule(i)]));
	const exec = (values: Record<string, unknown>) => event("exec", values);
	/** Seeded random text over a small alphabet, so that texts nest and share edges. */
	const randomText = (seed: number) => {
		const r = seededRandom(seed);
		const word = (min: number, max: number) => randomWord(r, "ab.", min, max);
		return { r, word };
	};

	test("with more than 32 rules of a type: the keyed rules found and the unkeyed ones run, in add order, each event afresh", () => {
		// 100 rules: every 7th has no key (runs on every event); the others are keyed on a name
		const rules = many(100, (i) =>
			i % 7 === 0 ? `open.flags >= ${i} && open.flags <= ${i}` : `open.file.name == "f${i % 40}"`,
		);
		const run = counting(rules);
		const unkeyed = Object.keys(rules).filter((_, i) => i % 7 === 0);
		const keyed = (name: string) => Object.keys(rules).filter((_, i) => i % 7 !== 0 && name === `f${i % 40}`);
		const inOrder = (ids: string[]) => [...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
		for (const [name, flags] of [
			["f31", 63],
			["f3", 0],
			["nothing", 98],
			["f0", 1],
		] as const) {
			const { evaluated, matched } = run(
				event("open", { "open.file.path": `/d/${name}`, "open.flags": flags }),
			);
			expect(evaluated).toEqual(inOrder([...unkeyed, ...keyed(name)]));
			expect(matched).toEqual(inOrder([...keyed(name), ...unkeyed.filter((id) => id === `r${flags}`)]));
		}
		// rules 31 (keyed) and 63 (unkeyed) sit on the top bit of their word of marks
		const top = run(event("open", { "open.file.path": "/d/f31", "open.flags": 63 }));
		expect(top.matched).toEqual(["r31", "r63", "r71"]);
	});

	test("a rule that is A || B on two fields is found under either field", () => {
		const run = counting(many(30, (i) => `exec.file.name == "tool${i}" || process.args_flags == "flag${i}"`));
		expect(run(exec({ "exec.file.name": "tool3" }))).toEqual({ evaluated: ["r3"], matched: ["r3"] });
		expect(run(exec({ "exec.file.name": "ls", "exec.argv": ["--flag7", "x"] }))).toEqual({
			evaluated: ["r7"],
			matched: ["r7"],
		});
		expect(run(exec({ "exec.file.name": "ls", "exec.argv": ["-l"] }))).toEqual({
			evaluated: [],
			matched: [],
		});
	});

	test("array fields are looked up element by element", () => {
		const run = counting(many(30, (i) => `exec.envs in ["TOKEN_${i}"] && exec.comm != ""`));
		expect(run(exec({ "exec.comm": "x", "exec.envp": ["PATH=/bin", "TOKEN_5=secret"] }))).toEqual({
			evaluated: ["r5"],
			matched: ["r5"],
		});
		expect(run(exec({ "exec.comm": "x", "exec.envp": ["PATH=/bin"] }))).toEqual({
			evaluated: [],
			matched: [],
		});
	});

	test("env names are looked up inside their NAME=value entries, literal names first", () => {
		const run = counting({
			...many(30, (i) => `exec.envs in ["TOKEN_${i}"] && exec.comm != ""`),
			proxy: 'exec.envs in [~"*_PROXY"]',
			tunables: 'exec.envs in [~"*TUNABLES*"]',
			preload: 'exec.envs in [~"LD_PRELOAD=*"]',
		});
		const envp = (...entries: string[]) => exec({ "exec.comm": "x", "exec.envp": entries });
		// a name is the text before the first `=`, or the whole entry
		expect(run(envp("TOKEN_5=a=b", "TOKEN_7", "X=TOKEN_9"))).toEqual({
			evaluated: ["r5", "r7"],
			matched: ["r5", "r7"],
		});
		expect(run(envp("TOKEN_55=1", "=TOKEN_5", "TOKEN_"))).toEqual({ evaluated: [], matched: [] });
		// suffixes, substrings and prefixes stop where the name does
		expect(run(envp("HTTPS_PROXY=http://p", "GLIBC_TUNABLES=glibc.x"))).toEqual({
			evaluated: ["proxy", "tunables"],
			matched: ["proxy", "tunables"],
		});
		expect(run(envp("A=HTTPS_PROXY", "B=GLIBC_TUNABLES", "LD_PRELOAD=/tmp/x.so"))).toEqual({
			evaluated: [],
			matched: [],
		});
		// names given as such (a capture's `exec.envs`) are what the rules see
		expect(run(exec({ "exec.comm": "x", "exec.envs": ["TOKEN_3"], "exec.envp": ["TOKEN_4=1"] }))).toEqual({
			evaluated: ["r3"],
			matched: ["r3"],
		});
	});

	test("env names and name prefixes only: each entry is walked up to its `=`, no further", () => {
		const run = counting({
			...many(30, (i) => `exec.envs in ["TOKEN_${i}"] && exec.comm != ""`),
			aws: 'exec.envs in [~"AWS_*"]',
		});
		const envp = (...entries: string[]) => exec({ "exec.comm": "x", "exec.envp": entries });
		expect(run(envp("TOKEN_5=a=b", "TOKEN_7", "AWS_KEY=1"))).toEqual({
			evaluated: ["r5", "r7", "aws"],
			matched: ["r5", "r7", "aws"],
		});
		// a longer name, a name in a value, a shorter name, an empty name
		expect(run(envp("TOKEN_55=1", "X=TOKEN_9", "AWS=AWS_1", "TOKEN_=TOKEN_3", "=TOKEN_5"))).toEqual({
			evaluated: [],
			matched: [],
		});
	});

	test("a rule on env names alone is worth a lookup: the index reads the entries, not derived names", () => {
		const set = new RuleSet<null>(context());
		set.add("preload", compile('exec.envs in [~"LD_PRELOAD=*/tmp/*"]', context()), null);
		expect(set.stats().buckets.exec).toEqual({ rules: 1, indexed: 1, fields: ["exec.envs"], learned: false });
	});

	test("on exec events exec.x and process.x share one lookup; an event where they differ still matches", () => {
		const set = new RuleSet<null>(context());
		for (let i = 0; i < 20; i++) {
			set.add(`e${i}`, compile(`exec.args_flags == "e${i}" && exec.comm != ""`, context()), null);
			set.add(`p${i}`, compile(`process.args_flags == "p${i}" && exec.comm != ""`, context()), null);
		}
		expect(set.stats().buckets.exec?.fields).toHaveLength(1);
		const ids = (e: Event) => {
			const out: string[] = [];
			set.evaluate(e, (id) => out.push(id));
			return out;
		};
		const proc = (argv: string[]) => ({ comm: "x", argv });
		const same = proc(["--e3", "--p5"]);
		expect(ids({ type: "exec", timestamp: 1, flags: 0, process: same, exec: same })).toEqual(["e3", "p5"]);
		// exec and process apart: each rule reads its own object
		const apart: Event = {
			type: "exec",
			timestamp: 1,
			flags: 0,
			process: proc(["--e4"]),
			exec: proc(["--p6"]),
		};
		expect(ids(apart)).toEqual([]);
		const crossed: Event = {
			type: "exec",
			timestamp: 1,
			flags: 0,
			process: proc(["--p7"]),
			exec: proc(["--e8"]),
		};
		expect(ids(crossed)).toEqual(["p7", "e8"]);
	});

	test("every env-names field reads the process its name points at", () => {
		const fields = [...linux.fields()].filter((f) => envOwnerOf(f) !== undefined);
		expect(fields.map((f) => f.name)).toContain("process.parent.envs");
		for (const f of fields) {
			const e = { type: f.eventType === "*" ? "open" : f.eventType, timestamp: 0, flags: 0, process: {} };
			setPath(e, envOwnerOf(f) as string[], { envp: ["A=1", "B"] });
			expect({ field: f.name, names: f.get(e) }).toEqual({ field: f.name, names: ["A", "B"] });
		}
	});

	test("unanchored patterns are looked up by suffix and by substring", () => {
		const dns = counting(many(30, (i) => `dns.question.name in [~"*.evil${i}.io"]`));
		expect(dns(event("dns", { "dns.question.name": "a.b.EVIL4.io" }))).toEqual({
			evaluated: ["r4"],
			matched: ["r4"],
		});
		expect(dns(event("dns", { "dns.question.name": "evil4.io.example.com" }))).toEqual({
			evaluated: [],
			matched: [],
		});
		const args = counting(many(30, (i) => `exec.args in [~"*--token=mark${i}x*"]`));
		expect(args(exec({ "exec.argv": ["run", "--token=mark12xyz"] }))).toEqual({
			evaluated: ["r12"],
			matched: ["r12"],
		});
		expect(args(exec({ "exec.argv": ["run", "--token=mark1"] }))).toEqual({ evaluated: [], matched: [] });
	});

	test("suffixes ending alike are told apart from the end of the value, nested ones all found", () => {
		const run = counting({
			...many(30, (i) => `dns.question.name in [~"*.pool${i}.com"]`),
			com: 'dns.question.name in [~"*.com"]',
			short: 'dns.question.name in [~"*m"]',
		});
		const dns = (name: string) => run(event("dns", { "dns.question.name": name }));
		expect(dns("eu.POOL12.com")).toEqual({
			evaluated: ["r12", "com", "short"],
			matched: ["r12", "com", "short"],
		});
		expect(dns("pool12.com")).toEqual({ evaluated: ["com", "short"], matched: ["com", "short"] });
		expect(dns("a.pool1.co")).toEqual({ evaluated: [], matched: [] });
		expect(dns("m")).toEqual({ evaluated: ["short"], matched: ["short"] });
	});

	test("prefixes and suffixes of any length, nested or not, are all found, and only they", () => {
		// lengths past the point where the generated code compares an edge by a loop rather than
		// character by character
		const { r, word } = randomText(7);
		for (let round = 0; round < 20; round++) {
			const texts = [...new Set(Array.from({ length: 40 }, () => word(1, 40)))];
			const rules = Object.fromEntries(
				texts.flatMap((t, i) => [
					[`p${i}`, `exec.comm =~ "${t}*"`],
					[`s${i}`, `exec.comm =~ "*${t}"`],
				]),
			);
			const run = counting(rules);
			for (let v = 0; v < 40; v++) {
				// values grown from the texts, so that long edges are followed to their end
				const base = texts[Math.floor(r() * texts.length)] as string;
				const value = r() < 0.5 ? `${base}${word(0, 6)}` : `${word(0, 6)}${base}`;
				const want = texts.flatMap((t, i) => [
					...(value.startsWith(t) ? [`p${i}`] : []),
					...(value.endsWith(t) ? [`s${i}`] : []),
				]);
				const order = Object.keys(rules);
				want.sort((a, b) => order.indexOf(a) - order.indexOf(b));
				expect({ value, ...run(exec({ "exec.comm": value })) }).toEqual({
					value,
					evaluated: want,
					matched: want,
				});
			}
		}
	});

	test("substrings that start with two pairs of characters: the value searched for the pairs first, then every one found", () => {
		const { r, word } = randomText(9);
		for (let round = 0; round < 20; round++) {
			const texts = [...new Set(Array.from({ length: 30 }, () => `${r() < 0.5 ? "ab" : ".a"}${word(0, 5)}`))];
			const rules = Object.fromEntries(texts.map((t, i) => [`r${i}`, `exec.comm =~ "*${t}*"`]));
			const run = counting(rules);
			for (let v = 0; v < 40; v++) {
				const value =
					r() < 0.5 ? word(0, 20) : `${word(0, 6)}${texts[Math.floor(r() * texts.length)]}${word(0, 6)}`;
				const want = Object.keys(rules).filter((_, i) => value.includes(texts[i] as string));
				expect({ value, ...run(exec({ "exec.comm": value })) }).toEqual({
					value,
					evaluated: want,
					matched: want,
				});
			}
		}
	});

	test("a test of bits of an integer field is a key: the mask of bits one of which must be set", () => {
		const masks = (expr: string) =>
			indexKeysOf(compile(expr, context()).ir)
				.filter((k) => k.also === undefined)
				.flatMap((k) =>
					[...k.fields].flatMap(([name, f]) => f.values.map((v) => `${name} ${v.kind} ${v.value}`)),
				);
		expect(masks("open.flags & O_CREAT > 0")).toEqual(["open.flags mask 64"]);
		expect(masks("open.flags & (O_CREAT | O_TRUNC) != 0")).toEqual(["open.flags mask 576"]);
		expect(masks("O_TRUNC & open.flags >= 1")).toEqual(["open.flags mask 512"]);
		// not a necessary condition of bits set: none clear, compared with 0 only, or no constant
		expect(masks("open.flags & O_CREAT == 0")).toEqual([]);
		expect(masks("open.flags & O_CREAT >= 0")).toEqual([]);
		expect(masks("open.flags & open.mode > 0")).toEqual([]);
	});

	test("a rule on bits of a flag field runs only on events with one of them set", () => {
		const run = counting({
			...many(30, (i) => `open.file.path == "/f${i}"`),
			created: "open.flags & O_CREAT > 0 && open.file.mode > 5",
		});
		const open = (flags: number) =>
			run(event("open", { "open.file.path": "/x", "open.flags": flags, "open.file.mode": 6 }));
		expect(open(0)).toEqual({ evaluated: [], matched: [] });
		expect(open(64 | 1)).toEqual({ evaluated: ["created"], matched: ["created"] });
	});

	test("a rule that is A && B with a key on each side runs only when both keys find it", () => {
		// each rule needs its directory and a written file: neither alone is enough to run it
		const run = counting(
			many(30, (i) => `open.file.path =~ "/d${i}/*" && open.flags & (O_WRONLY | O_RDWR) > 0`),
		);
		const open = (path: string, flags: number) =>
			run(event("open", { "open.file.path": path, "open.flags": flags }));
		expect(open("/d3/x", 0)).toEqual({ evaluated: [], matched: [] });
		expect(open("/elsewhere/x", 1)).toEqual({ evaluated: [], matched: [] });
		expect(open("/d3/x", 2)).toEqual({ evaluated: ["r3"], matched: ["r3"] });
		// the pair's marks are reset between events
		expect(open("/d4/x", 0)).toEqual({ evaluated: [], matched: [] });
		// more than 32 rules: pairs in the second word of marks too
		const wide = counting(many(70, (i) => `open.file.path =~ "/d${i}/*" && open.flags & O_CREAT > 0`));
		const created = (path: string, flags: number) =>
			wide(event("open", { "open.file.path": path, "open.flags": flags }));
		expect(created("/d65/x", 64)).toEqual({ evaluated: ["r65"], matched: ["r65"] });
		expect(created("/d65/x", 1)).toEqual({ evaluated: [], matched: [] });
		expect(created("/d1/x", 64)).toEqual({ evaluated: ["r1"], matched: ["r1"] });
	});

	/** A plugin's event type `probe` with fields `probe.<name>` read from the event's own properties. */
	const probes = (fields: Record<string, "string" | "int">, read?: (name: string) => void) => {
		const registry = FieldRegistry.linux();
		registry.registerEventType({ name: "probe", doc: "test" }, "test");
		for (const [name, type] of Object.entries(fields)) {
			const get = (e: Event) => {
				read?.(name);
				return (e as unknown as Record<string, unknown>)[name] ?? (type === "int" ? 0 : "");
			};
			registry.registerField({ name: `probe.${name}`, type, eventType: "probe", doc: name, get }, "test");
		}
		return { ...context(), registry };
	};
	const probe = (values: Record<string, unknown>) =>
		({ type: "probe", timestamp: 1, flags: 0, process: {}, ...values }) as Event;

	test("the second key of a pair is read and looked up only on events its first key passes", () => {
		let reads = 0;
		const ctx = probes({ a: "string", b: "string" }, (name) => {
			if (name === "b") reads++;
		});
		const run = counting(
			many(3, (i) => `probe.a == "a${i}" && probe.b in ["b${i}", "c${i}", "d${i}"]`),
			undefined,
			ctx,
		);
		expect(run(probe({ a: "x", b: "b1" }))).toEqual({ evaluated: [], matched: [] });
		expect(run(probe({ a: "x", b: "b2" }))).toEqual({ evaluated: [], matched: [] });
		expect(reads).toBe(0);
		expect(run(probe({ a: "a1", b: "b2" }))).toEqual({ evaluated: [], matched: [] });
		expect(reads).toBe(1);
		expect(run(probe({ a: "a1", b: "c1" }))).toEqual({ evaluated: ["r1"], matched: ["r1"] });
	});

	test("after a sample of its events, a bucket indexes its rules by the keys that passed least", () => {
		// an exact integer looks selective to the static estimates, more than a short prefix: the
		// rules are first indexed by `probe.kind`, which every event of this stream passes; once
		// the sample shows it, they are indexed by their names
		const run = counting(
			many(20, (i) => `probe.kind == 1 && probe.name =~ "n${i}*"`),
			{ every: 2, size: 50 },
			probes({ kind: "int", name: "string" }),
		);
		let before = 0;
		for (let i = 0; i < 100; i++) before += run(probe({ kind: 1, name: `other${i}` })).evaluated.length;
		let after = 0;
		for (let i = 0; i < 100; i++) after += run(probe({ kind: 1, name: `other${i}` })).evaluated.length;
		expect(before).toBe(100 * 20);
		expect(after).toBe(0);
		// the plan changed, not the rules
		expect(run(probe({ kind: 1, name: "n7-x" }))).toEqual({ evaluated: ["r7"], matched: ["r7"] });
		expect(run(probe({ kind: 2, name: "n7-x" })).matched).toEqual([]);
	});

	test("a field that cannot be read on an event stops the sample, not the rules", () => {
		// `probe.bad` throws unless `probe.a` is "x"; the rule reads it only then, the sample on
		// every event
		const registry = FieldRegistry.linux();
		registry.registerEventType({ name: "probe", doc: "test" }, "test");
		const read = (e: Event) => (e as unknown as Record<string, string>).a ?? "";
		registry.registerField(
			{ name: "probe.a", type: "string", eventType: "probe", doc: "a", get: read },
			"test",
		);
		const bad = (e: Event) => {
			if (read(e) !== "x") throw new Error("no b here");
			return (e as unknown as Record<string, string>).b ?? "";
		};
		registry.registerField(
			{ name: "probe.bad", type: "string", eventType: "probe", doc: "bad", get: bad },
			"test",
		);
		const set = new RuleSet<null>({ ...context(), registry }, { sampling: { every: 1, size: 10 } });
		set.add("r", compile('probe.a == "x" && probe.bad == "y"', { ...context(), registry }), null);
		const ids: string[] = [];
		for (let i = 0; i < 20; i++) set.evaluate(probe({ a: `z${i}` }), (id) => ids.push(id));
		set.evaluate(probe({ a: "x", b: "y" }), (id) => ids.push(id));
		expect(ids).toEqual(["r"]);
		expect(set.stats().buckets.probe?.learned).toBe(false);
	});

	test("addresses are looked up in canonical form (IPv4-mapped IPv6 as IPv4)", () => {
		const run = counting(many(30, (i) => `connect.addr.ip == 10.0.0.${i}`));
		expect(run(event("connect", { "connect.addr.ip": "::ffff:10.0.0.5" }))).toEqual({
			evaluated: ["r5"],
			matched: ["r5"],
		});
	});

	test("a rule whose best key passes most events runs on every event", () => {
		const set = new RuleSet<null>(context());
		for (let i = 0; i < 10; i++)
			set.add(
				`r${i}`,
				compile(`load_module.loaded_from_memory && load_module.name == "m${i}"`, context()),
				null,
			);
		set.add("weak", compile("load_module.loaded_from_memory && load_module.args_truncated", context()), null);
		const stats = set.stats().buckets.load_module;
		expect(stats?.rules).toBe(11);
		expect(stats?.indexed).toBe(10);
		expect(stats?.fields).toEqual(["load_module.name"]);
	});

	test("a callback that throws leaves the rule set usable", () => {
		const set = new RuleSet<string>(context());
		set.add("a", compile('open.file.path == "/a"', context()), "a");
		expect(() =>
			set.evaluate(event("open", { "open.file.path": "/a" }), () => {
				throw new Error("boom");
			}),
		).toThrow("boom");
		const ids: string[] = [];
		set.evaluate(event("open", { "open.file.path": "/a" }), (id) => ids.push(id));
		set.evaluate(event("open", { "open.file.path": "/b" }), (id) => ids.push(id));
		expect(ids).toEqual(["a"]);
	});
});
