import { describe, expect, test } from "bun:test";
import type { Event, ProcessContext } from "../model/types.ts";
import { VariableStore } from "./variables.ts";

const S = 1e9;
const at = (
	timestamp: number,
	process: ProcessContext = { pid: 1, created_at: 100 },
	extra: Partial<Event> = {},
): Event => ({
	type: "exec",
	timestamp,
	flags: 0,
	process,
	...extra,
});

describe("values and operations", () => {
	test("unset variables read as their type's zero value", () => {
		const store = new VariableStore();
		const e = at(0);
		expect(store.declare({ name: "s", type: "string" }).get(e)).toBe("");
		expect(store.declare({ name: "i", type: "int" }).get(e)).toBe(0);
		expect(store.declare({ name: "b", type: "bool" }).get(e)).toBe(false);
		expect(store.declare({ name: "ip", type: "ip" }).get(e)).toBe("");
		expect(store.declare({ name: "a", type: "string", array: true }).get(e)).toEqual([]);
	});

	test("append: ints add up, strings concatenate, arrays gain values without duplicates", () => {
		const store = new VariableStore();
		const e = at(0);
		const n = store.declare({ name: "n", type: "int" });
		n.append(e, 2);
		n.append(e, 3);
		expect(n.get(e)).toBe(5);
		const s = store.declare({ name: "s", type: "string" });
		s.append(e, "a");
		s.append(e, "b");
		expect(s.get(e)).toBe("ab");
		const a = store.declare({ name: "a", type: "string", array: true });
		a.append(e, "x");
		a.append(e, ["y", "x"]);
		expect(a.get(e)).toEqual(["y", "x"]);
		a.set(e, ["z"]);
		expect(a.get(e)).toEqual(["z"]);
	});

	test("an array keeps at most `size` values, dropping the least recently added", () => {
		const store = new VariableStore();
		const e = at(0);
		const a = store.declare({ name: "a", type: "int", array: true, size: 3 });
		for (const v of [1, 2, 3]) a.append(e, v);
		a.append(e, 1); // 1 is now the most recent
		a.append(e, 4); // drops 2
		expect(a.get(e)).toEqual([3, 1, 4]);
		const d = store.declare({ name: "d", type: "int", array: true });
		for (let i = 0; i < 150; i++) d.append(e, i);
		expect((d.get(e) as number[]).length).toBe(100);
		expect((d.get(e) as number[])[0]).toBe(50);
	});

	test("ttl counts in event time; array elements expire one by one", () => {
		const store = new VariableStore();
		const v = store.declare({ name: "v", type: "string", ttl: 10 * S });
		v.set(at(0), "x");
		expect(v.get(at(9 * S))).toBe("x");
		expect(v.get(at(10 * S))).toBe("");
		const a = store.declare({ name: "a", type: "string", array: true, ttl: 10 * S });
		a.append(at(0), "old");
		a.append(at(5 * S), "new");
		expect(a.get(at(12 * S))).toEqual(["new"]);
		expect(a.get(at(20 * S))).toEqual([]);
		// an int append after expiry starts again from zero
		const n = store.declare({ name: "n", type: "int", ttl: S });
		n.append(at(0), 5);
		n.append(at(2 * S), 1);
		expect(n.get(at(2 * S))).toBe(1);
	});

	test("values are type-checked", () => {
		const store = new VariableStore();
		const n = store.declare({ name: "n", type: "int" });
		expect(() => n.set(at(0), "x")).toThrow(TypeError);
		expect(() => n.set(at(0), [1])).toThrow(/holds one int/);
	});

	test("built-ins cannot be set", () => {
		const store = new VariableStore();
		expect(() => store.get("process.pid")?.set(at(0), 1)).toThrow(/built-in/);
		expect(store.get("process.pid")?.get(at(0, { pid: 77 }))).toBe(77);
	});
});

