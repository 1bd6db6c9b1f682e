/**
 * @module Policy reader: one `*.policy` YAML file → its macro and rule definitions, each
 * validated on its own and located (`file:line:col`), plus warnings for what is ignored.
 *
 * Like Datadog's yaml.v3 decoding, unknown keys are ignored (`type: policy`) but, unlike it,
 * each is reported as a warning; any scalar is accepted where a string is expected (`version:
 * 1.0` reads as "1.0"). A file that is not valid YAML yields no definitions and one error per
 * YAML problem; a definition that is invalid yields an entry with an error and never affects its
 * neighbours.
 */
import * as v from "valibot";
import {
	type Document,
	isAlias,
	isMap,
	isScalar,
	isSeq,
	LineCounter,
	type Node,
	parseDocument,
	type Scalar,
} from "yaml";
import { formatPath } from "../manifest.ts";
import { locationAt, scalarLocator } from "./location.ts";
import { MacroSchema, RESERVED_IDS, RuleSchema } from "./schema.ts";
import {
	type DefinitionSource,
	type ExpressionLocator,
	formatLocation,
	type Location,
	type MacroDef,
	type MacroEntry,
	type PolicyFile,
	type PolicyInfo,
	type PolicySource,
	type PolicyType,
	type RuleDef,
	type RuleEntry,
} from "./types.ts";

/**
 * What the reader expects where: `s` a string (any scalar is read as its text), `a` anything
 * (not looked into), `[h]` a list of `h`, an object the keys it knows (`*` for any key).
 */
type Hint = "s" | "a" | readonly [Hint] | { readonly [key: string]: Hint };

const ACTION_HINT: Hint = {
	filter: "s",
	set: {
		name: "s",
		value: "a",
		field: "s",
		expression: "s",
		default_value: "a",
		append: "a",
		scope: "s",
		scope_field: "s",
		size: "a",
		ttl: "a",
		inherited: "a",
		private: "a",
	},
	kill: { signal: "s", scope: "s", disable_container_disarmer: "a", disable_executable_disarmer: "a" },
	hash: { field: "s", max_file_size: "a" },
	coredump: { process: "a", mount: "a", dentry: "a", no_compression: "a" },
	log: { level: "s", message: "s" },
};

const RULE_HINT: Hint = {
	id: "s",
	version: "s",
	expression: "s",
	description: "s",
	tags: { "*": "s" },
	product_tags: ["s"],
	agent_version: "s",
	filters: ["s"],
	disabled: "a",
	combine: "s",
	override_options: { fields: ["s"] },
	actions: [ACTION_HINT],
	every: "a",
	limiter_token: ["s"],
	silent: "a",
	group_id: "s",
};

const MACRO_HINT: Hint = {
	id: "s",
	expression: "s",
	values: ["s"],
	description: "s",
	agent_version: "s",
	filters: ["s"],
	combine: "s",
};

const TOP_KEYS = new Set(["version", "macros", "rules"]);

export interface ReadOptions {
	/** Policy name in reports; default: the file's base name. */
	readonly name?: string;
	readonly type: PolicyType;
	readonly source?: PolicySource;
}

type PathKey = string | number;

/** `actions[0].set.name`; "" (not formatPath's "(root)") when no key adds text. */
const pathText = (path: readonly PathKey[]): string =>
	path.every((k) => k === "") ? "" : formatPath("", path);

class FileReader {
	readonly lines = new LineCounter();
	readonly warnings: string[] = [];
	doc!: Document;

	constructor(
		readonly file: string,
		readonly text: string,
	) {}

	at(offset: number): Location {
		return locationAt(this.file, this.lines, offset);
	}

	nodeAt(node: unknown, fallback: Location): Location {
		const range = (node as Node | undefined)?.range;
		return range ? this.at(range[0]) : fallback;
	}

	deref(node: unknown): unknown {
		return isAlias(node) ? node.resolve(this.doc) : node;
	}

