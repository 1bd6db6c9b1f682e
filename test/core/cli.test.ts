import { afterAll, describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { jsonLines, REPO, spawnVigil, tempDir, valuesLine, vigil } from "../helpers.ts";

const dir = tempDir("vigil-cli-");
afterAll(() => dir.cleanup());

describe("vigil CLI", () => {
	test("vigil agent with a replay manifest prints the replayed events and exits 0 at the end of the capture", async () => {
		dir.file(
			"cap.jsonl",
			[
				valuesLine("open", { "open.file.path": "/etc/shadow", "process.comm": "cat" }, 1),
				valuesLine("exec", { "exec.file.path": "/bin/sh" }, 2),
			].join("\n"),
		);
		dir.file(
			"replay.yaml",
			"agent: { stats_interval: '0' }\nplugins:\n  - use: replay\n    config: { file: cap.jsonl }\n  - use: stdout\n    config: { events: all }\n",
		);
		const r = await vigil(["agent", "--manifest", "replay.yaml"], dir.path);
		expect(r.code).toBe(0);
		const lines = jsonLines(r.out);
		expect(lines.map((l) => l.event.type)).toEqual(["open", "exec"]);
		expect(lines[0].event.open.file.path).toBe("/etc/shadow");
		expect(lines[0].date).toBe("1970-01-01T00:00:00.000Z");
		expect(r.err).toContain("stopping: every probe ended");
	});

	test("vigil agent with a bad manifest lists every problem and exits 1 without starting", async () => {
		dir.file(
			"bad.yaml",
			"plugins:\n  - use: replay\n    config: { file: 1, loop: maybe }\n  - use: ./nowhere.ts\n",
		);
		const r = await vigil(["agent", "--manifest", "bad.yaml"], dir.path);
		expect(r.code).toBe(1);
		expect(r.err).toContain("bad.yaml: 3 problems");
		expect(r.err).toContain("plugins[0].config.file: Invalid type: Expected string but received 1");
		expect(r.err).toContain('plugins[0].config.loop: Invalid type: Expected boolean but received "maybe"');
		expect(r.err).toContain("plugins[1] (use: ./nowhere.ts): cannot load");
		expect(r.out).toBe("");
		expect(r.err).not.toContain("started");
	});

	test("vigil agent stops cleanly on SIGTERM: exit 0, events already queued still printed", async () => {
		const lines = Array.from({ length: 3 }, (_, i) =>
			valuesLine("open", { "process.pid": i }, 1e15 + i * 1e9),
		);
		dir.file("slow.jsonl", lines.join("\n"));
		dir.file(
			"slow.yaml",
			"agent: { stats_interval: '0' }\nplugins:\n  - use: replay\n    config: { file: slow.jsonl, speed: realtime }\n  - use: stdout\n    config: { events: all }\n",
		);
		const proc = spawnVigil(["agent", "--manifest", "slow.yaml"], dir.path);
		const reader = proc.stdout.getReader();
		const first = await reader.read();
		expect(new TextDecoder().decode(first.value)).toContain('"pid":0');
		proc.kill("SIGTERM");
		const code = await proc.exited;
		const err = await new Response(proc.stderr).text();
		expect(code).toBe(0);
		expect(err).toContain("stopping: received SIGTERM");
	});

	test("vigil replay FILE runs a capture through the built-in replay manifest", async () => {
		dir.file(
			"r.jsonl",
			valuesLine("chmod", { "chmod.file.path": "/etc/passwd", "chmod.file.destination.mode": 0o777 }, 5),
		);
		const r = await vigil(["replay", "r.jsonl"], dir.path);
		expect(r.code).toBe(0);
		expect(JSON.parse(r.out.trim().split("\n")[0]!).event.chmod.file.path).toBe("/etc/passwd");
	});

	test("manifest check: ok names the plugins; problems exit 1; missing argument exits 2", async () => {
		dir.file("good.yaml", "plugins:\n  - use: replay\n    config: { file: x.jsonl }\n  - use: stdout\n");
		const ok = await vigil(["manifest", "check", "good.yaml"], dir.path);
		expect(ok.code).toBe(0);
		expect(ok.out).toContain("ok (probe replay, sink stdout)");
		dir.file("typo.yaml", "plugin:\n  - use: stdout\n");
		const bad = await vigil(["manifest", "check", "typo.yaml"], dir.path);
		expect(bad.code).toBe(1);
		expect(bad.err).toContain('Invalid key: Expected never but received "plugin"');
		const usage = await vigil(["manifest", "check"], dir.path);
		expect(usage.code).toBe(2);
		expect(usage.err).toContain("expected exactly one manifest FILE");
	});

	test("manifest schema prints a JSON Schema; version prints versions; unknown things exit 2", async () => {
		const schema = await vigil(["manifest", "schema"], dir.path);
		expect(schema.code).toBe(0);
		expect(JSON.parse(schema.out).title).toBe("vigil manifest");
		const version = await vigil(["version"], dir.path);
		expect(version.out).toMatch(/^vigil \d+\.\d+\.\d+ \(Datadog agent compatibility \d+\.\d+\.\d+, bun \d/);
		expect((await vigil(["frobnicate"], dir.path)).code).toBe(2);
		expect((await vigil(["agent", "--bogus"], dir.path)).code).toBe(2);
		const help = await vigil(["agent", "--help"], dir.path);
		expect(help.code).toBe(0);
		expect(help.out).toContain("Exit codes:");
		const top = await vigil(["--help"], dir.path);
		expect(top.out).toContain("manifest schema");
	});

	test("vigil fields lists catalogue fields with types, filtered by prefix", async () => {
		const r = await vigil(["fields", "open.file.pa"], dir.path);
		expect(r.code).toBe(0);
		expect(r.out).toContain("open.file.path\tstring\topen\tFile's path");
		const json = JSON.parse((await vigil(["fields", "--json", "exec.argv"], dir.path)).out);
		expect(json.find((f: { name: string }) => f.name === "exec.argv")).toMatchObject({
			type: "string",
			array: true,
		});
	});

	test("a third-party plugin written only against the SDK loads from a folder outside the repository", async () => {
		const outside = tempDir("vigil-thirdparty-");
		try {
			cpSync(join(REPO, "examples/access-log"), join(outside.path, "access-log"), { recursive: true });
			outside.file(
				"access.log",
				[
					'203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /wp-admin/install.php?step=1 HTTP/1.1" 200 512 "-" "curl/8.0"',
					"garbage line",
					'198.51.100.2 - - [10/Oct/2026:13:55:37 +0000] "POST /login HTTP/1.1" 401 - "-" "Mozilla/5.0"',
				].join("\n") + "\n",
			);
			outside.file(
				"m.yaml",
				"agent: { stats_interval: '0' }\nplugins:\n  - use: ./access-log/index.ts\n    config: { file: access.log }\n  - use: stdout\n    config: { events: all }\n",
			);
			const r = await vigil(["agent", "--manifest", "m.yaml"], outside.path);
			expect(r.code).toBe(0);
			const events = jsonLines(r.out).map((l) => l.event);
			expect(events.map((e) => e.http_request.path)).toEqual(["/wp-admin/install.php", "/login"]);
			expect(events[0].http_request).toMatchObject({
				method: "GET",
				status: 200,
				client_ip: "203.0.113.9",
				size: 512,
				user_agent: "curl/8.0",
			});
			expect(events[0].timestamp).toBe(Date.parse("2026-10-10T13:55:36Z") * 1e6);
			expect(r.err).toContain("access.log:2: not an access-log line, skipped");
			const fields = await vigil(["fields", "--manifest", "m.yaml", "http_request."], outside.path);
			expect(fields.out).toContain("http_request.client_ip\tip\thttp_request");

			// rules are written over the plugin's own fields, type-checked like any other
			outside.file(
				"rules/web.policy",
				'rules:\n  - id: wp_admin_probe\n    expression: http_request.path =~ "/wp-admin/*" && http_request.status == 200 && http_request.client_ip in [203.0.113.0/24]\n',
			);
			outside.file(
				"rules.yaml",
				"agent: { stats_interval: '0' }\nplugins:\n  - use: ./access-log/index.ts\n    config: { file: access.log }\n  - use: rule-engine\n    config: { policies: [./rules] }\n  - use: stdout\n",
			);
			const ruled = await vigil(["agent", "--manifest", "rules.yaml"], outside.path);
			const alerts = jsonLines(ruled.out).filter((l) => l.kind === "alert");
			expect(alerts.map((a) => [a.rule.id, a.event.http_request.path])).toEqual([
				["wp_admin_probe", "/wp-admin/install.php"],
			]);
			outside.file("rules/typo.policy", 'rules:\n  - id: typo\n    expression: http_request.pth == "/"\n');
			const check = await vigil(["policy", "check", "--manifest", "rules.yaml"], outside.path);
			expect(check.code).toBe(1);
			expect(check.out + check.err).toContain("http_request.pth");
		} finally {
			outside.cleanup();
		}
	});
});
