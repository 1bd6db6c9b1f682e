import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event, ProcessContext } from "../../core/model/types.ts";
import { StatsRegistry } from "../../core/stats.ts";
import { recordingLogger, registry } from "../../test/context.ts";
import { NameTable } from "./names.ts";
import { ProcFs } from "./procfs.ts";
import { ProcessResolver, type ResolverOptions } from "./resolver.ts";
import { counters, kernelEvent, ROOT_CREDS, startProcess, writeFakeProcess } from "./testing.ts";

const temp = mkdtempSync(join(tmpdir(), "vigil-process-resolver-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A directory with no processes: /proc fills find nothing, so only events build the cache. */
const emptyProc = join(temp, "empty-proc");
beforeAll(() => mkdirSync(emptyProc));

const make = (over: Partial<ResolverOptions> = {}) => {
	const stats = new StatsRegistry();
	const logs: Parameters<typeof recordingLogger>[0] = [];
	const resolver = new ProcessResolver({
		mode: "auto",
		procfs: new ProcFs("/proc"),
		names: new NameTable("/etc/passwd", "/etc/group"),
		capacity: 16384,
		maxAncestors: 200,
		exitRetentionNs: 10e9,
		namesReloadNs: 5e9,
		log: recordingLogger(logs),
		counters: counters(stats),
		...over,
	});
	resolver.reloadNames();
	return { resolver, stats, logs };
};

const field = (name: string, event: Event): unknown => registry.field(name)!.get(event);
const pidsOf = (ctx: ProcessContext): number[] => (ctx.ancestors ?? []).map((a) => a.pid!);

const SELF = process.pid;
const SELF_EXE = readlinkSync("/proc/self/exe");
/** Pids above pid_max (32768 here, 4194304 at most) never exist in /proc. */
const CHILD = 5_000_001;

describe("snapshot", () => {
	test("finds a spawned process with its executable, arguments, credentials and parents up to pid 1", async () => {
		const sleep = await startProcess(
			["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "30"],
			"/usr/bin/sleep",
			{ VIGIL_MARK: "snapshot-test", PATH: "/usr/bin:/bin" },
		);
		try {
			const { resolver } = make();
			expect(resolver.snapshot()).toBeGreaterThan(2);
			const ctx = resolver.cache.get(sleep.pid)!;
			expect(ctx.file?.path).toBe("/usr/bin/sleep");
			expect(ctx.file?.inode).toBe(statSync("/usr/bin/sleep").ino);
			expect(ctx.file?.mode).toBe(statSync("/usr/bin/sleep").mode);
			expect(ctx.argv0).toBe("sleep");
			expect(ctx.argv).toEqual(["30"]);
			expect(ctx.envp).toContain("VIGIL_MARK=snapshot-test");
			expect([ctx.uid, ctx.euid, ctx.fsuid, ctx.gid, ctx.egid, ctx.fsgid]).toEqual([
				65534, 65534, 65534, 65534, 65534, 65534,
			]);
			expect(ctx.user).toBe("nobody");
			expect(ctx.comm).toBe("sleep");
			expect(ctx.ppid).toBe(SELF);
			expect(ctx.is_exec).toBe(true);
			expect(ctx.source).toBe("snapshot");
			const chain = pidsOf(ctx);
			expect(chain[0]).toBe(SELF);
			expect(chain.at(-1)).toBe(1);
			expect(ctx.parent).toBe(ctx.ancestors![0]!);
			expect(ctx.parent?.file?.path).toBe(SELF_EXE);

			// A kernel event of that process resolves to the same context and carries no error.
			const event = kernelEvent("open", 1, {
				pid: sleep.pid,
				ppid: SELF,
				comm: "sleep",
				uid: 65534,
				gid: 65534,
				euid: 65534,
				egid: 65534,
				fsuid: 65534,
				fsgid: 65534,
			});
			resolver.process([event]);
			expect(event.process).toBe(resolver.cache.get(sleep.pid)!);
			expect(event.error).toBeUndefined();
			expect(field("process.ancestors.pid", event)).toEqual(chain);
		} finally {
			await sleep.stop();
		}
	});

	test("a process whose parent exits during the walk is linked to the process it was reparented to", () => {
		const root = join(temp, "racing-proc");
		writeFakeProcess(root, { pid: 1, ppid: 0, comm: "init", exe: "/usr/bin/sleep" });
		writeFakeProcess(root, { pid: 30, ppid: 20, comm: "daemon", exe: "/usr/bin/sleep" });
		// The kernel reparents pid 30 to init right after the walk has read it.
		class Racing extends ProcFs {
			override read(pid: number) {
				const proc = super.read(pid);
				if (pid === 30) writeFakeProcess(join(root, "next"), { pid: 30, ppid: 1, comm: "daemon" });
				if (pid === 30) renameSync(join(root, "next", "30", "stat"), join(root, "30", "stat"));
				return proc;
			}
		}
		const { resolver } = make({ procfs: new Racing(root) });
		resolver.snapshot();
		const daemon = resolver.cache.get(30)!;
		expect(daemon.ppid).toBe(1);
		expect(daemon.parent?.pid).toBe(1);
		const event = kernelEvent("open", 1, { pid: 30, comm: "daemon" });
		resolver.process([event]);
		expect(event.error).toBeUndefined();
	});

	test("kernel threads are kworkers without an executable, under kthreadd", () => {
		const { resolver } = make();
		resolver.snapshot();
		const kthreadd = resolver.cache.get(2)!;
		expect(kthreadd.is_kworker).toBe(true);
		expect(kthreadd.file).toBeUndefined();
		const worker = resolver.cache.children(2)[0]!;
		expect(worker.is_kworker).toBe(true);
		expect(worker.parent?.pid).toBe(2);
		const event = kernelEvent("open", 1, { pid: worker.pid, ppid: 2, comm: worker.comm });
		resolver.process([event]);
		expect(event.error).toBeUndefined();
	});
});

describe("fork, exec and exit", () => {
	test("fork inherits the parent's image, exec's parent is the pre-exec image, exit keeps cause and code", () => {
		const { resolver } = make();
		const batch = [
			kernelEvent("fork", 10, { pid: CHILD, ppid: SELF, comm: "bun", ...ROOT_CREDS }),
			kernelEvent("open", 11, { pid: CHILD, comm: "bun", ...ROOT_CREDS }),
			kernelEvent("exec", 12, {
				pid: CHILD,
				ppid: SELF,
				comm: "ls",
				...ROOT_CREDS,
				file: { path: "/usr/bin/ls", name: "ls", inode: 42, mount_id: 7 },
				argv0: "ls",
				argv: ["-l", "/tmp"],
				envp: ["LANG=C"],
				args_truncated: false,
				envs_truncated: false,
			}),
			kernelEvent("open", 13, { pid: CHILD, comm: "ls", ...ROOT_CREDS }),
			kernelEvent("exit", 14, { pid: CHILD, comm: "ls", ...ROOT_CREDS, cause: 1, code: 9 }),
		];
		resolver.process(batch);
		const [fork, before, exec, after, exit] = batch as [Event, Event, Event, Event, Event];
		const parent = resolver.cache.get(SELF)!;

		expect(fork.process.file?.path).toBe(SELF_EXE);
		expect(fork.process.argv).toBe(parent.argv!);
		expect(fork.process.is_thread).toBe(true);
		expect(fork.process.is_exec).toBe(false);
		expect(fork.process.created_at).toBe(10);
		expect(fork.process.parent).toBe(parent);
		expect(before.process).toBe(fork.process);

		expect(exec.exec).toBe(exec.process);
		expect(exec.process.file?.path).toBe("/usr/bin/ls");
		expect(field("process.args", exec)).toBe("-l /tmp");
		expect(exec.process.is_exec).toBe(true);
		expect(exec.process.is_thread).toBe(false);
		expect(exec.process.is_exec_child).toBe(false);
		expect(exec.process.exec_time).toBe(12);
		expect(exec.process.created_at).toBe(10);
		expect(exec.process.ppid).toBe(SELF);
		// Datadog: the exec'd process's parent is its own pre-exec image, then the fork parent.
		expect(exec.process.parent).toBe(fork.process);
		expect(field("process.parent.file.path", exec)).toBe(SELF_EXE);
		expect(pidsOf(exec.process).slice(0, 2)).toEqual([CHILD, SELF]);
		expect(after.process).toBe(exec.process);

		expect(exit.exit).toBe(exit.process);
		expect(field("exit.cause", exit)).toBe(1);
		expect(field("exit.code", exit)).toBe(9);
		expect(exit.process.exit_time).toBe(14);
		expect(exit.process.file?.path).toBe("/usr/bin/ls");
		// Earlier events keep the context of their time.
		expect(exec.process.exit_time).toBeUndefined();
		for (const e of batch) expect(e.error).toBeUndefined();
	});

	test("the exit of a thread other than the leader does not end the process", () => {
		const { resolver } = make();
		const batch = [
			kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, ...ROOT_CREDS }),
			kernelEvent("exit", 2, { pid: CHILD, tid: CHILD + 3, ...ROOT_CREDS, cause: 0, code: 0 }),
		];
		resolver.process(batch);
		expect(batch[1]!.exit).toBe(batch[1]!.process);
		expect(batch[1]!.process.tid).toBe(CHILD + 3);
		expect(resolver.cache.get(CHILD)!.exit_time).toBeUndefined();
	});

	test("an exec following an exec is an exec child", () => {
		const { resolver } = make();
		const exec = (ts: number, path: string) =>
			kernelEvent("exec", ts, {
				pid: CHILD,
				ppid: SELF,
				...ROOT_CREDS,
				file: { path },
				argv0: path,
				argv: [],
			});
		const batch = [
			kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, ...ROOT_CREDS }),
			exec(2, "/bin/sh"),
			exec(3, "/usr/bin/env"),
		];
		resolver.process(batch);
		expect(batch[1]!.process.is_exec_child).toBe(false);
		expect(batch[2]!.process.is_exec_child).toBe(true);
		expect(pidsOf(batch[2]!.process).slice(0, 3)).toEqual([CHILD, CHILD, SELF]);
		expect(field("process.comm", batch[2]!)).toBe("env");
	});

	test("a thread creation adds no entry; the thread's events carry its tid and share one context", () => {
		const { resolver } = make();
		resolver.process([kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, comm: "worker", ...ROOT_CREDS })]);
		const size = resolver.cache.size;
		const thread = CHILD + 1;
		const batch = [
			kernelEvent("fork", 2, {
				pid: CHILD,
				tid: thread,
				ppid: SELF,
				is_thread: true,
				comm: "worker",
				...ROOT_CREDS,
			}),
			kernelEvent("open", 3, { pid: CHILD, tid: thread, comm: "worker", ...ROOT_CREDS }),
			kernelEvent("open", 4, { pid: CHILD, comm: "worker", ...ROOT_CREDS }),
		];
		resolver.process(batch);
		expect(resolver.cache.size).toBe(size);
		expect(batch[0]!.process.tid).toBe(thread);
		expect(batch[0]!.process.pid).toBe(CHILD);
		expect(batch[1]!.process).toBe(batch[0]!.process);
		expect(batch[2]!.process.tid).toBe(CHILD);
		expect(batch[2]!.process).toBe(resolver.cache.get(CHILD)!);
	});
});

