/**
 * @module Kernel records → vigil events. One pass over the batch buffer filled by the ring reader,
 * plain DataView reads at offsets from `layout.ts`, one event object per record, laid out as
 * SECL names (`open.file.path` is `event.open.file.path`).
 *
 * What the decoder adds to the kernel's bytes: event time on the Unix epoch (the kernel stamps
 * CLOCK_MONOTONIC), absolute paths from walked components and from names joined to the
 * directory the kernel resolved, Datadog's argv/envp limits (256 bytes per value, 256 values,
 * `...` on a cut value), exit causes, addresses as strings. A record that does not fit its own
 * declared layout is counted as malformed and skipped; the rest of the batch is kept.
 *
 * When to use: by the probe on each drained batch; tests build records with `layout.ts` and
 * decode them here.
 */
import { basename } from "../../core/model/derive.ts";
import type { Event, EventError, FileFields, ProcessContext } from "../../core/model/types.ts";
import { EVENT_TYPES, TYPE_NAMES } from "./catalogue.ts";
import { at, DEFINES, EVENT_IDS as ID, STRUCTS } from "./layout.ts";
import { normalize, resolveName } from "./paths.ts";

/** Datadog's limits on one argument or environment value and on their number. */
export const ARG_MAX_LENGTH = 256;
export const ARGS_MAX_COUNT = 256;

/** Exit causes, as Datadog numbers them. */
export const ExitCause = { EXITED: 0, COREDUMPED: 1, SIGNALED: 2 } as const;

const O_CREAT = 0o100;
const PR_SET_NAME = 15;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const BPF_PROG_LOAD = 5;
const BPF_MAP_CREATE = 0;

// offsets, resolved once
const HDR_TYPE = at("vg_hdr", "type");
const HDR_SIZE = at("vg_hdr", "size");
const HDR_TS = at("vg_hdr", "ts");
const PROC = at("vg_base", "proc");
const P = STRUCTS.vg_proc.members;
const F = STRUCTS.vg_file.members;
const PATH_OFF = F.path[0];
const NAME_OFF = F.name[0];
const R1 = STRUCTS.vg_rec_file.members;
const R2 = STRUCTS.vg_rec_file2.members;
const SP = STRUCTS.vg_rec_splice.members;
const EX = STRUCTS.vg_rec_exec.members;
const FK = STRUCTS.vg_rec_fork.members;
const XT = STRUCTS.vg_rec_exit.members;
const CR = STRUCTS.vg_rec_cred.members;
const PT = STRUCTS.vg_rec_ptrace.members;
const SG = STRUCTS.vg_rec_signal.members;
const PC = STRUCTS.vg_rec_prctl.members;
const NT = STRUCTS.vg_rec_net.members;
const MD = STRUCTS.vg_rec_module.members;
const BP = STRUCTS.vg_rec_bpf.members;
const MM = STRUCTS.vg_rec_mmap.members;

/** Slots of the one-entry field caches. */
const SLOT_COMM = 0;
const SLOT_FSTYPE = 1;
const SLOT_PROG_NAME = 2;
const SLOT_MAP_NAME = 3;

/** Fixed size of each record type, by type id. */
const FIXED: number[] = [];
for (const t of EVENT_TYPES) FIXED[t.id] = STRUCTS[t.record].size;

class Malformed extends Error {}

/** `event.source` of every kernel event: one shared, frozen object rather than one per event. */
const RUNTIME: Event["event"] = Object.freeze({ source: "runtime" });

const utf8 = new TextDecoder("utf-8");

/**
 * Strings from record bytes. Most kernel strings are ASCII: they are sliced as latin1 from a
 * Buffer over the same memory (one flat string, no per-character work); anything else goes
 * through TextDecoder. A one-entry cache per fixed field (comm, file system) returns the same
 * string while consecutive records repeat the bytes, as they do in a burst.
 */
