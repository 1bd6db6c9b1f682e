/**
 * @module `vigil policy check` and `vigil policy eval`: load policies as the agent would and
 * report every rule's outcome, or evaluate one loaded rule against one event.
 *
 *   vigil policy check --policies rules/ [--manifest manifest.yaml] [--json]
 *   vigil policy eval --policies rules/ --rule-id my_rule --event-file event.json
 */
import { resolve } from "node:path";
import { loadManifest, type Manifest, producedEventTypes } from "../manifest.ts";
import { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import {
	AgentVersionError,
	formatReport,
	hasFailures,
	type LoadedRule,
	type LoadOptions,
	loadPolicies,
	normalizeAgentVersion,
	type PolicyLoad,
	type RuleReport,
} from "../policy/index.ts";
import { approversOf } from "../secl/index.ts";
import { loadOrReport } from "./agent.ts";
import { type Command, type CommandIO, parseFlags, UsageError } from "./command.ts";
import { EventFileError, readEventFile, valuesRead, valuesReadLines } from "./event-file.ts";

const CHECK_HELP = `Usage: vigil policy check [--policies DIR]... [--manifest FILE] [--json] [--windows-model]
                          [--agent-version VERSION]

Loads every *.policy file of the rules directories the way the agent does (default.policy
first, then the others by name; filters and agent_version evaluated on this host) and prints
each rule's status: loaded, filtered (left out by filters, agent_version or disabled, with the
reason), event_type_disabled, agent_version_error, syntax_error or error (with file:line:col).

  --policies DIR      a rules directory (repeatable); default: the rule-engine's directories of
                      --manifest, else ./rules
  --manifest FILE     check against this manifest: its plugins' fields, its agent version, and
                      rules over event types no configured probe produces are event_type_disabled
                      (without it every event type of the model counts as available)
  --json              print the ruleset_loaded report (Datadog's structure, with vigil's
                      filtered status, macros, warnings and errors)
  --windows-model     load as a Windows agent would: Windows field model, os == "windows"
  --agent-version V   Datadog agent version for agent_version constraints (default: the
                      manifest's, else vigil's compatibility version)

Exit codes: 0 every rule loaded or was left out on purpose; 1 a rule, macro or file failed
(syntax_error, error, agent_version_error, unreadable file) or the manifest has problems;
2 invalid command line.`;

const EVAL_HELP = `Usage: vigil policy eval --policies DIR --rule-id ID --event-file FILE [--json] [--windows-model]

Loads the policies of DIR, then evaluates rule ID against the event of FILE and prints whether
it matched, the rule's approvers (values its fields must take, usable as in-kernel filters) and
the value of every field it read. Actions do not run.

  --event-file FILE   {"type":"open","timestamp":<ns or ISO-8601>,"values":{"<field>":<value>}}
                      (timestamp defaults to now; durations compare against it)
  --json              print {rule, matched, eventType, approvers, values}, or {error}
  --windows-model     Windows field model and filters

Exit codes: 0 the event matches; 1 it does not; 2 the rule is not loaded (unknown, filtered,
failed: the reason is printed) or the event file is invalid, or invalid command line.`;

const CHECK_OPTIONS = {
	policies: { type: "string", multiple: true },
	manifest: { type: "string" },
	json: { type: "boolean" },
	"windows-model": { type: "boolean" },
	"agent-version": { type: "string" },
} as const;

const EVAL_OPTIONS = {
	policies: { type: "string", multiple: true },
	"rule-id": { type: "string" },
	"event-file": { type: "string" },
	json: { type: "boolean" },
	"windows-model": { type: "boolean" },
	"agent-version": { type: "string" },
} as const;

const parse = <O extends typeof CHECK_OPTIONS | typeof EVAL_OPTIONS>(args: readonly string[], options: O) =>
	parseFlags(args, options, { positionals: false });

const agentVersionFlag = (value: string | undefined): string | undefined => {
	if (value === undefined) return undefined;
	try {
		return normalizeAgentVersion(value);
	} catch (e) {
		if (e instanceof AgentVersionError) throw new UsageError(`--agent-version: ${e.message}`);
		throw e;
	}
};

/** The rules directories the rule-engine entries of a manifest load. */
const manifestPolicyDirs = (manifest: Manifest): string[] => {
	const dirs: string[] = [];
	for (const p of manifest.plugins) {
		if (p.plugin.kind !== "processor" || p.plugin.name !== "rule-engine") continue;
		const config = p.config as { policies?: string[] };
		for (const d of config.policies ?? ["rules"]) dirs.push(resolve(manifest.baseDir, d));
	}
	return dirs;
};

const checkCommand: Command = {
	path: ["policy", "check"],
	summary: "load policies and report every rule's status",
	help: CHECK_HELP,
	async run(args: readonly string[], io: CommandIO): Promise<number> {
		const { values } = parse(args, CHECK_OPTIONS);
		const windows = values["windows-model"] === true;
		let agentVersion = agentVersionFlag(values["agent-version"]);
		const options: { -readonly [K in keyof LoadOptions]: LoadOptions[K] } = {
			dirs: [],
			windowsModel: windows,
		};
		let dirs = (values.policies ?? []).map((d) => resolve(io.cwd, d));
		if (values.manifest) {
			const file = resolve(io.cwd, values.manifest);
			const loaded = await loadOrReport(() => loadManifest(file), io, windows ? "windows" : "linux");
			if (typeof loaded === "number") return loaded;
			const { manifest } = loaded;
			options.registry = loaded.registry;
			options.enabledEventTypes = producedEventTypes(manifest, loaded.registry);
			agentVersion ??= manifest.agent.datadog_agent_version;
			if (dirs.length === 0) dirs = manifestPolicyDirs(manifest);
		}
		if (dirs.length === 0) dirs = [resolve(io.cwd, "rules")];
		options.dirs = dirs;
		if (agentVersion) options.agentVersion = agentVersion;
		const load = await loadPolicies(options);
		if (values.json) io.out(JSON.stringify(load.report, null, 2));
		else io.out(formatReport(load.report));
		return hasFailures(load.counts) ? 1 : 0;
	},
};

/** The report line of `id` (written id or expanded id), for saying why it is not loaded. */
const reportOf = (load: PolicyLoad, id: string): RuleReport | undefined => {
	for (const p of load.report.policies) for (const r of p.rules) if (r.id === id) return r;
	return undefined;
};

const evalCommand: Command = {
	path: ["policy", "eval"],
	summary: "evaluate one loaded rule against one event",
	help: EVAL_HELP,
	async run(args: readonly string[], io: CommandIO): Promise<number> {
		const { values } = parse(args, EVAL_OPTIONS);
		if (!values.policies?.length) throw new UsageError("--policies is required");
		const id = values["rule-id"];
		if (!id) throw new UsageError("--rule-id is required");
		if (!values["event-file"]) throw new UsageError("--event-file is required");
		const json = values.json === true;
		const windows = values["windows-model"] === true;
		const registry = FieldRegistry.forOs(windows ? "windows" : "linux");
		const agentVersion = agentVersionFlag(values["agent-version"]);
		const fail = (code: string, message: string): number => {
			if (json) io.out(JSON.stringify({ rule: id, error: { code, message } }, null, 2));
			else io.err(`vigil policy eval: ${message}`);
			return 2;
		};
		const load = await loadPolicies({
			dirs: values.policies.map((d) => resolve(io.cwd, d)),
			windowsModel: windows,
			registry,
			...(agentVersion ? { agentVersion } : {}),
		});
		let event: Event;
		try {
			event = readEventFile(resolve(io.cwd, values["event-file"]), registry);
		} catch (e) {
			if (!(e instanceof EventFileError)) throw e;
			return fail("invalid_event", e.message);
		}
		// a fim rule is loaded as one rule per event type: take the one of the event's type
		const candidates = [...load.rules.values()].filter((r) => r.id === id || r.def.id === id);
		if (candidates.length === 0) {
			const line = reportOf(load, id);
			return fail(
				line ? `rule_${line.status}` : "unknown_rule",
				line
					? `rule ${id} is not loaded: ${line.status}${line.message ? `: ${line.message}` : ""}`
					: `no rule ${id} in ${values.policies.join(", ")}`,
			);
		}
		const rule: LoadedRule = candidates.find((r) => r.eventType === event.type) ?? candidates[0]!;
		const sameType = rule.eventType === event.type;
		const matched = sameType && rule.compiled.evaluate(event);
		const read = valuesRead(registry, rule.compiled.fields, event);
		const approvers = approversOf(rule.compiled)[rule.eventType] ?? {};
		if (json) {
			io.out(
				JSON.stringify(
					{ rule: rule.id, matched, eventType: rule.eventType, approvers, values: read },
					null,
					2,
				),
			);
		} else {
			const lines = [`${rule.id}: ${matched ? "match" : "no match"}`];
			if (!sameType)
				lines.push(`the rule applies to ${rule.eventType} events, this is a ${event.type} event`);
			lines.push("approvers:");
			const fields = Object.entries(approvers);
			if (fields.length === 0) lines.push("  (none: every event of the type is evaluated)");
			for (const [field, list] of fields) {
				lines.push(`  ${field}: ${list.map((a) => `${a.kind} ${JSON.stringify(a.value)}`).join(", ")}`);
			}
			lines.push(...valuesReadLines(read));
			io.out(lines.join("\n"));
		}
		return matched ? 0 : 1;
	},
};

export const policyCommands: readonly Command[] = [checkCommand, evalCommand];
