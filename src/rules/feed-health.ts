/**
 * Feed health: whether bmpwatch can trust what it sees. Four rules, all keyed by route-server name, parameters
 * in rules.feedHealth (enabled, true, switches all four):
 *
 * feed-lost — a route server's BMP session ended (closed, Termination, framing error, limit) and it did not come
 *   back within lostGraceSeconds (60; a restart is an event, not an outage). Critical. Resolves when any event
 *   arrives from a route server of that name again. A collector shutdown is not a loss. Survives a restart of
 *   bmpwatch: a restored feed-lost alert stays firing until the route server reconnects.
 *
 * stats-missing — no Statistics Report for statsIntervalFactor (2) times the route server's interval. The
 *   interval is statsIntervalSeconds if set, else learned: the median gap between report rounds (reports of all
 *   peers within a second are one round), after two gaps. Only while the route server has a peer up (FRR reports
 *   per peer). Warning. Resolves at the next report.
 *
 * rejected-spike — the route server's "prefixes rejected by inbound policy" statistic (BMP stat type 0) of one
 *   peer rose by rejectedPrefixesThreshold (1) or more within rejectedPrefixesWindowSeconds (300). The first report
 *   of a session is the baseline; a counter that goes down (new session) restarts it. Warning; key route server +
 *   peer address. Resolves after a window without increase. It corroborates filter-gap/unexpected-prefix for
 *   route servers that do not export pre-policy routes.
 *
 * rs-incident — every peer of one route server went down at once: the Peer Downs of all peers that were up came
 *   within incidentWindowSeconds (10), with at least incidentMinPeers (2) of them. One critical alert for the
 *   route server; the per-appliance session-down and session-churn alerts it explains are held back. Resolves when
 *   half of those peers are up again (or the BMP session ends: then feed-lost takes over).
 */
import { fire, note, peerSummary, resolve, type AdoptedAlert, type Rule, type RuleContext, type Transition } from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// feed-lost
// ---------------------------------------------------------------------------------------------------------------

interface Lost {
  /** The connection that ended: its own final events (withdrawals after router-down) are not a return. */
  readonly routerId: string;
  readonly since: number;
  readonly reason: string;
  readonly detail: string;
  readonly address: string;
  fired: boolean;
}

