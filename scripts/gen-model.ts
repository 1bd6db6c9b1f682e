/**
 * Generates the event model from Datadog's field catalogue.
 *
 *   bun scripts/gen-model.ts            write core/model/fields.generated.ts and docs/fields.md
 *   bun scripts/gen-model.ts --check    exit 1 if either is stale
 *
 * Inputs: `../shared/reference/datadog/secl_{linux,windows}.json` (names, types, docs, constant
 * families) and `core/model/extensions.ts` (fields newer than the catalogue). Every field gets a
 * typed accessor over the literal event layout described in `core/model/types.ts`; a few leaves
 * are derived (`args`, `file.name`, `rights`, `user`…) by helpers in `core/model/derive.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
	type CatalogueEventType,
	type CatalogueField,
	LINUX_EXTRA_EVENT_TYPES,
	LINUX_EXTRA_FIELDS,
	WINDOWS_EXTRA_FIELDS,
} from "../core/model/extensions.ts";

const root = resolve(import.meta.dir, "..");
const catalogueDir = resolve(root, "../shared/reference/datadog");

interface PropertyDoc {
	name: string;
	link: string;
	type: string;
	definition: string;
	prefixes: string[];
	constants: string;
}
interface Catalogue {
	event_types: CatalogueEventType[];
	properties_doc: PropertyDoc[];
	constants: { name: string; description: string; all: { name: string }[] }[];
}

const load = (file: string): Catalogue => JSON.parse(readFileSync(join(catalogueDir, file), "utf8"));

/** Iterators: arrays of structured elements, usable with registers (`[A]`). */
const ITERATORS = [
	"process.ancestors",
	"ptrace.tracee.ancestors",
	"signal.target.ancestors",
	"network_flow_monitor.flows",
];
/** Leaves whose value is a list (any/none semantics). */
const ARRAY_LEAVES = new Set([
	"argv",
	"args_flags",
	"args_options",
	"envp",
	"envs",
	"hashes",
	"k8s_groups",
	"helpers",
]);
const ARRAY_FIELDS = new Set(["container.tags", "event.rule.tags"]);
/** Windows event types reachable under a shorter prefix (`create.registry.*` for create_key). */
const CATEGORY: Record<string, string> = {};
for (const t of ["exec", "signal", "exit", "fork", "syscalls", "prctl"]) CATEGORY[t] = "Process Activity";
for (const t of [
	"bpf",
	"selinux",
	"mmap",
	"mprotect",
	"ptrace",
	"unload_module",
	"accept",
	"bind",
	"connect",
	"sysctl",
	"setsockopt",
	"cgroup_write",
])
	CATEGORY[t] = "Kernel Activity";
for (const t of ["imds", "packet", "dns", "dns_response", "network_flow_monitor"])
	CATEGORY[t] = "Network Activity";

interface Families {
	process: Set<string>;
	file: Set<string>;
	ipport: Set<string>;
}

const familiesOf = (cat: Catalogue): Families => {
	const of = (leaf: string, linkPart: string) =>
		new Set(
			cat.properties_doc
				.filter((p) => p.name === leaf && p.link.includes(linkPart))
				.flatMap((p) => p.prefixes),
		);
	return {
		process: of("*.pid", "pidcontext"),
		file: of("*.path", "fileevent"),
		ipport: of("*.ip", "ipport"),
	};
};

interface GenField {
	name: string;
	type: "string" | "int" | "bool" | "ip";
	eventType: string;
	doc: string;
	constants?: string;
	array?: boolean;
	path?: boolean;
	caseInsensitive?: boolean;
	/** Expression reading the value from `e`, or from `x` for iterator elements. */
	get: string;
	/** For iterator fields: iterator name, path to the array, expression over element `x`. */
	iterator?: { name: string; items: string; elem: string };
	/** Storage path for `set`; absent for read-only derived fields. */
	setPath?: string[];
	iterSet?: { items: string[]; leaf: string[] };
}

