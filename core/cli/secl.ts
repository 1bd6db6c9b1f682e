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
import { resolve } from "node:path";
import { FieldRegistry } from "../model/registry.ts";
import type { Event } from "../model/types.ts";
import { type CompiledRule, compile, MacroStore, SeclError, VariableStore } from "../secl/index.ts";
import { type Command, type CommandIO, parseFlags, UsageError } from "./command.ts";
import { EventFileError, readEventFile, valuesRead, valuesReadLines } from "./event-file.ts";

const HELP = `Usage: vigil secl eval EXPRESSION --event-file FILE [--json] [--windows-model]

Evaluate a SECL expression against one event and print whether it matched and the value of
every field it read.

  --event-file FILE   the event: {"type":"open","timestamp":<ns or ISO-8601>,"values":{"<field>":<value>}}
                      (timestamp defaults to now; durations compare against it)
  --json              print a JSON object: {matched, expression, eventType, event, values} or {error}
  --windows-model     check against the Windows field model instead of Linux

Exit codes: 0 the event matches; 1 it does not; 2 the expression does not parse or type-check
(printed with its line:col and a caret under the problem), or the event file is invalid.`;

const evalCommand: Command = {
	path: ["secl", "eval"],
	summary: "evaluate a SECL expression against one event",
	help: HELP,
	async run(args: readonly string[], io: CommandIO): Promise<number> {
		const { values, positionals } = parseFlags(args, OPTIONS);
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
			event = readEventFile(file, registry);
		} catch (e) {
			if (!(e instanceof EventFileError)) throw e;
			return fail({ code: "invalid_event", message: e.message }, `vigil secl eval: ${e.message}`);
		}

		const sameType = event.type === rule.eventType;
		const matched = sameType && rule.evaluate(event);
		const read = valuesRead(registry, rule.fields, event);
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
			lines.push(...valuesReadLines(read));
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
