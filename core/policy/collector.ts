/**
 * @module Policy collector: merges the accepted definitions of every policy, in load order,
 * into one macro list and one rule list, with Datadog's semantics.
 *
 * Per id the first definition wins. A later definition of the same id:
 * - `combine: override` merges the fields named by `override_options.fields`: `actions`
 *   (appends those not already there), `every`, `tags` (key by key), `product_tags` (appends),
 *   or `all` (every field but the expression, only over a default-policy rule). An override never
 *   changes the expression.
 * - `disabled: true` disables the rule, but only a custom policy disabling a default-policy rule;
 *   a custom policy cannot disable another custom policy's rule.
 * - `disabled: false` re-enables a disabled rule, from any later policy.
 * - anything else is a conflict, reported on the later definition, which is ignored.
 * Every policy that changed a rule is listed in its `modified_by`. Macros: `combine: merge`
 * appends values (both sides must use `values`), `combine: override` replaces the definition.
 */
import {
	type ActionDef,
	formatLocation,
	type MacroDef,
	type MacroEntry,
	type PolicyInfo,
	type RuleDef,
	type RuleEntry,
} from "./types.ts";

/** A rule after merging: the definition that won, as modified, and where it was first written. */
export interface CollectedRule {
	def: RuleDef;
	readonly origin: RuleEntry;
	readonly modifiedBy: PolicyInfo[];
	/** Policy that disabled it, when disabled by a later policy. */
	disabledBy?: PolicyInfo;
}

export interface CollectedMacro {
	def: MacroDef;
	readonly origin: MacroEntry;
}

/** A definition that was read without error (and accepted on this host): `def` is set. */
export type Accepted<E extends MacroEntry | RuleEntry> = E & { readonly def: NonNullable<E["def"]> };

/** Whether `entry` was read without error (its `def` is set). */
export const isRead = <E extends MacroEntry | RuleEntry>(entry: E): entry is Accepted<E> => !!entry.def;

/** Why a later definition was not merged. */
export interface Rejection {
	readonly message: string;
}

export interface Collection {
	readonly rules: CollectedRule[];
	readonly macros: CollectedMacro[];
	/** Later definitions that could not be merged, with the reason. */
	readonly rejectedRules: Map<RuleEntry, Rejection>;
	readonly rejectedMacros: Map<MacroEntry, Rejection>;
	/** Things ignored while merging, by policy. */
	readonly warnings: Map<PolicyInfo, string[]>;
}

const sameAction = (a: ActionDef, b: ActionDef): boolean => JSON.stringify(a) === JSON.stringify(b);

const warn = (c: Collection, policy: PolicyInfo, message: string): void => {
	const list = c.warnings.get(policy);
	if (list) list.push(message);
	else c.warnings.set(policy, [message]);
};

const describe = (p: PolicyInfo): string => `policy ${p.name}`;

/** Apply `later` (with `combine: override`) to `rule`; returns an error message or undefined. */
const override = (c: Collection, rule: CollectedRule, later: RuleEntry, def: RuleDef): string | undefined => {
	const fields = def.override_options?.fields ?? [];
	const where = formatLocation(later.source.at);
	if (fields.includes("expression")) {
		warn(
			c,
			later.source.policy,
			`${where}: rule ${def.id}: override_options.fields "expression" ignored, an override never changes a rule's expression`,
		);
	}
	if (fields.includes("all")) {
		if (rule.origin.source.type !== "default") {
			return `${where}: rule ${def.id}: override_options.fields "all" only applies to rules of the default policy (this one is defined in ${describe(rule.origin.source.policy)})`;
		}
		const { expression: _ignored, combine: _combine, override_options: _options, ...rest } = def;
		rule.def = {
			...rest,
			id: rule.def.id,
			...(rule.def.expression !== undefined ? { expression: rule.def.expression } : {}),
		};
		return undefined;
	}
	let next: RuleDef = rule.def;
	if (fields.includes("actions") && def.actions) {
		const actions = [...(next.actions ?? [])];
		for (const a of def.actions) if (!actions.some((b) => sameAction(a, b))) actions.push(a);
		next = { ...next, actions };
	}
	if (fields.includes("every") && def.every !== undefined) next = { ...next, every: def.every };
	if (fields.includes("tags") && def.tags) next = { ...next, tags: { ...next.tags, ...def.tags } };
	if (fields.includes("product_tags") && def.product_tags) {
		const tags = [...(next.product_tags ?? [])];
		for (const t of def.product_tags) if (!tags.includes(t)) tags.push(t);
		next = { ...next, product_tags: tags };
	}
	rule.def = next;
	return undefined;
};

