/**
 * @module The plugin SDK: the only module a third-party plugin needs, and it needs it for types only.
 *
 * A plugin is a module whose default export is a {@link Plugin}: a probe (produces event
 * batches), a processor (reads and annotates each batch, may raise alerts and custom events) or a
 * sink (receives alerts, custom events and, if it asks, every event). Runtime helpers (logger,
 * stats, field registry, services) arrive in the {@link PluginContext}, so a plugin never imports
 * a second copy of the core.
 *
 * Two surfaces over one core: `setup` returns a plain object or a Promise of one, and its methods
 * may return Promises; Effect users may instead give `make`, which returns a scoped
 * `Effect<Instance, E, Scope>` (its finalizers run when the agent stops), and instance methods
 * may return Effects. The core treats both the same way.
 *
 * When to use: import it with `import type` from any plugin, inside or outside this repository.
 */
import type { Effect, Scope } from "effect";
import type { Alert, CustomEvent, Event, FieldType, SinkItem } from "./model/types.ts";

export type {
	Alert,
	AlertRule,
	CustomEvent,
	Event,
	EventError,
	FieldType,
	FileFields,
	ProcessContext,
	SinkItem,
} from "./model/types.ts";

/** Standard Schema v1 (https://standardschema.dev): valibot schemas implement it. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
	readonly "~standard": {
		readonly version: 1;
		readonly vendor: string;
		readonly validate: (
			value: unknown,
		) => StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>>;
		readonly types?: { readonly input: Input; readonly output: Output } | undefined;
	};
}
export declare namespace StandardSchemaV1 {
	type Result<Output> =
		| { readonly value: Output; readonly issues?: undefined }
		| { readonly issues: ReadonlyArray<Issue> };
	interface Issue {
		readonly message: string;
		readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
	}
}

export interface Logger {
	debug(message: string, fields?: Record<string, unknown>): void;
	info(message: string, fields?: Record<string, unknown>): void;
	warn(message: string, fields?: Record<string, unknown>): void;
	error(message: string, fields?: Record<string, unknown>): void;
}

/** A counter is a plain number bumped on hot paths; it is read only when stats are taken. */
export interface Counter {
	inc(by?: number): void;
	readonly value: number;
}

export interface Stats {
	/** The counter `name` with these tags; the same name and tags give the same counter. */
	counter(name: string, tags?: Record<string, string>): Counter;
	/** A value read when stats are taken (cache sizes, queue depths). */
	gauge(name: string, read: () => number, tags?: Record<string, string>): void;
}

/**
 * A SECL field. Declaring one makes it usable in rules (type-checked), serializable and
 * documented. `get` reads the value from an event; for array fields it returns an array.
 */
export interface FieldDefinition {
	/** Dotted SECL name, e.g. `myprobe.request.path`. */
	name: string;
	type: FieldType;
	/** Event type the field belongs to, or `*` for fields common to all event types. */
	eventType: string;
	doc?: string;
	/** True when the value is an array (any/none semantics in rules). */
	array?: boolean;
	/** Name of a constants family (e.g. `Open flags`) whose names are valid values. */
	constants?: string;
	/** Compare strings without case (Datadog's case-insensitive fields). */
	caseInsensitive?: boolean;
	/** A path field: patterns on it are globs. */
	path?: boolean;
	/**
	 * For fields read through an iterator (`process.ancestors.comm`): the iterator's name, how
	 * to list its elements, and how to read the field from one element. Registers (`[A]`)
	 * need this.
	 */
	iterator?: {
		name: string;
		items: (event: Event) => readonly unknown[];
		get: (item: unknown, event: Event) => unknown;
	};
	get: (event: Event) => unknown;
	/** Write a value (used by replay of `values` captures and by tests). */
	set?: (event: Event, value: unknown) => void;
}

export interface EventTypeDefinition {
	name: string;
	/** `File Activity`, `Process Activity`, `Network Activity`, `Kernel Activity`. */
	category?: string;
	doc?: string;
	os?: ReadonlyArray<"linux" | "windows">;
}

/** A field as registered: its definition plus every event type it is available on. */
export interface RegisteredFieldView extends FieldDefinition {
	/** Event types the field can be read on (`*` = all). */
	readonly eventTypes: readonly string[];
	/** Plugin that registered it; absent for the built-in model. */
	readonly origin?: string;
}

/** The field registry as plugins see it. */
export interface FieldRegistryView {
	readonly os: "linux" | "windows";
	field(name: string): RegisteredFieldView | undefined;
	fields(): Iterable<RegisteredFieldView>;
	eventType(name: string): EventTypeDefinition | undefined;
	eventTypes(): Iterable<EventTypeDefinition>;
	/** Whether `field` can be read on events of `eventType`. */
	availableOn(field: RegisteredFieldView, eventType: string): boolean;
}

/** Services shared between plugins, keyed by namespaced strings (`vigil/process-resolver/cache`). */
export interface Services {
	provide<T>(key: string, value: T): void;
	get<T>(key: string): T | undefined;
}

