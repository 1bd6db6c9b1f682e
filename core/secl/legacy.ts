/**
 * @module Datadog's legacy SECL field names (`model/legacy_secl.go`): rules written for older
 * agents (`open.filename`, `exec.basename`, `process.container_path`…) keep working.
 *
 * When to use: {@link registerLegacyAliases} once on a registry before compiling rules
 * (`compile` does it for the registries it sees).
 */
import type { FieldRegistry } from "../model/registry.ts";

const fileEvents: [string, string][] = [
	["chmod.filename", "chmod.file.path"],
	["chmod.basename", "chmod.file.name"],
	["chmod.mode", "chmod.file.destination.mode"],
	["chown.filename", "chown.file.path"],
	["chown.basename", "chown.file.name"],
	["chown.uid", "chown.file.destination.uid"],
	["chown.user", "chown.file.destination.user"],
	["chown.gid", "chown.file.destination.gid"],
	["chown.group", "chown.file.destination.group"],
	["open.filename", "open.file.path"],
	["open.basename", "open.file.name"],
	["open.mode", "open.file.destination.mode"],
	["mkdir.filename", "mkdir.file.path"],
	["mkdir.basename", "mkdir.file.name"],
	["mkdir.mode", "mkdir.file.destination.mode"],
	["rmdir.filename", "rmdir.file.path"],
	["rmdir.basename", "rmdir.file.name"],
	["rename.old.filename", "rename.file.path"],
	["rename.old.basename", "rename.file.name"],
	["rename.new.filename", "rename.file.destination.path"],
	["rename.new.basename", "rename.file.destination.name"],
	["removexattr.filename", "removexattr.file.path"],
	["removexattr.basename", "removexattr.file.name"],
	["setxattr.filename", "setxattr.file.path"],
	["setxattr.basename", "setxattr.file.name"],
	["unlink.filename", "unlink.file.path"],
	["unlink.basename", "unlink.file.name"],
	["utimes.filename", "utimes.file.path"],
	["utimes.basename", "utimes.file.name"],
	["link.source.filename", "link.file.path"],
	["link.source.basename", "link.file.name"],
	["link.target.filename", "link.file.destination.path"],
	["link.target.basename", "link.file.destination.name"],
];

// The executable's path inside its container (`container_path`) is what `file.path` resolves to today.
const processes: [string, string][] = [
	"process",
	"process.ancestors",
	"process.parent",
	"exec",
	"exit",
].flatMap((p): [string, string][] => [
	[`${p}.filename`, `${p}.file.path`],
	[`${p}.basename`, `${p}.file.name`],
	[`${p}.container_path`, `${p}.file.path`],
]);

/** The 48 legacy names and the current field each stands for. */
export const LEGACY_FIELDS: ReadonlyMap<string, string> = new Map([...fileEvents, ...processes]);

/** Register every legacy name whose current field exists in `registry` (idempotent). */
export const registerLegacyAliases = (registry: FieldRegistry): void => {
	for (const [legacy, current] of LEGACY_FIELDS) {
		if (registry.field(current) && !registry.field(legacy)) registry.registerAlias(legacy, current);
	}
};
