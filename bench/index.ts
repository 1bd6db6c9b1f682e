/**
 * @module `bun run bench [NAME…]`: runs the benchmarks and prints their figures. Each benchmark
 * measures vigil against a floor or a peer in the same run and reports ratios, never absolute
 * pass/fail (this is not part of the test suite).
 *
 *   bus               core pipeline vs a plain JS loop
 *   secl              default.policy rule set vs hand-written predicates
 *   process-resolver  per-event cost of the process cache
 *   ebpf              open() storm: no agent vs a minimal C ring-buffer consumer vs vigil
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorText } from "../core/errors.ts";

const BENCHES: Record<string, string> = {
	bus: "bus.ts",
	secl: "secl.ts",
	"process-resolver": "process-resolver.ts",
	ebpf: "ebpf/index.ts",
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
	if (!BENCHES[name]) {
		console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(", ")}`);
		process.exit(2);
	}
}
const results: Record<string, Record<string, number> | string> = {};
for (const [name, file] of Object.entries(BENCHES)) {
	if (wanted.length > 0 && !wanted.includes(name)) continue;
	const path = join(import.meta.dir, file);
	if (!existsSync(path)) {
		results[name] = "not present";
		continue;
	}
	console.log(`\n== ${name} ==`);
	try {
		const mod = (await import(path)) as { run: () => Promise<Record<string, number>> };
		results[name] = await mod.run();
	} catch (e) {
		results[name] = `failed: ${errorText(e)}`;
		console.error(`${name}: ${results[name]}`);
	}
}
console.log("\n== summary ==");
console.log(JSON.stringify(results, null, 2));
