/**
 * The probe as a whole on the real kernel: start and stop leave nothing behind, the self-test,
 * loss accounting (kernel and bus), the agent's own syscalls filtered in the kernel, event time,
 * and start-up errors that say what to do.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { Event } from "../../core/model/types.ts";
import { ProbeStartError } from "../../probes/ebpf/features.ts";
import plugin, { EbpfConfig } from "../../probes/ebpf/index.ts";
import { SELF_TEST_RULES } from "../../probes/ebpf/selftest.ts";
import { counterSum, testContext } from "../context.ts";
import { buildOnce, observe, ofType, startProbe, tempDir } from "./harness.ts";

interface BpftoolObject {
	name?: string;
}

const ours = (what: "prog" | "map"): string[] => {
	const r = Bun.spawnSync(["bpftool", what, "show", "-j"]);
	if (r.exitCode !== 0) throw new Error(`bpftool ${what} show failed: ${r.stderr.toString()}`);
	return (JSON.parse(r.stdout.toString()) as BpftoolObject[])
		.map((o) => o.name ?? "")
		.filter((n) => n.startsWith("vg_") || n.startsWith("vigil."));
};

/** Descriptors of BPF objects and perf events (what the probe opens) held by this process. */
const bpfFds = (): string[] =>
	readdirSync("/proc/self/fd")
		.map((fd) => {
			try {
				return readlinkSync(`/proc/self/fd/${fd}`);
			} catch {
				return "";
			}
		})
		.filter((target) => /^anon_inode:(bpf|\[perf_event\])/.test(target));

test("starting and stopping three times in one process leaves no program, map or descriptor of ours behind", async () => {
	await buildOnce();
	expect(ours("prog")).toEqual([]);
	expect(bpfFds()).toEqual([]);
	for (let i = 0; i < 3; i++) {
		const probe = await startProbe();
		expect(ours("prog").length).toBe(probe.probe.report.attached.length);
		expect(ours("map")).toContain("vg_events");
		expect(bpfFds().length).toBeGreaterThan(probe.probe.report.attached.length);
		await probe.stop();
		expect(ours("prog")).toEqual([]);
	}
	expect(bpfFds()).toEqual([]);
	// the kernel frees maps once the programs using them are gone, after a grace period
	const end = performance.now() + 10_000;
	while (ours("map").length > 0 && performance.now() < end) await Bun.sleep(50);
	expect(ours("map")).toEqual([]);
}, 60_000);

test("the self-test reports open, chmod, chown and exec, and its events never reach the bus", async () => {
	const probe = await startProbe({ self_test: true });
	try {
		await probe.waitFor(() => probe.custom.some((c) => c.type === "self_test"), "the self_test custom event");
		const st = probe.custom.find((c) => c.type === "self_test")!;
		expect(st.data.succeeded_tests).toEqual(Object.values(SELF_TEST_RULES));
		expect(st.data.failed_tests).toEqual([]);
		const testEvents = st.data.test_events as Record<string, Event>;
		expect(Object.keys(testEvents).sort()).toEqual(Object.values(SELF_TEST_RULES).sort());
		expect(testEvents[SELF_TEST_RULES.chmod]!.type).toBe("chmod");
		expect(testEvents[SELF_TEST_RULES.exec]!.process.file?.path).toContain("vigil-self-test-");
		// let the shell finish and be read, then look for any of its events on the bus
		await Bun.sleep(300);
		expect(probe.stats.get("ebpf.self_test.events")).toBeGreaterThan(4);
		expect(JSON.stringify(probe.events).includes("vigil-self-test")).toBe(false);
	} finally {
		await probe.stop();
	}
});

test("the self-test keeps its processes off the bus even when fork and exit events are off", async () => {
	const probe = await startProbe({ self_test: true, event_types: ["open", "chmod", "chown", "exec"] });
	try {
		await probe.waitFor(() => probe.custom.some((c) => c.type === "self_test"), "the self_test custom event");
		expect(probe.custom.find((c) => c.type === "self_test")!.data.failed_tests).toEqual([]);
		await Bun.sleep(300);
		expect(JSON.stringify(probe.events).includes("vigil-self-test")).toBe(false);
	} finally {
		await probe.stop();
	}
});

