import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { REPO } from "../../test/helpers.ts";
import { detectHost, windowsHost } from "./host.ts";
import { loadPolicies } from "./loader.ts";

const DATADOG = resolve(REPO, "../shared/reference/datadog");
const written = parse(readFileSync(resolve(DATADOG, "default.policy"), "utf8")) as {
	rules: { id: string; filters?: string[] }[];
};
const windowsOnly = written.rules.filter((r) => r.filters?.includes('os == "windows"')).map((r) => r.id);

describe("Datadog's default.policy", () => {
	test("every one of its rules loads or is filtered for a stated reason on this Linux host", async () => {
		const load = await loadPolicies({ dirs: [DATADOG], host: detectHost() });
		const rules = load.report.policies[0]!.rules;
		expect(rules).toHaveLength(written.rules.length);
		expect(rules.map((r) => r.id)).toEqual(written.rules.map((r) => r.id));
		const unexpected = rules.filter((r) => r.status !== "loaded" && r.status !== "filtered");
		expect(unexpected).toEqual([]);
		for (const r of rules.filter((x) => x.status === "filtered")) {
			expect(r.message).toMatch(
				/^excluded by (agent_version "[^"]+" \(agent version 7\.73\.0\)|filters?: .+ \(this host: os linux.*\))$/,
			);
		}
		// the Windows rules are the ones filtered by their os filter
		const byOs = rules
			.filter((r) => r.message?.startsWith('excluded by filter: os == "windows"'))
			.map((r) => r.id);
		expect(byOs).toEqual(windowsOnly);
		expect(load.counts.macroErrors).toBe(0);
	});

	test("with the Windows model, the Windows rules load and the Linux ones are filtered", async () => {
		const load = await loadPolicies({ dirs: [DATADOG], windowsModel: true, host: windowsHost() });
		const rules = load.report.policies[0]!.rules;
		const loaded = rules.filter((r) => r.status === "loaded").map((r) => r.id);
		expect(windowsOnly.length).toBeGreaterThan(0);
		expect(loaded).toEqual(windowsOnly);
		expect(rules.filter((r) => r.status !== "loaded" && r.status !== "filtered")).toEqual([]);
	});
});
