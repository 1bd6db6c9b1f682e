/**
 * @module SECL constants: `O_CREAT`, `CAP_SYS_ADMIN` (a bitmask), `EACCES` (a negative errno),
 * `true`… grouped in Datadog's families. Values come from the system headers through
 * `scripts/gen-constants.ts`.
 *
 * When to use: `Constants.forOs(registry.os)` (the default of a SECL context). A probe that
 * knows more values (its own eBPF map names for `CWS_MAP_NAMES`) adds them with `define`.
 */
import { CONSTANT_FAMILIES } from "./constants.generated.ts";

export interface Constant {
	readonly name: string;
	readonly family: string;
	readonly type: "int" | "bool" | "string";
	/** A list constant (`CWS_MAP_NAMES`) is an array of its type. */
	readonly array: boolean;
	readonly value: number | boolean | string | readonly string[];
}

/** Families of the Windows model (Datadog's `secl_windows.json`). */
const WINDOWS_FAMILIES = new Set([
	"DNS Responses",
	"DNS qclasses",
	"DNS qtypes",
	"L3 protocols",
	"L4 protocols",
	"Network directions",
]);

export class Constants {
	readonly #byName = new Map<string, Constant[]>();

	/** Every Linux family: Datadog's 26 plus exit causes, audit, TLS, prctl, socket, map names. */
	static linux(): Constants {
		return Constants.#build(() => true);
	}

	static windows(): Constants {
		return Constants.#build((family) => WINDOWS_FAMILIES.has(family));
	}

	static forOs(os: "linux" | "windows"): Constants {
		return os === "windows" ? Constants.windows() : Constants.linux();
	}

	static #build(keep: (family: string) => boolean): Constants {
		const c = new Constants();
		c.define({ name: "true", family: "Boolean constants", type: "bool", array: false, value: true });
		c.define({ name: "false", family: "Boolean constants", type: "bool", array: false, value: false });
		for (const f of CONSTANT_FAMILIES) {
			if (!keep(f.name)) continue;
			for (const [name, value] of f.values) {
				const array = Array.isArray(value);
				c.define({ name, family: f.name, type: array ? "string" : "int", array, value });
			}
		}
		return c;
	}

	/** Add (or replace, within its family) a constant. */
	define(constant: Constant): void {
		const list = this.#byName.get(constant.name) ?? [];
		const i = list.findIndex((c) => c.family === constant.family);
		if (i >= 0) list[i] = constant;
		else list.push(constant);
		this.#byName.set(constant.name, list);
	}

	/**
	 * The constant `name`. When several families define it (`BPF_MAP_LOOKUP_ELEM` is a command
	 * and a helper), the one of `family` (the compared field's family) wins.
	 */
	get(name: string, family?: string): Constant | undefined {
		const list = this.#byName.get(name);
		if (!list) return undefined;
		return (family ? list.find((c) => c.family === family) : undefined) ?? list[0];
	}

	has(name: string): boolean {
		return this.#byName.has(name);
	}

	*all(): IterableIterator<Constant> {
		for (const list of this.#byName.values()) yield* list;
	}
}
