/**
 * @module The eBPF benchmark: an open()+close() storm from a small C program (compiled here),
 * pinned to CPU 0, measured
 *
 *   (a) with no agent,
 *   (b) with the floor: a minimal C reader of the same BPF program's open events (floor.c),
 *   (c) with vigil: the agent CLI running the ebpf probe, the process resolver and the rule
 *       engine with a small policy (manifest.yaml), and
 *   (p) with the probe alone, driven through the SDK (probe-only.ts), to tell the probe's cost
 *       from the pipeline's,
 *
 * in ≥5 rounds whose order rotates, reporting medians: opens per second, the ratios c/a, c/b,
 * b/a, events lost (kernel and bus), and the reader's CPU and peak RSS. Target: c/b ≥ 0.95 with
 * nothing lost. Needs root.
 *
 *   bun run bench ebpf      (VIGIL_BENCH_ROUNDS, VIGIL_BENCH_MS to change rounds and duration)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureBpfObjects, OBJECT_PATH } from "../../bpf/build.ts";
import { median } from "../stats.ts";

const ROOT = resolve(import.meta.dir, "../..");
const ROUNDS = Number(process.env.VIGIL_BENCH_ROUNDS ?? 5);
const DURATION_MS = Number(process.env.VIGIL_BENCH_MS ?? 3000);
const STORM_CPU = 0;
const CLK_TCK = 100;

type Case = "a" | "b" | "c" | "p";

interface Sample {
	/** open() calls per second made by the storm. */
	rate: number;
	/** Events the reader lost (kernel ring full, bus full). */
	lost: number;
	/** Reader CPU over the storm, in % of one CPU. */
	cpu: number;
	/** Reader peak RSS, MiB. */
	rssMiB: number;
}

const compile = (dir: string, name: string, extra: string[] = []): string => {
	const out = join(dir, name);
	const r = Bun.spawnSync(["gcc", "-O2", "-Wall", "-o", out, join(import.meta.dir, `${name}.c`), ...extra]);
	if (r.exitCode !== 0) throw new Error(`cannot compile ${name}.c: ${r.stderr.toString()}`);
	return out;
};

/** utime + stime of `pid`, in seconds. */
const cpuSeconds = (pid: number): number => {
	const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
};

const peakRssMiB = (pid: number): number => {
	const line = readFileSync(`/proc/${pid}/status`, "utf8")
		.split("\n")
		.find((l) => l.startsWith("VmHWM:"));
	return line ? Number(line.replace(/\D+/g, "")) / 1024 : 0;
};

/** Read lines from a stream until one matches; returns it (and keeps the reader). */
const waitForLine = async (
	stream: ReadableStream<Uint8Array>,
	match: (line: string) => boolean,
	what: string,
	timeoutMs = 20_000,
): Promise<{ line: string; rest: () => Promise<string> }> => {
	const reader = stream.getReader();
	const decoder = new TextDecoder();
	let buffered = "";
	const seen: string[] = [];
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const nl = buffered.indexOf("\n");
		if (nl >= 0) {
			const line = buffered.slice(0, nl);
			buffered = buffered.slice(nl + 1);
			seen.push(line);
			if (match(line)) {
				return {
					line,
					rest: async () => {
						let text = buffered;
						for (;;) {
							const { value, done } = await reader.read();
							if (done) return text;
							text += decoder.decode(value);
						}
					},
				};
			}
			continue;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		const { value, done } = await reader.read();
		if (done) throw new Error(`exited before ${what}:\n${[...seen.slice(-10), buffered].join("\n")}`);
		buffered += decoder.decode(value);
	}
};

