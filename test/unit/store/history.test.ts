import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RibTable } from '../../../src/bmp/types.js';
import type { CollectorEvent, PeerRef, RouterRef } from '../../../src/rib/events.js';
import type { RouteAttributes } from '../../../src/rib/route-attributes.js';
import { toHistoryEvent, type HistoryEvent, type HistoryMappingOptions } from '../../../src/store/history-event.js';
import { applianceHistory, prefixesAt, replayRoutes, resolveAppliance, UnknownApplianceError } from '../../../src/store/history.js';
import { databasePath, MIGRATIONS, openDatabase } from '../../../src/store/sqlite/database.js';
import { SqliteHistoryStore } from '../../../src/store/sqlite/history-store.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const router: RouterRef = { id: '127.0.0.1:40000', address: '127.0.0.1', port: 40000, name: 'rs1' };
const router2: RouterRef = { id: '127.0.0.2:40001', address: '127.0.0.2', port: 40001, name: 'rs2' };

function peer(address: string, bgpId: string, as = 65001): PeerRef {
  return { key: `0|0:0|${address}`, address, as, bgpId, peerType: 0, peerTypeName: 'global', distinguisher: '0:0', isLocal: false };
}
const local: PeerRef = { ...peer('0.0.0.0', '0.0.0.0', 0), isLocal: true };

function attrs(nextHop: string | null, asPathText = ''): RouteAttributes {
  return { asPath: [], asPathText, asPathMissing: false, nextHop };
}

const ALL: HistoryMappingOptions = { routeEvents: 'all', isAppliancePeer: () => false };

function announce(time: number, p: PeerRef, prefix: string, nextHop: string, options: { table?: RibTable; sync?: boolean; via?: RouterRef } = {}): CollectorEvent {
  return { type: 'route-announced', router: options.via ?? router, time, peer: p, table: options.table ?? 'adj-rib-in-pre', prefix, bmpTimestamp: 0, initialSync: options.sync ?? false, attributes: attrs(nextHop) };
}
function withdraw(time: number, p: PeerRef, prefix: string, cause: 'withdraw' | 'peer-down' = 'withdraw', via: RouterRef = router): CollectorEvent {
  return { type: 'route-withdrawn', router: via, time, peer: p, table: 'adj-rib-in-pre', prefix, bmpTimestamp: 0, initialSync: false, previous: attrs('10.0.0.1'), cause };
}
function peerUp(time: number, p: PeerRef, via: RouterRef = router): CollectorEvent {
  return { type: 'peer-up', router: via, time, peer: p, bmpTimestamp: 0, localAddress: '127.0.0.1', localPort: 179, remotePort: 40000, sentCapabilities: [], receivedCapabilities: [], holdTime: 90, reset: false };
}
function peerDown(time: number, p: PeerRef, via: RouterRef = router): CollectorEvent {
  return {
    type: 'peer-down',
    router: via,
    time,
    peer: p,
    bmpTimestamp: 0,
    reason: 3,
    reasonName: 'remote-notification',
    notification: { type: 'notification', code: 6, subcode: 2, codeName: 'Cease', subcodeName: 'Administrative Shutdown', dataHex: '' },
    wasUp: true,
    implied: false,
    routesRemoved: 2,
    upDurationMs: 3_600_000,
  };
}

function map(events: CollectorEvent[], options = ALL): HistoryEvent[] {
  return events.flatMap((event) => toHistoryEvent(event, options) ?? []);
}

describe('toHistoryEvent', () => {
  const a = peer('10.0.0.5', '10.0.0.5');

  it('keeps sessions and Adj-RIB-In route events with their fields', () => {
    const [up, route, down] = map([peerUp(T0, a), announce(T0 + 1, a, '10.128.1.0/32', '10.0.0.5'), peerDown(T0 + 2, a)]);
    expect(up).toEqual({ time: T0, type: 'peer-up', router: 'rs1', routerAddress: '127.0.0.1', peer: '10.0.0.5', peerAs: 65001, peerBgpId: '10.0.0.5', detail: 'session up' });
    expect(route).toMatchObject({ type: 'route-announced', table: 'adj-rib-in-pre', prefix: '10.128.1.0/32', nextHop: '10.0.0.5', asPath: '' });
    expect(route?.sync).toBeUndefined();
    expect(down).toMatchObject({ type: 'peer-down', durationMs: 3_600_000, detail: 'remote-notification; NOTIFICATION 6/2 Cease / Administrative Shutdown' });
  });

  it('does not store withdrawals implied by a session going down (the peer-down says it), nor Loc-RIB, nor local routes', () => {
    expect(map([withdraw(T0, a, '10.128.1.0/32', 'peer-down')])).toEqual([]);
    expect(map([announce(T0, a, '10.128.1.0/32', '10.0.0.5', { table: 'loc-rib' })])).toEqual([]);
    expect(map([announce(T0, local, '10.128.1.0/32', '10.0.0.5', { table: 'adj-rib-in-post' })])).toEqual([]);
    expect(map([withdraw(T0, a, '10.128.1.0/32', 'withdraw')])).toHaveLength(1);
  });

  it('marks initial-sync announcements', () => {
    expect(map([announce(T0, a, '10.128.1.0/32', '10.0.0.5', { sync: true })])[0]?.sync).toBe(true);
  });

  it("keeps only appliances' routes when asked, sessions always", () => {
    const only: HistoryMappingOptions = { routeEvents: 'appliances', isAppliancePeer: (p) => p.address === '10.0.0.5' };
    const other = peer('192.0.2.9', '192.0.2.9');
    expect(map([announce(T0, a, '10.128.1.0/32', '10.0.0.5'), announce(T0, other, '198.51.100.0/24', '192.0.2.9'), peerUp(T0, other)], only).map((e) => [e.type, e.peer])).toEqual([
      ['route-announced', '10.0.0.5'],
      ['peer-up', '192.0.2.9'],
    ]);
    expect(map([announce(T0, a, '10.128.1.0/32', '10.0.0.5')], { ...only, routeEvents: 'none' })).toEqual([]);
  });
});

