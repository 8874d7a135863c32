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
 */
import { addressInCidr } from '../config/cidr.js';
import { fire, peerSummary, resolve, type Rule, type Transition } from './types.js';

export function unexpectedPeerRule(): Rule {
  /** key → route-server id → route-server name, for the sessions currently up. */
  const sessions = new Map<string, Map<string, string>>();
  /** "routerId|peerKey" → alert key, to find the alert when the session goes. */
  const byPeer = new Map<string, string>();

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
          return drop(`${event.router.id}|${event.peer.key}`, event.router.id, `session down on ${event.router.name}`);
        case 'router-down': {
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
