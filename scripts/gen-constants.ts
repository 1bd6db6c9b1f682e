/**
 * Generates SECL's constant table from the system headers.
 *
 *   bun scripts/gen-constants.ts            write core/secl/constants.generated.ts
 *   bun scripts/gen-constants.ts --check    exit 1 if it is stale
 *
 * Names come from Datadog's catalogue (`../shared/reference/datadog/secl_linux.json`, 26 families)
 * plus the families Datadog uses without documenting them (prctl options, socket levels and
 * options). Values come from `/usr/include`: enums of `linux/bpf.h` and its `__BPF_FUNC_MAPPER`
 * list are parsed here; `#define`d values are printed by a small C program compiled with `cc`,
 * so macro arithmetic (`MAP_HUGE_2MB`, `O_FSYNC`) is the compiler's, not ours. Families the
 * headers do not carry (DNS codes, kernel-internal VM and pipe-buffer flags, exit causes…) are
 * listed below with their source. Capabilities become bitmasks (`1 << CAP_X`) and errors negative
 * errnos, as Datadog compares them with capability sets and `retval`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const out = join(root, "core/secl/constants.generated.ts");
const catalogue = JSON.parse(
	readFileSync(resolve(root, "../shared/reference/datadog/secl_linux.json"), "utf8"),
) as {
	constants: { name: string; all: { name: string }[] }[];
};
const names = (family: string): string[] =>
	catalogue.constants.find((c) => c.name === family)?.all.map((c) => c.name) ?? [];
const header = (path: string): string => readFileSync(join("/usr/include", path), "utf8");

/** Members of `enum <name>` with their values (`A = B` and implicit increments). */
const parseEnum = (text: string, name: string): Map<string, number> => {
	const body = new RegExp(`enum ${name} \\{([\\s\\S]*?)\\n\\};`).exec(text)?.[1];
	if (!body) throw new Error(`enum ${name} not found`);
	const values = new Map<string, number>();
	let next = 0;
	for (const raw of body.replace(/\/\*[\s\S]*?\*\//g, "").split(",")) {
		const m = /^\s*([A-Z_0-9]+)\s*(?:=\s*([A-Za-z_0-9]+))?\s*$/.exec(raw);
		if (!m) continue;
		const [, member, init] = m as unknown as [string, string, string | undefined];
		const v = init === undefined ? next : /^\d/.test(init) ? Number(init) : (values.get(init) ?? Number.NaN);
		values.set(member, v);
		next = v + 1;
	}
	return values;
};

/** `BPF_FUNC_*` ids in `__BPF_FUNC_MAPPER` order (older headers list them without numbers). */
const parseHelpers = (text: string): Map<string, number> => {
	const body = /#define __BPF_FUNC_MAPPER\(FN\)([\s\S]*?)\n\n/.exec(text)?.[1] ?? "";
	const helpers = new Map<string, number>();
	let i = 0;
	for (const m of body.matchAll(/FN\((\w+)(?:,\s*(\d+))?/g)) {
		const id = m[2] === undefined ? i : Number(m[2]);
		helpers.set(`BPF_${(m[1] as string).toUpperCase()}`, id);
		i = id + 1;
	}
	return helpers;
};

type Value = number | string[];
interface Family {
	name: string;
	values: Map<string, Value>;
	/** Where the values come from, for the generated file's comments. */
	source: string;
}

/** Values of `#define`d names, printed by the C compiler; absent names are left out. */
const cDefines = (includes: string[], entries: [string, string][]): Map<string, number> => {
	const dir = mkdtempSync(join(tmpdir(), "vigil-constants-"));
	try {
		const lines = [
			"#define _GNU_SOURCE",
			...includes.map((h) => `#include <${h}>`),
			"#include <stdio.h>",
			"int main(void) {",
			...entries.map(
				([name, expr]) => `#ifdef ${expr}\n\tprintf("%s %lld\\n", "${name}", (long long)(${expr}));\n#endif`,
			),
			"\treturn 0;\n}",
		];
		writeFileSync(join(dir, "c.c"), lines.join("\n"));
		execFileSync("cc", ["-w", "-o", join(dir, "c"), join(dir, "c.c")]);
		const values = new Map<string, number>();
		for (const line of execFileSync(join(dir, "c"), { encoding: "utf8" }).trim().split("\n")) {
			const [name, v] = line.split(" ") as [string, string];
			values.set(name, Number(v));
		}
		return values;
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
};

interface DefineOptions {
	/** The names to look up (default: the family's names in Datadog's catalogue). */
	list?: string[];
	/** The C name of a constant, where Datadog spells it differently. */
	toC?: (n: string) => string;
	/** The value as rules compare it. */
	map?: (v: number) => number;
}

/** Values of the family's `#define`d names in `includes`. */
const fromDefines = (family: string, includes: string[], options: DefineOptions = {}): Map<string, Value> => {
	const { list = names(family), toC = (n) => n, map = (v) => v } = options;
	const found = cDefines(
		includes,
		list.map((n) => [n, toC(n)]),
	);
	const values = new Map<string, Value>();
	for (const n of list) {
		const v = found.get(n);
		if (v !== undefined) values.set(n, map(v));
	}
	if (values.size === 0) throw new Error(`${family}: no value found in ${includes.join(", ")}`);
	return values;
};

/** The family `name`, its values `#define`d in `includes`. */
const defined = (name: string, source: string, includes: string[], options?: DefineOptions): Family => ({
	name,
	source,
	values: fromDefines(name, includes, options),
});

/** The family `name` (Datadog's catalogue names), its values from linux/bpf.h: `what` there. */
const fromBpf = (name: string, what: string, source: Map<string, number>): Family => {
	const values = new Map<string, Value>();
	for (const n of names(name)) {
		const v = source.get(n);
		if (v !== undefined && !Number.isNaN(v)) values.set(n, v);
	}
	if (values.size === 0) throw new Error(`${name}: no value found`);
	return { name, source: `linux/bpf.h ${what}`, values };
};

/** The family `name`, its members of `enum <enumName>` in linux/bpf.h. */
const bpfEnum = (name: string, enumName: string): Family =>
	fromBpf(name, `enum ${enumName}`, parseEnum(bpf, enumName));

/** A family the headers do not carry, its values listed here. */
const fixed = (name: string, source: string, entries: [string, Value][]): Family => ({
	name,
	source,
	values: new Map(entries),
});

const bpf = header("linux/bpf.h");
const prctlNames = [...header("linux/prctl.h").matchAll(/^#define (PR_\w+)\s/gm)].map((m) => m[1] as string);
const solNames = [
	...header("x86_64-linux-gnu/bits/socket.h").matchAll(/^#define (SOL_\w+)\s/gm),
	...header("asm-generic/socket.h").matchAll(/^#define (SOL_\w+)\s/gm),
	...header("linux/in.h").matchAll(/^#define (SOL_\w+)\s/gm),
].map((m) => m[1] as string);
const soNames = [...header("asm-generic/socket.h").matchAll(/^#define (SO_\w+)\s/gm)].map(
	(m) => m[1] as string,
);

const squash = (n: string): string => n.replace(/^ETH_P_/, "").replaceAll("_", "");
const ethNames = new Map(
	[...header("linux/if_ether.h").matchAll(/^#define (ETH_P_\w+)\s/gm)].map((m) => [
		squash(m[1] as string),
		m[1] as string,
	]),
);

const families: Family[] = [
	bpfEnum("BPF attach types", "bpf_attach_type"),
	bpfEnum("BPF commands", "bpf_cmd"),
	fromBpf("BPF helper functions", "__BPF_FUNC_MAPPER", parseHelpers(bpf)),
	bpfEnum("BPF map types", "bpf_map_type"),
	bpfEnum("BPF program types", "bpf_prog_type"),
	fixed("DNS Responses", "IANA DNS RCODEs (RFC 6895), names as miekg/dns which Datadog uses", [
		["NOERROR", 0],
		["FORMERR", 1],
		["SERVFAIL", 2],
		["NXDOMAIN", 3],
		["NOTIMP", 4],
		["REFUSED", 5],
		["YXDOMAIN", 6],
		["YXRRSET", 7],
		["NXRRSET", 8],
		["NOTAUTH", 9],
		["NOTZONE", 10],
		["BADSIG", 16],
		["BADVERS", 16],
		["BADKEY", 17],
		["BADTIME", 18],
		["BADMODE", 19],
		["BADNAME", 20],
		["BADALG", 21],
	]),
	fixed("DNS qclasses", "IANA DNS CLASSes (RFC 6895)", [
		["CLASS_INET", 1],
		["CLASS_CSNET", 2],
		["CLASS_CHAOS", 3],
		["CLASS_HESIOD", 4],
		["CLASS_NONE", 254],
		["CLASS_ANY", 255],
	]),
	fixed("DNS qtypes", "IANA DNS RR TYPEs, names as miekg/dns", [
		["None", 0],
		["A", 1],
		["NS", 2],
		["MD", 3],
		["MF", 4],
		["CNAME", 5],
		["SOA", 6],
		["MB", 7],
		["MG", 8],
		["MR", 9],
		["NULL", 10],
		["PTR", 12],
		["HINFO", 13],
		["MINFO", 14],
		["MX", 15],
		["TXT", 16],
		["RP", 17],
		["AFSDB", 18],
		["X25", 19],
		["ISDN", 20],
		["RT", 21],
		["NSAPPTR", 23],
		["SIG", 24],
		["KEY", 25],
		["PX", 26],
		["GPOS", 27],
		["AAAA", 28],
		["LOC", 29],
		["NXT", 30],
		["EID", 31],
		["NIMLOC", 32],
		["SRV", 33],
		["ATMA", 34],
		["NAPTR", 35],
		["KX", 36],
		["CERT", 37],
		["DNAME", 39],
		["OPT", 41],
		["APL", 42],
		["DS", 43],
		["SSHFP", 44],
		["RRSIG", 46],
		["NSEC", 47],
		["DNSKEY", 48],
		["DHCID", 49],
		["NSEC3", 50],
		["NSEC3PARAM", 51],
		["TLSA", 52],
		["SMIMEA", 53],
		["HIP", 55],
		["NINFO", 56],
		["RKEY", 57],
		["TALINK", 58],
		["CDS", 59],
		["CDNSKEY", 60],
		["OPENPGPKEY", 61],
		["CSYNC", 62],
		["ZONEMD", 63],
		["SVCB", 64],
		["HTTPS", 65],
		["SPF", 99],
		["UINFO", 100],
		["UID", 101],
		["GID", 102],
		["UNSPEC", 103],
		["NID", 104],
		["L32", 105],
		["L64", 106],
		["LP", 107],
		["EUI48", 108],
		["EUI64", 109],
		["TKEY", 249],
		["TSIG", 250],
		["IXFR", 251],
		["AXFR", 252],
		["MAILB", 253],
		["MAILA", 254],
		["ANY", 255],
		["URI", 256],
		["CAA", 257],
		["AVC", 258],
		["TA", 32768],
		["DLV", 32769],
		["Reserved", 65535],
	] as [string, number][]),
	defined("Error constants", "errno.h (negated, as syscall return values)", ["errno.h"], { map: (v) => -v }),
	defined("File mode constants", "sys/stat.h", ["sys/stat.h"]),
	defined("Inode mode constants", "sys/stat.h", ["sys/stat.h"]),
	defined(
		"Kernel Capability constants",
		"linux/capability.h (as bitmasks 1 << CAP_X)",
		["linux/capability.h"],
		{
			map: (v) => 2 ** v,
		},
	),
	// Datadog spells some names without the header's inner underscores (ETH_P_8021Q → ETH_P_8021_Q)
	defined("L3 protocols", "linux/if_ether.h", ["linux/if_ether.h"], {
		toC: (n) => ethNames.get(squash(n)) ?? n,
	}),
	{
		name: "L4 protocols",
		source: "netinet/in.h IPPROTO_* (IP_PROTO_IGP: IANA protocol 9)",
		values: new Map([
			...fromDefines("L4 protocols", ["netinet/in.h"], { toC: (n) => n.replace("IP_PROTO_", "IPPROTO_") }),
			["IP_PROTO_IGP", 9],
		]),
	},
	defined("MMap flags", "sys/mman.h, linux/mman.h", ["sys/mman.h", "linux/mman.h"]),
	defined("Network Address Family constants", "sys/socket.h", ["sys/socket.h"]),
	fixed("Network directions", "Datadog model (ingress 1, egress 2)", [
		["INGRESS", 1],
		["EGRESS", 2],
	]),
	defined("Open flags", "fcntl.h", ["fcntl.h"]),
	fixed("Pipe buffer flags", "kernel include/linux/pipe_fs_i.h (not exported to userspace)", [
		["PIPE_BUF_FLAG_LRU", 0x01],
		["PIPE_BUF_FLAG_ATOMIC", 0x02],
		["PIPE_BUF_FLAG_GIFT", 0x04],
		["PIPE_BUF_FLAG_PACKET", 0x08],
		["PIPE_BUF_FLAG_CAN_MERGE", 0x10],
		["PIPE_BUF_FLAG_WHOLE", 0x20],
		["PIPE_BUF_FLAG_LOSS", 0x40],
	]),
	defined("Protection constants", "sys/mman.h", ["sys/mman.h"]),
	defined("Ptrace constants", "linux/ptrace.h, asm/ptrace-abi.h", ["linux/ptrace.h"]),
	defined("Signal constants", "signal.h", ["signal.h"]),
	fixed("SysCtl Actions", "Datadog model (read 1, write 2)", [
		["SYSCTL_READ", 1],
		["SYSCTL_WRITE", 2],
	]),
	defined("Unlink flags", "fcntl.h", ["fcntl.h"]),
	fixed("Virtual Memory flags", "kernel include/linux/mm.h VM_* (not exported to userspace)", [
		["VM_NONE", 0],
		["VM_READ", 0x1],
		["VM_WRITE", 0x2],
		["VM_EXEC", 0x4],
		["VM_SHARED", 0x8],
		["VM_MAYREAD", 0x10],
		["VM_MAYWRITE", 0x20],
		["VM_MAYEXEC", 0x40],
		["VM_MAYSHARE", 0x80],
		["VM_GROWSDOWN", 0x100],
		["VM_UFFD_MISSING", 0x200],
		["VM_PFNMAP", 0x400],
		["VM_UFFD_WP", 0x1000],
		["VM_LOCKED", 0x2000],
		["VM_IO", 0x4000],
		["VM_SEQ_READ", 0x8000],
		["VM_RAND_READ", 0x10000],
		["VM_DONTCOPY", 0x20000],
		["VM_DONTEXPAND", 0x40000],
		["VM_LOCKONFAULT", 0x80000],
		["VM_ACCOUNT", 0x100000],
		["VM_NORESERVE", 0x200000],
		["VM_HUGETLB", 0x400000],
		["VM_SYNC", 0x800000],
		["VM_ARCH_1", 0x1000000],
		["VM_WIPEONFORK", 0x2000000],
		["VM_DONTDUMP", 0x4000000],
		["VM_SOFTDIRTY", 0x8000000],
		["VM_MIXEDMAP", 0x10000000],
		["VM_HUGEPAGE", 0x20000000],
		["VM_NOHUGEPAGE", 0x40000000],
		["VM_MERGEABLE", 0x80000000],
	] as [string, number][]),
	fixed("Exit causes", "Datadog model (exited, coredumped, signaled)", [
		["EXITED", 0],
		["COREDUMPED", 1],
		["SIGNALED", 2],
	]),
	fixed("Audit constants", "kernel AUDIT_UID_UNSET ((uid_t)-1)", [["AUDIT_AUID_UNSET", 4294967295]]),
	fixed("TLS versions", "IANA TLS protocol versions (wire values)", [
		["SSL_3_0", 0x0300],
		["TLS_1_0", 0x0301],
		["TLS_1_1", 0x0302],
		["TLS_1_2", 0x0303],
		["TLS_1_3", 0x0304],
	]),
	defined("Prctl options", "linux/prctl.h (top-level options)", ["linux/prctl.h"], { list: prctlNames }),
	defined("Socket levels", "sys/socket.h, linux/in.h", ["sys/socket.h", "netinet/in.h"], {
		list: [...new Set(solNames)],
	}),
	defined("Socket options", "asm-generic/socket.h", ["sys/socket.h"], { list: soNames }),
	fixed(
		"CWS map names",
		"names of the agent's own eBPF maps; the eBPF probe adds them with Constants.define",
		[["CWS_MAP_NAMES", []]],
	),
];

for (const f of families) {
	const documented = names(f.name);
	const missing = documented.filter((n) => !f.values.has(n));
	if (missing.length)
		console.error(`${f.name}: not in the headers of this machine (left out): ${missing.join(" ")}`);
}

const render = (): string => {
	const lines = [
		"// Generated by scripts/gen-constants.ts from the system headers and Datadog's constant",
		"// families. Do not edit: run `bun scripts/gen-constants.ts`.",
		"// biome-ignore-all format: generated",
		"",
		"/** Constant families: name, source, and `[constant, value]` pairs (string arrays for list constants). */",
		"export const CONSTANT_FAMILIES: readonly { name: string; source: string; values: readonly [string, number | readonly string[]][] }[] = [",
	];
	for (const f of families) {
		const pairs = [...f.values].map(([n, v]) => `[${JSON.stringify(n)},${JSON.stringify(v)}]`).join(",");
		lines.push(
			`\t{ name: ${JSON.stringify(f.name)}, source: ${JSON.stringify(f.source)}, values: [${pairs}] },`,
		);
	}
	lines.push("];", "");
	return lines.join("\n");
};

const text = render();
if (process.argv.includes("--check")) {
	let current = "";
	try {
		current = readFileSync(out, "utf8");
	} catch {}
	if (current !== text) {
		console.error(`${out} is stale: run bun scripts/gen-constants.ts`);
		process.exit(1);
	}
} else {
	writeFileSync(out, text);
	console.log(
		`wrote ${out}: ${families.reduce((n, f) => n + f.values.size, 0)} constants in ${families.length} families`,
	);
}
