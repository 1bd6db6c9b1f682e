/** The probe's configuration: defaults, selection of event types, and errors with their path. */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { EVENT_TYPES } from "./catalogue.ts";
import plugin, { EbpfConfig, selectedEventTypes } from "./index.ts";

describe("ebpf probe configuration", () => {
	test("by default every event type of every family is enabled, with the self-test", () => {
		const c = v.parse(EbpfConfig, {});
		expect(selectedEventTypes(c)).toEqual(EVENT_TYPES.map((t) => t.name));
		expect(c.self_test).toBe(true);
		expect(c.ring_buffer_size).toBe(16 * 1024 * 1024);
	});

	test("families select their event types; event_types selects exactly those", () => {
		expect(selectedEventTypes(v.parse(EbpfConfig, { families: ["network"] }))).toEqual([
			"connect",
			"bind",
			"accept",
		]);
		expect(selectedEventTypes(v.parse(EbpfConfig, { event_types: ["exec", "open"] }))).toEqual([
			"open",
			"exec",
		]);
	});

	test("bad values are rejected with the option's path", () => {
		const r = v.safeParse(EbpfConfig, { ring_buffer_size: 5000, event_types: ["opn"], extra: 1 });
		expect(r.success).toBe(false);
		const paths = (r.issues ?? []).map((i) => v.getDotPath(i));
		expect(paths).toEqual(expect.arrayContaining(["ring_buffer_size", "event_types.0", "extra"]));
	});

	test("the plugin is a probe named ebpf whose produced types follow the configuration", () => {
		expect(plugin.kind).toBe("probe");
		expect(plugin.name).toBe("ebpf");
		const produced = plugin.produces!(v.parse(EbpfConfig, { families: ["process"] }));
		expect(produced).toContain("exec");
		expect(produced).not.toContain("open");
	});
});
