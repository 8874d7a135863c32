/**
 * route-flap: an appliance's prefix flaps, scored with an RFC 2439 figure of merit in test mode (RFC 7196:
 * computed, never used to suppress).
 *
 * Per (appliance, prefix): a withdrawal adds withdrawalPenalty (1000), an attribute change
 * attributeChangePenalty (500), a re-advertisement readvertisementPenalty (0, as Cisco/FRR); the value halves
 * every halfLifeSeconds (900). Warning at warningThreshold (3000), critical at criticalThreshold (6000), resolved
 * when it decays below clearThreshold (750); capped at maxPenalty (12000). The level only rises while firing
 * (no de-escalation notices); it resolves below clearThreshold.
 *
 * What counts:
 * - explicit withdrawals and treat-as-withdraw (RFC 7606) in the pre- or post-policy Adj-RIB-In of the
 *   appliance's sessions, attribute changes there, and (if penalised) re-advertisements;
 * - not the initial table dump after Peer Up or a collector (re)connect (its announcements, initialSync), and not
 *   the withdrawals implied by a Peer Down, a session reset or a lost BMP session: those belong to session-churn /
 *   feed-lost. An explicit withdrawal or an attribute change counts even inside the initial-sync window: a dump
 *   only announces (the collector flushes a peer's routes at every Peer Down, reset and lost BMP session), and FRR
 *   8.4 sends no End-of-RIB for a session that comes up while its BMP session is up, so that window lasts
 *   limits.initialDumpTimeoutSeconds (10 min) after every such Peer Up: a prefix flapping in it was missed;
 * - not a post-policy withdrawal while the session's pre-policy Adj-RIB-In still holds the route: the appliance did
 *   not withdraw it. GoBGP 3.10 sends such withdrawals (post-policy and Loc-RIB, no pre-policy ones) just before a
 *   Peer Down and when it shuts down, so they are part of the session ending. An appliance's withdrawal is seen
 *   pre-policy (FRR sends post-policy first, then pre-policy: the pre-policy one counts) or, without pre-policy
 *   monitoring, only post-policy (then it counts);
 * - one event seen on several route servers, or in both the pre- and post-policy view, counts once: reports of
 *   the same kind within dedupeWindowSeconds (10) from sources (route server + table) that have not reported
 *   since are the same event.
 * Key: appliance + prefix. Parameters: rules.routeFlap, per group rules.groups[].routeFlap (all of the above).
 * After a restart of bmpwatch the rule takes its firing alerts over (see restoredState).
 */
import { addPenalty, decayed, EventDeduper, ZERO_MERIT, type Merit, type MeritScale } from './figure-of-merit.js';
import type { Appliance } from './appliances.js';
import { adoptInto, fire, peerSummary, resolve, type AdoptedAlert, type Rule, type RuleContext, type Transition, type PeerSummary } from './types.js';

type Kind = 'withdrawal' | 'attribute-change' | 'readvertisement';

interface FlapState {
  merit: Merit;
  level: 'none' | 'warning' | 'critical';
  /** Taken over from before a restart: assert the alert again at the next tick (or resolve it). */
  restored: boolean;
  readonly deduper: EventDeduper;
  readonly appliance: Appliance;
  readonly prefix: string;
  counts: Record<Kind, number>;
  firstAt: number;
  lastAt: number;
  routers: Set<string>;
  peer: PeerSummary;
}

/** Below this a state without an alert is forgotten (it would take hours to matter again). */
const FORGET_BELOW = 1;

function scaleOf(appliance: Appliance): MeritScale {
  const params = appliance.group.params.routeFlap;
  return { halfLifeMs: params.halfLifeSeconds * 1000, maxPenalty: params.maxPenalty };
}

/** Whether the session's pre-policy Adj-RIB-In still holds the prefix (see "not a post-policy withdrawal" above). */
function heldPrePolicy(ctx: RuleContext, routerId: string, peerKey: string, prefix: string): boolean {
  for (const entry of ctx.view.entries(prefix)) {
    if (entry.table === 'adj-rib-in-pre' && entry.routerId === routerId && entry.peer.key === peerKey) return true;
  }
  return false;
}

/**
 * A firing alert from before a restart, as rule state: its figure of merit as last announced (details
 * figureOfMerit at details.at: a lower bound, later penalties were not announced) decays from then on, so the
 * alert resolves when a flapping that stopped would have, and stays while it would have stayed.
 */
function restoredState(alert: AdoptedAlert, ctx: RuleContext): FlapState | undefined {
  const merit = alert.details?.figureOfMerit;
  const at = alert.details?.at;
  if (typeof merit !== 'number' || typeof at !== 'number' || alert.peer === undefined || alert.prefix === undefined) return undefined;
  const appliance = ctx.view.directory.resolveAddress(alert.peer.address, alert.peer.bgpId);
  if (appliance === undefined || `${appliance.id}|${alert.prefix}` !== alert.key || !ctx.settings.enabled('route-flap', appliance.group)) return undefined;
  const count = (name: string): number => (typeof alert.details?.[name] === 'number' ? (alert.details[name] as number) : 0);
  return {
    merit: { value: merit, at },
    level: alert.severity === 'critical' ? 'critical' : 'warning',
    restored: true,
    deduper: new EventDeduper(),
    appliance,
    prefix: alert.prefix,
    counts: { withdrawal: count('withdrawals'), 'attribute-change': count('attributeChanges'), readvertisement: count('readvertisements') },
    firstAt: alert.firstSeen ?? alert.startsAt,
    lastAt: alert.lastSeen ?? at,
    routers: new Set(alert.routers ?? (alert.router === undefined ? [] : [alert.router])),
    peer: alert.peer,
  };
}

