/**
 * @module Policies: Datadog CWS `*.policy` files (macros, rules, actions) loaded from rules
 * directories into a SECL rule set, with a `ruleset_loaded` report saying for every rule whether
 * it loaded and, if not, why and where.
 *
 * The load is a pipeline of small stages, each in its own file: `sources` (which files, in which
 * order) → `reader` (YAML to located definitions) → `filters` / `agent-version` (what applies on
 * this host) → `collector` (merging, overrides, disabling) → `fim` and `compiler` (SECL) →
 * `report`. `loader` runs them.
 *
 * When to use: {@link loadPolicies} for the rule engine and `vigil policy check`; the report
 * helpers for printing; {@link HostFilter} to evaluate `filters` elsewhere.
 */
export { AgentVersionError, normalizeAgentVersion, satisfiesAgentVersion } from "./agent-version.ts";
export type { LoadedAction, LoadedRule, LoadedSet } from "./compiler.ts";
export { HostFilter } from "./filters.ts";
export { detectHost, type HostFacts, windowsHost } from "./host.ts";
export { type LoadOptions, loadPolicies, type PolicyLoad } from "./loader.ts";
export {
	countReport,
	formatGoDuration,
	formatReport,
	hasFailures,
	type ReportCounts,
	summaryLine,
} from "./report.ts";
export type * from "./types.ts";
