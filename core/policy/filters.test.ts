import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { hostname, release } from "node:os";
import { HostFilter } from "./filters.ts";
import { detectHost, parseKernelRelease, parseOsRelease, windowsHost } from "./host.ts";

// what the real machine says, read independently of the code under test
const osRelease = Object.fromEntries(
	readFileSync("/etc/os-release", "utf8")
		.split("\n")
		.map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
		.filter((m) => m !== null)
		.map((m) => [m[1], m[2]!.replace(/^"(.*)"$/, "$1")]),
);
const [major, minor] = release()
	.split(".")
	.map((n) => Number.parseInt(n, 10));

describe("policy filters on the real host", () => {
	const filter = new HostFilter(detectHost());

	test("os, distribution, kernel version, BTF, environment and host name are this machine's", () => {
		const holds = (expr: string) => filter.check([expr]).kind === "match";
		expect(holds('os == "linux"')).toBe(true);
		expect(holds('os == "windows"')).toBe(false);
		expect(holds(`os.id == "${osRelease.ID}"`)).toBe(true);
		expect(holds(`os.version_id == "${osRelease.VERSION_ID ?? ""}"`)).toBe(true);
		expect(holds(`kernel.version.major == ${major} && kernel.version.minor == ${minor}`)).toBe(true);
		expect(holds(`kernel.version.major == ${major! + 1}`)).toBe(false);
		expect(holds(`kernel.core.enabled == ${existsSync("/sys/kernel/btf/vmlinux")}`)).toBe(true);
		expect(holds('"PATH" in envs')).toBe(true);
		expect(holds('"VIGIL_SURELY_NOT_SET_ANYWHERE" in envs')).toBe(false);
		expect(holds(`hostname == "${hostname()}"`)).toBe(true);
		expect(holds('origin == "ebpf"')).toBe(true);
		expect(holds(`os.is_debian == ${osRelease.ID === "debian"}`)).toBe(true);
	});

	test("filters are OR-ed and a miss names them and the host", () => {
		expect(filter.check(['os == "windows"', 'os == "linux"']).kind).toBe("match");
		const miss = filter.check(['os == "windows"', "kernel.version.major == 1"]);
		expect(miss).toMatchObject({ kind: "no_match" });
		expect(miss.kind === "no_match" && miss.message).toStartWith(
			'excluded by filters: (os == "windows") || (kernel.version.major == 1) (this host: os linux',
		);
	});

	test("an invalid filter is an error located in the file", () => {
		const verdict = filter.check(
			['os == "linux"', "os.colour == 3"],
			[() => ({ file: "a.policy", line: 1, col: 1 }), (o) => ({ file: "a.policy", line: 9, col: 9 + o })],
		);
		expect(verdict.kind).toBe("invalid");
		expect(verdict.kind === "invalid" && verdict.message).toMatch(
			/^a\.policy:9:9: filters\[1\]: .*os\.colour.* \[unknown_field\]$/,
		);
	});

	test("the Windows model says windows and nothing about kernels", () => {
		const win = new HostFilter(windowsHost());
		expect(win.check(['os == "windows"']).kind).toBe("match");
		expect(win.check(['os == "linux"']).kind).toBe("no_match");
		expect(win.check(["kernel.version.major == 0"]).kind).toBe("match");
	});
});

describe("host facts parsing", () => {
	test("os-release values may be quoted", () => {
		expect(parseOsRelease('ID="rhel"\nVERSION_ID="8.6"\nPLATFORM_ID=platform:el8\n# c\n')).toEqual({
			ID: "rhel",
			VERSION_ID: "8.6",
			PLATFORM_ID: "platform:el8",
		});
	});

	test("distribution flags follow the os-release id and version", () => {
		const rhel8 = detectHost({
			osReleaseText: 'ID="rhel"\nVERSION_ID="8.6"\n',
			kernelRelease: "4.18.0-372.el8.x86_64",
		});
		expect(rhel8).toMatchObject({
			"os.is_rhel": true,
			"os.is_rhel8": true,
			"os.is_rhel7": false,
			"os.is_debian": false,
		});
		const sles = detectHost({ osReleaseText: "ID=sles\nVERSION_ID=15.4\n" });
		expect(sles).toMatchObject({ "os.is_sles": true, "os.is_sles15": true, "os.is_sles12": false });
	});

	test("kernel releases give major, minor, patch and, Ubuntu-style, abi and flavor", () => {
		expect(parseKernelRelease("5.15.0-91-generic")).toEqual({
			major: 5,
			minor: 15,
			patch: 0,
			abi: 91,
			flavor: "generic",
		});
		expect(parseKernelRelease("6.18.44-fc-v595")).toEqual({
			major: 6,
			minor: 18,
			patch: 44,
			abi: 0,
			flavor: "",
		});
		expect(parseKernelRelease("4.14")).toEqual({ major: 4, minor: 14, patch: 0, abi: 0, flavor: "" });
	});
});
