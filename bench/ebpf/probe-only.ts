/**
 * @module The benchmark's case "probe only": the `ebpf` probe driven through the plugin SDK with
 * an emit that only counts, no bus and no processors. It separates the probe's own cost
 * (ring reading, decoding) from the pipeline's.
 *
 *   bun bench/ebpf/probe-only.ts    prints "ready" once attached; on SIGTERM prints one JSON
 *                                   line of counters and exits
 */
import * as v from "valibot";
import { LogRoot } from "../../core/log.ts";
import type { Event } from "../../core/sdk.ts";
import plugin, { EbpfConfig } from "../../probes/ebpf/index.ts";
import { counterSum, testContext } from "../../test/context.ts";

const { ctx, stats, abort } = testContext({ name: "ebpf", log: new LogRoot("error"), forward: () => {} });

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
// per-type counters only (`ebpf.kernel.lost{type=…}`), not their per-CPU breakdown
// (`ebpf.kernel.lost_by_cpu{cpu=…}`, a different name)
console.log(
	JSON.stringify({
		events,
		lost: counterSum(stats, "ebpf.kernel.lost") + counterSum(stats, "ebpf.bus_dropped"),
	}),
);
