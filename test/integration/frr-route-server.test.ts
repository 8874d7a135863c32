/**
 * FRR 8.4 bgpd as a route server → bmpwatch (the real App, in-process): what the collector knows equals what FRR
 * itself reports through vtysh, after the live stream, after a BMP session reset (with a withdrawal while the BMP
 * session was down) and after a route server restart (with an appliance gone for good).
 *
 * Setup (all on loopback): bgpd listens on 127.0.21.1 and accepts IBGP appliances from 127.0.22.0/24 as dynamic
 * neighbours, with the appliance import policy (10.128.0.0/16 ge 29, 2001:db8:100::/48 ge 64, local-pref 200,
 * community 65000:100) and soft-reconfiguration inbound; BMP monitors pre- and post-policy for both families.
 * Three ExaBGP appliances announce IPv4 and IPv6 prefixes with their own address as next hop (::ffff:ADDR for IPv6
 * over the IPv4 session). Appliance A also announces the route server's own infrastructure prefixes
 * (10.200.0.0/24, 2001:db8:200::/48, configured as `network` on bgpd), which the policy rejects: they are in A's
 * pre-policy Adj-RIB-In, not in its post-policy one.
 *
 * Why the rejected prefixes are the route server's own networks: FRR 8.4 exports a rejected prefix pre-policy as a
 * *withdrawal* when no path for it is in its Loc-RIB (bgp_bmp.c looks the prefix up with bgp_node_lookup, which
 * skips table nodes without paths; see shared EXPORTERS.md). The collector cannot know a route FRR never sends, so
 * the test uses the case FRR exports correctly — which is also the realistic one: an appliance announcing the
 * route server's own address space.
 *
 * Expected state comes from FRR's JSON, never from this file: peers from `show bgp neighbors json` (Established
 * ones), pre-policy per neighbour from `show bgp FAMILY unicast neighbors X received-routes json`, post-policy
 * from the valid paths of `show bgp FAMILY unicast json` by peerId ("(unspec)" = the route server's own routes,
 * which BMP carries with an all-zero peer header). The collector's side comes from its live API (/api/peers,
 * /api/routes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerView, RouteView } from '../../src/api/views.js';
import { AppUnderTest } from '../helpers/app-under-test.js';
import { startExabgpAppliance, type ExabgpAppliance } from '../helpers/daemons/exabgp.js';
import { startFrrRouteServer, type FrrRouteServer } from '../helpers/daemons/frr.js';
import { defaultRegistry, waitFor } from '../helpers/daemons/process.js';
import { collectorState as apiState, difference, frrState, has, LOCAL, peerAddresses, sameSet, type State } from '../helpers/frr-compare.js';

/** The collector's side of the comparison, from its live API. */
const collectorState = (collector: AppUnderTest): Promise<State> => apiState((path) => collector.get(path));

type Family = 'ipv4' | 'ipv6';

const RS_ADDRESS = '127.0.21.1';
const A = '127.0.22.11';
const B = '127.0.22.12';
const C = '127.0.22.13';
/** The route server's own prefixes; appliance A announces them too and the import policy rejects that. */
const RS_NETWORKS = ['10.200.0.0/24', '2001:db8:200::/48'];

let rs: FrrRouteServer;
let collector: AppUnderTest;
const appliances = new Map<string, ExabgpAppliance>();

/**
 * Waits until FRR is in the state the scenario set up (`ready`, about FRR only) and the collector's state equals
 * FRR's; then asserts the equality (so a failure prints the diff) and returns FRR's state.
 */
async function expectCollectorEqualsFrr(what: string, ready: (frr: State) => boolean): Promise<State> {
  let last: { frr: State; collector: State } | undefined;
  await waitFor(async () => {
    const [frr, seen] = await Promise.all([frrState(rs), collectorState(collector)]);
    last = { frr, collector: seen };
    return ready(frr) && JSON.stringify(frr) === JSON.stringify(seen);
  }, {
    what: `the collector to equal FRR ${what}`,
    timeoutMs: 30_000,
    intervalMs: 250,
    logsFrom: [rs.process, ...[...appliances.values()].map((a) => a.process)],
    describe: () => (last ? `FRR ready: ${ready(last.frr)}\nFRR: ${JSON.stringify(last.frr, null, 1)}\ndifference: ${difference(last.frr, last.collector)}` : 'no state read yet'),
  });
  if (!last) throw new Error('unreachable');
  expect(last.collector).toEqual(last.frr);
  return last.frr;
}


async function startAppliance(address: string, routes: readonly string[], families?: readonly Family[]): Promise<ExabgpAppliance> {
  const appliance = await startExabgpAppliance({ localAddress: address, peerAddress: RS_ADDRESS, peerPort: rs.port, localAs: 65000, families, routes });
  appliances.set(address, appliance);
  return appliance;
}

beforeAll(async () => {
  collector = await AppUnderTest.start();
  defaultRegistry.defer('stop the collector', () => collector.stop());
  rs = await startFrrRouteServer({
    routerId: '192.0.2.21',
    localAs: 65000,
    listenAddresses: [RS_ADDRESS],
    listenRange: '127.0.22.0/24',
    networks: RS_NETWORKS,
    bmp: { host: '127.0.0.1', port: collector.bmpPort },
  });
  await Promise.all([
    startAppliance(A, ['10.128.1.0/29', '2001:db8:100:1::/64', '10.128.100.0/29', ...RS_NETWORKS]),
    startAppliance(B, ['10.128.2.0/29', '10.128.2.8/29', '2001:db8:100:2::/64', '10.128.100.0/29']),
    startAppliance(C, ['10.128.3.0/29', '10.128.100.0/29'], ['ipv4']),
  ]);
  await Promise.all([...appliances.values()].map((a) => a.waitEstablished()));
}, 60_000);