class Strings {
	private bytes: Uint8Array = new Uint8Array(0);
	private view: DataView = new DataView(new ArrayBuffer(0));
	private buf: Buffer = Buffer.alloc(0);
	/** Where paths are assembled, root first, from leaf-first components. */
	private readonly scratch = Buffer.alloc(8192);
	private readonly cuts = new Int32Array(DEFINES.VG_PATH_DEPTH_MAX + 2);
	/** Per slot: the field's bytes as 32-bit words, then the string they gave. */
	private readonly lastKey: number[][] = [[], [], [], []];
	private readonly lastValue: string[] = ["", "", "", ""];

	use(bytes: Uint8Array, view: DataView): void {
		if (bytes === this.bytes) return;
		this.bytes = bytes;
		this.view = view;
		this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	}

	/** Bytes [start, end). */
	text(start: number, end: number): string {
		const b = this.bytes;
		for (let i = start; i < end; i++) if (b[i]! > 0x7f) return utf8.decode(b.subarray(start, end));
		return this.buf.toString("latin1", start, end);
	}

	/** A NUL-terminated string in a fixed field of `size` bytes (a multiple of 4). */
	field(start: number, size: number, slot: number): string {
		const v = this.view;
		const key = this.lastKey[slot]!;
		const words = size >> 2;
		let same = key.length === words;
		for (let i = 0; same && i < words; i++) same = v.getUint32(start + 4 * i, true) === key[i];
		if (same) return this.lastValue[slot]!;
		for (let i = 0; i < words; i++) key[i] = v.getUint32(start + 4 * i, true);
		key.length = words;
		const b = this.bytes;
		let end = start;
		const max = start + size;
		while (end < max && b[end] !== 0) end++;
		const value = this.text(start, end);
		this.lastValue[slot] = value;
		return value;
	}

	/** Leaf-first NUL-terminated components in [start, end) as an absolute path. */
	path(start: number, end: number): string {
		if (end <= start) return "/";
		const b = this.bytes;
		const cuts = this.cuts;
		let n = 0;
		cuts[n++] = start - 1;
		for (let i = start; i < end && n < cuts.length; i++) if (b[i] === 0) cuts[n++] = i;
		if (b[end - 1] !== 0 && n < cuts.length) cuts[n++] = end;
		const out = this.scratch;
		let o = 0;
		let ascii = true;
		for (let k = n - 1; k > 0; k--) {
			const from = cuts[k - 1]! + 1;
			const to = cuts[k]!;
			if (o + 1 + to - from > out.length) break;
			out[o++] = 0x2f;
			for (let i = from; i < to; i++) {
				const c = b[i]!;
				if (c > 0x7f) ascii = false;
				out[o++] = c;
			}
		}
		if (o === 0) return "/";
		return ascii ? out.toString("latin1", 0, o) : utf8.decode(out.subarray(0, o));
	}
}

const u64 = (v: DataView, o: number): number => v.getUint32(o, true) + v.getUint32(o + 4, true) * 4294967296;
const s64 = (v: DataView, o: number): number => v.getInt32(o + 4, true) * 4294967296 + v.getUint32(o, true);

const ipv4 = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** RFC 5952 text of 16 bytes: longest run of zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export const ipv6 = (b: Uint8Array, o: number): string => {
	const g: number[] = [];
	for (let i = 0; i < 8; i++) g.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
	if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
		return `::ffff:${ipv4(b, o + 12)}`;
	}
	let best = -1;
	let bestLen = 1;
	for (let i = 0; i < 8; ) {
		if (g[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && g[j] === 0) j++;
		if (j - i > bestLen) {
			best = i;
			bestLen = j - i;
		}
		i = j;
	}
	const hex = (a: number, z: number) =>
		g
			.slice(a, z)
			.map((x) => x.toString(16))
			.join(":");
	return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
};

