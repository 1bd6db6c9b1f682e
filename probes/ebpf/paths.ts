/**
 * @module Paths from kernel records: names given to syscalls joined to the directory the kernel
 * resolved, and normalised (`.`, `..`, repeated `/`). (Walked components become a path in the
 * decoder, which assembles them from the record's bytes.)
 *
 * Normalisation is lexical, as the kernel reads a name left to right: `a/../b` is `b` even if
 * `a` is a symlink (the kernel would follow the link first); calls that yield a file (open,
 * exec) report the walked path instead, which has no such ambiguity.
 *
 * When to use: from the decoder.
 */

/** `/a/./b//c/../d/` → `/a/b/d`. The input must be absolute; `..` above `/` stays at `/`. */
export const normalize = (path: string): string => {
	if (!path.includes("/.") && !path.includes("//") && (path.length === 1 || !path.endsWith("/"))) return path;
	const out: string[] = [];
	for (const seg of path.split("/")) {
		if (seg === "" || seg === ".") continue;
		if (seg === "..") out.pop();
		else out.push(seg);
	}
	return `/${out.join("/")}`;
};

/** The absolute path of `name` relative to the absolute directory `dir` (or `name` if absolute). */
export const resolveName = (dir: string, name: string): string => {
	if (name.startsWith("/")) return normalize(name);
	if (name === "") return normalize(dir);
	return normalize(dir === "/" ? `/${name}` : `${dir}/${name}`);
};
