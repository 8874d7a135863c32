/**
 * Faults with a real route server: FRR 8.4 bgpd (BMP pre- and post-policy, both families, no import filter) with
 * three ExaBGP appliances (IBGP dynamic neighbours from 127.0.62.0/24), exporting to `bmpwatch serve` (child process,
 * SQLite store in its data dir, webhooks to a receiver on 127.0.0.1). Appliance A announces 10.200.0.0/24, outside
 * its group's range (10.128.0.0/16, /24../32): an unexpected-prefix alert (and whatever else the rules make of it)
 * that must survive both faults without being lost, duplicated or re-paged.
 *
 * (a) bmpwatch SIGKILLed mid-stream and restarted on the same data dir and ports: appliance B churns (a new /32
 *     announced every ~0.1 s, before, during and after the kill) and C announces BURST prefixes in one UPDATE
 *     (2 x BURST Route Monitoring messages from FRR); the collector is killed as soon as the burst starts to
 *     arrive (the route count at the kill is printed). While it is down B also announces 10.201.0.0/24 (another
 *     bad prefix). After the restart FRR reconnects and dumps its table:
 *     - state equals FRR's again (peers, pre- and post-policy routes and next hops, from vtysh JSON);
 *     - alert state restored from SQLite ("alerts-restored" with every firing alert): the same fingerprints, each
 *       with its original startsAt, still firing; no notification sent again for them (no re-page);
 *     - not lost: the alert for the prefix announced while bmpwatch was dead fires once, one webhook for it;
 *     - every webhook-id arrived once.
 * (c) The route server restarted (FrrRouteServer.restart(): SIGTERM, start with the same config): while it is down
 *     appliance C goes away for good and A withdraws one of its prefixes. After the restart:
 *     - state rebuilt equal to FRR's, no ghosts (nothing of C, nor the withdrawn prefix, in any table);
 *     - the alerts are the same (same fingerprints and startsAt), no new notification (the outage was shorter than
 *       alerts.holdDownSeconds and rules.feedHealth.lostGraceSeconds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerView, RouterView } from '../../src/api/views.js';
import { startExabgpAppliance, type ExabgpAppliance } from '../helpers/daemons/exabgp.js';
import { startFrrRouteServer, type FrrRouteServer } from '../helpers/daemons/frr.js';
import { defaultRegistry, waitFor } from '../helpers/daemons/process.js';
import { freePort } from '../helpers/ports.js';
import { Receiver } from '../unit/alerts/receiver.js';
import { collectorState, difference, frrState, has, LOCAL, peerAddresses, sameSet, type State } from '../helpers/frr-compare.js';
import { cleanupFaultDirs, faultDir, killAllServeChildren, type Ports, ServeChild, sleep, until } from './serve-child.js';

const RS_ADDRESS = '127.0.61.1';
const A = '127.0.62.11';
const B = '127.0.62.12';
const C = '127.0.62.13';
const BAD_A = '10.200.0.0/24';
const BAD_WHILE_DEAD = '10.201.0.0/24';
/** Prefixes appliance C announces at once just before the kill. */
const BURST = 2_000;

interface AlertView {
  readonly fingerprint: string;
  readonly rule: string;
  readonly state: string;
  readonly prefix: string | null;
  readonly startsAt: string;
}

interface Notification {
  readonly id: string;
  readonly notification: string;
  readonly alert: { readonly fingerprint: string };
}

let dir: string;
let ports: Ports;
let serve: ServeChild;
let rs: FrrRouteServer;
const receiver = new Receiver();
let hookUrl = '';
const appliances = new Map<string, ExabgpAppliance>();

function config(): string {
  return `
routers: { allowedSources: [127.0.0.0/8] }
log: { level: info }
storage:
  dataDir: ${JSON.stringify(dir)}
  history: { flushIntervalMs: 20 }
applianceGroups:
  - name: appliances
    sessionRanges: [127.0.62.0/24]
    sessionType: ibgp
    asns: [65000]
    allowPrivateAsns: true
    prefixes:
      ipv4: [{ prefix: 10.128.0.0/16, minLength: 24, maxLength: 32 }]
      ipv6: [{ prefix: 2001:db8:100::/48, minLength: 64, maxLength: 64 }]
    maxPrefixes: 100000
    nextHopMustMatchSession: false
alerts:
  evaluationIntervalSeconds: 1
  delivery: { initialBackoffMs: 100, maxBackoffMs: 500 }
  webhooks:
    - name: hook
      url: ${hookUrl}
      filters: { severities: [info, warning, critical] }
`;
}

const startServe = (): Promise<ServeChild> => ServeChild.start({ dir, ports, config: () => config() });
const get = <T>(path: string): Promise<T> => serve.get<T>(path);

async function alerts(): Promise<AlertView[]> {
  return (await get<AlertView[]>('/api/alerts')).filter((a) => a.state === 'firing').sort((x, y) => x.fingerprint.localeCompare(y.fingerprint));
}

const notifications = (): Notification[] => receiver.requests.map((r) => JSON.parse(r.body) as Notification);

