/**
 * The rule engine: applies each collector event to the routing view, then runs every rule on it; runs the
 * time-based part of every rule on each evaluation tick.
 *
 * Isolation: a rule that throws is caught, counted (per rule) and reported as a meta-alert `rule-error/<rule>`
 * (warning) with the error message; every other rule still runs on the same event. The meta-alert resolves once
 * the rule has run for rules.ruleErrorClearSeconds (600) without throwing.
 *
 * Pure: no I/O, no clock: `now` comes with every call (from the injected clock, in the consumer).
 */
import type { CollectorEvent } from '../rib/events.js';
import { ApplianceDirectory } from './appliances.js';
import { asPathRule } from './as-path.js';
import { feedLostRule, rejectedSpikeRule, rsIncidentRule, statsMissingRule } from './feed-health.js';
import { filterGapRule } from './filter-gap.js';
import { nextHopRule } from './next-hop.js';
import { prefixConflictRule } from './prefix-conflict.js';
import { routeFlapRule } from './route-flap.js';
import { RoutingState, type IncidentSettings, type RoutingView } from './routing-state.js';
import { sessionChurnRule } from './session-churn.js';
import { sessionDownRule } from './session-down.js';
import { buildRuleSettings, type RuleSettings, type RulesEngineConfig } from './settings.js';
import { tooManyPrefixesRule } from './too-many-prefixes.js';
import { unexpectedPeerRule } from './unexpected-peer.js';
import { unexpectedPrefixRule } from './unexpected-prefix.js';
import { fingerprintOf, fire, resolve, type AdoptedAlert, type Rule, type RuleContext, type RouteTouch, type Transition } from './types.js';

/** Every rule, in evaluation order (order does not change results: rules do not see each other's output). */
export function defaultRules(): Rule[] {
  return [
    unexpectedPrefixRule(),
    filterGapRule(),
    nextHopRule(),
    asPathRule(),
    tooManyPrefixesRule(),
    prefixConflictRule(),
    routeFlapRule(),
    sessionChurnRule(),
    sessionDownRule(),
    unexpectedPeerRule(),
    feedLostRule(),
    statsMissingRule(),
    rejectedSpikeRule(),
    rsIncidentRule(),
  ];
}

export interface RuleFailure {
  readonly rule: string;
  readonly count: number;
  readonly lastError: string;
  readonly lastAt: number;
}

/** The routing view is not a rule, but a bug there is reported the same way under this name. */
const STATE_KEY = 'routing-state';
/** Errors kept between takeErrors() calls: enough to log a burst, bounded if nobody takes them. */
const MAX_RECENT_ERRORS = 100;

function incidentSettings(settings: RuleSettings): IncidentSettings {
  return { windowMs: settings.rules.feedHealth.incidentWindowSeconds * 1000, minPeers: settings.rules.feedHealth.incidentMinPeers };
}

export class RuleEngine {
  private settings: RuleSettings;
  private readonly state: RoutingState;
  private readonly rules: readonly Rule[];
  private readonly failures = new Map<string, { count: number; lastError: string; lastAt: number; firing: boolean }>();
  /** Failures since the last takeErrors(), for the caller to log (the engine itself does no I/O). */
  private recent: { rule: string; error: string; time: number }[] = [];

  constructor(config: RulesEngineConfig, rules: readonly Rule[] = defaultRules()) {
    this.settings = buildRuleSettings(config);
    this.state = new RoutingState(new ApplianceDirectory(this.settings), incidentSettings(this.settings));
    this.rules = rules;
  }

  get view(): RoutingView {
    return this.state;
  }

  get ruleSettings(): RuleSettings {
    return this.settings;
  }

  /** Rules that have thrown, with counts (for metrics and the API). */
  ruleFailures(): RuleFailure[] {
    return [...this.failures].map(([rule, failure]) => ({ rule, count: failure.count, lastError: failure.lastError, lastAt: failure.lastAt }));
  }

  /** Failures since the last call (each one, not only the first that raised the meta-alert). Bounded. */
  takeErrors(): { rule: string; error: string; time: number }[] {
    const errors = this.recent;
    this.recent = [];
    return errors;
  }

