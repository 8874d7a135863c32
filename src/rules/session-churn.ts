/**
 * session-churn: an appliance's BGP sessions keep going down.
 *
 * Every Peer Down of a session that was up counts, including the implied one FRR signals only by a Peer Up for a
 * peer already up (dynamic neighbours get no Peer Down). Scored two ways, either raises the alert:
 * - a figure of merit as for route flaps: +penalty (1000) per Peer Down, half-life halfLifeSeconds (900);
 *   warning at warningThreshold (3000), critical at criticalThreshold (6000), capped at maxPenalty (12000);
 * - a count: countThreshold (3) Peer Downs within countWindowSeconds (600) is a warning (VMware NPM's
 *   definition of a flapping session).
 * Resolves when the figure of merit is below clearThreshold (750) and the count in the window below
 * countThreshold. Each alert carries the recent Peer Downs with reason codes and NOTIFICATION code/subcode.
 *
 * Counted once: an appliance that restarts drops its session on every route server; Peer Downs of the same
 * appliance within dedupeWindowSeconds (30) from route servers that have not reported since count once.
 * Explained, not counted: Peer Downs that are part of a route-server incident (every peer of that route server
 * down at once, see rs-incident). To know that, a Peer Down is scored rules.feedHealth.incidentWindowSeconds
 * (10 s) after it arrives, at the next evaluation tick.
 * Key: appliance. Parameters: rules.sessionChurn, per group rules.groups[].sessionChurn.
 * After a restart of bmpwatch the rule takes its firing alerts over (see restoredState).
 */
import type { BgpNotification } from '../bgp/types.js';
import { addPenalty, decayed, EventDeduper, ZERO_MERIT, type Merit, type MeritScale } from './figure-of-merit.js';
import type { Appliance } from './appliances.js';
import { adoptInto, fire, note, peerSummary, resolve, type AdoptedAlert, type JsonValue, type PeerSummary, type Rule, type RuleContext, type Transition } from './types.js';

interface Down {
  readonly time: number;
  readonly routerId: string;
  readonly router: string;
  readonly appliance: Appliance;
  readonly peer: PeerSummary;
  readonly reason: number;
  readonly reasonName: string;
  readonly notification?: BgpNotification;
  readonly implied: boolean;
}

interface ChurnState {
  merit: Merit;
  level: 'none' | 'warning' | 'critical';
  /** Taken over from before a restart: assert the alert again at the next tick (or resolve it). */
  restored: boolean;
  readonly deduper: EventDeduper;
  appliance: Appliance;
  downs: Down[];
}

/** Peer Downs kept per appliance for the count window and the alert's evidence. */
const MAX_DOWNS_KEPT = 50;

export function describeDown(down: Down): { [key: string]: JsonValue } {
  return {
    time: new Date(down.time).toISOString(),
    router: down.router,
    reason: down.reason,
    reasonName: down.reasonName,
    implied: down.implied,
    ...(down.notification && {
      notification: { code: down.notification.code, subcode: down.notification.subcode, name: `${down.notification.codeName} / ${down.notification.subcodeName}` },
    }),
  };
}

function scaleOf(appliance: Appliance): MeritScale {
  const params = appliance.group.params.sessionChurn;
  return { halfLifeMs: params.halfLifeSeconds * 1000, maxPenalty: params.maxPenalty };
}

/**
 * A firing alert from before a restart, as rule state: the figure of merit it last announced, decaying from the
 * last Peer Down it names, and the Peer Downs it lists (for the count window; their NOTIFICATION details are not
 * restored). Later Peer Downs that were not announced are lost, so this is a lower bound.
 */
function restoredState(alert: AdoptedAlert, ctx: RuleContext): ChurnState | undefined {
  const merit = alert.details?.figureOfMerit;
  const listed = alert.details?.downs;
  if (typeof merit !== 'number' || !Array.isArray(listed) || alert.peer === undefined) return undefined;
  const appliance = ctx.view.directory.resolveAddress(alert.peer.address, alert.peer.bgpId);
  if (appliance === undefined || appliance.id !== alert.key || !ctx.settings.enabled('session-churn', appliance.group)) return undefined;
  const peer = alert.peer;
  const downs: Down[] = [];
  for (const item of listed) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const time = typeof item.time === 'string' ? Date.parse(item.time) : Number.NaN;
    if (Number.isNaN(time)) continue;
    downs.push({
      time,
      routerId: '',
      router: typeof item.router === 'string' ? item.router : '',
      appliance,
      peer,
      reason: typeof item.reason === 'number' ? item.reason : 0,
      reasonName: typeof item.reasonName === 'string' ? item.reasonName : 'unknown',
      implied: item.implied === true,
    });
  }
  if (downs.length === 0) return undefined;
  return {
    merit: { value: merit, at: alert.lastSeen ?? downs[downs.length - 1].time },
    level: alert.severity === 'critical' ? 'critical' : 'warning',
    restored: true,
    deduper: new EventDeduper(),
    appliance,
    downs,
  };
}