export interface AgentInfo {
	readonly hostname: string;
	readonly version: string;
	/** Datadog agent version vigil claims compatibility with (for `agent_version` in policies). */
	readonly datadogAgentVersion: string;
	readonly os: string;
	readonly arch: string;
	readonly pid: number;
	/** Folder of the manifest; relative paths in plugin configs resolve from here. */
	readonly baseDir: string;
}

export interface PluginContext {
	/** Instance name: the plugin's name, or `name#index` when used twice. */
	readonly name: string;
	readonly log: Logger;
	readonly stats: Stats;
	readonly registry: FieldRegistryView;
	readonly services: Services;
	readonly agent: AgentInfo;
	/** Send a custom event to every sink (from outside `process`, e.g. after a reload). */
	emitCustom(event: CustomEvent): void;
	/**
	 * Send an alert to every sink from outside `process`: an alert whose actions finished after
	 * its batch (a file hash).
	 */
	emitAlert(alert: Alert): void;
	/**
	 * Event types that the configured probes produce. Complete once every plugin has been set
	 * up, so read it in `start`/`run`, not in `setup`.
	 */
	producedEventTypes(): ReadonlySet<string>;
	/** Aborted when the agent stops. */
	readonly signal: AbortSignal;
}

/**
 * Push one batch of events onto the bus, synchronously. Returns how many events were accepted:
 * a prefix of the batch. The rest did not fit in the bus queue and were dropped (the bus counts
 * them under `bus.dropped{probe=…}`; a probe may also count them per event type).
 */
export interface Emit {
	(batch: Event[]): number;
	/**
	 * Resolves once the bus can take `count` more events (at most its capacity). Sources that can
	 * wait — a replay, a file tail — await it before emitting so they never drop; live kernel
	 * sources can't wait and just emit.
	 */
	waitForRoom(count: number): Promise<void>;
}

type MaybeAsync<T> = T | Promise<T> | Effect.Effect<T, unknown>;

export interface ProbeInstance {
	/**
	 * Produce events until the source ends (resolve) or `signal` aborts (resolve promptly).
	 * A live source never ends by itself.
	 */
	run(emit: Emit, signal: AbortSignal): MaybeAsync<void>;
	close?(): MaybeAsync<void>;
}

/** Where a processor puts what it raises while handling a batch. */
export interface Output {
	alert(alert: Alert): void;
	custom(event: CustomEvent): void;
}

export interface ProcessorInstance {
	/** Called once per batch, in manifest order. Synchronous: a plain loop over the batch. */
	process(batch: Event[], out: Output): void;
	/** Called once all probes have started (and before the first batch). */
	start?(): MaybeAsync<void>;
	/**
	 * Called when the agent stops, after the last batch and before the sinks stop taking
	 * items: finish work that still raises alerts or custom events (a pending file hash).
	 */
	flush?(): MaybeAsync<void>;
	close?(): MaybeAsync<void>;
}

export interface SinkInstance {
	/** Write alerts and custom events. Throwing (or failing) retries the same items with backoff. */
	write(items: readonly SinkItem[]): MaybeAsync<void>;
	/**
	 * Also receive events (the tracing view, recording): called with each batch's events that
	 * `wantsEvent` accepts (all of them without `wantsEvent`), before what that batch raised is
	 * passed to `write`. Retried like `write`.
	 */
	writeEvents?(events: readonly Event[]): MaybeAsync<void>;
	/** With `writeEvents`: which events to receive. */
	wantsEvent?(event: Event): boolean;
	flush?(): MaybeAsync<void>;
	close?(): MaybeAsync<void>;
}

interface PluginBase<Kind extends string, Config, Instance> {
	readonly kind: Kind;
	/** Built-in or package name; used in messages and stats. */
	readonly name: string;
	readonly description?: string;
	/** Validates `config` from the manifest; valibot schemas work as they are. */
	readonly config?: StandardSchemaV1<unknown, Config>;
	/** Event types this plugin adds to the model. */
	readonly eventTypes?: readonly EventTypeDefinition[];
	/** SECL fields this plugin adds to the model. */
	readonly fields?: readonly FieldDefinition[];
	/** Plain surface: build the instance. */
	readonly setup?: (ctx: PluginContext, config: Config) => Instance | Promise<Instance>;
	/** Effect surface: build the instance in a scope; finalizers run on stop. */
	readonly make?: (ctx: PluginContext, config: Config) => Effect.Effect<Instance, unknown, Scope.Scope>;
}

export interface ProbePlugin<Config = unknown> extends PluginBase<"probe", Config, ProbeInstance> {
	/** Event types produced under this config (rules over other types are `event_type_disabled`). */
	readonly produces?: (config: Config) => readonly string[];
}
export type ProcessorPlugin<Config = unknown> = PluginBase<"processor", Config, ProcessorInstance>;
export type SinkPlugin<Config = unknown> = PluginBase<"sink", Config, SinkInstance>;

export type Plugin<Config = unknown> = ProbePlugin<Config> | ProcessorPlugin<Config> | SinkPlugin<Config>;
