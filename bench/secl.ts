/**
 * @module Benchmark of SECL evaluation on one core: Datadog's default.policy (the Linux rules
 * that load, fim rules expanded) in a {@link RuleSet} over a synthetic corpus of 200k mixed
 * events (`secl-corpus.ts`), beside, in the same run:
 *
 * - a floor: a loop that only dispatches each event on its type (the memory cost of touching it);
 * - the rule set with its index planned from the static estimates only: the main figure's rule
 *   set, as in the agent, plans again after a sample of each type's first events (which the
 *   untimed first pass provides), with how often each key passed;
 * - the rule set in cache: each window of 1024 events evaluated twice, the second time timed
 *   (the corpus is read once per pass, so the main figure pays memory latency on every event);
 * - the same rules without the approver index (every rule of the event's type);
 * - the same rules compiled to closures instead of generated code (`secl-closures.ts`);
 * - 24 rules hand-written as JS predicates (`secl-handwritten.ts`) against the same rules
 *   compiled, after checking that both give the same matches on every event.
 *
 * Targets: ≥ 2M events/s on the mix (the main figure, not the one in cache); compiled ≤ 1.5×
 * the hand-written time on the rule subset.
 * Each figure is the best of several passes (the machine is shared); before each pass of rules,
 * every process gets fresh argv and envp arrays, so that no pass finds the values derived from
 * them already computed. A last line splits the indexed time by event type.
 */
import type { FieldRegistry } from "../core/model/registry.ts";
import type { Event, ProcessContext } from "../core/model/types.ts";
import { eventCache, nextGeneration } from "../core/secl/cache.ts";
import { type CompiledRule, RuleSet } from "../core/secl/index.ts";
import { loadDefaultPolicy } from "../test/secl/default-policy.ts";
import { closureRule } from "./secl-closures.ts";
import { buildCorpus } from "./secl-corpus.ts";
import { HANDWRITTEN } from "./secl-handwritten.ts";

const EVENTS = 200_000;
const PASSES = 7;

/**
 * Best time of `passes` runs of `fn`, in ns per event; `setup` runs untimed before each. `timed`
 * gives the ms of a run that times only part of itself (the run's whole time otherwise).
 */
const bestNsPerEvent = (
	events: number,
	fn: () => void,
	setup?: () => void,
	passes = PASSES,
	timed?: () => number,
): number => {
	setup?.();
	fn();
	let best = Number.POSITIVE_INFINITY;
	for (let i = 0; i < passes; i++) {
		setup?.();
		const t0 = performance.now();
		fn();
		best = Math.min(best, timed ? timed() : performance.now() - t0);
	}
	return (best * 1e6) / events;
};

/** Evaluate `rules[type]` on every event, with the field cache a rule set uses. */
const everyRule = (events: readonly Event[], rules: Map<string, ((e: Event) => boolean)[]>): number => {
	let matches = 0;
	for (const e of events) {
		const list = rules.get(e.type);
		if (!list) continue;
		eventCache.event = e;
		eventCache.generation = nextGeneration();
		for (let i = 0; i < list.length; i++) if ((list[i] as (e: Event) => boolean)(e)) matches++;
	}
	eventCache.event = undefined;
	return matches;
};

/**
 * Give every process of the corpus fresh `argv` and `envp` arrays. Values derived from them
 * (`process.args_flags`, `process.envs`…) are remembered for the last array read; fresh arrays
 * make sure that no pass finds any of them computed, as a real event stream, seeing each exec
 * once, does not.
 */
const freshProcesses = (events: readonly Event[]): void => {
	const seen = new Set<ProcessContext>();
	const renew = (p: ProcessContext | undefined): void => {
		if (!p || seen.has(p)) return;
		seen.add(p);
		if (p.argv) p.argv = [...p.argv];
		if (p.envp) p.envp = [...p.envp];
		for (const a of p.ancestors ?? []) renew(a);
	};
	for (const e of events) renew(e.process);
};

/**
 * Where the time of the indexed rule set goes: each event timed on its own (the timer's own
 * cost taken off), summed per event type; best of three passes. `share` is the type's part of
 * the mean time per event of the mix.
 */
