/**
 * @module Test support for the rule engine: a plugin context over the core's real stats and
 * services that records logs, custom events and late alerts; an engine over policies written to a
 * temp directory; events shaped like the process resolver's output.
 *
 * When to use: from this folder's `*.test.ts` files only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FieldRegistry } from "../../core/model/registry.ts";
import type { Alert, CustomEvent, Event, ProcessContext } from "../../core/model/types.ts";
import { detectHost } from "../../core/policy/index.ts";
import type { Logger, Output, PluginContext } from "../../core/sdk.ts";
import { ServiceRegistry } from "../../core/services.ts";
import { StatsRegistry } from "../../core/stats.ts";
import { type EngineOptions, RuleEngine } from "./engine.ts";
import { DEFAULT_LIMITER } from "./limiter.ts";

export interface LogLine {
	level: string;
	message: string;
	fields?: Record<string, unknown>;
}

export const recordingLogger = (lines: LogLine[]): Logger => {
	const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
		lines.push({ level, message, ...(fields ? { fields } : {}) });
	};
	return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
};

export const registry = FieldRegistry.linux();
export const host = detectHost();

/** Everything a test may look at after running the engine. */
export interface Recorder {
	readonly stats: StatsRegistry;
	readonly services: ServiceRegistry;
	readonly logs: LogLine[];
	readonly custom: CustomEvent[];
	/** Alerts raised in a batch (through `out`) and later (through `emitAlert`), in order. */
	readonly alerts: Alert[];
	readonly out: Output;
}

export const recorder = (): Recorder => {
	const alerts: Alert[] = [];
	const custom: CustomEvent[] = [];
	return {
		stats: new StatsRegistry(),
		services: new ServiceRegistry(),
		logs: [],
		custom,
		alerts,
		out: { alert: (a) => alerts.push(a), custom: (c) => custom.push(c) },
	};
};

export const pluginContext = (
	rec: Recorder,
	baseDir: string,
	produced?: ReadonlySet<string>,
): PluginContext => ({
	name: "rule-engine",
	log: recordingLogger(rec.logs),
	stats: rec.stats,
	registry,
	services: rec.services.for("rule-engine"),
	agent: {
		hostname: "test",
		version: "0.0.0",
		datadogAgentVersion: "7.73.0",
		os: "linux",
		arch: process.arch,
		pid: process.pid,
		baseDir,
	},
	emitCustom: (e) => rec.custom.push(e),
	emitAlert: (a) => rec.alerts.push(a),
	producedEventTypes: () => produced ?? new Set([...registry.eventTypes()].map((t) => t.name)),
	signal: new AbortController().signal,
});

/** A temp rules directory; `write` replaces a policy file. */
export const policyDir = (): {
	path: string;
	write: (name: string, text: string) => void;
	cleanup: () => void;
} => {
	const path = mkdtempSync(join(tmpdir(), "vigil-rule-engine-"));
	return {
		path,
		write: (name, text) => writeFileSync(join(path, name), text),
		cleanup: () => rmSync(path, { recursive: true, force: true }),
	};
};

/** An engine over `dir` with test-friendly defaults; `options` override them. */
export const engineFor = (dir: string, rec: Recorder, options: Partial<EngineOptions> = {}): RuleEngine =>
	new RuleEngine({
		dirs: [dir],
		windowsModel: false,
		registry,
		host,
		enabledEventTypes: () => undefined,
		enforcement: {
			enabled: true,
			container: { enabled: true, maxAllowed: 5, period: 60e9 },
			executable: { enabled: true, maxAllowed: 5, period: 60e9 },
			exitTimeoutMs: 5000,
		},
		hash: { algorithms: ["sha1", "sha256"], maxFileSize: 1 << 20, maxHashRate: 500, maxPending: 64 },
		limiter: DEFAULT_LIMITER,
		ownPid: process.pid,
		log: recordingLogger(rec.logs),
		stats: rec.stats,
		emitCustom: (e) => rec.custom.push(e),
		emitAlert: (a) => rec.alerts.push(a),
		...options,
	});

export const T0 = 1_700_000_000_000_000_000;

/**
 * An event of `type` with `payload` under its type key, for process `process`. For `exec` and
 * `exit` the payload is the process itself, as probes emit them.
 */
export const event = (
	type: string,
	payload: Record<string, unknown>,
	process: ProcessContext = { pid: 4242, created_at: T0 - 1e9 },
	timestamp = T0,
	extra: Partial<Event> = {},
): Event => {
	const own = type === "exec" || type === "exit" ? Object.assign(process, payload) : payload;
	return { type, timestamp, flags: 0, process, [type]: own, ...extra };
};

/** Resolves once `cond()` holds; throws after `ms` (a bound on waiting, not a timing assertion). */
export const until = async (cond: () => boolean, ms = 10_000): Promise<void> => {
	const deadline = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > deadline) throw new Error("condition not reached");
		await Bun.sleep(5);
	}
};