/** A wait status as Datadog's exit cause and code. */
export const exitStatus = (status: number): { cause: number; code: number } => {
	if ((status & 0x7f) === 0) return { cause: ExitCause.EXITED, code: (status >> 8) & 0xff };
	if (status & 0x80) return { cause: ExitCause.COREDUMPED, code: status & 0x7f };
	return { cause: ExitCause.SIGNALED, code: status & 0x7f };
};

/** NUL-separated values (argv, envp) with Datadog's limits; `cut` says the area itself was cut. */
export const splitValues = (area: string, cut: boolean): { values: string[]; truncated: boolean } => {
	let truncated = cut;
	const values = area.length === 0 ? [] : area.split("\0");
	// an area that ends on a NUL leaves an empty last piece; a cut area ends mid-value
	if (values.length > 0 && values[values.length - 1] === "") values.pop();
	else if (cut && values.length > 0) values[values.length - 1] += "...";
	if (values.length > ARGS_MAX_COUNT) {
		values.length = ARGS_MAX_COUNT;
		truncated = true;
	}
	for (let i = 0; i < values.length; i++) {
		if (values[i]!.length > ARG_MAX_LENGTH) {
			values[i] = `${values[i]!.slice(0, ARG_MAX_LENGTH)}...`;
			truncated = true;
		}
	}
	return { values, truncated };
};

const PSEUDO_FS: Record<string, string> = { pipefs: "pipe", sockfs: "socket", anon_inodefs: "anon_inode" };

interface FileRead {
	file: FileFields | undefined;
	/** The name given to the syscall, when there was one. */
	name: string | undefined;
	error: EventError | undefined;
}

export interface DecoderOptions {
	/** ns to add to the kernel's CLOCK_MONOTONIC stamps to get ns since the Unix epoch. */
	clockOffset: number;
}

export class Decoder {
	/** Records that did not match their declared layout, since creation. */
	malformed = 0;
	/** Records decoded, by type id, since creation. */
	readonly decoded: number[] = new Array<number>(DEFINES.VG_EV_SLOTS).fill(0);
	private readonly offset: number;
	private readonly strings = new Strings();
	private lastCgroup = -1;
	private lastCgroupId = "";
	// the record being decoded
	private b: Uint8Array = new Uint8Array(0);
	private v: DataView = new DataView(new ArrayBuffer(0));
	private data = 0;
	private end = 0;

	constructor(options: DecoderOptions) {
		this.offset = options.clockOffset;
	}

	/**
	 * Decode every record of a batch buffer (`[u32 length][u32 0][record, padded to 8]`…) into
	 * `out`; returns the number of records read, malformed ones included.
	 */
	batch(bytes: Uint8Array, view: DataView, used: number, out: Event[]): number {
		let o = 0;
		let n = 0;
		while (o + 8 <= used) {
			const len = view.getUint32(o, true);
			const ev = this.record(bytes, view, o + 8, len);
			if (ev) out.push(ev);
			n++;
			o += 8 + ((len + 7) & ~7);
		}
		return n;
	}

	/** Decode the record of `len` bytes at `off`; undefined (and counted) if malformed. */
	record(b: Uint8Array, v: DataView, off: number, len: number): Event | undefined {
		try {
			if (len < STRUCTS.vg_base.size || off + len > b.length) throw new Malformed();
			const type = v.getUint16(off + HDR_TYPE, true);
			const fixed = FIXED[type];
			if (fixed === undefined || len < fixed || v.getUint32(off + HDR_SIZE, true) !== len)
				throw new Malformed();
			this.b = b;
			this.v = v;
			this.strings.use(b, v);
			this.data = off + fixed;
			this.end = off + len;
			const ev = this.decode(type, off);
			this.decoded[type]!++;
			return ev;
		} catch (e) {
			if (e instanceof Malformed || e instanceof RangeError) {
				this.malformed++;
				return undefined;
			}
			throw e;
		}
	}

	private ts(o: number): number {
		return this.offset + u64(this.v, o + HDR_TS);
	}

