/**
 * @module An example third-party plugin: a probe that reads a web server access log (the
 * "combined" format of nginx and Apache) and emits `http_request` events, with SECL fields of its
 * own, so rules can say `http_request.path =~ "/wp-admin/*" && http_request.status == 200`.
 *
 * It is written only against vigil's public SDK, imported for types alone, and has no
 * dependencies: it can live in any folder and be named in a manifest by path:
 *
 * ```yaml
 * plugins:
 *   - use: ./plugins/access-log/index.ts
 *     config: { file: /var/log/nginx/access.log }
 * ```
 */
import type { Emit, Event, FieldDefinition, ProbePlugin, StandardSchemaV1 } from "../../core/sdk.ts";

interface Config {
	/** Access log to read. */
	file: string;
	/** Keep reading lines appended after the end (like `tail -f`) until the agent stops. */
	follow: boolean;
}

/**
 * The config schema, as a hand-written Standard Schema (any Standard Schema library — valibot,
 * zod, arktype — works the same way).
 */
const config: StandardSchemaV1<unknown, Config> = {
	"~standard": {
		version: 1,
		vendor: "access-log",
		validate(value) {
			const issues: StandardSchemaV1.Issue[] = [];
			const v = (value ?? {}) as Record<string, unknown>;
			if (typeof v !== "object" || Array.isArray(v)) return { issues: [{ message: "expected an object" }] };
			if (typeof v.file !== "string" || v.file === "")
				issues.push({ message: "expected a file path", path: ["file"] });
			if (v.follow !== undefined && typeof v.follow !== "boolean")
				issues.push({ message: "expected true or false", path: ["follow"] });
			for (const k of Object.keys(v))
				if (k !== "file" && k !== "follow") issues.push({ message: "unknown key", path: [k] });
			if (issues.length > 0) return { issues };
			return { value: { file: v.file as string, follow: (v.follow as boolean | undefined) ?? false } };
		},
	},
};

interface HttpRequest {
	method: string;
	path: string;
	status: number;
	client_ip: string;
	user_agent: string;
	size: number;
}
const req = (e: Event) => (e.http_request ?? {}) as Partial<HttpRequest>;

const fields: FieldDefinition[] = [
	{
		name: "http_request.method",
		type: "string",
		eventType: "http_request",
		doc: "HTTP method",
		get: (e) => req(e).method ?? "",
	},
	{
		name: "http_request.path",
		type: "string",
		eventType: "http_request",
		doc: "Request path, without the query string",
		get: (e) => req(e).path ?? "",
	},
	{
		name: "http_request.status",
		type: "int",
		eventType: "http_request",
		doc: "Response status code",
		get: (e) => req(e).status ?? 0,
	},
	{
		name: "http_request.client_ip",
		type: "ip",
		eventType: "http_request",
		doc: "Client address",
		get: (e) => req(e).client_ip ?? "",
	},
	{
		name: "http_request.user_agent",
		type: "string",
		eventType: "http_request",
		doc: "User-Agent header",
		get: (e) => req(e).user_agent ?? "",
	},
	{
		name: "http_request.size",
		type: "int",
		eventType: "http_request",
		doc: "Response size in bytes",
		get: (e) => req(e).size ?? 0,
	},
];

const LINE = /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d{3}) (\d+|-)(?: "[^"]*" "([^"]*)")?/;
const MONTHS: Record<string, string> = {
	Jan: "01",
	Feb: "02",
	Mar: "03",
	Apr: "04",
	May: "05",
	Jun: "06",
	Jul: "07",
	Aug: "08",
	Sep: "09",
	Oct: "10",
	Nov: "11",
	Dec: "12",
};

/** `10/Oct/2026:13:55:36 -0700` → ns since the epoch. */
const parseTime = (t: string): number => {
	const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/.exec(t);
	if (!m) return Number.NaN;
	return Date.parse(`${m[3]}-${MONTHS[m[2]!]}-${m[1]}T${m[4]}${m[5]}:${m[6]}`) * 1e6;
};

/** One access-log line as an event, or undefined if it is not in the combined format. */
export const parseAccessLine = (line: string): Event | undefined => {
	const m = LINE.exec(line);
	if (!m) return undefined;
	const timestamp = parseTime(m[2]!);
	if (Number.isNaN(timestamp)) return undefined;
	const target = m[4]!;
	const q = target.indexOf("?");
	const request: HttpRequest = {
		client_ip: m[1]!,
		method: m[3]!,
		path: q < 0 ? target : target.slice(0, q),
		status: Number(m[5]),
		size: m[6] === "-" ? 0 : Number(m[6]),
		user_agent: m[7] ?? "",
	};
	return { type: "http_request", timestamp, flags: 0, process: {}, http_request: request };
};

const plugin: ProbePlugin<Config> = {
	kind: "probe",
	name: "access-log",
	description: "HTTP requests from a web server access log",
	config,
	eventTypes: [
		{
			name: "http_request",
			category: "Network Activity",
			doc: "A request served by a web server, from its access log",
		},
	],
	fields,
	produces: () => ["http_request"],
	setup(ctx, cfg) {
		const skipped = ctx.stats.counter("access_log.unparsed_lines");
		return {
			async run(emit: Emit, signal: AbortSignal) {
				let offset = 0;
				let pending = "";
				let lineNo = 0;
				while (!signal.aborted) {
					const file = Bun.file(cfg.file);
					const size = file.size;
					if (size > offset) {
						pending += await file.slice(offset, size).text();
						offset = size;
						const lines = pending.split("\n");
						pending = lines.pop() ?? "";
						const batch: Event[] = [];
						for (const line of lines) {
							lineNo++;
							const ev = parseAccessLine(line);
							if (ev) batch.push(ev);
							else if (line.trim() !== "") {
								skipped.inc();
								ctx.log.warn(`${cfg.file}:${lineNo}: not an access-log line, skipped`);
							}
						}
						if (batch.length > 0) {
							await emit.waitForRoom(batch.length);
							emit(batch);
						}
					}
					if (!cfg.follow) return;
					await new Promise((r) => setTimeout(r, 200));
				}
			},
		};
	},
};

export default plugin;
