/**
 * @module Policy loader: the whole pipeline from rules directories to a rule set and its
 * `ruleset_loaded` report — list the files (`sources.ts`), read each (`reader.ts`), keep the
 * definitions that apply on this host and agent version (`filters.ts`, `agent-version.ts`), merge
 * them (`collector.ts`), compile them (`compiler.ts`) and report every rule's outcome.
 *
 * When to use: `loadPolicies()` at start-up and on every reload, and for `vigil policy check`.
 * It never throws for bad input: every problem is in the report, located.
 */
import { readFile } from "node:fs/promises";
import { FieldRegistry } from "../model/registry.ts";
import type { VariableStore } from "../secl/index.ts";
import { DATADOG_AGENT_VERSION } from "../version.ts";
import { AgentVersionError, normalizeAgentVersion, satisfiesAgentVersion } from "./agent-version.ts";
import { type Accepted, type CollectedRule, collect, isRead } from "./collector.ts";
import { type Compilation, PolicyCompiler, type RuleOutcome } from "./compiler.ts";
import { HostFilter } from "./filters.ts";
import { detectHost, type HostFacts, windowsHost } from "./host.ts";
import { readPolicy } from "./reader.ts";
import { actionReport, countReport, type ReportCounts } from "./report.ts";
import { listPolicyFiles } from "./sources.ts";
import {
	type DefinitionSource,
	formatLocation,
	type MacroEntry,
	type MacroReport,
	type PolicyFile,
	type PolicyReport,
	type RuleEntry,
	type RuleReport,
	type RulesetReport,
} from "./types.ts";

export interface LoadOptions {
	/** Rules directories, in order. */
	readonly dirs: readonly string[];
	/** Check policies as a Windows agent would load them: Windows field model, `os == "windows"`. */
	readonly windowsModel?: boolean;
	/** The field model (default: the Linux or Windows one); plugins' fields must be in it. */
	readonly registry?: FieldRegistry;
	/** Event types some enabled probe produces; undefined = every event type of the model. */
	readonly enabledEventTypes?: ReadonlySet<string>;
	/** Datadog agent version for `agent_version` (default {@link DATADOG_AGENT_VERSION}). */
	readonly agentVersion?: string;
	/** The host filters are evaluated against (default: this machine). */
	readonly host?: HostFacts;
	/** Time of the load, for the report. */
	readonly now?: () => Date;
	/** Declare variables in this store and keep its values (a reload passes the previous one). */
	readonly variables?: VariableStore;
}

export interface PolicyLoad extends Compilation {
	readonly report: RulesetReport;
	readonly counts: ReportCounts;
	readonly policies: readonly PolicyFile[];
	readonly agentVersion: string;
}

type Acceptance = RuleOutcome | undefined;

/** Whether a definition applies here: undefined when it does, else its outcome. */
const accept = (
	def: { readonly agent_version?: string; readonly filters?: readonly string[] },
	source: DefinitionSource,
	agentVersion: string,
	filter: HostFilter,
): Acceptance => {
	if (def.agent_version !== undefined) {
		try {
			if (!satisfiesAgentVersion(agentVersion, def.agent_version)) {
				return {
					status: "filtered",
					message: `excluded by agent_version "${def.agent_version}" (agent version ${agentVersion})`,
				};
			}
		} catch (e) {
			if (!(e instanceof AgentVersionError)) throw e;
			const at = source.agentVersion ?? source.at;
			return { status: "agent_version_error", message: `${formatLocation(at)}: agent_version: ${e.message}` };
		}
	}
	const verdict = filter.check(def.filters, source.filters);
	if (verdict.kind === "invalid") return { status: "error", message: verdict.message };
	if (verdict.kind === "no_match") return { status: "filtered", message: verdict.message };
	return undefined;
};

const readFiles = async (
	dirs: readonly string[],
): Promise<{ policies: PolicyFile[]; problems: string[] }> => {
	const listing = listPolicyFiles(dirs);
	const policies = await Promise.all(
		listing.files.map(async (f): Promise<PolicyFile> => {
			let text: string;
			try {
				text = await readFile(f.path, "utf8");
			} catch (e) {
				return {
					info: { name: f.name, version: "", source: "file" },
					type: f.type,
					path: f.path,
					macros: [],
					rules: [],
					warnings: [],
					errors: [`${f.path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`],
				};
			}
			return readPolicy(text, f.path, { type: f.type });
		}),
	);
	return { policies, problems: [...listing.problems] };
};

/** Load policies from `dirs`; never throws for bad policies (see the report). */
export const loadPolicies = async (options: LoadOptions): Promise<PolicyLoad> => {
	const { policies, problems } = await readFiles(options.dirs);
	return compilePolicies(policies, problems, options);
};

