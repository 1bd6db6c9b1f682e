/**
 * @module `vigil agent`, `vigil replay`, `vigil manifest check|schema`, `vigil version`, `vigil fields`.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { startAgent } from "../agent.ts";
import { LogRoot } from "../log.ts";
import {
	buildRegistry,
	loadManifest,
	loadManifestValue,
	type Manifest,
	ManifestError,
	manifestJsonSchema,
} from "../manifest.ts";
import { FieldRegistry } from "../model/registry.ts";
import { DATADOG_AGENT_VERSION, VIGIL_VERSION } from "../version.ts";
import { type Command, type CommandIO, parseFlags, UsageError } from "./command.ts";

const noPositionals = <T extends { positionals: string[] }>(parsed: T): T => {
	if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
	return parsed;
};

const repoRoot = resolve(import.meta.dir, "../..");

/** `--manifest` if given, else `./manifest.yaml`, else the project's default manifest. */
const defaultManifest = (cwd: string): string => {
	const local = join(cwd, "manifest.yaml");
	return existsSync(local) ? local : join(repoRoot, "manifest.yaml");
};

/** Run an agent until it stops; SIGINT/SIGTERM stop it cleanly. */
const runUntilStopped = async ({ manifest, registry }: LoadedManifest, io: CommandIO): Promise<number> => {
	const log = new LogRoot(manifest.agent.log_level);
	const agent = startAgent({ manifest, log, registry });
	const onSignal = (sig: NodeJS.Signals) => agent.stop(`received ${sig}`);
	process.on("SIGINT", onSignal);
	process.on("SIGTERM", onSignal);
	try {
		const result = await agent.done;
		if (result.error) io.err(`vigil: ${result.error.message}`);
		const summary = Object.entries(result.stats)
			.filter(
				([k, v]) =>
					v !== 0 &&
					(k.startsWith("bus.") ||
						k.includes("dropped") ||
						k.includes("lost") ||
						k.includes("errors") ||
						k.startsWith("pipeline.")),
			)
			.map(([k, v]) => `${k}=${v}`)
			.join(" ");
		log.for("agent").info(`stopped${summary ? `: ${summary}` : ""}`);
		return result.code;
	} finally {
		process.off("SIGINT", onSignal);
		process.off("SIGTERM", onSignal);
	}
};

/** A manifest with the field registry its plugins declare (already checked for conflicts). */
export interface LoadedManifest {
	readonly manifest: Manifest;
	readonly registry: FieldRegistry;
}

/**
 * Load a manifest and build its field registry for `os`; a {@link ManifestError} (from either)
 * is printed and becomes exit code 1.
 */
export const loadOrReport = async (
	load: () => Promise<Manifest>,
	io: CommandIO,
	os: "linux" | "windows" = "linux",
): Promise<LoadedManifest | number> => {
	try {
		const manifest = await load();
		return { manifest, registry: buildRegistry(manifest, os) };
	} catch (e) {
		if (e instanceof ManifestError) {
			io.err(e.message);
			return 1;
		}
		throw e;
	}
};

export const agentCommand: Command = {
	path: ["agent"],
	summary: "run the agent with a manifest",
	help: `Usage: vigil agent [--manifest FILE]

Runs the plugins of a manifest until SIGINT/SIGTERM, or until every probe has ended
(a replay without loop). Default manifest: ./manifest.yaml, else the project's manifest.yaml.

Exit codes: 0 clean stop; 1 invalid manifest or a plugin failed to set up (named in the
message); 2 invalid command line; 3 internal error.`,
	run: async (args, io) => {
		const { values } = noPositionals(parseFlags(args, { manifest: { type: "string", short: "m" } }));
		const file = resolve(io.cwd, values.manifest ?? defaultManifest(io.cwd));
		const loaded = await loadOrReport(() => loadManifest(file), io);
		return typeof loaded === "number" ? loaded : runUntilStopped(loaded, io);
	},
};

export const replayCommand: Command = {
	path: ["replay"],
	summary: "replay a capture (JSONL) through a manifest's processors and sinks",
	help: `Usage: vigil replay FILE [--manifest FILE] [--speed max|realtime|FACTOR] [--loop]

Replays FILE (lines of {"type":…,"values":{…}} or vigil's record format) through the
processors and sinks of the manifest; the manifest's own probes are replaced by the replay.
Without --manifest: rule-engine over ./rules (if present) and stdout with every event.

Exit codes: 0 replay finished; 1 invalid manifest or plugin setup failure; 2 invalid command line.`,
	run: async (args, io) => {
		const { values, positionals } = parseFlags(args, {
			manifest: { type: "string", short: "m" },
			speed: { type: "string" },
			loop: { type: "boolean" },
		});
		if (positionals.length !== 1) throw new UsageError("expected exactly one capture FILE");
		const file = resolve(io.cwd, positionals[0]!);
		const speedText = values.speed ?? "max";
		const speed = speedText === "max" || speedText === "realtime" ? speedText : Number(speedText);
		if (typeof speed === "number" && !(speed > 0))
			throw new UsageError(`--speed: expected max, realtime or a positive factor, got ${speedText}`);
		const replay = { use: "replay", config: { file, speed, loop: values.loop ?? false } };
		let raw: { agent?: unknown; plugins: { use: string; config?: unknown; enabled?: boolean }[] };
		let baseDir = io.cwd;
		let source = "(built-in replay manifest)";
		if (values.manifest) {
			const manifestFile = resolve(io.cwd, values.manifest);
			const loaded = await loadOrReport(() => loadManifest(manifestFile), io);
			if (typeof loaded === "number") return loaded;
			const { manifest } = loaded;
			baseDir = manifest.baseDir;
			source = manifest.file;
			raw = {
				agent: manifest.agent,
				plugins: [
					replay,
					...manifest.plugins
						.filter((p) => p.plugin.kind !== "probe")
						.map((p) => ({ use: p.use, name: p.name, config: p.config })),
				],
			};
		} else {
			const rules = join(io.cwd, "rules");
			raw = {
				plugins: [
					replay,
					...(existsSync(rules) ? [{ use: "rule-engine", config: { policies: [rules] } }] : []),
					{ use: "stdout", config: { events: "all" } },
				],
			};
		}
		const loaded = await loadOrReport(() => loadManifestValue(raw, source, baseDir), io);
		return typeof loaded === "number" ? loaded : runUntilStopped(loaded, io);
	},
};

