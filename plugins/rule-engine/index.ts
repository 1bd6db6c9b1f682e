/**
 * @module The rule engine, processor #4 in the dispatch order (after the process resolver and
 * the profile stages, before the monitor): evaluates the SECL rules of the policies in its rules
 * directories on every event, runs their actions (`set`, `log`, `kill`, `hash`; `coredump` is
 * reported unsupported) and raises alerts, rate limited per rule in event time.
 *
 * Policies reload when a `*.policy` file changes (debounced), on SIGHUP, or through the service
 * `vigil/rule-engine` ({@link RuleEngineService}); each load sends a `ruleset_loaded` custom event
 * and logs a summary, and `heartbeat` custom events follow. See README.md for the manifest entry.
 */
import { isAbsolute, join } from "node:path";
import * as v from "valibot";
import { durationMs, durationNs, durationSchema } from "../../core/duration.ts";
import { errorText } from "../../core/errors.ts";
import { FieldRegistry } from "../../core/model/registry.ts";
import {
	detectHost,
	normalizeAgentVersion,
	type RulesetReport,
	windowsHost,
} from "../../core/policy/index.ts";
import type { ProcessorPlugin } from "../../core/sdk.ts";
import { PROCESS_CACHE_SERVICE, type ProcessCacheService } from "../process-resolver/index.ts";
import { RuleEngine } from "./engine.ts";
import { RATE_LIMIT_DEFAULTS } from "./limiter.ts";
import { Heartbeat, PolicyWatcher } from "./reload.ts";

/** The key other plugins (and the control API) reach the rule engine under. */
export const RULE_ENGINE_SERVICE = "vigil/rule-engine";

/** What `ctx.services.get("vigil/rule-engine")` returns. */
export interface RuleEngineService {
	/** Load the policies again; resolves to the new report once the new rule set is in place. */
	reload(): Promise<RulesetReport>;
	/** The latest load report (undefined before the first load). */
	report(): RulesetReport | undefined;
}

const Duration = durationSchema('"500ms", "1m"', '"500ms"');
const Count = (min: number) => v.pipe(v.number(), v.integer(), v.minValue(min));

const Disarmer = v.strictObject({
	enabled: v.optional(v.boolean(), true),
	/** Distinct containers (or executables) a rule may kill in within `period`. */
	max_allowed: v.optional(Count(1), 5),
	period: v.optional(Duration, "1m"),
});

export const RuleEngineConfig = v.strictObject({
	/** Rules directories, relative to the manifest's folder; every `*.policy` file in them loads. */
	policies: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), ["rules"]),
	/** Datadog agent version for `agent_version` constraints (default: the agent's). */
	agent_version: v.optional(
		v.pipe(
			v.string(),
			v.check((s) => {
				try {
					normalizeAgentVersion(s);
					return true;
				} catch {
					return false;
				}
			}, "expected a version such as 7.73.0"),
		),
	),
	/** Load policies as a Windows agent would (Windows field model, `os == "windows"` filters). */
	windows_model: v.optional(v.boolean(), false),
	reload: v.optional(
		v.strictObject({
			/** Reload when a policy file in a rules directory changes. */
			watch: v.optional(v.boolean(), true),
			/** Quiet time after the last change before reloading (Datadog waits 5 s). */
			debounce: v.optional(Duration, "500ms"),
			/** Reload on SIGHUP. */
			sighup: v.optional(v.boolean(), true),
		}),
		{},
	),
	heartbeat: v.optional(
		v.strictObject({
			first_interval: v.optional(Duration, "1m"),
			first_count: v.optional(Count(0), 5),
			interval: v.optional(Duration, "10m"),
		}),
		{},
	),
	enforcement: v.optional(
		v.strictObject({
			/** When false, `kill` actions are reported and never performed. */
			enabled: v.optional(v.boolean(), true),
			disarmer: v.optional(
				v.strictObject({
					container: v.optional(Disarmer, {}),
					executable: v.optional(Disarmer, {}),
				}),
				{},
			),
			/** How long a SIGKILLed process is watched for its exit before the alert goes. */
			exit_timeout: v.optional(Duration, "2s"),
		}),
		{},
	),
	hash: v.optional(
		v.strictObject({
			/** Bytes; bigger files are reported FILE_TOO_BIG. */
			max_file_size: v.optional(Count(1), 10 * 1024 * 1024),
			/** Files hashed per second of event time. */
			max_hash_rate: v.optional(Count(1), 500),
			algorithms: v.optional(
				v.pipe(v.array(v.picklist(["sha1", "sha256", "md5", "sha512"])), v.minLength(1)),
				["sha1", "sha256"],
			),
			/** Hash requests waiting before new ones are refused. */
			max_pending: v.optional(Count(1), 1024),
		}),
		{},
	),
	rate_limit: v.optional(
		v.strictObject({
			/** Default limiter of a rule: one alert per `period`, bursts of `burst`. */
			period: v.optional(Duration, RATE_LIMIT_DEFAULTS.period),
			burst: v.optional(Count(1), RATE_LIMIT_DEFAULTS.burst),
			/** Distinct tokens tracked per `limiter_token` rule. */
			max_tokens: v.optional(Count(1), RATE_LIMIT_DEFAULTS.max_tokens),
		}),
		{},
	),
});
export type RuleEngineConfig = v.InferOutput<typeof RuleEngineConfig>;