afterAll(async () => {
  await defaultRegistry.runAll();
}, 60_000);

describe('FRR 8.4 route server: bmpwatch holds exactly what bgpd holds', () => {
  it('live stream: peers, pre-policy and post-policy prefixes and next hops equal FRR\'s', async () => {
    const frr = await expectCollectorEqualsFrr('after the appliances came up', (f) =>
      sameSet(peerAddresses(f), [A, B, C]) && has(f, 'adj-rib-in-pre', A, '10.200.0.0/24') && has(f, 'adj-rib-in-pre', A, '2001:db8:200::/48')
      && has(f, 'adj-rib-in-post', C, '10.128.100.0/29') && has(f, 'adj-rib-in-post', LOCAL, '2001:db8:200::/48'));
    // The scenario has what it is meant to have: pre- and post-policy differ by the rejected prefixes, both families.
    for (const prefix of RS_NETWORKS) {
      expect(has(frr, 'adj-rib-in-pre', A, prefix)).toBe(true);
      expect(has(frr, 'adj-rib-in-post', A, prefix)).toBe(false);
    }
    expect(frr.routes.filter((l) => l.startsWith('adj-rib-in-pre ')).some((l) => l.includes(':'))).toBe(true);

    // Live changes while the BMP session is up: an announcement and an IPv6 withdrawal.
    await appliances.get(A)?.announce('10.128.1.16/29');
    await appliances.get(B)?.withdraw('2001:db8:100:2::/64');
    await expectCollectorEqualsFrr('after a live announcement and withdrawal', (f) =>
      has(f, 'adj-rib-in-post', A, '10.128.1.16/29') && !has(f, 'adj-rib-in-pre', B, '2001:db8:100:2::/64'));
  }, 60_000);

  it('BMP session reset: rebuilt equal to FRR, and a route withdrawn while the session was down is gone', async () => {
    const [before] = await collector.routers();
    expect(before).toBeDefined();
    await rs.disconnectBmp();
    // The collector drops everything of the closed session (FRR sends no Termination, the TCP session just ends).
    await waitFor(async () => (await collector.routers()).length === 0, { what: 'the collector to close the old BMP session', timeoutMs: 10_000, logsFrom: [rs.process] });
    expect((await collectorState(collector)).routes).toEqual([]);

    // While nobody listens: B withdraws one prefix, A announces a new one.
    await appliances.get(B)?.withdraw('10.128.2.8/29');
    await appliances.get(A)?.announce('2001:db8:100:3::/64');
    await waitFor(async () => {
      const f = await frrState(rs);
      return !has(f, 'adj-rib-in-pre', B, '10.128.2.8/29') && has(f, 'adj-rib-in-post', A, '2001:db8:100:3::/64');
    }, { what: 'bgpd to apply the changes made while BMP was down', timeoutMs: 10_000, logsFrom: [rs.process] });

    await rs.connectBmp();
    const frr = await expectCollectorEqualsFrr('after the BMP session reset', (f) => has(f, 'adj-rib-in-post', A, '2001:db8:100:3::/64'));
    const routers = await collector.routers();
    expect(routers).toHaveLength(1);
    expect(routers[0].id).not.toBe(before.id);
    expect(routers[0].sysDescr).toMatch(/^FRRouting 8\.4/);
    expect(frr.routes.some((l) => l.includes(' 10.128.2.8/29 '))).toBe(false);
    // No ghost of the withdrawn prefix anywhere (every table, every peer).
    const ghosts = (await collector.get<RouteView[]>(`/api/routes?peer=${B}`)).filter((r) => r.prefix === '10.128.2.8/29');
    expect(ghosts).toEqual([]);
  }, 60_000);

  it('route server restart: equal to FRR again; the appliance that went away while it was down is gone', async () => {
    const [before] = await collector.routers();
    await rs.stop();
    await waitFor(async () => (await collector.routers()).length === 0, { what: 'the collector to see the BMP session of the stopped bgpd end', timeoutMs: 10_000 });

    // While the route server is down: C goes away for good, A withdraws a prefix (ExaBGP will not send it again).
    await appliances.get(C)?.stop();
    appliances.delete(C);
    await appliances.get(A)?.withdraw('10.128.1.16/29');

    await rs.restart();
    const frr = await expectCollectorEqualsFrr('after the restart', (f) =>
      sameSet(peerAddresses(f), [A, B]) && has(f, 'adj-rib-in-pre', A, '10.200.0.0/24') && has(f, 'adj-rib-in-post', B, '10.128.100.0/29')
      && has(f, 'adj-rib-in-post', LOCAL, '10.200.0.0/24'));
    const routers = await collector.routers();
    expect(routers).toHaveLength(1);
    expect(routers[0].id).not.toBe(before.id);
    const peers = await collector.get<PeerView[]>('/api/peers');
    expect(peers.map((p) => p.address)).not.toContain(C);
    expect(peers.every((p) => p.state === 'up' || p.isLocal)).toBe(true);
    expect(frr.routes.some((l) => l.includes(` ${C} `) || l.includes(' 10.128.1.16/29 '))).toBe(false);
  }, 60_000);
});
