/**
 * Process events from the real kernel: exec, fork, exit, credential changes, ptrace, signals,
 * prctl and chdir, from real programs and the fixture program.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { observe, observeAct, ofType, type ProbeRun, payload, useProbe } from "./harness.ts";

let probe: ProbeRun;
let dir: string;
useProbe(
	"process",
	{
		event_types: ["exec", "fork", "exit", "setuid", "setgid", "capset", "ptrace", "signal", "prctl", "chdir"],
	},
	(p, d) => {
		probe = p;
		dir = d;
	},
);

const CAP_NET_RAW = 13;

describe("exec", () => {
	test("exec reports the resolved executable, argv0 apart from argv, envp and the parent", async () => {
		const { ran, events } = await observe(probe, [
			"/usr/bin/env",
			"-i",
			"VIGIL_TEST=1",
			"/bin/true",
			"one",
			"two",
		]);
		const exec = ofType(events, "exec").find((e) => e.process.comm === "true");
		expect(exec).toBeDefined();
		expect(exec!.exec).toBe(exec!.process);
		expect(exec!.process).toMatchObject({
			pid: ran.pid,
			ppid: process.pid,
			argv0: "/bin/true",
			argv: ["one", "two"],
			envp: ["VIGIL_TEST=1"],
			args_truncated: false,
			envs_truncated: false,
			is_exec: true,
		});
		expect(exec!.process.file?.path).toBe("/usr/bin/true");
		expect(exec!.process.file?.inode).toBeGreaterThan(0);
		expect(exec!.process.uid).toBe(process.getuid!());
	});

	test("a #! script run by a relative path is reported by its absolute path, with its interpreter", async () => {
		const script = join(dir, "hello.sh");
		writeFileSync(script, "#!/bin/sh\nexit 0\n");
		chmodSync(script, 0o755);
		const { events } = await observe(probe, ["./hello.sh"], { cwd: dir });
		const exec = ofType(events, "exec")[0];
		expect(exec!.process.file?.path).toBe(script);
		expect(exec!.process.interpreter?.file?.path).toBe("/usr/bin/dash");
		expect(exec!.process.syscall).toEqual({ path: "./hello.sh" });
	});

	test("an argument longer than 256 bytes is cut there with ..., and args_truncated is set", async () => {
		const { events } = await observe(probe, ["/bin/true", "a".repeat(300), "short"]);
		const exec = ofType(events, "exec")[0];
		expect(exec!.process.argv).toEqual([`${"a".repeat(256)}...`, "short"]);
		expect(exec!.process.args_truncated).toBe(true);
	});
});

describe("fork and exit", () => {
	test("fork reports the child with its parent; a thread creation is marked as a thread", async () => {
		const { ran, events } = await observe(probe, ["/bin/sh", "-c", "/bin/true; exit 0"]);
		const fork = ofType(events, "fork")[0];
		expect(fork!.process.ppid).toBe(ran.pid);
		expect(payload(fork).parent_pid).toBe(ran.pid);
		expect(fork!.process.is_thread).toBe(false);
		expect(fork!.process.pid).not.toBe(ran.pid);
		const threaded = await observeAct(probe, ["thread"]);
		const t = ofType(threaded.events, "fork")[0];
		expect(t!.process.is_thread).toBe(true);
		expect(t!.process.pid).toBe(threaded.ran.pid);
		expect(t!.process.tid).not.toBe(threaded.ran.pid);
	});

	test("exit reports the code of a normal exit, and the signal of a killed process", async () => {
		const normal = await observe(probe, ["/bin/sh", "-c", "exit 7"]);
		const e1 = ofType(normal.events, "exit").find((e) => e.process.pid === normal.ran.pid);
		expect(e1!.exit).toBe(e1!.process);
		expect([e1!.process.cause, e1!.process.code]).toEqual([0, 7]);
		const killed = await observeAct(probe, ["raise", "9"]);
		const e2 = ofType(killed.events, "exit")[0];
		expect([e2!.process.cause, e2!.process.code]).toEqual([2, 9]);
	});
});

describe("credentials", () => {
	test("setuid and setgid report the new ids; the process context carries them", async () => {
		const gid = await observeAct(probe, ["setgid", "65534"]);
		const g = ofType(gid.events, "setgid")[0];
		expect(payload(g)).toEqual({ gid: 65534, egid: 65534, fsgid: 65534, retval: 0 });
		const uid = await observeAct(probe, ["setuid", "65534"]);
		const u = ofType(uid.events, "setuid")[0];
		expect(payload(u)).toEqual({ uid: 65534, euid: 65534, fsuid: 65534, retval: 0 });
		expect(u!.process.euid).toBe(65534);
	});

	test("capset reports the new effective and permitted sets", async () => {
		const { events } = await observeAct(probe, ["capset"]);
		const c = ofType(events, "capset")[0];
		const eff = payload(c).cap_effective as number;
		const prm = payload(c).cap_permitted as number;
		expect(Math.floor(eff / 2 ** CAP_NET_RAW) % 2).toBe(0);
		expect(Math.floor(prm / 2 ** CAP_NET_RAW) % 2).toBe(1);
	});
});

describe("ptrace, signals, prctl, chdir", () => {
	test("a ptrace attach names the request and the tracee", async () => {
		const sleeper = Bun.spawn(["sleep", "30"]);
		try {
			const { events } = await observeAct(probe, ["ptrace", String(sleeper.pid)]);
			const p = ofType(events, "ptrace")[0];
			expect(payload(p)).toMatchObject({ request: 16, tracee: { pid: sleeper.pid }, retval: 0 });
		} finally {
			sleeper.kill();
		}
	});

	test("kill reports the signal, the target and the result, ESRCH included", async () => {
		const sleeper = Bun.spawn(["sleep", "30"]);
		try {
			const sent = await observeAct(probe, ["kill", String(sleeper.pid), "15"]);
			const s = ofType(sent.events, "signal")[0];
			expect(payload(s)).toMatchObject({
				type: 15,
				pid: sleeper.pid,
				target: { pid: sleeper.pid },
				retval: 0,
			});
		} finally {
			sleeper.kill();
		}
		const none = await observeAct(probe, ["kill", "2147483000", "0"]);
		expect(payload(ofType(none.events, "signal")[0]).retval).toBe(-3);
	});

	test("prctl PR_SET_NAME reports the new name, and whether the kernel cut it", async () => {
		const short = await observeAct(probe, ["prctl", "vigil-name"]);
		expect(payload(ofType(short.events, "prctl")[0])).toEqual({
			option: 15,
			new_name: "vigil-name",
			is_name_truncated: false,
			retval: 0,
		});
		const long = await observeAct(probe, ["prctl", "a-name-longer-than-fifteen"]);
		const l = payload(ofType(long.events, "prctl")[0]);
		expect(l.new_name).toBe("a-name-longer-t");
		expect(l.is_name_truncated).toBe(true);
	});

	test("chdir reports the absolute directory, by a relative name and by descriptor", async () => {
		mkdirSync(join(dir, "deeper"), { recursive: true });
		const rel = await observeAct(probe, ["chdir", ".."], { cwd: join(dir, "deeper") });
		// the spawner's own chdir to the working directory comes first
		const c = ofType(rel.events, "chdir").find((e) => payload(e).syscall.path === "..");
		expect(payload(c).file.path).toBe(dir);
		expect(payload(c).file.inode).toBeGreaterThan(0);
		const byFd = await observeAct(probe, ["fchdir", join(dir, "deeper")]);
		expect(payload(ofType(byFd.events, "chdir")[0]).file.path).toBe(join(dir, "deeper"));
	});
});