const chain = (base: string, segs: readonly string[]) => base + segs.map((s) => `?.${s}`).join("");

const fieldType = (t: string): GenField["type"] => (t === "IP/CIDR" ? "ip" : (t as GenField["type"]));

/** Storage segments of a field: Windows aliases (`create.registry.*` of create_key) map to the type's payload. */
const storageSegments = (name: string, eventType: string, os: "linux" | "windows"): string[] => {
	const segs = name.split(".");
	const common = ["process", "container", "cgroup", "event", "network"];
	if (eventType !== "*" && segs[0] !== eventType && !common.includes(segs[0]!) && os === "windows") {
		return [eventType, ...segs.slice(1)];
	}
	return segs;
};

/**
 * How a leaf under a family prefix reads. `o` is the expression of the family object
 * (`e.process?.parent`), `s` its storage segments.
 */
const leafExpr = (
	fam: keyof Families | undefined,
	o: string,
	leaf: string,
	type: GenField["type"],
): string | undefined => {
	if (fam === "process") {
		switch (leaf) {
			case "args":
				return `D.args(${o})`;
			case "args_flags":
				return `D.argsFlags(${o})`;
			case "args_options":
				return `D.argsOptions(${o})`;
			case "envs":
				return `D.envs(${o})`;
			case "user":
				return `(${o}?.user ?? D.userName(${o}?.uid))`;
			case "euser":
				return `(${o}?.euser ?? D.userName(${o}?.euid))`;
			case "fsuser":
				return `(${o}?.fsuser ?? D.userName(${o}?.fsuid))`;
			case "group":
				return `(${o}?.group ?? D.groupName(${o}?.gid))`;
			case "egroup":
				return `(${o}?.egroup ?? D.groupName(${o}?.egid))`;
			case "fsgroup":
				return `(${o}?.fsgroup ?? D.groupName(${o}?.fsgid))`;
		}
	}
	if (fam === "file") {
		switch (leaf) {
			case "name":
				return `D.fileName(${o})`;
			case "extension":
				return `D.fileExtension(${o})`;
			case "rights":
				return `(${o}?.rights as number | undefined ?? D.rights(${o}?.mode))`;
			case "user":
				return `(${o}?.user ?? D.userName(${o}?.uid))`;
			case "group":
				return `(${o}?.group ?? D.groupName(${o}?.gid))`;
		}
	}
	if (fam === "ipport" && leaf === "is_public")
		return `(${o}?.is_public as boolean | undefined ?? D.isPublicIp(${o}?.ip as string | undefined))`;
	if (leaf === "rights" && type === "int") {
		// chmod.file.destination.rights, mkdir.file.destination.rights: from the sibling mode
		return `(${o}?.rights as number | undefined ?? D.rights(${o}?.mode as number | undefined))`;
	}
	return undefined;
};

const defaultFor = (f: { type: GenField["type"]; array?: boolean }) =>
	f.array ? "D.EMPTY" : f.type === "string" || f.type === "ip" ? '""' : f.type === "int" ? "0" : "false";

/** Longest family prefix of `name` (exact segments), with the leaf path after it. */
const splitFamily = (
	name: string,
	fams: Families,
): { fam?: keyof Families; prefix: string; rest: string } => {
	const segs = name.split(".");
	for (let i = segs.length - 1; i > 0; i--) {
		const prefix = segs.slice(0, i).join(".");
		for (const fam of ["file", "process", "ipport"] as const) {
			if (fams[fam].has(prefix)) return { fam, prefix, rest: segs.slice(i).join(".") };
		}
	}
	return { prefix: "", rest: name };
};

