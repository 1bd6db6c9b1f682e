/**
 * @module 24 default.policy rules written by hand as JavaScript predicates over the event layout,
 * the way an engineer would without SECL: direct property reads, the model's derivation helpers
 * for derived fields (`args_flags`, file names), sets for lists. `bench/secl.ts` checks they
 * agree with the compiled rules on the whole corpus before timing them.
 */
import * as D from "../core/model/derive.ts";
import type { Event, ProcessContext } from "../core/model/types.ts";
import { readDefaultPolicy } from "../test/secl/default-policy.ts";

// biome-ignore lint/suspicious/noExplicitAny: hand-written rules read the literal layout
type E = any;

const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const OPEN_WRITE_FLAGS = 0o100 | 0o1000 | 0o2000 | O_RDWR | O_WRONLY;
const BPF_PROG_LOAD = 5;
const BPF_OVERRIDE_RETURN = 58;
const AF_INET = 2;
const AF_INET6 = 10;

/** The policy's own lists (its macros are plain string arrays). */
const macros = new Map(readDefaultPolicy().macros.map((m) => [m.id, m.expression ?? ""]));
const list = (id: string): Set<string> => new Set(JSON.parse(macros.get(id) ?? "[]") as string[]);
const SHELL_NAMES = list("SHELL_NAMES");
const SHELLS = list("SHELLS");
const HTTP_UTILS = list("HTTP_UTILS");
const CHAT_ROOM_SITES = list("CHAT_ROOM_SITES");
const SYSTEM_LOGS = new Set([
	"/var/run/utmp",
	"/var/log/wtmp",
	"/var/log/btmp",
	"/var/log/lastlog",
	"/var/log/faillog",
	"/var/log/syslog",
	"/var/log/messages",
	"/var/log/secure",
	"/var/log/auth.log",
	"/var/log/boot.log",
	"/var/log/kern.log",
]);
const EXFIL_OPTIONS = ["post-file=", "post-data=", "T=", "d=@", "upload-file="];

const some = (list: readonly string[], test: (s: string) => boolean): boolean => {
	for (const s of list) if (test(s)) return true;
	return false;
};
const ancestorNames = (p: ProcessContext): boolean => {
	for (const a of p.ancestors ?? D.EMPTY) if (D.fileName(a.file) === "sshd") return true;
	return false;
};

