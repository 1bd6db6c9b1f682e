import { afterAll, describe, expect, test } from "bun:test";
import Ajv from "ajv";
import {
	buildRegistry,
	loadManifest,
	ManifestError,
	manifestJsonSchema,
	producedEventTypes,
} from "../../core/manifest.ts";
import { tempDir } from "../helpers.ts";

const dir = tempDir("vigil-manifest-");
afterAll(() => dir.cleanup());

const problemsOf = async (yaml: string): Promise<readonly string[]> => {
	const file = dir.file(`m-${Math.random().toString(36).slice(2)}.yaml`, yaml);
	try {
		await loadManifest(file);
	} catch (e) {
		if (e instanceof ManifestError) return e.problems;
		throw e;
	}
	return [];
};

const PROBE = `export default { kind: "probe", name: "tiny", produces: () => ["open"], setup: () => ({ run: () => {} }) };\n`;

describe("manifest", () => {
	test("a valid manifest loads built-in and path plugins with defaults filled in", async () => {
		dir.file("tiny.ts", PROBE);
		const file = dir.file(
			"ok.yaml",
			`plugins:\n  - use: ./tiny.ts\n  - use: stdout\n    config: { events: all }\n  - use: replay\n    enabled: false\n    config: {}\n`,
		);
		const m = await loadManifest(file);
		expect(m.plugins.map((p) => `${p.plugin.kind}:${p.name}`)).toEqual(["probe:tiny", "sink:stdout"]);
		expect(m.plugins[1]!.config).toEqual({ events: "all", pretty: false });
		expect(m.agent.queue).toEqual({ capacity: 65536, batch_size: 1024 });
		expect(m.baseDir).toBe(dir.path);
		expect([...producedEventTypes(m)]).toEqual(["open"]);
	});

	test("unknown keys are errors with their path", async () => {
		expect(
			await problemsOf(
				"agent:\n  queue: { capacity: 10, size: 3 }\nplugins:\n  - use: stdout\n    extra: 1\n",
			),
		).toEqual([
			'agent.queue.size: Invalid key: Expected never but received "size"',
			'plugins[0].extra: Invalid key: Expected never but received "extra"',
		]);
	});

	test("a plugin config error names the plugin's index and the config path", async () => {
		expect(await problemsOf("plugins:\n  - use: stdout\n  - use: replay\n    config: { file: 3 }\n")).toEqual(
			["plugins[1].config.file: Invalid type: Expected string but received 3"],
		);
	});

	test("every problem is reported at once: missing module, non-plugin module, bad config", async () => {
		dir.file("notaplugin.ts", "export default { hello: 1 };\n");
		const problems = await problemsOf(
			"plugins:\n  - use: ./missing.ts\n  - use: ./notaplugin.ts\n  - use: stdout\n    config: { events: some }\n  - use: no-such-package-xyz\n",
		);
		expect(problems).toHaveLength(4);
		expect(problems[0]).toStartWith("plugins[0] (use: ./missing.ts): cannot load ");
		expect(problems[0]).toContain("missing.ts");
		expect(problems[1]).toContain("plugins[1] (use: ./notaplugin.ts):");
		expect(problems[1]).toContain("does not default-export a plugin (default.kind:");
		expect(problems[2]).toStartWith('plugins[2].config.events: Invalid type: Expected ("alerts" | "all")');
		expect(problems[3]).toStartWith("plugins[3] (use: no-such-package-xyz):");
	});

	test("a YAML syntax error is reported with file:line:col", async () => {
		const problems = await problemsOf("plugins:\n  - use: stdout\n    config: { events: all\n");
		expect(problems).toHaveLength(1);
		expect(problems[0]).toMatch(/\.yaml:\d+:\d+: /);
	});

	test("an empty plugin list and a missing file are problems, not crashes", async () => {
		expect(await problemsOf("plugins: []\n")).toEqual(["plugins: expected at least one plugin"]);
		await expect(loadManifest(`${dir.path}/absent.yaml`)).rejects.toThrow("cannot read the manifest");
	});

	test("the same plugin used twice gets distinct instance names; a clashing explicit name is a problem", async () => {
		const file = dir.file("twice.yaml", "plugins:\n  - use: stdout\n  - use: stdout\n");
		expect((await loadManifest(file)).plugins.map((p) => p.name)).toEqual(["stdout", "stdout#1"]);
		expect(
			await problemsOf("plugins:\n  - use: stdout\n    name: out\n  - use: stdout\n    name: out\n"),
		).toEqual(['plugins[1].name: "out" is used by another plugin']);
	});

	test("plugins register event types and fields; a clash names the plugin", async () => {
		dir.file(
			"fields.ts",
			`export default { kind: "probe", name: "http", setup: () => ({ run: () => {} }),
			  eventTypes: [{ name: "http" }],
			  fields: [{ name: "http.path", type: "string", eventType: "http", get: (e) => e.http?.path ?? "" }] };\n`,
		);
		dir.file(
			"clash.ts",
			`export default { kind: "processor", name: "clash", setup: () => ({ process: () => {} }),
			  fields: [{ name: "open.file.path", type: "string", eventType: "open", get: () => "" }] };\n`,
		);
		const m = await loadManifest(dir.file("f.yaml", "plugins:\n  - use: ./fields.ts\n"));
		const registry = buildRegistry(m);
		expect(
			registry
				.field("http.path")
				?.get({ type: "http", timestamp: 0, flags: 0, process: {}, http: { path: "/x" } }),
		).toBe("/x");
		expect(registry.field("http.path")?.origin).toBe("http");
		const bad = await loadManifest(dir.file("c.yaml", "plugins:\n  - use: ./clash.ts\n"));
		expect(() => buildRegistry(bad)).toThrow(
			'plugins[0] (clash): clash: field "open.file.path" is already defined by the model',
		);
	});

	test("the JSON Schema validates a real manifest and rejects a bad built-in config", async () => {
		const schema = await manifestJsonSchema();
		const validate = new Ajv({ strict: false }).compile(schema);
		expect(
			validate({
				plugins: [{ use: "replay", config: { file: "x.jsonl", speed: "max" } }, { use: "stdout" }],
			}),
		).toBe(true);
		expect(validate({ plugins: [{ use: "stdout", config: { events: 3 } }] })).toBe(false);
		expect(validate({ plugins: [], extra: 1 })).toBe(false);
	});
});
