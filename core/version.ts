/**
 * @module Versions vigil reports. `DATADOG_AGENT_VERSION` is the Datadog agent release whose rule
 * language and policies vigil is compatible with: policies' `agent_version` constraints are checked
 * against it (override with the manifest's `agent.datadog_agent_version` or `--agent-version`).
 */
import pkg from "../package.json" with { type: "json" };

export const VIGIL_VERSION: string = pkg.version;
export const DATADOG_AGENT_VERSION = "7.73.0";