describe("scopes", () => {
	test("process scope is keyed by pid and start time: a reused pid does not inherit old values", () => {
		const store = new VariableStore();
		const v = store.declare({ name: "v", type: "string", scope: "process" });
		v.set(at(0, { pid: 5, created_at: 1 }), "first");
		expect(v.get(at(1, { pid: 5, created_at: 1 }))).toBe("first");
		expect(v.get(at(1, { pid: 5, created_at: 2 }))).toBe("");
		expect(v.get(at(1, { pid: 6, created_at: 1 }))).toBe("");
		expect(store.scopeKey("process", at(0, { pid: 5, created_at: 1 }))).toBe(VariableStore.processKey(5, 1));
	});

	test("container and cgroup scopes use the event's ids; no id, no value", () => {
		const store = new VariableStore();
		const c = store.declare({ name: "c", type: "int", scope: "container" });
		const g = store.declare({ name: "g", type: "int", scope: "cgroup" });
		const inC1 = at(0, { pid: 1 }, { container: { id: "c1" }, cgroup: { id: "g1" } });
		c.set(inC1, 1);
		g.set(inC1, 2);
		expect(c.get(at(0, { pid: 2, container: { id: "c1" } }))).toBe(1);
		expect(c.get(at(0, { pid: 2 }, { container: { id: "c2" } }))).toBe(0);
		expect(g.get(at(0, { pid: 3, cgroup: { id: "g1" } }))).toBe(2);
		const host = at(0, { pid: 9 });
		c.set(host, 5);
		expect(c.get(host)).toBe(0);
	});

	test("inherited process variables: a process without its own value reads its nearest ancestor's", () => {
		const store = new VariableStore();
		const key = store.declare({ name: "key", type: "string", scope: "process", inherited: true });
		const plain = store.declare({ name: "plain", type: "string", scope: "process" });
		const grandparent: ProcessContext = { pid: 1, created_at: 1 };
		const parent: ProcessContext = { pid: 2, created_at: 2 };
		const child: ProcessContext = { pid: 3, created_at: 3, ancestors: [parent, grandparent] };
		key.set(at(0, grandparent), "gp");
		plain.set(at(0, grandparent), "gp");
		expect(key.get(at(1, child))).toBe("gp");
		expect(plain.get(at(1, child))).toBe("");
		key.set(at(0, parent), "p");
		expect(key.get(at(2, child))).toBe("p");
		key.set(at(0, child), "own");
		expect(key.get(at(3, child))).toBe("own");
	});

	test("fork copies inherited values: the child keeps the value it forked with, even after its parent exits", () => {
		const store = new VariableStore();
		const key = store.declare({ name: "key", type: "string", scope: "process", inherited: true });
		const tags = store.declare({
			name: "tags",
			type: "string",
			array: true,
			scope: "process",
			inherited: true,
		});
		const plain = store.declare({ name: "plain", type: "string", scope: "process" });
		const parent: ProcessContext = { pid: 2, created_at: 2 };
		const child: ProcessContext = { pid: 3, created_at: 3, ancestors: [parent] };
		key.set(at(0, parent), "before fork");
		tags.set(at(0, parent), ["a"]);
		plain.set(at(0, parent), "not inherited");
		store.fork(child, parent);
		key.set(at(1, parent), "after fork");
		tags.append(at(1, parent), ["b"]);
		expect(key.get(at(2, child))).toBe("before fork");
		expect(tags.get(at(2, child))).toEqual(["a"]);
		expect(plain.get(at(2, child))).toBe("");
		store.freeScope("process", VariableStore.processKey(2, 2));
		expect(key.get(at(3, child))).toBe("before fork");
		// a child forked while the parent had no value does not pick one up later
		const late: ProcessContext = { pid: 4, created_at: 4, ancestors: [child] };
		const orphanParent: ProcessContext = { pid: 5, created_at: 5 };
		const second: ProcessContext = { pid: 6, created_at: 6, ancestors: [orphanParent] };
		store.fork(second, orphanParent);
		key.set(at(4, orphanParent), "too late");
		expect(key.get(at(5, second))).toBe("");
		expect(key.get(at(5, late))).toBe("before fork");
	});

	test("a set action may name another process's scope (scope_field)", () => {
		const store = new VariableStore();
		const v = store.declare({ name: "v", type: "string", scope: "process" });
		v.set(at(0, { pid: 1 }), "for 42", VariableStore.processKey(42, 7));
		expect(v.get(at(0, { pid: 42, created_at: 7 }))).toBe("for 42");
	});

	test("freeScope drops a process's values", () => {
		const store = new VariableStore();
		const v = store.declare({ name: "v", type: "int", scope: "process" });
		const e = at(0, { pid: 9, created_at: 9 });
		v.set(e, 1);
		expect(store.scopeCounts().process).toBe(1);
		store.freeScope("process", store.scopeKey("process", e) as string);
		expect(v.get(e)).toBe(0);
		expect(store.scopeCounts().process).toBe(0);
		v.set(e, 2);
		expect(v.get(e)).toBe(2);
	});
});

describe("serialization", () => {
	test("lists set, non-private values by scope; built-ins and private ones are left out", () => {
		const store = new VariableStore();
		const e = at(0, { pid: 4, created_at: 4 }, { container: { id: "c" } });
		store.declare({ name: "g", type: "string" }).set(e, "global");
		store.declare({ name: "p", type: "int", scope: "process" }).set(e, 3);
		store.declare({ name: "secret", type: "string", scope: "process", private: true }).set(e, "x");
		store.declare({ name: "tags", type: "string", array: true, scope: "container" }).append(e, ["a", "b"]);
		store.declare({ name: "unset", type: "string" });
		expect(store.serializable(e)).toEqual({
			global: { g: "global" },
			process: { p: 3 },
			container: { tags: ["a", "b"] },
		});
	});
});
