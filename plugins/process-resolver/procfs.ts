/**
 * @module Reading one process from `/proc/<pid>`: executable (path, inode, mode, owner, times, mount
 * id, filesystem), argv and envp (bounded like the kernel probe's), credentials, comm, parent, start
 * time, tty, login uid and cgroup.
 *
 * When to use: the process resolver's start-up snapshot (Datadog's playSnapshot) and its on-demand
 * fill for a process it has no entry for. The root is configurable so tests can build a /proc of
 * their own; every reader tolerates a process that vanishes mid-read.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import type { FileFields, ProcessContext } from "../../core/model/types.ts";
import { type CgroupInfo, isPureV2, parseProcCgroup } from "./cgroup.ts";

/**
 * Bounds on argv and envp. The kernel probe ships arguments and environment with the same
 * limits, so a process read from /proc looks like one seen at exec. `argv0` counts towards the
 * argv limits.
 */
export interface ArgLimits {
	readonly argvEntries: number;
	readonly argvBytes: number;
	readonly envpEntries: number;
	readonly envpBytes: number;
}
export const DEFAULT_ARG_LIMITS: ArgLimits = {
	argvEntries: 128,
	argvBytes: 4096,
	envpEntries: 256,
	envpBytes: 8192,
};

/** Appended to a value cut by a byte limit (Datadog's marker). */
export const TRUNCATION_MARK = "...";

/** The ids and capability sets of a process, named as in its context. */
export type Credentials = Pick<
	ProcessContext,
	"uid" | "gid" | "euid" | "egid" | "fsuid" | "fsgid" | "auid" | "cap_effective" | "cap_permitted"
>;

/** What /proc says about one process. Fields that could not be read are absent. */
export interface ProcProcess {
	pid: number;
	ppid: number;
	comm: string;
	/** `pts0`, `tty1`, `ttyS0`, or "" (the kernel's `tty->name`). */
	ttyName: string;
	isKworker: boolean;
	/** Start time, ns since epoch. */
	startNs: number;
	creds: Credentials;
	file?: FileFields;
	argv0?: string;
	argv: string[];
	argsTruncated: boolean;
	envp: string[];
	envsTruncated: boolean;
	cgroup?: CgroupInfo;
	/** Kernel id of the cgroup (inode of its unified-hierarchy directory), when known. */
	cgroupKid?: string;
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, fixed at 100 in the Linux ABI). */
const USER_HZ = 100;
const PF_KTHREAD = 0x00200000;

export interface StatLine {
	comm: string;
	ppid: number;
	ttyNr: number;
	flags: number;
	startTicks: number;
}

/** Fields of `/proc/<pid>/stat`; comm may hold spaces and parentheses, so split after the last `)`. */
export const parseStat = (text: string): StatLine | undefined => {
	const open = text.indexOf("(");
	const close = text.lastIndexOf(")");
	if (open < 0 || close < open) return undefined;
	const f = text.slice(close + 2).split(" ");
	// f[0] is field 3 (state): ppid is field 4, tty_nr 7, flags 9, starttime 22.
	if (f.length < 20) return undefined;
	return {
		comm: text.slice(open + 1, close),
		ppid: Number(f[1]),
		ttyNr: Number(f[4]),
		flags: Number(f[6]),
		startTicks: Number(f[19]),
	};
};

/** The kernel's name for a tty device number (`tty->name`: `pts3`, `tty1`, `ttyS0`). */
export const ttyName = (nr: number): string => {
	if (!nr) return "";
	const major = (nr >>> 8) & 0xfff;
	const minor = (nr & 0xff) | ((nr >>> 12) & 0xfff00);
	if (major >= 136 && major <= 143) return `pts${(major - 136) * 256 + minor}`;
	if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
	if (major === 5 && minor === 1) return "console";
	return "";
};

/** Credentials from `/proc/<pid>/status` (real, effective and fs ids; effective and permitted caps). */
export const parseStatus = (text: string): Credentials => {
	const creds: Credentials = {};
	for (const line of text.split("\n")) {
		const colon = line.indexOf(":");
		if (colon < 0) continue;
		const key = line.slice(0, colon);
		if (key !== "Uid" && key !== "Gid" && key !== "CapEff" && key !== "CapPrm") continue;
		const values = line
			.slice(colon + 1)
			.trim()
			.split(/\s+/);
		if (key === "Uid") {
			creds.uid = Number(values[0]);
			creds.euid = Number(values[1]);
			creds.fsuid = Number(values[3]);
		} else if (key === "Gid") {
			creds.gid = Number(values[0]);
			creds.egid = Number(values[1]);
			creds.fsgid = Number(values[3]);
		} else if (key === "CapEff") {
			creds.cap_effective = Number.parseInt(values[0]!, 16);
		} else {
			creds.cap_permitted = Number.parseInt(values[0]!, 16);
		}
	}
	return creds;
};

/**
 * NUL-separated strings (`cmdline`, `environ`) bounded by entry count and bytes (each entry
 * counts its NUL). An entry cut by the byte budget keeps what fits plus {@link TRUNCATION_MARK};
 * `truncated` tells that something was dropped or cut.
 */
