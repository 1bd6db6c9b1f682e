/**
 * @module Prints the probe's events as JSON lines until Ctrl-C: run it as root, then run commands
 * in another shell.
 *
 *   bun probes/ebpf/demo.ts [--types exec,open,connect] [--comm cat] [--self-test]
 *
 * It drives the plugin through the SDK (`setup`, then `run`) with a minimal context, so what it
 * prints is exactly what the agent's bus receives. Custom events (`self_test`, `lost_events`)
 * are printed too, on stderr.
 */
import { parseArgs } from "node:util";
import * as v from "valibot";
import { ensureBpfObjects } from "../../bpf/build.ts";
import { FieldRegistry } from "../../core/model/registry.ts";
import type { Counter, Event, PluginContext } from "../../core/sdk.ts";
import plugin, { EbpfConfig } from "./index.ts";

const { values } = parseArgs({
	options: {
		types: { type: "string" },
		comm: { type: "string" },
		"self-test": { type: "boolean", default: false },
	},
});

await ensureBpfObjects({ log: (l) => console.error(l) });
const abort = new AbortController();
const counters = new Map<string, number>();
const ctx: PluginContext = {
	name: "ebpf",
	log: {
		debug: () => {},
		info: (m, f) => console.error(`info: ${m}`, f ?? ""),
		warn: (m, f) => console.error(`warn: ${m}`, f ?? ""),
		error: (m, f) => console.error(`error: ${m}`, f ?? ""),
	},
	stats: {
		counter(name, tags): Counter {
			const key = `${name}${tags ? JSON.stringify(tags) : ""}`;
			return {
				inc: (by = 1) => void counters.set(key, (counters.get(key) ?? 0) + by),
				get value() {
					return counters.get(key) ?? 0;
				},
			};
		},
		gauge: () => {},
	},
	registry: FieldRegistry.linux(),
	services: { provide: () => {}, get: () => undefined },
	agent: {
		hostname: "demo",
		version: "demo",
		datadogAgentVersion: "7.66.0",
		os: "linux",
		arch: process.arch,
		pid: process.pid,
		baseDir: process.cwd(),
	},
	emitCustom: (e) => console.error(JSON.stringify(e)),
	emitAlert: (a) => console.error(JSON.stringify(a)),
	producedEventTypes: () => new Set(),
	signal: abort.signal,
};

const config = v.parse(EbpfConfig, {
	self_test: values["self-test"],
	...(values.types ? { event_types: values.types.split(",") } : {}),
});
const probe = await plugin.setup!(ctx, config);
process.on("SIGINT", () => abort.abort());
process.on("SIGTERM", () => abort.abort());
console.error("listening; Ctrl-C to stop");
const print = (batch: Event[]): number => {
	for (const e of batch) {
		if (values.comm && e.process.comm !== values.comm) continue;
		process.stdout.write(`${JSON.stringify(e)}\n`);
	}
	return batch.length;
};
await probe.run(Object.assign(print, { waitForRoom: async () => {} }), abort.signal);
await probe.close?.();
console.error("stopped; counters:", Object.fromEntries(counters));
