/**
 * @module Rule-set wide SECL macros. A macro is an expression (`exec.file.name in SHELLS`), an
 * array (`["/bin/sh", "/bin/bash"]`) or a list of string `values`; rules and other macros use it
 * by its id as an identifier. Bodies are parsed when added and type-checked where they are used,
 * since the same macro may serve rules of different event types.
 *
 * When to use: one store per rule set; add the macros of every policy before compiling rules.
 */
import type { Ast, Node } from "./ast.ts";
import { fail } from "./diagnostics.ts";
import { parseMacro } from "./parser.ts";

export interface MacroDefinition {
	/** A SECL expression, array or value. */
	expression?: string;
	/** A list of strings: the macro is a string array. */
	values?: readonly string[];
}

export interface Macro {
	readonly id: string;
	readonly ast: Ast;
}

const ID = /^[A-Za-z0-9_]+$/;

export class MacroStore {
	readonly #macros = new Map<string, Macro>();

	/**
	 * Add a macro. Throws a SeclError: `syntax` for a body that does not parse (located in the
	 * body), `invalid_macro` for a bad id, a duplicate id, or both or neither of expression and values.
	 */
	add(id: string, def: MacroDefinition): void {
		const where = def.expression ?? id;
		if (!ID.test(id))
			fail(id, "invalid_macro", `invalid macro id "${id}" (letters, digits and _ only)`, 0, id.length);
		if (this.#macros.has(id))
			fail(where, "invalid_macro", `macro "${id}" is already defined`, 0, where.length);
		if ((def.expression === undefined) === (def.values === undefined)) {
			fail(
				where,
				"invalid_macro",
				`macro "${id}" needs exactly one of expression and values`,
				0,
				where.length,
			);
		}
		this.#macros.set(id, {
			id,
			ast: def.expression !== undefined ? parseMacro(def.expression) : valuesAst(def.values ?? []),
		});
	}

	has(id: string): boolean {
		return this.#macros.has(id);
	}

	get(id: string): Macro | undefined {
		return this.#macros.get(id);
	}

	/** Remove a macro (to redefine it when a later policy overrides it). */
	delete(id: string): boolean {
		return this.#macros.delete(id);
	}

	ids(): IterableIterator<string> {
		return this.#macros.keys();
	}
}

/** A `values` macro as the array literal it stands for (its source is the JSON list). */
const valuesAst = (values: readonly string[]): Ast => {
	const source = JSON.stringify(values);
	const items: Node[] = [];
	let offset = 1;
	for (const v of values) {
		const length = JSON.stringify(v).length;
		items.push({ kind: "string", value: v, offset, length });
		offset += length + 1;
	}
	return { source, root: { kind: "array", items, offset: 0, length: source.length } };
};