export async function run(): Promise<Record<string, number>> {
	if (process.getuid?.() !== 0) throw new Error("the eBPF benchmark needs root (it loads BPF programs)");
	await ensureBpfObjects({ log: (l) => console.log(l) });
	// the machine may be shared: say how busy it was
	const loadAvg = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
	const dir = mkdtempSync(join(tmpdir(), "vigil-bench-ebpf-"));
	try {
		const storm = compile(dir, "storm");
		const floor = compile(dir, "floor", ["-lbpf"]);
		const target = join(dir, "target");
		writeFileSync(target, "x\n");

		const runStorm = (): number => {
			const r = Bun.spawnSync([storm, target, String(DURATION_MS), String(STORM_CPU)]);
			if (r.exitCode !== 0) throw new Error(`storm failed: ${r.stderr.toString()}`);
			const [opens, ns] = r.stdout.toString().trim().split(" ").map(Number);
			return (opens! / ns!) * 1e9;
		};

		/** Start a reader, run the storm while measuring it, stop it; `finish` parses its result. */
		const withReader = async (
			cmd: string[],
			ready: { stream: "stdout" | "stderr"; match: (l: string) => boolean },
			stop: NodeJS.Signals,
			finish: (stdout: string, stderr: string) => number,
		): Promise<Sample> => {
			const p = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
			const other = ready.stream === "stdout" ? p.stderr : p.stdout;
			const otherText = new Response(other).text();
			const seen = await waitForLine(p[ready.stream], ready.match, `${cmd.join(" ")} to be ready`);
			await Bun.sleep(300);
			const cpu0 = cpuSeconds(p.pid);
			const t0 = performance.now();
			const rate = runStorm();
			const wall = (performance.now() - t0) / 1000;
			const cpu = ((cpuSeconds(p.pid) - cpu0) / wall) * 100;
			const rssMiB = peakRssMiB(p.pid);
			p.kill(stop);
			const [rest, otherOut] = await Promise.all([seen.rest(), otherText, p.exited]);
			const [stdout, stderr] = ready.stream === "stdout" ? [rest, otherOut] : [otherOut, rest];
			return { rate, lost: finish(stdout, stderr), cpu, rssMiB };
		};

		const cases: Record<Case, () => Promise<Sample>> = {
			a: async () => ({ rate: runStorm(), lost: 0, cpu: 0, rssMiB: 0 }),
			b: () =>
				withReader(
					[floor, OBJECT_PATH, "10"],
					{ stream: "stdout", match: (l) => l === "ready" },
					"SIGTERM",
					(stdout) => Number(stdout.trim().split("\n").pop()!.split(" ")[2]),
				),
			c: () =>
				withReader(
					["bun", "core/cli/main.ts", "agent", "--manifest", "bench/ebpf/manifest.yaml"],
					{ stream: "stderr", match: (l) => l.includes("[ebpf] self-test") },
					"SIGINT",
					(_, stderr) => {
						const summary = stderr.split("\n").find((l) => l.includes("[agent] stopped")) ?? "";
						// kernel ring losses per type and bus drops; not the per-CPU breakdown of the former
						let lost = 0;
						for (const m of summary.matchAll(/(?:^|\s)(?:ebpf\.kernel\.lost|bus\.dropped)\{[^}]*\}=(\d+)/g))
							lost += Number(m[1]);
						return lost;
					},
				),
			p: () =>
				withReader(
					["bun", "bench/ebpf/probe-only.ts"],
					{ stream: "stdout", match: (l) => l === "ready" },
					"SIGTERM",
					(stdout) => (JSON.parse(stdout.trim().split("\n").pop()!) as { lost: number }).lost,
				),
		};

		const order: Case[] = ["a", "b", "c", "p"];
		const samples: Record<Case, Sample[]> = { a: [], b: [], c: [], p: [] };
		for (let round = 0; round < ROUNDS; round++) {
			const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
			for (const c of rotated) samples[c].push(await cases[c]());
			console.log(
				`round ${round + 1}/${ROUNDS}: ${order.map((c) => `${c}=${Math.round(samples[c].at(-1)!.rate / 1000)}k/s`).join(" ")}`,
			);
		}

		const med = (c: Case, k: keyof Sample) => median(samples[c].map((s) => s[k]));
		const sum = (c: Case, k: keyof Sample) => samples[c].reduce((n, s) => n + s[k], 0);
		/** Median over rounds of x/y within each round (both met the same machine load). */
		const paired = (x: Case, y: Case) => median(samples[x].map((s, i) => s.rate / samples[y][i]!.rate));
		const a = med("a", "rate");
		const b = med("b", "rate");
		const c = med("c", "rate");
		const p = med("p", "rate");
		const result = {
			"a.opens_per_s": Math.round(a),
			"b.opens_per_s": Math.round(b),
			"c.opens_per_s": Math.round(c),
			"p.opens_per_s": Math.round(p),
			"ratio.c_over_a": c / a,
			"ratio.c_over_b": c / b,
			"ratio.b_over_a": b / a,
			"ratio.p_over_b": p / b,
			"ratio.c_over_b_paired": paired("c", "b"),
			"ratio.c_over_a_paired": paired("c", "a"),
			"b.lost": sum("b", "lost"),
			"c.lost": sum("c", "lost"),
			"p.lost": sum("p", "lost"),
			"b.cpu_percent": med("b", "cpu"),
			"c.cpu_percent": med("c", "cpu"),
			"p.cpu_percent": med("p", "cpu"),
			"b.rss_mib": med("b", "rssMiB"),
			"c.rss_mib": med("c", "rssMiB"),
			"p.rss_mib": med("p", "rssMiB"),
			rounds: ROUNDS,
			duration_ms: DURATION_MS,
		};
		const row = (name: string, c: Case | undefined, rate: number) =>
			`${name.padEnd(34)} ${String(Math.round(rate)).padStart(9)}  ${
				c && c !== "a"
					? `${String(sum(c, "lost")).padStart(6)}  ${med(c, "cpu").toFixed(1).padStart(5)}%  ${med(c, "rssMiB").toFixed(0).padStart(5)} MiB`
					: ""
			}`;
		console.log(
			`\n${"case".padEnd(34)} ${"opens/s".padStart(9)}  ${"lost".padStart(6)}  ${"cpu".padStart(6)}  ${"rss".padStart(9)}`,
		);
		console.log(row("(a) no agent", "a", a));
		console.log(row("(b) C floor reader", "b", b));
		console.log(row("(c) vigil agent", "c", c));
		console.log(row("(p) vigil probe only", "p", p));
		console.log(
			`\nc/a = ${result["ratio.c_over_a"].toFixed(3)}   c/b = ${result["ratio.c_over_b"].toFixed(3)} (target ≥ 0.95)   b/a = ${result["ratio.b_over_a"].toFixed(3)}   medians of ${ROUNDS} rounds × ${DURATION_MS} ms`,
		);
		console.log(
			`per-round c/b = ${result["ratio.c_over_b_paired"].toFixed(3)}, c/a = ${result["ratio.c_over_a_paired"].toFixed(3)} (median of the rounds' own ratios; load average at start ${loadAvg})`,
		);
		return result;
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

if (import.meta.main) await run();
