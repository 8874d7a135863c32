/**
 * GoBGP 3.10 (gobgpd) as a route server → bmpwatch (the real App, in-process): what the collector knows equals what
 * gobgpd itself reports through its CLI, after the live stream, after a BMP session reset (with changes while the
 * BMP session was down) and after a gobgpd restart (with an appliance gone for good).
 *
 * Setup: gobgpd in a network namespace of its own (it treats 127/8 next hops as withdrawals, see shared
 * EXPORTERS.md) at 100.64.0.1, accepting IBGP appliances from 100.64.1.0/24 as dynamic neighbours with the
 * appliance import policy (10.128.0.0/16 29..32, 2001:db8:100::/48 64..64, local-pref 200, community 65000:100).
 * Its BMP session (route-monitoring-policy all: pre-policy, post-policy and Loc-RIB) reaches the collector on the
 * host's 127.0.0.1 through the launcher's relay. Three ExaBGP appliances in the namespace announce IPv4 and IPv6
 * prefixes with their own address as next hop; appliance A also announces 10.200.0.0/24 and 2001:db8:200::/48,
 * which the policy rejects (pre-policy only).
 *
 * Expected state comes from gobgpd, never from this file: peers from `gobgp neighbor` (established ones) and the
 * Loc-RIB "peer" (GoBGP sends Loc-RIB routes with peer address 0.0.0.0, its AS and router-id, and no Peer Up) from
 * `gobgp global`; pre-policy per neighbour from `gobgp neighbor X adj-in -a FAMILY`; post-policy from every path of
 * `gobgp global rib -a FAMILY` by neighbor-ip; Loc-RIB from its best paths. The collector's side comes from its live
 * API (/api/peers, /api/routes).
 */
import { Address6 } from 'ip-address';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerView, RouteView } from '../../src/api/views.js';
import { AppUnderTest } from '../helpers/app-under-test.js';
import { startExabgpAppliance, type ExabgpAppliance } from '../helpers/daemons/exabgp.js';
import { startGobgpRouteServer, type GobgpRouteServer } from '../helpers/daemons/gobgp.js';
import { defaultRegistry, waitFor } from '../helpers/daemons/process.js';

type Family = 'ipv4' | 'ipv6';
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
/** How the route server's own view (Loc-RIB) is named in the comparison (API: peer=local). */
const LOCAL = 'local';
/** `session_state` of an established neighbour in `gobgp neighbor --json`. */
const ESTABLISHED = 6;
const REJECTED = ['10.200.0.0/24', '2001:db8:200::/48'];

/** Both sides of the comparison as sorted text lines, so a mismatch prints as a readable diff. */
interface State {
  /** `ADDRESS AS<as> id <bgpId> <state>` per BGP neighbour; `local AS<as> id <router-id>` for the Loc-RIB. */
  readonly peers: string[];
  /** `TABLE PEER PREFIX via NEXTHOP` for every route. */
  readonly routes: string[];
}

interface GobgpNeighborJson {
  readonly state: { readonly neighbor_address: string; readonly peer_asn: number; readonly router_id?: string; readonly session_state?: number };
}

interface GobgpGlobalJson {
  readonly asn: number;
  readonly router_id: string;
}

interface GobgpPathJson {
  readonly best?: boolean;
  readonly 'neighbor-ip'?: string;
  readonly attrs?: readonly { readonly type: number; readonly nexthop?: string }[];
}

type GobgpRibJson = Record<string, readonly GobgpPathJson[]>;

/**
 * One spelling per next hop. GoBGP (Go's net.IP) prints an IPv4-mapped IPv6 next hop (::ffff:100.64.1.11) as
 * 100.64.1.11; BMP carries the 16-byte address, which the API prints as ::ffff:100.64.1.11.
 */
function canonicalNextHop(prefix: string, nextHop: string | null | undefined): string {
  if (nextHop === null || nextHop === undefined) return '(none)';
  if (prefix.includes(':')) return new Address6(nextHop.includes(':') ? nextHop : `::ffff:${nextHop}`).correctForm();
  return nextHop;
}

const routeLine = (table: string, peer: string, prefix: string, nextHop: string | null | undefined): string =>
  `${table} ${peer} ${prefix} via ${canonicalNextHop(prefix, nextHop)}`;
const peerLine = (address: string, as: number, bgpId: string, state?: string): string => `${address} AS${as} id ${bgpId}${state ? ` ${state}` : ''}`;
/** NEXT_HOP (type 3) for IPv4, MP_REACH_NLRI (type 14) for IPv6. */
const pathNextHop = (path: GobgpPathJson): string | undefined => path.attrs?.find((a) => a.type === 3 || a.type === 14)?.nexthop;