const byTypeNs = (
	events: readonly Event[],
	evaluate: (e: Event) => void,
	setup: () => void,
): { type: string; ns: number; share: number }[] => {
	let timer = Number.POSITIVE_INFINITY;
	for (let pass = 0; pass < 3; pass++) {
		let sum = 0;
		for (let i = 0; i < events.length; i++) {
			const t0 = performance.now();
			sum += performance.now() - t0;
		}
		timer = Math.min(timer, sum / events.length);
	}
	let best: Map<string, { n: number; ms: number }> | undefined;
	let bestTotal = Number.POSITIVE_INFINITY;
	for (let pass = 0; pass < 3; pass++) {
		setup();
		const sums = new Map<string, { n: number; ms: number }>();
		let total = 0;
		for (const e of events) {
			const t0 = performance.now();
			evaluate(e);
			const ms = performance.now() - t0 - timer;
			total += ms;
			const s = sums.get(e.type);
			if (s) {
				s.n++;
				s.ms += ms;
			} else sums.set(e.type, { n: 1, ms });
		}
		if (total < bestTotal) {
			bestTotal = total;
			best = sums;
		}
	}
	return [...(best ?? new Map()).entries()]
		.map(([type, { n, ms }]) => ({ type, ns: (ms * 1e6) / n, share: (ms * 1e6) / events.length }))
		.sort((a, b) => b.share - a.share);
};

const byType = <T>(items: readonly T[], type: (t: T) => string, fn: (t: T) => (e: Event) => boolean) => {
	const out = new Map<string, ((e: Event) => boolean)[]>();
	for (const item of items) {
		const list = out.get(type(item)) ?? [];
		list.push(fn(item));
		out.set(type(item), list);
	}
	return out;
};

