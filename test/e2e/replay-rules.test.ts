import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { jsonLines, REPO, tempDir, vigil } from "../helpers.ts";

const dir = tempDir("vigil-e2e-");
afterAll(() => dir.cleanup());

describe("a capture through the process resolver and the starter policy", () => {
	test("each attack in the capture raises its rule's alert, in event time, and benign events raise none", async () => {
		const manifest = dir.file(
			"m.yaml",
			[
				"agent: { stats_interval: '0' }",
				"plugins:",
				`  - use: replay`,
				`    config: { file: ${join(REPO, "test/fixtures/attack.jsonl")} }`,
				"  - use: process-resolver",
				"    config: { snapshot: false }",
				"  - use: rule-engine",
				`    config: { policies: [${join(REPO, "rules")}] }`,
				"  - use: stdout",
			].join("\n"),
		);
		const r = await vigil(["agent", "--manifest", manifest]);
		expect(r.code).toBe(0);
		const lines = jsonLines(r.out);
		const alerts = lines.filter((l) => l.kind === "alert");
		expect(alerts.map((a) => [a.rule.id, a.event.process.pid, a.date])).toEqual([
			["vigil_shadow_read", 101, "2026-11-25T10:00:01.000Z"],
			["vigil_web_server_shell", 104, "2026-11-25T10:00:04.000Z"],
			["vigil_setuid_bit_set", 105, "2026-11-25T10:00:05.000Z"],
			["vigil_sudoers_modified", 106, "2026-11-25T10:00:06.000Z"],
		]);
		expect(alerts[0].rule).toMatchObject({ tags: { severity: "high" }, policy: { name: "vigil.policy" } });
		const loaded = lines.find((l) => l.kind === "custom" && l.type === "ruleset_loaded");
		expect(loaded.data.policies[0].rules.every((x: { status: string }) => x.status === "loaded")).toBe(true);
	});

	test("vigil replay uses ./rules of the working folder by default", async () => {
		const r = await vigil(["replay", "test/fixtures/attack.jsonl"]);
		expect(r.code).toBe(0);
		const lines = jsonLines(r.out);
		expect(lines.filter((l) => l.kind === "event")).toHaveLength(8);
		expect(lines.filter((l) => l.kind === "alert").map((a) => a.rule.id)).toContain("vigil_shadow_read");
	});
});
