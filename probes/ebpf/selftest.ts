/**
 * @module The start-up self-test, as Datadog's agent runs it: do an open, a chmod, a chown and an
 * exec of a temporary file, expect the matching events back from the kernel within a deadline,
 * and report a `self_test` custom event (`succeeded_tests`, `failed_tests`, `test_events` keyed
 * by Datadog's self-test rule ids).
 *
 * The actions run in a child shell (the agent's own syscalls are filtered in the kernel); every
 * event of that shell and its descendants is claimed here and never reaches the bus, so rules
 * do not see the self-test as activity.
 *
 * When to use: by the probe, once its programs are attached and draining.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CustomEvent, Event } from "../../core/sdk.ts";

/** Datadog's rule id for each self-test, by the event type it expects. */
export const SELF_TEST_RULES = {
	open: "datadog_agent_cws_self_test_rule_open",
	chmod: "datadog_agent_cws_self_test_rule_chmod",
	chown: "datadog_agent_cws_self_test_rule_chown",
	exec: "datadog_agent_cws_self_test_rule_exec",
} as const;

type TestType = keyof typeof SELF_TEST_RULES;

const pathOf = (e: Event): string | undefined => {
	if (e.type === "exec") return e.process.file?.path;
	return (e[e.type] as { file?: { path?: string } } | undefined)?.file?.path;
};

export class SelfTest {
	private readonly pids = new Set<number>();
	private readonly expected: TestType[];
	private readonly found = new Map<TestType, Event>();
	private dir: string | undefined;
	private file = "";
	private deadline = 0;
	private rootPid = 0;
	private rootExited = false;
	private finished = false;

	constructor(
		enabledTypes: ReadonlySet<string>,
		private readonly timeoutMs: number,
		private readonly report: (e: CustomEvent) => void,
		private readonly now: () => number,
	) {
		this.expected = (Object.keys(SELF_TEST_RULES) as TestType[]).filter((t) => enabledTypes.has(t));
	}

	/** True until the result has been reported and the test's processes are gone. */
	get active(): boolean {
		return !this.finished || (this.pids.size > 0 && !this.rootExited);
	}

	/** Create the file and start the actions; events are then passed to {@link claim}. */
	start(): void {
		if (this.expected.length === 0) {
			this.finished = true;
			return;
		}
		this.dir = mkdtempSync(join(tmpdir(), "vigil-self-test-"));
		this.file = join(this.dir, "self-test.sh");
		writeFileSync(this.file, "#!/bin/sh\nexit 0\n");
		chmodSync(this.file, 0o600);
		const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
		const proc = Bun.spawn(
			[
				"/bin/sh",
				"-c",
				`exec 3<"$1" && chmod 700 "$1" && chown ${owner} "$1" && exec "$1"`,
				"vigil-self-test",
				this.file,
			],
			{ stdin: "ignore", stdout: "ignore", stderr: "ignore" },
		);
		this.rootPid = proc.pid;
		this.pids.add(proc.pid);
		this.deadline = performance.now() + this.timeoutMs;
	}

	/** Whether `e` comes from the self-test (it is then recorded and must not be emitted). */
	claim(e: Event): boolean {
		const pid = e.process.pid ?? 0;
		if (!this.pids.has(pid)) {
			// a child of the test's shell (seen at its fork, or at its first event when forks are off)
			const parent = e.type === "fork" ? (e.fork as { parent_pid: number }).parent_pid : e.process.ppid;
			if (parent === undefined || !this.pids.has(parent)) return false;
			this.pids.add(pid);
		}
		if (e.type === "exit" && pid === this.rootPid) this.rootExited = true;
		const t = e.type as TestType;
		if (!this.finished && this.expected.includes(t) && !this.found.has(t) && pathOf(e) === this.file) {
			this.found.set(t, e);
			if (this.found.size === this.expected.length) this.finish();
		}
		return true;
	}

	/** Report a failure for what has not arrived once the deadline has passed. */
	tick(): void {
		if (!this.finished && performance.now() >= this.deadline) this.finish();
		if (this.finished && !this.rootExited && performance.now() >= this.deadline + this.timeoutMs) {
			// the shell is long gone or never reported its exit: stop claiming its pids
			this.rootExited = true;
		}
	}

	private finish(): void {
		this.finished = true;
		const succeeded = this.expected.filter((t) => this.found.has(t)).map((t) => SELF_TEST_RULES[t]);
		const failed = this.expected.filter((t) => !this.found.has(t)).map((t) => SELF_TEST_RULES[t]);
		const testEvents: Record<string, Event> = {};
		for (const [t, e] of this.found) testEvents[SELF_TEST_RULES[t]] = e;
		this.report({
			kind: "custom",
			type: "self_test",
			timestamp: this.now(),
			data: { succeeded_tests: succeeded, failed_tests: failed, test_events: testEvents },
		});
		if (this.dir) rmSync(this.dir, { recursive: true, force: true });
	}
}