describe('replayRoutes', () => {
  const a = peer('10.0.0.5', '10.0.0.5');
  it('adds, replaces and removes; a peer-down clears the session, a router-up clears the router', () => {
    const events = map([
      announce(T0, a, '10.128.1.0/32', '10.0.0.5'),
      announce(T0 + 1, a, '10.128.1.8/29', '10.0.0.5'),
      announce(T0 + 1, a, '10.128.1.8/29', '10.0.0.5', { via: router2 }),
      withdraw(T0 + 2, a, '10.128.1.0/32'),
    ]);
    expect(replayRoutes(events).map((r) => `${r.router} ${r.prefix}`)).toEqual(['rs1 10.128.1.8/29', 'rs2 10.128.1.8/29']);
    const afterDown = [...events, ...map([peerDown(T0 + 3, a)])];
    expect(replayRoutes(afterDown).map((r) => `${r.router} ${r.prefix}`)).toEqual(['rs2 10.128.1.8/29']);
    const afterRouterUp = [...events, { time: T0 + 4, type: 'router-up', router: 'rs2', routerAddress: '127.0.0.2' } as const];
    expect(replayRoutes(afterRouterUp).map((r) => `${r.router} ${r.prefix}`)).toEqual(['rs1 10.128.1.8/29']);
  });
});

