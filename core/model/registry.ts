/**
 * @module The field registry: every SECL field and event type the agent knows, with accessors.
 *
 * Built from the generated catalogue (Linux or Windows model) and extended at run time by
 * plugins (`fields` / `eventTypes` in their definition). The rule engine type-checks against it,
 * the replay probe writes `values` captures through it, the serializer and `vigil fields` read
 * it. A field name may belong to several event types (`network.destination.ip` is on `dns` and
 * `imds`); `*` means common to all.
 *
 * When to use: `FieldRegistry.linux()` for the agent on Linux, `FieldRegistry.windows()` for
 * policy checks with `--windows-model`.
 */
import type { EventTypeDefinition, FieldDefinition, FieldRegistryView } from "../sdk.ts";
import { LINUX_EVENT_TYPES, linuxFields, WINDOWS_EVENT_TYPES, windowsFields } from "./fields.generated.ts";

export interface RegisteredField extends FieldDefinition {
	/** Every event type the field is available on (`*` = all). */
	readonly eventTypes: readonly string[];
	/** Plugin that registered it; absent for the built-in model. */
	readonly origin?: string;
}

export interface RegisteredEventType extends EventTypeDefinition {
	readonly internal?: boolean;
	readonly since?: string;
	readonly origin?: string;
}

export class RegistryError extends Error {
	override readonly name = "RegistryError";
}

const NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/;

export class FieldRegistry implements FieldRegistryView {
	readonly #fields = new Map<string, RegisteredField>();
	readonly #types = new Map<string, RegisteredEventType>();
	readonly #aliases = new Map<string, string>();

	constructor(readonly os: "linux" | "windows") {}

	static linux(): FieldRegistry {
		const r = new FieldRegistry("linux");
		for (const t of LINUX_EVENT_TYPES) r.#types.set(t.name, { ...t, os: ["linux"] });
		for (const f of linuxFields()) r.#add(f);
		return r;
	}

	static windows(): FieldRegistry {
		const r = new FieldRegistry("windows");
		for (const t of WINDOWS_EVENT_TYPES) r.#types.set(t.name, { ...t, os: ["windows"] });
		for (const f of windowsFields()) r.#add(f);
		return r;
	}

	static forOs(os: "linux" | "windows"): FieldRegistry {
		return os === "windows" ? FieldRegistry.windows() : FieldRegistry.linux();
	}

	#add(f: FieldDefinition, origin?: string): void {
		const existing = this.#fields.get(f.name);
		if (existing) {
			if (existing.eventTypes.includes(f.eventType)) return;
			this.#fields.set(f.name, { ...existing, eventTypes: [...existing.eventTypes, f.eventType] });
			return;
		}
		this.#fields.set(f.name, { ...f, eventTypes: [f.eventType], ...(origin ? { origin } : {}) });
	}

	/** Add a plugin's event type. Re-registering the same name from the same origin is a no-op. */
	registerEventType(t: EventTypeDefinition, origin: string): void {
		if (!NAME.test(t.name) || t.name.includes(".")) {
			throw new RegistryError(
				`${origin}: event type "${t.name}" is not a valid name (lowercase letters, digits, _)`,
			);
		}
		const existing = this.#types.get(t.name);
		if (existing && existing.origin !== origin) {
			throw new RegistryError(
				`${origin}: event type "${t.name}" is already defined${existing.origin ? ` by ${existing.origin}` : " by the model"}`,
			);
		}
		this.#types.set(t.name, { ...t, origin });
	}

	/** Add a plugin's field; its event type must exist (or be `*`). */
	registerField(f: FieldDefinition, origin: string): void {
		if (!NAME.test(f.name))
			throw new RegistryError(`${origin}: field "${f.name}" is not a valid dotted name`);
		if (!["string", "int", "bool", "ip"].includes(f.type)) {
			throw new RegistryError(`${origin}: field "${f.name}" has unknown type "${String(f.type)}"`);
		}
		if (typeof f.get !== "function")
			throw new RegistryError(`${origin}: field "${f.name}" has no get accessor`);
		if (f.eventType !== "*" && !this.#types.has(f.eventType)) {
			throw new RegistryError(`${origin}: field "${f.name}" names unknown event type "${f.eventType}"`);
		}
		const existing = this.#fields.get(f.name);
		if (existing && existing.origin !== origin) {
			throw new RegistryError(
				`${origin}: field "${f.name}" is already defined${existing.origin ? ` by ${existing.origin}` : " by the model"}`,
			);
		}
		this.#add(f, origin);
	}

	/** A legacy name (`open.filename`) that rules may still use for a current field. */
	registerAlias(legacy: string, current: string): void {
		if (!this.#fields.has(current)) throw new RegistryError(`alias "${legacy}": no field "${current}"`);
		this.#aliases.set(legacy, current);
	}

	/** The field named `name` (following legacy aliases). */
	field(name: string): RegisteredField | undefined {
		return this.#fields.get(name) ?? this.#fields.get(this.#aliases.get(name) ?? "");
	}

	fields(): IterableIterator<RegisteredField> {
		return this.#fields.values();
	}

	eventType(name: string): RegisteredEventType | undefined {
		return this.#types.get(name);
	}

	eventTypes(): IterableIterator<RegisteredEventType> {
		return this.#types.values();
	}

	/** Whether `field` can be read on events of `eventType`. */
	availableOn(field: RegisteredField, eventType: string): boolean {
		return field.eventTypes.includes("*") || field.eventTypes.includes(eventType);
	}
}
