/**
 * File events from the real kernel: real programs (cat, chmod, chown, mkdir, mv, ln, rm, touch,
 * mount) and the fixture program for the *at() variants, asserting absolute paths, flags,
 * modes, owners and results.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { act, observe, observeAct, ofType, type ProbeRun, payload, useProbe } from "./harness.ts";

let probe: ProbeRun;
let dir: string;
useProbe(
	"file",
	{
		event_types: [
			"open",
			"chmod",
			"chown",
			"utimes",
			"setxattr",
			"removexattr",
			"mkdir",
			"rmdir",
			"unlink",
			"rename",
			"link",
			"mount",
			"umount",
			"splice",
			"exec",
			"fork",
			"exit",
		],
	},
	(p, d) => {
		probe = p;
		dir = d;
	},
);

const O_WRONLY = 0o1;
const O_CREAT = 0o100;

describe("open", () => {
	test("a relative path with .. is reported as the absolute path the kernel opened", async () => {
		const { events } = await observe(probe, ["cat", "doc/../../bin/../lib/os-release"], {
			cwd: "/usr/share",
		});
		const open = ofType(events, "open").find(
			(e) => payload(e).syscall.path === "doc/../../bin/../lib/os-release",
		);
		expect(open).toBeDefined();
		const st = statSync("/usr/lib/os-release");
		expect(payload(open).file).toMatchObject({
			path: "/usr/lib/os-release",
			name: "os-release",
			inode: st.ino,
			mode: st.mode,
			uid: st.uid,
			gid: st.gid,
		});
		expect(payload(open).retval).toBeGreaterThanOrEqual(0);
		expect(payload(open).file.mount_id).toBeGreaterThan(0);
		expect(open!.error).toBeUndefined();
	});

	test("openat relative to a directory descriptor resolves against that directory, with flags and mode", async () => {
		mkdirSync(join(dir, "sub"), { recursive: true });
		const { events } = await observeAct(probe, [
			"openat",
			dir,
			"sub/../created",
			(O_CREAT | O_WRONLY).toString(8),
		]);
		const open = ofType(events, "open").find((e) => payload(e).syscall.path === "sub/../created");
		expect(payload(open).file.path).toBe(join(dir, "created"));
		expect(payload(open).flags).toBe(O_CREAT | O_WRONLY);
		expect(payload(open).file.destination).toEqual({ mode: 0o640 });
		expect(payload(open).file.inode).toBe(statSync(join(dir, "created")).ino);
		expect(payload(open).retval).toBeGreaterThanOrEqual(0);
	});

	test("a failed open reports ENOENT and the absolute path it was asked for", async () => {
		const { events } = await observeAct(probe, ["openat", dir, "./missing/../nothing-here", "0"]);
		const open = ofType(events, "open").find((e) => payload(e).syscall.path === "./missing/../nothing-here");
		expect(payload(open).retval).toBe(-2);
		expect(payload(open).file.path).toBe(join(dir, "nothing-here"));
		expect(payload(open).file.inode).toBeUndefined();
	});

	test("paths cross into proc, sysfs and devtmpfs mounts", async () => {
		const { ran, events } = await observe(probe, [
			"cat",
			"/proc/self/stat",
			"/sys/kernel/uevent_seqnum",
			"/dev/null",
		]);
		const paths = ofType(events, "open").map((e) => payload(e).file);
		const byFs = (fs: string) => paths.find((f) => f.filesystem === fs);
		expect(byFs("proc")?.path).toBe(`/proc/${ran.pid}/stat`);
		expect(byFs("sysfs")?.path).toBe("/sys/kernel/uevent_seqnum");
		expect(byFs("devtmpfs")?.path).toBe("/dev/null");
		expect(new Set([byFs("proc")?.mount_id, byFs("sysfs")?.mount_id, byFs("devtmpfs")?.mount_id]).size).toBe(
			3,
		);
	});
});

describe("attributes", () => {
	test("chmod reports the absolute path and the new mode, by name and relative to a directory fd", async () => {
		writeFileSync(join(dir, "perm"), "x");
		const byName = await observe(probe, ["chmod", "600", "perm"], { cwd: dir });
		const c1 = ofType(byName.events, "chmod")[0];
		expect(payload(c1).file.path).toBe(join(dir, "perm"));
		expect(payload(c1).file.destination.mode).toBe(0o600);
		expect(payload(c1).retval).toBe(0);
		const at = await observeAct(probe, ["fchmodat", dir, "perm", "644"]);
		const c2 = ofType(at.events, "chmod")[0];
		expect(payload(c2).file.path).toBe(join(dir, "perm"));
		expect(payload(c2).syscall).toEqual({ path: "perm", mode: 0o644 });
	});

	test("chown reports the new owner, by name and on a descriptor (with the file's inode)", async () => {
		writeFileSync(join(dir, "owned"), "x");
		const byName = await observe(probe, ["chown", "1:2", "owned"], { cwd: dir });
		const c1 = ofType(byName.events, "chown")[0];
		expect(payload(c1).file.path).toBe(join(dir, "owned"));
		expect(payload(c1).file.destination).toEqual({ uid: 1, gid: 2 });
		const byFd = await observeAct(probe, ["fchown", join(dir, "owned"), "3", "4"]);
		const c2 = ofType(byFd.events, "chown")[0];
		expect(payload(c2).file.path).toBe(join(dir, "owned"));
		expect(payload(c2).file.inode).toBe(statSync(join(dir, "owned")).ino);
		expect(payload(c2).file.destination).toEqual({ uid: 3, gid: 4 });
	});

	test("utimes reports the file touched, by name relative to a directory fd", async () => {
		writeFileSync(join(dir, "touched"), "x");
		const { events } = await observeAct(probe, ["utimensat", dir, "touched"]);
		const u = ofType(events, "utimes")[0];
		expect(payload(u).file.path).toBe(join(dir, "touched"));
		expect(payload(u).retval).toBe(0);
	});

	test("setxattr and removexattr report the attribute's name and namespace", async () => {
		writeFileSync(join(dir, "attrs"), "x");
		const { events } = await observeAct(probe, ["xattr", join(dir, "attrs")]);
		for (const type of ["setxattr", "removexattr"]) {
			const e = ofType(events, type)[0];
			expect(payload(e).file.path).toBe(join(dir, "attrs"));
			expect(payload(e).file.destination).toEqual({ name: "user.vigil", namespace: "user" });
			expect(payload(e).retval).toBe(0);
		}
	});
});

describe("names", () => {
	test("mkdir and rmdir report absolute paths and mkdir's mode; unlinkat(AT_REMOVEDIR) is an rmdir", async () => {
		const made = await observe(probe, ["mkdir", "-m", "700", "made"], { cwd: dir });
		const m = ofType(made.events, "mkdir")[0];
		expect(payload(m).file.path).toBe(join(dir, "made"));
		expect(payload(m).retval).toBe(0);
		const removed = await observe(probe, ["rmdir", "made"], { cwd: dir });
		expect(payload(ofType(removed.events, "rmdir")[0]).file.path).toBe(join(dir, "made"));
		mkdirSync(join(dir, "gone"));
		const at = await observeAct(probe, ["rmdirat", dir, "gone"]);
		const r = ofType(at.events, "rmdir")[0];
		expect(payload(r).file.path).toBe(join(dir, "gone"));
		expect(ofType(at.events, "unlink")).toEqual([]);
	});

	test("unlink reports the path of the removed file, and ENOENT for a missing one", async () => {
		writeFileSync(join(dir, "doomed"), "x");
		const ok = await observe(probe, ["rm", "doomed"], { cwd: dir });
		const u = ofType(ok.events, "unlink")[0];
		expect(payload(u).file.path).toBe(join(dir, "doomed"));
		expect(payload(u).retval).toBe(0);
		const missing = await observe(probe, ["rm", "never-was"], { cwd: dir });
		expect(missing.ran.code).not.toBe(0);
		const m = ofType(missing.events, "unlink")[0];
		expect(payload(m).file.path).toBe(join(dir, "never-was"));
		expect(payload(m).retval).toBe(-2);
	});

	test("rename across directories reports both absolute paths", async () => {
		mkdirSync(join(dir, "from"), { recursive: true });
		mkdirSync(join(dir, "to"), { recursive: true });
		writeFileSync(join(dir, "from/x"), "x");
		const { events } = await observe(probe, ["mv", "from/x", "to/y"], { cwd: dir });
		const r = ofType(events, "rename").find((e) => payload(e).retval === 0);
		expect(payload(r).file.path).toBe(join(dir, "from/x"));
		expect(payload(r).file.destination.path).toBe(join(dir, "to/y"));
		writeFileSync(join(dir, "from/z"), "z");
		const at = await observeAct(probe, ["renameat", join(dir, "from"), "z", join(dir, "to"), "../moved"]);
		const r2 = ofType(at.events, "rename")[0];
		expect(payload(r2).file.path).toBe(join(dir, "from/z"));
		expect(payload(r2).file.destination.path).toBe(join(dir, "moved"));
	});

	test("hard links and symlinks report both paths; a symlink's target is kept as written", async () => {
		writeFileSync(join(dir, "orig"), "x");
		const hard = await observe(probe, ["ln", "orig", "hard"], { cwd: dir });
		const h = ofType(hard.events, "link")[0];
		expect(payload(h).file.path).toBe(join(dir, "orig"));
		expect(payload(h).file.destination.path).toBe(join(dir, "hard"));
		expect(payload(h).is_symlink).toBe(false);
		const soft = await observe(probe, ["ln", "-s", "../elsewhere", "soft"], { cwd: dir });
		const s = ofType(soft.events, "link")[0];
		expect(payload(s).is_symlink).toBe(true);
		expect(payload(s).syscall.path).toBe("../elsewhere");
		expect(payload(s).file.destination.path).toBe(join(dir, "soft"));
	});

	test("mount and umount of a tmpfs in a new mount namespace report the mount point and type", async () => {
		mkdirSync(join(dir, "mnt"), { recursive: true });
		const { ran, events } = await observe(
			probe,
			["unshare", "-m", "sh", "-c", "mount -t tmpfs vigil-tmpfs mnt && umount mnt"],
			{ cwd: dir },
		);
		expect(ran.code).toBe(0);
		// unshare itself first makes / private: a mount call too, reported as such
		const mounts = ofType(events, "mount");
		expect(payload(mounts[0]).mountpoint.path).toBe("/");
		const m = mounts.find((e) => payload(e).fs_type === "tmpfs");
		expect(payload(m)).toMatchObject({
			mountpoint: { path: join(dir, "mnt") },
			fs_type: "tmpfs",
			retval: 0,
			// mount(8) makes the mount point absolute before calling mount(2)
			syscall: { fs_type: "tmpfs", mountpoint: { path: join(dir, "mnt") }, source: { path: "vigil-tmpfs" } },
		});
		const u = ofType(events, "umount")[0];
		expect(payload(u).file.path).toBe(join(dir, "mnt"));
		expect(payload(u).retval).toBe(0);
	});

	test("splice from a file into a pipe reports the file spliced", async () => {
		writeFileSync(join(dir, "spliced"), "some bytes");
		const { events } = await observeAct(probe, ["splice", join(dir, "spliced")]);
		const s = ofType(events, "splice")[0];
		expect(payload(s).file.path).toBe(join(dir, "spliced"));
		expect(payload(s).retval).toBe(10);
	});
});

test("the fixture agrees with the kernel on a failing openat (sanity of the fixture itself)", async () => {
	expect((await act(["openat", dir, "still-missing", "0"])).stdout).toBe("-2");
});
