/** @module Small statistics shared by the benchmarks. */

/** The median of `xs` (the mean of the two middle values when there is an even number). */
export const median = (xs: number[]): number => {
	const s = [...xs].sort((x, y) => x - y);
	const m = s.length >> 1;
	return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
