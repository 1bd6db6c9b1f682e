/**
 * @module `agent_version` constraints (Masterminds semver syntax, as Datadog uses): comparisons
 * `= != > < >= <= ~ ~> ^` on versions that may be partial (`7.71`) or wildcards (`7.x`, `*`),
 * AND-ed by spaces or commas, OR-ed by `||`. Checked against the Datadog agent version vigil
 * claims compatibility with, pre-release and build metadata stripped (as Datadog does).
 *
 * The syntax is checked here because `Bun.semver.satisfies` accepts anything (it reads a
 * malformed range as "any version"); each comparison is then `Bun.semver`'s.
 */

const VERSION = String.raw`v?(?:\d+|[xX*])(?:\.(?:\d+|[xX*])){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?`;
const OPERATOR = String.raw`!=|>=|=>|<=|=<|~>|=|>|<|~|\^`;
const COMPARISON = new RegExp(`^(${OPERATOR})?(${VERSION})$`);

export class AgentVersionError extends Error {
	override readonly name = "AgentVersionError";
}

/** `7.73.0-rc.1+git.abc` → `7.73.0`. Throws if `version` is not a version. */
export const normalizeAgentVersion = (version: string): string => {
	const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(version.trim());
	if (!m) throw new AgentVersionError(`"${version}" is not a version (expected something like 7.73.0)`);
	return `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`;
};

interface Comparison {
	readonly op: string;
	readonly version: string;
}

/** Alternatives (OR) of comparisons (AND). Throws {@link AgentVersionError} when malformed. */
export const parseAgentVersionConstraint = (constraint: string): Comparison[][] => {
	const trimmed = constraint.trim();
	if (trimmed === "") return [[]];
	return trimmed.split("||").map((alternative) => {
		const tokens = alternative
			.replace(/,/g, " ")
			.replace(new RegExp(String.raw`(${OPERATOR})\s+`, "g"), "$1")
			.trim()
			.split(/\s+/)
			.filter((t) => t !== "");
		if (tokens.length === 0) throw new AgentVersionError(`"${constraint}" has an empty alternative`);
		return tokens.map((t) => {
			const m = COMPARISON.exec(t);
			if (!m) throw new AgentVersionError(`"${t}" is not a version comparison (in "${constraint}")`);
			const op = m[1] ?? "=";
			return {
				op: op === "=>" ? ">=" : op === "=<" ? "<=" : op === "~>" ? "~" : op,
				version: m[2]!.replace(/^v/, ""),
			};
		});
	});
};

const holds = (version: string, c: Comparison): boolean => {
	if (c.op === "!=") return !Bun.semver.satisfies(version, c.version);
	return Bun.semver.satisfies(version, `${c.op}${c.version}`);
};

/**
 * Whether `agentVersion` satisfies `constraint` (empty = any). Throws {@link AgentVersionError}
 * for a malformed constraint or version.
 */
export const satisfiesAgentVersion = (agentVersion: string, constraint: string): boolean => {
	const version = normalizeAgentVersion(agentVersion);
	return parseAgentVersionConstraint(constraint).some((all) => all.every((c) => holds(version, c)));
};
