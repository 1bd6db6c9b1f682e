/**
 * @module The host as policy `filters` see it (Datadog's rule filter model): OS and
 * distribution from `/etc/os-release`, kernel version from `uname -r`, whether CO-RE is possible
 * (kernel BTF present), environment variable names, event origin and host name.
 *
 * When to use: `detectHost()` once per load; `windowsHost()` for `--windows-model` checks,
 * where only `os`, `origin`, `envs` and `hostname` mean anything.
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname as osHostname, release } from "node:os";

export interface HostFacts {
	readonly os: "linux" | "windows";
	readonly "os.id": string;
	readonly "os.platform_id": string;
	readonly "os.version_id": string;
	readonly "os.is_amazon_linux": boolean;
	readonly "os.is_cos": boolean;
	readonly "os.is_debian": boolean;
	readonly "os.is_oracle": boolean;
	readonly "os.is_rhel": boolean;
	readonly "os.is_rhel7": boolean;
	readonly "os.is_rhel8": boolean;
	readonly "os.is_sles": boolean;
	readonly "os.is_sles12": boolean;
	readonly "os.is_sles15": boolean;
	readonly "kernel.version.major": number;
	readonly "kernel.version.minor": number;
	readonly "kernel.version.patch": number;
	readonly "kernel.version.abi": number;
	readonly "kernel.version.flavor": string;
	readonly "kernel.core.enabled": boolean;
	readonly envs: readonly string[];
	readonly origin: string;
	readonly hostname: string;
}

/** `KEY=value` lines of an os-release file; values may be quoted. */
export const parseOsRelease = (text: string): Record<string, string> => {
	const out: Record<string, string> = {};
	for (const line of text.split("\n")) {
		const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
		if (!m) continue;
		let value = m[2]!.trim();
		if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]!)) {
			value = value.slice(1, -1).replace(/\\(["'$`\\])/g, "$1");
		}
		out[m[1]!] = value;
	}
	return out;
};

export interface KernelVersion {
	readonly major: number;
	readonly minor: number;
	readonly patch: number;
	/** Ubuntu-style `5.15.0-<abi>-<flavor>` release strings carry an ABI number and a flavor. */
	readonly abi: number;
	readonly flavor: string;
}

export const parseKernelRelease = (text: string): KernelVersion => {
	const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:-(\d+)(?:[.-]([A-Za-z][A-Za-z0-9]*))?)?/.exec(text.trim());
	if (!m) return { major: 0, minor: 0, patch: 0, abi: 0, flavor: "" };
	return {
		major: Number(m[1]),
		minor: Number(m[2]),
		patch: Number(m[3] ?? 0),
		abi: Number(m[4] ?? 0),
		flavor: m[5] ?? "",
	};
};

const readText = (path: string): string | undefined => {
	try {
		return readFileSync(path, "utf8");
	} catch {
		return undefined;
	}
};

export interface HostOverrides {
	readonly hostname?: string;
	readonly env?: Readonly<Record<string, string | undefined>>;
	/** Where to read the distribution from (tests); default `/etc/os-release`, then `/usr/lib/os-release`. */
	readonly osReleaseText?: string;
	readonly kernelRelease?: string;
}

/** Facts of the machine this runs on. */
export const detectHost = (o: HostOverrides = {}): HostFacts => {
	const rel = parseOsRelease(
		o.osReleaseText ?? readText("/etc/os-release") ?? readText("/usr/lib/os-release") ?? "",
	);
	const id = (rel.ID ?? "").toLowerCase();
	const like = (rel.ID_LIKE ?? "").toLowerCase().split(/\s+/);
	const versionId = rel.VERSION_ID ?? "";
	const isRhel = ["rhel", "centos", "rocky", "almalinux"].includes(id) || like.includes("rhel");
	const isSles = id === "sles" || id === "sles_sap";
	const k = parseKernelRelease(o.kernelRelease ?? release());
	return {
		os: "linux",
		"os.id": id,
		"os.platform_id": rel.PLATFORM_ID ?? "",
		"os.version_id": versionId,
		"os.is_amazon_linux": id === "amzn",
		"os.is_cos": id === "cos",
		"os.is_debian": id === "debian",
		"os.is_oracle": id === "ol",
		"os.is_rhel": isRhel,
		"os.is_rhel7": isRhel && versionId.startsWith("7"),
		"os.is_rhel8": isRhel && versionId.startsWith("8"),
		"os.is_sles": isSles,
		"os.is_sles12": isSles && versionId.startsWith("12"),
		"os.is_sles15": isSles && versionId.startsWith("15"),
		"kernel.version.major": k.major,
		"kernel.version.minor": k.minor,
		"kernel.version.patch": k.patch,
		"kernel.version.abi": k.abi,
		"kernel.version.flavor": k.flavor,
		"kernel.core.enabled": existsSync("/sys/kernel/btf/vmlinux"),
		envs: Object.keys(o.env ?? process.env),
		origin: "ebpf",
		hostname: o.hostname ?? osHostname(),
	};
};

/** The filter model of a Windows host, for checking policies as a Windows agent would load them. */
export const windowsHost = (o: HostOverrides = {}): HostFacts => ({
	os: "windows",
	"os.id": "",
	"os.platform_id": "",
	"os.version_id": "",
	"os.is_amazon_linux": false,
	"os.is_cos": false,
	"os.is_debian": false,
	"os.is_oracle": false,
	"os.is_rhel": false,
	"os.is_rhel7": false,
	"os.is_rhel8": false,
	"os.is_sles": false,
	"os.is_sles12": false,
	"os.is_sles15": false,
	"kernel.version.major": 0,
	"kernel.version.minor": 0,
	"kernel.version.patch": 0,
	"kernel.version.abi": 0,
	"kernel.version.flavor": "",
	"kernel.core.enabled": false,
	envs: Object.keys(o.env ?? process.env),
	origin: "etw",
	hostname: o.hostname ?? osHostname(),
});
