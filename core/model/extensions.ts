/**
 * @module Fields and event types newer than Datadog's published catalogue
 * (`secl_linux.json` / `secl_windows.json`), declared in the catalogue's own shape so the
 * generator (`scripts/gen-model.ts`) treats them exactly like catalogue entries.
 *
 * Sources: Datadog's `default.policy` v1.69.3 uses these fields; their meaning follows the agent's
 * model (`pkg/security/secl/model`). Keep this list short: a field belongs here only when a real
 * policy or probe needs it and the catalogue lacks it.
 */

export interface CatalogueField {
	name: string;
	type: "string" | "int" | "bool" | "IP/CIDR";
	definition: string;
	constants?: string;
}

export interface CatalogueEventType {
	name: string;
	definition: string;
	type: string;
	from_agent_version: string;
	properties: CatalogueField[];
	/** Internal types carry events between plugins but are not rule triggers in Datadog. */
	internal?: boolean;
}

/** Extra fields on existing Linux event types (`*` = common). */
export const LINUX_EXTRA_FIELDS: Record<string, CatalogueField[]> = {
	"*": [
		{
			name: "event.source",
			type: "string",
			definition:
				"Source of the event (`runtime` for kernel events, `snapshot` for the start-up process snapshot)",
		},
	],
	open: [
		{
			name: "open.file.extension",
			type: "string",
			definition: "Extension of the opened file, with its leading dot (`.yaml`)",
		},
	],
	link: [
		{
			name: "link.is_symlink",
			type: "bool",
			definition:
				"The link is a symbolic link (its source path is the link's target as written, not resolved)",
		},
	],
};

/** Event types missing from the Linux catalogue. */
export const LINUX_EXTRA_EVENT_TYPES: CatalogueEventType[] = [
	{
		name: "prctl",
		definition: "A prctl command was executed",
		type: "Process",
		from_agent_version: "7.65",
		properties: [
			{ name: "prctl.option", type: "int", definition: "prctl option", constants: "Prctl options" },
			{ name: "prctl.new_name", type: "string", definition: "New name of the process (PR_SET_NAME)" },
			{
				name: "prctl.is_name_truncated",
				type: "bool",
				definition: "Indicates that the name field is truncated",
			},
			{
				name: "prctl.retval",
				type: "int",
				definition: "Return value of the syscall",
				constants: "Error constants",
			},
		],
	},
	{
		name: "setsockopt",
		definition: "A setsockopt was executed",
		type: "Network",
		from_agent_version: "7.68",
		properties: [
			{ name: "setsockopt.level", type: "int", definition: "Socket level", constants: "Socket levels" },
			{
				name: "setsockopt.optname",
				type: "int",
				definition: "Socket option name",
				constants: "Socket options",
			},
			{ name: "setsockopt.socket_type", type: "int", definition: "Socket type" },
			{ name: "setsockopt.socket_family", type: "int", definition: "Socket family" },
			{ name: "setsockopt.socket_protocol", type: "int", definition: "Socket protocol" },
			{
				name: "setsockopt.filter_len",
				type: "int",
				definition: "Length of the BPF filter attached (SO_ATTACH_FILTER)",
			},
			{ name: "setsockopt.filter_hash", type: "string", definition: "Hash of the BPF filter attached" },
			{
				name: "setsockopt.is_filter_truncated",
				type: "bool",
				definition: "Indicates that the filter is truncated",
			},
			{
				name: "setsockopt.retval",
				type: "int",
				definition: "Return value of the syscall",
				constants: "Error constants",
			},
		],
	},
	{
		name: "cgroup_write",
		definition: "A process migrated another process to a cgroup",
		type: "Kernel",
		from_agent_version: "7.66",
		properties: [
			{ name: "cgroup_write.pid", type: "int", definition: "PID of the process added to the cgroup" },
			{ name: "cgroup_write.file.path", type: "string", definition: "Path to the cgroup file written" },
		],
	},
	{
		name: "umount",
		definition: "A file system was unmounted (internal: mount tracking)",
		type: "File",
		from_agent_version: "7.42",
		properties: [
			{ name: "umount.file.path", type: "string", definition: "Path of the mount point" },
			{ name: "umount.flags", type: "int", definition: "Flags of the umount2 syscall" },
			{
				name: "umount.retval",
				type: "int",
				definition: "Return value of the syscall",
				constants: "Error constants",
			},
		],
		internal: true,
	},
	{
		name: "fork",
		definition: "A process was forked (internal: feeds the process resolver)",
		type: "Process",
		from_agent_version: "7.27",
		properties: [],
		internal: true,
	},
];

/** Extra fields on existing Windows event types. */
export const WINDOWS_EXTRA_FIELDS: Record<string, CatalogueField[]> = {
	"*": [{ name: "event.source", type: "string", definition: "Source of the event" }],
};
