/**
 * @module Which policy files load, in which order: every `*.policy` file of each rules
 * directory, sorted by name within the directory, directories in the order given; the first
 * `default.policy` found (Datadog's shipped policy) moves to the front and any other
 * `default.policy` is skipped, as Datadog keeps only one.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PolicyType } from "./types.ts";

export const DEFAULT_POLICY_NAME = "default.policy";

export interface PolicyFileRef {
	/** Path as built from the configured directory (relative stays relative). */
	readonly path: string;
	readonly name: string;
	readonly type: PolicyType;
}

export interface PolicyListing {
	readonly files: readonly PolicyFileRef[];
	/** Directories that could not be read, skipped default policies. */
	readonly problems: readonly string[];
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const listPolicyFiles = (dirs: readonly string[]): PolicyListing => {
	const problems: string[] = [];
	const files: PolicyFileRef[] = [];
	let defaultPolicy: PolicyFileRef | undefined;
	for (const dir of dirs) {
		let names: string[];
		try {
			names = readdirSync(dir);
		} catch (e) {
			const code = (e as NodeJS.ErrnoException).code;
			problems.push(
				`${dir}: cannot read the rules directory (${code === "ENOENT" ? "not found" : (code ?? String(e))})`,
			);
			continue;
		}
		for (const name of names.filter((n) => n.endsWith(".policy")).sort(byteOrder)) {
			const path = join(dir, name);
			try {
				if (!statSync(path).isFile()) continue;
			} catch {
				// a dangling symlink or a file removed while listing: nothing to load
				continue;
			}
			if (name === DEFAULT_POLICY_NAME) {
				if (defaultPolicy) {
					problems.push(
						`${path}: skipped, only the first ${DEFAULT_POLICY_NAME} loads (${defaultPolicy.path})`,
					);
					continue;
				}
				defaultPolicy = { path, name, type: "default" };
				continue;
			}
			files.push({ path, name, type: "custom" });
		}
	}
	return { files: defaultPolicy ? [defaultPolicy, ...files] : files, problems };
};
