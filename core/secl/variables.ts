/**
 * @module SECL variables: the values `set` actions store and rules read as `${name}`,
 * `${process.name}`, `${container.name}` or `${cgroup.name}`, plus the built-ins
 * `${process.pid}` and `${builtins.uuid4}`.
 *
 * A variable is declared once with its type (string, int, bool, IP, or an array of one),
 * scope, array cap (`size`, least recently added dropped first), `ttl` (event time, ns),
 * `inherited` (a forked child starts with a copy of its parent's value, see
 * {@link VariableStore.fork}; a process the store never saw fork reads its nearest ancestor's)
 * and `private`
 * (never serialized). Scoped values live under a scope key — a process is `pid:created_at`,
 * a container its id, a cgroup its id — and are freed with {@link VariableStore.freeScope}. An
 * unset or expired variable reads as its type's zero value (`""`, `0`, `false`, `[]`).
 *
 * When to use: one store per rule set; the policy layer declares every `set` action's variable
 * before compiling rules (so `${x}` type-checks), the rule engine sets values when rules match,
 * copies inherited values on fork and frees process scopes on exit.
 */

import type { Event, ProcessContext } from "../model/types.ts";
import type { FieldRegistryView } from "../sdk.ts";
import type { Constants } from "./constants.ts";
import { fail } from "./diagnostics.ts";

export type VariableScope = "global" | "process" | "container" | "cgroup";
export type VariableType = "string" | "int" | "bool" | "ip";
export type VariableValue =
	| string
	| number
	| boolean
	| readonly string[]
	| readonly number[]
	| readonly boolean[];

export interface VariableDefinition {
	/** The name as declared in the `set` action, without scope (`correlation_key`). */
	readonly name: string;
	readonly type: VariableType;
	readonly array?: boolean;
	/** Default `global`. */
	readonly scope?: VariableScope;
	/** Array cap; the least recently added values go first. Default 100. */
	readonly size?: number;
	/** Lifetime of a value in nanoseconds of event time; for arrays, of each element. */
	readonly ttl?: number;
	/** Process scope: a process without its own value reads its nearest ancestor's. */
	readonly inherited?: boolean;
	/** Never serialized with events. */
	readonly private?: boolean;
}

/** Values of the serializable variables for one event, grouped by scope, keyed by bare name. */
export type ScopedVariables = Partial<Record<VariableScope, Record<string, VariableValue>>>;

/** One variable, resolved once at compile time and read per event. */
export interface Variable {
	/** As written between `${` and `}`: `x`, `process.x`. */
	readonly ref: string;
	readonly type: VariableType;
	readonly array: boolean;
	readonly scope: VariableScope;
	/** `process.pid` and `builtins.uuid4`: read-only, never serialized. */
	readonly builtin: boolean;
	readonly definition: VariableDefinition;
	/** The value for this event (zero value when unset or expired). */
	get(event: Event): VariableValue;
	/**
	 * Replace the value. `key` overrides the event's scope key (a `set` action with
	 * `scope_field` names another process: pass `VariableStore.processKey(pid, createdAt)`).
	 */
	set(event: Event, value: VariableValue, key?: string): void;
	/** Add: ints add up, strings concatenate, arrays gain the values (deduplicated, capped). */
	append(event: Event, value: VariableValue, key?: string): void;
}

const DEFAULT_SIZE = 100;
const REF = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SCOPES: readonly VariableScope[] = ["global", "process", "container", "cgroup"];

type Scalar = string | number | boolean;
interface ScalarSlot {
	value: Scalar;
	expires: number;
}
/** Insertion order is recency order: re-adding moves a value to the end. */
type ArraySlot = Map<Scalar, number>;
type Slot = ScalarSlot | ArraySlot;

const zero = (type: VariableType): Scalar => (type === "int" ? 0 : type === "bool" ? false : "");