async function gobgpState(rs: GobgpRouteServer): Promise<State> {
  const neighbors = await rs.gobgpJson<GobgpNeighborJson[]>(['neighbor']);
  const established = neighbors.filter((n) => n.state.session_state === ESTABLISHED).map((n) => n.state);
  const global = await rs.gobgpJson<GobgpGlobalJson>(['global']);
  const routes: string[] = [];
  for (const family of FAMILIES) {
    const rib = await rs.gobgpJson<GobgpRibJson>(['global', 'rib', '-a', family]);
    for (const [prefix, paths] of Object.entries(rib)) {
      for (const path of paths) {
        routes.push(routeLine('adj-rib-in-post', String(path['neighbor-ip']), prefix, pathNextHop(path)));
        if (path.best) routes.push(routeLine('loc-rib', LOCAL, prefix, pathNextHop(path)));
      }
    }
    for (const n of established) {
      const adjIn = await rs.gobgpJson<GobgpRibJson>(['neighbor', n.neighbor_address, 'adj-in', '-a', family]);
      for (const [prefix, paths] of Object.entries(adjIn)) {
        for (const path of paths) routes.push(routeLine('adj-rib-in-pre', n.neighbor_address, prefix, pathNextHop(path)));
      }
    }
  }
  const peers = established.map((n) => peerLine(n.neighbor_address, n.peer_asn, String(n.router_id), 'up'));
  // The Loc-RIB "peer" exists once there is a Loc-RIB route to report.
  if (routes.some((l) => l.startsWith('loc-rib '))) peers.push(peerLine(LOCAL, global.asn, global.router_id));
  return { peers: peers.sort(), routes: routes.sort() };
}

/** The collector's side of the comparison, from its live API. */
async function collectorState(collector: AppUnderTest): Promise<State> {
  const peers = await collector.peers();
  const routes: string[] = [];
  const queries = new Set(peers.map((p) => (p.isLocal ? LOCAL : p.address)));
  for (const query of queries) {
    for (const r of await collector.routes(query)) routes.push(routeLine(r.table, query, r.prefix, r.nextHop));
  }
  return {
    peers: peers.map((p) => (p.isLocal ? peerLine(LOCAL, p.as, p.bgpId) : peerLine(p.address, p.as, p.bgpId, p.state))).sort(),
    routes: routes.sort(),
  };
}

function difference(expected: State, actual: State): string {
  const missing = (a: string[], b: string[]): string[] => a.filter((x) => !b.includes(x));
  return JSON.stringify({
    peersOnlyInGobgp: missing(expected.peers, actual.peers),
    peersOnlyInCollector: missing(actual.peers, expected.peers),
    routesOnlyInGobgp: missing(expected.routes, actual.routes),
    routesOnlyInCollector: missing(actual.routes, expected.routes),
  }, null, 1);
}

let rs: GobgpRouteServer;
let collector: AppUnderTest;
const appliances = new Map<string, ExabgpAppliance>();
let A = '';
let B = '';
let C = '';

/**
 * Waits until gobgpd is in the state the scenario set up (`ready`, about gobgpd only) and the collector's state
 * equals gobgpd's; then asserts the equality (so a failure prints the diff) and returns gobgpd's state.
 */
async function expectCollectorEqualsGobgp(what: string, ready: (gobgp: State) => boolean): Promise<State> {
  let last: { gobgp: State; collector: State } | undefined;
  await waitFor(async () => {
    const [gobgp, seen] = await Promise.all([gobgpState(rs), collectorState(collector)]);
    last = { gobgp, collector: seen };
    return ready(gobgp) && JSON.stringify(gobgp) === JSON.stringify(seen);
  }, {
    what: `the collector to equal gobgpd ${what}`,
    timeoutMs: 30_000,
    intervalMs: 250,
    logsFrom: [rs.process, ...[...appliances.values()].map((a) => a.process)],
    describe: () => (last ? `gobgpd ready: ${ready(last.gobgp)}\ngobgpd: ${JSON.stringify(last.gobgp, null, 1)}\ndifference: ${difference(last.gobgp, last.collector)}` : 'no state read yet'),
  });
  if (!last) throw new Error('unreachable');
  expect(last.collector).toEqual(last.gobgp);
  return last.gobgp;
}

const has = (state: State, table: string, peer: string, prefix: string): boolean => state.routes.some((l) => l.startsWith(`${table} ${peer} ${prefix} `));
const neighborAddresses = (state: State): string[] => state.peers.map((l) => l.split(' ')[0]).filter((a) => a !== LOCAL);
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

async function startAppliance(address: string, routes: readonly string[], families?: readonly Family[]): Promise<ExabgpAppliance> {
  const appliance = await startExabgpAppliance({ netns: rs.namespace, localAddress: address, peerAddress: rs.address, localAs: 65000, families, routes });
  appliances.set(address, appliance);
  return appliance;
}

beforeAll(async () => {
  collector = await AppUnderTest.start();
  defaultRegistry.defer('stop the collector', () => collector.stop());
  rs = await startGobgpRouteServer({ localAs: 65000, bmp: { host: '127.0.0.1', port: collector.bmpPort } });
  A = rs.applianceAddress(11);
  B = rs.applianceAddress(12);
  C = rs.applianceAddress(13);
  await Promise.all([
    startAppliance(A, ['10.128.1.0/29', '2001:db8:100:1::/64', '10.128.100.0/29', ...REJECTED]),
    startAppliance(B, ['10.128.2.0/29', '10.128.2.8/29', '2001:db8:100:2::/64', '10.128.100.0/29']),
    startAppliance(C, ['10.128.3.0/29', '10.128.100.0/29'], ['ipv4']),
  ]);
  await Promise.all([...appliances.values()].map((a) => a.waitEstablished()));
}, 60_000);

