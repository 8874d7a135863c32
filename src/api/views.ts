/**
 * JSON views of the live state, shared by the HTTP API and `bmpwatch peers/routes --json`. These shapes are a
 * stable interface (documented in README.md, "Live API"): add fields, never rename or remove them.
 */
import type { RibTable } from '../bmp/types.js';
import type { RouterSession } from '../collector/router-session.js';
import { RIB_TABLES, splitRouteKey, type PeerState } from '../rib/router-rib.js';

export type PrefixCounts = Record<RibTable, { ipv4: number; ipv6: number; total: number }>;

export interface RouterView {
  id: string;
  address: string;
  port: number;
  name: string;
  sysName: string | null;
  sysDescr: string | null;
  connectedAt: string;
  uptimeSeconds: number;
  messages: number;
  bytes: number;
  decodeErrors: number;
  addPathFallbacks: number;
  peers: number;
  routes: number;
  paused: boolean;
}

export interface PeerView {
  router: string;
  routerId: string;
  address: string;
  as: number;
  bgpId: string;
  peerType: string;
  distinguisher: string;
  isLocal: boolean;
  state: PeerState['state'];
  since: string;
  uptimeSeconds: number | null;
  resets: number;
  prefixes: PrefixCounts;
  lastDown: { time: string; reason: number; reasonName: string; notification?: string } | null;
}

export interface RouteView {
  router: string;
  peer: string;
  peerAs: number;
  table: RibTable;
  prefix: string;
  pathId: number | null;
  nextHop: string | null;
  linkLocalNextHop: string | null;
  asPath: string;
  origin: string | null;
  localPref: number | null;
  med: number | null;
  communities: readonly string[];
  largeCommunities: readonly string[];
  extendedCommunities: readonly string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toRouterView(session: RouterSession, now: number): RouterView {
  const peers = [...session.rib.peers()].length;
  return {
    id: session.router.id,
    address: session.router.address,
    port: session.router.port,
    name: session.router.name,
    sysName: session.stats.sysName ?? null,
    sysDescr: session.stats.sysDescr ?? null,
    connectedAt: iso(session.stats.connectedAt),
    uptimeSeconds: Math.round((now - session.stats.connectedAt) / 1000),
    messages: session.stats.messages,
    bytes: session.stats.bytes,
    decodeErrors: session.stats.decodeErrors,
    addPathFallbacks: session.stats.addPathFallbacks,
    peers,
    routes: session.rib.routeCount,
    paused: session.isPaused,
  };
}

function prefixCounts(peer: PeerState): PrefixCounts {
  const counts = {} as PrefixCounts;
  for (const table of RIB_TABLES) {
    const c = peer.counts.get(table) ?? { ipv4: 0, ipv6: 0 };
    counts[table] = { ipv4: c.ipv4, ipv6: c.ipv6, total: c.ipv4 + c.ipv6 };
  }
  return counts;
}

export function toPeerView(session: RouterSession, peer: PeerState, now: number): PeerView {
  return {
    router: session.router.name,
    routerId: session.router.id,
    address: peer.ref.address,
    as: peer.ref.as,
    bgpId: peer.ref.bgpId,
    peerType: peer.ref.peerTypeName,
    distinguisher: peer.ref.distinguisher,
    isLocal: peer.ref.isLocal,
    state: peer.state,
    since: iso(peer.since),
    uptimeSeconds: peer.state === 'up' ? Math.round((now - peer.since) / 1000) : null,
    resets: peer.resets,
    prefixes: prefixCounts(peer),
    lastDown: peer.lastDown ? { ...peer.lastDown, time: iso(peer.lastDown.time) } : null,
  };
}

export function peerViews(sessions: readonly RouterSession[], now: number): PeerView[] {
  const views: PeerView[] = [];
  for (const session of sessions) for (const peer of session.rib.peers()) views.push(toPeerView(session, peer, now));
  return views;
}

export interface RouteQuery {
  /** Peer address (or "local" for the route server's own routes). */
  readonly peer: string;
  readonly router?: string;
  readonly table?: RibTable;
  readonly limit?: number;
}

export function routeViews(sessions: readonly RouterSession[], query: RouteQuery): RouteView[] {
  const views: RouteView[] = [];
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  for (const session of sessions) {
    if (query.router !== undefined && query.router !== session.router.name && query.router !== session.router.id && query.router !== session.router.address) continue;
    for (const peer of session.rib.peers()) {
      const matches = query.peer === 'local' ? peer.ref.isLocal : peer.ref.address === query.peer || peer.ref.bgpId === query.peer;
      if (!matches) continue;
      for (const [table, routes] of peer.tables) {
        if (query.table !== undefined && table !== query.table) continue;
        for (const [key, entry] of routes) {
          if (views.length >= limit) return views;
          const { prefix, pathId } = splitRouteKey(key);
          const a = entry.attributes;
          views.push({
            router: session.router.name,
            peer: peer.ref.address,
            peerAs: peer.ref.as,
            table,
            prefix,
            pathId: pathId ?? null,
            nextHop: a.nextHop,
            linkLocalNextHop: a.linkLocalNextHop ?? null,
            asPath: a.asPathText,
            origin: a.origin ?? null,
            localPref: a.localPref ?? null,
            med: a.med ?? null,
            communities: a.communities ?? [],
            largeCommunities: a.largeCommunities ?? [],
            extendedCommunities: a.extendedCommunities ?? [],
          });
        }
      }
    }
  }
  return views;
}