  /**
   * A new configuration (SIGHUP). The routing view is kept and re-resolved against the new groups and names (or
   * rebuilt from `snapshot`, the collector's current routes as route-announced events); rules keep their
   * bookkeeping and re-evaluate what the change may affect. Returns the resulting transitions.
   */
  reconfigure(config: RulesEngineConfig, now: number, snapshot?: Iterable<CollectorEvent>): Transition[] {
    this.settings = buildRuleSettings(config);
    try {
      this.state.reconfigure(new ApplianceDirectory(this.settings), incidentSettings(this.settings), snapshot, now);
    } catch (error) {
      const transitions: Transition[] = [];
      this.fail(STATE_KEY, error, now, transitions);
      return transitions;
    }
    const transitions: Transition[] = [];
    const ctx = this.context(now);
    for (const rule of this.rules) {
      if (rule.reconfigured) this.run(rule, transitions, now, () => rule.reconfigured?.(ctx) ?? []);
    }
    return transitions;
  }

  /**
   * Restored firing alerts after a restart: rules that can keep them alive take them over. Returns the
   * fingerprints taken over (the alert manager stops waiting for them to be asserted again).
   */
  adopt(alerts: readonly (AdoptedAlert & { readonly rule: string })[], now: number): { readonly transitions: Transition[]; readonly adopted: string[] } {
    const transitions: Transition[] = [];
    const adopted: string[] = [];
    for (const rule of this.rules) {
      if (!rule.adopt) continue;
      const mine = alerts.filter((alert) => alert.rule === rule.id);
      if (mine.length === 0) continue;
      this.run(rule, transitions, now, () => {
        for (const key of rule.adopt?.(mine, this.context(now)) ?? []) adopted.push(fingerprintOf(rule.id, key));
        return [];
      });
    }
    return { transitions, adopted };
  }

  handle(event: CollectorEvent, now: number): Transition[] {
    const transitions: Transition[] = [];
    let touch: RouteTouch | undefined;
    try {
      touch = this.state.apply(event, now);
    } catch (error) {
      this.fail(STATE_KEY, error, now, transitions);
    }
    const ctx = this.context(now);
    // The hot path (every route of every table dump): no closure per rule, no spread.
    for (const rule of this.rules) {
      if (!rule.onEvent) continue;
      try {
        const produced = rule.onEvent(event, ctx, touch);
        for (let i = 0; i < produced.length; i++) transitions.push(produced[i]!);
      } catch (error) {
        this.fail(rule.id, error, now, transitions);
      }
    }
    return transitions;
  }

  /** The rules' gauges (see Rule.gauges), by rule id. A failing gauge is left out, never thrown. */
  gauges(now: number): ReadonlyMap<string, ReadonlyMap<string, number>> {
    const out = new Map<string, ReadonlyMap<string, number>>();
    for (const rule of this.rules) {
      if (!rule.gauges) continue;
      try {
        out.set(rule.id, rule.gauges(now));
      } catch {
        // A rule's metrics are information; its failures are reported through onEvent/onTick.
      }
    }
    return out;
  }

  tick(now: number): Transition[] {
    const transitions: Transition[] = [];
    const ctx = this.context(now);
    for (const rule of this.rules) {
      if (rule.onTick) this.run(rule, transitions, now, () => rule.onTick?.(ctx) ?? []);
    }
    this.state.sweep();
    const clearMs = this.settings.rules.ruleErrorClearSeconds * 1000;
    for (const [name, failure] of this.failures) {
      if (failure.firing && now - failure.lastAt >= clearMs) {
        failure.firing = false;
        transitions.push(resolve('rule-error', name, `no error for ${clearMs / 1000} s`));
      }
    }
    return transitions;
  }

  private context(now: number): RuleContext {
    return { now, view: this.state, settings: this.settings };
  }

  private run(rule: Rule, out: Transition[], now: number, body: () => readonly Transition[]): void {
    try {
      out.push(...body());
    } catch (error) {
      this.fail(rule.id, error, now, out);
    }
  }

  private fail(name: string, error: unknown, now: number, out: Transition[]): void {
    const message = error instanceof Error ? error.message : String(error);
    const failure = this.failures.get(name) ?? { count: 0, lastError: '', lastAt: now, firing: false };
    failure.count++;
    failure.lastError = message;
    failure.lastAt = now;
    this.failures.set(name, failure);
    if (this.recent.length < MAX_RECENT_ERRORS) this.recent.push({ rule: name, error: message, time: now });
    if (failure.firing) return;
    failure.firing = true;
    out.push(
      fire({
        rule: 'rule-error',
        key: name,
        severity: 'warning',
        summary: `Rule ${name} failed: ${message}`,
        explanation: `The rule ${name} threw while evaluating an event (${failure.count} time(s) so far): "${message}". It is isolated: the other rules keep running, but its own alerts may be missing or stale until it is fixed.`,
        suggestedAction: 'Report this as a bmpwatch bug with the log lines of event "rule-error" (they carry the event that triggered it).',
        details: { rule: name, count: failure.count, error: message },
      }),
    );
  }
}