afterAll(async () => {
  await defaultRegistry.runAll();
}, 60_000);

describe('GoBGP 3.10 route server: bmpwatch holds exactly what gobgpd holds', () => {
  it('live stream: peers, Loc-RIB without Peer Up, pre- and post-policy prefixes and next hops equal gobgpd\'s', async () => {
    const gobgp = await expectCollectorEqualsGobgp('after the appliances came up', (g) =>
      sameSet(neighborAddresses(g), [A, B, C]) && REJECTED.every((p) => has(g, 'adj-rib-in-pre', A, p))
      && has(g, 'adj-rib-in-post', C, '10.128.100.0/29') && has(g, 'loc-rib', LOCAL, '2001:db8:100:2::/64'));
    for (const prefix of REJECTED) {
      expect(has(gobgp, 'adj-rib-in-post', A, prefix)).toBe(false);
      expect(has(gobgp, 'loc-rib', LOCAL, prefix)).toBe(false);
    }
    // The Loc-RIB arrived without a Peer Up: the collector keeps it, its peer in state "unknown".
    const local = (await collector.get<PeerView[]>('/api/peers')).filter((p) => p.isLocal);
    expect(local.map((p) => [p.peerType, p.state])).toEqual([['loc-rib', 'unknown']]);

    await appliances.get(A)?.announce('10.128.1.16/29');
    await appliances.get(B)?.withdraw('2001:db8:100:2::/64');
    await expectCollectorEqualsGobgp('after a live announcement and withdrawal', (g) =>
      has(g, 'loc-rib', LOCAL, '10.128.1.16/29') && !has(g, 'adj-rib-in-pre', B, '2001:db8:100:2::/64'));
  }, 60_000);

  it('BMP session reset (gobgp bmp del/add): rebuilt equal to gobgpd, no ghosts of changes made while it was down', async () => {
    const [before] = await collector.routers();
    expect(before).toBeDefined();
    await rs.disconnectBmp();
    // `gobgp bmp del` sends a Termination: the collector closes the session and drops its state.
    await waitFor(async () => (await collector.routers()).length === 0, { what: 'the collector to close the terminated BMP session', timeoutMs: 10_000, logsFrom: [rs.process] });
    expect((await collectorState(collector)).routes).toEqual([]);

    await appliances.get(B)?.withdraw('10.128.2.8/29');
    await appliances.get(A)?.announce('2001:db8:100:3::/64');
    await waitFor(async () => {
      const g = await gobgpState(rs);
      return !has(g, 'adj-rib-in-pre', B, '10.128.2.8/29') && has(g, 'loc-rib', LOCAL, '2001:db8:100:3::/64');
    }, { what: 'gobgpd to apply the changes made while BMP was down', timeoutMs: 10_000, logsFrom: [rs.process] });

    await rs.connectBmp();
    await expectCollectorEqualsGobgp('after the BMP session reset', (g) => has(g, 'loc-rib', LOCAL, '2001:db8:100:3::/64'));
    const routers = await collector.routers();
    expect(routers).toHaveLength(1);
    expect(routers[0].id).not.toBe(before.id);
    const ghosts = (await collector.get<RouteView[]>(`/api/routes?peer=${B}`)).filter((r) => r.prefix === '10.128.2.8/29');
    expect(ghosts).toEqual([]);

    // A withdrawal right after the reconnect, of a route from the new session's initial dump.
    await appliances.get(B)?.withdraw('10.128.2.0/29');
    await expectCollectorEqualsGobgp('after a withdrawal following the reconnect', (g) => !has(g, 'adj-rib-in-pre', B, '10.128.2.0/29'));
  }, 60_000);

  it('gobgpd restart: equal to gobgpd again; the appliance that went away while it was down is gone', async () => {
    const [before] = await collector.routers();
    await rs.stop();
    await waitFor(async () => (await collector.routers()).length === 0, { what: 'the collector to see the BMP session of the stopped gobgpd end', timeoutMs: 10_000 });

    await appliances.get(C)?.stop();
    appliances.delete(C);
    await appliances.get(A)?.withdraw('10.128.1.16/29');

    await rs.restart();
    const gobgp = await expectCollectorEqualsGobgp('after the restart', (g) =>
      sameSet(neighborAddresses(g), [A, B]) && REJECTED.every((p) => has(g, 'adj-rib-in-pre', A, p)) && has(g, 'adj-rib-in-post', B, '10.128.100.0/29'));
    const routers = await collector.routers();
    expect(routers).toHaveLength(1);
    expect(routers[0].id).not.toBe(before.id);
    const peers = await collector.get<PeerView[]>('/api/peers');
    expect(peers.map((p) => p.address)).not.toContain(C);
    expect(gobgp.routes.some((l) => l.includes(` ${C} `) || l.includes(' 10.128.1.16/29 '))).toBe(false);
  }, 90_000);
});
