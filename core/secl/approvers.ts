/**
 * @module Approvers: for a rule, per field, the values the field must take for the rule to be
 * able to match — `open.file.path in ["/etc/shadow", ~"/etc/ssh/*"] && …` gives
 * `open.file.path: [exact "/etc/shadow", prefix "/etc/ssh/"]`. They are what an in-kernel
 * filter needs to drop events no rule can match, and what {@link RuleSet} indexes rules by.
 *
 * Derived from the checked expression: `a && b` keeps the approvers of both sides (each is a
 * necessary condition); `a || b` keeps a field only when both sides have approvers on it (the
 * union); negations, `!=`, `not in`, ranges, array fields and unanchored patterns give none.
 *
 * The data is plain JSON: `{ [eventType]: { [field]: ApproverValue[] } }`. For a rule set, a field
 * is listed for an event type only when every rule of that type has approvers on it; an event of
 * that type can then match a rule only if, for every listed field, its value is approved.
 */
import type { RegisteredField } from "../model/registry.ts";
import type { CompiledRule } from "./compile.ts";
import type { ApproverValue, Ir } from "./ir.ts";

export type { ApproverValue };
/** Field name → approved values. */
export type FieldApprovers = Record<string, ApproverValue[]>;
/** Event type → field approvers. */
export type Approvers = Record<string, FieldApprovers>;

const key = (v: ApproverValue): string =>
	`${v.kind}\u0000${typeof v.value}\u0000${String(v.value)}\u0000${v.caseInsensitive ? 1 : 0}`;

const union = (a: readonly ApproverValue[], b: readonly ApproverValue[]): ApproverValue[] => {
	const seen = new Map<string, ApproverValue>();
	for (const v of [...a, ...b]) seen.set(key(v), v);
	return [...seen.values()];
};

/**
 * Field approvers of a checked boolean expression. `fields`, when given, receives the
 * registered field of each approver (for indexing).
 */
export const approversOfIr = (
	ir: Ir,
	fields?: Map<string, RegisteredField>,
): Map<string, ApproverValue[]> => {
	switch (ir.k) {
		case "test": {
			if (ir.a.k !== "field" || ir.many || ir.q !== "any" || !ir.pred.approvers) return new Map();
			fields?.set(ir.a.f.name, ir.a.f);
			return new Map([[ir.a.f.name, [...ir.pred.approvers]]]);
		}
		case "and": {
			const a = approversOfIr(ir.a, fields);
			for (const [field, values] of approversOfIr(ir.b, fields)) {
				const mine = a.get(field);
				// both are necessary conditions; keep the narrower one
				if (!mine || values.length < mine.length) a.set(field, values);
			}
			return a;
		}
		case "or": {
			const a = approversOfIr(ir.a, fields);
			const b = approversOfIr(ir.b, fields);
			const out = new Map<string, ApproverValue[]>();
			for (const [field, values] of a) {
				const other = b.get(field);
				if (other) out.set(field, union(values, other));
			}
			return out;
		}
		case "exists":
			// conditions on the rule's own fields inside the loop still hold for the whole rule
			return approversOfIr(ir.body, fields);
		default:
			return new Map();
	}
};

/** A rule's approvers: `{ [rule.eventType]: { field: values } }` (empty fields when none). */
export const approversOf = (rule: Pick<CompiledRule, "eventType" | "ir">): Approvers => ({
	[rule.eventType]: Object.fromEntries(approversOfIr(rule.ir)),
});

/** Merge the approvers of the rules of one event type: fields every rule has, values united. */
export const mergeApprovers = (rules: readonly FieldApprovers[]): FieldApprovers => {
	if (rules.length === 0) return {};
	const out: FieldApprovers = {};
	for (const field of Object.keys(rules[0] as FieldApprovers)) {
		if (!rules.every((r) => r[field])) continue;
		out[field] = rules.reduce<ApproverValue[]>((acc, r) => union(acc, r[field] as ApproverValue[]), []);
	}
	return out;
};
