/**
 * @module Values derived from others, read by the generated field accessors.
 *
 * Every derivation prefers a value stored literally on the event (a replay capture may carry
 * `process.args` directly), and derives only when it is absent. Derived values that cost more
 * than a property read (argument parsing) are cached on the object they derive from.
 */
import type { FileFields, ProcessContext } from "./types.ts";

export const EMPTY: readonly never[] = Object.freeze([]);

export const str = (v: unknown): string => (typeof v === "string" ? v : v == null ? "" : String(v));
export const int = (v: unknown): number => (typeof v === "number" ? v : 0);
export const bool = (v: unknown): boolean => v === true;
export const arr = <T>(v: readonly T[] | undefined): readonly T[] => v ?? EMPTY;

/** Names for uids and gids; the process resolver installs a real one (from /etc/passwd). */
export interface NameResolver {
	user(uid: number): string | undefined;
	group(gid: number): string | undefined;
}
let names: NameResolver = { user: () => undefined, group: () => undefined };
export const setNameResolver = (resolver: NameResolver): void => {
	names = resolver;
};
export const userName = (uid: number | undefined): string =>
	uid === undefined ? "" : (names.user(uid) ?? "");
export const groupName = (gid: number | undefined): string =>
	gid === undefined ? "" : (names.group(gid) ?? "");

export const basename = (path: string | undefined): string => {
	if (!path) return "";
	const end = path.length > 1 && path.endsWith("/") ? path.length - 1 : path.length;
	const i = path.lastIndexOf("/", end - 1);
	return path.slice(i + 1, end);
};

export const fileName = (f: FileFields | undefined): string => f?.name ?? basename(f?.path);

export const fileExtension = (f: FileFields | undefined): string => {
	const name = fileName(f);
	const dot = name.lastIndexOf(".");
	return dot > 0 ? name.slice(dot) : "";
};

/** Datadog's `rights`: the permission bits (with setuid, setgid and sticky) of a mode. */
export const rights = (mode: number | undefined): number => (mode ?? 0) & 0o7777;

export const args = (p: ProcessContext | undefined): string => {
	if (!p) return "";
	if (p.args !== undefined) return p.args;
	return p.argv ? p.argv.join(" ") : "";
};

/** Env names from `NAME=value` entries. */
export const envs = (p: ProcessContext | undefined): readonly string[] => {
	if (!p) return EMPTY;
	const literal = p.envs as string[] | undefined;
	if (literal) return literal;
	const envp = p.envp;
	if (!envp) return EMPTY;
	return envp.map((e) => {
		const i = e.indexOf("=");
		return i < 0 ? e : e.slice(0, i);
	});
};

/**
 * `-abc` gives `a`, `b`, `c` and `abc`; `--version` gives `version`; `--width=8` gives `width`.
 * (Datadog `pkg/security/secl/args/parse.go`.)
 */
export const argsFlags = (p: ProcessContext | undefined): readonly string[] => {
	if (!p) return EMPTY;
	const literal = p.args_flags as string[] | undefined;
	if (literal) return literal;
	const out: string[] = [];
	for (const a of p.argv ?? EMPTY) {
		if (a.length < 2 || a[0] !== "-") continue;
		if (a[1] === "-") {
			if (a.length === 2) continue;
			const body = a.slice(2);
			const eq = body.indexOf("=");
			out.push(eq < 0 ? body : body.slice(0, eq));
			continue;
		}
		const body = a.slice(1);
		if (!/^[A-Za-z0-9]+$/.test(body)) continue;
		if (body.length > 1) for (const c of body) out.push(c);
		out.push(body);
	}
	return out;
};

/** `-T 8` gives `T=8`, `--width=8` gives `width=8`, `--width 8` gives `width=8`. */
export const argsOptions = (p: ProcessContext | undefined): readonly string[] => {
	if (!p) return EMPTY;
	const literal = p.args_options as string[] | undefined;
	if (literal) return literal;
	const argv = p.argv ?? EMPTY;
	const out: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i]!;
		if (a.length < 2 || a[0] !== "-" || a === "--") continue;
		const name = a[1] === "-" ? a.slice(2) : a.slice(1);
		const eq = name.indexOf("=");
		if (eq > 0) {
			out.push(name);
			continue;
		}
		const next = argv[i + 1];
		if (next !== undefined && (next.length === 0 || next[0] !== "-")) {
			out.push(`${name}=${next}`);
			i++;
		}
	}
	return out;
};

const PRIVATE_V4: Array<[number, number]> = [
	[0x0a000000, 8],
	[0xac100000, 12],
	[0xc0a80000, 16],
	[0x7f000000, 8],
	[0xa9fe0000, 16],
	[0x64400000, 10],
	[0x00000000, 8],
];

const v4ToInt = (ip: string): number | undefined => {
	const parts = ip.split(".");
	if (parts.length !== 4) return undefined;
	let n = 0;
	for (const p of parts) {
		const b = Number(p);
		if (!Number.isInteger(b) || b < 0 || b > 255) return undefined;
		n = n * 256 + b;
	}
	return n;
};

/** True for addresses routable on the internet (not private, loopback, link-local or CGNAT). */
export const isPublicIp = (ip: string | undefined): boolean => {
	if (!ip) return false;
	const n = v4ToInt(ip);
	if (n !== undefined) {
		for (const [net, bits] of PRIVATE_V4) {
			const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
			if ((n & mask) >>> 0 === net) return false;
		}
		return true;
	}
	const l = ip.toLowerCase();
	if (l === "::1" || l === "::") return false;
	if (l.startsWith("fe8") || l.startsWith("fe9") || l.startsWith("fea") || l.startsWith("feb")) return false;
	if (l.startsWith("fc") || l.startsWith("fd")) return false;
	if (l.startsWith("::ffff:")) return isPublicIp(l.slice(7));
	return l.includes(":");
};

/** Write `value` at `path` inside `root`, creating objects on the way. */
export const setPath = (root: Record<string, unknown>, path: readonly string[], value: unknown): void => {
	let o = root;
	for (let i = 0; i < path.length - 1; i++) {
		const k = path[i]!;
		let next = o[k];
		if (next === undefined || next === null || typeof next !== "object") {
			next = {};
			o[k] = next;
		}
		o = next as Record<string, unknown>;
	}
	o[path[path.length - 1]!] = value;
};

/**
 * Write an iterator field: `values[i]` goes to element `i` of the array at `items`, at `leaf`
 * inside it. A scalar value is written to the first element.
 */
export const setIterated = (
	root: Record<string, unknown>,
	items: readonly string[],
	leaf: readonly string[],
	value: unknown,
): void => {
	const values = Array.isArray(value) ? value : [value];
	let list = items.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], root) as
		| Record<string, unknown>[]
		| undefined;
	if (!Array.isArray(list)) {
		list = [];
		setPath(root, items, list);
	}
	for (let i = 0; i < values.length; i++) {
		list[i] ??= {};
		setPath(list[i]!, leaf, values[i]);
	}
};
