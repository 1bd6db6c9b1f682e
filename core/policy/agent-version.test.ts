import { describe, expect, test } from "bun:test";
import { AgentVersionError, normalizeAgentVersion, satisfiesAgentVersion } from "./agent-version.ts";

describe("agent_version constraints", () => {
	test.each([
		["< 7.71", "7.70.9", true],
		["< 7.71", "7.71.0", false],
		[">= 7.71", "7.71.0", true],
		[">=7.65 <7.70", "7.69.2", true],
		[">=7.65 <7.70", "7.70.0", false],
		[">=7.65, <7.70", "7.64.0", false],
		[">= 7.70.1", "7.70.0", false],
		["<7.60 || >=7.73", "7.73.0", true],
		["<7.60 || >=7.73", "7.65.0", false],
		["!= 7.73", "7.73.0", false],
		["!= 7.73", "7.72.0", true],
		["~7.73", "7.73.4", true],
		["~7.73", "7.74.0", false],
		["7.x", "7.1.0", true],
		["", "1.0.0", true],
		["*", "1.0.0", true],
	])("%p with agent %s is %p", (constraint, version, expected) => {
		expect(satisfiesAgentVersion(version, constraint)).toBe(expected);
	});

	test("pre-release and build metadata of the agent version are ignored", () => {
		expect(normalizeAgentVersion("7.73.0-rc.1+git.42")).toBe("7.73.0");
		// a pre-release would be below 7.73.0 in semver; Datadog compares the release
		expect(satisfiesAgentVersion("7.73.0-rc.1", ">= 7.73")).toBe(true);
	});

	test.each(["garbage", ">= abc", ">>7", "7.1.2.3", "||", ">= 7.71 ||"])("%p is malformed", (constraint) => {
		expect(() => satisfiesAgentVersion("7.73.0", constraint)).toThrow(AgentVersionError);
	});
});
