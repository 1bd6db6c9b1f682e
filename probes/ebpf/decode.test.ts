/**
 * The decoder on records built here from the layout table, as the kernel writes them: no
 * kernel needed. Kernel tests (test/kernel) cover the same decoder on real records.
 */
import { describe, expect, test } from "bun:test";
import type { Event } from "../../core/model/types.ts";
import { Decoder, ExitCause, ipv6 } from "./decode.ts";
import { DEFINES, EVENT_IDS as ID, type Member, STRUCTS, type StructName } from "./layout.ts";

const OFFSET = 1_700_000_000_000_000_000;
const enc = new TextEncoder();

/** A record as the kernel writes it: fixed struct, then the data area. */
class Rec {
	private fixed: Uint8Array;
	private v: DataView;
	private data: number[] = [];
	constructor(
		private struct: StructName,
		type: number,
	) {
		this.fixed = new Uint8Array(STRUCTS[struct].size);
		this.v = new DataView(this.fixed.buffer);
		this.v.setUint16(0, type, true);
		this.v.setBigUint64(8, 5_000_000_000n, true);
		this.proc({ pid: 100, tid: 101, ppid: 1, uid: 1000, euid: 0, comm: "cat" });
	}
	m(name: string, base = 0): number {
		return base + (STRUCTS[this.struct].members as Record<string, Member>)[name]![0];
	}
	u16(o: number, x: number) {
		this.v.setUint16(o, x, true);
		return this;
	}
	u32(o: number, x: number) {
		this.v.setUint32(o, x >>> 0, true);
		return this;
	}
	i64(o: number, x: bigint) {
		this.v.setBigInt64(o, x, true);
		return this;
	}
	bytes(o: number, b: ArrayLike<number>) {
		this.fixed.set(b, o);
		return this;
	}
	/** Append raw bytes to the data area and point the vg_str at `o` to them. */
	str(o: number, s: string | Uint8Array) {
		const b = typeof s === "string" ? enc.encode(s) : s;
		this.u16(o, this.data.length).u16(o + 2, b.length);
		this.data.push(...b, 0);
		return this;
	}
	proc(p: { pid: number; tid: number; ppid: number; uid: number; euid: number; comm: string }) {
		const P = STRUCTS.vg_proc.members;
		const at = 16;
		this.i64(at + P.cgroup_id[0], 4242n);
		this.i64(at + P.cap_effective[0], 0x1ffffffffffn);
		this.i64(at + P.cap_permitted[0], 0x1ffffffffffn);
		this.u32(at + P.pid[0], p.pid)
			.u32(at + P.tid[0], p.tid)
			.u32(at + P.ppid[0], p.ppid);
		this.u32(at + P.uid[0], p.uid)
			.u32(at + P.euid[0], p.euid)
			.u32(at + P.auid[0], 4294967295);
		this.bytes(at + P.comm[0], enc.encode(p.comm));
		return this;
	}
	/** A vg_file at `fo`: a walked object (components leaf first) or a name. */
	file(
		fo: number,
		f: { kind: number; components?: string[]; flags: number; name?: string; ino?: number; fstype?: string },
	) {
		const F = STRUCTS.vg_file.members;
		this.u32(fo + F.kind[0], f.kind);
		if (f.name !== undefined) this.str(fo + F.name[0], f.name);
		const start = this.data.length;
		for (const c of f.components ?? []) this.data.push(...enc.encode(c), 0);
		this.u16(fo + F.path[0], start)
			.u16(fo + F.path[0] + 2, this.data.length - start)
			.u16(fo + F.path[0] + 4, f.components?.length ?? 0)
			.u16(fo + F.path[0] + 6, f.flags);
		if (f.ino !== undefined) {
			this.i64(fo + F.ino[0], BigInt(f.ino))
				.u32(fo + F.mount_id[0], 27)
				.u32(fo + F.mode[0], 0o100644);
			this.i64(fo + F.mtime_sec[0], 1_700_000_000n).u32(fo + F.mtime_nsec[0], 5);
		}
		if (f.fstype) this.bytes(fo + F.fstype[0], enc.encode(f.fstype));
		return this;
	}
	build(): Uint8Array {
		const out = new Uint8Array(this.fixed.length + this.data.length);
		out.set(this.fixed);
		out.set(this.data, this.fixed.length);
		new DataView(out.buffer).setUint32(4, out.length, true);
		return out;
	}
}

