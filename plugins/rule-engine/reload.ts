/**
 * @module What triggers a policy reload: a `*.policy` file added, changed or removed in a
 * rules directory (debounced, so an editor's save or a `cp` of ten files is one reload), and
 * SIGHUP. The heartbeat lives here too: Datadog's agent sends one per policy every minute for
 * five minutes after a load, then every ten minutes (wall time: it tells the backend the agent
 * is alive, it says nothing about events).
 */
import { type FSWatcher, watch } from "node:fs";
import type { Logger } from "../../core/sdk.ts";

export class PolicyWatcher {
	readonly #watchers: FSWatcher[] = [];
	readonly #changed = new Set<string>();
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		readonly dirs: readonly string[],
		/** Quiet time after the last change before reloading (ms). */
		readonly debounceMs: number,
		readonly onChange: (files: readonly string[]) => void,
		readonly log: Logger,
	) {}

	start(): void {
		for (const dir of this.dirs) {
			try {
				const w = watch(dir, { persistent: false }, (_event, filename) => {
					const name = filename?.toString();
					if (name !== undefined && !name.endsWith(".policy")) return;
					this.#changed.add(name ?? dir);
					this.#schedule();
				});
				w.on("error", (e) => this.log.warn(`stopped watching ${dir}: ${e.message}`));
				this.#watchers.push(w);
			} catch (e) {
				this.log.warn(
					`cannot watch ${dir} for policy changes: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
				);
			}
		}
	}

	#schedule(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			const files = [...this.#changed];
			this.#changed.clear();
			this.onChange(files);
		}, this.debounceMs);
	}

	close(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = undefined;
		for (const w of this.#watchers.splice(0)) w.close();
	}
}

export interface HeartbeatOptions {
	/** Interval of the first heartbeats after a load (ms), and how many of them. */
	readonly firstIntervalMs: number;
	readonly firstCount: number;
	/** Interval after those (ms). */
	readonly intervalMs: number;
}

export class Heartbeat {
	#timer: ReturnType<typeof setTimeout> | undefined;
	#sent = 0;

	constructor(
		readonly options: HeartbeatOptions,
		readonly send: () => void,
	) {}

	/** Start over (after a load): the first interval again. */
	restart(): void {
		this.stop();
		this.#sent = 0;
		this.#arm();
	}

	#arm(): void {
		const o = this.options;
		const delay = this.#sent < o.firstCount ? o.firstIntervalMs : o.intervalMs;
		this.#timer = setTimeout(() => {
			this.#sent++;
			this.send();
			this.#arm();
		}, delay);
		this.#timer.unref?.();
	}

	stop(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = undefined;
	}
}