const genField = (
	p: CatalogueField & { type: string },
	eventType: string,
	os: "linux" | "windows",
	fams: Families,
	known: Map<string, GenField>,
): GenField => {
	const name = p.name;
	const type = fieldType(p.type);
	const leaf = name.slice(name.lastIndexOf(".") + 1);
	const base: GenField = {
		name,
		type,
		eventType,
		doc: p.definition,
		get: "",
		...(p.constants ? { constants: p.constants } : {}),
	};
	const caseInsensitive =
		name === "dns.question.name" ||
		(os === "windows" &&
			(/\.file\.name$/.test(name) || /registry\.key_path$/.test(name) || /\.cmdline$/.test(name)));
	if (caseInsensitive) base.caseInsensitive = true;
	if (/(^|\.)file(\.destination)?\.path$/.test(name) || /^mount\.(mountpoint|root|source)\.path$/.test(name))
		base.path = true;
	const isArray = ARRAY_FIELDS.has(name) || (ARRAY_LEAVES.has(leaf) && !name.endsWith(".length"));

	// `<iterator>.length`
	if (leaf === "length" && ITERATORS.includes(name.slice(0, -".length".length))) {
		const it = name.slice(0, -".length".length);
		return { ...base, get: `(${chain("e", storageSegments(it, eventType, os))}?.length ?? 0)` };
	}
	// `<string field>.length`
	if (leaf === "length") {
		const target = known.get(name.slice(0, -".length".length));
		if (target && target.type === "string") {
			if (target.iterator) {
				return {
					...base,
					array: true,
					iterator: {
						name: target.iterator.name,
						items: target.iterator.items,
						elem: `${target.iterator.elem}.length`,
					},
					get: `D.arr(${target.iterator.items}).map((x: any) => ${target.iterator.elem}.length)`,
				};
			}
			return { ...base, get: `${target.get}.length` };
		}
	}

	const iterator = ITERATORS.find((it) => name.startsWith(`${it}.`));
	if (iterator) {
		const itSegs = storageSegments(iterator, eventType, os);
		const rest = name.slice(iterator.length + 1).split(".");
		const items = chain("e", itSegs);
		// the element of a process iterator is itself a process-family object
		const elemFams: Families = {
			process: new Set([""]),
			file: new Set(
				[...fams.file].filter((f) => f.startsWith(`${iterator}.`)).map((f) => f.slice(iterator.length + 1)),
			),
			ipport: new Set(
				[...fams.ipport].filter((f) => f.startsWith(`${iterator}.`)).map((f) => f.slice(iterator.length + 1)),
			),
		};
		const isProc = fams.process.has(iterator);
		let elem: string;
		const fileSplit = splitFamily(rest.join("."), elemFams);
		if (fileSplit.fam && fileSplit.prefix) {
			const o = chain("x", fileSplit.prefix.split("."));
			elem = leafExpr(fileSplit.fam, o, fileSplit.rest, type) ?? chain(o, fileSplit.rest.split("."));
		} else if (isProc && rest.length === 1) {
			elem = leafExpr("process", "x", rest[0]!, type) ?? chain("x", rest);
		} else {
			elem = chain("x", rest);
		}
		const elemFull = `(${elem} ?? ${defaultFor({ type, array: isArray })})`;
		return {
			...base,
			array: true,
			iterator: { name: iterator, items, elem: elemFull },
			get: isArray
				? `D.arr(${items}).flatMap((x: any) => ${elemFull})`
				: `D.arr(${items}).map((x: any) => ${elemFull})`,
			iterSet: { items: itSegs, leaf: rest },
		};
	}

	const segs = storageSegments(name, eventType, os);
	const split = splitFamily(name, fams);
	let expr: string | undefined;
	if (split.fam) {
		const famSegs = storageSegments(split.prefix, eventType, os);
		expr = leafExpr(split.fam, chain("e", famSegs), split.rest, type);
	} else if (leaf === "rights") {
		expr = leafExpr(undefined, chain("e", segs.slice(0, -1)), leaf, type);
	}
	if (name === "event.timestamp") return { ...base, get: "e.timestamp" };
	if (name === "event.async") return { ...base, get: "(e.flags & 1) !== 0" };
	if (name === "event.rule.tags") expr = "(e.cache?.ruleTags as string[] | undefined)";
	const get = `(${expr ?? chain("e", segs)} ?? ${defaultFor({ type, array: isArray })})`;
	return { ...base, ...(isArray ? { array: true } : {}), get, setPath: segs };
};