describe("loss accounting", () => {
	test("a full ring buffer loses events in the kernel; the losses are counted per type and reported", async () => {
		const probe = await startProbe({
			event_types: ["open", "exec", "fork", "exit"],
			ring_buffer_size: 4096,
			poll_interval_ms: 10_000,
			stats_interval_ms: 10,
			lost_events_interval_ms: 0,
		});
		// nothing is read while the burst runs: the poll interval is longer than the test
		await Bun.spawn([
			"sh",
			"-c",
			"for i in 1 2 3 4 5 6 7 8; do cat /etc/hostname /etc/os-release; done >/dev/null",
		]).exited;
		await probe.stop();
		const lostOpen = probe.stats.get("ebpf.kernel.lost{type=open}");
		expect(lostOpen).toBeGreaterThan(0);
		// each lost_events carries the losses since the previous one: together they are the counters
		const reports = probe.custom.filter((c) => c.type === "lost_events");
		expect(reports.length).toBeGreaterThan(0);
		const sum = (f: (data: Record<string, unknown>) => number) => reports.reduce((n, c) => n + f(c.data), 0);
		expect(sum((d) => (d.kernel as Record<string, number>).open ?? 0)).toBe(lostOpen as number);
		expect(sum((d) => d.total as number)).toBe(counterSum(probe.stats, "ebpf.kernel.lost"));
		// what was read never exceeds what the kernel says it wrote
		const read = probe.stats.get("ebpf.read{type=open}");
		expect(read).toBeGreaterThan(0);
		expect(read).toBeLessThanOrEqual(probe.stats.get("ebpf.kernel.sent{type=open}")!);
	});

	test("batches the bus refuses are counted per event type and reported", async () => {
		const probe = await startProbe({
			event_types: ["exec", "fork", "exit"],
			stats_interval_ms: 10,
			lost_events_interval_ms: 0,
		});
		probe.accept = false;
		// other processes' events may have been accepted while the probe started; none after this
		const acceptedBefore = probe.events.length;
		try {
			const child = Bun.spawn(["/bin/true"]);
			await child.exited;
			const reportedExecs = () =>
				probe.custom
					.filter((c) => c.type === "lost_events")
					.reduce((n, c) => n + ((c.data.bus as Record<string, number>).exec ?? 0), 0);
			await probe.waitFor(
				() =>
					probe.refused.some((e) => e.type === "exec" && e.process.pid === child.pid) && reportedExecs() > 0,
				"the refused exec to be reported",
			);
			await probe.waitFor(
				() => reportedExecs() === ofType(probe.refused, "exec").length,
				"every refused exec reported",
			);
			expect(probe.stats.get("ebpf.bus_dropped{type=exec}")).toBe(ofType(probe.refused, "exec").length);
			expect(probe.events.length).toBe(acceptedBefore);
		} finally {
			await probe.stop();
		}
	});
});

test("the agent's own syscalls are filtered in the kernel; a child's are not", async () => {
	const probe = await startProbe({ event_types: ["open", "exec", "fork", "exit"] });
	const tmp = tempDir("self");
	try {
		const mine = join(tmp.path, "written-by-the-agent");
		writeFileSync(mine, "x");
		const { events } = await observe(probe, ["cat", mine]);
		expect(
			ofType(events, "open").some((e) => (e.open as { file: { path: string } }).file.path === mine),
		).toBe(true);
		expect(probe.events.filter((e) => e.process.pid === process.pid)).toEqual([]);
	} finally {
		await probe.stop();
		tmp.cleanup();
	}
});

test("event time is on the Unix epoch, in nanoseconds, next to the wall clock", async () => {
	const probe = await startProbe({ event_types: ["exec", "fork", "exit"] });
	try {
		const before = Date.now() * 1e6;
		const { events } = await observe(probe, ["/bin/true"]);
		const after = Date.now() * 1e6;
		for (const e of events) {
			expect(e.timestamp).toBeGreaterThan(before - 1e9);
			expect(e.timestamp).toBeLessThan(after + 1e9);
		}
	} finally {
		await probe.stop();
	}
});

test("a missing BPF object stops the start with the command that builds it", async () => {
	await buildOnce();
	const { ctx } = testContext({ name: "ebpf" });
	const config = v.parse(EbpfConfig, { object: "/nonexistent/vigil.bpf.o", self_test: false });
	let error: unknown;
	try {
		await plugin.setup!(ctx, config);
	} catch (e) {
		error = e;
	}
	expect(error).toBeInstanceOf(ProbeStartError);
	expect(String((error as Error).message)).toContain("bun bpf/build.ts");
});
