/**
 * unexpected-peer: a route server has a BGP session with a peer that is not an allowed appliance.
 *
 * - outside-ranges: the session address is inside no applianceGroups[].sessionRanges entry (and not in
 *   rules.unexpectedPeer.allowedPeers, the list for known non-appliance peers such as upstreams or other
 *   route servers);
 * - as-not-allowed: the address is in a group's range, but the peer AS is not among the group's asns.
 * Sessions are seen by their Peer Up. A wrong TCP-MD5 password, a wrong AS refused by the route server or an
 * address outside its listen range leave no BMP trace at all: only sessions the route server accepted show up.
 * The route server's own routes (all-zero peer header, Loc-RIB) are not peers.
 *
 * Key: address (+ AS for as-not-allowed), one alert over all route servers; resolves when the session is down
 * on every route server that had it. Parameters (rules.unexpectedPeer): enabled (true), allowedPeers ([]),
 * severity (warning).
 *
 * Down without a Peer Down: FRR 8.4 sends no Peer Down (and no withdrawals) when a dynamic (listen-range)
 * neighbour's session ends, which is exactly how an unexpected peer arrives; without another sign the alert would
 * fire forever. FRR sends a Statistics Report for every established peer in each round (`bmp stats interval`), so a
 * session that had reports and then misses MISSED_STATS_ROUNDS complete rounds of its route server is taken as
 * ended on that route server. A round ends when a peer that already reported in it reports again. Route servers
 * without statistics are unaffected.
 */
import { addressInCidr } from '../config/cidr.js';
import { fire, peerSummary, resolve, type Rule, type Transition } from './types.js';

/** Complete Statistics Report rounds a session may miss before it is taken as ended (see above). */
export const MISSED_STATS_ROUNDS = 2;

/** Per route server: its Statistics Report rounds, and the last round each peer reported in. */
interface StatsRounds {
  round: number;
  readonly reportedThisRound: Set<string>;
  /** peer key → last round with a report (or the round of its Peer Up). */
  readonly lastRound: Map<string, number>;
}

export function unexpectedPeerRule(): Rule {
  /** key → route-server id → route-server name, for the sessions currently up. */
  const sessions = new Map<string, Map<string, string>>();
  /** "routerId|peerKey" → alert key, to find the alert when the session goes. */
  const byPeer = new Map<string, string>();
  /** route-server id → statistics rounds. */
  const rounds = new Map<string, StatsRounds>();

  const roundsOf = (routerId: string): StatsRounds => {
    let state = rounds.get(routerId);
    if (state === undefined) {
      state = { round: 0, reportedThisRound: new Set(), lastRound: new Map() };
      rounds.set(routerId, state);
    }
    return state;
  };

  const drop = (sessionKey: string, routerId: string, reason: string): Transition[] => {
    const key = byPeer.get(sessionKey);
    if (key === undefined) return [];
    byPeer.delete(sessionKey);
    const routers = sessions.get(key);
    routers?.delete(routerId);
    if (routers !== undefined && routers.size > 0) return [];
    sessions.delete(key);
    return [resolve('unexpected-peer', key, reason)];
  };

  return {
    id: 'unexpected-peer',
    onEvent(event, ctx) {
      switch (event.type) {
        case 'peer-up': {
          if (event.peer.isLocal || !ctx.settings.enabled('unexpected-peer')) return [];
          const peer = event.peer;
          const group = ctx.view.directory.groupOf(peer.address);
          let key: string;
          let summary: string;
          let explanation: string;
          let action: string;
          if (group === undefined) {
            if (ctx.settings.allowedPeers.some((cidr) => addressInCidr(peer.address, cidr))) return [];
            key = peer.address;
            summary = `${event.router.name} has a BGP session with ${peer.address} (AS ${peer.as}), outside every appliance range`;
            explanation = `${peer.address} is in no applianceGroups sessionRanges and not in rules.unexpectedPeer.allowedPeers, yet ${event.router.name} accepted a session from it (BGP ID ${peer.bgpId}, local address ${event.localAddress}). The route server's listen range may be wider than intended.`;
            action = `Check ${event.router.name}'s listen ranges and neighbours; if ${peer.address} is legitimate, add it to a group's sessionRanges or to rules.unexpectedPeer.allowedPeers.`;
          } else if (!group.asns.has(peer.as)) {
            key = `${peer.address}|AS${peer.as}`;
            summary = `${event.router.name} has a session with ${peer.address} in AS ${peer.as}, not allowed for group "${group.name}"`;
            explanation = `${peer.address} is in the session ranges of group "${group.name}", whose appliances may use AS ${[...group.asns].join(', ')}; this session uses AS ${peer.as}.`;
            action = `Fix the AS on the appliance at ${peer.address}, or add AS ${peer.as} to applianceGroups "${group.name}" asns if it is legitimate; the route server should refuse it (remote-as per listen range).`;
          } else {
            return [];
          }
          let routers = sessions.get(key);
          if (routers === undefined) {
            routers = new Map();
            sessions.set(key, routers);
          }
          routers.set(event.router.id, event.router.name);
          byPeer.set(`${event.router.id}|${peer.key}`, key);
          const state = roundsOf(event.router.id);
          state.lastRound.set(peer.key, state.round);
          return [
            fire({
              rule: 'unexpected-peer',
              key,
              severity: ctx.settings.rules.unexpectedPeer.severity,
              summary,
              explanation,
              suggestedAction: action,
              router: event.router.name,
              routers: [...routers.values()].sort(),
              peer: peerSummary(peer),
              ...(group !== undefined && { group: group.name }),
              firstSeen: ctx.now,
              lastSeen: ctx.now,
              details: { reason: group === undefined ? 'outside-ranges' : 'as-not-allowed', localAddress: event.localAddress },
            }),
          ];
        }
        case 'peer-down':
          rounds.get(event.router.id)?.lastRound.delete(event.peer.key);
          return drop(`${event.router.id}|${event.peer.key}`, event.router.id, `session down on ${event.router.name}`);
        case 'statistics': {
          if (event.peer.isLocal) return [];
          const state = roundsOf(event.router.id);
          if (state.reportedThisRound.has(event.peer.key)) {
            state.round++;
            state.reportedThisRound.clear();
          }
          state.reportedThisRound.add(event.peer.key);
          state.lastRound.set(event.peer.key, state.round);
          const transitions: Transition[] = [];
          const prefix = `${event.router.id}|`;
          for (const sessionKey of [...byPeer.keys()]) {
            if (!sessionKey.startsWith(prefix)) continue;
            const last = state.lastRound.get(sessionKey.slice(prefix.length));
            if (last === undefined || state.round - last <= MISSED_STATS_ROUNDS) continue;
            transitions.push(...drop(sessionKey, event.router.id, `no Statistics Report for the session from ${event.router.name} in ${state.round - last - 1} rounds: it ended (FRR sends no Peer Down for dynamic neighbours)`));
          }
          return transitions;
        }
        case 'router-down': {
          rounds.delete(event.router.id);
          const transitions: Transition[] = [];
          for (const sessionKey of [...byPeer.keys()]) {
            if (sessionKey.startsWith(`${event.router.id}|`)) transitions.push(...drop(sessionKey, event.router.id, `BMP session of ${event.router.name} ended`));
          }
          return transitions;
        }
        default:
          return [];
      }
    },
  };
}
