/**
 * @module The `vigil` command line: `bun core/cli/main.ts <command> …` (or `bun run vigil …`).
 *
 * Dispatches on the longest matching command path (`policy check` before `policy`). Each command
 * module exports `Command` objects; see `command.ts` for the exit codes they share.
 */

import { errorText } from "../errors.ts";
import type { Command, CommandIO } from "./command.ts";
import { UsageError } from "./command.ts";

const COMMAND_MODULES = ["./agent.ts", "./policy.ts", "./secl.ts"];

const isCommand = (x: unknown): x is Command =>
	typeof x === "object" &&
	x !== null &&
	Array.isArray((x as Command).path) &&
	typeof (x as Command).run === "function";

export const loadCommands = async (): Promise<Command[]> => {
	const out: Command[] = [];
	const seen = new Set<string>();
	for (const m of COMMAND_MODULES) {
		let mod: Record<string, unknown>;
		try {
			mod = (await import(m)) as Record<string, unknown>;
		} catch (e) {
			process.stderr.write(`vigil: commands of ${m} are unavailable: ${errorText(e)}\n`);
			continue;
		}
		for (const value of Object.values(mod)) {
			const list = Array.isArray(value) ? value : [value];
			for (const c of list) {
				if (!isCommand(c)) continue;
				const key = c.path.join(" ");
				if (seen.has(key)) continue;
				seen.add(key);
				out.push(c);
			}
		}
	}
	return out.sort((a, b) => a.path.join(" ").localeCompare(b.path.join(" ")));
};

const usage = (commands: readonly Command[]): string =>
	[
		"Usage: vigil <command> [options]   (--help on any command for details)",
		"",
		"Commands:",
		...commands.map((c) => `  ${c.path.join(" ").padEnd(18)} ${c.summary}`),
		"",
		"Exit codes: 0 success; 1 a negative result or problems for you to fix; 2 invalid command line",
		"or input; 3 internal error.",
	].join("\n");

/** Run the CLI with `argv` (without the runtime and script); resolves to the exit code. */
export const main = async (argv: readonly string[], io: CommandIO): Promise<number> => {
	const commands = await loadCommands();
	if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
		io.out(usage(commands));
		return argv.length === 0 ? 2 : 0;
	}
	if (argv[0] === "--version") argv = ["version"];
	let best: Command | undefined;
	for (const c of commands) {
		if (c.path.length <= argv.length && c.path.every((w, i) => argv[i] === w)) {
			if (!best || c.path.length > best.path.length) best = c;
		}
	}
	if (!best) {
		const group = commands.filter((c) => c.path[0] === argv[0]);
		if (group.length > 0) {
			io.err(`vigil ${argv[0]}: expected one of: ${group.map((c) => c.path.join(" ")).join(", ")}`);
		} else {
			io.err(`vigil: unknown command "${argv[0]}"\n\n${usage(commands)}`);
		}
		return 2;
	}
	const rest = argv.slice(best.path.length);
	if (rest.includes("--help") || rest.includes("-h")) {
		io.out(best.help);
		return 0;
	}
	try {
		return await best.run(rest, io);
	} catch (e) {
		if (e instanceof UsageError) {
			io.err(`vigil ${best.path.join(" ")}: ${e.message}\n(see vigil ${best.path.join(" ")} --help)`);
			return 2;
		}
		io.err(
			`vigil ${best.path.join(" ")}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
		);
		return 3;
	}
};

if (import.meta.main) {
	const code = await main(process.argv.slice(2), {
		out: (t) => process.stdout.write(`${t}\n`),
		err: (t) => process.stderr.write(`${t}\n`),
		cwd: process.cwd(),
	});
	// flush stdout, then exit even if a plugin left a handle open
	await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
	process.exit(code);
}
