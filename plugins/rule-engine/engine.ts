/**
 * @module The rule engine proper: holds the loaded rule set, evaluates it on every event of a
 * batch, runs the matched rules' actions and raises rate-limited alerts.
 *
 * A reload builds a complete new state (rule set, per-rule limiters and disarmers) off to the
 * side and swaps one reference; `process` reads that reference once per batch, so a batch never
 * sees a half-built rule set and the switch happens between batches. Actions whose outcome is
 * not known within the batch (a file hash, waiting for a SIGKILLed process to exit) delay their
 * alert, never the batch.
 */

import { errorText } from "../../core/errors.ts";
import type { FieldRegistry } from "../../core/model/registry.ts";
import type { Alert, CustomEvent, Event } from "../../core/model/types.ts";
import {
	type HostFacts,
	type LoadedAction,
	type LoadedRule,
	loadPolicies,
	type PolicyLoad,
	type RulesetReport,
	summaryLine,
} from "../../core/policy/index.ts";
import type { Counter, Logger, Output, Stats } from "../../core/sdk.ts";
import { VariableStore } from "../../core/secl/index.ts";
import type { ProcessCacheService } from "../process-resolver/index.ts";
import { type DisarmerOptions, RuleDisarmer } from "./disarmer.ts";
import { FileHasher, type HashOptions } from "./hash.ts";
import { type KillRequest, ProcessKiller } from "./kill.ts";
import { type LimiterOptions, type RuleLimiter, ruleLimiter } from "./limiter.ts";

export interface EnforcementOptions {
	readonly enabled: boolean;
	readonly container: DisarmerOptions;
	readonly executable: DisarmerOptions;
	/** How long to watch a SIGKILLed process for its exit before sending the alert (ms). */
	readonly exitTimeoutMs: number;
}

export interface EngineOptions {
	/** Rules directories (absolute, or relative to the working directory). */
	readonly dirs: readonly string[];
	readonly agentVersion?: string;
	readonly windowsModel: boolean;
	readonly registry: FieldRegistry;
	/** Event types the configured probes produce (undefined: all). Read at each load. */
	readonly enabledEventTypes: () => ReadonlySet<string> | undefined;
	readonly enforcement: EnforcementOptions;
	readonly hash: HashOptions;
	readonly limiter: LimiterOptions;
	/** Events of this pid (the agent's own) are never evaluated. */
	readonly ownPid: number;
	readonly log: Logger;
	readonly stats: Stats;
	readonly emitCustom: (event: CustomEvent) => void;
	/** Sends an alert whose actions finished after its batch. */
	readonly emitAlert: (alert: Alert) => void;
	readonly processCache?: () => ProcessCacheService | undefined;
	/** Host facts for `filters` (default: this machine). */
	readonly host?: HostFacts;
	/** Wall clock in ns (custom event times). */
	readonly now?: () => number;
}

/** What a rule needs at run time besides its definition. */
interface RuleRuntime {
	readonly rule: LoadedRule;
	readonly limiter: RuleLimiter;
	readonly disarmer: RuleDisarmer | undefined;
	readonly matches: Counter;
	readonly alerts: Counter;
	readonly dropped: Counter;
}

interface EngineState {
	readonly load: PolicyLoad;
	readonly runtimes: ReadonlyMap<string, RuleRuntime>;
	readonly variables: VariableStore;
}

const LOG_LEVEL = { debug: "debug", info: "info", warning: "warn", error: "error" } as const;
/** At most this many failing rules are logged one per line after a load (all are in the report). */
const LOGGED_FAILURES = 20;

export class RuleEngine {
	#state: EngineState | undefined;
	readonly #options: EngineOptions;
	readonly #killer: ProcessKiller;
	readonly #hasher: FileHasher;
	readonly #now: () => number;
	readonly #actionCounters = new Map<string, Counter>();
	readonly #skippedOwn: Counter;
	readonly #skippedError: Counter;
	readonly #reloads: Counter;
	readonly #inflight = new Set<Promise<void>>();
	/** Process scopes to free after the batch (when there is no process cache to tell us). */
	readonly #exited: string[] = [];
	#running: Promise<PolicyLoad> | undefined;
	#queued: Promise<PolicyLoad> | undefined;
	readonly #loadListeners: ((load: PolicyLoad) => void)[] = [];