/** Records framed as the ring reader stores them. */
const batch = (...records: Uint8Array[]): { bytes: Uint8Array; view: DataView; used: number } => {
	let size = 0;
	for (const r of records) size += 8 + ((r.length + 7) & ~7);
	const bytes = new Uint8Array(size);
	const view = new DataView(bytes.buffer);
	let o = 0;
	for (const r of records) {
		view.setUint32(o, r.length, true);
		bytes.set(r, o + 8);
		o += 8 + ((r.length + 7) & ~7);
	}
	return { bytes, view, used: size };
};

const decode = (...records: Uint8Array[]): { events: Event[]; decoder: Decoder } => {
	const decoder = new Decoder({ clockOffset: OFFSET });
	const b = batch(...records);
	const events: Event[] = [];
	decoder.batch(b.bytes, b.view, b.used, events);
	return { events, decoder };
};

// biome-ignore lint/suspicious/noExplicitAny: tests read payloads by SECL name
const payload = (e: Event): any => e[e.type];

const FILE = STRUCTS.vg_rec_file.members.file[0];

describe("process context and time", () => {
	test("carries ids, credentials, 64-bit capability sets exactly, comm and cgroup id", () => {
		const r = new Rec("vg_rec_cred", ID.VG_EV_SETUID);
		const { events } = decode(r.build());
		expect(events[0]!.process).toEqual({
			pid: 100,
			tid: 101,
			ppid: 1,
			uid: 1000,
			gid: 0,
			euid: 0,
			egid: 0,
			fsuid: 0,
			fsgid: 0,
			auid: 4294967295,
			cap_effective: 0x1ffffffffff,
			cap_permitted: 0x1ffffffffff,
			comm: "cat",
			cgroup: { id: "4242" },
		});
		expect(payload(events[0]!)).toEqual({ uid: 1000, euid: 0, fsuid: 0, retval: 0 });
	});

	test("event time is the kernel's monotonic stamp moved to the Unix epoch", () => {
		const { events } = decode(new Rec("vg_rec_cred", ID.VG_EV_CAPSET).build());
		expect(events[0]!.timestamp).toBe(OFFSET + 5_000_000_000);
	});
});

describe("file events", () => {
	test("an opened file has the walked absolute path, inode fields and the syscall's own path", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_OPEN);
		r.file(FILE, {
			kind: DEFINES.VG_FILE_OBJECT,
			components: ["os-release", "lib", "usr"],
			flags: DEFINES.VG_PATH_ROOT,
			name: "doc/../../bin/../lib/os-release",
			ino: 331814,
			fstype: "ext4",
		});
		r.i64(r.m("retval"), 3n).u32(r.m("flags"), 0o100).u32(r.m("mode"), 0o640);
		const e = decode(r.build()).events[0]!;
		expect(e.type).toBe("open");
		expect(e.error).toBeUndefined();
		expect(payload(e)).toEqual({
			file: {
				path: "/usr/lib/os-release",
				name: "os-release",
				inode: 331814,
				mount_id: 27,
				mode: 0o100644,
				uid: 0,
				gid: 0,
				filesystem: "ext4",
				modification_time: 1_700_000_000 * 1e9 + 5,
				change_time: 0,
				destination: { mode: 0o640 },
			},
			retval: 3,
			flags: 0o100,
			syscall: { path: "doc/../../bin/../lib/os-release", flags: 0o100, mode: 0o640 },
		});
	});

	test("a failed open is reported with ENOENT and the name joined to the directory the kernel resolved", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_OPEN);
		r.file(FILE, {
			kind: DEFINES.VG_FILE_NAME,
			components: ["x", "tmp"],
			flags: DEFINES.VG_PATH_ROOT,
			name: "../etc/./missing",
		});
		r.i64(r.m("retval"), -2n);
		const e = decode(r.build()).events[0]!;
		expect(payload(e).retval).toBe(-2);
		expect(payload(e).file).toEqual({ path: "/tmp/etc/missing", name: "missing" });
	});

	test("an absolute name is normalised without a directory", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_UNLINK);
		r.file(FILE, { kind: DEFINES.VG_FILE_NAME, flags: DEFINES.VG_PATH_ABSOLUTE, name: "/a//b/../c" });
		expect(payload(decode(r.build()).events[0]!).file.path).toBe("/a/c");
	});

	test("a path cut by the depth limit is a path resolution error, with what was resolved", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_OPEN);
		r.file(FILE, {
			kind: DEFINES.VG_FILE_OBJECT,
			components: ["f", "deep"],
			flags: DEFINES.VG_PATH_TOO_DEEP,
			ino: 1,
		});
		const e = decode(r.build()).events[0]!;
		expect(e.error?.kind).toBe("path_resolution");
		expect(payload(e).file.path).toBe("/deep/f");
		expect(payload(e).file.path_resolution_error).toContain("more than 48 path components");
	});

	test("a file on a kernel-internal mount is a non-critical resolution error", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_OPEN);
		r.file(FILE, {
			kind: DEFINES.VG_FILE_OBJECT,
			flags: DEFINES.VG_PATH_INTERNAL,
			ino: 1234,
			fstype: "pipefs",
		});
		const e = decode(r.build()).events[0]!;
		expect(e.error?.kind).toBe("path_resolution_not_critical");
		expect(payload(e).file.path).toBe("pipe:[1234]");
	});

	test("chown reports the requested owner as the destination", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_CHOWN);
		r.file(FILE, { kind: DEFINES.VG_FILE_NAME, flags: DEFINES.VG_PATH_ABSOLUTE, name: "/etc/shadow" });
		r.u32(r.m("uid"), 0).u32(r.m("gid"), -1);
		expect(payload(decode(r.build()).events[0]!).file.destination).toEqual({ uid: 0, gid: -1 });
	});

	test("setxattr splits the attribute namespace from its name", () => {
		const r = new Rec("vg_rec_file", ID.VG_EV_SETXATTR);
		r.file(FILE, { kind: DEFINES.VG_FILE_NAME, flags: DEFINES.VG_PATH_ABSOLUTE, name: "/f" });
		r.str(r.m("xattr"), "security.capability");
		expect(payload(decode(r.build()).events[0]!).file.destination).toEqual({
			name: "security.capability",
			namespace: "security",
		});
	});

	test("rename carries both paths, the destination under file.destination", () => {
		const r = new Rec("vg_rec_file2", ID.VG_EV_RENAME);
		r.file(r.m("src"), {
			kind: DEFINES.VG_FILE_NAME,
			components: ["a", "t"],
			flags: DEFINES.VG_PATH_ROOT,
			name: "x",
		});
		r.file(r.m("dst"), {
			kind: DEFINES.VG_FILE_NAME,
			components: ["b", "t"],
			flags: DEFINES.VG_PATH_ROOT,
			name: "y",
		});
		const p = payload(decode(r.build()).events[0]!);
		expect(p.file.path).toBe("/t/a/x");
		expect(p.file.destination.path).toBe("/t/b/y");
		expect(p.syscall).toEqual({ path: "x", destination: { path: "y" } });
	});
});

