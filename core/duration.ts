/**
 * @module Durations in manifests and configs: `"250ms"`, `"10s"`, `"1m30s"`, `"2h"` (Go-style
 * units ns, us, µs, ms, s, m, h), or a number of milliseconds.
 */
import * as v from "valibot";

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/** Nanoseconds in `text`, or undefined if it is not a duration. */
export const parseDurationNs = (text: string): number | undefined => {
	const t = text.trim();
	if (t === "0") return 0;
	if (t === "") return undefined;
	let total = 0;
	PART.lastIndex = 0;
	while (PART.lastIndex < t.length) {
		const at = PART.lastIndex;
		const m = PART.exec(t);
		if (!m || m.index !== at) return undefined;
		total += Number(m[1]) * UNIT_NS[m[2]!]!;
	}
	return total;
};

/**
 * The config schema of a duration: a number of milliseconds (≥ 0) or a duration string. The
 * error messages read `expected a duration such as ${examples}` (a bad string) and
 * `expected a duration such as ${example}, or a number of milliseconds` (neither), so each
 * plugin names examples that fit its settings.
 */
export const durationSchema = (examples: string, example: string) =>
	v.union(
		[
			v.pipe(v.number(), v.minValue(0)),
			v.pipe(
				v.string(),
				v.check((s) => parseDurationNs(s) !== undefined, `expected a duration such as ${examples}`),
			),
		],
		`expected a duration such as ${example}, or a number of milliseconds`,
	);

/** Nanoseconds of a value that passed {@link durationSchema}. */
export const durationNs = (d: string | number): number =>
	typeof d === "number" ? d * 1e6 : parseDurationNs(d)!;

/** Milliseconds of a value that passed {@link durationSchema}, as `durationNs(d) / 1e6`. */
export const durationMs = (d: string | number): number => durationNs(d) / 1e6;