export async function run(): Promise<Record<string, number>> {
	const t0 = performance.now();
	const policy = loadDefaultPolicy("linux");
	const compiled = policy.rules
		.filter((r) => r.compiled)
		.map((r) => ({ id: r.id, rule: r.compiled as CompiledRule }));
	const compileMs = performance.now() - t0;
	const ruleSet = new RuleSet<null>(policy.ctx);
	for (const { id, rule } of compiled) ruleSet.add(id, rule, null);
	const registry: FieldRegistry = policy.ctx.registry;
	const { events, types } = buildCorpus(registry, EVENTS);

	let matched = 0;
	const onMatch = () => {
		matched++;
	};
	const floorTypes = new Map([...ruleSet.eventTypes()].map((t, i) => [t, i]));
	let sink = 0;
	const floor = bestNsPerEvent(events.length, () => {
		for (const e of events) sink += floorTypes.get(e.type) ?? 0;
	});
	const fresh = () => freshProcesses(events);
	let warmMs = 0;
	const indexed = bestNsPerEvent(
		events.length,
		() => {
			matched = 0;
			for (const e of events) ruleSet.evaluate(e, onMatch);
		},
		fresh,
	);
	const matchesPerPass = matched;
	// the same rules, never sampled: the index as the static estimates plan it
	const staticSet = new RuleSet<null>(policy.ctx, { sampling: { every: 1, size: 0 } });
	for (const { id, rule } of compiled) staticSet.add(id, rule, null);
	const unsampled = bestNsPerEvent(
		events.length,
		() => {
			for (const e of events) staticSet.evaluate(e, onMatch);
		},
		fresh,
	);
	// the same in cache: each window of 1024 events evaluated twice, the second time timed (the
	// events, the index and the code are then in cache, as for a batch its probe just decoded)
	const WINDOW = 1024;
	const warm = bestNsPerEvent(
		events.length,
		() => {
			for (let b = 0; b < events.length; b += WINDOW) {
				const end = Math.min(events.length, b + WINDOW);
				for (let i = b; i < end; i++) ruleSet.evaluate(events[i] as Event, onMatch);
				const t0 = performance.now();
				for (let i = b; i < end; i++) ruleSet.evaluate(events[i] as Event, onMatch);
				warmMs += performance.now() - t0;
			}
		},
		() => {
			fresh();
			warmMs = 0;
		},
		3,
		() => warmMs,
	);
	const perType = byTypeNs(events, (e) => ruleSet.evaluate(e, onMatch), fresh);

	const generated = byType(
		compiled,
		(c) => c.rule.eventType,
		(c) => c.rule.evaluate,
	);
	const closures = byType(
		compiled,
		(c) => c.rule.eventType,
		(c) => closureRule(c.rule.ir),
	);
	const generatedMatches = everyRule(events, generated);
	const closureMatches = everyRule(events, closures);
	if (generatedMatches !== matchesPerPass || closureMatches !== matchesPerPass) {
		throw new Error(
			`back ends disagree: indexed ${matchesPerPass}, every rule ${generatedMatches}, closures ${closureMatches}`,
		);
	}
	const bruteForce = bestNsPerEvent(events.length, () => everyRule(events, generated), fresh);
	const closureNs = bestNsPerEvent(events.length, () => everyRule(events, closures), fresh);

	// hand-written subset: same matches on every event first
	const ids = Object.keys(HANDWRITTEN);
	const byId = new Map(compiled.map((c) => [c.id, c.rule]));
	for (const id of ids) {
		const rule = byId.get(id);
		const hand = HANDWRITTEN[id] as (typeof HANDWRITTEN)[string];
		if (!rule || rule.eventType !== hand.type) throw new Error(`${id}: not a loaded ${hand.type} rule`);
		for (const e of events) {
			if (e.type !== hand.type) continue;
			if (rule.evaluate(e) !== hand.test(e))
				throw new Error(`${id}: hand-written and compiled disagree on an event`);
		}
	}
	const handSet = byType(
		ids,
		(id) => (HANDWRITTEN[id] as { type: string }).type,
		(id) => (HANDWRITTEN[id] as { test: (e: Event) => boolean }).test,
	);
	const compiledSet = byType(
		ids,
		(id) => (byId.get(id) as CompiledRule).eventType,
		(id) => (byId.get(id) as CompiledRule).evaluate,
	);
	// the compiled subset runs as a rule set would, with the field cache; hand-written has none
	const handNs = bestNsPerEvent(events.length, () => everyRule(events, handSet), fresh);
	const compiledNs = bestNsPerEvent(events.length, () => everyRule(events, compiledSet), fresh);
	if (sink < 0) console.log(sink);

	const stats = ruleSet.stats();
	const indexedRules = Object.values(stats.buckets).reduce((n, b) => n + b.indexed, 0);
	const sampled = Object.values(stats.buckets).filter((b) => b.learned).length;
	const fmt = (ns: number) =>
		`${ns.toFixed(0).padStart(6)} ns/event  ${(1e9 / ns / 1e6).toFixed(2).padStart(6)} M events/s`;
	const rows: [string, string][] = [
		[
			"corpus",
			`${events.length} events, ${Object.keys(types).length} types, ${matchesPerPass} matches per pass`,
		],
		[
			"rules",
			`${compiled.length} compiled in ${compileMs.toFixed(0)} ms (${ruleSet.size} in the set, ${indexedRules} indexed by approvers; ${sampled} of ${Object.keys(stats.buckets).length} types' indexes planned with a sample)`,
		],
		["floor (dispatch only)", fmt(floor)],
		["rule set, indexed", fmt(indexed)],
		["rule set, indexed, not sampled", fmt(unsampled)],
		["rule set, indexed, in cache", fmt(warm)],
		["every rule, generated code", fmt(bruteForce)],
		["every rule, closures", fmt(closureNs)],
		[`${ids.length} rules hand-written`, fmt(handNs)],
		[
			`${ids.length} rules compiled`,
			`${fmt(compiledNs)}  (${(compiledNs / handNs).toFixed(2)}× hand-written)`,
		],
	];
	const width = Math.max(...rows.map(([k]) => k.length));
	for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
	console.log(
		`indexed, by event type (ns per event of the type, share of the mix): ${perType
			.slice(0, 8)
			.map((t) => `${t.type} ${t.ns.toFixed(0)} (${t.share.toFixed(0)})`)
			.join(", ")}`,
	);
	console.log(
		`targets: ≥ 2 M events/s on the mix (measured ${(1e3 / indexed).toFixed(2)}); compiled ≤ 1.5× hand-written (measured ${(compiledNs / handNs).toFixed(2)}×)`,
	);
	return {
		events: events.length,
		rules: compiled.length,
		floorNsPerEvent: Math.round(floor),
		indexedNsPerEvent: Math.round(indexed),
		indexedEventsPerSec: Math.round(1e9 / indexed),
		indexedInCacheNsPerEvent: Math.round(warm),
		indexedUnsampledNsPerEvent: Math.round(unsampled),
		everyRuleNsPerEvent: Math.round(bruteForce),
		closuresNsPerEvent: Math.round(closureNs),
		handWrittenNsPerEvent: Math.round(handNs),
		compiledSubsetNsPerEvent: Math.round(compiledNs),
		compiledOverHandWritten: Number((compiledNs / handNs).toFixed(3)),
		closuresOverGenerated: Number((closureNs / bruteForce).toFixed(3)),
	};
}

if (import.meta.main) await run();