describe("contexts are versions", () => {
	test("setuid mid-batch: earlier events keep the old credentials, for the process and its children", () => {
		const { resolver } = make();
		const user = { ...ROOT_CREDS, uid: 1000, euid: 1000, fsuid: 1000 };
		const grandchild = CHILD + 1;
		const batch = [
			kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, comm: "su", ...user }),
			kernelEvent("fork", 2, { pid: grandchild, ppid: CHILD, comm: "su", ...user }),
			kernelEvent("open", 3, { pid: CHILD, comm: "su", ...user }),
			kernelEvent("open", 4, { pid: grandchild, comm: "su", ...user }),
			kernelEvent("setuid", 5, { pid: CHILD, comm: "su", ...user }, { uid: 0, euid: 0, fsuid: 0 }),
			kernelEvent("open", 6, { pid: CHILD, comm: "su", ...ROOT_CREDS }),
			kernelEvent("open", 7, { pid: grandchild, comm: "su", ...user }),
		];
		resolver.process(batch);
		const [, , before, childBefore, setuid, after, childAfter] = batch as Event[];
		expect(before!.process.uid).toBe(1000);
		expect(field("process.euid", before!)).toBe(1000);
		expect(setuid!.process.uid).toBe(0);
		expect(setuid!.process.euid).toBe(0);
		expect(after!.process.uid).toBe(0);
		expect(after!.process).toBe(setuid!.process);
		expect(before!.process).not.toBe(after!.process);
		expect(childBefore!.process.parent?.uid).toBe(1000);
		expect(childAfter!.process.parent?.uid).toBe(0);
		expect(childAfter!.process.uid).toBe(1000);
		expect(field("process.parent.user", childAfter!)).toBe("root");
	});

	test("setgid and capset change the process from their event on", () => {
		const { resolver } = make();
		const batch = [
			kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, comm: "svc", ...ROOT_CREDS }),
			kernelEvent("setgid", 2, { pid: CHILD, comm: "svc", ...ROOT_CREDS }, { gid: 50, egid: 50, fsgid: 50 }),
			kernelEvent(
				"capset",
				3,
				{ pid: CHILD, comm: "svc", ...ROOT_CREDS, gid: 50, egid: 50, fsgid: 50 },
				{
					cap_effective: 0x400,
					cap_permitted: 0x400,
				},
			),
		];
		resolver.process(batch);
		expect([batch[0]!.process.gid, batch[0]!.process.cap_effective]).toEqual([0, ROOT_CREDS.cap_effective]);
		expect([batch[1]!.process.egid, batch[1]!.process.cap_effective]).toEqual([50, ROOT_CREDS.cap_effective]);
		expect([
			batch[2]!.process.egid,
			batch[2]!.process.cap_effective,
			batch[2]!.process.cap_permitted,
		]).toEqual([50, 0x400, 0x400]);
		expect(resolver.cache.get(CHILD)!.cap_permitted).toBe(0x400);
	});

	test("credentials a thread alone carries stay on that thread's context", () => {
		const { resolver } = make();
		const thread = CHILD + 7;
		const batch = [
			kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, comm: "app", ...ROOT_CREDS }),
			kernelEvent("open", 2, { pid: CHILD, tid: thread, comm: "app-io", ...ROOT_CREDS, fsuid: 33 }),
			kernelEvent("open", 3, { pid: CHILD, comm: "app", ...ROOT_CREDS }),
		];
		resolver.process(batch);
		expect(batch[1]!.process.fsuid).toBe(33);
		expect(batch[1]!.process.comm).toBe("app-io");
		expect(batch[2]!.process.fsuid).toBe(0);
		expect(batch[2]!.process).toBe(batch[0]!.process);
	});
});

