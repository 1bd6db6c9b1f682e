/**
 * @module Services shared between plugins, keyed by namespaced strings
 * (`vigil/process-resolver/cache`). A key is provided once; providing it twice is a bug in the
 * manifest (two plugins claiming one role) and is reported with both names.
 */
import type { Services } from "./sdk.ts";

export class ServiceRegistry {
	readonly #values = new Map<string, { value: unknown; by: string }>();

	/** The view one plugin gets: `provide` records which plugin provided what. */
	for(plugin: string): Services {
		return {
			provide: <T>(key: string, value: T) => {
				const existing = this.#values.get(key);
				if (existing && existing.by !== plugin) {
					throw new Error(`service "${key}" is provided by both ${existing.by} and ${plugin}`);
				}
				this.#values.set(key, { value, by: plugin });
			},
			get: <T>(key: string) => this.#values.get(key)?.value as T | undefined,
		};
	}
}