export const manifestCheckCommand: Command = {
	path: ["manifest", "check"],
	summary: "check a manifest: schema, plugin modules and their configs",
	help: `Usage: vigil manifest check FILE

Loads FILE and every plugin it names, validates each plugin's config, and lists every problem
with its path (plugins[2].config.file: …). Nothing is started.

Exit codes: 0 valid; 1 problems found (listed on stderr); 2 invalid command line.`,
	run: async (args, io) => {
		const { positionals } = parseFlags(args, {});
		if (positionals.length !== 1) throw new UsageError("expected exactly one manifest FILE");
		const file = resolve(io.cwd, positionals[0]!);
		const loaded = await loadOrReport(() => loadManifest(file), io);
		if (typeof loaded === "number") return loaded;
		const { manifest } = loaded;
		io.out(`${manifest.file}: ok (${manifest.plugins.map((p) => `${p.plugin.kind} ${p.name}`).join(", ")})`);
		return 0;
	},
};

export const manifestSchemaCommand: Command = {
	path: ["manifest", "schema"],
	summary: "print the manifest's JSON Schema (for editors)",
	help: `Usage: vigil manifest schema

Prints a JSON Schema (draft-07) of the manifest, including the config schema of each built-in
plugin, for editor completion and validation (e.g. yaml-language-server).

Exit codes: 0.`,
	run: async (args, io) => {
		noPositionals(parseFlags(args, {}));
		io.out(JSON.stringify(await manifestJsonSchema(), null, 2));
		return 0;
	},
};

export const versionCommand: Command = {
	path: ["version"],
	summary: "print versions",
	help: `Usage: vigil version

Prints vigil's version, the Datadog agent version its rules are compatible with, and Bun's.

Exit codes: 0.`,
	run: async (args, io) => {
		noPositionals(parseFlags(args, {}));
		io.out(
			`vigil ${VIGIL_VERSION} (Datadog agent compatibility ${DATADOG_AGENT_VERSION}, bun ${Bun.version})`,
		);
		return 0;
	},
};

export const fieldsCommand: Command = {
	path: ["fields"],
	summary: "list SECL fields (with --manifest: including plugin fields)",
	help: `Usage: vigil fields [--manifest FILE] [--windows-model] [--json] [PREFIX]

Lists every SECL field with its type and event types; PREFIX filters by name.

Exit codes: 0; 1 invalid manifest; 2 invalid command line.`,
	run: async (args, io) => {
		const { values, positionals } = parseFlags(args, {
			manifest: { type: "string", short: "m" },
			"windows-model": { type: "boolean" },
			json: { type: "boolean" },
		});
		const os = values["windows-model"] ? "windows" : "linux";
		let registry: FieldRegistry;
		if (values.manifest) {
			const file = resolve(io.cwd, values.manifest);
			// validated against the Linux model, as the agent runs it, whatever model is listed
			const loaded = await loadOrReport(() => loadManifest(file), io);
			if (typeof loaded === "number") return loaded;
			registry = os === "linux" ? loaded.registry : buildRegistry(loaded.manifest, os);
		} else {
			registry = FieldRegistry.forOs(os);
		}
		const prefix = positionals[0] ?? "";
		const fields = [...registry.fields()]
			.filter((f) => f.name.startsWith(prefix))
			.sort((a, b) => a.name.localeCompare(b.name));
		if (values.json) {
			io.out(
				JSON.stringify(
					fields.map((f) => ({
						name: f.name,
						type: f.type,
						event_types: f.eventTypes,
						array: f.array ?? false,
						doc: f.doc,
						origin: f.origin,
					})),
					null,
					2,
				),
			);
		} else {
			for (const f of fields)
				io.out(`${f.name}\t${f.type}${f.array ? "[]" : ""}\t${f.eventTypes.join(",")}\t${f.doc ?? ""}`);
		}
		return 0;
	},
};

export const coreCommands: readonly Command[] = [
	agentCommand,
	replayCommand,
	manifestCheckCommand,
	manifestSchemaCommand,
	versionCommand,
	fieldsCommand,
];