interface Model {
	eventTypes: { name: string; category: string; doc: string; since: string; internal: boolean }[];
	fields: GenField[];
	constantFamilies: string[];
}

const buildModel = (
	cat: Catalogue,
	os: "linux" | "windows",
	extraFields: Record<string, CatalogueField[]>,
	extraTypes: CatalogueEventType[],
): Model => {
	const fams = familiesOf(cat);
	const docs = new Map(cat.properties_doc.map((d) => [d.link, d]));
	const withDoc = (p: CatalogueField & { property_doc_link?: string }): CatalogueField => {
		const d = p.property_doc_link ? docs.get(p.property_doc_link) : undefined;
		if (!d) {
			if (!p.type) throw new Error(`${os} field ${p.name}: no type in the catalogue`);
			return p;
		}
		return {
			name: p.name,
			type: d.type as CatalogueField["type"],
			definition: p.definition,
			...(d.constants ? { constants: d.constants } : {}),
		};
	};
	const types = [...cat.event_types, ...extraTypes];
	const fields: GenField[] = [];
	const known = new Map<string, GenField>();
	const eventTypes: Model["eventTypes"] = [];
	for (const t of types) {
		if (t.name !== "*") {
			eventTypes.push({
				name: t.name,
				category: os === "windows" ? "File Activity" : (CATEGORY[t.name] ?? "File Activity"),
				doc: t.definition,
				since: t.from_agent_version,
				internal: t.internal === true,
			});
		}
		const props = [
			...t.properties.map((p) => withDoc(p as CatalogueField & { property_doc_link?: string })),
			...(extraFields[t.name] ?? []),
		];
		// `.length` fields last: they read their base field
		props.sort((a, b) => Number(a.name.endsWith(".length")) - Number(b.name.endsWith(".length")));
		for (const p of props) {
			const f = genField(p, t.name, os, fams, known);
			known.set(f.name, f);
			fields.push(f);
		}
	}
	fields.sort((a, b) => a.name.localeCompare(b.name) || a.eventType.localeCompare(b.eventType));
	return { eventTypes, fields, constantFamilies: cat.constants.map((c) => c.name) };
};

const q = JSON.stringify;

const emitFields = (fnName: string, m: Model): string => {
	const lines = m.fields.map((f) => {
		const parts = [
			`name: ${q(f.name)}`,
			`type: ${q(f.type)}`,
			`eventType: ${q(f.eventType)}`,
			`doc: ${q(f.doc)}`,
		];
		if (f.constants) parts.push(`constants: ${q(f.constants)}`);
		if (f.array) parts.push("array: true");
		if (f.path) parts.push("path: true");
		if (f.caseInsensitive) parts.push("caseInsensitive: true");
		if (f.iterator) {
			parts.push(
				`iterator: { name: ${q(f.iterator.name)}, items: (e: E) => D.arr(${f.iterator.items} as unknown[] | undefined), get: (x: any) => ${f.iterator.elem} }`,
			);
		}
		parts.push(`get: (e: E) => ${f.get}`);
		if (f.setPath) parts.push(`set: (e: E, v: unknown) => D.setPath(e, ${q(f.setPath)}, v)`);
		else if (f.iterSet)
			parts.push(
				`set: (e: E, v: unknown) => D.setIterated(e, ${q(f.iterSet.items)}, ${q(f.iterSet.leaf)}, v)`,
			);
		return `\t\t{ ${parts.join(", ")} },`;
	});
	return `export const ${fnName} = (): FieldDefinition[] => [\n${lines.join("\n")}\n];\n`;
};