export const splitBounded = (
	raw: Buffer,
	maxEntries: number,
	maxBytes: number,
): { values: string[]; truncated: boolean } => {
	const values: string[] = [];
	let budget = maxBytes;
	let start = 0;
	let end = raw.length;
	if (end > 0 && raw[end - 1] === 0) end--;
	if (end === 0) return { values, truncated: false };
	while (start <= end) {
		let nul = raw.indexOf(0, start);
		if (nul < 0 || nul > end) nul = end;
		if (values.length >= maxEntries) return { values, truncated: true };
		const len = nul - start;
		if (len + 1 > budget) {
			if (budget > 1) values.push(raw.toString("utf8", start, start + budget - 1) + TRUNCATION_MARK);
			return { values, truncated: true };
		}
		values.push(raw.toString("utf8", start, nul));
		budget -= len + 1;
		start = nul + 1;
	}
	return { values, truncated: false };
};

interface Mount {
	readonly id: number;
	readonly dev: string;
	readonly point: string;
	readonly fstype: string;
}

const unescapeMount = (s: string): string =>
	s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));

/** Lines of a `mountinfo` file: id, `major:minor`, mount point and filesystem type. */
export const parseMountinfo = (text: string): Mount[] => {
	const out: Mount[] = [];
	for (const line of text.split("\n")) {
		const f = line.split(" ");
		const dash = f.indexOf("-", 6);
		if (f.length < 7 || dash < 0) continue;
		out.push({ id: Number(f[0]), dev: f[2]!, point: unescapeMount(f[4]!), fstype: f[dash + 1] ?? "" });
	}
	return out;
};

/** The mount holding `path` on device `dev` (`major:minor`): the longest mount point above it. */
export const findMount = (mounts: readonly Mount[], dev: string, path: string): Mount | undefined => {
	let best: Mount | undefined;
	for (const m of mounts) {
		if (m.dev !== dev) continue;
		const above = m.point === "/" || path === m.point || path.startsWith(`${m.point}/`);
		if (!above) continue;
		if (!best || m.point.length > best.point.length) best = m;
	}
	return best;
};

const devString = (dev: bigint): string => {
	const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
	const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
	return `${major}:${minor}`;
};

const DELETED = " (deleted)";
/** Bounds of the small lookup caches (mount tables per mount namespace, cgroup inodes). */
const LOOKUP_CACHE_MAX = 1024;

const readText = (path: string): string | undefined => {
	try {
		return readFileSync(path, "utf8");
	} catch {
		return undefined;
	}
};

const readRaw = (path: string): Buffer | undefined => {
	try {
		return readFileSync(path);
	} catch {
		return undefined;
	}
};

/** One `/proc` (the real one, or a directory laid out like it). */
export class ProcFs {
	readonly #mounts = new Map<string, Mount[]>();
	readonly #cgroupInodes = new Map<string, string | undefined>();
	#bootNs: number | undefined;
	#cgroup2Mount: string | null | undefined;

	constructor(
		readonly root: string,
		readonly limits: ArgLimits = DEFAULT_ARG_LIMITS,
	) {}

	/** Pids present now. */
	pids(): number[] {
		let names: string[];
		try {
			names = readdirSync(this.root);
		} catch {
			return [];
		}
		const out: number[] = [];
		for (const n of names) {
			const c = n.charCodeAt(0);
			if (c >= 48 && c <= 57 && /^[0-9]+$/.test(n)) out.push(Number(n));
		}
		return out.sort((a, b) => a - b);
	}