const plugin: ProcessorPlugin<RuleEngineConfig> = {
	kind: "processor",
	name: "rule-engine",
	description: "SECL rules from policy files on every event: actions (set, log, kill, hash) and alerts",
	config: RuleEngineConfig,
	setup(ctx, config) {
		const dirs = config.policies.map((d) => (isAbsolute(d) ? d : join(ctx.agent.baseDir, d)));
		let registry: FieldRegistry;
		if (config.windows_model) registry = FieldRegistry.windows();
		else if (ctx.registry instanceof FieldRegistry) registry = ctx.registry;
		else {
			ctx.log.warn("the agent's field registry is not a FieldRegistry; rules see the built-in model only");
			registry = FieldRegistry.forOs(ctx.registry.os);
		}
		const cache = () => ctx.services.get<ProcessCacheService>(PROCESS_CACHE_SERVICE);
		const disarmer = (d: v.InferOutput<typeof Disarmer>) => ({
			enabled: d.enabled,
			maxAllowed: d.max_allowed,
			period: durationNs(d.period),
		});
		const engine = new RuleEngine({
			dirs,
			agentVersion: config.agent_version ?? ctx.agent.datadogAgentVersion,
			windowsModel: config.windows_model,
			registry,
			// filters see the host name the agent reports, which the manifest may set
			host: (config.windows_model ? windowsHost : detectHost)({ hostname: ctx.agent.hostname }),
			enabledEventTypes: () => ctx.producedEventTypes(),
			enforcement: {
				enabled: config.enforcement.enabled,
				container: disarmer(config.enforcement.disarmer.container),
				executable: disarmer(config.enforcement.disarmer.executable),
				exitTimeoutMs: durationMs(config.enforcement.exit_timeout),
			},
			hash: {
				algorithms: config.hash.algorithms,
				maxFileSize: config.hash.max_file_size,
				maxHashRate: config.hash.max_hash_rate,
				maxPending: config.hash.max_pending,
			},
			limiter: {
				period: durationNs(config.rate_limit.period),
				burst: config.rate_limit.burst,
				maxTokens: config.rate_limit.max_tokens,
			},
			ownPid: ctx.agent.pid,
			log: ctx.log,
			stats: ctx.stats,
			emitCustom: (e) => ctx.emitCustom(e),
			emitAlert: (alert) => ctx.emitAlert(alert),
			processCache: cache,
		});
		const heartbeat = new Heartbeat(
			{
				firstIntervalMs: durationMs(config.heartbeat.first_interval),
				firstCount: config.heartbeat.first_count,
				intervalMs: durationMs(config.heartbeat.interval),
			},
			() => {
				for (const p of engine.report?.policies ?? []) {
					const policy = { name: p.name, version: p.version, source: p.source };
					ctx.emitCustom({
						kind: "custom",
						type: "heartbeat",
						timestamp: Date.now() * 1e6,
						data: { policy, date: new Date().toISOString() },
					});
				}
			},
		);
		engine.onLoad(() => heartbeat.restart());
		const reload = (why: string) => {
			engine.reload().catch((e) => ctx.log.error(`policy reload (${why}) failed: ${errorText(e)}`));
		};
		const watcher = config.reload.watch
			? new PolicyWatcher(
					dirs,
					durationMs(config.reload.debounce),
					(files) => reload(`changed: ${files.join(", ")}`),
					ctx.log,
				)
			: undefined;
		const onSighup = () => reload("SIGHUP");
		let unsubscribeExit: (() => void) | undefined;
		// long enough for a SIGKILLed process to be seen exiting and a queued hash to finish
		const drainMs = durationMs(config.enforcement.exit_timeout) + 1000;
		const service: RuleEngineService = {
			reload: async () => (await engine.reload()).report,
			report: () => engine.report,
		};
		ctx.services.provide(RULE_ENGINE_SERVICE, service);
		return {
			async start() {
				await engine.reload();
				unsubscribeExit = cache()?.onExit((p) => {
					if (p.pid !== undefined) engine.processExited(p.pid, p.created_at);
				});
				watcher?.start();
				if (config.reload.sighup) process.on("SIGHUP", onSighup);
			},
			process(batch, out) {
				engine.process(batch, out);
			},
			flush: () => engine.drain(drainMs),
			async close() {
				watcher?.close();
				heartbeat.stop();
				process.off("SIGHUP", onSighup);
				unsubscribeExit?.();
				await engine.drain(drainMs);
			},
		};
	},
};

export default plugin;
