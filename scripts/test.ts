/**
 * Runs the test suite with `bun test` (arguments are passed through) and ends with the plain
 * summary line `N passed, N failed` on stdout — bun's own summary goes to stderr in a form CI
 * does not read. Exits with bun's exit code.
 */
const proc = Bun.spawn(["bun", "test", ...process.argv.slice(2)], {
	cwd: `${import.meta.dir}/..`,
	stdin: "ignore",
	stdout: "inherit",
	stderr: "pipe",
	env: { ...process.env, PATH: `${import.meta.dir}/../node_modules/.bin:${process.env.PATH ?? ""}` },
});

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of proc.stderr) {
	process.stderr.write(chunk);
	tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const code = await proc.exited;
const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}$`, "m").exec(tail)?.[1] ?? 0);
const passed = count("pass");
const failed = count("fail");
// a crash before bun's summary (no counts at all) is a failure too
const shownFailed = code !== 0 && passed + failed === 0 ? 1 : failed;
process.stdout.write(`${passed} passed, ${shownFailed} failed\n`);
process.exit(code);