	/**
	 * Boot time in ns since epoch: now minus `uptime` (10 ms precision), else `btime` from `stat`
	 * (1 s precision), else 0.
	 */
	bootNs(): number {
		if (this.#bootNs !== undefined) return this.#bootNs;
		const uptime = readText(`${this.root}/uptime`);
		const seconds = uptime === undefined ? Number.NaN : Number.parseFloat(uptime);
		if (Number.isFinite(seconds)) {
			this.#bootNs = Date.now() * 1e6 - seconds * 1e9;
		} else {
			const btime = /^btime (\d+)$/m.exec(readText(`${this.root}/stat`) ?? "");
			this.#bootNs = btime ? Number(btime[1]) * 1e9 : 0;
		}
		return this.#bootNs;
	}

	/** True when this host runs cgroup v2 only, judged from `<root>/self/cgroup` (false if unknown). */
	pureCgroupV2(): boolean {
		const text = readText(`${this.root}/self/cgroup`);
		return text !== undefined && isPureV2(text);
	}

	/** The cgroup of `pid` now, with its kernel id when it lies in the unified hierarchy. */
	cgroup(pid: number): { info: CgroupInfo; kid: string | undefined } | undefined {
		const text = readText(`${this.root}/${pid}/cgroup`);
		const info = text === undefined ? undefined : parseProcCgroup(text);
		if (!info) return undefined;
		return { info, kid: info.version === 2 ? this.#cgroupInode(info.path) : undefined };
	}

	/** The current parent of `pid` (it changes when the parent exits and the child is reparented). */
	ppid(pid: number): number | undefined {
		const text = readText(`${this.root}/${pid}/stat`);
		return text === undefined ? undefined : parseStat(text)?.ppid;
	}

	/** Everything /proc tells about `pid`, or undefined if the process is gone (or never was). */
	read(pid: number): ProcProcess | undefined {
		const dir = `${this.root}/${pid}`;
		const statText = readText(`${dir}/stat`);
		const stat = statText === undefined ? undefined : parseStat(statText);
		if (!stat) return undefined;
		const isKworker = (stat.flags & PF_KTHREAD) !== 0;
		const statusText = readText(`${dir}/status`);
		const creds = statusText === undefined ? {} : parseStatus(statusText);
		const loginuid = readText(`${dir}/loginuid`);
		if (loginuid !== undefined && /^\d+\s*$/.test(loginuid)) creds.auid = Number(loginuid);
		const proc: ProcProcess = {
			pid,
			ppid: stat.ppid,
			comm: stat.comm,
			ttyName: ttyName(stat.ttyNr),
			isKworker,
			startNs: this.bootNs() + (stat.startTicks / USER_HZ) * 1e9,
			creds,
			argv: [],
			argsTruncated: false,
			envp: [],
			envsTruncated: false,
		};
		if (!isKworker) {
			proc.file = this.#exe(dir);
			const cmdline = readRaw(`${dir}/cmdline`);
			if (cmdline) {
				const { values, truncated } = splitBounded(cmdline, this.limits.argvEntries, this.limits.argvBytes);
				proc.argv0 = values[0];
				proc.argv = values.slice(1);
				proc.argsTruncated = truncated;
			}
			const environ = readRaw(`${dir}/environ`);
			if (environ) {
				const { values, truncated } = splitBounded(environ, this.limits.envpEntries, this.limits.envpBytes);
				proc.envp = values;
				proc.envsTruncated = truncated;
			}
		}
		const cgroup = this.cgroup(pid);
		if (cgroup) {
			proc.cgroup = cgroup.info;
			if (cgroup.kid !== undefined) proc.cgroupKid = cgroup.kid;
		}
		return proc;
	}

	#exe(dir: string): FileFields | undefined {
		let path: string;
		try {
			path = readlinkSync(`${dir}/exe`);
		} catch {
			return undefined;
		}
		if (path.endsWith(DELETED)) path = path.slice(0, -DELETED.length);
		const name = path.slice(path.lastIndexOf("/") + 1);
		const file: FileFields = { path, name };
		try {
			const st = statSync(`${dir}/exe`, { bigint: true });
			file.inode = Number(st.ino);
			file.mode = Number(st.mode);
			file.uid = Number(st.uid);
			file.gid = Number(st.gid);
			file.modification_time = Number(st.mtimeNs);
			file.change_time = Number(st.ctimeNs);
			const mount = this.#mount(dir, devString(st.dev), path);
			if (mount) {
				file.mount_id = mount.id;
				file.filesystem = mount.fstype;
			}
		} catch {
			// The process exited between readlink and stat: keep the path.
		}
		return file;
	}

	/** Mount tables are per mount namespace: parse each namespace's mountinfo once. */
	#mount(dir: string, dev: string, path: string): Mount | undefined {
		let ns: string;
		try {
			ns = readlinkSync(`${dir}/ns/mnt`);
		} catch {
			return undefined;
		}
		let mounts = this.#mounts.get(ns);
		if (!mounts) {
			const text = readText(`${dir}/mountinfo`);
			if (text === undefined) return undefined;
			mounts = parseMountinfo(text);
			if (this.#mounts.size >= LOOKUP_CACHE_MAX) this.#mounts.clear();
			this.#mounts.set(ns, mounts);
		}
		return findMount(mounts, dev, path);
	}

	/** The kernel's cgroup id is the inode of the cgroup's directory in the unified hierarchy. */
	#cgroupInode(path: string): string | undefined {
		if (this.#cgroupInodes.has(path)) return this.#cgroupInodes.get(path);
		const mount = this.#unifiedMount();
		let kid: string | undefined;
		if (mount !== null) {
			try {
				kid = String(statSync(mount + (path === "/" ? "" : path), { bigint: true }).ino);
			} catch {
				kid = undefined;
			}
		}
		if (this.#cgroupInodes.size >= LOOKUP_CACHE_MAX) this.#cgroupInodes.clear();
		this.#cgroupInodes.set(path, kid);
		return kid;
	}

	#unifiedMount(): string | null {
		if (this.#cgroup2Mount !== undefined) return this.#cgroup2Mount;
		const text = readText(`${this.root}/self/mountinfo`);
		const m = text === undefined ? undefined : parseMountinfo(text).find((x) => x.fstype === "cgroup2");
		this.#cgroup2Mount = m ? m.point : null;
		return this.#cgroup2Mount;
	}
}
