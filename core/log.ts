/**
 * @module Logging to stderr, one line per message: time, level, source, message, fields as JSON.
 * stdout belongs to sinks and command output, so logs never go there.
 */
import type { Logger } from "./sdk.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => {
	process.stderr.write(`${line}\n`);
};

export class LogRoot {
	readonly #rank: number;
	constructor(
		level: LogLevel = "info",
		readonly write: LogSink = stderrSink,
	) {
		this.#rank = RANK[level];
	}

	/** A logger whose lines are tagged with `source` (a plugin instance name, `agent`, `bus`…). */
	for(source: string): Logger {
		const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
			if (RANK[level] < this.#rank) return;
			let extra = "";
			if (fields && Object.keys(fields).length > 0) {
				try {
					extra = ` ${JSON.stringify(fields)}`;
				} catch {
					extra = " [unserializable fields]";
				}
			}
			this.write(
				`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${source}] ${message}${extra}`,
			);
		};
		return {
			debug: (m, f) => emit("debug", m, f),
			info: (m, f) => emit("info", m, f),
			warn: (m, f) => emit("warn", m, f),
			error: (m, f) => emit("error", m, f),
		};
	}
}