/** The load pipeline after reading: accept, merge, compile, report. */
const compilePolicies = (
	policies: readonly PolicyFile[],
	problems: readonly string[],
	options: LoadOptions,
): PolicyLoad => {
	const agentVersion = normalizeAgentVersion(options.agentVersion ?? DATADOG_AGENT_VERSION);
	const windows = options.windowsModel === true;
	const registry = options.registry ?? FieldRegistry.forOs(windows ? "windows" : "linux");
	const host = options.host ?? (windows ? windowsHost() : detectHost());
	const filter = new HostFilter(host);

	const ruleOutcomes = new Map<RuleEntry, RuleOutcome>();
	const macroOutcomes = new Map<MacroEntry, RuleOutcome>();
	const acceptedRules: Accepted<RuleEntry>[] = [];
	const acceptedMacros: Accepted<MacroEntry>[] = [];
	/** Accept `entries` or record why not (`invalid` when read without a message). */
	const sift = <E extends MacroEntry | RuleEntry>(
		entries: readonly E[],
		invalid: string,
		outcomes: Map<E, RuleOutcome>,
		accepted: Accepted<E>[],
	): void => {
		for (const e of entries) {
			if (!isRead(e)) {
				outcomes.set(e, { status: "error", message: e.error ?? invalid });
				continue;
			}
			const verdict = accept(e.def, e.source, agentVersion, filter);
			if (verdict) outcomes.set(e, verdict);
			else accepted.push(e);
		}
	};
	for (const p of policies) {
		sift(p.macros, "invalid macro", macroOutcomes, acceptedMacros);
		sift(p.rules, "invalid rule", ruleOutcomes, acceptedRules);
	}

	const collection = collect(acceptedMacros, acceptedRules);
	for (const [entry, rejection] of collection.rejectedRules)
		ruleOutcomes.set(entry, { status: "error", message: rejection.message });
	for (const [entry, rejection] of collection.rejectedMacros)
		macroOutcomes.set(entry, { status: "error", message: rejection.message });

	const compiler = new PolicyCompiler({
		registry,
		...(options.enabledEventTypes ? { enabledEventTypes: options.enabledEventTypes } : {}),
		...(options.variables ? { variables: options.variables } : {}),
	});
	compiler.addMacros(collection.macros);
	compiler.declareVariables(collection.rules);
	const byOrigin = new Map<RuleEntry, CollectedRule>();
	for (const rule of collection.rules) {
		byOrigin.set(rule.origin, rule);
		ruleOutcomes.set(rule.origin, compiler.addRule(rule));
	}
	const compilation = compiler.result();
	for (const [entry, outcome] of compilation.macroOutcomes) macroOutcomes.set(entry, outcome);

	const report: RulesetReport = {
		policies: policies.map((p) =>
			policyReport(p, ruleOutcomes, macroOutcomes, byOrigin, collection.warnings.get(p.info)),
		),
		date: (options.now?.() ?? new Date()).toISOString(),
		...(problems.length > 0 ? { errors: [...problems] } : {}),
	};
	return { ...compilation, report, counts: countReport(report), policies, agentVersion };
};

const policyReport = (
	p: PolicyFile,
	ruleOutcomes: ReadonlyMap<RuleEntry, RuleOutcome>,
	macroOutcomes: ReadonlyMap<MacroEntry, RuleOutcome>,
	byOrigin: ReadonlyMap<RuleEntry, CollectedRule>,
	mergeWarnings: readonly string[] | undefined,
): PolicyReport => {
	const rules: RuleReport[] = [];
	for (const entry of p.rules) {
		const outcome = ruleOutcomes.get(entry);
		// a later definition merged into an earlier one shows in that rule's modified_by
		if (!outcome) continue;
		const merged = byOrigin.get(entry);
		const def = merged?.def ?? entry.def;
		const r: RuleReport = {
			id: entry.id,
			...(def?.version !== undefined ? { version: def.version } : {}),
			expression: def?.expression ?? entry.rawExpression,
			status: outcome.status,
			...(outcome.message ? { message: outcome.message } : {}),
			...(def?.tags ? { tags: { ...def.tags } } : {}),
			...(def?.product_tags ? { product_tags: [...def.product_tags] } : {}),
			...(def?.actions?.length ? { actions: def.actions.map((a) => actionReport(a, def)) } : {}),
			...(merged && merged.modifiedBy.length > 0
				? { modified_by: merged.modifiedBy.map((m) => ({ ...m })) }
				: {}),
		};
		rules.push(r);
	}
	const macros: MacroReport[] = [];
	for (const entry of p.macros) {
		const outcome = macroOutcomes.get(entry);
		if (!outcome) continue;
		macros.push({
			id: entry.id,
			status: outcome.status === "loaded" || outcome.status === "filtered" ? outcome.status : "error",
			...(outcome.message ? { message: outcome.message } : {}),
		});
	}
	const warnings = [...p.warnings, ...(mergeWarnings ?? [])];
	return {
		name: p.info.name,
		version: p.info.version,
		source: p.info.source,
		rules,
		...(macros.length > 0 ? { macros } : {}),
		...(warnings.length > 0 ? { warnings } : {}),
		...(p.errors.length > 0 ? { errors: [...p.errors] } : {}),
	};
};
