import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StatsRegistry } from "../../core/stats.ts";
import { recordingLogger } from "../../test/context.ts";
import {
	type CgroupManager,
	cgroupFromPath,
	containerFromPath,
	isPureV2,
	parseProcCgroup,
} from "./cgroup.ts";
import { NameTable } from "./names.ts";
import { ProcFs } from "./procfs.ts";
import { ProcessResolver } from "./resolver.ts";
import { counters, kernelEvent, ROOT_CREDS, startProcess, writeFakeProcess } from "./testing.ts";

const ID = "3f1c0b5e9d2a4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6";
const POD = "pod8d5b2f3e-4c1a-4b7e-9f2d-1a2b3c4d5e6f";

/** Cgroup paths as each runtime writes them on real hosts. */
const PATHS: ReadonlyArray<readonly [string, string, string, CgroupManager]> = [
	["docker, cgroupfs driver", `/docker/${ID}`, ID, "docker"],
	["docker, systemd driver", `/system.slice/docker-${ID}.scope`, ID, "docker"],
	[
		"containerd under kubelet, systemd driver",
		`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-${POD.replaceAll("-", "_")}.slice/cri-containerd-${ID}.scope`,
		ID,
		"containerd",
	],
	["containerd under kubelet, cgroupfs driver", `/kubepods/burstable/${POD}/${ID}`, ID, "containerd"],
	["containerd, besteffort pod", `/kubepods/besteffort/${POD}/${ID}`, ID, "containerd"],
	[
		"cri-o under kubelet",
		`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-${POD.replaceAll("-", "_")}.slice/crio-${ID}.scope`,
		ID,
		"cri-o",
	],
	["cri-o, cgroupfs driver", `/kubepods/burstable/${POD}/crio-${ID}`, ID, "cri-o"],
	["podman, root", `/machine.slice/libpod-${ID}.scope`, ID, "podman"],
	[
		"podman, rootless",
		`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`,
		ID,
		"podman",
	],
	["podman, cgroupfs driver", `/libpod_parent/libpod-${ID}`, ID, "podman"],
	[
		"a process inside a container's own sub-cgroup",
		`/system.slice/docker-${ID}.scope/init.scope`,
		ID,
		"docker",
	],
	["systemd service", "/system.slice/ssh.service", "", "systemd"],
	["systemd session scope", "/user.slice/user-1000.slice/session-3.scope", "", "systemd"],
	["podman's conmon is no container", `/machine.slice/libpod-conmon-${ID}.scope`, "", "systemd"],
	["root cgroup", "/", "", ""],
];

describe("cgroup paths", () => {
	for (const [what, path, id, manager] of PATHS) {
		test(`${what}: ${path}`, () => {
			const info = cgroupFromPath(path, 2);
			expect(info.containerId).toBe(id);
			expect(info.manager).toBe(manager);
			expect(info.path).toBe(path);
		});
	}

	test("the innermost container wins when containers nest", () => {
		const inner = "a".repeat(64);
		expect(containerFromPath(`/docker/${ID}/docker/${inner}`)?.id).toBe(inner);
	});

	test("a 64-hex segment under an unknown parent is a container of unknown manager", () => {
		expect(containerFromPath(`/ecs/task/${ID}`)).toEqual({ id: ID, manager: "" });
	});
});

describe("/proc/<pid>/cgroup files", () => {
	test("cgroup v2: the single unified line", () => {
		const text = `0::/system.slice/docker-${ID}.scope\n`;
		expect(isPureV2(text)).toBe(true);
		expect(parseProcCgroup(text)).toEqual({
			path: `/system.slice/docker-${ID}.scope`,
			version: 2,
			manager: "docker",
			containerId: ID,
		});
	});

	test("hybrid host: the controller line naming a container wins over the unified root", () => {
		const text = `12:memory:/docker/${ID}\n11:cpu,cpuacct:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/\n`;
		expect(isPureV2(text)).toBe(false);
		expect(parseProcCgroup(text)).toEqual({
			path: `/docker/${ID}`,
			version: 1,
			manager: "docker",
			containerId: ID,
		});
	});

	test("cgroup v1 without containers: the systemd hierarchy names the unit", () => {
		const text = "5:memory:/system.slice\n1:name=systemd:/system.slice/cron.service\n";
		expect(parseProcCgroup(text)).toEqual({
			path: "/system.slice/cron.service",
			version: 1,
			manager: "systemd",
			containerId: "",
		});
	});

	test("an empty file has no cgroup", () => {
		expect(parseProcCgroup("")).toBeUndefined();
	});
});

