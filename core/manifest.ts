/**
 * @module The manifest: which plugins the agent runs, in which order, with which config.
 *
 * ```yaml
 * agent:                      # optional; every key has a default
 *   hostname: web-1
 *   queue: { capacity: 65536, batch_size: 1024 }
 * plugins:
 *   - use: ebpf               # a built-in name, a relative path, or a package name
 *     config: { events: [exec, open] }
 *   - use: ./my-plugin.ts
 *     enabled: false
 * ```
 *
 * Loading checks everything before anything starts: the YAML, the manifest schema (strict:
 * unknown keys are errors), each plugin module (found, and exporting a plugin) and each plugin's
 * config against the plugin's own schema. Every problem is reported at once with its path
 * (`plugins[2].config.file: Invalid type: Expected string but received 3`).
 *
 * When to use: `loadManifest(file)` before starting an agent or for `vigil manifest check`;
 * `manifestJsonSchema()` for editors.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { LineCounter, parseDocument } from "yaml";
import { BUILTIN_PLUGINS } from "./builtins.ts";
import { parseDurationNs } from "./duration.ts";
import { errorText } from "./errors.ts";
import { FieldRegistry, RegistryError } from "./model/registry.ts";
import type { Plugin, StandardSchemaV1 } from "./sdk.ts";

const Duration = v.pipe(
	v.string(),
	v.check((s) => parseDurationNs(s) !== undefined, "expected a duration like 250ms, 10s, 1m"),
);
const PositiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

export const AgentSettingsSchema = v.strictObject({
	/** Host name reported in events; defaults to the machine's. */
	hostname: v.optional(v.string()),
	/** Datadog agent version used for policies' `agent_version` (default: vigil's compatibility version). */
	datadog_agent_version: v.optional(
		v.pipe(v.string(), v.regex(/^\d+\.\d+(\.\d+)?([-+].*)?$/, "expected a version like 7.73.0")),
	),
	log_level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
	queue: v.optional(
		v.strictObject({
			capacity: v.optional(PositiveInt, 65536),
			batch_size: v.optional(v.pipe(PositiveInt, v.maxValue(65536)), 1024),
		}),
		{},
	),
	sinks: v.optional(
		v.strictObject({
			buffer: v.optional(PositiveInt, 16384),
			max_write: v.optional(PositiveInt, 1024),
		}),
		{},
	),
	/** How often an `agent_stats` custom event is sent (0 = never). */
	stats_interval: v.optional(Duration, "60s"),
	/** How long sinks may take to flush on shutdown before what they hold is counted lost. */
	shutdown_timeout: v.optional(Duration, "5s"),
});
export type AgentSettings = v.InferOutput<typeof AgentSettingsSchema>;

export const PluginEntrySchema = v.strictObject({
	use: v.pipe(v.string(), v.minLength(1, "expected a plugin name or path")),
	/** Instance name in logs and stats (default: the plugin's name). */
	name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.#-]+$/, "expected letters, digits, _ . # -"))),
	enabled: v.optional(v.boolean(), true),
	config: v.optional(v.unknown()),
});

export const ManifestSchema = v.strictObject({
	agent: v.optional(AgentSettingsSchema, {}),
	plugins: v.pipe(v.array(PluginEntrySchema), v.minLength(1, "expected at least one plugin")),
});

export interface LoadedPlugin {
	/** Position in the manifest's `plugins` list. */
	readonly index: number;
	/** Unique instance name. */
	readonly name: string;
	readonly use: string;
	readonly plugin: Plugin<unknown>;
	readonly config: unknown;
}

export interface Manifest {
	/** Absolute path of the manifest file, or a description for built-in manifests. */
	readonly file: string;
	/** Relative paths in plugin configs resolve from here. */
	readonly baseDir: string;
	readonly agent: AgentSettings;
	/** Enabled plugins, in manifest order. */
	readonly plugins: readonly LoadedPlugin[];
}

export class ManifestError extends Error {
	override readonly name = "ManifestError";
	constructor(
		readonly file: string,
		readonly problems: readonly string[],
	) {
		super(
			`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${problems.map((p) => `  - ${p}`).join("\n")}`,
		);
	}
}