	private proc(o: number): ProcessContext {
		const v = this.v;
		const p = o + PROC;
		return {
			pid: v.getUint32(p + P.pid[0], true),
			tid: v.getUint32(p + P.tid[0], true),
			ppid: v.getUint32(p + P.ppid[0], true),
			uid: v.getUint32(p + P.uid[0], true),
			gid: v.getUint32(p + P.gid[0], true),
			euid: v.getUint32(p + P.euid[0], true),
			egid: v.getUint32(p + P.egid[0], true),
			fsuid: v.getUint32(p + P.fsuid[0], true),
			fsgid: v.getUint32(p + P.fsgid[0], true),
			auid: v.getUint32(p + P.auid[0], true),
			cap_effective: u64(v, p + P.cap_effective[0]),
			cap_permitted: u64(v, p + P.cap_permitted[0]),
			comm: this.strings.field(p + P.comm[0], P.comm[1], SLOT_COMM),
			cgroup: { id: this.cgroupId(u64(v, p + P.cgroup_id[0])) },
		};
	}

	private cgroupId(id: number): string {
		if (id !== this.lastCgroup) {
			this.lastCgroup = id;
			this.lastCgroupId = String(id);
		}
		return this.lastCgroupId;
	}

	/** A vg_str at `o` as a string from the data area. */
	private str(o: number): string {
		const start = this.data + this.v.getUint16(o, true);
		const end = start + this.v.getUint16(o + 2, true);
		if (end > this.end) throw new Malformed();
		return this.strings.text(start, end);
	}

	/** Whether the vg_str at `o` is set (non-empty). */
	private has(o: number): boolean {
		return this.v.getUint16(o + 2, true) > 0;
	}

	/** The event of a record at `o`, with `error` when the record carries one. */
	private event(
		type: string,
		o: number,
		process: ProcessContext,
		payload: Record<string, unknown>,
		error?: EventError,
	): Event {
		const ev: Event = { type, timestamp: this.ts(o), flags: 0, process, event: RUNTIME, [type]: payload };
		if (error) ev.error = error;
		return ev;
	}

	/** A vg_file at `fo`: the file, the name given to the syscall, and any resolution error. */
	private file(fo: number): FileRead {
		const v = this.v;
		const kind = v.getUint32(fo + F.kind[0], true);
		const name = this.has(fo + NAME_OFF) ? this.str(fo + NAME_OFF) : undefined;
		if (kind === DEFINES.VG_FILE_NONE) return { file: undefined, name, error: undefined };
		const flags = v.getUint16(fo + PATH_OFF + 6, true);
		const pstart = this.data + v.getUint16(fo + PATH_OFF, true);
		const pend = pstart + v.getUint16(fo + PATH_OFF + 2, true);
		if (pend > this.end) throw new Malformed();
		const complete = (flags & (DEFINES.VG_PATH_ROOT | DEFINES.VG_PATH_TOP)) !== 0;
		let error: EventError | undefined;
		let path: string;
		if (kind === DEFINES.VG_FILE_NAME) {
			const given = name ?? "";
			if (flags & DEFINES.VG_PATH_ABSOLUTE) path = normalize(given);
			else if (complete) path = resolveName(this.strings.path(pstart, pend), given);
			else {
				path = given;
				error = this.pathError(flags, "");
			}
			const file: FileFields = { path, name: basename(path) };
			if (error) file.path_resolution_error = error.message;
			return { file, name, error };
		}
		const ino = u64(v, fo + F.ino[0]);
		const fstype = this.strings.field(fo + F.fstype[0], F.fstype[1], SLOT_FSTYPE);
		if (complete) path = this.strings.path(pstart, pend);
		else if (flags & DEFINES.VG_PATH_INTERNAL) {
			path = `${PSEUDO_FS[fstype] ?? fstype}:[${ino}]`;
			error = this.pathError(flags, fstype);
		} else {
			path = this.strings.path(pstart, pend);
			error = this.pathError(flags, fstype);
		}
		const file: FileFields = {
			path,
			name: basename(path),
			inode: ino,
			mount_id: v.getUint32(fo + F.mount_id[0], true),
			mode: v.getUint32(fo + F.mode[0], true),
			uid: v.getUint32(fo + F.uid[0], true),
			gid: v.getUint32(fo + F.gid[0], true),
			filesystem: fstype,
			modification_time: s64(v, fo + F.mtime_sec[0]) * 1e9 + v.getUint32(fo + F.mtime_nsec[0], true),
			change_time: s64(v, fo + F.ctime_sec[0]) * 1e9 + v.getUint32(fo + F.ctime_nsec[0], true),
		};
		if (error) file.path_resolution_error = error.message;
		return { file, name, error };
	}