describe("process events", () => {
	const exec = (args: string | Uint8Array, flags = 0) => {
		const r = new Rec("vg_rec_exec", ID.VG_EV_EXEC);
		r.file(r.m("file"), { kind: DEFINES.VG_FILE_NAME, flags: DEFINES.VG_PATH_ABSOLUTE, name: "/tmp/s.sh" });
		r.file(r.m("interpreter"), {
			kind: DEFINES.VG_FILE_OBJECT,
			components: ["dash", "bin", "usr"],
			flags: DEFINES.VG_PATH_ROOT,
			ino: 7,
		});
		r.str(r.m("filename"), "./s.sh").str(r.m("args"), args).str(r.m("envs"), "A=1\0B=2\0");
		r.u32(r.m("flags"), flags).i64(r.m("start_time"), 1000n);
		return decode(r.build()).events[0]!;
	};

	test("exec is the new image: file, interpreter, argv0 apart from argv, envp; exec is process", () => {
		const e = exec("/bin/sh\0./s.sh\0-x\0");
		expect(e.exec).toBe(e.process);
		expect(e.process.file?.path).toBe("/tmp/s.sh");
		expect(e.process.interpreter?.file?.path).toBe("/usr/bin/dash");
		expect(e.process.argv0).toBe("/bin/sh");
		expect(e.process.argv).toEqual(["./s.sh", "-x"]);
		expect(e.process.envp).toEqual(["A=1", "B=2"]);
		expect(e.process.args_truncated).toBe(false);
		expect(e.process.created_at).toBe(OFFSET + 1000);
		expect(e.process.exec_time).toBe(e.timestamp);
	});

	test("an argument area cut by the kernel marks the last value with ... and args_truncated", () => {
		const e = exec("ls\0-la\0/very/long/pa", DEFINES.VG_EXEC_ARGS_TRUNCATED);
		expect(e.process.argv).toEqual(["-la", "/very/long/pa..."]);
		expect(e.process.args_truncated).toBe(true);
	});

	test("an argument longer than 256 bytes is cut there with ...", () => {
		const e = exec(`x\0${"a".repeat(300)}\0`);
		expect(e.process.argv).toEqual([`${"a".repeat(256)}...`]);
		expect(e.process.args_truncated).toBe(true);
	});

	test("exit decodes the wait status into Datadog's cause and code; exit is process", () => {
		const exit = (status: number) => {
			const r = new Rec("vg_rec_exit", ID.VG_EV_EXIT);
			r.u32(r.m("exit_code"), status);
			return decode(r.build()).events[0]!;
		};
		const normal = exit(7 << 8);
		expect(normal.exit).toBe(normal.process);
		expect([normal.process.cause, normal.process.code]).toEqual([ExitCause.EXITED, 7]);
		expect([exit(9).process.cause, exit(9).process.code]).toEqual([ExitCause.SIGNALED, 9]);
		expect([exit(0x80 | 6).process.cause, exit(0x80 | 6).process.code]).toEqual([ExitCause.COREDUMPED, 6]);
	});

	test("fork is the child, with its parent and whether it is a thread", () => {
		const r = new Rec("vg_rec_fork", ID.VG_EV_FORK);
		r.u32(r.m("parent_pid"), 100).u32(r.m("parent_tid"), 100).u32(r.m("is_thread"), 1);
		const e = decode(r.build()).events[0]!;
		expect(e.process.is_thread).toBe(true);
		expect(payload(e)).toEqual({ parent_pid: 100, parent_tid: 100 });
	});
});