describe('SqliteHistoryStore', () => {
  let dir: string;
  let store: SqliteHistoryStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmpwatch-history-'));
    store = new SqliteHistoryStore(openDatabase(databasePath(dir)));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates a new file to the latest version, and a second open changes nothing', async () => {
    await store.close();
    const db = openDatabase(databasePath(dir));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
    store = new SqliteHistoryStore(openDatabase(databasePath(dir)));
  });

  it('follows an appliance that moves to another address (same BGP identifier and AS), by either address or id', async () => {
    const before = peer('10.0.0.5', '192.0.2.55');
    const after = peer('10.0.1.7', '192.0.2.55');
    const stranger = peer('10.0.0.6', '192.0.2.66');
    store.append(
      map([
        peerUp(T0, before),
        announce(T0 + 10, before, '10.128.1.0/32', '10.0.0.5'),
        peerDown(T0 + 20, before),
        peerUp(T0 + 30, stranger),
        peerUp(T0 + 40, after),
        announce(T0 + 50, after, '10.128.1.0/32', '10.0.1.7'),
      ]),
    );
    const range = { from: T0 - 1000, to: T0 + 1000 };
    for (const query of ['10.0.0.5', '10.0.1.7', '192.0.2.55']) {
      const appliance = await resolveAppliance(store, query, range);
      const events = await applianceHistory(store, appliance, { ...range, limit: 100 });
      expect(events.map((e) => `${e.type} ${e.peer}`), query).toEqual([
        'peer-up 10.0.0.5',
        'route-announced 10.0.0.5',
        'peer-down 10.0.0.5',
        'peer-up 10.0.1.7',
        'route-announced 10.0.1.7',
      ]);
    }
    const named = await resolveAppliance(store, 'web-1', range, [{ name: 'web-1', group: 'g', bgpId: '192.0.2.55' }]);
    expect(named.addresses.sort()).toEqual(['10.0.0.5', '10.0.1.7']);
    await expect(resolveAppliance(store, '10.9.9.9', range)).rejects.toBeInstanceOf(UnknownApplianceError);
    await expect(resolveAppliance(store, 'no-such-name', range)).rejects.toBeInstanceOf(UnknownApplianceError);
    // A configured appliance that never had a session: the answer says it is configured, with what, and when.
    const quiet = resolveAppliance(store, 'web-9', range, [{ name: 'web-9', group: 'g', bgpId: '192.0.2.99', addresses: ['10.0.9.1'] }]);
    await expect(quiet).rejects.toThrow(
      `appliance "web-9" is configured (addresses 10.0.9.1; BGP identifier 192.0.2.99) but had no BGP session in the history between ${new Date(range.from).toISOString()} and ${new Date(range.to).toISOString()}`,
    );
    // Outside the range the appliance is unknown.
    await expect(resolveAppliance(store, '10.0.0.5', { from: T0 + 5000, to: T0 + 6000 })).rejects.toBeInstanceOf(UnknownApplianceError);
  });

  it('includes the up/down events of the route servers the appliance used, and filters by router', async () => {
    const a = peer('10.0.0.5', '10.0.0.5');
    store.append([
      { time: T0, type: 'router-up', router: 'rs1', routerAddress: '127.0.0.1' },
      { time: T0, type: 'router-up', router: 'rs3', routerAddress: '127.0.0.3' },
      ...map([peerUp(T0 + 1, a), peerUp(T0 + 2, a, router2)]),
      { time: T0 + 3, type: 'router-down', router: 'rs1', routerAddress: '127.0.0.1', detail: 'closed' },
    ]);
    const range = { from: T0 - 1, to: T0 + 10 };
    const appliance = await resolveAppliance(store, '10.0.0.5', range);
    expect((await applianceHistory(store, appliance, { ...range, limit: 100 })).map((e) => `${e.type} ${e.router}`)).toEqual([
      'router-up rs1',
      'peer-up rs1',
      'peer-up rs2',
      'router-down rs1',
    ]);
    expect((await applianceHistory(store, appliance, { ...range, limit: 100, router: 'rs2' })).map((e) => `${e.type} ${e.router}`)).toEqual(['peer-up rs2']);
    expect(await applianceHistory(store, appliance, { ...range, limit: 2 })).toHaveLength(2);
  });

  it('answers what was announced at a moment, across a BMP reconnect', async () => {
    const a = peer('10.0.0.5', '10.0.0.5');
    store.append([
      ...map([announce(T0, a, '10.128.1.0/32', '10.0.0.5'), announce(T0 + 10, a, '10.128.1.1/32', '10.0.0.5')]),
      { time: T0 + 20, type: 'router-down', router: 'rs1', routerAddress: '127.0.0.1' },
      { time: T0 + 30, type: 'router-up', router: 'rs1', routerAddress: '127.0.0.1' },
      ...map([announce(T0 + 31, a, '10.128.1.1/32', '10.0.0.5', { sync: true })]),
    ]);
    const appliance = await resolveAppliance(store, '10.0.0.5', { from: 0, to: T0 + 100 });
    expect((await prefixesAt(store, appliance, T0 + 5)).map((r) => r.prefix)).toEqual(['10.128.1.0/32']);
    expect((await prefixesAt(store, appliance, T0 + 15)).map((r) => r.prefix)).toEqual(['10.128.1.0/32', '10.128.1.1/32']);
    expect(await prefixesAt(store, appliance, T0 + 25)).toEqual([]);
    expect((await prefixesAt(store, appliance, T0 + 40)).map((r) => [r.prefix, r.since])).toEqual([['10.128.1.1/32', T0 + 31]]);
  });

  it('stores and returns hostile text exactly (values are bound, never spliced into SQL)', async () => {
    const nasty = `rs "1"; DROP TABLE events; -- \\ \n, = 'x' ✓`;
    const a = peer('10.0.0.5', '10.0.0.5');
    const event = { ...map([peerDown(T0, a)])[0]!, router: nasty, detail: nasty };
    store.append([event]);
    const appliance = await resolveAppliance(store, '10.0.0.5', { from: 0, to: T0 + 1 });
    expect(await applianceHistory(store, appliance, { from: 0, to: T0 + 1, limit: 10, router: nasty })).toEqual([event]);
    await expect(resolveAppliance(store, "10.0.0.5' OR '1'='1", { from: 0, to: T0 + 1 })).rejects.toBeInstanceOf(UnknownApplianceError);
    expect(store.count()).toBe(1);
  });

  it('prunes expired events in bounded slices', () => {
    const a = peer('10.0.0.5', '10.0.0.5');
    store.append(Array.from({ length: 25 }, (_, i) => map([announce(T0 + i, a, `10.128.1.${i}/32`, '10.0.0.5')])[0]!));
    expect(store.prune(T0 + 20, 10)).toBe(10);
    expect(store.prune(T0 + 20, 10)).toBe(10);
    expect(store.prune(T0 + 20, 10)).toBe(0);
    expect(store.count()).toBe(5);
  });
});
