/**
 * What FRR holds vs what bmpwatch holds, as sorted text lines so a mismatch prints as a readable diff. The same
 * comparison used by test/integration/frr-route-server.test.ts and test/faults (expected state from vtysh JSON, never from the test),
 * against the live API of any collector (a `bmpwatch serve` child here).
 *
 * FRR side: Established neighbours (`show bgp neighbors json`); post-policy = valid paths of `show bgp FAMILY
 * unicast json` by peerId ("(unspec)" = the route server's own routes, "local"); pre-policy = `received-routes`
 * per neighbour (soft-reconfiguration inbound). Collector side: /api/peers and /api/routes?peer=….
 */
import { Address6 } from 'ip-address';
import type { PeerView, RouteView } from '../../src/api/views.js';
import type { FrrBgpTableJson, FrrRouteServer } from './daemons/frr.js';

type Family = 'ipv4' | 'ipv6';
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
export const LOCAL = 'local';

export interface State {
  /** `ADDRESS AS<as> id <bgpId> <state>` per BGP neighbour. */
  readonly peers: string[];
  /** `TABLE PEER PREFIX via NEXTHOP`. */
  readonly routes: string[];
}

interface FrrNeighborJson {
  readonly remoteAs: number;
  readonly remoteRouterId: string;
  readonly bgpState: string;
}

interface FrrReceivedRoutesJson {
  readonly receivedRoutes?: Record<string, { readonly nextHop?: string; readonly nextHopGlobal?: string }>;
}

interface FrrPathWithNexthops {
  readonly valid?: boolean;
  readonly peerId?: string;
  readonly nexthops?: readonly { readonly ip: string; readonly afi: string; readonly scope?: string }[];
}

function canonicalNextHop(nextHop: string | null | undefined): string {
  if (nextHop === null || nextHop === undefined) return '(none)';
  return nextHop.includes(':') ? new Address6(nextHop).correctForm() : nextHop;
}

const routeLine = (table: string, peer: string, prefix: string, nextHop: string | null | undefined): string => `${table} ${peer} ${prefix} via ${canonicalNextHop(nextHop)}`;
const peerLine = (address: string, as: number, bgpId: string, state: string): string => `${address} AS${as} id ${bgpId} ${state}`;

export async function frrState(rs: FrrRouteServer): Promise<State> {
  const neighbors = await rs.vtyshJson<Record<string, FrrNeighborJson>>('show bgp neighbors json');
  const established = Object.entries(neighbors).filter(([, n]) => n.bgpState === 'Established');
  const peers = established.map(([address, n]) => peerLine(address, n.remoteAs, n.remoteRouterId, 'up'));
  const routes: string[] = [];
  for (const family of FAMILIES) {
    const table = await rs.vtyshJson<FrrBgpTableJson>(`show bgp ${family} unicast json`);
    for (const [prefix, paths] of Object.entries(table.routes ?? {})) {
      for (const path of paths as readonly FrrPathWithNexthops[]) {
        if (!path.valid) continue;
        const nextHop = path.nexthops?.find((n) => n.scope === undefined || n.scope === 'global')?.ip;
        routes.push(routeLine('adj-rib-in-post', path.peerId === '(unspec)' ? LOCAL : String(path.peerId), prefix, nextHop));
      }
    }
    for (const [address] of established) {
      const received = await rs.vtyshJson<FrrReceivedRoutesJson>(`show bgp ${family} unicast neighbors ${address} received-routes json`);
      for (const [prefix, route] of Object.entries(received.receivedRoutes ?? {})) {
        routes.push(routeLine('adj-rib-in-pre', address, prefix, route.nextHop ?? route.nextHopGlobal));
      }
    }
  }
  return { peers: peers.sort(), routes: routes.sort() };
}

/** The collector's side, from its live API (`get` fetches and parses a JSON path). */
export async function collectorState(get: <T>(path: string) => Promise<T>): Promise<State> {
  const peers = await get<PeerView[]>('/api/peers');
  const routes: string[] = [];
  const queries = new Set(peers.map((p) => (p.isLocal ? LOCAL : p.address)));
  for (const query of queries) {
    for (const r of await get<RouteView[]>(`/api/routes?peer=${encodeURIComponent(query)}`)) routes.push(routeLine(r.table, query, r.prefix, r.nextHop));
  }
  return {
    peers: peers.filter((p) => !p.isLocal).map((p) => peerLine(p.address, p.as, p.bgpId, p.state)).sort(),
    routes: routes.sort(),
  };
}

export function difference(expected: State, actual: State): string {
  const missing = (a: string[], b: string[]): string[] => {
    const set = new Set(b);
    return a.filter((x) => !set.has(x));
  };
  return JSON.stringify({
    peersOnlyInFrr: missing(expected.peers, actual.peers),
    peersOnlyInCollector: missing(actual.peers, expected.peers),
    routesOnlyInFrr: missing(expected.routes, actual.routes).slice(0, 40),
    routesOnlyInCollector: missing(actual.routes, expected.routes).slice(0, 40),
  }, null, 1);
}

export const has = (state: State, table: string, peer: string, prefix: string): boolean => state.routes.some((l) => l.startsWith(`${table} ${peer} ${prefix} `));
export const peerAddresses = (state: State): string[] => state.peers.map((l) => l.split(' ')[0]);
export const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
