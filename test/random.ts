/**
 * @module A seeded pseudo-random generator (mulberry32): a seed gives the same sequence on every
 * run, so generated inputs reproduce (a failing property test, a benchmark corpus).
 */

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