export function routeFlapRule(): Rule {
  const states = new Map<string, FlapState>();

  const alertFor = (state: FlapState, value: number, ctx: RuleContext): Transition => {
    const params = state.appliance.group.params.routeFlap;
    const level = state.level === 'critical' ? 'critical' : 'warning';
    return fire({
      rule: 'route-flap',
      key: `${state.appliance.id}|${state.prefix}`,
      severity: level,
      summary: `${state.prefix} from ${state.appliance.name} is flapping (figure of merit ${Math.round(value)})`,
      explanation: `Since ${new Date(state.firstAt).toISOString()}: ${state.counts.withdrawal} withdrawals, ${state.counts['attribute-change']} attribute changes, ${state.counts.readvertisement} re-advertisements (each counted once across route servers). Figure of merit ${Math.round(value)} ≥ ${level === 'critical' ? params.criticalThreshold : params.warningThreshold} (half-life ${params.halfLifeSeconds} s); a damping router would ${level === 'critical' ? 'suppress' : 'soon suppress'} it. Clears below ${params.clearThreshold}.`,
      suggestedAction: `Find out why ${state.appliance.name} keeps withdrawing or changing ${state.prefix} (health checks toggling, an unstable service, a flapping link).`,
      router: [...state.routers][0],
      routers: [...state.routers].sort(),
      peer: state.peer,
      appliance: state.appliance.name,
      group: state.appliance.group.name,
      prefix: state.prefix,
      firstSeen: state.firstAt,
      lastSeen: state.lastAt,
      details: { figureOfMerit: Math.round(value), withdrawals: state.counts.withdrawal, attributeChanges: state.counts['attribute-change'], readvertisements: state.counts.readvertisement, at: ctx.now },
    });
  };

  return {
    id: 'route-flap',
    gauges(now: number): ReadonlyMap<string, number> {
      const highest = new Map<string, number>();
      for (const state of states.values()) {
        const value = decayed(state.merit, now, scaleOf(state.appliance));
        if (value > (highest.get(state.peer.address) ?? 0)) highest.set(state.peer.address, value);
      }
      return highest;
    },
    onEvent(event, ctx) {
      if (event.type !== 'route-announced' && event.type !== 'route-changed' && event.type !== 'route-withdrawn') return [];
      if (event.table !== 'adj-rib-in-pre' && event.table !== 'adj-rib-in-post') return [];
      if (event.type === 'route-announced' && event.initialSync) return [];
      let kind: Kind;
      if (event.type === 'route-withdrawn') {
        if (event.cause !== 'withdraw' && event.cause !== 'treat-as-withdraw') return [];
        if (event.table === 'adj-rib-in-post' && heldPrePolicy(ctx, event.router.id, event.peer.key, event.prefix)) return [];
        kind = 'withdrawal';
      } else {
        kind = event.type === 'route-changed' ? 'attribute-change' : 'readvertisement';
      }
      const appliance = ctx.view.directory.resolve(event.peer);
      if (appliance === undefined || !ctx.settings.enabled('route-flap', appliance.group)) return [];
      const params = appliance.group.params.routeFlap;
      const penalty = kind === 'withdrawal' ? params.withdrawalPenalty : kind === 'attribute-change' ? params.attributeChangePenalty : params.readvertisementPenalty;
      if (penalty === 0) return [];
      const key = `${appliance.id}|${event.prefix}`;
      let state = states.get(key);
      if (state === undefined) {
        state = {
          merit: ZERO_MERIT,
          level: 'none',
          restored: false,
          deduper: new EventDeduper(),
          appliance,
          prefix: event.prefix,
          counts: { withdrawal: 0, 'attribute-change': 0, readvertisement: 0 },
          firstAt: ctx.now,
          lastAt: ctx.now,
          routers: new Set(),
          peer: peerSummary(event.peer),
        };
        states.set(key, state);
      }
      state.routers.add(event.router.name);
      if (!state.deduper.count(kind, `${event.router.name}|${event.table}`, ctx.now, params.dedupeWindowSeconds * 1000)) return [];
      state.merit = addPenalty(state.merit, penalty, ctx.now, scaleOf(appliance));
      if (state.counts.withdrawal + state.counts['attribute-change'] + state.counts.readvertisement === 0) state.firstAt = ctx.now;
      state.counts[kind]++;
      state.lastAt = ctx.now;
      const value = state.merit.value;
      const level = value >= params.criticalThreshold ? 'critical' : value >= params.warningThreshold ? 'warning' : 'none';
      const rank = { none: 0, warning: 1, critical: 2 };
      if (rank[level] > rank[state.level]) {
        state.level = level;
        return [alertFor(state, value, ctx)];
      }
      return [];
    },
    adopt(alerts, ctx) {
      return adoptInto(states, alerts, (alert) => restoredState(alert, ctx));
    },
    onTick(ctx) {
      const transitions: Transition[] = [];
      for (const [key, state] of states) {
        const params = state.appliance.group.params.routeFlap;
        const value = decayed(state.merit, ctx.now, scaleOf(state.appliance));
        if (state.restored) {
          state.restored = false;
          if (value >= params.clearThreshold) transitions.push(alertFor(state, value, ctx));
        }
        if (state.level !== 'none' && value < params.clearThreshold) {
          state.level = 'none';
          state.counts = { withdrawal: 0, 'attribute-change': 0, readvertisement: 0 };
          state.routers = new Set();
          transitions.push(resolve('route-flap', key, `figure of merit decayed to ${Math.round(value)}, below ${params.clearThreshold}`));
        }
        if (state.level === 'none' && value < FORGET_BELOW) states.delete(key);
      }
      return transitions;
    },
  };
}