	private pathError(flags: number, fstype: string): EventError {
		if (flags & DEFINES.VG_PATH_INTERNAL) {
			return { kind: "path_resolution_not_critical", message: `file on a kernel-internal mount (${fstype})` };
		}
		const why =
			flags & DEFINES.VG_PATH_TOO_DEEP
				? `more than ${DEFINES.VG_PATH_DEPTH_MAX} path components`
				: flags & DEFINES.VG_PATH_NO_SPACE
					? "path longer than the record can hold"
					: flags & DEFINES.VG_PATH_DETACHED
						? "dentry not attached to a mount tree (deleted, or lazily unmounted)"
						: "a kernel read failed while resolving the path";
		return { kind: "path_resolution", message: `path resolution failed: ${why}` };
	}

	private decode(type: number, o: number): Event {
		const v = this.v;
		switch (type) {
			case ID.VG_EV_OPEN:
			case ID.VG_EV_CHMOD:
			case ID.VG_EV_CHOWN:
			case ID.VG_EV_UTIMES:
			case ID.VG_EV_SETXATTR:
			case ID.VG_EV_REMOVEXATTR:
			case ID.VG_EV_MKDIR:
			case ID.VG_EV_RMDIR:
			case ID.VG_EV_UNLINK:
			case ID.VG_EV_CHDIR:
			case ID.VG_EV_UMOUNT:
				return this.oneFile(type, o);
			case ID.VG_EV_RENAME:
			case ID.VG_EV_LINK:
			case ID.VG_EV_MOUNT:
				return this.twoFiles(type, o);
			case ID.VG_EV_SPLICE: {
				const f = this.file(o + SP.file[0]);
				return this.event(
					"splice",
					o,
					this.proc(o),
					{
						file: f.file,
						pipe_entry_flag: v.getUint32(o + SP.pipe_entry_flag[0], true),
						pipe_exit_flag: v.getUint32(o + SP.pipe_exit_flag[0], true),
						retval: s64(v, o + SP.retval[0]),
					},
					f.error,
				);
			}
			case ID.VG_EV_EXEC:
				return this.exec(o);
			case ID.VG_EV_FORK: {
				const process = this.proc(o);
				process.is_thread = v.getUint32(o + FK.is_thread[0], true) !== 0;
				process.created_at = this.offset + u64(v, o + FK.start_time[0]);
				return this.event("fork", o, process, {
					parent_pid: v.getUint32(o + FK.parent_pid[0], true),
					parent_tid: v.getUint32(o + FK.parent_tid[0], true),
				});
			}
			case ID.VG_EV_EXIT: {
				const process = this.proc(o);
				const { cause, code } = exitStatus(v.getUint32(o + XT.exit_code[0], true));
				process.cause = cause;
				process.code = code;
				process.created_at = this.offset + u64(v, o + XT.start_time[0]);
				const ev = this.event("exit", o, process, {});
				process.exit_time = ev.timestamp;
				ev.exit = process;
				return ev;
			}
			case ID.VG_EV_SETUID:
			case ID.VG_EV_SETGID:
			case ID.VG_EV_CAPSET: {
				const p = this.proc(o);
				const retval = s64(v, o + CR.retval[0]);
				if (type === ID.VG_EV_SETUID)
					return this.event("setuid", o, p, { uid: p.uid, euid: p.euid, fsuid: p.fsuid, retval });
				if (type === ID.VG_EV_SETGID)
					return this.event("setgid", o, p, { gid: p.gid, egid: p.egid, fsgid: p.fsgid, retval });
				return this.event("capset", o, p, {
					cap_effective: p.cap_effective,
					cap_permitted: p.cap_permitted,
					retval,
				});
			}
			case ID.VG_EV_PTRACE:
				return this.event("ptrace", o, this.proc(o), {
					request: s64(v, o + PT.request[0]),
					address: u64(v, o + PT.addr[0]),
					tracee: { pid: v.getUint32(o + PT.pid[0], true) },
					retval: s64(v, o + PT.retval[0]),
				});
			case ID.VG_EV_SIGNAL: {
				const pid = v.getInt32(o + SG.pid[0], true);
				return this.event("signal", o, this.proc(o), {
					type: v.getUint32(o + SG.sig[0], true),
					pid,
					target: { pid },
					retval: s64(v, o + SG.retval[0]),
				});
			}
			case ID.VG_EV_PRCTL: {
				const option = v.getInt32(o + PC.option[0], true);
				const payload: Record<string, unknown> = { option, retval: s64(v, o + PC.retval[0]) };
				if (option === PR_SET_NAME) {
					payload.new_name = this.str(o + PC.name[0]);
					payload.is_name_truncated = v.getUint32(o + PC.name_truncated[0], true) !== 0;
				}
				return this.event("prctl", o, this.proc(o), payload);
			}
			case ID.VG_EV_CONNECT:
			case ID.VG_EV_BIND:
			case ID.VG_EV_ACCEPT:
				return this.net(type, o);
			case ID.VG_EV_LOAD_MODULE: {
				const f = this.file(o + MD.file[0]);
				const fromMemory = v.getUint32(o + MD.from_memory[0], true) !== 0;
				const args = this.has(o + MD.args[0]) ? this.str(o + MD.args[0]) : "";
				let name = this.has(o + MD.name[0]) ? this.str(o + MD.name[0]) : "";
				// the kernel names the module only once it loaded; a file's name is the best guess before
				if (!name && f.file?.path) name = basename(f.file.path).replace(/\.ko(\.(xz|gz|zst))?$/, "");
				return this.event(
					"load_module",
					o,
					this.proc(o),
					{
						name,
						loaded_from_memory: fromMemory,
						args,
						argv: args ? args.split(" ").filter((a) => a !== "") : [],
						args_truncated: false,
						...(f.file ? { file: f.file } : {}),
						retval: s64(v, o + MD.retval[0]),
					},
					f.error,
				);
			}
			case ID.VG_EV_UNLOAD_MODULE:
				return this.event("unload_module", o, this.proc(o), {
					name: this.has(o + MD.name[0]) ? this.str(o + MD.name[0]) : "",
					retval: s64(v, o + MD.retval[0]),
				});
			case ID.VG_EV_BPF:
				return this.bpf(o);
			case ID.VG_EV_MMAP: {
				const f = this.file(o + MM.file[0]);
				return this.event(
					"mmap",
					o,
					this.proc(o),
					{
						...(f.file ? { file: f.file } : {}),
						flags: v.getUint32(o + MM.flags[0], true),
						protection: v.getUint32(o + MM.prot[0], true),
						retval: s64(v, o + MM.retval[0]),
					},
					f.error,
				);
			}
			case ID.VG_EV_MPROTECT:
				return this.event("mprotect", o, this.proc(o), {
					req_protection: v.getUint32(o + MM.prot[0], true),
					vm_protection: v.getUint32(o + MM.vm_flags[0], true),
					retval: s64(v, o + MM.retval[0]),
				});
			default:
				throw new Malformed();
		}
	}