describe("errors", () => {
	test("an unknown pid gets no_process_context, except on event types without a process context", () => {
		const { resolver, stats } = make();
		const open = kernelEvent("open", 1, { pid: CHILD, comm: "ghost", ...ROOT_CREDS });
		const dns = kernelEvent("dns", 2, { pid: CHILD, comm: "ghost", ...ROOT_CREDS });
		resolver.process([open, dns]);
		expect(open.error?.kind).toBe("no_process_context");
		expect(open.error?.message).toContain(String(CHILD));
		expect(open.process.pid).toBe(CHILD);
		expect(dns.error).toBeUndefined();
		expect(stats.get("no_process_context")).toBe(1);
	});

	test("a process whose parent is unknown has a broken lineage, on every event", () => {
		const { resolver } = make({ procfs: new ProcFs(emptyProc) });
		const batch = [
			kernelEvent("fork", 1, { pid: CHILD, ppid: CHILD - 1, comm: "orphan", ...ROOT_CREDS }),
			kernelEvent("open", 2, { pid: CHILD, comm: "orphan", ...ROOT_CREDS }),
		];
		resolver.process(batch);
		for (const e of batch) {
			expect(e.error?.kind).toBe("broken_process_lineage");
			expect(e.error?.message).toContain(String(CHILD - 1));
		}
	});

	test("an error the probe already set is kept", () => {
		const { resolver } = make();
		const event = kernelEvent("open", 1, { pid: CHILD, ...ROOT_CREDS });
		event.error = { kind: "path_resolution", message: "dentry not found" };
		resolver.process([event]);
		expect(event.error.kind).toBe("path_resolution");
	});

	test("a process born before the resolver started is filled from /proc on its first event", async () => {
		const sleep = await startProcess(["sleep", "30"], "/usr/bin/sleep");
		try {
			const { resolver, stats } = make();
			const event = kernelEvent("open", 1, { pid: sleep.pid, ppid: SELF, comm: "sleep", ...ROOT_CREDS });
			resolver.process([event]);
			expect(event.error).toBeUndefined();
			expect(event.process.file?.path).toBe("/usr/bin/sleep");
			expect(event.process.source).toBe("procfs");
			expect(pidsOf(event.process).at(-1)).toBe(1);
			expect(stats.get("fills")).toBeGreaterThan(1);
		} finally {
			await sleep.stop();
		}
	});
});