const resolverOn = (root: string) =>
	new ProcessResolver({
		mode: "auto",
		procfs: new ProcFs(root),
		names: new NameTable("/etc/passwd", "/etc/group"),
		capacity: 1024,
		maxAncestors: 200,
		exitRetentionNs: 10e9,
		namesReloadNs: 5e9,
		log: recordingLogger([]),
		counters: counters(new StatsRegistry()),
	});

describe("containers without a container runtime (a /proc laid out by the test)", () => {
	const root = mkdtempSync(join(tmpdir(), "vigil-cgroup-proc-"));
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	test("a process in a docker cgroup carries the container on the process and the event", () => {
		writeFakeProcess(root, { pid: 1, ppid: 0, comm: "init", exe: "/usr/bin/sleep", argv: ["/sbin/init"] });
		writeFakeProcess(root, {
			pid: 4242,
			ppid: 1,
			comm: "nginx",
			exe: "/usr/bin/sleep",
			argv: ["nginx", "-g", "daemon off;"],
			cgroup: `0::/system.slice/docker-${ID}.scope\n`,
		});
		const resolver = resolverOn(root);
		resolver.snapshot();
		const event = kernelEvent("open", 1, { pid: 4242, comm: "nginx", ...ROOT_CREDS, cgroup: { id: "9" } });
		resolver.process([event]);
		expect(event.error).toBeUndefined();
		expect(event.process.container?.id).toBe(ID);
		expect(event.container?.id).toBe(ID);
		expect(event.container).toBe(event.process.container!);
		expect(event.cgroup).toMatchObject({
			id: `/system.slice/docker-${ID}.scope`,
			manager: "docker",
			version: 2,
		});
		expect(resolver.cache.byContainer(ID).map((p) => p.pid)).toEqual([4242]);
		expect(resolver.cache.get(1)?.container).toBeUndefined();
	});
});

describe("a pure cgroup v2 host (a /proc laid out by the test)", () => {
	const root = mkdtempSync(join(tmpdir(), "vigil-cgroup-v2-proc-"));
	afterAll(() => rmSync(root, { recursive: true, force: true }));
	mkdirSync(join(root, "self"));
	writeFileSync(join(root, "self", "cgroup"), "0::/user.slice/session-1.scope\n");
	writeFakeProcess(root, {
		pid: 1,
		ppid: 0,
		comm: "init",
		exe: "/usr/bin/sleep",
		cgroup: "0::/init.scope\n",
	});
	writeFakeProcess(root, {
		pid: 77,
		ppid: 1,
		comm: "runc",
		exe: "/usr/bin/sleep",
		cgroup: "0::/system.slice/containerd.service\n",
	});

	test("the kernel cgroup id on each event tells when a process moved into a container", () => {
		const resolver = resolverOn(root);
		resolver.snapshot();
		const at = (ts: number, type: string, kid: string, extra: Record<string, unknown> = {}) =>
			kernelEvent(type, ts, { pid: 77, ppid: 1, comm: "runc", ...ROOT_CREDS, cgroup: { id: kid }, ...extra });
		const first = at(1, "open", "500");
		resolver.process([first]);
		expect(first.process.cgroup).toMatchObject({
			id: "/system.slice/containerd.service",
			manager: "systemd",
		});
		expect(first.process).toBe(resolver.cache.get(77)!);

		// runc moves itself into the container's cgroup, then execs the container's entry point.
		writeFileSync(join(root, "77", "cgroup"), `0::/system.slice/docker-${ID}.scope\n`);
		const moved = at(2, "open", "600");
		const exec = at(3, "exec", "600", {
			comm: "nginx",
			file: { path: "/usr/sbin/nginx" },
			argv0: "nginx",
			argv: [],
		});
		resolver.process([moved, exec]);
		expect(first.process.container).toBeUndefined();
		expect(moved.process.container?.id).toBe(ID);
		expect(moved.process.cgroup?.file?.inode).toBe(600);
		expect(exec.process.container?.id).toBe(ID);
		expect(exec.process.parent?.container?.id).toBe(ID);
	});
});

/**
 * The real kernel: cgroups created under /sys/fs/cgroup with each runtime's naming, a real
 * process moved into them, its /proc/<pid>/cgroup read by the resolver.
 */
const unified = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find((d) => existsSync(join(d, "cgroup.procs")));
const memoryV1 = existsSync("/sys/fs/cgroup/memory/cgroup.procs") ? "/sys/fs/cgroup/memory" : undefined;
const canWrite = process.getuid?.() === 0 && unified !== undefined;
if (!canWrite) {
	console.warn(
		"cgroup kernel tests skipped: they need root and a writable cgroup2 hierarchy under /sys/fs/cgroup",
	);
}

