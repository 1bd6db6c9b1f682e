/**
 * @module Built-in plugins by the name a manifest's `use` gives them. Modules load only when a
 * manifest uses them, so an agent without the eBPF probe never touches bun:ffi.
 */
import { join } from "node:path";

const root = join(import.meta.dir, "..");

export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = {
	replay: join(root, "probes/replay/index.ts"),
	ebpf: join(root, "probes/ebpf/index.ts"),
	stdout: join(root, "plugins/stdout/index.ts"),
	record: join(root, "plugins/record/index.ts"),
	"process-resolver": join(root, "plugins/process-resolver/index.ts"),
	"rule-engine": join(root, "plugins/rule-engine/index.ts"),
};