type PathItem = PropertyKey | { readonly key: PropertyKey };
/** `plugins[2].config.file` from a schema issue path. */
export const formatPath = (prefix: string, path: readonly PathItem[] | undefined): string => {
	let out = prefix;
	for (const item of path ?? []) {
		const key = typeof item === "object" && item !== null ? (item as { key: PropertyKey }).key : item;
		if (typeof key === "number") out += `[${key}]`;
		else out += out === "" ? String(key) : `.${String(key)}`;
	}
	return out === "" ? "(root)" : out;
};

const PluginShape = v.looseObject({
	kind: v.picklist(["probe", "processor", "sink"], 'expected kind "probe", "processor" or "sink"'),
	name: v.pipe(v.string(), v.minLength(1)),
	setup: v.optional(v.function()),
	make: v.optional(v.function()),
});

/** Absolute module path for a `use` value: built-in name, path relative to the manifest, or package. */
export const resolvePluginModule = (use: string, baseDir: string): string => {
	const builtin = BUILTIN_PLUGINS[use];
	if (builtin) return builtin;
	if (use.startsWith("./") || use.startsWith("../") || isAbsolute(use)) return resolve(baseDir, use);
	return Bun.resolveSync(use, baseDir);
};

/** Import a plugin module and check that its default export is a plugin. Throws a one-line reason. */
export const importPlugin = async (modulePath: string): Promise<Plugin<unknown>> => {
	let mod: { default?: unknown };
	try {
		mod = await import(modulePath);
	} catch (e) {
		const msg = errorText(e);
		throw new Error(`cannot load ${modulePath}: ${msg.split("\n")[0]}`);
	}
	const candidate = mod.default;
	const shape = v.safeParse(PluginShape, candidate);
	if (!shape.success) {
		const issue = shape.issues[0];
		throw new Error(
			`${modulePath} does not default-export a plugin (${formatPath("default", issue.path as PathItem[] | undefined)}: ${issue.message})`,
		);
	}
	if (!shape.output.setup && !shape.output.make)
		throw new Error(`${modulePath}: plugin "${shape.output.name}" has neither setup nor make`);
	return candidate as Plugin<unknown>;
};

/** Validate `config` with a plugin's Standard Schema; returns the output or the issues. */
export const validateConfig = async (
	schema: StandardSchemaV1<unknown, unknown> | undefined,
	config: unknown,
): Promise<{ value: unknown } | { issues: readonly StandardSchemaV1.Issue[] }> => {
	if (!schema) return { value: config ?? {} };
	const result = await schema["~standard"].validate(config ?? {});
	if (result.issues) return { issues: result.issues };
	return { value: result.value };
};

/** Parse YAML text; YAML errors become `file:line:col: message`. */
const parseYaml = (text: string, file: string): { value?: unknown; problems: string[] } => {
	const lineCounter = new LineCounter();
	const doc = parseDocument(text, { lineCounter, prettyErrors: false });
	if (doc.errors.length > 0) {
		return {
			problems: doc.errors.map((e) => {
				const pos = lineCounter.linePos(e.pos[0]);
				return `${file}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`;
			}),
		};
	}
	return { value: doc.toJS(), problems: [] };
};

/** Check a manifest value (already parsed from YAML) and load its plugins. */
export const loadManifestValue = async (raw: unknown, file: string, baseDir: string): Promise<Manifest> => {
	const parsed = v.safeParse(ManifestSchema, raw);
	if (!parsed.success) {
		throw new ManifestError(
			file,
			parsed.issues.map((i) => `${formatPath("", i.path as PathItem[] | undefined)}: ${i.message}`),
		);
	}
	const problems: string[] = [];
	const plugins: LoadedPlugin[] = [];
	const names = new Map<string, number>();
	for (const [index, entry] of parsed.output.plugins.entries()) {
		if (!entry.enabled) continue;
		const at = `plugins[${index}]`;
		let plugin: Plugin<unknown>;
		try {
			plugin = await importPlugin(resolvePluginModule(entry.use, baseDir));
		} catch (e) {
			problems.push(`${at} (use: ${entry.use}): ${errorText(e)}`);
			continue;
		}
		const checked = await validateConfig(plugin.config, entry.config);
		if ("issues" in checked) {
			for (const i of checked.issues) problems.push(`${formatPath(`${at}.config`, i.path)}: ${i.message}`);
			continue;
		}
		let name = entry.name ?? plugin.name;
		const seen = names.get(name) ?? 0;
		names.set(name, seen + 1);
		if (seen > 0) {
			if (entry.name) problems.push(`${at}.name: "${entry.name}" is used by another plugin`);
			name = `${name}#${index}`;
		}
		plugins.push({ index, name, use: entry.use, plugin, config: checked.value });
	}
	if (problems.length > 0) throw new ManifestError(file, problems);
	return { file, baseDir, agent: parsed.output.agent, plugins };
};

