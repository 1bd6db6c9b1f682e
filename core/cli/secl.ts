/**
 * @module `vigil secl eval`: evaluate one SECL expression against one event, to try a rule out
 * or see why it does (not) match.
 *
 *   vigil secl eval 'open.file.path == "/etc/shadow"' --event-file event.json [--json] [--windows-model]
 *
 * The event file is `{"type":"open","timestamp":…,"values":{"open.file.path":"/etc/shadow",…}}`
 * (Datadog's `policy eval` format); `timestamp` defaults to now, which is what durations
 * (`container.created_at < 1s`) compare against.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { parseDocument } from "yaml";
import { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import { eventFromValues, ValuesError } from "../model/values.ts";
import { type CompiledRule, compile, MacroStore, SeclError, VariableStore } from "../secl/index.ts";
import { type Command, type CommandIO, UsageError } from "./command.ts";

const HELP = `Usage: vigil secl eval EXPRESSION --event-file FILE [--json] [--windows-model]

Evaluate a SECL expression against one event and print whether it matched and the value of
every field it read.

  --event-file FILE   the event: {"type":"open","timestamp":<ns or ISO-8601>,"values":{"<field>":<value>}}
                      (timestamp defaults to now; durations compare against it)
  --json              print a JSON object: {matched, expression, eventType, event, values} or {error}
  --windows-model     check against the Windows field model instead of Linux

Exit codes: 0 the event matches; 1 it does not; 2 the expression does not parse or type-check
(printed with its line:col and a caret under the problem), or the event file is invalid.`;

const EventFile = v.object({
	type: v.string(),
	timestamp: v.optional(v.union([v.number(), v.string()])),
	values: v.optional(v.record(v.string(), v.unknown())),
});

class InputError extends Error {}

/** Parse the event file; errors name the file and, for JSON syntax, the line and column. */
const readEvent = (path: string, registry: FieldRegistry): Event => {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch (e) {
		throw new InputError(`${path}: cannot read: ${(e as Error).message}`);
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (e) {
		const doc = parseDocument(text);
		const pos = doc.errors[0]?.linePos?.[0];
		throw new InputError(
			`${path}${pos ? `:${pos.line}:${pos.col}` : ""}: invalid JSON: ${(e as Error).message}`,
		);
	}
	const parsed = v.safeParse(EventFile, data);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const at = v.getDotPath(issue) ?? "";
		throw new InputError(`${path}: ${at ? `${at}: ` : ""}${issue.message}`);
	}
	try {
		return eventFromValues(registry, parsed.output, Date.now() * 1e6);
	} catch (e) {
		if (e instanceof ValuesError) throw new InputError(`${path}: ${e.message}`);
		throw e;
	}
};

const show = (value: unknown): string => JSON.stringify(value) ?? "undefined";

const evalCommand: Command = {
	path: ["secl", "eval"],
	summary: "Evaluate a SECL expression against one event",
	help: HELP,
	async run(args: readonly string[], io: CommandIO): Promise<number> {
		let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
		try {
			parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true });
		} catch (e) {
			throw new UsageError((e as Error).message);
		}
		const { values, positionals } = parsed;
		if (positionals.length !== 1) throw new UsageError("expected exactly one EXPRESSION (quote it)");
		if (!values["event-file"]) throw new UsageError("--event-file is required");
		const expression = positionals[0] as string;
		const json = values.json === true;
		const registry = values["windows-model"] ? FieldRegistry.windows() : FieldRegistry.linux();
		const ctx = { registry, macros: new MacroStore(), variables: new VariableStore() };
		const fail = (error: Record<string, unknown>, text: string): number => {
			if (json) io.out(JSON.stringify({ expression, error }, null, 2));
			else io.err(text);
			return 2;
		};

		let rule: CompiledRule;
		try {
			rule = compile(expression, ctx);
		} catch (e) {
			if (!(e instanceof SeclError)) throw e;
			const d = e.diagnostic;
			return fail({ ...d }, `vigil secl eval: ${d.line}:${d.col}: ${d.message} [${d.code}]\n${d.excerpt}`);
		}
		const file = resolve(io.cwd, values["event-file"]);
		let event: Event;
		try {
			event = readEvent(file, registry);
		} catch (e) {
			if (!(e instanceof InputError)) throw e;
			return fail({ code: "invalid_event", message: e.message }, `vigil secl eval: ${e.message}`);
		}

		const sameType = event.type === rule.eventType;
		const matched = sameType && rule.evaluate(event);
		const read: Record<string, unknown> = {};
		for (const name of rule.fields) {
			const field = registry.field(name);
			if (field && registry.availableOn(field, event.type)) read[name] = field.get(event);
		}
		if (json) {
			io.out(
				JSON.stringify(
					{
						matched,
						expression,
						eventType: rule.eventType,
						event: { type: event.type, timestamp: event.timestamp },
						values: read,
					},
					null,
					2,
				),
			);
		} else {
			const lines = [matched ? "match" : "no match"];
			if (!sameType)
				lines.push(`the expression applies to ${rule.eventType} events, this is a ${event.type} event`);
			lines.push("values read:");
			for (const [name, value] of Object.entries(read)) lines.push(`  ${name} = ${show(value)}`);
			io.out(lines.join("\n"));
		}
		return matched ? 0 : 1;
	},
};

const OPTIONS = {
	"event-file": { type: "string" },
	json: { type: "boolean" },
	"windows-model": { type: "boolean" },
} as const;

export const seclCommands: readonly Command[] = [evalCommand];
