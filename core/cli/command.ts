/**
 * @module The shape of one `vigil` sub-command. `core/cli/main.ts` dispatches on the first
 * words of the command line (`policy check`, `manifest schema`…) to one of these.
 *
 * Exit codes shared by every command: 0 success, 1 a negative answer or failure that is the
 * user's to fix (a rule that did not match, a manifest with problems), 2 invalid input to the
 * command itself (unknown flag, unreadable file, a rule or event that does not parse), 3 an
 * internal error. Commands print results on stdout and diagnostics on stderr.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { errorText } from "../errors.ts";

export interface Command {
	/** Words after `vigil`, e.g. `["policy", "check"]`. */
	readonly path: readonly string[];
	/** One line for `vigil --help`. */
	readonly summary: string;
	/** Full `--help` text: usage, flags, exit codes. */
	readonly help: string;
	/** Run with the remaining arguments; resolve to the exit code. */
	run(args: readonly string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
	readonly out: (text: string) => void;
	readonly err: (text: string) => void;
	readonly cwd: string;
}

export class UsageError extends Error {
	override readonly name = "UsageError";
}

type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Strict flag parsing (`node:util` parseArgs): an unknown flag, a missing value or, with
 * `positionals: false`, an argument that is not a flag is a {@link UsageError} (exit code 2).
 * `--help` is handled by the dispatcher before `run`.
 */
export const parseFlags = <const O extends FlagOptions>(
	args: readonly string[],
	options: O,
	{ positionals = true }: { positionals?: boolean } = {},
) => {
	try {
		return parseArgs({ args: [...args], options, allowPositionals: positionals, strict: true });
	} catch (e) {
		throw new UsageError(errorText(e));
	}
};