const emitTypes = (constName: string, m: Model): string =>
	`export const ${constName}: readonly ModelEventType[] = [\n${m.eventTypes
		.map(
			(t) =>
				`\t{ name: ${q(t.name)}, category: ${q(t.category)}, doc: ${q(t.doc)}, since: ${q(t.since)}${t.internal ? ", internal: true" : ""} },`,
		)
		.join("\n")}\n];\n`;

const linux = buildModel(load("secl_linux.json"), "linux", LINUX_EXTRA_FIELDS, LINUX_EXTRA_EVENT_TYPES);
const windows = buildModel(load("secl_windows.json"), "windows", WINDOWS_EXTRA_FIELDS, []);

const ts = `// Generated by scripts/gen-model.ts from Datadog's secl_linux.json / secl_windows.json and
// core/model/extensions.ts. Do not edit: run \`bun scripts/gen-model.ts\`.
/* biome-ignore-all lint: generated */
// biome-ignore-all format: generated
import type { FieldDefinition } from "../sdk.ts";
import * as D from "./derive.ts";

// biome-ignore lint/suspicious/noExplicitAny: accessors read the literal event layout
type E = any;

export interface ModelEventType {
	name: string;
	category: string;
	doc: string;
	/** First Datadog agent version with this event type. */
	since: string;
	/** Carried between plugins, not a rule trigger in Datadog. */
	internal?: boolean;
}

${emitTypes("LINUX_EVENT_TYPES", linux)}
${emitTypes("WINDOWS_EVENT_TYPES", windows)}
export const LINUX_CONSTANT_FAMILIES: readonly string[] = ${q(linux.constantFamilies)};

${emitFields("linuxFields", linux)}
${emitFields("windowsFields", windows)}`;

const doc = (title: string, m: Model) => {
	const out = [`## ${title}`, ""];
	for (const t of [
		{ name: "*", category: "", doc: "Fields common to every event type", since: "", internal: false },
		...m.eventTypes,
	]) {
		const fs = m.fields.filter((f) => f.eventType === t.name);
		out.push(
			`### \`${t.name}\`${t.category ? ` (${t.category}${t.since ? `, since ${t.since}` : ""})` : ""}`,
			"",
			t.doc,
			"",
		);
		if (fs.length === 0) {
			out.push("_No fields of its own._", "");
			continue;
		}
		out.push("| Field | Type | Definition |", "|---|---|---|");
		for (const f of fs) {
			const flags = [f.array ? "array" : "", f.constants ? `constants: ${f.constants}` : ""]
				.filter(Boolean)
				.join("; ");
			out.push(
				`| \`${f.name}\` | ${f.type}${flags ? ` (${flags})` : ""} | ${f.doc.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`,
			);
		}
		out.push("");
	}
	return out.join("\n");
};
const md = `# SECL fields\n\nGenerated by \`scripts/gen-model.ts\` from Datadog's field catalogue and \`core/model/extensions.ts\`; do not edit.\nFields registered by plugins are listed by \`vigil fields\` at run time.\n\n${doc("Linux", linux)}\n${doc("Windows", windows)}`;

const outputs: [string, string][] = [
	[join(root, "core/model/fields.generated.ts"), ts],
	[join(root, "docs/fields.md"), md],
];
if (process.argv.includes("--check")) {
	const stale = outputs.filter(([file, content]) => {
		try {
			return readFileSync(file, "utf8") !== content;
		} catch {
			return true;
		}
	});
	for (const [file] of stale) console.error(`stale: ${file} (run bun scripts/gen-model.ts)`);
	process.exit(stale.length ? 1 : 0);
}
for (const [file, content] of outputs) writeFileSync(file, content);
console.log(
	`linux: ${linux.eventTypes.length} event types, ${linux.fields.length} fields; windows: ${windows.eventTypes.length} event types, ${windows.fields.length} fields`,
);
