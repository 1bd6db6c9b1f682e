/**
 * @module Policy `filters`: SECL expressions over the host filter model (`os == "linux"`,
 * `kernel.version.major >= 5`…), OR-ed, deciding whether a rule or macro applies on this host.
 * They are compiled by the SECL compiler against a registry of their own (one event type,
 * `filter`, whose fields read the {@link HostFacts}), so they get the same syntax, type checks
 * and diagnostics as rules.
 */
import { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import {
	type CompiledRule,
	Constants,
	compile,
	MacroStore,
	SeclError,
	VariableStore,
} from "../secl/index.ts";
import type { HostFacts } from "./host.ts";
import { type ExpressionLocator, formatLocation } from "./types.ts";

const FILTER_EVENT = "filter";
const ORIGIN = "policy filters";

const FIELD_DOCS: Record<keyof HostFacts, string> = {
	os: "Operating system: linux or windows",
	"os.id": "Distribution id (ID in /etc/os-release)",
	"os.platform_id": "Platform id (PLATFORM_ID in /etc/os-release)",
	"os.version_id": "Distribution version (VERSION_ID in /etc/os-release)",
	"os.is_amazon_linux": "Amazon Linux",
	"os.is_cos": "Container-Optimized OS",
	"os.is_debian": "Debian",
	"os.is_oracle": "Oracle Linux",
	"os.is_rhel": "Red Hat Enterprise Linux or a rebuild",
	"os.is_rhel7": "RHEL 7",
	"os.is_rhel8": "RHEL 8",
	"os.is_sles": "SUSE Linux Enterprise Server",
	"os.is_sles12": "SLES 12",
	"os.is_sles15": "SLES 15",
	"kernel.version.major": "Kernel major version",
	"kernel.version.minor": "Kernel minor version",
	"kernel.version.patch": "Kernel patch version",
	"kernel.version.abi": "Kernel ABI number (Ubuntu-style releases)",
	"kernel.version.flavor": "Kernel flavor (Ubuntu-style releases)",
	"kernel.core.enabled": "CO-RE available (kernel BTF present)",
	envs: "Names of the agent's environment variables",
	origin: "Event origin (ebpf)",
	hostname: "Host name",
};

const typeOf = (value: unknown): "string" | "int" | "bool" =>
	typeof value === "number" ? "int" : typeof value === "boolean" ? "bool" : "string";

type FilterEvent = Event & { facts: HostFacts };

/** The outcome of a definition's `filters` on this host. */
export type FilterVerdict =
	| { readonly kind: "match" }
	| { readonly kind: "no_match"; readonly message: string }
	| { readonly kind: "invalid"; readonly message: string };

export class HostFilter {
	readonly #compiled = new Map<string, CompiledRule | SeclError>();
	readonly #event: FilterEvent;
	readonly #context;

	constructor(readonly facts: HostFacts) {
		const registry = new FieldRegistry(facts.os);
		registry.registerEventType({ name: FILTER_EVENT, doc: "The host, as policy filters see it" }, ORIGIN);
		for (const name of Object.keys(FIELD_DOCS) as (keyof HostFacts)[]) {
			const value = facts[name];
			registry.registerField(
				{
					name,
					type: typeOf(Array.isArray(value) ? "" : value),
					eventType: FILTER_EVENT,
					doc: FIELD_DOCS[name],
					...(Array.isArray(value) ? { array: true } : {}),
					get: (e: Event) => (e as FilterEvent).facts[name],
				},
				ORIGIN,
			);
		}
		this.#context = {
			registry,
			macros: new MacroStore(),
			variables: new VariableStore(),
			constants: Constants.forOs(facts.os),
		};
		this.#event = { type: FILTER_EVENT, timestamp: 0, flags: 0, process: {}, facts };
	}

	#compile(expression: string): CompiledRule | SeclError {
		let c = this.#compiled.get(expression);
		if (!c) {
			try {
				c = compile(expression, this.#context);
			} catch (e) {
				if (!(e instanceof SeclError)) throw e;
				c = e;
			}
			this.#compiled.set(expression, c);
		}
		return c;
	}

	/** Whether any of `filters` holds (no filters: always). `locate[i]` places errors in the file. */
	check(filters: readonly string[] | undefined, locate?: readonly ExpressionLocator[]): FilterVerdict {
		if (!filters || filters.length === 0) return { kind: "match" };
		let matched = false;
		for (const [i, expression] of filters.entries()) {
			const c = this.#compile(expression);
			if (c instanceof SeclError) {
				const d = c.diagnostic;
				const where = locate?.[i] ? `${formatLocation(locate[i]!(d.offset))}: ` : "";
				return { kind: "invalid", message: `${where}filters[${i}]: ${d.message} [${d.code}]` };
			}
			if (!matched && c.evaluate(this.#event)) matched = true;
		}
		if (matched) return { kind: "match" };
		const list = filters.length === 1 ? filters[0] : filters.map((f) => `(${f})`).join(" || ");
		return {
			kind: "no_match",
			message: `excluded by filter${filters.length === 1 ? "" : "s"}: ${list} (this host: ${this.describe()})`,
		};
	}

	/** A short description of the host for messages. */
	describe(): string {
		const f = this.facts;
		if (f.os === "windows") return "os windows";
		return `os linux${f["os.id"] ? `, ${f["os.id"]} ${f["os.version_id"]}`.trimEnd() : ""}, kernel ${f["kernel.version.major"]}.${f["kernel.version.minor"]}.${f["kernel.version.patch"]}`;
	}
}
