/**
 * @module The benchmark's case "probe only": the `ebpf` probe driven through the plugin SDK with
 * an emit that only counts, no bus and no processors. It separates the probe's own cost
 * (ring reading, decoding) from the pipeline's.
 *
 *   bun bench/ebpf/probe-only.ts    prints "ready" once attached; on SIGTERM prints one JSON
 *                                   line of counters and exits
 */
import * as v from "valibot";
import { FieldRegistry } from "../../core/model/registry.ts";
import type { Counter, Event, PluginContext } from "../../core/sdk.ts";
import plugin, { EbpfConfig } from "../../probes/ebpf/index.ts";

const counters = new Map<string, number>();
const abort = new AbortController();
const quiet = () => {};
const ctx: PluginContext = {
	name: "ebpf",
	log: { debug: quiet, info: quiet, warn: quiet, error: (m) => console.error(m) },
	stats: {
		counter(name, tags): Counter {
			const key = `${name}${tags ? `{${Object.values(tags).join(",")}}` : ""}`;
			return {
				inc: (by = 1) => void counters.set(key, (counters.get(key) ?? 0) + by),
				get value() {
					return counters.get(key) ?? 0;
				},
			};
		},
		gauge: quiet,
	},
	registry: FieldRegistry.linux(),
	services: { provide: quiet, get: () => undefined },
	agent: {
		hostname: "bench",
		version: "bench",
		datadogAgentVersion: "7.66.0",
		os: "linux",
		arch: process.arch,
		pid: process.pid,
		baseDir: process.cwd(),
	},
	emitCustom: quiet,
	emitAlert: quiet,
	producedEventTypes: () => new Set(),
	signal: abort.signal,
};

const probe = await plugin.setup!(
	ctx,
	v.parse(EbpfConfig, { event_types: ["open", "exec", "fork", "exit"], self_test: false }),
);
let events = 0;
const count = (batch: Event[]): number => {
	events += batch.length;
	return batch.length;
};
const emit = Object.assign(count, { waitForRoom: async () => {} });
process.on("SIGTERM", () => abort.abort());
process.on("SIGINT", () => abort.abort());
console.log("ready");
await probe.run(emit, abort.signal);
await probe.close?.();
const sum = (prefix: string) =>
	[...counters].filter(([k]) => k.startsWith(prefix)).reduce((n, [, x]) => n + x, 0);
console.log(JSON.stringify({ events, lost: sum("ebpf.kernel.lost") + sum("ebpf.bus_dropped") }));