export function feedLostRule(): Rule {
  const lost = new Map<string, Lost>();
  return {
    id: 'feed-lost',
    onEvent(event, ctx) {
      const name = event.router.name;
      if (event.type === 'router-down') {
        if (event.reason === 'shutdown' || !ctx.settings.enabled('feed-lost')) return [];
        if (!lost.has(name)) lost.set(name, { routerId: event.router.id, since: ctx.now, reason: event.reason, detail: event.detail, address: event.router.address, fired: false });
        return [];
      }
      const record = lost.get(name);
      if (record === undefined || record.routerId === event.router.id) return [];
      lost.delete(name);
      const downFor = Math.round((ctx.now - record.since) / 1000);
      if (record.fired) return [resolve('feed-lost', name, `${name} is streaming BMP again (after ${downFor} s)`)];
      return [note({ rule: 'feed-lost', kind: 'feed-reconnected', time: ctx.now, message: `${name} reconnected after ${downFor} s (${record.reason})`, details: { router: name, seconds: downFor } })];
    },
    onTick(ctx) {
      const transitions: Transition[] = [];
      const graceMs = ctx.settings.rules.feedHealth.lostGraceSeconds * 1000;
      for (const [name, record] of lost) {
        if (record.fired || ctx.now - record.since < graceMs) continue;
        record.fired = true;
        const terminated = record.reason === 'termination';
        transitions.push(
          fire({
            rule: 'feed-lost',
            key: name,
            severity: 'critical',
            summary: `BMP feed from ${name} ${terminated ? 'terminated' : 'lost'} (${record.reason})`,
            explanation: `${name} (${record.address}) ${terminated ? 'sent a BMP Termination' : `closed its BMP session (${record.reason}: ${record.detail})`} at ${new Date(record.since).toISOString()} and has not reconnected for ${graceMs / 1000} s. Until it does, bmpwatch sees nothing of its sessions and routes: no alert about them can fire.`,
            suggestedAction: `Check ${name}: is it running, is its BMP target (bmp connect … in FRR) pointing at this collector, is it allowed by routers.allowedSources?`,
            router: name,
            firstSeen: record.since,
            lastSeen: record.since,
            details: { reason: record.reason, detail: record.detail, address: record.address },
          }),
        );
      }
      return transitions;
    },
    adopt(alerts: readonly AdoptedAlert[]) {
      for (const alert of alerts) {
        if (!lost.has(alert.key)) lost.set(alert.key, { routerId: '', since: alert.startsAt, reason: 'before restart', detail: 'restored', address: '', fired: true });
      }
      // Kept firing until the route server streams again (its reconnection is an event the rule sees).
      return alerts.map((alert) => alert.key);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// stats-missing
// ---------------------------------------------------------------------------------------------------------------

/** Reports closer together than this are one round (FRR sends one per peer, back to back). */
const ROUND_MS = 1_000;
/** Gaps remembered to learn the interval from (median). */
const GAPS_KEPT = 5;

interface StatsState {
  readonly name: string;
  last: number;
  gaps: number[];
  fired: boolean;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function statsMissingRule(): Rule {
  const states = new Map<string, StatsState>();
  const intervalOf = (state: StatsState, ctx: RuleContext): number | undefined => {
    const configured = ctx.settings.rules.feedHealth.statsIntervalSeconds;
    if (configured !== undefined) return configured * 1000;
    return state.gaps.length >= 2 ? median(state.gaps) : undefined;
  };
  return {
    id: 'stats-missing',
    onEvent(event, ctx) {
      if (event.type === 'router-down') {
        const state = states.get(event.router.id);
        states.delete(event.router.id);
        return state?.fired ? [resolve('stats-missing', state.name, 'the BMP session ended (see feed-lost)')] : [];
      }
      if (event.type !== 'statistics') return [];
      const state = states.get(event.router.id);
      if (state === undefined) {
        states.set(event.router.id, { name: event.router.name, last: ctx.now, gaps: [], fired: false });
        return [];
      }
      const gap = ctx.now - state.last;
      if (gap < ROUND_MS) return [];
      state.gaps.push(gap);
      if (state.gaps.length > GAPS_KEPT) state.gaps.shift();
      state.last = ctx.now;
      if (!state.fired) return [];
      state.fired = false;
      return [resolve('stats-missing', state.name, `a Statistics Report arrived after ${Math.round(gap / 1000)} s`)];
    },
    onTick(ctx) {
      if (!ctx.settings.enabled('stats-missing')) return [];
      const transitions: Transition[] = [];
      const factor = ctx.settings.rules.feedHealth.statsIntervalFactor;
      for (const [id, state] of states) {
        const interval = intervalOf(state, ctx);
        const router = ctx.view.router(id);
        if (state.fired || interval === undefined || router === undefined || !router.connected || router.upPeers === 0) continue;
        const silent = ctx.now - state.last;
        if (silent <= factor * interval) continue;
        state.fired = true;
        transitions.push(
          fire({
            rule: 'stats-missing',
            key: state.name,
            severity: 'warning',
            summary: `No BMP statistics from ${state.name} for ${Math.round(silent / 1000)} s (interval ${Math.round(interval / 1000)} s)`,
            explanation: `${state.name} sends a Statistics Report every ${Math.round(interval / 1000)} s${ctx.settings.rules.feedHealth.statsIntervalSeconds === undefined ? ' (learned from its reports)' : ''}; none has arrived for ${Math.round(silent / 1000)} s, more than ${factor}× the interval, while its BMP session is up. Its BMP process may be stuck, or messages are queued behind a slow collector.`,
            suggestedAction: `Check ${state.name}'s BMP state (FRR: "show bmp"), and the collector's paused sockets (bmpwatch_paused_sockets).`,
            router: state.name,
            firstSeen: state.last,
            lastSeen: ctx.now,
            details: { silentSeconds: Math.round(silent / 1000), intervalSeconds: Math.round(interval / 1000) },
          }),
        );
      }
      return transitions;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// rejected-spike
// ---------------------------------------------------------------------------------------------------------------

/** BMP statistics type 0 (RFC 7854 §4.8): prefixes rejected by inbound policy. */
const STAT_REJECTED = 0;

interface RejectState {
  readonly key: string;
  last: number | undefined;
  increments: { time: number; amount: number }[];
  fired: boolean;
}

export function rejectedSpikeRule(): Rule {
  const states = new Map<string, RejectState>();
  return {
    id: 'rejected-spike',
    onEvent(event, ctx) {
      if (event.type === 'peer-down') {
        const state = states.get(`${event.router.id}|${event.peer.key}`);
        if (state) state.last = undefined;
        return [];
      }
      if (event.type === 'router-down') {
        const transitions: Transition[] = [];
        for (const [id, state] of states) {
          if (!id.startsWith(`${event.router.id}|`)) continue;
          states.delete(id);
          if (state.fired) transitions.push(resolve('rejected-spike', state.key, 'the BMP session ended'));
        }
        return transitions;
      }
      if (event.type !== 'statistics' || !ctx.settings.enabled('rejected-spike')) return [];
      const stat = event.stats.find((s) => s.type === STAT_REJECTED);
      if (stat === undefined) return [];
      const id = `${event.router.id}|${event.peer.key}`;
      let state = states.get(id);
      if (state === undefined) {
        state = { key: `${event.router.name}|${event.peer.address}`, last: undefined, increments: [], fired: false };
        states.set(id, state);
      }
      const previous = state.last;
      state.last = stat.value;
      if (previous === undefined) return [];
      const amount = stat.value >= previous ? stat.value - previous : stat.value;
      if (amount === 0) return [];
      const params = ctx.settings.rules.feedHealth;
      state.increments.push({ time: ctx.now, amount });
      state.increments = state.increments.filter((inc) => ctx.now - inc.time <= params.rejectedPrefixesWindowSeconds * 1000);
      const total = state.increments.reduce((sum, inc) => sum + inc.amount, 0);
      if (total < params.rejectedPrefixesThreshold || state.fired) return [];
      state.fired = true;
      const appliance = ctx.view.directory.resolve(event.peer);
      return [
        fire({
          rule: 'rejected-spike',
          key: state.key,
          severity: 'warning',
          summary: `${event.router.name} rejected ${total} more prefix${total === 1 ? '' : 'es'} from ${appliance?.name ?? event.peer.address} in ${params.rejectedPrefixesWindowSeconds / 60} min`,
          explanation: `The route server's "prefixes rejected by inbound policy" statistic for ${event.peer.address} rose from ${previous} to ${stat.value} (threshold ${params.rejectedPrefixesThreshold} within ${params.rejectedPrefixesWindowSeconds} s). Its filters are working, but the peer is announcing something it should not.`,
          suggestedAction: `See the unexpected-prefix alerts for ${appliance?.name ?? event.peer.address} (with pre-policy monitoring), or the route server's rejected routes, and fix what the peer announces.`,
          router: event.router.name,
          peer: peerSummary(event.peer),
          ...(appliance && { appliance: appliance.name, group: appliance.group.name }),
          firstSeen: state.increments[0].time,
          lastSeen: ctx.now,
          details: { rejected: stat.value, previous, increase: total },
        }),
      ];
    },
    onTick(ctx) {
      const transitions: Transition[] = [];
      const windowMs = ctx.settings.rules.feedHealth.rejectedPrefixesWindowSeconds * 1000;
      for (const state of states.values()) {
        state.increments = state.increments.filter((inc) => ctx.now - inc.time <= windowMs);
        if (state.fired && state.increments.length === 0) {
          state.fired = false;
          transitions.push(resolve('rejected-spike', state.key, `no more rejections for ${windowMs / 1000} s`));
        }
      }
      return transitions;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// rs-incident
// ---------------------------------------------------------------------------------------------------------------

export function rsIncidentRule(): Rule {
  /** Router name → "startedAt" of the incident fired for it. */
  const fired = new Map<string, { routerId: string; startedAt: number }>();

  const evaluate = (ctx: RuleContext): Transition[] => {
    const transitions: Transition[] = [];
    const active = new Map([...ctx.view.activeIncidents()].map((incident) => [`${incident.routerId}|${incident.startedAt}`, incident]));
    for (const [name, record] of fired) {
      if (active.has(`${record.routerId}|${record.startedAt}`)) continue;
      fired.delete(name);
      transitions.push(resolve('rs-incident', name, 'half of its peers are up again, or its BMP session ended'));
    }
    if (!ctx.settings.enabled('rs-incident')) return transitions;
    for (const incident of active.values()) {
      const current = fired.get(incident.routerName);
      if (current !== undefined && current.startedAt === incident.startedAt) continue;
      fired.set(incident.routerName, { routerId: incident.routerId, startedAt: incident.startedAt });
      transitions.push(
        fire({
          rule: 'rs-incident',
          key: incident.routerName,
          severity: 'critical',
          summary: `Every peer of ${incident.routerName} went down at once (${incident.peers.length} sessions)`,
          explanation: `${incident.peers.length} BGP sessions of ${incident.routerName} went down within ${Math.round((incident.detectedAt - incident.startedAt) / 1000)} s and none is up: a problem of the route server (restart, network, BGP process), not of the appliances. Per-appliance session-down and session-churn alerts it explains are held back.`,
          suggestedAction: `Check ${incident.routerName}: BGP daemon, interfaces, reachability of the appliance ranges, recent configuration changes.`,
          router: incident.routerName,
          firstSeen: incident.startedAt,
          lastSeen: incident.detectedAt,
          details: { peers: incident.peers.length },
        }),
      );
    }
    return transitions;
  };

  return {
    id: 'rs-incident',
    onEvent(event, ctx) {
      if (event.type !== 'peer-down' && event.type !== 'peer-up' && event.type !== 'router-down') return [];
      return evaluate(ctx);
    },
    onTick: evaluate,
  };
}