describe("the cache", () => {
	const fork = (ts: number, pid: number) =>
		kernelEvent("fork", ts, { pid, ppid: 1, comm: `p${pid}`, ...ROOT_CREDS });
	const exit = (ts: number, pid: number) =>
		kernelEvent("exit", ts, { pid, comm: `p${pid}`, ...ROOT_CREDS, cause: 0, code: 0 });

	test("eviction takes exited processes first, oldest exit first, then the least recently used", () => {
		const { resolver, stats } = make({ procfs: new ProcFs(emptyProc), capacity: 4, exitRetentionNs: 1e12 });
		const [a, b, c, d, e, f, g] = [100, 101, 102, 103, 104, 105, 106].map((n) => CHILD + n) as number[];
		resolver.process([fork(1, a!), fork(2, b!), fork(3, c!), fork(4, d!), exit(5, b!), exit(6, a!)]);
		expect(resolver.cache.size).toBe(4);
		resolver.process([fork(7, e!)]);
		expect(resolver.cache.get(b!)).toBeUndefined();
		expect(resolver.cache.get(a!)?.exit_time).toBe(6);
		resolver.process([fork(8, f!)]);
		expect(resolver.cache.get(a!)).toBeUndefined();
		// c, d, e, f are alive; c is used again, so d is now the least recently used.
		resolver.process([kernelEvent("open", 9, { pid: c!, ...ROOT_CREDS }), fork(10, g!)]);
		expect(resolver.cache.get(d!)).toBeUndefined();
		expect([c, e, f, g].map((pid) => resolver.cache.get(pid!)?.pid)).toEqual([c, e, f, g]);
		expect(stats.get("evicted_exited")).toBe(2);
		expect(stats.get("evicted_live")).toBe(1);
	});

	test("an exited process stays for the retention; exit listeners run once the batch has gone through", () => {
		const { resolver } = make({ procfs: new ProcFs(emptyProc), exitRetentionNs: 1e9 });
		const seen: ProcessContext[] = [];
		resolver.cache.onExit((p) => seen.push(p));
		resolver.process([fork(1, CHILD), exit(1e9, CHILD)]);
		expect(seen).toEqual([]);
		expect(resolver.cache.get(CHILD)?.exit_time).toBe(1e9);
		resolver.process([kernelEvent("open", 2.5e9, { pid: CHILD, ...ROOT_CREDS })]);
		expect(seen.map((p) => [p.pid, p.exit_time])).toEqual([[CHILD, 1e9]]);
		expect(resolver.cache.get(CHILD)).toBeUndefined();
	});

	test("a pid reused without an exit reports the old process as exited", () => {
		const { resolver } = make({ procfs: new ProcFs(emptyProc) });
		const seen: number[] = [];
		resolver.cache.onExit((p) => seen.push(p.created_at!));
		resolver.process([fork(1, CHILD), fork(50e9, CHILD)]);
		resolver.close();
		expect(seen).toEqual([1]);
		expect(resolver.cache.get(CHILD)?.created_at).toBe(50e9);
	});

	test("children lists the current image of each child, dump lists every entry with its ancestors", () => {
		const { resolver } = make();
		const other = CHILD + 1;
		resolver.process([
			kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, ...ROOT_CREDS }),
			kernelEvent("fork", 2, { pid: other, ppid: SELF, ...ROOT_CREDS }),
			kernelEvent("exec", 3, {
				pid: other,
				ppid: SELF,
				...ROOT_CREDS,
				file: { path: "/bin/true" },
				argv: [],
			}),
		]);
		const children = resolver.cache.children(SELF);
		expect(children.map((c) => [c.pid, c.file?.path])).toEqual([
			[CHILD, SELF_EXE],
			[other, "/bin/true"],
		]);
		const dumped = resolver.cache.dump().find((d) => d.pid === other)!;
		expect(dumped.path).toBe("/bin/true");
		expect(dumped.ancestor_pids.slice(0, 2)).toEqual([other, SELF]);
		expect(dumped.ancestor_pids.at(-1)).toBe(1);
		expect(dumped.lineage_valid).toBe(true);
	});

	test("ancestors are capped at max_ancestors", () => {
		const { resolver } = make({ maxAncestors: 3 });
		const batch = [0, 1, 2, 3, 4].map((i) =>
			kernelEvent("fork", i, { pid: CHILD + i, ppid: i === 0 ? SELF : CHILD + i - 1, ...ROOT_CREDS }),
		);
		resolver.process(batch);
		expect(pidsOf(batch[4]!.process)).toEqual([CHILD + 3, CHILD + 2, CHILD + 1]);
		expect(batch[4]!.error).toBeUndefined();
	});
});

