/**
 * @module A seeded pseudo-random generator (mulberry32): a seed gives the same sequence on every
 * run, so generated inputs reproduce (a failing property test, a benchmark corpus).
 */

/** A word of `min` to `max` characters drawn from `alphabet` with `r` (its length drawn first). */
export const randomWord = (r: () => number, alphabet: string, min: number, max: number): string =>
	Array.from(
		{ length: min + Math.floor(r() * (max - min + 1)) },
		() => alphabet[Math.floor(r() * alphabet.length)],
	).join("");

/** Numbers in [0, 1) from `seed`. */
export const seededRandom = (seed: number): (() => number) => {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
};
