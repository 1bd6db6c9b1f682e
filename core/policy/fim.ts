/**
 * @module File integrity monitoring rules: a rule over `fim.write.file.*` stands for "this file
 * was written" and expands, as in Datadog, into one rule per event type that can change a file:
 * `open` (with a write flag), `chmod`, `chown`, `link`, `rename` (source or destination),
 * `unlink` and `utimes`, named `__fim_expanded_<event>_<group>_<id>`.
 */

const FIM_PREFIX = "fim.write.file.";
const WRITE_FLAGS = "open.flags & (O_CREAT|O_TRUNC|O_APPEND|O_RDWR|O_WRONLY) > 0";
export const FIM_EVENT_TYPES = ["open", "chmod", "chown", "link", "rename", "unlink", "utimes"] as const;

/** One expanded rule; `original(offset)` maps an offset of `expression` back to the written one. */
export interface FimExpansion {
	readonly id: string;
	readonly eventType: (typeof FIM_EVENT_TYPES)[number];
	/** The group alerts are reported under: the rule's `group_id`, or its id. */
	readonly groupId: string;
	readonly expression: string;
	readonly original: (offset: number) => number;
}

export const usesFim = (expression: string): boolean => expression.includes(FIM_PREFIX);

/** Builds a string from pieces, remembering which pieces are copies of the original text. */
class Builder {
	text = "";
	readonly #copies: { at: number; from: number; length: number }[] = [];

	copy(original: string, from: number, to: number): void {
		this.#copies.push({ at: this.text.length, from, length: to - from });
		this.text += original.slice(from, to);
	}

	add(text: string): void {
		this.text += text;
	}

	/** The original offset of `offset`, or the start of the nearest copied text before it. */
	original(offset: number): number {
		let best = 0;
		for (const c of this.#copies) {
			if (offset >= c.at && offset < c.at + c.length) return c.from + (offset - c.at);
			if (c.at <= offset) best = c.from + c.length;
		}
		return best;
	}
}

const substitute = (b: Builder, expression: string, prefix: string): void => {
	let at = 0;
	for (let i = expression.indexOf(FIM_PREFIX); i >= 0; i = expression.indexOf(FIM_PREFIX, at)) {
		b.copy(expression, at, i);
		b.add(prefix);
		at = i + FIM_PREFIX.length;
	}
	b.copy(expression, at, expression.length);
};

/** The rules `id` expands to, or undefined when its expression does not use `fim.write.file.*`. */
export const expandFim = (
	id: string,
	groupId: string | undefined,
	expression: string,
): FimExpansion[] | undefined => {
	if (!usesFim(expression)) return undefined;
	const group = groupId ?? id;
	return FIM_EVENT_TYPES.map((eventType) => {
		const b = new Builder();
		if (eventType === "open") {
			b.add("(");
			substitute(b, expression, "open.file.");
			b.add(`) && ${WRITE_FLAGS}`);
		} else if (eventType === "rename") {
			// a file is written by a rename both where it leaves and where it lands
			b.add("(");
			substitute(b, expression, "rename.file.");
			b.add(") || (");
			substitute(b, expression, "rename.file.destination.");
			b.add(")");
		} else {
			substitute(b, expression, `${eventType}.file.`);
		}
		return {
			id: `__fim_expanded_${eventType}_${group}_${id}`,
			eventType,
			groupId: group,
			expression: b.text,
			original: (offset: number) => b.original(offset),
		};
	});
};