const mergeRule = (
	c: Collection,
	rule: CollectedRule,
	later: RuleEntry,
	def: RuleDef,
): string | undefined => {
	const where = formatLocation(later.source.at);
	const first = rule.origin.source;
	if (def.combine !== "override" && def.disabled === undefined) {
		return `${where}: rule ${def.id} is already defined in ${describe(first.policy)} (${formatLocation(first.at)}); use combine: override to change it`;
	}
	if (def.disabled === true && !(first.type === "default" && later.source.type === "custom")) {
		return `${where}: rule ${def.id} cannot be disabled by ${describe(later.source.policy)}: only a custom policy may disable a rule, and only a default-policy rule (this one is defined in ${describe(first.policy)})`;
	}
	if (def.combine === "override") {
		const problem = override(c, rule, later, def);
		if (problem) return problem;
	}
	if (def.disabled === true) {
		rule.def = { ...rule.def, disabled: true };
		rule.disabledBy = later.source.policy;
	} else if (def.disabled === false && rule.def.disabled) {
		rule.def = { ...rule.def, disabled: false };
		rule.disabledBy = undefined;
	}
	rule.modifiedBy.push(later.source.policy);
	return undefined;
};

const mergeMacro = (macro: CollectedMacro, later: MacroEntry, def: MacroDef): string | undefined => {
	const where = formatLocation(later.source.at);
	const first = macro.origin.source;
	switch (def.combine) {
		case "merge": {
			if (macro.def.values === undefined || def.values === undefined) {
				return `${where}: macro ${def.id}: combine: merge needs values on both definitions (${describe(first.policy)}, ${formatLocation(first.at)}), not expressions`;
			}
			const values = [...macro.def.values];
			for (const value of def.values) if (!values.includes(value)) values.push(value);
			macro.def = { ...macro.def, values };
			return undefined;
		}
		case "override": {
			const { combine: _combine, ...body } = def;
			macro.def = body;
			return undefined;
		}
		default:
			return `${where}: macro ${def.id} is already defined in ${describe(first.policy)} (${formatLocation(first.at)}); use combine: merge or override`;
	}
};

/**
 * Merge accepted definitions (each list in load order). Definitions with a read error or not
 * accepted on this host never reach here.
 */
export const collect = (
	macros: readonly Accepted<MacroEntry>[],
	rules: readonly Accepted<RuleEntry>[],
): Collection => {
	const c: Collection = {
		rules: [],
		macros: [],
		rejectedRules: new Map(),
		rejectedMacros: new Map(),
		warnings: new Map(),
	};
	const macroIndex = new Map<string, CollectedMacro>();
	for (const entry of macros) {
		const def = entry.def;
		const existing = macroIndex.get(def.id);
		if (!existing) {
			const collected = { def, origin: entry };
			macroIndex.set(def.id, collected);
			c.macros.push(collected);
			continue;
		}
		const problem = mergeMacro(existing, entry, def);
		if (problem) c.rejectedMacros.set(entry, { message: problem });
	}
	const ruleIndex = new Map<string, CollectedRule>();
	for (const entry of rules) {
		const def = entry.def;
		const existing = ruleIndex.get(def.id);
		if (!existing) {
			const collected: CollectedRule = { def, origin: entry, modifiedBy: [] };
			ruleIndex.set(def.id, collected);
			c.rules.push(collected);
			continue;
		}
		const problem = mergeRule(c, existing, entry, def);
		if (problem) c.rejectedRules.set(entry, { message: problem });
	}
	return c;
};