	private oneFile(type: number, o: number): Event {
		const v = this.v;
		const name = TYPE_NAMES[type]!;
		const f = this.file(o + R1.file[0]);
		const file: FileFields = f.file ?? {};
		const retval = s64(v, o + R1.retval[0]);
		const flags = v.getUint32(o + R1.flags[0], true);
		const mode = v.getUint32(o + R1.mode[0], true);
		const syscall: Record<string, unknown> = { path: f.name ?? "" };
		const payload: Record<string, unknown> = { file, retval, syscall };
		switch (type) {
			case ID.VG_EV_OPEN:
				payload.flags = flags;
				syscall.flags = flags;
				syscall.mode = mode;
				if (flags & O_CREAT) file.destination = { mode };
				break;
			case ID.VG_EV_CHMOD:
				syscall.mode = mode;
				file.destination = { mode };
				break;
			case ID.VG_EV_MKDIR:
				syscall.mode = mode;
				file.destination = { mode };
				break;
			case ID.VG_EV_CHOWN: {
				const uid = v.getInt32(o + R1.uid[0], true);
				const gid = v.getInt32(o + R1.gid[0], true);
				syscall.uid = uid;
				syscall.gid = gid;
				file.destination = { uid, gid };
				break;
			}
			case ID.VG_EV_SETXATTR:
			case ID.VG_EV_REMOVEXATTR: {
				const xattr = this.has(o + R1.xattr[0]) ? this.str(o + R1.xattr[0]) : "";
				const dot = xattr.indexOf(".");
				file.destination = { name: xattr, namespace: dot > 0 ? xattr.slice(0, dot) : "" };
				break;
			}
			case ID.VG_EV_UNLINK:
				payload.flags = flags;
				syscall.flags = flags;
				break;
			case ID.VG_EV_UMOUNT:
				payload.flags = flags;
				break;
		}
		return this.event(name, o, this.proc(o), payload, f.error);
	}

