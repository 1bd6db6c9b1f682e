/** Feature probes answer "not supported" with a reason and a fix; no kernel needed. */
import { describe, expect, test } from "bun:test";
import { isNotSupported, probeBpf, probeBtf, probePrivileges, probeTracefs } from "./features.ts";

describe("feature probes", () => {
	test("without CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) loading is not supported, and says what to do", () => {
		const none = probePrivileges(0n);
		expect(isNotSupported(none)).toBe(true);
		if (!isNotSupported(none)) return;
		expect(none.reason).toContain("CAP_BPF");
		expect(none.fix).toContain("root");
		expect(probePrivileges(1n << 21n)).toBe(true);
		expect(probePrivileges((1n << 38n) | (1n << 39n))).toBe(true);
		expect(isNotSupported(probePrivileges(1n << 39n))).toBe(true);
	});

	test("a kernel without BTF is named with the config option it needs", () => {
		const r = probeBtf("/nonexistent/vmlinux");
		expect(isNotSupported(r) && r.fix).toContain("CONFIG_DEBUG_INFO_BTF");
	});

	test("an unmounted tracefs is mounted when allowed, else the mount command is given", () => {
		const calls: string[] = [];
		const mount = (target: string) => {
			calls.push(target);
			return -1;
		};
		const refused = probeTracefs(mount, true, ["/nonexistent/tracing"]);
		expect(calls).toEqual(["/nonexistent/tracing"]);
		expect(isNotSupported(refused) && refused.fix).toContain("mount -t tracefs nodev /nonexistent/tracing");
		const notAllowed = probeTracefs(() => 0, false, ["/nonexistent/tracing"]);
		expect(isNotSupported(notAllowed) && notAllowed.reason).toBe("tracefs is not mounted");
	});

	test("missing BPF features are listed by name", () => {
		const r = probeBpf({
			probeProgType: () => 1,
			probeMapType: () => 0,
			probeHelper: (_, h) => (h === 181 ? 0 : 1),
		});
		expect(isNotSupported(r) && r.reason).toBe(
			"this kernel lacks BPF ring buffers (Linux 5.8), helper bpf_loop",
		);
		expect(probeBpf({ probeProgType: () => 1, probeMapType: () => 1, probeHelper: () => 1 })).toBe(true);
	});
});
