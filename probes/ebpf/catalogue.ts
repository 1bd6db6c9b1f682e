/**
 * @module Which BPF programs make which event types: the event families the probe can enable
 * (Tetragon's "sensors": programs loaded and unloaded together), each event type's id in the
 * records, and the programs that produce it.
 *
 * Program names are the function names in `bpf/src/*.bpf.c`; the object spec test checks that
 * every program of the object is listed here and every listed program exists.
 *
 * When to use: to turn a configuration (families, event types) into the set of programs to
 * load, and a record's type id into its event type name.
 */
import { EVENT_IDS, type StructName } from "./layout.ts";

export type Family = "file" | "process" | "network" | "kernel";

export interface EventTypeSpec {
	readonly name: string;
	readonly id: number;
	readonly family: Family;
	/** Programs that produce it (a program may serve two types: unlinkat gives unlink and rmdir). */
	readonly programs: readonly string[];
	/** The struct its records start with (bpf/include/*.h). */
	readonly record: StructName;
}

const x = (...syscalls: string[]) => syscalls.map((s) => `vg_x_${s}`);
const ex = (...syscalls: string[]) => syscalls.flatMap((s) => [`vg_e_${s}`, `vg_x_${s}`]);

export const EVENT_TYPES: readonly EventTypeSpec[] = [
	{
		name: "open",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_OPEN,
		family: "file",
		programs: x("open", "openat", "openat2", "creat"),
	},
	{
		name: "chmod",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_CHMOD,
		family: "file",
		programs: x("chmod", "fchmod", "fchmodat", "fchmodat2"),
	},
	{
		name: "chown",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_CHOWN,
		family: "file",
		programs: x("chown", "lchown", "fchown", "fchownat"),
	},
	{
		name: "utimes",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_UTIMES,
		family: "file",
		programs: x("utime", "utimes", "futimesat", "utimensat"),
	},
	{
		name: "setxattr",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_SETXATTR,
		family: "file",
		programs: x("setxattr", "lsetxattr", "fsetxattr", "setxattrat"),
	},
	{
		name: "removexattr",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_REMOVEXATTR,
		family: "file",
		programs: x("removexattr", "lremovexattr", "fremovexattr", "removexattrat"),
	},
	{
		name: "mkdir",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_MKDIR,
		family: "file",
		programs: x("mkdir", "mkdirat"),
	},
	{
		name: "rmdir",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_RMDIR,
		family: "file",
		programs: ex("rmdir", "unlinkat"),
	},
	{
		name: "unlink",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_UNLINK,
		family: "file",
		programs: ex("unlink", "unlinkat"),
	},
	{
		name: "rename",
		record: "vg_rec_file2",
		id: EVENT_IDS.VG_EV_RENAME,
		family: "file",
		programs: ex("rename", "renameat", "renameat2"),
	},
	{
		name: "link",
		record: "vg_rec_file2",
		id: EVENT_IDS.VG_EV_LINK,
		family: "file",
		programs: x("link", "linkat", "symlink", "symlinkat"),
	},
	{
		name: "chdir",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_CHDIR,
		family: "file",
		programs: x("chdir", "fchdir"),
	},
	{ name: "mount", record: "vg_rec_file2", id: EVENT_IDS.VG_EV_MOUNT, family: "file", programs: x("mount") },
	{
		name: "umount",
		record: "vg_rec_file",
		id: EVENT_IDS.VG_EV_UMOUNT,
		family: "file",
		programs: x("umount"),
	},
	{
		name: "splice",
		record: "vg_rec_splice",
		id: EVENT_IDS.VG_EV_SPLICE,
		family: "file",
		programs: ex("splice"),
	},
	{ name: "exec", record: "vg_rec_exec", id: EVENT_IDS.VG_EV_EXEC, family: "process", programs: ["vg_exec"] },
	{ name: "fork", record: "vg_rec_fork", id: EVENT_IDS.VG_EV_FORK, family: "process", programs: ["vg_fork"] },
	{ name: "exit", record: "vg_rec_exit", id: EVENT_IDS.VG_EV_EXIT, family: "process", programs: ["vg_exit"] },
	{
		name: "setuid",
		record: "vg_rec_cred",
		id: EVENT_IDS.VG_EV_SETUID,
		family: "process",
		programs: x("setuid", "setreuid", "setresuid", "setfsuid"),
	},
	{
		name: "setgid",
		record: "vg_rec_cred",
		id: EVENT_IDS.VG_EV_SETGID,
		family: "process",
		programs: x("setgid", "setregid", "setresgid", "setfsgid"),
	},
	{
		name: "capset",
		record: "vg_rec_cred",
		id: EVENT_IDS.VG_EV_CAPSET,
		family: "process",
		programs: x("capset"),
	},
	{
		name: "ptrace",
		record: "vg_rec_ptrace",
		id: EVENT_IDS.VG_EV_PTRACE,
		family: "process",
		programs: x("ptrace"),
	},
	{
		name: "signal",
		record: "vg_rec_signal",
		id: EVENT_IDS.VG_EV_SIGNAL,
		family: "process",
		programs: x("kill", "tkill", "tgkill"),
	},
	{
		name: "prctl",
		record: "vg_rec_prctl",
		id: EVENT_IDS.VG_EV_PRCTL,
		family: "process",
		programs: x("prctl"),
	},
	{
		name: "connect",
		record: "vg_rec_net",
		id: EVENT_IDS.VG_EV_CONNECT,
		family: "network",
		programs: x("connect"),
	},
	{ name: "bind", record: "vg_rec_net", id: EVENT_IDS.VG_EV_BIND, family: "network", programs: x("bind") },
	{
		name: "accept",
		record: "vg_rec_net",
		id: EVENT_IDS.VG_EV_ACCEPT,
		family: "network",
		programs: x("accept", "accept4"),
	},
	{
		name: "load_module",
		record: "vg_rec_module",
		id: EVENT_IDS.VG_EV_LOAD_MODULE,
		family: "kernel",
		programs: ["vg_module_load", ...x("init_module", "finit_module")],
	},
	{
		name: "unload_module",
		record: "vg_rec_module",
		id: EVENT_IDS.VG_EV_UNLOAD_MODULE,
		family: "kernel",
		programs: x("delete_module"),
	},
	{ name: "bpf", record: "vg_rec_bpf", id: EVENT_IDS.VG_EV_BPF, family: "kernel", programs: x("bpf") },
	{ name: "mmap", record: "vg_rec_mmap", id: EVENT_IDS.VG_EV_MMAP, family: "kernel", programs: x("mmap") },
	{
		name: "mprotect",
		record: "vg_rec_mmap",
		id: EVENT_IDS.VG_EV_MPROTECT,
		family: "kernel",
		programs: ex("mprotect"),
	},
];

export const FAMILIES: readonly Family[] = ["file", "process", "network", "kernel"];

/** Event type names by record type id. */
export const TYPE_NAMES: readonly string[] = (() => {
	const names: string[] = [];
	for (const t of EVENT_TYPES) names[t.id] = t.name;
	return names;
})();

export const eventType = (name: string): EventTypeSpec | undefined =>
	EVENT_TYPES.find((t) => t.name === name);

/**
 * Programs that a hook is allowed to miss without the event type being unsupported: the
 * module name hook enriches load_module but the syscalls alone make the event.
 */
export const OPTIONAL_PROGRAMS: ReadonlySet<string> = new Set(["vg_module_load"]);
