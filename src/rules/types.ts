/**
 * What rules are and what they return.
 *
 * A rule is a deterministic function of (collector event or clock tick, the read-only routing view, the current
 * time, its own bookkeeping). It does no I/O, reads no clock (time comes in `RuleContext.now`) and never throws on
 * purpose; the engine isolates one that does. It returns transitions:
 * - `fire`: the condition holds now (repeatable: the alert manager turns repeats into no-ops or updates);
 * - `resolve`: the condition no longer holds (the alert manager resolves after its hold-down);
 * - `note`: something worth recording that is not an alert (a prefix moved between appliances, an incident
 *   explained some appliance alerts).
 * The fingerprint of an alert is `${rule}/${key}`; keys are chosen so that one cause is one alert.
 */
import type { CollectorEvent, PeerRef } from '../rib/events.js';
import type { RibTable } from '../bmp/types.js';
import type { RouteAttributes } from '../rib/route-attributes.js';
import type { MetaRuleId, RuleId, Severity } from '../config/rules-schema.js';
import type { RoutingView } from './routing-state.js';
import type { RuleSettings } from './settings.js';

export type { Severity, RuleId, MetaRuleId };
export type AlertRuleId = RuleId | MetaRuleId;

/** JSON-safe values for rule-specific evidence. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface PeerSummary {
  readonly address: string;
  readonly as: number;
  readonly bgpId: string;
}

/** The route attributes worth showing in an alert (text, JSON-safe). */
export interface AttributeSummary {
  readonly nextHop: string | null;
  readonly linkLocalNextHop?: string;
  readonly asPath: string;
  readonly origin?: string;
  readonly localPref?: number;
  readonly med?: number;
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
}

/** One alert as a rule asserts it. Everything an operator needs to act, without looking anything up. */
export interface AlertSpec {
  readonly rule: AlertRuleId;
  /** Identifies the cause within the rule; fingerprint = `${rule}/${key}`. */
  readonly key: string;
  readonly severity: Severity;
  /** One line: what is wrong, where. */
  readonly summary: string;
  /** Why the rule considers it wrong (with the numbers). */
  readonly explanation: string;
  readonly suggestedAction: string;
  /** Route server name (the one the evidence comes from, or the first of several). */
  readonly router?: string;
  /** Every route server the evidence comes from, when there are several. */
  readonly routers?: readonly string[];
  readonly peer?: PeerSummary;
  readonly appliance?: string;
  readonly group?: string;
  readonly prefix?: string;
  readonly table?: RibTable;
  readonly attributes?: AttributeSummary;
  /** When the evidence was first and last seen (ms since the epoch). */
  readonly firstSeen?: number;
  readonly lastSeen?: number;
  /** Rule-specific facts (penalties, reason codes, counts). */
  readonly details?: { readonly [key: string]: JsonValue };
}

export type Transition =
  | { readonly action: 'fire'; readonly alert: AlertSpec }
  | { readonly action: 'resolve'; readonly rule: AlertRuleId; readonly key: string; readonly reason: string }
  | { readonly action: 'note'; readonly note: RuleNote };

/** An event that is not an alert: written to the log and history, never paged. */
export interface RuleNote {
  readonly rule: AlertRuleId;
  readonly kind: string;
  readonly time: number;
  readonly message: string;
  readonly details?: { readonly [key: string]: JsonValue };
}

export function fingerprintOf(rule: string, key: string): string {
  return `${rule}/${key}`;
}

export interface RuleContext {
  readonly now: number;
  readonly view: RoutingView;
  readonly settings: RuleSettings;
}

/** What the engine learned from applying a route event to the routing view. */
export interface RouteTouch {
  readonly prefix: string;
  /** Appliance ids whose routes for the prefix changed (before and after: a Loc-RIB next hop may move). */
  readonly applianceIds: readonly string[];
}

export interface Rule {
  readonly id: RuleId;
  /** Called for every collector event, after the routing view has applied it. */
  onEvent?(event: CollectorEvent, ctx: RuleContext, touch: RouteTouch | undefined): readonly Transition[];
  /** Called every evaluation interval, for time-based conditions (hold times, decay, missing reports). */
  onTick?(ctx: RuleContext): readonly Transition[];
  /**
   * Restored firing alerts of this rule after a restart, for rules that can keep them alive without re-seeing them.
   * Returns the keys the rule took over: those stay firing until the rule resolves them; the others resolve after
   * alerts.restoreGraceSeconds unless the rule asserts them again.
   */
  adopt?(alerts: readonly AdoptedAlert[], ctx: RuleContext): readonly string[];
  /**
   * After a configuration reload (the routing view is already re-resolved): re-evaluate what the new configuration
   * may change (allowed prefixes, limits, names), firing and resolving accordingly. Rule bookkeeping is kept, so
   * alerts fired before the reload can still resolve; parameters of running penalties apply from their next event.
   */
  reconfigured?(ctx: RuleContext): readonly Transition[];
  /** Figures this rule exposes as metrics, per appliance session address (route-flap: the highest figure of merit). */
  gauges?(now: number): ReadonlyMap<string, number>;
}

export interface AdoptedAlert {
  readonly key: string;
  readonly startsAt: number;
  readonly severity?: Severity;
  readonly router?: string;
  readonly routers?: readonly string[];
  readonly peer?: PeerSummary;
  readonly appliance?: string;
  readonly prefix?: string;
  readonly firstSeen?: number;
  readonly lastSeen?: number;
  readonly details?: { readonly [key: string]: JsonValue };
}

/**
 * Rule.adopt for rules that rebuild their state from a stored alert: `restore` turns an alert into the rule's state
 * for its key (or undefined when the alert no longer fits); keys the rule already tracks are left alone. Returns
 * the keys taken over.
 */
export function adoptInto<S>(states: Map<string, S>, alerts: readonly AdoptedAlert[], restore: (alert: AdoptedAlert) => S | undefined): string[] {
  const adopted: string[] = [];
  for (const alert of alerts) {
    if (states.has(alert.key)) continue;
    const state = restore(alert);
    if (state === undefined) continue;
    states.set(alert.key, state);
    adopted.push(alert.key);
  }
  return adopted;
}

export function peerSummary(peer: PeerRef): PeerSummary {
  return { address: peer.address, as: peer.as, bgpId: peer.bgpId };
}

export function attributeSummary(attributes: RouteAttributes): AttributeSummary {
  return {
    nextHop: attributes.nextHop,
    ...(attributes.linkLocalNextHop !== undefined && { linkLocalNextHop: attributes.linkLocalNextHop }),
    asPath: attributes.asPathText,
    ...(attributes.origin !== undefined && { origin: String(attributes.origin) }),
    ...(attributes.localPref !== undefined && { localPref: attributes.localPref }),
    ...(attributes.med !== undefined && { med: attributes.med }),
    ...(attributes.communities !== undefined && { communities: attributes.communities }),
    ...(attributes.largeCommunities !== undefined && { largeCommunities: attributes.largeCommunities }),
  };
}

export const fire = (alert: AlertSpec): Transition => ({ action: 'fire', alert });
export const resolve = (rule: AlertRuleId, key: string, reason: string): Transition => ({ action: 'resolve', rule, key, reason });
export const note = (value: RuleNote): Transition => ({ action: 'note', note: value });
