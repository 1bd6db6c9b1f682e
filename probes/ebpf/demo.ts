/**
 * @module Prints the probe's events as JSON lines until Ctrl-C: run it as root, then run commands
 * in another shell.
 *
 *   bun probes/ebpf/demo.ts [--types exec,open,connect] [--comm cat] [--self-test]
 *
 * It drives the plugin through the SDK (`setup`, then `run`) in the plugin context tests use, so what it
 * prints is exactly what the agent's bus receives. Custom events (`self_test`, `lost_events`)
 * are printed too, on stderr.
 */
import { parseArgs } from "node:util";
import * as v from "valibot";
import { ensureBpfObjects } from "../../bpf/build.ts";
import { LogRoot } from "../../core/log.ts";
import type { Event } from "../../core/sdk.ts";
import { testContext } from "../../test/context.ts";
import plugin, { EbpfConfig } from "./index.ts";

const { values } = parseArgs({
	options: {
		types: { type: "string" },
		comm: { type: "string" },
		"self-test": { type: "boolean", default: false },
	},
});

await ensureBpfObjects({ log: (l) => console.error(l) });
const { ctx, stats, abort } = testContext({
	name: "ebpf",
	log: new LogRoot("info"),
	forward: (item) => console.error(JSON.stringify(item)),
});

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
console.error("stopped; counters:", stats.snapshot());