/** Rule id → predicate. Each is used only on events of its rule's type. */
export const HANDWRITTEN: Record<string, { type: string; test: (e: Event) => boolean }> = {
	auditctl_usage: {
		type: "exec",
		test: (e: E) =>
			D.fileName(e.exec.file) === "auditctl" &&
			!some(D.argsFlags(e.exec), (f) => f === "s" || f === "l" || f === "v"),
	},
	aws_cli_usage: { type: "exec", test: (e: E) => D.fileName(e.exec.file) === "aws" },
	base64_decode: {
		type: "exec",
		test: (e: E) => D.fileName(e.exec.file) === "base64" && D.argsFlags(e.exec).includes("d"),
	},
	exec_whoami: { type: "exec", test: (e: E) => e.exec.comm === "whoami" },
	debugfs_in_container: {
		type: "exec",
		test: (e: E) => e.exec.comm === "debugfs" && (e.process.container?.id ?? "") !== "",
	},
	openssl_backdoor: {
		type: "exec",
		test: (e: E) => e.exec.comm === "openssl" && D.args(e.exec).includes("s_client"),
	},
	network_sniffing_tool: {
		type: "exec",
		test: (e: E) => {
			const n = D.fileName(e.exec.file);
			return n === "tcpdump" || n === "tshark";
		},
	},
	file_sync_exfil: {
		type: "exec",
		test: (e: E) => ["rclone", "rsync", "sftp", "ftp", "scp", "dcp", "rcp"].includes(D.fileName(e.exec.file)),
	},
	ssh_session: {
		type: "exec",
		test: (e: E) =>
			(e.exec.comm ?? "") !== "" && ancestorNames(e.process) && D.fileName(e.process.file) !== "sshd",
	},
	git_cve_2025_48384: {
		type: "exec",
		test: (e: E) => {
			if (!SHELL_NAMES.has(e.exec.comm ?? "")) return false;
			for (const a of (e.process as ProcessContext).ancestors ?? D.EMPTY) {
				if (a.comm === "git" && (a.argv ?? []).includes("clone") && D.argsFlags(a).includes("recursive"))
					return true;
			}
			return false;
		},
	},
	net_util_exfiltration: {
		type: "exec",
		test: (e: E) => {
			if (!HTTP_UTILS.has(e.exec.comm ?? "")) return false;
			const options = D.argsOptions(e.exec);
			if (!some(options, (o) => EXFIL_OPTIONS.some((p) => o.startsWith(p)) || o.startsWith("F=file")))
				return false;
			const args = D.args(e.exec);
			return !args.includes("localhost") && !args.includes("127.0.0.1");
		},
	},
	devshm_execution: {
		type: "exec",
		test: (e: E) =>
			(e.exec.file?.path ?? "").startsWith("/dev/shm/") && e.process.file?.path !== "/dev/shm/runc",
	},
	interactive_shell_in_container: {
		type: "exec",
		test: (e: E) =>
			SHELLS.has(e.exec.file?.path ?? "") &&
			D.argsFlags(e.exec).includes("i") &&
			(e.process.container?.id ?? "") !== "",
	},
	drop_caches: { type: "open", test: (e: E) => e.open.file?.path === "/proc/sys/vm/drop_caches" },
	open_msr_writes: {
		type: "open",
		test: (e: E) =>
			e.open.file?.path === "/sys/module/msr/parameters/allow_writes" &&
			(e.open.flags & OPEN_WRITE_FLAGS) > 0,
	},
	auditd_config_modified: {
		type: "open",
		test: (e: E) =>
			e.open.file?.path === "/etc/audit/auditd.conf" &&
			(e.open.flags & OPEN_WRITE_FLAGS) > 0 &&
			D.fileName(e.process.file) !== "auditctl",
	},
	apparmor_load_unprivileged_origin: {
		type: "open",
		test: (e: E) =>
			(e.open.file?.path ?? "").startsWith("/sys/kernel/security/apparmor/") &&
			(e.open.flags & (O_WRONLY | O_RDWR)) > 0 &&
			(e.process.euid ?? 0) !== 0 &&
			e.process.auid !== 0 &&
			e.process.auid !== 4294967295,
	},
	delete_system_log: {
		type: "unlink",
		test: (e: E) =>
			SYSTEM_LOGS.has(e.unlink.file?.path ?? "") &&
			e.process.comm !== "dockerd" &&
			e.process.comm !== "containerd",
	},
	irc_connection: {
		type: "connect",
		test: (e: E) => e.connect.addr?.port === 6667 && D.isPublicIp(e.connect.addr?.ip),
	},
	p2pinfect_connection: {
		type: "connect",
		test: (e: E) => {
			const a = e.connect.addr ?? {};
			return (
				(a.family === AF_INET || a.family === AF_INET6) &&
				D.isPublicIp(a.ip) &&
				a.port >= 60100 &&
				a.port <= 60150
			);
		},
	},
	chatroom_request: {
		type: "dns",
		test: (e: E) => CHAT_ROOM_SITES.has((e.dns.question?.name ?? "").toLowerCase()),
	},
	rootkit_activation: { type: "signal", test: (e: E) => (e.signal.type ?? 0) > 31 },
	kernel_module_load_from_memory: {
		type: "load_module",
		test: (e: E) => e.load_module.loaded_from_memory === true,
	},
	bpf_override_return_usage: {
		type: "bpf",
		test: (e: E) =>
			e.bpf.cmd === BPF_PROG_LOAD && (e.bpf.prog?.helpers ?? D.EMPTY).includes(BPF_OVERRIDE_RETURN),
	},
};
