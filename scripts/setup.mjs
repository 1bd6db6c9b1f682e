#!/usr/bin/env node
/**
 * Brings a machine with only Node.js and npm to a runnable vigil, and does nothing when nothing
 * is missing. Run by `npm run agent`, `npm test` and `npm run setup`:
 *
 *   1. node_modules (with Bun itself, from the npm registry) — `npm ci` when absent or when
 *      package-lock.json changed since the last install;
 *   2. Debian packages the eBPF probe builds and loads with (clang, llvm, libbpf-dev, bpftool) —
 *      `apt-get install` when missing and running as root, otherwise a warning saying what to run;
 *   3. the BPF objects — `bun bpf/build.ts`, which rebuilds only what is stale.
 *
 * Plain Node.js on purpose: it must run before Bun exists.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const say = (msg) => process.stderr.write(`setup: ${msg}\n`);

const run = (cmd, args, opts = {}) => {
	const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], ...opts });
	if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
	return r.status ?? 1;
};

// 1. node_modules
const lock = join(root, "package-lock.json");
const stamp = join(root, "node_modules", ".vigil-install-stamp");
const lockHash = createHash("sha256").update(readFileSync(lock)).digest("hex");
const bunBin = join(root, "node_modules", ".bin", "bun");
const installed = existsSync(bunBin) && existsSync(stamp) && readFileSync(stamp, "utf8") === lockHash;
if (!installed) {
	say("installing dependencies (npm ci)…");
	const status = run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
	if (status !== 0) {
		say("npm ci failed; see the messages above");
		process.exit(status);
	}
	if (!existsSync(bunBin)) {
		say(`npm ci finished but ${bunBin} is missing; the bun package did not install its binary`);
		process.exit(1);
	}
	writeFileSync(stamp, lockHash);
}

// 2. Debian packages for the eBPF probe
const DEBIAN_PACKAGES = ["clang", "llvm", "libbpf-dev", "bpftool"];
const hasDpkg = spawnSync("dpkg-query", ["--version"]).status === 0;
/**
 * The packages dpkg reports as installed, in one query. dpkg-query exits non-zero when it knows
 * nothing of some of the names, yet still prints a line for each one it knows: read its output
 * whatever the exit status. A name it knows but that is not installed prints another status.
 */
const installedPackages = (pkgs) => {
	// biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
	const r = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Status}\n", ...pkgs], { encoding: "utf8" });
	const found = new Set();
	for (const line of (r.stdout ?? "").split("\n")) {
		const space = line.indexOf(" ");
		if (space > 0 && line.slice(space + 1).includes("install ok installed")) found.add(line.slice(0, space));
	}
	return found;
};
const installedDebian = hasDpkg ? installedPackages(DEBIAN_PACKAGES) : new Set();
const missing = DEBIAN_PACKAGES.filter((pkg) => !installedDebian.has(pkg));
if (hasDpkg && missing.length > 0) {
	if (process.getuid?.() === 0) {
		say(`installing Debian packages: ${missing.join(" ")}…`);
		const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
		let status = run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
		if (status !== 0) {
			run("apt-get", ["update", "-qq"], { env });
			status = run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
		}
		if (status !== 0) say(`could not install ${missing.join(" ")}; the eBPF probe will not build`);
	} else {
		say(
			`the eBPF probe needs Debian packages ${missing.join(" ")}: run  sudo apt-get install ${missing.join(" ")}`,
		);
	}
} else if (!hasDpkg && !quiet) {
	say("not a Debian system: install clang, llvm, libbpf headers and bpftool yourself for the eBPF probe");
}

// 3. BPF objects
const bpfBuild = join(root, "bpf", "build.ts");
if (existsSync(bpfBuild)) {
	const status = run(bunBin, [bpfBuild, ...(quiet ? ["--quiet"] : [])]);
	if (status !== 0) say("building the BPF objects failed (see above); the eBPF probe will not start");
}

try {
	execFileSync(bunBin, ["--version"], { stdio: "ignore" });
} catch (e) {
	say(`bun does not run: ${e.message}`);
	process.exit(1);
}
