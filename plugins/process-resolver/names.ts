/**
 * @module User and group names from `/etc/passwd` and `/etc/group` (or any files in their format),
 * reloaded when a file changes.
 *
 * When to use: the process resolver installs a {@link NameTable} with `setNameResolver` so every
 * `*.user` / `*.group` field resolves, and calls {@link NameTable.refresh} at most every few
 * seconds of event time. Lines that do not parse are reported with file:line:col and skipped;
 * the other lines still load.
 */
import { readFileSync, statSync } from "node:fs";
import type { NameResolver } from "../../core/model/derive.ts";

export interface NameIssue {
	readonly file: string;
	readonly line: number;
	readonly col: number;
	readonly message: string;
}

/**
 * `name:password:id:…` lines to an id → name map. `minFields` is 7 for passwd, 4 for group. The
 * first line for an id wins, as with getpwuid(3).
 */
export const parseIdFile = (
	text: string,
	file: string,
	minFields: number,
): { names: Map<number, string>; issues: NameIssue[] } => {
	const names = new Map<number, string>();
	const issues: NameIssue[] = [];
	const lines = text.split("\n");
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i]!;
		// Blank lines, comments and NIS compat entries (`+`, `-`) name nobody.
		if (line.trim() === "" || line[0] === "#" || line[0] === "+" || line[0] === "-") continue;
		const fields = line.split(":");
		if (fields.length < minFields) {
			issues.push({
				file,
				line: i + 1,
				col: 1,
				message: `expected ${minFields} fields separated by ":", got ${fields.length}`,
			});
			continue;
		}
		const name = fields[0]!;
		const id = fields[2]!;
		if (name === "") {
			issues.push({ file, line: i + 1, col: 1, message: "empty name" });
			continue;
		}
		if (!/^\d+$/.test(id) || Number(id) > 0xffffffff) {
			const col = name.length + fields[1]!.length + 3;
			issues.push({ file, line: i + 1, col, message: `id "${id}" is not a number between 0 and 4294967295` });
			continue;
		}
		if (!names.has(Number(id))) names.set(Number(id), name);
	}
	return { names, issues };
};

interface Source {
	readonly path: string;
	readonly minFields: number;
	fingerprint: string;
	names: Map<number, string>;
}

const fingerprintOf = (path: string): string => {
	try {
		const st = statSync(path, { bigint: true });
		return `${st.ino}:${st.size}:${st.mtimeNs}`;
	} catch {
		return "missing";
	}
};

/** Names by id from a passwd and a group file. */
export class NameTable implements NameResolver {
	readonly #users: Source;
	readonly #groups: Source;

	constructor(passwdPath: string, groupPath: string) {
		this.#users = { path: passwdPath, minFields: 7, fingerprint: "", names: new Map() };
		this.#groups = { path: groupPath, minFields: 4, fingerprint: "", names: new Map() };
	}

	user(uid: number): string | undefined {
		return this.#users.names.get(uid);
	}

	group(gid: number): string | undefined {
		return this.#groups.names.get(gid);
	}

	/**
	 * Re-read each file whose inode, size or modification time changed since the last read (a file
	 * replaced by rename counts as changed). `reloaded` is true when a table changed.
	 */
	refresh(): { reloaded: boolean; issues: NameIssue[] } {
		const issues: NameIssue[] = [];
		let reloaded = false;
		for (const source of [this.#users, this.#groups]) {
			const fingerprint = fingerprintOf(source.path);
			if (fingerprint === source.fingerprint) continue;
			source.fingerprint = fingerprint;
			reloaded = true;
			let text: string;
			try {
				text = readFileSync(source.path, "utf8");
			} catch (e) {
				source.names = new Map();
				issues.push({ file: source.path, line: 0, col: 0, message: `cannot read: ${(e as Error).message}` });
				continue;
			}
			const parsed = parseIdFile(text, source.path, source.minFields);
			source.names = parsed.names;
			issues.push(...parsed.issues);
		}
		return { reloaded, issues };
	}
}