	/** Plain JS value of `node` following `hint`; unknown keys are skipped and warned about. */
	plain(node: unknown, hint: Hint, path: readonly PathKey[], where: string): unknown {
		node = this.deref(node);
		if (isScalar(node)) {
			const value = node.value;
			if (value === null || value === undefined) return undefined;
			if (hint === "s" && typeof value !== "string") return String(node.source ?? value);
			return value;
		}
		if (isSeq(node)) {
			const each: Hint = Array.isArray(hint) ? (hint as readonly [Hint])[0] : "a";
			return node.items.map((item, i) => this.plain(item, each, [...path, i], where));
		}
		if (isMap(node)) {
			const out: Record<string, unknown> = {};
			const known =
				typeof hint === "object" && !Array.isArray(hint)
					? (hint as { readonly [k: string]: Hint })
					: undefined;
			for (const pair of node.items) {
				const keyNode = this.deref(pair.key);
				const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
				let sub: Hint = "a";
				if (known) {
					const h = known[key] ?? known["*"];
					if (h === undefined) {
						const loc = this.nodeAt(keyNode, this.nodeAt(node, this.at(0)));
						this.warnings.push(
							`${formatLocation(loc)}: ${where}: unknown key "${pathText([...path, key])}" ignored`,
						);
						continue;
					}
					sub = h;
				}
				const valueNode = this.deref(pair.value);
				// `hash:` with nothing after it is an empty map, as in `hash: {}`
				if (
					typeof sub === "object" &&
					!Array.isArray(sub) &&
					(valueNode === null || (isScalar(valueNode) && valueNode.value === null))
				) {
					out[key] = {};
					continue;
				}
				const value = this.plain(valueNode, sub, [...path, key], where);
				if (value !== undefined) out[key] = value;
			}
			return out;
		}
		return undefined;
	}

	/** The node at `path` under `root`, or the deepest one that exists. */
	locate(root: unknown, path: readonly PathKey[]): Location {
		let node = this.deref(root);
		let loc = this.nodeAt(node, this.at(0));
		for (const key of path) {
			let next: unknown;
			if (isMap(node)) next = node.get(key, true);
			else if (isSeq(node) && typeof key === "number") next = node.items[key];
			if (next === undefined) break;
			node = this.deref(next);
			loc = this.nodeAt(node, loc);
		}
		return loc;
	}

	locator(root: unknown, path: readonly PathKey[]): ExpressionLocator | undefined {
		let node = this.deref(root);
		for (const key of path) {
			if (isMap(node)) node = this.deref(node.get(key, true));
			else if (isSeq(node) && typeof key === "number") node = this.deref(node.items[key]);
			else return undefined;
		}
		return isScalar(node) ? scalarLocator(this.file, this.text, this.lines, node as Scalar) : undefined;
	}

	issues(root: unknown, issues: readonly v.BaseIssue<unknown>[]): string {
		return issues
			.map((issue) => {
				const path: PathKey[] = [];
				for (const item of issue.path ?? []) {
					const key = (item as { key: unknown }).key;
					if (typeof key === "string" || typeof key === "number") path.push(key);
				}
				const loc = this.locate(root, path);
				return `${formatLocation(loc)}: ${path.length > 0 ? `${pathText(path)}: ` : ""}${issue.message}`;
			})
			.join("; ");
	}

	sourceOf(node: unknown, policy: PolicyInfo, type: PolicyType, kind: "rule" | "macro"): DefinitionSource {
		const at = this.nodeAt(node, this.at(0));
		const filtersNode = isMap(node) ? this.deref(node.get("filters", true)) : undefined;
		const filters = isSeq(filtersNode)
			? filtersNode.items.map((_, i) => this.locator(node, ["filters", i]) ?? (() => at))
			: undefined;
		const actionsNode = kind === "rule" && isMap(node) ? this.deref(node.get("actions", true)) : undefined;
		const actions = isSeq(actionsNode)
			? actionsNode.items.map((_, i) => ({
					filter: this.locator(node, ["actions", i, "filter"]),
					expression: this.locator(node, ["actions", i, "set", "expression"]),
				}))
			: undefined;
		const agentVersionNode = isMap(node) ? node.get("agent_version", true) : undefined;
		return {
			policy,
			type,
			at,
			expression: this.locator(node, ["expression"]),
			...(filters ? { filters } : {}),
			...(actions ? { actions } : {}),
			...(agentVersionNode ? { agentVersion: this.nodeAt(agentVersionNode, at) } : {}),
		};
	}

	idOf(node: unknown, fallback: string): string {
		const idNode = isMap(node) ? this.deref(node.get("id", true)) : undefined;
		if (
			isScalar(idNode) &&
			idNode.value !== null &&
			idNode.value !== undefined &&
			String(idNode.value) !== ""
		) {
			return typeof idNode.value === "string" ? idNode.value : String(idNode.source ?? idNode.value);
		}
		return fallback;
	}