export class VariableStore {
	readonly #vars = new Map<string, StoredVariable>();
	readonly #builtins = new Map<string, Variable>();
	/** Some process variable is inherited: forks copy values. */
	#hasInherited = false;
	/** scope → scope key → variable name → slot (`global` uses the key ""). */
	readonly #scopes = new Map<VariableScope, Map<string, Map<string, Slot>>>(
		SCOPES.map((s) => [s, new Map()]),
	);
	readonly #memo: {
		event: Event | undefined;
		process: ProcessContext | undefined;
		known: number;
		keys: Partial<Record<VariableScope, string | undefined>>;
		ancestors: (string | undefined)[] | undefined;
	} = { event: undefined, process: undefined, known: 0, keys: {}, ancestors: undefined };

	constructor() {
		this.#builtins.set(
			"process.pid",
			builtin("process.pid", "int", (e) => e.process?.pid ?? 0),
		);
		this.#builtins.set(
			"builtins.uuid4",
			builtin("builtins.uuid4", "string", () => crypto.randomUUID()),
		);
	}

	/** The scope key of a process (`pid:created_at`). */
	static processKey(pid: number, createdAt = 0): string {
		return `${pid}:${createdAt}`;
	}

	/**
	 * Declare a variable (idempotent for the same type). Throws an `invalid_variable` SeclError
	 * for a bad name, a type different from an earlier declaration, or — when `against` is given —
	 * a name that is a field, a constant or a built-in.
	 */
	declare(
		def: VariableDefinition,
		against?: { registry?: FieldRegistryView; constants?: Constants },
	): Variable {
		const scope = def.scope ?? "global";
		const ref = scope === "global" ? def.name : `${scope}.${def.name}`;
		const bad = (message: string): never => fail(ref, "invalid_variable", message, 0, ref.length);
		if (!REF.test(def.name)) bad(`invalid variable name "${def.name}" (letters, digits and _)`);
		if (!SCOPES.includes(scope)) bad(`unknown variable scope "${scope}"`);
		if (def.inherited && scope !== "process")
			bad(`variable "${ref}": only process-scoped variables can be inherited`);
		if (def.size !== undefined && !(Number.isInteger(def.size) && def.size > 0))
			bad(`variable "${ref}": size must be a positive integer`);
		if (def.ttl !== undefined && !(def.ttl > 0)) bad(`variable "${ref}": ttl must be positive`);
		if (this.#builtins.has(ref)) bad(`variable "${ref}" is a built-in variable`);
		if (against?.registry?.field(ref)) bad(`variable "${ref}" has the name of a field`);
		if (against?.constants?.has(def.name) || against?.constants?.has(ref))
			bad(`variable "${ref}" has the name of a constant`);
		const existing = this.#vars.get(ref);
		if (existing) {
			if (existing.type !== def.type || existing.array !== (def.array ?? false)) {
				bad(
					`variable "${ref}" is already declared as ${describe(existing.definition)}, not ${describe(def)}`,
				);
			}
			return existing;
		}
		const v = new StoredVariable(ref, scope, def, this);
		this.#vars.set(ref, v);
		if (def.inherited) this.#hasInherited = true;
		return v;
	}

	/** The variable `${ref}` (declared or built-in). */
	get(ref: string): Variable | undefined {
		return this.#vars.get(ref) ?? this.#builtins.get(ref);
	}

	/** Declared variables (built-ins excluded). */
	variables(): IterableIterator<Variable> {
		return this.#vars.values();
	}

	/**
	 * The key of the event's scope, or undefined when the event has none (no container…). Keys
	 * are computed once per event object (many rules read variables of the same event).
	 */
	scopeKey(scope: VariableScope, event: Event): string | undefined {
		if (scope === "global") return "";
		const memo = this.#memo;
		if (memo.event !== event || memo.process !== event.process) {
			memo.event = event;
			memo.process = event.process;
			memo.keys.process = memo.keys.container = memo.keys.cgroup = memo.ancestors = undefined;
			memo.known = 0;
		}
		const bit = scope === "process" ? 1 : scope === "container" ? 2 : 4;
		if ((memo.known & bit) === 0) {
			memo.known |= bit;
			memo.keys[scope] =
				scope === "process"
					? processKeyOf(event.process)
					: scope === "container"
						? event.container?.id || event.process?.container?.id || undefined
						: event.cgroup?.id || event.process?.cgroup?.id || undefined;
		}
		return memo.keys[scope];
	}

	/** Process keys of the event's ancestors, nearest first (for inherited variables). */
	ancestorKeys(event: Event): readonly (string | undefined)[] {
		this.scopeKey("process", event);
		const memo = this.#memo;
		memo.ancestors ??= (event.process?.ancestors ?? []).map(processKeyOf);
		return memo.ancestors;
	}

	/**
	 * A process forked: as Datadog does, the child starts with a copy of its parent's inherited
	 * process variables (the values at fork time; later changes on either side stay apart, and
	 * the copy outlives the parent). Threads share their process's scope and are not forks.
	 */
	fork(child: ProcessContext, parent: ProcessContext | undefined): void {
		if (!this.#hasInherited) return;
		const childKey = processKeyOf(child);
		if (childKey === undefined) return;
		// the child's scope exists from now on, even empty: reads no longer fall back to ancestors
		const childSlots = this.slots("process", childKey, true) as Map<string, Slot>;
		const parentKey = processKeyOf(parent);
		const parentSlots = parentKey === undefined ? undefined : this.slots("process", parentKey, false);
		if (!parentSlots) return;
		for (const [name, slot] of parentSlots) {
			const v = this.#vars.get(`process.${name}`);
			if (!v?.definition.inherited || childSlots.has(name)) continue;
			childSlots.set(name, slot instanceof Map ? new Map(slot) : { ...slot });
			v.acquired();
		}
	}

	/** Whether the process of this scope key has a scope (its fork was seen, or it set a value). */
	hasProcessScope(key: string): boolean {
		return this.slots("process", key, false) !== undefined;
	}

	/** Drop every value of one scope instance (a process that exited, a deleted container). */
	freeScope(scope: Exclude<VariableScope, "global">, key: string): void {
		const byKey = this.#scopes.get(scope) as Map<string, Map<string, Slot>>;
		const slots = byKey.get(key);
		if (!slots) return;
		for (const name of slots.keys()) this.#vars.get(`${scope}.${name}`)?.released();
		byKey.delete(key);
	}

	/** Number of live scope instances per scope (for stats). */
	scopeCounts(): Record<VariableScope, number> {
		const out = {} as Record<VariableScope, number>;
		for (const s of SCOPES) out[s] = this.#scopes.get(s)?.size ?? 0;
		return out;
	}

	/** Values of non-private, non-built-in variables that are set for this event. */
	serializable(event: Event): ScopedVariables {
		const out: ScopedVariables = {};
		for (const v of this.#vars.values()) {
			if (v.definition.private) continue;
			const value = v.read(event);
			if (value === undefined) continue;
			const scope = out[v.scope] ?? {};
			scope[v.definition.name] = value;
			out[v.scope] = scope;
		}
		return out;
	}

	/** @internal The slot map of a scope instance. */
	slots(scope: VariableScope, key: string, create: boolean): Map<string, Slot> | undefined {
		const byKey = this.#scopes.get(scope) as Map<string, Map<string, Slot>>;
		let slots = byKey.get(key);
		if (!slots && create) {
			slots = new Map();
			byKey.set(key, slots);
		}
		return slots;
	}
}

const processKeyOf = (p: ProcessContext | undefined): string | undefined =>
	p?.pid === undefined ? undefined : VariableStore.processKey(p.pid, p.created_at ?? 0);

const describe = (d: VariableDefinition): string => `${d.type}${d.array ? "[]" : ""}`;

const builtin = (ref: string, type: VariableType, read: (e: Event) => VariableValue): Variable => ({
	ref,
	type,
	array: false,
	scope: ref.startsWith("process.") ? "process" : "global",
	builtin: true,
	definition: { name: ref, type, private: true },
	get: read,
	set: () => {
		throw new Error(`\${${ref}} is a built-in variable and cannot be set`);
	},
	append: () => {
		throw new Error(`\${${ref}} is a built-in variable and cannot be set`);
	},
});

class StoredVariable implements Variable {
	readonly type: VariableType;
	readonly array: boolean;
	readonly builtin = false;
	readonly #size: number;
	readonly #ttl: number;
	readonly #zero: VariableValue;
	/** Scope instances holding a value: with none, reads skip the lookups. */
	#holders = 0;

	constructor(
		readonly ref: string,
		readonly scope: VariableScope,
		readonly definition: VariableDefinition,
		readonly store: VariableStore,
	) {
		this.type = definition.type;
		this.array = definition.array ?? false;
		this.#size = definition.size ?? DEFAULT_SIZE;
		this.#ttl = definition.ttl ?? Number.POSITIVE_INFINITY;
		this.#zero = this.array ? Object.freeze([]) : zero(this.type);
	}

	get(event: Event): VariableValue {
		return this.read(event) ?? this.#zero;
	}

	/** The value, or undefined when unset or expired. */
	read(event: Event): VariableValue | undefined {
		if (this.#holders === 0) return undefined;
		const now = event.timestamp;
		const ownKey = this.store.scopeKey(this.scope, event);
		const own = this.#slot(ownKey, now);
		if (own !== undefined || !this.definition.inherited) return own;
		// a process whose fork was seen got its copy then; only processes the store never saw
		// (started before the agent, or a capture without fork events) read their ancestors'
		if (ownKey !== undefined && this.store.hasProcessScope(ownKey)) return undefined;
		for (const key of this.store.ancestorKeys(event)) {
			const inherited = this.#slot(key, now);
			if (inherited !== undefined) return inherited;
		}
		return undefined;
	}

	/** @internal A scope instance holding this variable was freed. */
	released(): void {
		this.#holders--;
	}

	/** @internal A scope instance got a value of this variable by inheritance. */
	acquired(): void {
		this.#holders++;
	}

	#slot(key: string | undefined, now: number): VariableValue | undefined {
		if (key === undefined) return undefined;
		const slots = this.store.slots(this.scope, key, false);
		const slot = slots?.get(this.definition.name);
		if (slot === undefined) return undefined;
		if (slot instanceof Map) {
			const out: Scalar[] = [];
			for (const [v, expires] of slot) {
				if (expires <= now) slot.delete(v);
				else out.push(v);
			}
			if (out.length === 0) {
				slots!.delete(this.definition.name);
				this.#holders--;
				return undefined;
			}
			return out as VariableValue;
		}
		if (slot.expires <= now) {
			slots!.delete(this.definition.name);
			this.#holders--;
			return undefined;
		}
		return slot.value;
	}

	set(event: Event, value: VariableValue, key?: string): void {
		const slots = this.#slots(event, key);
		if (!slots) return;
		const expires = event.timestamp + this.#ttl;
		const fresh = !slots.has(this.definition.name);
		if (this.array) {
			const items: ArraySlot = new Map();
			this.#add(items, this.#values(value), expires);
			slots.set(this.definition.name, items);
		} else {
			slots.set(this.definition.name, { value: this.#scalar(value), expires });
		}
		if (fresh) this.#holders++;
	}

	append(event: Event, value: VariableValue, key?: string): void {
		const slots = this.#slots(event, key);
		if (!slots) return;
		const expires = event.timestamp + this.#ttl;
		const slot = slots.get(this.definition.name);
		if (this.array) {
			let items = slot instanceof Map ? slot : undefined;
			if (!items) {
				items = new Map();
				slots.set(this.definition.name, items);
				this.#holders++;
			}
			this.#add(items, this.#values(value), expires);
			return;
		}
		const add = this.#scalar(value);
		const live = slot && !(slot instanceof Map) && slot.expires > event.timestamp ? slot.value : undefined;
		let next: Scalar = add;
		if (live !== undefined && this.type === "int") next = (live as number) + (add as number);
		else if (live !== undefined && this.type === "string") next = (live as string) + (add as string);
		if (!slot) this.#holders++;
		slots.set(this.definition.name, { value: next, expires });
	}

	#slots(event: Event, key: string | undefined): Map<string, Slot> | undefined {
		const k = key ?? this.store.scopeKey(this.scope, event);
		// an event outside any container has no container scope: nothing to store
		return k === undefined ? undefined : this.store.slots(this.scope, k, true);
	}

	#add(items: ArraySlot, values: Scalar[], expires: number): void {
		for (const v of values) {
			items.delete(v);
			items.set(v, expires);
		}
		while (items.size > this.#size) items.delete(items.keys().next().value as Scalar);
	}

	#values(value: VariableValue): Scalar[] {
		const list = Array.isArray(value) ? (value as Scalar[]) : [value as Scalar];
		for (const v of list) this.#check(v);
		return list;
	}

	#scalar(value: VariableValue): Scalar {
		if (Array.isArray(value))
			throw new TypeError(`variable \${${this.ref}} holds one ${this.type}, got an array`);
		this.#check(value as Scalar);
		return value as Scalar;
	}

	#check(v: Scalar): void {
		const ok =
			this.type === "int"
				? typeof v === "number"
				: this.type === "bool"
					? typeof v === "boolean"
					: typeof v === "string";
		if (!ok)
			throw new TypeError(`variable \${${this.ref}} holds ${this.type} values, got ${JSON.stringify(v)}`);
	}
}