export function sessionChurnRule(): Rule {
  const pending: Down[] = [];
  const states = new Map<string, ChurnState>();

  const inWindow = (state: ChurnState, now: number): Down[] => {
    const windowMs = state.appliance.group.params.sessionChurn.countWindowSeconds * 1000;
    return state.downs.filter((down) => now - down.time <= windowMs);
  };

  const score = (down: Down, ctx: RuleContext): Transition[] => {
    const incident = ctx.view.incidentAt(down.routerId, down.time);
    if (incident !== undefined) {
      return [
        note({
          rule: 'session-churn',
          kind: 'explained-by-incident',
          time: ctx.now,
          message: `Peer Down of ${down.appliance.name} on ${down.router} is part of a route-server incident; not counted as churn`,
          details: { appliance: down.appliance.name, router: down.router },
        }),
      ];
    }
    const appliance = down.appliance;
    const params = appliance.group.params.sessionChurn;
    let state = states.get(appliance.id);
    if (state === undefined) {
      state = { merit: ZERO_MERIT, level: 'none', restored: false, deduper: new EventDeduper(), appliance, downs: [] };
      states.set(appliance.id, state);
    }
    state.appliance = appliance;
    if (!state.deduper.count('down', down.router, down.time, params.dedupeWindowSeconds * 1000)) return [];
    state.merit = addPenalty(state.merit, params.penalty, down.time, scaleOf(appliance));
    state.downs.push(down);
    if (state.downs.length > MAX_DOWNS_KEPT) state.downs.shift();
    const value = decayed(state.merit, ctx.now, scaleOf(appliance));
    const count = inWindow(state, ctx.now).length;
    const level = value >= params.criticalThreshold ? 'critical' : value >= params.warningThreshold || count >= params.countThreshold ? 'warning' : 'none';
    const rank = { none: 0, warning: 1, critical: 2 };
    if (level === 'none' || rank[level] <= rank[state.level]) return [];
    state.level = level;
    return [churnAlert(state, value, ctx)];
  };

  const churnAlert = (state: ChurnState, value: number, ctx: RuleContext): Transition => {
    const { appliance } = state;
    const params = appliance.group.params.sessionChurn;
    const recent = inWindow(state, ctx.now);
    const last = state.downs[state.downs.length - 1];
    const level = state.level === 'critical' ? 'critical' : 'warning';
    return fire({
      rule: 'session-churn',
      key: appliance.id,
      severity: level,
      summary: `${appliance.name}'s BGP sessions keep resetting: ${recent.length} Peer Downs in ${params.countWindowSeconds / 60} min (figure of merit ${Math.round(value)})`,
      explanation: `Counted once across route servers: ${recent.length} Peer Downs within ${params.countWindowSeconds} s (threshold ${params.countThreshold}); figure of merit ${Math.round(value)} (warning ${params.warningThreshold}, critical ${params.criticalThreshold}, half-life ${params.halfLifeSeconds} s). Last: ${last.reasonName}${last.notification ? ` with NOTIFICATION ${last.notification.code}/${last.notification.subcode} (${last.notification.codeName} / ${last.notification.subcodeName})` : ''} on ${last.router}.`,
      suggestedAction: `Look at ${appliance.name}'s BGP logs around the Peer Down times: hold timer expiry points at load or the network, NOTIFICATION Cease at a restart loop or max-prefix, an implied reset (FRR dynamic neighbour) at the appliance reconnecting.`,
      router: last.router,
      routers: [...new Set(state.downs.map((d) => d.router))].sort(),
      peer: last.peer,
      appliance: appliance.name,
      group: appliance.group.name,
      firstSeen: recent[0]?.time ?? last.time,
      lastSeen: last.time,
      details: { figureOfMerit: Math.round(value), downsInWindow: recent.length, downs: recent.slice(-10).map(describeDown) },
    });
  };

  const drain = (ctx: RuleContext): Transition[] => {
    const transitions: Transition[] = [];
    const delayMs = ctx.settings.rules.feedHealth.incidentWindowSeconds * 1000;
    while (pending.length > 0 && ctx.now - pending[0].time >= delayMs) {
      const down = pending.shift();
      if (down !== undefined) transitions.push(...score(down, ctx));
    }
    return transitions;
  };

  return {
    id: 'session-churn',
    onEvent(event, ctx) {
      const transitions = drain(ctx);
      if (event.type !== 'peer-down' || !event.wasUp) return transitions;
      const appliance = ctx.view.directory.resolve(event.peer);
      if (appliance === undefined || !ctx.settings.enabled('session-churn', appliance.group)) return transitions;
      pending.push({
        time: ctx.now,
        routerId: event.router.id,
        router: event.router.name,
        appliance,
        peer: peerSummary(event.peer),
        reason: event.reason,
        reasonName: event.reasonName,
        ...(event.notification && { notification: event.notification }),
        implied: event.implied,
      });
      return transitions;
    },
    adopt(alerts, ctx) {
      return adoptInto(states, alerts, (alert) => restoredState(alert, ctx));
    },
    onTick(ctx) {
      const transitions = drain(ctx);
      for (const [id, state] of states) {
        const params = state.appliance.group.params.sessionChurn;
        const value = decayed(state.merit, ctx.now, scaleOf(state.appliance));
        const count = inWindow(state, ctx.now).length;
        if (state.restored) {
          state.restored = false;
          if (value >= params.clearThreshold || count >= params.countThreshold) transitions.push(churnAlert(state, value, ctx));
        }
        if (state.level !== 'none' && value < params.clearThreshold && count < params.countThreshold) {
          state.level = 'none';
          transitions.push(resolve('session-churn', id, `figure of merit ${Math.round(value)} below ${params.clearThreshold} and ${count} Peer Downs in the window`));
        }
        if (state.level === 'none' && value < 1 && count === 0) states.delete(id);
      }
      return transitions;
    },
  };
}