/** Read, parse and check a manifest file and load its plugins; throws {@link ManifestError}. */
export const loadManifest = async (file: string): Promise<Manifest> => {
	const abs = resolve(file);
	let text: string;
	try {
		text = readFileSync(abs, "utf8");
	} catch (e) {
		throw new ManifestError(abs, [`cannot read the manifest: ${errorText(e)}`]);
	}
	const yaml = parseYaml(text, abs);
	if (yaml.problems.length > 0) throw new ManifestError(abs, yaml.problems);
	return loadManifestValue(yaml.value ?? {}, abs, dirname(abs));
};

/**
 * The field registry for a manifest: the OS model plus the event types and fields its plugins
 * declare. Conflicts (a field defined twice) are manifest problems naming the plugin.
 */
export const buildRegistry = (manifest: Manifest, os: "linux" | "windows" = "linux"): FieldRegistry => {
	const registry = FieldRegistry.forOs(os);
	const problems: string[] = [];
	for (const p of manifest.plugins) {
		try {
			for (const t of p.plugin.eventTypes ?? []) registry.registerEventType(t, p.name);
			for (const f of p.plugin.fields ?? []) registry.registerField(f, p.name);
		} catch (e) {
			problems.push(`plugins[${p.index}] (${p.name}): ${e instanceof RegistryError ? e.message : String(e)}`);
		}
	}
	if (problems.length > 0) throw new ManifestError(manifest.file, problems);
	return registry;
};

/**
 * Event types the manifest's probes produce. A probe that does not say (`produces` absent)
 * counts as producing every event type, so no rule is wrongly reported disabled.
 */
export const producedEventTypes = (
	manifest: Manifest,
	registry: FieldRegistry = buildRegistry(manifest),
): Set<string> => {
	const out = new Set<string>();
	for (const p of manifest.plugins) {
		if (p.plugin.kind !== "probe") continue;
		const produces = p.plugin.produces;
		if (!produces) {
			for (const t of registry.eventTypes()) out.add(t.name);
			continue;
		}
		for (const t of produces(p.config)) out.add(t);
	}
	return out;
};

/**
 * JSON Schema of the manifest, for editor completion: each built-in plugin's config schema is
 * attached to its `use` value.
 */
export const manifestJsonSchema = async (): Promise<Record<string, unknown>> => {
	const base = toJsonSchema(ManifestSchema, { errorMode: "ignore" }) as Record<string, unknown>;
	const entry = toJsonSchema(PluginEntrySchema, { errorMode: "ignore" }) as Record<string, unknown>;
	const variants: Record<string, unknown>[] = [];
	for (const [use, path] of Object.entries(BUILTIN_PLUGINS)) {
		let plugin: Plugin<unknown>;
		try {
			plugin = await importPlugin(path);
		} catch {
			continue;
		}
		const schema = plugin.config as unknown as v.GenericSchema | undefined;
		const config =
			schema && plugin.config?.["~standard"].vendor === "valibot"
				? toJsonSchema(schema, { errorMode: "ignore" })
				: {};
		variants.push({
			type: "object",
			description: plugin.description ?? `${plugin.kind} ${plugin.name}`,
			properties: { ...(entry.properties as object), use: { const: use }, config },
			required: ["use"],
			additionalProperties: false,
		});
	}
	const props = base.properties as Record<string, Record<string, unknown>>;
	props.plugins = {
		type: "array",
		minItems: 1,
		items: {
			anyOf: [
				...variants,
				{
					...entry,
					description: "A plugin by relative path or package name",
					properties: {
						...(entry.properties as object),
						use: { type: "string", minLength: 1, not: { enum: Object.keys(BUILTIN_PLUGINS) } },
					},
				},
			],
		},
	};
	return {
		$schema: "http://json-schema.org/draft-07/schema#",
		title: "vigil manifest",
		...base,
		properties: props,
	};
};
