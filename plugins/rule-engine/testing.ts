/**
 * @module Test support for the rule engine: the plugin context it runs in (which keeps logs,
 * custom events and alerts for the test to read), an engine over policies written to a temp
 * directory, events shaped like the process resolver's output.
 *
 * When to use: from this folder's `*.test.ts` files only.
 */
import type { Event, ProcessContext } from "../../core/model/types.ts";
import { detectHost } from "../../core/policy/index.ts";
import { registry, type TestContext, type TestContextOptions, testContext } from "../../test/context.ts";
import { tempDir } from "../../test/helpers.ts";
import { type EngineOptions, RuleEngine } from "./engine.ts";
import { DEFAULT_LIMITER } from "./limiter.ts";

export const host = detectHost();

/** The context of a `rule-engine` instance; everything a test may look at after running the engine. */
export const recorder = (options: Omit<TestContextOptions, "name"> = {}): TestContext =>
	testContext({ name: "rule-engine", ...options });

/** A temp rules directory; `file` writes (or replaces) a policy file. */
export const policyDir = () => tempDir("vigil-rule-engine-");

/** An engine over `dir` with test-friendly defaults; `options` override them. */
export const engineFor = (dir: string, rec: TestContext, options: Partial<EngineOptions> = {}): RuleEngine =>
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
		log: rec.ctx.log,
		stats: rec.stats,
		emitCustom: rec.ctx.emitCustom,
		emitAlert: rec.ctx.emitAlert,
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
