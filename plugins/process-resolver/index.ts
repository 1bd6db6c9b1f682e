/**
 * @module The process resolver, processor #1 in the dispatch order: before profiles, rules and the
 * monitor see an event, it gets its process context from the process cache (executable,
 * arguments, environment, credentials with user and group names, container, cgroup), its parent
 * and ancestors, or the `no_process_context` / `broken_process_lineage` error. The cache starts
 * from a /proc snapshot and follows fork, exec and exit events.
 *
 * When to use: first in every manifest whose probes emit kernel events. Other plugins reach the
 * cache as the service `vigil/process-resolver/cache` ({@link ProcessCacheService}).
 */
import { isAbsolute, join } from "node:path";
import * as v from "valibot";
import { durationNs, durationSchema } from "../../core/duration.ts";
import { setNameResolver } from "../../core/model/derive.ts";
import type { ProcessorPlugin } from "../../core/sdk.ts";
import { NameTable } from "./names.ts";
import { DEFAULT_ARG_LIMITS, ProcFs } from "./procfs.ts";
import { ProcessResolver } from "./resolver.ts";

export type { ProcessCacheDumpEntry, ProcessCacheService } from "./cache.ts";

/** The key other plugins read the cache under. */
export const PROCESS_CACHE_SERVICE = "vigil/process-resolver/cache";

const Duration = durationSchema('"5s" or "250ms"', '"5s"');
const Count = (min: number, max = Number.MAX_SAFE_INTEGER) =>
	v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

export const ProcessResolverConfig = v.strictObject({
	/** `auto` leaves events that already carry a resolved process (replays); `always` resolves all. */
	mode: v.optional(v.picklist(["auto", "always"]), "auto"),
	/** Walk /proc at start so processes born before the agent have entries. */
	snapshot: v.optional(v.boolean(), true),
	/** Most process entries kept; exited ones go first, then the least recently used. */
	cache_size: v.optional(Count(1), 16384),
	/** Longest `process.ancestors` chain attached to an event (Datadog serializes at most 200). */
	max_ancestors: v.optional(Count(1, 1024), 200),
	/** How long an exited process stays for late events, in event time. */
	exit_retention: v.optional(Duration, "10s"),
	passwd_path: v.optional(v.string(), "/etc/passwd"),
	group_path: v.optional(v.string(), "/etc/group"),
	/** The passwd and group files are checked for changes at most this often (event time). */
	names_reload_interval: v.optional(Duration, "5s"),
	/** Where /proc is (a directory laid out like it, for tests). */
	proc_root: v.optional(v.string(), "/proc"),
	/** Bounds on argv and envp read from /proc; keep them equal to the kernel probe's. */
	argv_max_entries: v.optional(Count(1), DEFAULT_ARG_LIMITS.argvEntries),
	argv_max_bytes: v.optional(Count(16), DEFAULT_ARG_LIMITS.argvBytes),
	envp_max_entries: v.optional(Count(1), DEFAULT_ARG_LIMITS.envpEntries),
	envp_max_bytes: v.optional(Count(16), DEFAULT_ARG_LIMITS.envpBytes),
});
export type ProcessResolverConfig = v.InferOutput<typeof ProcessResolverConfig>;

const plugin: ProcessorPlugin<ProcessResolverConfig> = {
	kind: "processor",
	name: "process-resolver",
	description: "Process context, ancestors, container and user names for every event (process cache)",
	config: ProcessResolverConfig,
	setup(ctx, config) {
		const path = (p: string) => (isAbsolute(p) ? p : join(ctx.agent.baseDir, p));
		const names = new NameTable(path(config.passwd_path), path(config.group_path));
		const procfs = new ProcFs(path(config.proc_root), {
			argvEntries: config.argv_max_entries,
			argvBytes: config.argv_max_bytes,
			envpEntries: config.envp_max_entries,
			envpBytes: config.envp_max_bytes,
		});
		const count = (name: string, tags?: Record<string, string>) =>
			ctx.stats.counter(`process_resolver.${name}`, tags);
		const resolver = new ProcessResolver({
			mode: config.mode,
			procfs,
			names,
			capacity: config.cache_size,
			maxAncestors: config.max_ancestors,
			exitRetentionNs: durationNs(config.exit_retention),
			namesReloadNs: durationNs(config.names_reload_interval),
			log: ctx.log,
			counters: {
				hits: count("cache.hits"),
				misses: count("cache.misses"),
				procfsFills: count("procfs_fills"),
				passthrough: count("passthrough"),
				noProcessContext: count("errors", { kind: "no_process_context" }),
				brokenLineage: count("errors", { kind: "broken_process_lineage" }),
				evictedExited: count("cache.evictions", { reason: "exited" }),
				evictedLive: count("cache.evictions", { reason: "lru" }),
			},
		});
		resolver.reloadNames();
		setNameResolver(names);
		ctx.stats.gauge("process_resolver.cache.size", () => resolver.cache.size);
		ctx.services.provide(PROCESS_CACHE_SERVICE, resolver.cache);
		return {
			start() {
				if (!config.snapshot) return;
				const started = performance.now();
				const processes = resolver.snapshot();
				ctx.log.info("process snapshot done", {
					processes,
					entries: resolver.cache.size,
					ms: Math.round(performance.now() - started),
				});
			},
			process(batch) {
				resolver.process(batch);
			},
			close() {
				resolver.close();
			},
		};
	},
};

export default plugin;