describe("user and group names", () => {
	test("resolve from the passwd and group files and reload when they change", () => {
		const passwd = join(temp, "passwd");
		const group = join(temp, "group");
		writeFileSync(passwd, "root:x:0:0:root:/root:/bin/sh\nalice:x:1234:1234::/home/alice:/bin/sh\n");
		writeFileSync(group, "root:x:0:\nstaff:x:1234:alice\n");
		const { resolver } = make({ names: new NameTable(passwd, group), procfs: new ProcFs(emptyProc) });
		const creds = { ...ROOT_CREDS, uid: 1234, euid: 1234, gid: 1234 };
		const first = kernelEvent("fork", 1, { pid: CHILD, ppid: 1, ...creds });
		resolver.process([first]);
		expect([first.process.user, first.process.group, first.process.euser, first.process.egroup]).toEqual([
			"alice",
			"staff",
			"alice",
			"root",
		]);
		expect(field("process.user", first)).toBe("alice");

		writeFileSync(passwd, "root:x:0:0:root:/root:/bin/sh\nbob:x:1234:1234::/home/bob:/bin/sh\n");
		const soon = kernelEvent("open", 2e9, { pid: CHILD, ...creds });
		resolver.process([soon]);
		expect(soon.process.user).toBe("alice");
		const later = kernelEvent("open", 7e9, { pid: CHILD, ...creds });
		resolver.process([later]);
		expect(later.process.user).toBe("bob");
		expect(first.process.user).toBe("alice");
	});
});

