/**
 * @module The `kill` action: send a signal to the process of the event, or to every process of
 * its container, with the real `kill(2)`. Never signals pid 0/1 or the agent itself. For
 * SIGKILL it then watches the targets until they are gone (off the batch path) so the report
 * carries `exited_at` and the time to respond, as Datadog's does.
 */
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { formatGoDuration } from "../../core/policy/index.ts";

const SIGNALS = constants.signals as Readonly<Record<string, number>>;

export type KillStatus = "performed" | "rule_disarmed" | "enforcement_disabled" | "no_target" | "error";

export interface KillReport {
	readonly type: "kill";
	readonly signal: string;
	readonly scope: "process" | "container";
	status: KillStatus;
	/** RFC 3339, wall clock: when the action ran. */
	readonly created_at: string;
	/** RFC 3339 of the event time. */
	readonly detected_at: string;
	killed_at?: string;
	exited_at?: string;
	/** Time to respond: event time to exit, as a Go duration string. */
	ttr?: string;
	pids?: number[];
	message?: string;
}

const rfc3339 = (ns: number): string => new Date(Math.floor(ns / 1e6)).toISOString();

/** Whether process `pid` is gone (no /proc entry, or a zombie waiting to be reaped). */
const processGone = (pid: number): boolean => {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		// the state follows the command name, which is in parentheses and may itself contain ")"
		return stat[stat.lastIndexOf(")") + 2] === "Z";
	} catch {
		return true;
	}
};

/** Host pids whose cgroup path names `containerId`. */
const containerPids = (containerId: string): number[] => {
	const out: number[] = [];
	if (containerId === "") return out;
	for (const name of readdirSync("/proc")) {
		const pid = Number(name);
		if (!Number.isInteger(pid)) continue;
		try {
			if (readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(containerId)) out.push(pid);
		} catch {
			// the process exited while listing
		}
	}
	return out;
};

export interface KillRequest {
	readonly signal: string;
	readonly scope: "process" | "container";
	readonly pid: number | undefined;
	readonly containerId: string;
	/** Event time, ns. */
	readonly timestamp: number;
}

export interface KillerOptions {
	/** Pids never signalled besides 0, 1 and our own (tests add nothing; the agent adds its parent). */
	readonly protectedPids?: ReadonlySet<number>;
	/** How long to watch SIGKILLed processes for their exit (ms). */
	readonly exitTimeoutMs: number;
	/** Pids of a container from a process cache; when it knows none, /proc is scanned. */
	readonly containerPids?: (containerId: string) => number[] | undefined;
	readonly now?: () => number;
}

export class ProcessKiller {
	readonly #protected: ReadonlySet<number>;
	readonly #now: () => number;

	constructor(readonly options: KillerOptions) {
		this.#protected = new Set([0, 1, process.pid, ...(options.protectedPids ?? [])]);
		this.#now = options.now ?? (() => Date.now() * 1e6);
	}

	#report(req: KillRequest, status: KillStatus): KillReport {
		return {
			type: "kill",
			signal: req.signal,
			scope: req.scope,
			status,
			created_at: rfc3339(this.#now()),
			detected_at: rfc3339(req.timestamp),
		};
	}

	/** A report for a kill that was not attempted. */
	refused(req: KillRequest, status: KillStatus, message: string): KillReport {
		return { ...this.#report(req, status), message };
	}

	/**
	 * Signal the targets now. The report is complete for every signal but SIGKILL, whose
	 * `exited` promise resolves once the targets are gone (or the watch times out).
	 */
	kill(req: KillRequest): { report: KillReport; exited?: Promise<KillReport> } {
		const report = this.#report(req, "no_target");
		const signo = SIGNALS[req.signal];
		if (signo === undefined) {
			report.status = "error";
			report.message = `unknown signal ${req.signal}`;
			return { report };
		}
		const inContainer = () => {
			const known = this.options.containerPids?.(req.containerId);
			return known && known.length > 0 ? known : containerPids(req.containerId);
		};
		const targets = (
			req.scope === "container"
				? req.containerId === ""
					? []
					: inContainer()
				: req.pid !== undefined
					? [req.pid]
					: []
		).filter((pid) => !this.#protected.has(pid));
		if (targets.length === 0) {
			report.message =
				req.scope === "container"
					? `no process to signal in container "${req.containerId}"`
					: "no process to signal";
			return { report };
		}
		const killed: number[] = [];
		const errors: string[] = [];
		for (const pid of targets) {
			try {
				process.kill(pid, signo);
				killed.push(pid);
			} catch (e) {
				errors.push(`${pid}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
			}
		}
		report.pids = killed;
		if (killed.length === 0) {
			report.status = "error";
			report.message = errors.join(", ");
			return { report };
		}
		report.status = "performed";
		report.killed_at = rfc3339(this.#now());
		if (errors.length > 0) report.message = errors.join(", ");
		if (req.signal !== "SIGKILL") return { report };
		return { report, exited: this.#watchExit(report, killed, req.timestamp) };
	}

	async #watchExit(report: KillReport, pids: number[], detected: number): Promise<KillReport> {
		const deadline = Date.now() + this.options.exitTimeoutMs;
		let delay = 1;
		while (!pids.every(processGone)) {
			if (Date.now() >= deadline) {
				report.message = `still running ${this.options.exitTimeoutMs} ms after the signal`;
				return report;
			}
			await Bun.sleep(delay);
			delay = Math.min(delay * 2, 50);
		}
		const exited = this.#now();
		report.exited_at = rfc3339(exited);
		report.ttr = formatGoDuration(Math.max(0, exited - detected));
		return report;
	}
}
