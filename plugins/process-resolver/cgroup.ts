/**
 * @module Cgroups and containers from `/proc/<pid>/cgroup`: which cgroup a process is in (Datadog's
 * `cgroup.id` is the cgroup path), which API version that path belongs to, who manages it
 * (`docker`, `containerd`, `cri-o`, `podman`, `systemd`) and the container id when the cgroup
 * belongs to a container.
 *
 * When to use: the process resolver reads a process's cgroup file during the /proc snapshot, on a
 * /proc fill, on exec (cgroup v1 and hybrid hosts) and when a process moves; tests and tools can
 * call {@link parseProcCgroup} or {@link containerFromPath} on any path string.
 */

export type CgroupManager = "docker" | "containerd" | "cri-o" | "podman" | "systemd" | "";

export interface CgroupInfo {
	/** The cgroup path, Datadog's `cgroup.id` (`/system.slice/docker-<id>.scope`). */
	readonly path: string;
	/** 2 when the path is in the unified hierarchy (`0::` line), 1 for a v1 controller hierarchy. */
	readonly version: 1 | 2;
	readonly manager: CgroupManager;
	/** Container id, or "" when the cgroup does not belong to a container. */
	readonly containerId: string;
}

const ID = "([0-9a-f]{64})";
/** Runtime-prefixed segments, with or without systemd's `.scope` suffix (cgroupfs vs systemd driver). */
const PREFIXED: ReadonlyArray<readonly [RegExp, CgroupManager]> = [
	[new RegExp(`^docker-${ID}(?:\\.scope)?$`), "docker"],
	[new RegExp(`^cri-containerd-${ID}(?:\\.scope)?$`), "containerd"],
	[new RegExp(`^crio-${ID}(?:\\.scope)?$`), "cri-o"],
	[new RegExp(`^libpod-${ID}(?:\\.scope)?$`), "podman"],
];
const BARE = new RegExp(`^${ID}$`);

/**
 * The container a cgroup path belongs to. The innermost container wins (docker-in-docker). A bare
 * 64-hex segment takes its manager from the segments above it: `/docker/<id>` is docker,
 * `/kubepods/…/<id>` containerd, `/libpod_parent/<id>` podman; under anything else the manager
 * is unknown ("").
 */
export const containerFromPath = (path: string): { id: string; manager: CgroupManager } | undefined => {
	const segments = path.split("/");
	for (let i = segments.length - 1; i >= 0; i--) {
		const segment = segments[i]!;
		if (segment.length < 64) continue;
		for (const [re, manager] of PREFIXED) {
			const m = re.exec(segment);
			if (m) return { id: m[1]!, manager };
		}
		if (BARE.test(segment)) return { id: segment, manager: bareManager(segments, i) };
	}
	return undefined;
};

const bareManager = (segments: readonly string[], at: number): CgroupManager => {
	for (let i = at - 1; i >= 0; i--) {
		const s = segments[i]!;
		if (s === "docker") return "docker";
		if (s.startsWith("kubepods")) return "containerd";
		if (s === "libpod_parent") return "podman";
	}
	return "";
};

/** Manager of a cgroup path: the container runtime, else `systemd` for units, else "". */
export const cgroupFromPath = (path: string, version: 1 | 2): CgroupInfo => {
	const container = containerFromPath(path);
	if (container) return { path, version, manager: container.manager, containerId: container.id };
	const last = path.slice(path.lastIndexOf("/") + 1);
	const manager = last.endsWith(".service") || last.endsWith(".scope") ? "systemd" : "";
	return { path, version, manager, containerId: "" };
};

interface CgroupLine {
	readonly hierarchy: string;
	readonly controllers: string;
	readonly path: string;
}

const parseLines = (text: string): CgroupLine[] => {
	const out: CgroupLine[] = [];
	for (const line of text.split("\n")) {
		const a = line.indexOf(":");
		const b = a < 0 ? -1 : line.indexOf(":", a + 1);
		if (b < 0) continue;
		out.push({ hierarchy: line.slice(0, a), controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
	}
	return out;
};

const isUnified = (l: CgroupLine): boolean => l.hierarchy === "0" && l.controllers === "";

/**
 * The cgroup of a process from the text of `/proc/<pid>/cgroup`, or undefined when the text holds
 * no cgroup line. On a pure v2 host there is one `0::<path>` line. On v1 and hybrid hosts every
 * controller has its own path: a line naming a container wins (runtimes with the cgroupfs driver
 * create theirs in every controller); otherwise the first non-root path of the unified
 * hierarchy, `name=systemd` (where systemd places units), `memory`, or any controller, in that
 * order; otherwise the root.
 */
export const parseProcCgroup = (text: string): CgroupInfo | undefined => {
	const lines = parseLines(text);
	if (lines.length === 0) return undefined;
	const versionOf = (l: CgroupLine): 1 | 2 => (isUnified(l) ? 2 : 1);
	for (const l of lines) {
		if (containerFromPath(l.path)) return cgroupFromPath(l.path, versionOf(l));
	}
	const nonRoot = (pick: (l: CgroupLine) => boolean) => lines.find((l) => l.path !== "/" && pick(l));
	const chosen =
		nonRoot(isUnified) ??
		nonRoot((l) => l.controllers === "name=systemd") ??
		nonRoot((l) => l.controllers.split(",").includes("memory")) ??
		nonRoot(() => true) ??
		lines.find(isUnified) ??
		lines[0]!;
	return cgroupFromPath(chosen.path, versionOf(chosen));
};

/** True when the text of a `/proc/<pid>/cgroup` file shows a pure cgroup v2 host (one `0::` line). */
export const isPureV2 = (text: string): boolean => {
	const lines = parseLines(text);
	return lines.length === 1 && isUnified(lines[0]!);
};