describe.skipIf(!canWrite)("containers in real cgroups", () => {
	const top = `vigil-test-${process.pid}`;
	const created: string[] = [];
	const makeCgroup = (hierarchy: string, path: string): string => {
		let dir = hierarchy;
		for (const part of path.split("/").filter(Boolean)) {
			dir = join(dir, part);
			if (!existsSync(dir)) {
				mkdirSync(dir);
				created.push(dir);
			}
		}
		return dir;
	};
	afterAll(async () => {
		for (const dir of created.reverse()) {
			for (let i = 0; i < 50 && existsSync(dir); i++) {
				try {
					rmdirSync(dir);
				} catch {
					await Bun.sleep(20);
				}
			}
		}
	});

	const cases = PATHS.filter(([, path]) => path !== "/");
	for (const [what, path, id, manager] of cases) {
		test(`${what}: the kernel's own cgroup file yields the container and manager`, async () => {
			const sleep = await startProcess(["sleep", "30"], "/usr/bin/sleep");
			try {
				const dir = makeCgroup(unified!, `${top}${path}`);
				writeFileSync(join(dir, "cgroup.procs"), String(sleep.pid));
				const resolver = resolverOn("/proc");
				const event = kernelEvent("open", 1, { pid: sleep.pid, comm: "sleep", ...ROOT_CREDS });
				resolver.process([event]);
				expect(event.process.cgroup?.id).toBe(`/${top}${path}`);
				expect(event.process.cgroup?.manager).toBe(manager);
				expect(event.process.cgroup?.version).toBe(2);
				expect(event.process.cgroup?.file?.inode).toBe(statSync(dir).ino);
				expect(event.process.container?.id ?? "").toBe(id);
				expect(event.container?.id ?? "").toBe(id);
			} finally {
				await sleep.stop();
			}
		});
	}

	test("a cgroup_write moving a process into a container gives it the container from that event on", async () => {
		const sleep = await startProcess(["sleep", "30"], "/usr/bin/sleep");
		try {
			const resolver = resolverOn("/proc");
			const open = () => kernelEvent("open", 1, { pid: sleep.pid, comm: "sleep", ...ROOT_CREDS });
			const before = open();
			resolver.process([before]);
			const dir = makeCgroup(unified!, `${top}/system.slice/docker-${ID}.scope`);
			writeFileSync(join(dir, "cgroup.procs"), String(sleep.pid));
			const write = kernelEvent(
				"cgroup_write",
				2,
				{ pid: process.pid, ...ROOT_CREDS },
				{ pid: sleep.pid, file: { path: join(dir, "cgroup.procs") } },
			);
			const after = open();
			resolver.process([write, after]);
			expect(before.process.container).toBeUndefined();
			expect(after.process.container?.id).toBe(ID);
			expect(after.container?.id).toBe(ID);
			expect(resolver.cache.byContainer(ID).map((p) => p.pid)).toEqual([sleep.pid]);
		} finally {
			await sleep.stop();
		}
	});

	test.skipIf(memoryV1 === undefined)(
		"cgroup v1: a process moved into a docker cgroup between fork and exec shows its container from the exec on",
		async () => {
			const sleep = await startProcess(["sleep", "30"], "/usr/bin/sleep");
			try {
				const resolver = resolverOn("/proc");
				const fork = kernelEvent("fork", 1, {
					pid: sleep.pid,
					ppid: process.pid,
					comm: "bun",
					...ROOT_CREDS,
				});
				resolver.process([fork]);
				const dir = makeCgroup(memoryV1!, `${top}/docker/${ID}`);
				writeFileSync(join(dir, "cgroup.procs"), String(sleep.pid));
				const exec = kernelEvent("exec", 2, {
					pid: sleep.pid,
					ppid: process.pid,
					comm: "sleep",
					...ROOT_CREDS,
					file: { path: "/usr/bin/sleep" },
					argv0: "sleep",
					argv: ["30"],
				});
				resolver.process([exec]);
				expect(fork.process.container).toBeUndefined();
				expect(exec.process.container?.id).toBe(ID);
				expect(exec.process.cgroup).toMatchObject({
					id: `/${top}/docker/${ID}`,
					manager: "docker",
					version: 1,
				});
				expect(exec.process.parent?.container).toBeUndefined();
			} finally {
				await sleep.stop();
			}
		},
	);
});