/** Waits until FRR is `ready` and the collector's state equals FRR's; asserts the equality; returns FRR's state. */
async function expectCollectorEqualsFrr(what: string, ready: (frr: State) => boolean): Promise<State> {
  let last: { frr: State; collector: State } | undefined;
  await waitFor(async () => {
    const [frr, seen] = await Promise.all([frrState(rs), collectorState(get)]);
    last = { frr, collector: seen };
    return ready(frr) && JSON.stringify(frr) === JSON.stringify(seen);
  }, {
    what: `the collector to equal FRR ${what}`,
    timeoutMs: 45_000,
    intervalMs: 300,
    logsFrom: [rs.process, ...[...appliances.values()].map((a) => a.process)],
    describe: () => (last ? `FRR ready: ${ready(last.frr)}\ndifference: ${difference(last.frr, last.collector)}\n${serve.output(30)}` : 'no state read yet'),
  });
  if (!last) throw new Error('unreachable');
  expect(last.collector).toEqual(last.frr);
  return last.frr;
}

async function startAppliance(address: string, routes: readonly string[], families?: readonly ('ipv4' | 'ipv6')[]): Promise<ExabgpAppliance> {
  const appliance = await startExabgpAppliance({ localAddress: address, peerAddress: RS_ADDRESS, peerPort: rs.port, localAs: 65000, families, routes });
  appliances.set(address, appliance);
  return appliance;
}

beforeAll(async () => {
  hookUrl = await receiver.start();
  dir = faultDir('frr');
  ports = { bmp: await freePort(), api: await freePort() };
  serve = await startServe();
  rs = await startFrrRouteServer({
    routerId: '192.0.2.61',
    localAs: 65000,
    listenAddresses: [RS_ADDRESS],
    listenRange: '127.0.62.0/24',
    listenRangePolicy: null,
    bmp: { host: '127.0.0.1', port: ports.bmp, minRetryMs: 100, maxRetryMs: 500 },
  });
  await Promise.all([
    startAppliance(A, ['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64', BAD_A]),
    startAppliance(B, ['10.128.2.0/29', '2001:db8:100:2::/64']),
    startAppliance(C, ['10.128.3.0/29'], ['ipv4']),
  ]);
  await Promise.all([...appliances.values()].map((a) => a.waitEstablished()));
  await expectCollectorEqualsFrr('after the appliances came up', (f) => sameSet(peerAddresses(f), [A, B, C]) && has(f, 'adj-rib-in-post', A, BAD_A) && has(f, 'adj-rib-in-post', C, '10.128.3.0/29'));
}, 120_000);

afterAll(async () => {
  await killAllServeChildren();
  await defaultRegistry.runAll();
  await receiver.stop();
  cleanupFaultDirs();
}, 60_000);

