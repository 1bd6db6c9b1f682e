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

/**
 * Values derived from `argv` (or `envp`), kept for the last array of each kind: while a rule set
 * evaluates an exec it reads several fields over one array (`exec.args` and `process.args`,
 * `process.args_flags`…), and events of one process come in runs. The array is recognised by
 * identity and length (in case it grew in place). Keeping the values on every array instead (a
 * property added to the array, or a WeakMap) cost more per exec than deriving them again: a
 * property added to an array reallocates its storage. The cached arrays are shared between
 * reads: callers must not modify them.
 */
interface Derived {
	list: readonly string[] | undefined;
	length: number;
	args: string | undefined;
	flags: readonly string[] | undefined;
	options: readonly string[] | undefined;
	names: readonly string[] | undefined;
}

const emptyDerived = (): Derived => ({
	list: undefined,
	length: 0,
	args: undefined,
	flags: undefined,
	options: undefined,
	names: undefined,
});
const lastArgv = emptyDerived();
const lastEnvp = emptyDerived();

/** `memo`, emptied first unless it holds the values of `list`. */
const derivedOf = (memo: Derived, list: readonly string[]): Derived => {
	if (memo.list !== list || memo.length !== list.length) {
		memo.list = list;
		memo.length = list.length;
		memo.args = undefined;
		memo.flags = undefined;
		memo.options = undefined;
		memo.names = undefined;
	}
	return memo;
};

/** `argv.join(" ")`, built by concatenation (several times faster than `join` on short arrays). */
const joinArgs = (argv: readonly string[]): string => {
	let out = argv.length > 0 ? (argv[0] as string) : "";
	for (let i = 1; i < argv.length; i++) out = `${out} ${argv[i] as string}`;
	return out;
};

export const args = (p: ProcessContext | undefined): string => {
	if (!p) return "";
	if (p.args !== undefined) return p.args;
	const argv = p.argv;
	if (!argv) return "";
	const d = derivedOf(lastArgv, argv);
	if (d.args === undefined) d.args = joinArgs(argv);
	return d.args;
};

/** Env names from `NAME=value` entries. */
export const envs = (p: ProcessContext | undefined): readonly string[] => {
	if (!p) return EMPTY;
	const literal = p.envs as string[] | undefined;
	if (literal) return literal;
	const envp = p.envp;
	if (!envp) return EMPTY;
	const d = derivedOf(lastEnvp, envp);
	if (d.names === undefined) d.names = envNames(envp);
	return d.names;
};

/** Where the name ends in an environment entry: at its first `=` (an entry without one is all name). */
export const envNameEnd = (entry: string): number => {
	const eq = entry.indexOf("=");
	return eq < 0 ? entry.length : eq;
};

const envNames = (envp: readonly string[]): string[] => {
	const out = new Array<string>(envp.length);
	for (let i = 0; i < envp.length; i++) {
		const e = envp[i] as string;
		const end = envNameEnd(e);
		out[i] = end === e.length ? e : e.slice(0, end);
	}
	return out;
};

/**
 * `-abc` gives `a`, `b`, `c` and `abc`; `--version` gives `version`; `--width=8` gives `width`.
 * (Datadog `pkg/security/secl/args/parse.go`.)
 */
export const argsFlags = (p: ProcessContext | undefined): readonly string[] => {
	if (!p) return EMPTY;
	const literal = p.args_flags as string[] | undefined;
	if (literal) return literal;
	const argv = p.argv;
	if (!argv) return EMPTY;
	const d = derivedOf(lastArgv, argv);
	if (d.flags === undefined) d.flags = parseFlags(argv);
	return d.flags;
};

/** Letters and digits only (what a bundle of short flags may hold). */
const alnum = (s: string, from: number): boolean => {
	for (let i = from; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
	}
	return true;
};

const parseFlags = (argv: readonly string[]): readonly string[] => {
	// most arguments are not flags: no array until one is
	let out: string[] | undefined;
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i] as string;
		if (a.length < 2 || a.charCodeAt(0) !== 45) continue;
		if (a.charCodeAt(1) === 45) {
			if (a.length === 2) continue;
			const eq = a.indexOf("=", 2);
			if (out === undefined) out = [];
			out.push(eq < 0 ? a.slice(2) : a.slice(2, eq));
			continue;
		}
		if (!alnum(a, 1)) continue;
		if (out === undefined) out = [];
		if (a.length > 2) for (let k = 1; k < a.length; k++) out.push(a.charAt(k));
		out.push(a.slice(1));
	}
	return out ?? EMPTY;
};

/** `-T 8` gives `T=8`, `--width=8` gives `width=8`, `--width 8` gives `width=8`. */
export const argsOptions = (p: ProcessContext | undefined): readonly string[] => {
	if (!p) return EMPTY;
	const literal = p.args_options as string[] | undefined;
	if (literal) return literal;
	const argv = p.argv;
	if (!argv) return EMPTY;
	const d = derivedOf(lastArgv, argv);
	if (d.options === undefined) d.options = parseOptions(argv);
	return d.options;
};

const parseOptions = (argv: readonly string[]): readonly string[] => {
	let out: string[] | undefined;
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i] as string;
		if (a.length < 2 || a.charCodeAt(0) !== 45 || a === "--") continue;
		const name = a.charCodeAt(1) === 45 ? a.slice(2) : a.slice(1);
		const next = argv[i + 1];
		let option: string | undefined;
		if (name.indexOf("=") > 0) option = name;
		else if (next !== undefined && (next.length === 0 || next.charCodeAt(0) !== 45)) {
			option = `${name}=${next}`;
			i++;
		}
		if (option === undefined) continue;
		if (out === undefined) out = [];
		out.push(option);
	}
	return out ?? EMPTY;
};

/**
 * Networks that are not routable on the internet, as network then mask, flat (private, loopback,
 * link-local, CGNAT, "this" network): an indexed loop over numbers, 2.4× faster than one over
 * pairs.
 */
const PRIVATE_V4 = Uint32Array.from(
	(
		[
			[0x0a000000, 8],
			[0xac100000, 12],
			[0xc0a80000, 16],
			[0x7f000000, 8],
			[0xa9fe0000, 16],
			[0x64400000, 10],
			[0x00000000, 8],
		] as const
	).flatMap(([net, bits]) => [net, (~0 << (32 - bits)) >>> 0]),
);

/**
 * A dotted-quad IPv4 address as a 32-bit number, -1 for anything else: four groups of
 * one to three digits, each at most 255, read in one pass (no `split`: this runs on every event
 * a rule asks `is_public` of).
 */
const v4ToInt = (ip: string): number => {
	let n = 0;
	let part = 0;
	let digits = 0;
	let dots = 0;
	for (let i = 0; i < ip.length; i++) {
		const c = ip.charCodeAt(i);
		if (c === 46) {
			if (digits === 0 || dots === 3) return -1;
			n = n * 256 + part;
			part = 0;
			digits = 0;
			dots++;
		} else if (c >= 48 && c <= 57 && digits < 3) {
			part = part * 10 + (c - 48);
			digits++;
			if (part > 255) return -1;
		} else return -1;
	}
	return dots === 3 && digits > 0 ? n * 256 + part : -1;
};

/** True for addresses routable on the internet (not private, loopback, link-local or CGNAT). */
export const isPublicIp = (ip: string | undefined): boolean => {
	if (!ip) return false;
	const n = v4ToInt(ip);
	if (n >= 0) {
		for (let i = 0; i < PRIVATE_V4.length; i += 2)
			if ((n & (PRIVATE_V4[i + 1] as number)) >>> 0 === PRIVATE_V4[i]) return false;
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
