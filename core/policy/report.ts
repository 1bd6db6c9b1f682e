/**
 * @module The load report: the `ruleset_loaded` structure (Datadog's `policies[]` of
 * `{name, version, source, rules[]}`, each rule with its status and message), a count of rules
 * per status for the one-line summary, and the human table `vigil policy check` prints.
 */
import type { ActionDef, ActionReport, RuleDef, RuleStatus, RulesetReport } from "./types.ts";

/** Go's `time.Duration.String()`: `10m0s`, `1h0m0s`, `1.5s`, `500ms`. */
export const formatGoDuration = (ns: number): string => {
	if (ns === 0) return "0s";
	const sign = ns < 0 ? "-" : "";
	let n = Math.abs(Math.round(ns));
	const trim = (x: string) => x.replace(/\.?0+$/, "");
	if (n < 1e3) return `${sign}${n}ns`;
	if (n < 1e6) return `${sign}${trim((n / 1e3).toFixed(3))}µs`;
	if (n < 1e9) return `${sign}${trim((n / 1e6).toFixed(6))}ms`;
	const h = Math.floor(n / 3600e9);
	n -= h * 3600e9;
	const m = Math.floor(n / 60e9);
	n -= m * 60e9;
	const s = `${trim((n / 1e9).toFixed(9))}s`;
	if (h > 0) return `${sign}${h}h${m}m${s}`;
	if (m > 0) return `${sign}${m}m${s}`;
	return `${sign}${s}`;
};

/** An action as Datadog serializes it in `ruleset_loaded`. */
export const actionReport = (a: ActionDef, rule: RuleDef): ActionReport => {
	const out: ActionReport = {};
	if (a.filter !== undefined) out.filter = a.filter;
	if (a.set) {
		const s = a.set;
		out.set = {
			name: s.name,
			...(s.value !== undefined ? { value: s.value } : {}),
			...(s.default_value !== undefined ? { default_value: s.default_value } : {}),
			...(s.field !== undefined ? { field: s.field } : {}),
			...(s.expression !== undefined ? { expression: s.expression } : {}),
			...(s.append !== undefined ? { append: s.append } : {}),
			...(s.scope !== undefined ? { scope: s.scope } : {}),
			...(s.size !== undefined ? { size: s.size } : {}),
			...(s.ttl !== undefined ? { ttl: formatGoDuration(s.ttl) } : {}),
			...(s.inherited !== undefined ? { inherited: s.inherited } : {}),
			...(s.private !== undefined ? { private: s.private } : {}),
			...(s.scope_field !== undefined ? { scope_field: s.scope_field } : {}),
		};
	}
	if (a.kill) out.kill = { signal: a.kill.signal, ...(a.kill.scope ? { scope: a.kill.scope } : {}) };
	if (a.hash) out.hash = { enabled: true, ...(a.hash.field ? { field: a.hash.field } : {}) };
	if (a.coredump) out.coredump = { ...a.coredump };
	if (a.log) out.log = { level: a.log.level, message: a.log.message ?? `Rule ${rule.id} triggered` };
	return out;
};

export const RULE_STATUSES: readonly RuleStatus[] = [
	"loaded",
	"filtered",
	"event_type_disabled",
	"agent_version_error",
	"syntax_error",
	"error",
];

/** Statuses that mean the rule is broken (the others are choices of configuration or host). */
export const isFailure = (s: RuleStatus): boolean =>
	s === "syntax_error" || s === "error" || s === "agent_version_error";

const FAILURE_STATUSES = RULE_STATUSES.filter(isFailure);

export interface ReportCounts {
	readonly policies: number;
	readonly rules: Record<RuleStatus, number>;
	readonly macroErrors: number;
	readonly fileErrors: number;
	readonly warnings: number;
}

export const countReport = (report: RulesetReport): ReportCounts => {
	const rules = Object.fromEntries(RULE_STATUSES.map((s) => [s, 0])) as Record<RuleStatus, number>;
	let macroErrors = 0;
	let fileErrors = report.errors?.length ?? 0;
	let warnings = 0;
	for (const p of report.policies) {
		for (const r of p.rules) rules[r.status]++;
		macroErrors += p.macros?.filter((m) => m.status === "error").length ?? 0;
		fileErrors += p.errors?.length ?? 0;
		warnings += p.warnings?.length ?? 0;
	}
	return { policies: report.policies.length, rules, macroErrors, fileErrors, warnings };
};

/** Rules whose status {@link isFailure}. */
const failedRules = (rules: Record<RuleStatus, number>): number => {
	let n = 0;
	for (const s of FAILURE_STATUSES) n += rules[s];
	return n;
};

/** Whether anything is broken: a failed rule or macro, an unreadable file or directory. */
export const hasFailures = (c: ReportCounts): boolean =>
	failedRules(c.rules) + c.macroErrors + c.fileErrors > 0;

/** `312 rules loaded, 7 filtered, 0 errors from 2 policies` — one line for logs. */
export const summaryLine = (c: ReportCounts): string => {
	const r = c.rules;
	const failed = failedRules(r);
	const parts = [`${r.loaded} rules loaded`, `${r.filtered} filtered`];
	if (r.event_type_disabled > 0) parts.push(`${r.event_type_disabled} with event type disabled`);
	parts.push(`${failed} failed`);
	if (c.macroErrors > 0) parts.push(`${c.macroErrors} macro errors`);
	if (c.fileErrors > 0) parts.push(`${c.fileErrors} file errors`);
	if (c.warnings > 0) parts.push(`${c.warnings} warnings`);
	return `${parts.join(", ")} from ${c.policies} ${c.policies === 1 ? "policy" : "policies"}`;
};

const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length));

/** The report as text: per policy, one line per rule with its status and message. */
export const formatReport = (report: RulesetReport): string => {
	const lines: string[] = [];
	for (const e of report.errors ?? []) lines.push(`error: ${e}`);
	for (const p of report.policies) {
		lines.push(`${p.name}${p.version ? ` (version ${p.version})` : ""}, ${p.source}`);
		for (const e of p.errors ?? []) lines.push(`  error: ${e}`);
		for (const w of p.warnings ?? []) lines.push(`  warning: ${w}`);
		for (const m of p.macros ?? [])
			if (m.status === "error") lines.push(`  macro ${m.id}: error: ${m.message ?? ""}`);
		const width = Math.min(48, Math.max(0, ...p.rules.map((r) => r.id.length)));
		for (const r of p.rules) {
			const modified = r.modified_by?.length
				? ` (modified by ${r.modified_by.map((m) => m.name).join(", ")})`
				: "";
			lines.push(
				`  ${pad(r.id, width)}  ${pad(r.status, 19)}${r.message ? `  ${r.message}` : ""}${modified}`.trimEnd(),
			);
		}
	}
	lines.push(summaryLine(countReport(report)));
	return lines.join("\n");
};