describe("mode", () => {
	const replayed = (): Event => {
		const parent: ProcessContext = { pid: 1, comm: "systemd", file: { path: "/sbin/init" } };
		return {
			type: "open",
			timestamp: 1,
			flags: 0,
			process: { pid: CHILD, comm: "curl", file: { path: "/usr/bin/curl" }, parent, ancestors: [parent] },
			open: { file: { path: "/etc/shadow" } },
		};
	};

	test("auto: a replayed event with a full process context passes through untouched", () => {
		const { resolver, stats } = make();
		const event = replayed();
		const before = event.process;
		const size = resolver.cache.size;
		resolver.process([event]);
		expect(event.process).toBe(before);
		expect(event.process.ancestors?.[0]?.comm).toBe("systemd");
		expect(event.error).toBeUndefined();
		expect(resolver.cache.size).toBe(size);
		expect(stats.get("passthrough")).toBe(1);
	});

	test("always: the same event is resolved from the cache", () => {
		const { resolver } = make({ mode: "always" });
		const event = replayed();
		resolver.process([event]);
		expect(event.error?.kind).toBe("no_process_context");
	});
});

describe("events about another process", () => {
	test("a signal's target and a ptrace tracee get their process context", () => {
		const { resolver } = make();
		const signal = kernelEvent("signal", 2, { pid: CHILD, ...ROOT_CREDS }, { pid: SELF, type: 9 });
		const ptrace = kernelEvent(
			"ptrace",
			3,
			{ pid: CHILD, ...ROOT_CREDS },
			{ request: 16, tracee: { pid: SELF } },
		);
		resolver.process([kernelEvent("fork", 1, { pid: CHILD, ppid: SELF, ...ROOT_CREDS }), signal, ptrace]);
		expect(field("signal.target.file.path", signal)).toBe(SELF_EXE);
		expect((field("signal.target.ancestors.pid", signal) as number[]).at(-1)).toBe(1);
		expect(field("ptrace.tracee.file.path", ptrace)).toBe(SELF_EXE);
		expect(signal.process.pid).toBe(CHILD);
	});
});