	private twoFiles(type: number, o: number): Event {
		const v = this.v;
		const src = this.file(o + R2.src[0]);
		const dst = this.file(o + R2.dst[0]);
		const retval = s64(v, o + R2.retval[0]);
		const flags = u64(v, o + R2.flags[0]);
		const kind = v.getUint32(o + R2.kind[0], true);
		const error = src.error ?? dst.error;
		if (type === ID.VG_EV_MOUNT) {
			const bind = kind === DEFINES.VG_F2_MOUNT && src.file !== undefined;
			const fsType = this.has(o + R2.fstype[0]) ? this.str(o + R2.fstype[0]) : "";
			const mountpoint = dst.file?.path ?? "";
			return this.event(
				"mount",
				o,
				this.proc(o),
				{
					mountpoint: { path: mountpoint },
					...(bind ? { source: { path: src.file!.path }, root: { path: src.file!.path } } : {}),
					fs_type: fsType,
					flags,
					retval,
					syscall: {
						fs_type: fsType,
						mountpoint: { path: dst.name ?? "" },
						source: { path: src.name ?? "" },
					},
				},
				error,
			);
		}
		const file: FileFields = src.file ?? { path: src.name ?? "", name: basename(src.name ?? "") };
		file.destination = dst.file ?? {};
		const payload: Record<string, unknown> = {
			file,
			retval,
			syscall: { path: src.name ?? "", destination: { path: dst.name ?? "" } },
		};
		if (type === ID.VG_EV_RENAME) payload.flags = flags;
		else payload.is_symlink = kind === DEFINES.VG_F2_SYMLINK;
		return this.event(TYPE_NAMES[type]!, o, this.proc(o), payload, error);
	}