	rule(node: unknown, index: number, policy: PolicyInfo, type: PolicyType): RuleEntry {
		node = this.deref(node);
		const source = this.sourceOf(node, policy, type, "rule");
		const fallbackId = `rules[${index}]`;
		const id = this.idOf(node, fallbackId);
		const where = `rule ${id}`;
		if (!isMap(node)) {
			return {
				id: fallbackId,
				rawExpression: "",
				source,
				error: `${formatLocation(source.at)}: expected a rule (a map with id and expression)`,
			};
		}
		const raw = this.plain(node, RULE_HINT, [], where) as Record<string, unknown>;
		if (raw.id === undefined)
			return { id, rawExpression: "", source, error: `${formatLocation(source.at)}: a rule needs an id` };
		const rawExpression = typeof raw.expression === "string" ? raw.expression : "";
		const parsed = v.safeParse(RuleSchema, raw);
		if (!parsed.success) return { id, rawExpression, source, error: this.issues(node, parsed.issues) };
		const def: RuleDef = parsed.output;
		if (RESERVED_IDS.has(def.id)) {
			const loc = this.locate(node, ["id"]);
			return {
				id,
				rawExpression,
				source,
				error: `${formatLocation(loc)}: rule id "${def.id}" is reserved for an event the agent sends itself`,
			};
		}
		return { id, def, rawExpression, source };
	}

	macro(node: unknown, index: number, policy: PolicyInfo, type: PolicyType): MacroEntry {
		node = this.deref(node);
		const source = this.sourceOf(node, policy, type, "macro");
		const fallbackId = `macros[${index}]`;
		const id = this.idOf(node, fallbackId);
		const where = `macro ${id}`;
		if (!isMap(node)) {
			return {
				id: fallbackId,
				source,
				error: `${formatLocation(source.at)}: expected a macro (a map with id and expression or values)`,
			};
		}
		const raw = this.plain(node, MACRO_HINT, [], where) as Record<string, unknown>;
		if (raw.id === undefined)
			return { id, source, error: `${formatLocation(source.at)}: a macro needs an id` };
		const parsed = v.safeParse(MacroSchema, raw);
		if (!parsed.success) return { id, source, error: this.issues(node, parsed.issues) };
		const def: MacroDef = parsed.output;
		return { id, def, source };
	}
}

const basename = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

/**
 * Read one policy from its text. `file` is the path used in locations (as the user gave the
 * directory, so messages point where they look).
 */
export const readPolicy = (text: string, file: string, options: ReadOptions): PolicyFile => {
	const r = new FileReader(file, text);
	const name = options.name ?? basename(file);
	const source = options.source ?? "file";
	const errors: string[] = [];
	r.doc = parseDocument(text, { lineCounter: r.lines, prettyErrors: false, uniqueKeys: true });
	const empty = (version = ""): PolicyFile => ({
		info: { name, version, source },
		type: options.type,
		path: file,
		macros: [],
		rules: [],
		warnings: r.warnings,
		errors,
	});
	if (r.doc.errors.length > 0) {
		for (const e of r.doc.errors)
			errors.push(`${formatLocation(r.at(e.pos[0]))}: ${e.message.split("\n")[0]}`);
		return empty();
	}
	const root = r.deref(r.doc.contents);
	if (root === null || root === undefined || (isScalar(root) && root.value === null)) return empty();
	if (!isMap(root)) {
		errors.push(
			`${formatLocation(r.nodeAt(root, r.at(0)))}: expected a policy (a map with version, macros and rules)`,
		);
		return empty();
	}
	let version = "";
	for (const pair of root.items) {
		const keyNode = r.deref(pair.key);
		const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
		if (!TOP_KEYS.has(key))
			r.warnings.push(`${formatLocation(r.nodeAt(keyNode, r.at(0)))}: unknown key "${key}" ignored`);
	}
	const versionNode = r.deref(root.get("version", true));
	if (versionNode !== undefined) {
		if (isScalar(versionNode))
			version =
				versionNode.value === null
					? ""
					: String(
							typeof versionNode.value === "string"
								? versionNode.value
								: (versionNode.source ?? versionNode.value),
						);
		else errors.push(`${formatLocation(r.nodeAt(versionNode, r.at(0)))}: version: expected a string`);
	}
	const info: PolicyInfo = { name, version, source };
	const section = <T>(key: string, read: (node: unknown, i: number) => T): T[] => {
		const node = r.deref(root.get(key, true));
		if (node === undefined || (isScalar(node) && node.value === null)) return [];
		if (!isSeq(node)) {
			errors.push(`${formatLocation(r.nodeAt(node, r.at(0)))}: ${key}: expected a list`);
			return [];
		}
		return node.items.map((item, i) => read(item, i));
	};
	const macros = section("macros", (n, i) => r.macro(n, i, info, options.type));
	const rules = section("rules", (n, i) => r.rule(n, i, info, options.type));
	return { info, type: options.type, path: file, macros, rules, warnings: r.warnings, errors };
};
