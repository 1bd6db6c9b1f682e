import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Constants } from "./constants.ts";

const root = resolve(import.meta.dir, "../..");
const catalogue = JSON.parse(
	readFileSync(resolve(root, "../shared/reference/datadog/secl_linux.json"), "utf8"),
) as {
	constants: { name: string; all: { name: string; architecture: string }[] }[];
};

describe("constants", () => {
	const c = Constants.linux();
	const value = (name: string, family?: string) => c.get(name, family)?.value;

	test("values follow the system headers; capabilities are bitmasks and errors negative errnos", () => {
		expect(value("O_RDONLY")).toBe(0);
		expect(value("O_CREAT")).toBe(0o100);
		expect(value("O_TRUNC")).toBe(0o1000);
		expect(value("CAP_SYS_ADMIN")).toBe(2 ** 21);
		expect(value("CAP_CHECKPOINT_RESTORE")).toBe(2 ** 40);
		expect(value("EACCES")).toBe(-13);
		expect(value("EPERM")).toBe(-1);
		expect(value("BPF_PROG_LOAD")).toBe(5);
		expect(value("BPF_OVERRIDE_RETURN")).toBe(58);
		expect(value("BPF_MAP_TYPE_RINGBUF")).toBe(27);
		expect(value("BPF_PROG_TYPE_KPROBE")).toBe(2);
		expect(value("SIGKILL")).toBe(9);
		expect(value("PTRACE_TRACEME")).toBe(0);
		expect(value("PTRACE_ATTACH")).toBe(16);
		expect(value("AF_INET6")).toBe(10);
		expect(value("S_ISUID")).toBe(0o4000);
		expect(value("S_IFREG")).toBe(0o100000);
		expect(value("PROT_EXEC")).toBe(4);
		expect(value("MAP_ANONYMOUS")).toBe(0x20);
		expect(value("AT_REMOVEDIR")).toBe(0x200);
		expect(value("IP_PROTO_TCP")).toBe(6);
		expect(value("ETH_P_IP")).toBe(0x800);
		expect(value("PIPE_BUF_FLAG_CAN_MERGE")).toBe(0x10);
		expect(value("true")).toBe(true);
	});

	test("the families Datadog uses without documenting them", () => {
		expect(value("PR_SET_NAME")).toBe(15);
		expect(value("SOL_SOCKET")).toBe(1);
		expect(value("SO_ATTACH_FILTER")).toBe(26);
		expect(value("COREDUMPED")).toBe(1);
		expect(value("AUDIT_AUID_UNSET")).toBe(4294967295);
		expect(value("TLS_1_3")).toBe(0x0304);
		expect(c.get("CWS_MAP_NAMES")).toMatchObject({ type: "string", array: true });
	});

	test("every documented constant of the 26 families is defined (but other architectures' ptrace requests)", () => {
		const missing: string[] = [];
		for (const family of catalogue.constants) {
			for (const k of family.all) {
				const foreign = k.architecture !== "all" && !k.architecture.includes("amd64");
				if (!foreign && !c.get(k.name, family.name)) missing.push(`${family.name}: ${k.name}`);
			}
		}
		// no header value anywhere for this one (not in linux/if_ether.h)
		expect(missing).toEqual(["L3 protocols: ETH_P_IPV6_HOP_BY_HOP"]);
		expect(catalogue.constants.length).toBe(26);
	});

	test("a name in several families resolves to the asked family's value", () => {
		expect(c.get("BPF_MAP_LOOKUP_ELEM", "BPF commands")?.family).toBe("BPF commands");
		expect(c.get("BPF_MAP_LOOKUP_ELEM", "BPF helper functions")?.family).toBe("BPF helper functions");
	});

	test("probes can define more (the agent's own map names)", () => {
		const own = Constants.linux();
		own.define({
			name: "CWS_MAP_NAMES",
			family: "CWS map names",
			type: "string",
			array: true,
			value: ["vigil_events"],
		});
		expect(own.get("CWS_MAP_NAMES")?.value).toEqual(["vigil_events"]);
	});

	test("the Windows model has its own, smaller set", () => {
		const w = Constants.windows();
		expect(w.get("O_CREAT")).toBeUndefined();
		expect(w.get("INGRESS")?.value).toBe(1);
		expect(w.get("false")?.value).toBe(false);
	});

	test("the generated table is what the headers on this machine give", () => {
		const run = Bun.spawnSync(["bun", "scripts/gen-constants.ts", "--check"], { cwd: root, stderr: "pipe" });
		expect(run.exitCode).toBe(0);
	});
});
