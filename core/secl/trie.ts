/**
 * @module A radix trie of texts compiled to code: the rule set's index (`ruleset.ts`) looks
 * values up in them (exact values, prefixes, suffixes, basenames, env names inside their
 * entries), each walk generated as nested `switch`es.
 */

/**
 * A radix trie of prefixes (`/etc/ssh/`, `python`) and whole values or, read from the end, of
 * suffixes (`.c3pool.com`): edges labelled with text, entries where a text ends (those of a
 * prefix, and those of a whole value, found only where the value ends too). A value walks down as
 * far as it matches, collecting the entries it passes, so the cost is a few comparisons per
 * branching point on its way, however many texts there are (domain suffixes mostly end in
 * `.com`: grouping them by their last characters would compare each). A trie of suffixes holds
 * them reversed. The walk is generated code ({@link TextTrie.source}).
 */
export class TextTrie {
	readonly #root = newNode("");
	#size = 0;

	get size(): number {
		return this.#size;
	}

	/** The entry list of a prefix (added when new). */
	addPrefix(text: string): number[] {
		return this.#nodeOf(text).entries;
	}

	/** The entry list of a whole value (added when new). */
	addExact(text: string): number[] {
		return this.#nodeOf(text).whole;
	}

	/** The entry list of a suffix (added when new), kept as a prefix of the reversed text. */
	addSuffix(text: string): number[] {
		return this.addPrefix(reversed(text));
	}

	/** The node where `text` ends, the edges on its way split or added as needed. */
	#nodeOf(text: string): TrieNode {
		this.#size++;
		let node = this.#root;
		let pos = 0;
		while (pos < text.length) {
			const c = text.charCodeAt(pos);
			const kid = kidOf(node, c);
			if (kid === undefined) {
				const leaf = newNode(text.slice(pos));
				setKid(node, c, leaf);
				return leaf;
			}
			// the common part of the edge and the rest of the text
			const label = kid.label;
			let k = 0;
			while (k < label.length && pos + k < text.length && label.charCodeAt(k) === text.charCodeAt(pos + k))
				k++;
			if (k < label.length) {
				// split the edge at k
				const head = newNode(label.slice(0, k));
				const tail: TrieNode = { ...kid, label: label.slice(k) };
				setKid(head, tail.label.charCodeAt(0), tail);
				setKid(node, c, head);
				node = head;
			} else node = kid;
			pos += k;
		}
		return node;
	}

	/**
	 * JavaScript functions that walk a text `v[0, end)` down the trie (back from `end` for a
	 * trie of suffixes) and run `found(entries)` for the entries of each text found: the trie
	 * unrolled into nested `switch`es on the character after each node, each edge's label
	 * compared in place at a position known when the code is generated, and `miss` where the
	 * walk ends. The engine compiles the switches to jumps, so a value costs a few comparisons
	 * per node on its way, with no node read from memory. The first function, `name`, starts the
	 * walk; large subtrees get functions of their own (`name_1`…), so that no function grows past
	 * what the engine's optimizing compilers take on. Each function takes `params`, which must
	 * name `v` and `end`.
	 */
	source(
		name: string,
		params: string,
		fromEnd: boolean,
		x: (value: unknown, prefix: string) => string,
		walk: {
			/** The statement for entries found (of a prefix, or of a whole value where it ends). */
			readonly found: (entries: readonly number[]) => string;
			/** The statement where the walk ends (`return;`). */
			readonly miss: string;
			/**
			 * A character that ends the text before `end` (`=` in an env entry `NAME=value`,
			 * looked up by its name): a whole value also ends where it is. The walk needs no end
			 * found first: an edge without it cannot go past it (an edge with it may, which finds
			 * an entry that cannot match, never misses one).
			 */
			readonly stop?: number;
		},
	): string {
		const at = (k: number) => (fromEnd ? `v.charCodeAt(end - ${k + 1})` : `v.charCodeAt(${k})`);
		/** The test that `label` minus its first character follows at `depth + 1`. */
		const rest = (label: string, depth: number): string[] => {
			if (label.length > LONG_LABEL) {
				const tail = JSON.stringify(label.slice(1));
				return [
					fromEnd
						? `${x(endsAt, "T")}(v, end - ${depth + 2}, ${tail})`
						: `${x(startsAt, "T")}(v, ${depth + 1}, ${tail})`,
				];
			}
			return Array.from(
				{ length: label.length - 1 },
				(_, k) => `${at(depth + k + 1)} === ${label.charCodeAt(k + 1)}`,
			);
		};
		const { found, miss, stop } = walk;
		const sizes = new Map<TrieNode, number>();
		const size = (node: TrieNode): number => {
			let n = sizes.get(node);
			if (n === undefined) {
				n = 1 + node.kids.reduce((sum, kid) => sum + size(kid), 0);
				sizes.set(node, n);
			}
			return n;
		};
		const functions: string[] = [];
		/** A function walking from `node` at `depth`; its name. */
		const unit = (node: TrieNode, depth: number): string => {
			const fn = functions.length === 0 ? name : `${name}_${functions.length}`;
			const index = functions.length;
			functions.push("");
			const lines = [`function ${fn}(${params}) {`];
			// nodes left for this function: a subtree larger than what is left gets its own
			let budget = FUNCTION_NODES;
			const emit = (node: TrieNode, depth: number, level: number): void => {
				const indent = "\t".repeat(Math.min(level, 12));
				budget--;
				if (node.entries.length > 0) lines.push(`${indent}${found(node.entries)}`);
				if (node.whole.length > 0)
					lines.push(
						`${indent}if (end === ${depth}${stop === undefined ? "" : ` || ${at(depth)} === ${stop}`}) { ${found(node.whole)} ${miss} }`,
					);
				if (node.kids.length === 0) return;
				lines.push(`${indent}switch (${at(depth)}) {`);
				node.kids.forEach((kid, i) => {
					const label = kid.label;
					lines.push(`${indent}\tcase ${node.firsts[i]}:`);
					lines.push(
						`${indent}\t\tif (${[`end >= ${depth + label.length}`, ...rest(label, depth)].join(" && ")}) {`,
					);
					if (size(kid) > budget && kid.kids.length > 0)
						lines.push(`${indent}\t\t\treturn ${unit(kid, depth + label.length)}(${params});`);
					else emit(kid, depth + label.length, level + 3);
					lines.push(`${indent}\t\t}`, `${indent}\t\t${miss}`);
				});
				lines.push(`${indent}}`);
			};
			emit(node, depth, 1);
			lines.push(`\t${miss}`, "}");
			functions[index] = lines.join("\n");
			return fn;
		};
		unit(this.#root, 0);
		return functions.join("\n");
	}
}

