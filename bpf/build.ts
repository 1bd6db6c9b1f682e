/**
 * @module Builds vigil's BPF object, `bpf/.output/vigil.bpf.o`, from the C sources in `bpf/src`
 * and the record headers in `bpf/include`.
 *
 * `vmlinux.h` is generated from the running kernel's BTF (`/sys/kernel/btf/vmlinux`) into
 * `bpf/.output` (build output, never committed); the object is compiled with
 * `clang -target bpf -O2 -g` (CO-RE, so it runs on other kernels too). Both happen only when
 * missing or stale: a stamp next to the object records a hash of every source and header, the
 * compiler flags and the kernel BTF.
 *
 * When to use: `bun bpf/build.ts` (the setup script runs it; `--force` rebuilds), or
 * `await ensureBpfObjects()` from code and tests that need the object.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { arch } from "node:os";
import { join, relative, resolve } from "node:path";

const BPF_DIR = resolve(import.meta.dir);
export const OUTPUT_DIR = join(BPF_DIR, ".output");
export const OBJECT_PATH = join(OUTPUT_DIR, "vigil.bpf.o");
const VMLINUX_H = join(OUTPUT_DIR, "vmlinux.h");
const STAMP = `${OBJECT_PATH}.stamp.json`;
const KERNEL_BTF = "/sys/kernel/btf/vmlinux";
const DEBIAN_PACKAGES = "clang llvm libbpf-dev bpftool";

export class BpfBuildError extends Error {
	override readonly name = "BpfBuildError";
}

export interface BuildResult {
	/** Absolute path of the object. */
	object: string;
	/** False when the object was already up to date. */
	built: boolean;
	/** What was done, one line per step. */
	steps: string[];
}

export interface BuildOptions {
	/** Rebuild even when up to date. */
	force?: boolean;
	/** Where progress lines go (default: nowhere). */
	log?: (line: string) => void;
}

const targetArch = (): string => {
	const a = arch();
	if (a === "x64") return "x86";
	if (a === "arm64") return "arm64";
	throw new BpfBuildError(`bpf: unsupported architecture ${a} (x86-64 and arm64 are supported)`);
};

const clangFlags = (): string[] => [
	"-target",
	"bpf",
	"-O2",
	"-g",
	"-Wall",
	"-Werror",
	`-D__TARGET_ARCH_${targetArch()}`,
	`-I${OUTPUT_DIR}`,
	`-I${join(BPF_DIR, "include")}`,
	`-I${join(BPF_DIR, "src")}`,
];

const sources = (): string[] =>
	["src", "include"]
		.flatMap((d) => readdirSync(join(BPF_DIR, d)).map((f) => join(BPF_DIR, d, f)))
		.filter((f) => f.endsWith(".c") || f.endsWith(".h"))
		.sort();

const sha256 = (parts: Iterable<string | Uint8Array>): string => {
	const h = createHash("sha256");
	for (const p of parts) h.update(p);
	return h.digest("hex");
};

const which = (tool: string, extra: string[] = []): string | undefined =>
	Bun.which(tool) ?? extra.find((p) => existsSync(p));

const run = (cmd: string[], what: string): Uint8Array => {
	const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
	if (r.exitCode !== 0) {
		throw new BpfBuildError(`bpf: ${what} failed (${cmd.join(" ")}):\n${r.stderr.toString().trim()}`);
	}
	return r.stdout;
};

interface Stamp {
	inputs: string;
	btf: string;
}

const readStamp = (): Stamp | undefined => {
	try {
		return JSON.parse(readFileSync(STAMP, "utf8")) as Stamp;
	} catch {
		return undefined;
	}
};

/** Build `bpf/.output/vigil.bpf.o` if it is missing or stale; throws {@link BpfBuildError}. */
export async function ensureBpfObjects(options: BuildOptions = {}): Promise<BuildResult> {
	const log = options.log ?? (() => {});
	const steps: string[] = [];
	const step = (line: string) => {
		steps.push(line);
		log(line);
	};
	if (!existsSync(KERNEL_BTF)) {
		throw new BpfBuildError(
			`bpf: ${KERNEL_BTF} is missing: the kernel was built without BTF (CONFIG_DEBUG_INFO_BTF=y is required)`,
		);
	}
	const flags = clangFlags();
	const inputs = sha256([
		flags.join(" "),
		...sources().flatMap((f) => [relative(BPF_DIR, f), readFileSync(f)]),
	]);
	const btf = sha256([readFileSync(KERNEL_BTF)]);
	const stamp = readStamp();
	const rel = relative(process.cwd(), OBJECT_PATH) || OBJECT_PATH;
	if (!options.force && stamp?.inputs === inputs && stamp.btf === btf && existsSync(OBJECT_PATH)) {
		step(`bpf: ${rel} is up to date`);
		return { object: OBJECT_PATH, built: false, steps };
	}

	const clang = which("clang");
	const bpftool = which("bpftool", ["/usr/sbin/bpftool", "/sbin/bpftool"]);
	const missing = [
		clang ? "" : "clang",
		bpftool ? "" : "bpftool",
		existsSync("/usr/include/bpf/bpf_helpers.h") ? "" : "libbpf headers (/usr/include/bpf)",
	].filter(Boolean);
	if (missing.length > 0) {
		throw new BpfBuildError(
			`bpf: cannot build ${rel}: missing ${missing.join(", ")}. Install the Debian packages: apt-get install ${DEBIAN_PACKAGES}`,
		);
	}
	mkdirSync(OUTPUT_DIR, { recursive: true });

	if (options.force || stamp?.btf !== btf || !existsSync(VMLINUX_H)) {
		const t0 = performance.now();
		const header = run([bpftool!, "btf", "dump", "file", KERNEL_BTF, "format", "c"], "generating vmlinux.h");
		writeFileSync(`${VMLINUX_H}.tmp`, header);
		renameSync(`${VMLINUX_H}.tmp`, VMLINUX_H);
		step(`bpf: generated vmlinux.h from ${KERNEL_BTF} in ${Math.round(performance.now() - t0)} ms`);
	}

	const t0 = performance.now();
	const tmp = `${OBJECT_PATH}.${process.pid}.tmp`;
	try {
		run([clang!, ...flags, "-c", join(BPF_DIR, "src", "vigil.bpf.c"), "-o", tmp], "compiling vigil.bpf.c");
		renameSync(tmp, OBJECT_PATH);
	} finally {
		rmSync(tmp, { force: true });
	}
	writeFileSync(STAMP, `${JSON.stringify({ inputs, btf } satisfies Stamp)}\n`);
	step(`bpf: compiled ${rel} in ${Math.round(performance.now() - t0)} ms`);
	return { object: OBJECT_PATH, built: true, steps };
}

if (import.meta.main) {
	try {
		await ensureBpfObjects({ force: process.argv.includes("--force"), log: (l) => console.log(l) });
	} catch (e) {
		console.error(e instanceof BpfBuildError ? e.message : e);
		process.exit(1);
	}
}
