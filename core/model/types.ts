/**
 * @module The event model: what every probe produces and every processor, rule and sink reads.
 *
 * An event is a plain object whose layout follows SECL field names literally: the field
 * `open.file.path` is `event.open.file.path`, `process.parent.comm` is `event.process.parent.comm`.
 * The one exception is the iterator `process.ancestors` (and `ptrace.tracee.ancestors`,
 * `signal.target.ancestors`), an array of process contexts. The field registry
 * (`core/model/registry.ts`) maps every SECL name to an accessor over this layout, and the
 * generated per-type payload interfaces live in `core/model/fields.generated.ts`.
 *
 * All times are event time, in nanoseconds since the Unix epoch, as float64 numbers (sub-µs
 * precision is not guaranteed at today's epoch). Plugins never read the wall clock to decide
 * anything about an event: they read `event.timestamp`, so a replay is deterministic.
 */

/** Event flags, bit order as Datadog's `consts_common.go`. */
export const EventFlags = {
	Async: 1 << 0,
	SavedByActivityDump: 1 << 1,
	ActivityDumpSample: 1 << 2,
	InProfile: 1 << 3,
	Anomaly: 1 << 4,
	HasActiveActivityDump: 1 << 5,
} as const;
export type EventFlag = (typeof EventFlags)[keyof typeof EventFlags];

/**
 * Why an event could not be fully resolved. The monitor turns these into custom events
 * (`abnormal_path`, `no_process_context`, `broken_process_lineage`); the rule engine skips
 * events that carry one.
 */
export type EventErrorKind =
	| "path_resolution"
	| "path_resolution_not_critical"
	| "no_process_context"
	| "broken_process_lineage"
	| "decode";
export interface EventError {
	readonly kind: EventErrorKind;
	readonly message: string;
}

/** A file as the kernel saw it. `name` defaults to the basename of `path` when absent. */
export interface FileFields {
	path?: string;
	name?: string;
	inode?: number;
	mount_id?: number;
	/** Kernel mode bits (type + permissions). */
	mode?: number;
	uid?: number;
	gid?: number;
	user?: string;
	group?: string;
	filesystem?: string;
	in_upper_layer?: boolean;
	change_time?: number;
	modification_time?: number;
	hashes?: string[];
	package?: { name?: string; version?: string; source_version?: string };
	/** Set when the path could not be fully resolved; the path then holds what was resolved. */
	path_resolution_error?: string;
	[extra: string]: unknown;
}

export interface CgroupContext {
	id?: string;
	manager?: string;
	version?: number;
	file?: { inode?: number; mount_id?: number };
}

export interface ContainerContext {
	id?: string;
	created_at?: number;
	runtime?: string;
	tags?: string[];
}

/**
 * A process as seen at the time of the event. The process resolver shares one object per
 * process between events of that process; `parent` is `ancestors[0]`.
 */
export interface ProcessContext {
	pid?: number;
	ppid?: number;
	tid?: number;
	uid?: number;
	gid?: number;
	euid?: number;
	egid?: number;
	fsuid?: number;
	fsgid?: number;
	user?: string;
	group?: string;
	euser?: string;
	egroup?: string;
	fsuser?: string;
	fsgroup?: string;
	auid?: number;
	cap_effective?: number;
	cap_permitted?: number;
	comm?: string;
	tty_name?: string;
	/** Process creation (fork) time, ns since epoch. */
	created_at?: number;
	exec_time?: number;
	exit_time?: number;
	argv0?: string;
	/** Arguments excluding argv0 (Datadog's `argv`). */
	argv?: string[];
	args?: string;
	args_truncated?: boolean;
	/** `NAME=value` entries. */
	envp?: string[];
	envs_truncated?: boolean;
	file?: FileFields;
	interpreter?: { file?: FileFields };
	is_thread?: boolean;
	is_kworker?: boolean;
	is_exec?: boolean;
	container?: { id?: string };
	cgroup?: CgroupContext;
	user_session?: { k8s_username?: string; k8s_uid?: string; k8s_groups?: string[] };
	/** Windows. */
	cmdline?: string;
	user_sid?: string;
	parent?: ProcessContext;
	ancestors?: ProcessContext[];
	[extra: string]: unknown;
}

/**
 * One event. `type` names the payload key: an `open` event carries `event.open`. Payloads of
 * the Linux and Windows event types are typed in `fields.generated.ts`; plugin-registered event
 * types carry whatever their fields' accessors read.
 */
export interface Event {
	type: string;
	/** Event time, ns since epoch. */
	timestamp: number;
	/** Bit set of {@link EventFlags}. */
	flags: number;
	process: ProcessContext;
	container?: ContainerContext;
	cgroup?: CgroupContext;
	error?: EventError;
	/** `event.*` fields that are not derived from elsewhere. */
	event?: { hostname?: string; origin?: string; os?: string; service?: string; source?: string };
	/** Lazily resolved values cached on the event (user names, hashes…); never serialized. */
	cache?: Record<string, unknown>;
	[payload: string]: unknown;
}

/** A rule that matched an event. */
export interface AlertRule {
	id: string;
	version?: string;
	description?: string;
	tags?: Record<string, string>;
	product_tags?: string[];
	group_id?: string;
	policy?: { name: string; version?: string; source?: string };
}

/** What a matched rule produces: sent to every sink. */
export interface Alert {
	kind: "alert";
	/** Event time of the triggering event. */
	timestamp: number;
	rule: AlertRule;
	event: Event;
	/** Results of actions (hash, kill…) and variables captured at match time. */
	actions?: Record<string, unknown>[];
	context?: Record<string, unknown>;
}

/**
 * An event the agent itself produces (`ruleset_loaded`, `self_test`, `lost_events`,
 * `anomaly_detection`, `agent_stats`…): same path to the sinks as alerts.
 */
export interface CustomEvent {
	kind: "custom";
	/** Custom event type; also its rule id as Datadog reports it. */
	type: string;
	timestamp: number;
	data: Record<string, unknown>;
	tags?: string[];
}

/** What every sink receives through `write`; events go through `writeEvents`. */
export type SinkItem = Alert | CustomEvent;

/** Field value types as SECL sees them. */
export type FieldType = "string" | "int" | "bool" | "ip";