	constructor(options: EngineOptions) {
		this.#options = options;
		this.#now = options.now ?? (() => Date.now() * 1e6);
		this.#killer = new ProcessKiller({
			exitTimeoutMs: options.enforcement.exitTimeoutMs,
			containerPids: (id) =>
				options
					.processCache?.()
					?.byContainer(id)
					.map((p) => p.pid ?? 0),
		});
		this.#hasher = new FileHasher(options.hash);
		this.#skippedOwn = options.stats.counter("rule_engine.skipped", { reason: "own_pid" });
		this.#skippedError = options.stats.counter("rule_engine.skipped", { reason: "event_error" });
		this.#reloads = options.stats.counter("rule_engine.loads");
		options.stats.gauge("rule_engine.rules", () => this.#state?.load.ruleSet.size ?? 0);
		options.stats.gauge("rule_engine.pending_actions", () => this.#inflight.size);
	}

	/** The latest load's report (undefined before the first load). */
	get report(): RulesetReport | undefined {
		return this.#state?.load.report;
	}

	/** The latest load (rule set, outcomes, variables). */
	get current(): PolicyLoad | undefined {
		return this.#state?.load;
	}

	/** Called after every load, once the new rule set is in place. */
	onLoad(listener: (load: PolicyLoad) => void): void {
		this.#loadListeners.push(listener);
	}

	/**
	 * Load the policies again and swap the rule set in. Calls made while a load runs share one
	 * follow-up load, so a burst of file changes costs at most two loads.
	 */
	reload(): Promise<PolicyLoad> {
		if (this.#queued) return this.#queued;
		if (this.#running) {
			this.#queued = this.#running
				.catch(() => undefined)
				.then(() => {
					this.#queued = undefined;
					return this.#start();
				});
			return this.#queued;
		}
		return this.#start();
	}

	#start(): Promise<PolicyLoad> {
		const run = this.#load().finally(() => {
			if (this.#running === run) this.#running = undefined;
		});
		this.#running = run;
		return run;
	}

	async #load(): Promise<PolicyLoad> {
		const o = this.#options;
		const started = performance.now();
		const previous = this.#state?.variables;
		const attempt = (variables: VariableStore | undefined) =>
			loadPolicies({
				dirs: o.dirs,
				windowsModel: o.windowsModel,
				registry: o.registry,
				...(o.agentVersion ? { agentVersion: o.agentVersion } : {}),
				...(o.host ? { host: o.host } : {}),
				...(variables ? { variables } : {}),
				enabledEventTypes: o.enabledEventTypes(),
			});
		// keep variable values across reloads; a variable whose type changed needs a fresh store
		let load = await attempt(previous);
		if (previous && load.variableConflicts > 0) load = await attempt(undefined);
		const runtimes = new Map<string, RuleRuntime>();
		for (const rule of load.rules.values()) runtimes.set(rule.id, this.#runtime(rule));
		this.#state = { load, runtimes, variables: load.context.variables };
		this.#reloads.inc();
		const ms = Math.round(performance.now() - started);
		o.log.info(`policies loaded: ${summaryLine(load.counts)} in ${ms} ms`);
		this.#logFailures(load.report);
		o.emitCustom({
			kind: "custom",
			type: "ruleset_loaded",
			timestamp: this.#now(),
			data: { ...load.report },
		});
		for (const l of this.#loadListeners) l(load);
		return load;
	}

	#logFailures(report: RulesetReport): void {
		const lines: string[] = [...(report.errors ?? [])];
		for (const p of report.policies) {
			lines.push(...(p.errors ?? []));
			for (const m of p.macros ?? [])
				if (m.status === "error") lines.push(`macro ${m.id}: ${m.message ?? ""}`);
			for (const r of p.rules) {
				if (r.status === "error" || r.status === "syntax_error" || r.status === "agent_version_error") {
					lines.push(`rule ${r.id}: ${r.status}: ${r.message ?? ""}`);
				}
			}
		}
		for (const line of lines.slice(0, LOGGED_FAILURES)) this.#options.log.warn(line);
		if (lines.length > LOGGED_FAILURES) {
			this.#options.log.warn(
				`… and ${lines.length - LOGGED_FAILURES} more problems (see the ruleset_loaded report)`,
			);
		}
	}

	#runtime(rule: LoadedRule): RuleRuntime {
		const o = this.#options;
		const tags = { rule_id: rule.id };
		const kills = rule.actions.some((a) => a.def.kill);
		return {
			rule,
			limiter: ruleLimiter(rule.def.every, rule.limiterToken, o.limiter),
			disarmer: kills ? new RuleDisarmer(o.enforcement.container, o.enforcement.executable) : undefined,
			matches: o.stats.counter("rule_engine.matches", tags),
			alerts: o.stats.counter("rule_engine.rate_limiter.allow", tags),
			dropped: o.stats.counter("rule_engine.rate_limiter.drop", tags),
		};
	}

	#count(action: string, outcome: string): void {
		const key = `${action}\0${outcome}`;
		let c = this.#actionCounters.get(key);
		if (!c) {
			c = this.#options.stats.counter("rule_engine.actions", { action, outcome });
			this.#actionCounters.set(key, c);
		}
		c.inc();
	}

	/** A process has exited: free its process-scoped variables. */
	processExited(pid: number, createdAt: number | undefined): void {
		this.#state?.variables.freeScope("process", VariableStore.processKey(pid, createdAt ?? 0));
	}

	/** Evaluate one batch (the processor's `process`). */
	process(batch: Event[], out: Output): void {
		const state = this.#state;
		if (!state) return;
		const ownPid = this.#options.ownPid;
		const trackExits = this.#options.processCache?.() === undefined;
		// one callback per batch: the rule set hands over the rule, the loop holds the event
		let event: Event;
		const onMatch = (_id: string, rule: LoadedRule) => this.#matched(state, rule, event, out);
		for (let i = 0; i < batch.length; i++) {
			event = batch[i]!;
			if (event.process?.pid === ownPid) {
				this.#skippedOwn.inc();
				continue;
			}
			if (event.error) {
				this.#skippedError.inc();
				continue;
			}
			if (event.type === "fork" && event.process.is_thread !== true) {
				state.variables.fork(event.process, event.process.parent ?? event.process.ancestors?.[0]);
			}
			state.load.ruleSet.evaluate(event, onMatch);
			if (trackExits && event.type === "exit" && event.process.pid !== undefined) {
				this.#exited.push(VariableStore.processKey(event.process.pid, event.process.created_at ?? 0));
			}
		}
		if (this.#exited.length > 0)
			for (const key of this.#exited.splice(0)) state.variables.freeScope("process", key);
	}

	#matched(state: EngineState, rule: LoadedRule, event: Event, out: Output): void {
		const runtime = state.runtimes.get(rule.id);
		if (!runtime) return;
		runtime.matches.inc();
		const results: Record<string, unknown>[] = [];
		const pending: Promise<void>[] = [];
		for (const action of rule.actions) {
			if (action.filter && !action.filter(event)) {
				this.#count(kindOf(action), "filtered");
				continue;
			}
			this.#run(action, rule, runtime, event, results, pending);
		}
		if (rule.def.silent) return;
		if (!runtime.limiter.allow(event)) {
			runtime.dropped.inc();
			return;
		}
		runtime.alerts.inc();
		const alert: Alert = {
			kind: "alert",
			timestamp: event.timestamp,
			rule: {
				id: rule.def.id,
				...(rule.def.version !== undefined ? { version: rule.def.version } : {}),
				...(rule.def.description !== undefined ? { description: rule.def.description } : {}),
				...(rule.def.tags ? { tags: { ...rule.def.tags } } : {}),
				...(rule.def.product_tags ? { product_tags: [...rule.def.product_tags] } : {}),
				...(rule.def.group_id !== undefined ? { group_id: rule.def.group_id } : {}),
				policy: { ...rule.policy },
			},
			event,
			...(results.length > 0 ? { actions: results } : {}),
		};
		const variables = state.variables.serializable(event);
		if (Object.keys(variables).length > 0) alert.context = { variables };
		if (pending.length === 0) {
			out.alert(alert);
			return;
		}
		const deliver = () => this.#options.emitAlert(alert);
		const done: Promise<void> = Promise.all(pending).then(deliver, deliver);
		this.#inflight.add(done);
		done.finally(() => this.#inflight.delete(done));
	}

	#run(
		action: LoadedAction,
		rule: LoadedRule,
		runtime: RuleRuntime,
		event: Event,
		results: Record<string, unknown>[],
		pending: Promise<void>[],
	): void {
		const def = action.def;
		if (action.set) {
			const set = action.set;
			try {
				const value = set.value(event);
				if (value === undefined) {
					this.#count("set", "no_value");
					return;
				}
				let key: string | undefined;
				if (set.scopePid) {
					const pid = set.scopePid(event);
					key = VariableStore.processKey(pid, this.#options.processCache?.()?.get(pid)?.created_at ?? 0);
				}
				if (set.def.append) set.variable.append(event, value, key);
				else set.variable.set(event, value, key);
				this.#count("set", "done");
			} catch (e) {
				this.#count("set", "error");
				this.#options.log.debug(`rule ${rule.id}: set ${set.def.name} failed: ${errorText(e)}`);
			}
			return;
		}
		if (def.log) {
			const level = LOG_LEVEL[def.log.level];
			this.#options.log[level](def.log.message ?? `Rule ${rule.def.id} triggered`, {
				rule_id: rule.def.id,
				event_type: event.type,
			});
			this.#count("log", "done");
			return;
		}
		if (def.kill) {
			const req: KillRequest = {
				signal: def.kill.signal,
				scope: def.kill.scope ?? "process",
				pid: event.process?.pid,
				containerId: event.container?.id || event.process?.container?.id || "",
				timestamp: event.timestamp,
			};
			let report: Record<string, unknown>;
			if (!this.#options.enforcement.enabled) {
				report = { ...this.#killer.refused(req, "enforcement_disabled", "enforcement is disabled") };
			} else {
				const verdict = runtime.disarmer!.allow(
					event.timestamp,
					req.containerId,
					String(event.process?.file?.path ?? ""),
					{
						container: def.kill.disable_container_disarmer === true,
						executable: def.kill.disable_executable_disarmer === true,
					},
				);
				if (!verdict.allowed) {
					report = { ...this.#killer.refused(req, "rule_disarmed", verdict.reason) };
				} else {
					const { report: r, exited } = this.#killer.kill(req);
					report = r as unknown as Record<string, unknown>;
					if (exited) pending.push(exited.then(() => undefined));
				}
			}
			this.#count("kill", String(report.status));
			results.push(report);
			return;
		}
		if (def.hash) {
			const slot = results.length;
			const path = action.hashPath?.(event) ?? "";
			results.push({ type: "hash", path, state: "PENDING", trigger: "rule" });
			pending.push(
				this.#hasher.hash(path, event.process?.pid, event.timestamp).then((r) => {
					results[slot] = { ...r };
					this.#count("hash", r.state.toLowerCase());
				}),
			);
			return;
		}
		if (def.coredump) {
			results.push({
				type: "coredump",
				status: "unsupported",
				message: "coredump actions are not supported by vigil",
			});
			this.#count("coredump", "unsupported");
		}
	}

	/** Wait (up to `timeoutMs`) for the alerts whose actions are still running. */
	async drain(timeoutMs: number): Promise<void> {
		if (this.#inflight.size === 0) return;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const timeout = new Promise<void>((resolve) => {
			timer = setTimeout(resolve, timeoutMs);
		});
		await Promise.race([Promise.allSettled([...this.#inflight]), timeout]);
		clearTimeout(timer);
	}
}

const kindOf = (a: LoadedAction): string =>
	a.def.set
		? "set"
		: a.def.kill
			? "kill"
			: a.def.hash
				? "hash"
				: a.def.log
					? "log"
					: a.def.coredump
						? "coredump"
						: "unknown";