	private exec(o: number): Event {
		const v = this.v;
		const process = this.proc(o);
		const f = this.file(o + EX.file[0]);
		const interp = this.file(o + EX.interpreter[0]);
		const flags = v.getUint32(o + EX.flags[0], true);
		const args = splitValues(this.str(o + EX.args[0]), (flags & DEFINES.VG_EXEC_ARGS_TRUNCATED) !== 0);
		const envs = splitValues(this.str(o + EX.envs[0]), (flags & DEFINES.VG_EXEC_ENVS_TRUNCATED) !== 0);
		if (f.file) process.file = f.file;
		if (interp.file) process.interpreter = { file: interp.file };
		process.argv0 = args.values[0] ?? "";
		process.argv = args.values.slice(1);
		process.args_truncated = args.truncated;
		process.envp = envs.values;
		process.envs_truncated = envs.truncated;
		process.is_exec = true;
		process.created_at = this.offset + u64(v, o + EX.start_time[0]);
		process.syscall = { path: this.str(o + EX.filename[0]) };
		const ev = this.event("exec", o, process, {}, f.error ?? interp.error);
		process.exec_time = ev.timestamp;
		ev.exec = process;
		return ev;
	}

	private net(type: number, o: number): Event {
		const v = this.v;
		const b = this.b;
		const family = v.getUint16(o + NT.family[0], true);
		const addr: Record<string, unknown> = { family, ip: "", port: v.getUint16(o + NT.port[0], true) };
		const a = o + NT.addr[0];
		if (family === AF_INET) addr.ip = ipv4(b, a);
		else if (family === AF_INET6) addr.ip = ipv6(b, a);
		else if (family === AF_UNIX && this.has(o + NT.unix_path[0])) {
			const raw = this.str(o + NT.unix_path[0]);
			// abstract socket names start with a NUL; show them as `ss` does, with a leading @
			const nul = raw.indexOf("\0", 1);
			const path = nul < 0 ? raw : raw.slice(0, nul);
			addr.path = path.startsWith("\0") ? `@${path.slice(1)}` : path;
		}
		return this.event(TYPE_NAMES[type]!, o, this.proc(o), {
			addr,
			protocol: v.getUint16(o + NT.protocol[0], true),
			retval: s64(v, o + NT.retval[0]),
		});
	}

	private bpf(o: number): Event {
		const v = this.v;
		const b = this.b;
		const cmd = v.getInt32(o + BP.cmd[0], true);
		const payload: Record<string, unknown> = { cmd, retval: s64(v, o + BP.retval[0]) };
		const progType = v.getUint32(o + BP.prog_type[0], true);
		const progName = this.strings.field(o + BP.prog_name[0], BP.prog_name[1], SLOT_PROG_NAME);
		if (progType !== 0 || progName || cmd === BPF_PROG_LOAD) {
			const helpers: number[] = [];
			for (let w = 0; w < DEFINES.VG_BPF_HELPER_WORDS; w++) {
				const lo = v.getUint32(o + BP.helpers[0] + w * 8, true);
				const hi = v.getUint32(o + BP.helpers[0] + w * 8 + 4, true);
				for (let bit = 0; bit < 32; bit++) {
					if (lo & (1 << bit)) helpers.push(w * 64 + bit);
				}
				for (let bit = 0; bit < 32; bit++) {
					if (hi & (1 << bit)) helpers.push(w * 64 + 32 + bit);
				}
			}
			let tag = "";
			for (let i = 0; i < BP.prog_tag[1]; i++)
				tag += b[o + BP.prog_tag[0] + i]!.toString(16).padStart(2, "0");
			payload.prog = {
				type: progType,
				name: progName,
				tag: tag === "0000000000000000" ? "" : tag,
				attach_type: v.getUint32(o + BP.attach_type[0], true),
				helpers,
			};
		}
		const mapType = v.getUint32(o + BP.map_type[0], true);
		const mapName = this.strings.field(o + BP.map_name[0], BP.map_name[1], SLOT_MAP_NAME);
		if (mapType !== 0 || mapName || cmd === BPF_MAP_CREATE) payload.map = { type: mapType, name: mapName };
		return this.event("bpf", o, this.proc(o), payload);
	}
}