describe("network and kernel events", () => {
	const net = (type: number, family: number, addr: number[], port: number) => {
		const r = new Rec("vg_rec_net", type);
		r.u16(r.m("family"), family).u16(r.m("port"), port).u16(r.m("protocol"), 6).bytes(r.m("addr"), addr);
		return payload(decode(r.build()).events[0]!);
	};

	test("IPv4 and IPv6 addresses are strings", () => {
		expect(net(ID.VG_EV_CONNECT, 2, [127, 0, 0, 1], 22).addr).toEqual({
			family: 2,
			ip: "127.0.0.1",
			port: 22,
		});
		expect(net(ID.VG_EV_BIND, 10, [...new Array(15).fill(0), 1], 80).addr.ip).toBe("::1");
	});

	test("IPv6 text follows RFC 5952 (longest zero run, mapped IPv4)", () => {
		const b = (...x: number[]) => Uint8Array.from(x);
		expect(ipv6(b(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0)).toBe("2001:db8::1");
		expect(ipv6(b(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1), 0)).toBe("::ffff:10.0.0.1");
		expect(ipv6(b(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1), 0)).toBe("fe80::1:0:0:1");
	});

	test("a unix socket address has its path, abstract names shown with @", () => {
		const r = new Rec("vg_rec_net", ID.VG_EV_CONNECT);
		r.u16(r.m("family"), 1).str(r.m("unix_path"), "\0vigil-abstract");
		expect(payload(decode(r.build()).events[0]!).addr.path).toBe("@vigil-abstract");
	});

	test("bpf program loads list the helpers set in the bitmap and the tag in hex", () => {
		const r = new Rec("vg_rec_bpf", ID.VG_EV_BPF);
		r.u32(r.m("cmd"), 5).u32(r.m("prog_type"), 1).bytes(r.m("prog_name"), enc.encode("vgprog"));
		r.bytes(r.m("prog_tag"), [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]);
		r.i64(r.m("helpers"), 1n << 7n).i64(r.m("helpers") + 16, 1n << 2n);
		expect(payload(decode(r.build()).events[0]!).prog).toEqual({
			type: 1,
			name: "vgprog",
			tag: "deadbeef00010203",
			attach_type: 0,
			helpers: [7, 130],
		});
	});
});

describe("malformed records", () => {
	test("a record whose size field disagrees is counted and skipped; the next one is kept", () => {
		const bad = new Rec("vg_rec_cred", ID.VG_EV_SETUID).build();
		new DataView(bad.buffer).setUint32(4, bad.length + 8, true);
		const { events, decoder } = decode(bad, new Rec("vg_rec_cred", ID.VG_EV_SETGID).build());
		expect(decoder.malformed).toBe(1);
		expect(events.map((e) => e.type)).toEqual(["setgid"]);
	});

	test("an unknown type, or a string pointing outside the record, is malformed", () => {
		const unknown = new Rec("vg_rec_cred", 99).build();
		const r = new Rec("vg_rec_prctl", ID.VG_EV_PRCTL);
		r.u32(r.m("option"), 15)
			.u16(r.m("name"), 60)
			.u16(r.m("name") + 2, 200);
		const { events, decoder } = decode(unknown, r.build());
		expect(events).toEqual([]);
		expect(decoder.malformed).toBe(2);
	});
});