describe('faults with FRR as the route server', () => {
  let before: AlertView[] = [];

  it('(a) bmpwatch SIGKILLed mid-stream, restarted on the same data dir: state equals FRR, alerts restored, none lost, none re-paged', async () => {
    // Every alert the setup raised has been notified once.
    before = await until(async () => {
      const firing = await alerts();
      return firing.some((a) => a.rule === 'unexpected-prefix' && a.prefix === BAD_A) && firing.every((a) => notifications().some((n) => n.alert.fingerprint === a.fingerprint)) ? firing : undefined;
    }, 'the bad prefix alert fired and notified', 30_000, () => serve.output());
    await sleep(1_500); // anything else the rules make of the setup
    before = await alerts();
    await until(() => before.every((a) => notifications().some((n) => n.alert.fingerprint === a.fingerprint)), 'every alert notified', 15_000, () => serve.output());
    const requestsBefore = receiver.requests.length;
    expect(notifications().map((n) => n.notification)).toEqual(before.map(() => 'firing'));

    // B churns: one new route after another, through the kill.
    const b = appliances.get(B) as ExabgpAppliance;
    let churned = 0;
    let churning = true;
    const churn = (async () => {
      while (churning) {
        await b.announce(`10.128.50.${churned}/32`);
        churned++;
      }
    })();
    await until(() => churned >= 5, 'the churn under way', 30_000);
    // And C announces BURST prefixes in one UPDATE: FRR sends them as 2 x BURST Route Monitoring messages (post- and
    // pre-policy, one prefix each); the kill comes while they are arriving.
    const routesBeforeBurst = (await get<RouterView[]>('/api/routers'))[0]?.routes ?? 0;
    const burst = Array.from({ length: BURST }, (_, i) => `10.128.${100 + (i >> 8)}.${i & 255}/32`);
    await appliances.get(C)?.command(`announce attributes next-hop ${C} nlri ${burst.join(' ')}`);
    const routesAtKill = await until(async () => {
      const routes = (await get<RouterView[]>('/api/routers'))[0]?.routes ?? 0;
      return routes > routesBeforeBurst ? routes : undefined;
    }, 'the burst arriving', 30_000, () => serve.output(), 5);
    expect(await serve.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const churnedAtKill = churned;
    await b.announce(BAD_WHILE_DEAD);
    await until(() => churned >= churnedAtKill + 5, 'the churn to go on while bmpwatch is dead', 30_000);

    serve = await startServe();
    churning = false;
    await churn;
    const restored = await serve.waitForLog((l) => l.event === 'alerts-restored', 'the alert state restored');
    expect(restored).toMatchObject({ firing: before.length });
    await expectCollectorEqualsFrr('after the restart', (f) =>
      has(f, 'adj-rib-in-post', B, BAD_WHILE_DEAD) && has(f, 'adj-rib-in-pre', B, `10.128.50.${churned - 1}/32`) && has(f, 'adj-rib-in-pre', C, burst[BURST - 1]));

    // The alert of the prefix announced while bmpwatch was dead: fired and notified once.
    const added = await until(async () => (await alerts()).find((a) => a.rule === 'unexpected-prefix' && a.prefix === BAD_WHILE_DEAD), 'the alert of the prefix announced while bmpwatch was dead', 20_000, () => serve.output());
    await until(() => notifications().some((n) => n.alert.fingerprint === added.fingerprint), 'its notification', 15_000, () => serve.output());
    await sleep(3_000); // three evaluation ticks: a re-page would arrive now

    const after = await alerts();
    const newOnes = after.filter((a) => !before.some((x) => x.fingerprint === a.fingerprint));
    console.log(
      `SIGKILL mid-stream: ${routesAtKill} routes held at the kill (${routesBeforeBurst} before a burst of ${2 * BURST} Route Monitoring messages), ${churned} churn routes, ${before.length} alerts firing before (${before.map((a) => a.rule).join(', ')}), ` +
        `restored ${String(restored.firing)}, new after the restart: ${newOnes.map((a) => `${a.rule} ${a.prefix ?? ''}`).join(', ')}; webhooks ${requestsBefore} before, ${receiver.requests.length} in all`,
    );
    for (const alert of before) expect(after.find((x) => x.fingerprint === alert.fingerprint)).toMatchObject({ state: 'firing', startsAt: alert.startsAt });
    expect(newOnes.map((a) => a.prefix)).toContain(BAD_WHILE_DEAD);
    expect(newOnes.every((a) => a.prefix === BAD_WHILE_DEAD)).toBe(true);
    // Webhooks: each alert notified exactly once (firing), each id once; nothing again for the restored alerts.
    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    const perFingerprint = new Map<string, number>();
    for (const n of notifications()) perFingerprint.set(n.alert.fingerprint, (perFingerprint.get(n.alert.fingerprint) ?? 0) + 1);
    expect(Object.fromEntries(perFingerprint)).toEqual(Object.fromEntries(after.map((a) => [a.fingerprint, 1])));
    expect(notifications().every((n) => n.notification === 'firing')).toBe(true);
    expect(serve.logs.filter((l) => l.event === 'alert-notification').map((l) => l.fingerprint).sort()).toEqual(newOnes.map((a) => a.fingerprint).sort());
    before = after;
  }, 180_000);

  it('(c) route server restarted: state rebuilt equal to FRR, no ghosts, alerts kept without a re-page', async () => {
    const [routerBefore] = await get<RouterView[]>('/api/routers');
    const requestsBefore = receiver.requests.length;
    const mark = serve.logs.length;
    await rs.stop();
    await until(async () => (await get<RouterView[]>('/api/routers')).length === 0, 'the collector to see the BMP session of the stopped bgpd end', 15_000, () => serve.output());

    // While the route server is down: C goes away for good, A withdraws a prefix.
    await appliances.get(C)?.stop();
    appliances.delete(C);
    await appliances.get(A)?.withdraw('10.128.1.8/29');

    await rs.restart();
    const frr = await expectCollectorEqualsFrr('after the route server restart', (f) =>
      sameSet(peerAddresses(f), [A, B]) && has(f, 'adj-rib-in-post', A, BAD_A) && has(f, 'adj-rib-in-post', B, BAD_WHILE_DEAD) && has(f, 'adj-rib-in-pre', A, '10.128.1.0/29'));
    const routers = await get<RouterView[]>('/api/routers');
    expect(routers).toHaveLength(1);
    expect(routers[0].id).not.toBe(routerBefore.id);
    // No ghosts: nothing of C, nor the withdrawn prefix, anywhere.
    const peers = await get<PeerView[]>('/api/peers');
    expect(peers.map((p) => p.address)).not.toContain(C);
    const state = await collectorState(get);
    expect(state.routes.filter((l) => l.includes(` ${C} `) || l.includes(' 10.128.1.8/29 '))).toEqual([]);
    expect(frr.routes.some((l) => l.includes(` ${LOCAL} `))).toBe(false);

    await sleep(3_000);
    const after = await alerts();
    console.log(`route server restart: ${state.routes.length} routes, ${state.peers.length} peers after; alerts ${before.length} -> ${after.length}; webhooks ${requestsBefore} -> ${receiver.requests.length}`);
    expect(after.map((a) => [a.fingerprint, a.startsAt])).toEqual(before.map((a) => [a.fingerprint, a.startsAt]));
    expect(receiver.requests.length).toBe(requestsBefore);
    expect(serve.logs.slice(mark).filter((l) => l.event === 'alert-notification')).toEqual([]);
    expect(serve.alive).toBe(true);
  }, 180_000);
});
