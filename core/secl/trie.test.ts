import { describe, expect, test } from "bun:test";
import { randomWord, seededRandom } from "../../test/random.ts";
import { Externals } from "./codegen.ts";
import { TextTrie } from "./trie.ts";

/** The trie's walk as a function returning the texts found in `v`, in the order found. */
const compileWalk = (trie: TextTrie, texts: readonly string[], fromEnd: boolean) => {
	const externals = new Externals({});
	const source = trie.source(
		"walk",
		"v, end, out",
		fromEnd,
		(value, prefix) => externals.ext(value, prefix),
		{
			found: (entries) => `out.push(${entries.join(", ")});`,
			miss: "return;",
		},
	);
	const walk = externals.instantiate<(v: string, end: number, out: number[]) => void>(
		`${source}\nreturn walk;`,
	);
	return {
		source,
		find: (v: string) => {
			const out: number[] = [];
			walk(v, v.length, out);
			return out.map((i) => texts[i]).sort();
		},
	};
};

describe("tries compiled to code", () => {
	const r = seededRandom(5);
	const word = (min: number, max: number) => randomWord(r, "ab/", min, max);

	test("a large trie is split into functions of bounded size, and finds exactly the prefixes, suffixes and whole values", () => {
		const texts = [...new Set(Array.from({ length: 3000 }, () => word(1, 24)))];
		const prefixes = new TextTrie();
		const suffixes = new TextTrie();
		const wholes = new TextTrie();
		texts.forEach((t, i) => {
			prefixes.addPrefix(t).push(i);
			suffixes.addSuffix(t).push(i);
			wholes.addExact(t).push(i);
		});
		const byPrefix = compileWalk(prefixes, texts, false);
		const bySuffix = compileWalk(suffixes, texts, true);
		const byWhole = compileWalk(wholes, texts, false);
		// thousands of nodes: several functions, none holding the whole trie
		const functions = byPrefix.source.split("\nfunction ").length;
		expect(functions).toBeGreaterThan(5);
		expect(
			Math.max(...byPrefix.source.split("\nfunction ").map((f) => f.split("switch (").length)),
		).toBeLessThan(400);
		for (let k = 0; k < 300; k++) {
			const v = r() < 0.5 ? word(0, 30) : `${texts[Math.floor(r() * texts.length)]}${word(0, 4)}`;
			expect({ v, found: byPrefix.find(v) }).toEqual({
				v,
				found: texts.filter((t) => v.startsWith(t)).sort(),
			});
			expect({ v, found: bySuffix.find(v) }).toEqual({ v, found: texts.filter((t) => v.endsWith(t)).sort() });
			expect({ v, found: byWhole.find(v) }).toEqual({ v, found: texts.filter((t) => v === t) });
		}
	});
});
