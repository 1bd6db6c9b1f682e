import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runCommand, tempDir, vigil } from "../../test/helpers.ts";
import { UsageError } from "./command.ts";
import { seclCommands } from "./secl.ts";

const { path: dir, file, cleanup } = tempDir("vigil-secl-eval-");
afterAll(cleanup);

const evalCommand = seclCommands.find((c) => c.path.join(" ") === "secl eval");

const run = (...args: string[]) => runCommand((a, io) => evalCommand!.run(a, io), args, dir);

const shadow = file(
	"shadow.json",
	JSON.stringify({
		type: "open",
		values: { "open.file.path": "/etc/shadow", "process.file.path": "/usr/bin/cat", "open.flags": 0 },
	}),
);

describe("vigil secl eval", () => {
	test("exit 0 on a match, printing the values the expression read", async () => {
		const r = await run(
			'open.file.path == "/etc/shadow" && process.file.path not in ["/usr/sbin/vipw"]',
			"--event-file",
			shadow,
		);
		expect(r.code).toBe(0);
		expect(r.out).toBe(
			'match\nvalues read:\n  open.file.path = "/etc/shadow"\n  process.file.path = "/usr/bin/cat"',
		);
	});

	test("exit 1 when it does not match; relative event files resolve from the working directory", async () => {
		const r = await run('open.file.path == "/etc/passwd"', "--event-file", "shadow.json");
		expect(r.code).toBe(1);
		expect(r.out).toStartWith("no match");
	});

	test("an event of another type than the expression's does not match, and says so", async () => {
		const r = await run('exec.comm == "cat"', "--event-file", shadow);
		expect(r.code).toBe(1);
		expect(r.out).toContain("the expression applies to exec events, this is a open event");
	});

	test("--json prints a machine-readable result", async () => {
		const r = await run("open.flags & O_CREAT > 0", "--event-file", shadow, "--json");
		expect(r.code).toBe(1);
		const result = JSON.parse(r.out);
		expect(result).toMatchObject({
			matched: false,
			eventType: "open",
			values: { "open.flags": 0 },
			event: { type: "open" },
		});
	});

	test("exit 2 with the location and a caret excerpt for an expression that does not type-check", async () => {
		const r = await run('open.file.path == "/etc/shadow" && open.flags == "x"', "--event-file", shadow);
		expect(r.code).toBe(2);
		expect(r.err).toBe(
			[
				"vigil secl eval: 1:36: cannot compare int with string [type_mismatch]",
				'open.file.path == "/etc/shadow" && open.flags == "x"',
				`${" ".repeat(35)}${"^".repeat(17)}`,
			].join("\n"),
		);
		const json = await run("open.file.path ==", "--event-file", shadow, "--json");
		expect(json.code).toBe(2);
		expect(JSON.parse(json.out).error).toMatchObject({ code: "syntax", line: 1, col: 18 });
	});

	test("exit 2 for event files that are missing, not JSON, or not valid events", async () => {
		const missing = await run("open.flags > 0", "--event-file", join(dir, "nope.json"));
		expect(missing.code).toBe(2);
		expect(missing.err).toContain("nope.json: cannot read");

		const broken = file("broken.json", '{"type": "open",\n "values": {"open.flags": 1,, }}');
		const notJson = await run("open.flags > 0", "--event-file", broken);
		expect(notJson.code).toBe(2);
		expect(notJson.err).toContain(`${broken}:2:`);
		expect(notJson.err).toContain("invalid JSON");

		const wrongType = file("wrong.json", JSON.stringify({ type: "open", values: { "open.flags": "x" } }));
		const bad = await run("open.flags > 0", "--event-file", wrongType);
		expect(bad.code).toBe(2);
		expect(bad.err).toContain('values["open.flags"]: expected int, got "x"');

		const noType = file("notype.json", JSON.stringify({ values: {} }));
		expect((await run("open.flags > 0", "--event-file", noType)).err).toContain("type:");

		const unknown = file("unknown.json", JSON.stringify({ type: "open", values: { "open.nope": 1 } }));
		expect((await run("open.flags > 0", "--event-file", unknown)).err).toContain('unknown field "open.nope"');
	});

	test("durations compare with the event's timestamp", async () => {
		const now = 1_750_000_000e9;
		const fresh = file(
			"fresh.json",
			JSON.stringify({
				type: "exec",
				timestamp: now,
				values: { "exec.file.path": "/x", "container.created_at": now - 5e8 },
			}),
		);
		expect((await run('exec.file.path != "" && container.created_at < 1s', "--event-file", fresh)).code).toBe(
			0,
		);
		expect(
			(await run('exec.file.path != "" && container.created_at < 100ms', "--event-file", fresh)).code,
		).toBe(1);
	});

	test("--windows-model checks against the Windows fields", async () => {
		const ev = file(
			"win.json",
			JSON.stringify({ type: "create", values: { "create.file.path": "C:\\Windows\\System32\\x.dll" } }),
		);
		const r = await run(
			'create.file.path =~ "c:\\windows\\system32\\*.dll"',
			"--event-file",
			ev,
			"--windows-model",
		);
		expect(r.code).toBe(0);
		expect((await run('create.file.path == "x"', "--event-file", ev)).code).toBe(2);
	});

	test("through the vigil command line, the exit code is the process's", async () => {
		const spawn = (expr: string) => vigil(["secl", "eval", expr, "--event-file", shadow]);
		expect((await spawn('open.file.path == "/etc/shadow"')).code).toBe(0);
		expect((await spawn('open.file.path == "/etc/hosts"')).code).toBe(1);
		const bad = await spawn("open.file.path === 1");
		expect(bad.code).toBe(2);
		expect(bad.err).toContain(
			`1:18: unexpected character "=" [syntax]\nopen.file.path === 1\n${" ".repeat(17)}^\n`,
		);
	});

	test("usage errors: no expression, no event file, unknown flags", async () => {
		await expect(run("--event-file", shadow)).rejects.toBeInstanceOf(UsageError);
		await expect(run("open.flags > 0")).rejects.toThrow("--event-file is required");
		await expect(run("open.flags > 0", "--event-file", shadow, "--nope")).rejects.toBeInstanceOf(UsageError);
	});
});
