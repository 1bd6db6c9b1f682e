/**
 * @module Kill disarmers (Datadog `probe/process_killer.go`): a rule whose kill action hits
 * more distinct containers, or more distinct executables, than allowed within a period is
 * disarmed, since a rule that kills everything is far more likely wrong than under attack.
 * It re-arms once the period has passed with no new target. Time is event time.
 */

export interface DisarmerOptions {
	readonly enabled: boolean;
	/** Distinct targets allowed per period. */
	readonly maxAllowed: number;
	/** ns. */
	readonly period: number;
}

/** Distinct keys seen within the last `period` (ns) of event time. */
class RecentKeys {
	readonly #seen = new Map<string, number>();

	constructor(readonly period: number) {}

	expire(now: number): void {
		for (const [key, at] of this.#seen) if (now - at >= this.period) this.#seen.delete(key);
	}

	has(key: string): boolean {
		return this.#seen.has(key);
	}

	add(key: string, now: number): void {
		this.#seen.set(key, now);
	}

	get size(): number {
		return this.#seen.size;
	}
}

export type DisarmVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** The disarmers of one rule's kill action. */
export class RuleDisarmer {
	readonly #containers: RecentKeys | undefined;
	readonly #executables: RecentKeys | undefined;
	#disarmed: string | undefined;
	#disarmedCount = 0;

	constructor(
		readonly container: DisarmerOptions,
		readonly executable: DisarmerOptions,
	) {
		this.#containers = container.enabled ? new RecentKeys(container.period) : undefined;
		this.#executables = executable.enabled ? new RecentKeys(executable.period) : undefined;
	}

	/** Times this rule was disarmed. */
	get disarmedCount(): number {
		return this.#disarmedCount;
	}

	get disarmed(): boolean {
		return this.#disarmed !== undefined;
	}

	/**
	 * May the rule kill a process of `containerId` running `executable` at event time `now`?
	 * Empty keys (a host process, an unknown path) are not counted.
	 */
	allow(
		now: number,
		containerId: string,
		executable: string,
		skip: { container?: boolean; executable?: boolean } = {},
	): DisarmVerdict {
		this.#containers?.expire(now);
		this.#executables?.expire(now);
		const containers = skip.container ? undefined : this.#containers;
		const executables = skip.executable ? undefined : this.#executables;
		if (this.#disarmed !== undefined) {
			if ((this.#containers?.size ?? 0) === 0 && (this.#executables?.size ?? 0) === 0)
				this.#disarmed = undefined;
			else return { allowed: false, reason: this.#disarmed };
		}
		const check = (
			keys: RecentKeys | undefined,
			key: string,
			what: string,
			opts: DisarmerOptions,
		): string | undefined => {
			if (!keys || key === "" || keys.has(key) || keys.size < opts.maxAllowed) return undefined;
			return `${what} disarmer: more than ${opts.maxAllowed} distinct ${what}s within ${opts.period / 1e9}s`;
		};
		const reason =
			check(containers, containerId, "container", this.container) ??
			check(executables, executable, "executable", this.executable);
		if (reason) {
			this.#disarmed = reason;
			this.#disarmedCount++;
			return { allowed: false, reason };
		}
		if (containers && containerId !== "") containers.add(containerId, now);
		if (executables && executable !== "") executables.add(executable, now);
		return { allowed: true };
	}
}
