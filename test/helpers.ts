/**
 * @module Helpers shared by tests: temp dirs, manifests from values, in-memory sinks and probes,
 * the `vigil` command line run as a program or in this process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { CommandIO } from "../core/cli/command.ts";
import type { Event, SinkItem } from "../core/sdk.ts";

/** A fresh directory in `parent` (default: the system's temp folder); `file` writes into it. */
export const tempDir = (
	prefix = "vigil-test-",
	parent = tmpdir(),
): { path: string; file: (name: string, text: string) => string; cleanup: () => void } => {
	mkdirSync(parent, { recursive: true });
	const path = mkdtempSync(join(parent, prefix));
	return {
		path,
		file: (name, text) => {
			const p = join(path, name);
			mkdirSync(dirname(p), { recursive: true });
			writeFileSync(p, text);
			return p;
		},
		cleanup: () => rmSync(path, { recursive: true, force: true }),
	};
};

export const ev = (
	type: string,
	extra: Partial<Event> = {},
	timestamp = 1_700_000_000_000_000_000,
): Event => ({
	type,
	timestamp,
	flags: 0,
	process: { pid: 1 },
	...extra,
});

/** A JSONL line in the SECL-values form. */
export const valuesLine = (
	type: string,
	values: Record<string, unknown>,
	timestamp?: number | string,
): string => JSON.stringify({ type, ...(timestamp !== undefined ? { timestamp } : {}), values });

/** What a memory sink received, in order: events as `{kind:"event", event}` beside alerts and custom events. */
export type Received = SinkItem | { kind: "event"; event: Event };

export const collected = (): { items: Received[]; events: () => Event[] } => {
	const items: Received[] = [];
	return { items, events: () => items.flatMap((i) => (i.kind === "event" ? [i.event] : [])) };
};

export const REPO = join(import.meta.dir, "..");

/** What a command printed and its exit code. */
export interface CommandRun {
	out: string;
	err: string;
	code: number;
}

/** Start `vigil args…` (`bun core/cli/main.ts`) as a program in `cwd`, its output piped. */
export const spawnVigil = (args: readonly string[], cwd = REPO) =>
	Bun.spawn([process.execPath, join(REPO, "core/cli/main.ts"), ...args], {
		cwd,
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
	});

/** Run `vigil args…` as a program in `cwd` to its end. */
export const vigil = async (args: readonly string[], cwd = REPO): Promise<CommandRun> => {
	const proc = spawnVigil(args, cwd);
	const [out, err, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { out, err, code };
};

/** Run a command in this process with `cwd` as its working folder; its printed lines joined by newlines. */
export const runCommand = async (
	run: (args: readonly string[], io: CommandIO) => Promise<number>,
	args: readonly string[],
	cwd: string,
): Promise<CommandRun> => {
	const out: string[] = [];
	const err: string[] = [];
	const code = await run(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd });
	return { out: out.join("\n"), err: err.join("\n"), code };
};

/** One JSON value per line of `text` (what the stdout sink prints), blank lines skipped. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the lines by their documented keys
export const jsonLines = (text: string): any[] =>
	text
		.trim()
		.split("\n")
		.filter(Boolean)
		.map((l) => JSON.parse(l));

import * as v from "valibot";
import { AgentSettingsSchema, type Manifest } from "../core/manifest.ts";
import type { Plugin } from "../core/sdk.ts";

/** A manifest built from plugin objects (no modules on disk). */
export const manifestOf = (
	// biome-ignore lint/suspicious/noExplicitAny: plugins of any config type
	plugins: { plugin: Plugin<any>; config?: unknown; name?: string }[],
	agent: Record<string, unknown> = {},
	baseDir = REPO,
): Manifest => ({
	file: "(test manifest)",
	baseDir,
	agent: v.parse(AgentSettingsSchema, { stats_interval: "0", log_level: "error", ...agent }),
	plugins: plugins.map((p, index) => ({
		index,
		name: p.name ?? p.plugin.name,
		use: p.plugin.name,
		plugin: p.plugin as Plugin<unknown>,
		config: p.config ?? {},
	})),
});

/** A sink plugin that keeps what it receives. */
export const memorySink = (opts: { all?: boolean; fail?: number } = {}) => {
	const got = collected();
	let failures = opts.fail ?? 0;
	const plugin: Plugin = {
		kind: "sink",
		name: "memory",
		setup: () => ({
			...(opts.all
				? {
						writeEvents: (events: readonly Event[]) => {
							got.items.push(...events.map((event) => ({ kind: "event" as const, event })));
						},
					}
				: {}),
			write: (items) => {
				if (failures > 0) {
					failures--;
					throw new Error("sink down");
				}
				got.items.push(...items);
			},
		}),
	};
	return { plugin, ...got };
};

/** A probe plugin that emits the given batches, then ends. */
export const arrayProbe = (batches: Event[][], name = "array"): Plugin => ({
	kind: "probe",
	name,
	setup: () => ({
		run: async (emit) => {
			for (const b of batches) {
				await emit.waitForRoom(b.length);
				emit(b);
			}
		},
	}),
});

/** A sink plugin that takes every event and hands each batch to `onEvents`; it ignores alerts and custom events. */
export const eventsSink = (name: string, onEvents: (events: readonly Event[]) => void): Plugin => ({
	kind: "sink",
	name,
	setup: () => ({
		write: () => {},
		writeEvents: (events) => {
			onEvents(events);
		},
	}),
});