/** Nodes of the trie in one generated function, about (larger subtrees get functions of their own). */
const FUNCTION_NODES = 256;

/** Labels longer than this are compared by a loop rather than one test per character. */
const LONG_LABEL = 16;

/** Whether `s` is in `v` from `at` on. */
const startsAt = (v: string, at: number, s: string): boolean => {
	for (let k = 0; k < s.length; k++) if (v.charCodeAt(at + k) !== s.charCodeAt(k)) return false;
	return true;
};

/** Whether `s` is in `v` read backwards from `at` (`s[0]` at `at`, `s[1]` before it…). */
const endsAt = (v: string, at: number, s: string): boolean => {
	for (let k = 0; k < s.length; k++) if (v.charCodeAt(at - k) !== s.charCodeAt(k)) return false;
	return true;
};

interface TrieNode {
	readonly label: string;
	/** Entries of the prefix ending here. */
	readonly entries: number[];
	/** Entries of the value ending here: the whole value, not a prefix of it. */
	readonly whole: number[];
	/** Children, and the first code of each one's label (the `case` each is reached by in the generated walk). */
	readonly firsts: number[];
	readonly kids: TrieNode[];
}

const newNode = (label: string): TrieNode => ({ label, entries: [], whole: [], firsts: [], kids: [] });

const reversed = (text: string): string => text.split("").reverse().join("");

const kidOf = (node: TrieNode, c: number): TrieNode | undefined => {
	const firsts = node.firsts;
	for (let i = 0; i < firsts.length; i++) if (firsts[i] === c) return node.kids[i];
	return undefined;
};

const setKid = (node: TrieNode, c: number, kid: TrieNode): void => {
	const i = node.firsts.indexOf(c);
	if (i >= 0) node.kids[i] = kid;
	else {
		node.firsts.push(c);
		node.kids.push(kid);
	}
};
