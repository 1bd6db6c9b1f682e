/**
 * @module A plugin context for driving one plugin outside the agent: the core's own stats,
 * services and field registry, with what the plugin logs and sends (custom events, late alerts,
 * a processor's output) kept in arrays a test can read.
 *
 * When to use: tests, benchmarks and scripts that call a plugin's `setup` themselves. The agent
 * builds its contexts in `core/agent.ts`.
 */
import type { LogRoot } from "../core/log.ts";
import { FieldRegistry } from "../core/model/registry.ts";
import type { Alert, CustomEvent, Logger, Output, PluginContext } from "../core/sdk.ts";
import { ServiceRegistry } from "../core/services.ts";
import { StatsRegistry } from "../core/stats.ts";
import { DATADOG_AGENT_VERSION, VIGIL_VERSION } from "../core/version.ts";

export interface LogLine {
	level: string;
	message: string;
	fields?: Record<string, unknown>;
}

/** A logger that appends every line to `lines`. */
export const recordingLogger = (lines: LogLine[]): Logger => {
	const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
		lines.push({ level, message, ...(fields ? { fields } : {}) });
	};
	return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
};

/** The Linux field registry, built once for every test of a process that does not need its own. */
export const registry = FieldRegistry.linux();

export interface TestContextOptions {
	/** Instance name (default `test`): the logger's source and the services' owner. */
	name?: string;
	/** Folder relative paths in the plugin's config resolve from (default: the working directory). */
	baseDir?: string;
	registry?: FieldRegistry;
	/** Log through this root (`new LogRoot("info")` prints to stderr) instead of into `logs`. */
	log?: LogRoot;
	/** Hand custom events and late alerts to this instead of keeping them in `custom` and `alerts`. */
	forward?: (item: CustomEvent | Alert) => void;
	/** Event types the configured probes produce (default: every type of the registry). */
	produced?: Iterable<string>;
}

export interface TestContext {
	ctx: PluginContext;
	stats: StatsRegistry;
	services: ServiceRegistry;
	logs: LogLine[];
	/** Custom events, from `ctx.emitCustom` and from `out`, in order. */
	custom: CustomEvent[];
	/** Alerts, raised in a batch (through `out`) and later (through `ctx.emitAlert`), in order. */
	alerts: Alert[];
	/** The output to give a processor's `process`. */
	out: Output;
	/** Aborts `ctx.signal`, as the agent does when it stops. */
	abort: AbortController;
}

export const testContext = (options: TestContextOptions = {}): TestContext => {
	const name = options.name ?? "test";
	const reg = options.registry ?? registry;
	const stats = new StatsRegistry();
	const services = new ServiceRegistry();
	const logs: LogLine[] = [];
	const custom: CustomEvent[] = [];
	const alerts: Alert[] = [];
	const abort = new AbortController();
	const produced = new Set(options.produced ?? [...reg.eventTypes()].map((t) => t.name));
	const forward = options.forward;
	const ctx: PluginContext = {
		name,
		log: options.log ? options.log.for(name) : recordingLogger(logs),
		stats,
		registry: reg,
		services: services.for(name),
		agent: {
			hostname: "test",
			version: VIGIL_VERSION,
			datadogAgentVersion: DATADOG_AGENT_VERSION,
			os: "linux",
			arch: process.arch,
			pid: process.pid,
			baseDir: options.baseDir ?? process.cwd(),
		},
		emitCustom: forward ?? ((e) => void custom.push(e)),
		emitAlert: forward ?? ((a) => void alerts.push(a)),
		producedEventTypes: () => produced,
		signal: abort.signal,
	};
	const out: Output = { alert: (a) => void alerts.push(a), custom: (c) => void custom.push(c) };
	return { ctx, stats, services, logs, custom, alerts, out, abort };
};

/** The sum of every counter named `name`, whatever its tags. */
export const counterSum = (stats: StatsRegistry, name: string): number =>
	Object.entries(stats.snapshot())
		.filter(([key]) => key === name || key.startsWith(`${name}{`))
		.reduce((sum, [, value]) => sum + value, 0);
