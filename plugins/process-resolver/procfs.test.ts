import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
	findMount,
	ProcFs,
	parseMountinfo,
	parseStat,
	parseStatus,
	splitBounded,
	ttyName,
} from "./procfs.ts";
import { startProcess, writeFakeProcess } from "./testing.ts";

describe("parsing /proc files", () => {
	test("stat: a comm holding spaces and parentheses does not shift the fields", () => {
		const line =
			"4242 (my (odd) comm) S 17 4242 4242 34817 4242 4194560 1 2 3 4 5 6 7 8 20 0 1 0 987654 0 0\n";
		expect(parseStat(line)).toEqual({
			comm: "my (odd) comm",
			ppid: 17,
			ttyNr: 34817,
			flags: 4194560,
			startTicks: 987654,
		});
	});

	test("tty numbers name pseudo-terminals, virtual consoles and serial lines like the kernel", () => {
		expect(ttyName(0)).toBe("");
		expect(ttyName((136 << 8) | 1)).toBe("pts1");
		expect(ttyName((137 << 8) | 2)).toBe("pts258");
		expect(ttyName((4 << 8) | 1)).toBe("tty1");
		expect(ttyName((4 << 8) | 64)).toBe("ttyS0");
	});

	test("status: real, effective and fs ids, effective and permitted capabilities", () => {
		const text =
			"Name:\tx\nUid:\t1000\t0\t0\t33\nGid:\t100\t101\t102\t103\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000003000\n";
		expect(parseStatus(text)).toEqual({
			uid: 1000,
			euid: 0,
			fsuid: 33,
			gid: 100,
			egid: 101,
			fsgid: 103,
			cap_permitted: 0x1ffffffffff,
			cap_effective: 0x3000,
		});
	});

	test("argv and envp keep within the entry and byte limits and say when they were cut", () => {
		const raw = Buffer.from("ls\0-l\0--color=auto\0/tmp\0");
		expect(splitBounded(raw, 128, 4096)).toEqual({
			values: ["ls", "-l", "--color=auto", "/tmp"],
			truncated: false,
		});
		expect(splitBounded(raw, 2, 4096)).toEqual({ values: ["ls", "-l"], truncated: true });
		// 3 + 3 bytes (with NULs) used, 5 left: "--co" fits with its NUL, then the mark.
		expect(splitBounded(raw, 128, 11)).toEqual({ values: ["ls", "-l", "--co..."], truncated: true });
		expect(splitBounded(Buffer.from("postgres: writer"), 128, 4096).values).toEqual(["postgres: writer"]);
		expect(splitBounded(Buffer.alloc(0), 128, 4096)).toEqual({ values: [], truncated: false });
		expect(splitBounded(Buffer.from("a\0\0"), 128, 4096).values).toEqual(["a", ""]);
	});

	test("mountinfo: the mount holding a path is the longest mount point above it on that device", () => {
		const mounts = parseMountinfo(
			"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n" +
				"40 22 8:1 /srv /mnt/my\\040disk rw shared:1 - ext4 /dev/sda1 rw\n" +
				"50 22 0:30 / /proc rw - proc proc rw\n",
		);
		expect(findMount(mounts, "8:1", "/usr/bin/ls")).toMatchObject({ id: 22, fstype: "ext4" });
		expect(findMount(mounts, "8:1", "/mnt/my disk/app")).toMatchObject({ id: 40, point: "/mnt/my disk" });
		expect(findMount(mounts, "0:99", "/x")).toBeUndefined();
	});
});

describe("reading a real process", () => {
	test("a spawned process: executable with inode, mode and mount, argv, envp, credentials, parent, start", async () => {
		const before = Date.now() * 1e6;
		const sleep = await startProcess(
			["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "31"],
			"/usr/bin/sleep",
			{ VIGIL_PROC_TEST: "1", PATH: "/usr/bin:/bin" },
		);
		try {
			const proc = new ProcFs("/proc").read(sleep.pid)!;
			const st = statSync("/usr/bin/sleep", { bigint: true });
			expect(proc.file).toMatchObject({
				path: "/usr/bin/sleep",
				name: "sleep",
				inode: Number(st.ino),
				mode: Number(st.mode),
				uid: Number(st.uid),
				gid: Number(st.gid),
				modification_time: Number(st.mtimeNs),
			});
			// The mount id is the mountinfo line of the executable's device.
			const line = readFileSync("/proc/self/mountinfo", "utf8")
				.split("\n")
				.find((l) => l.startsWith(`${proc.file!.mount_id} `))!;
			const dev = Number(st.dev);
			expect(line.split(" ")[2]).toBe(`${Math.floor(dev / 256) & 0xfff}:${dev & 0xff}`);
			expect(proc.file!.filesystem).toBe(line.split(" - ")[1]!.split(" ")[0]!);
			expect(proc.argv0).toBe("sleep");
			expect(proc.argv).toEqual(["31"]);
			expect(proc.envp).toEqual(["VIGIL_PROC_TEST=1", "PATH=/usr/bin:/bin"]);
			expect(proc.creds).toMatchObject({
				uid: 65534,
				euid: 65534,
				fsuid: 65534,
				gid: 65534,
				egid: 65534,
				fsgid: 65534,
			});
			expect(proc.creds.cap_effective).toBe(0);
			expect(proc.comm).toBe("sleep");
			expect(proc.ppid).toBe(process.pid);
			expect(proc.isKworker).toBe(false);
			// Start ticks are 10 ms apart and boot time is known to 10 ms.
			expect(proc.startNs).toBeGreaterThan(before - 50e6);
			expect(proc.startNs).toBeLessThan(Date.now() * 1e6 + 50e6);
			expect(proc.cgroup).toBeDefined();
		} finally {
			await sleep.stop();
		}
	});

	test("a process that is gone reads as undefined", async () => {
		const sleep = await startProcess(["sleep", "30"], "/usr/bin/sleep");
		await sleep.stop();
		expect(new ProcFs("/proc").read(sleep.pid)).toBeUndefined();
	});

	test("kthreadd is a kernel thread: no executable, no arguments", () => {
		const proc = new ProcFs("/proc").read(2)!;
		expect(proc.isKworker).toBe(true);
		expect(proc.file).toBeUndefined();
		expect(proc.argv0).toBeUndefined();
		expect(proc.ppid).toBe(0);
	});
});

describe("a /proc laid out by hand", () => {
	const root = mkdtempSync(join(tmpdir(), "vigil-procfs-"));
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	test("pids are the numeric entries; long environments are cut at the configured limit", () => {
		writeFakeProcess(root, {
			pid: 7,
			ppid: 1,
			comm: "app",
			exe: "/usr/bin/sleep",
			argv: ["app"],
			env: Array.from({ length: 10 }, (_, i) => `V${i}=${"x".repeat(10)}`),
		});
		writeFakeProcess(root, { pid: 12, ppid: 1, comm: "app", exe: "/usr/bin/sleep" });
		writeFileSync(join(root, "uptime-not-a-pid"), "");
		const procfs = new ProcFs(root, { argvEntries: 128, argvBytes: 4096, envpEntries: 4, envpBytes: 8192 });
		expect(procfs.pids()).toEqual([7, 12]);
		const proc = procfs.read(7)!;
		expect(proc.envp).toHaveLength(4);
		expect(proc.envsTruncated).toBe(true);
		expect(proc.argsTruncated).toBe(false);
		expect(proc.startNs).toBe(1e9);
	});
});
