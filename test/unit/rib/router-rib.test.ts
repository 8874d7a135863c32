import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import { BmpFramer } from '../../../src/bmp/framer.js';
import { AttributeStore } from '../../../src/rib/attribute-store.js';
import type { CollectorEvent } from '../../../src/rib/events.js';
import { INITIAL_DUMP_QUIET_MS, RouterRib } from '../../../src/rib/router-rib.js';
import { encodeInitiation, encodeStatsReport, stat32, tlv } from '../../../src/encode/bmp-encode.js';
import { encodeUpdate } from '../../../src/encode/bgp-encode.js';
import { encodeRouteMonitoring } from '../../../src/encode/bmp-encode.js';
import { endOfRib, peer, peerDown, peerUp, routes, withdraw } from '../../helpers/bmp-builders.js';
import { CAPTURES, readCapture } from '../../helpers/fixtures.js';

const ROUTER = { id: '192.0.2.1:4000', address: '192.0.2.1', port: 4000, name: 'rs1' };

function setup(options: { timeoutMs?: number; maxRoutes?: number } = {}) {
  const events: CollectorEvent[] = [];
  const attributes = new AttributeStore();
  const rib = new RouterRib(ROUTER, { initialDumpTimeoutMs: options.timeoutMs ?? 60_000, maxRoutes: options.maxRoutes ?? 1_000_000, attributes }, (e) => events.push(e));
  const decoder = new BmpSessionDecoder();
  let now = 1_000_000;
  const feed = (...frames: Buffer[]): void => {
    for (const frame of frames) {
      const result = decoder.decode(frame);
      if (!result.ok) throw new Error(`${result.error.code}: ${result.error.detail}`);
      rib.apply(result.value, now);
    }
  };
  const advance = (ms: number): void => {
    now += ms;
  };
  return { events, attributes, rib, feed, advance, now: () => now };
}

const types = (events: CollectorEvent[]): string[] => events.map((e) => e.type);

describe('RouterRib', () => {
  const appliance = peer('100.64.1.11');
  const appliancePost = peer('100.64.1.11', { postPolicy: true });

  it('tracks announcements per table, changes and explicit withdrawals', () => {
    const { events, rib, feed } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '2001:db8:100:1::/64']), routes(appliancePost, ['10.128.1.0/29'], { localPref: 200 }));
    const state = rib.peer([...rib.peers()][0].ref.key);
    expect(state?.counts.get('adj-rib-in-pre')).toEqual({ ipv4: 1, ipv6: 1 });
    expect(state?.counts.get('adj-rib-in-post')).toEqual({ ipv4: 1, ipv6: 0 });
    expect(rib.routeCount).toBe(3);

    feed(routes(appliance, ['10.128.1.0/29'], { nextHop: '100.64.1.99' }));
    const changed = events.at(-1);
    expect(changed?.type).toBe('route-changed');
    if (changed?.type === 'route-changed') {
      expect(changed.previous.nextHop).toBe('100.64.1.11');
      expect(changed.attributes.nextHop).toBe('100.64.1.99');
      expect(changed.table).toBe('adj-rib-in-pre');
    }
    feed(withdraw(appliance, ['10.128.1.0/29', '10.9.9.0/24']));
    const withdrawn = events.filter((e) => e.type === 'route-withdrawn');
    // The pre-policy route and, with it, its post-policy route; the unknown 10.9.9.0/24 is not an event.
    expect(withdrawn.map((e) => e.type === 'route-withdrawn' && `${e.table} ${e.prefix} ${e.cause}`)).toEqual([
      'adj-rib-in-pre 10.128.1.0/29 withdraw',
      'adj-rib-in-post 10.128.1.0/29 withdraw',
    ]);
    expect(rib.routeCount).toBe(1);
  });

  it('a pre-policy withdrawal removes the post-policy route the exporter forgot to withdraw (GoBGP after a reconnect)', () => {
    const { events, rib, feed } = setup();
    feed(
      peerUp(appliance),
      routes(appliance, ['10.128.1.0/29', '10.128.2.0/29', '2001:db8:100:1::/64']),
      routes(appliancePost, ['10.128.1.0/29', '10.128.2.0/29', '2001:db8:100:1::/64'], { localPref: 200 }),
    );
    feed(withdraw(appliance, ['10.128.1.0/29', '2001:db8:100:1::/64']));
    const state = [...rib.peers()][0];
    expect(state.counts.get('adj-rib-in-pre')).toEqual({ ipv4: 1, ipv6: 0 });
    expect(state.counts.get('adj-rib-in-post')).toEqual({ ipv4: 1, ipv6: 0 });
    expect([...(state.tables.get('adj-rib-in-post')?.keys() ?? [])]).toEqual(['10.128.2.0/29']);
    expect(rib.routeCount).toBe(2);
    // A late post-policy withdrawal of the same routes changes nothing.
    const before = events.length;
    feed(withdraw(appliancePost, ['10.128.1.0/29', '2001:db8:100:1::/64']));
    expect(events.length).toBe(before);
    expect(rib.routeCount).toBe(2);
  });

  it('a pre-policy withdrawal of a route never held pre-policy leaves post-policy alone (FRR without soft-reconfiguration)', () => {
    const { rib, feed } = setup();
    // FRR without soft-reconfiguration inbound: post-policy announcement, then a pre-policy withdrawal per route.
    feed(peerUp(appliance), routes(appliancePost, ['10.128.1.0/29'], { localPref: 200 }), withdraw(appliance, ['10.128.1.0/29']));
    expect([...rib.peers()][0].counts.get('adj-rib-in-post')).toEqual({ ipv4: 1, ipv6: 0 });
    expect(rib.routeCount).toBe(1);
  });

  it('does not emit an event for a re-announcement with identical attributes, and shares attribute sets', () => {
    const { events, attributes, feed } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '10.128.1.8/29']), routes(appliance, ['10.128.1.16/29']));
    expect(attributes.size).toBe(1); // three routes, one attribute set
    const before = events.length;
    feed(routes(appliance, ['10.128.1.0/29']));
    expect(events.length).toBe(before);
    feed(withdraw(appliance, ['10.128.1.0/29', '10.128.1.8/29', '10.128.1.16/29']));
    expect(attributes.size).toBe(0); // released when the last route goes
  });

  it('empties a peer on Peer Down: peer-down first, then one withdrawal per route with cause peer-down', () => {
    const { events, rib, feed } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '10.128.1.8/29']), routes(appliancePost, ['10.128.1.0/29']));
    events.length = 0;
    feed(peerDown(appliance, 3));
    expect(types(events)).toEqual(['peer-down', 'route-withdrawn', 'route-withdrawn', 'route-withdrawn']);
    const down = events[0];
    if (down.type !== 'peer-down') throw new Error('expected peer-down');
    expect(down).toMatchObject({ reason: 3, wasUp: true, implied: false, routesRemoved: 3 });
    expect(down.notification?.codeName).toBe('Cease');
    expect(events.slice(1).every((e) => e.type === 'route-withdrawn' && e.cause === 'peer-down')).toBe(true);
    expect(rib.routeCount).toBe(0);
  });

  it('treats a Peer Up for a peer already up as a session reset (FRR dynamic neighbours send no Peer Down)', () => {
    const { events, rib, feed } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29']));
    events.length = 0;
    feed(peerUp(appliance));
    expect(types(events)).toEqual(['peer-down', 'route-withdrawn', 'peer-up']);
    expect(events[0]).toMatchObject({ type: 'peer-down', implied: true, reason: 0, wasUp: true });
    expect(events[1]).toMatchObject({ type: 'route-withdrawn', cause: 'peer-reset', prefix: '10.128.1.0/29' });
    expect(events[2]).toMatchObject({ type: 'peer-up', reset: true });
    expect(rib.routeCount).toBe(0);
    expect([...rib.peers()][0].resets).toBe(1);
  });

  it('accepts a Peer Down for a peer never seen up, and Loc-RIB routes without a Peer Up', () => {
    const { events, rib, feed } = setup();
    feed(peerDown(peer('198.51.100.7'), 2));
    expect(events[0]).toMatchObject({ type: 'peer-down', wasUp: false, fsmEventCode: 2, routesRemoved: 0 });
    const locRib = peer('0.0.0.0', { locRib: true, bgpId: '192.0.2.1' });
    feed(routes(locRib, ['10.129.0.0/24'], { nextHop: '192.0.2.1' }));
    const route = events.at(-1);
    expect(route).toMatchObject({ type: 'route-announced', table: 'loc-rib', prefix: '10.129.0.0/24' });
    if (route?.type === 'route-announced') expect(route.peer.isLocal).toBe(true);
    expect(rib.routeCount).toBe(1);
  });

  it('marks the initial dump until End-of-RIB for that table and family, or until the timeout', () => {
    const { events, feed, advance } = setup({ timeoutMs: 10_000 });
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '2001:db8:100:1::/64']));
    expect(events.filter((e) => e.type === 'route-announced').map((e) => e.type === 'route-announced' && e.initialSync)).toEqual([true, true]);
    feed(endOfRib(appliance, 1), routes(appliance, ['10.128.1.8/29', '2001:db8:100:2::/64']));
    const after = events.filter((e) => e.type === 'route-announced').slice(2);
    expect(after.map((e) => e.type === 'route-announced' && [e.prefix, e.initialSync])).toEqual([
      ['10.128.1.8/29', false], // IPv4 End-of-RIB seen
      ['2001:db8:100:2::/64', true], // IPv6 still syncing
    ]);
    advance(10_001);
    feed(routes(appliance, ['2001:db8:100:3::/64']));
    expect(events.at(-1)).toMatchObject({ prefix: '2001:db8:100:3::/64', initialSync: false });
  });

  it('ends the initial dump at a pause in the peer\'s routes (FRR sends no End-of-RIB for a session that comes up live)', () => {
    const { events, feed, advance } = setup({ timeoutMs: 600_000 });
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29']));
    advance(2_000);
    feed(routes(appliance, ['10.128.1.8/29']));
    advance(INITIAL_DUMP_QUIET_MS);
    feed(routes(appliance, ['10.128.1.16/29']));
    advance(1_000);
    feed(routes(appliance, ['10.128.1.24/29']));
    const announced = events.filter((e) => e.type === 'route-announced').map((e) => e.type === 'route-announced' && [e.prefix, e.initialSync]);
    expect(announced).toEqual([
      ['10.128.1.0/29', true],
      ['10.128.1.8/29', true],
      ['10.128.1.16/29', false],
      ['10.128.1.24/29', false],
    ]);
    // A new session (a Peer Up while up) starts a new dump.
    feed(peerUp(appliance), routes(appliance, ['10.128.1.32/29']));
    expect(events.at(-1)).toMatchObject({ prefix: '10.128.1.32/29', initialSync: true });
  });

  it('takes a peer missing from the Statistics Reports as down, with its routes (FRR: no Peer Down for dynamic neighbours)', () => {
    const { events, rib, feed, advance } = setup();
    const gone = peer('100.64.1.12');
    const stats = (header: ReturnType<typeof peer>) => encodeStatsReport(header, [stat32(0, 0)]);
    feed(encodeInitiation([tlv(1, 'FRRouting 8.4.4'), tlv(2, 'rs1')]));
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29']), peerUp(gone), routes(gone, ['10.128.2.0/29']));
    feed(stats(appliance), stats(gone));
    advance(30_000);
    feed(stats(appliance), stats(gone)); // the interval is learned: 30 s
    for (let round = 0; round < 2; round++) {
      advance(30_000);
      feed(stats(appliance)); // `gone` is missing, but not yet for 2.5 intervals
    }
    expect(events.filter((e) => e.type === 'peer-down')).toEqual([]);
    advance(30_000);
    events.length = 0;
    feed(stats(appliance));
    expect(events.filter((e) => e.type !== 'statistics').map((e) => [e.type, e.type === 'peer-down' ? e.reasonName : e.type === 'route-withdrawn' ? e.prefix : ''])).toEqual([
      ['peer-down', 'session gone (missing from Statistics Reports)'],
      ['route-withdrawn', '10.128.2.0/29'],
    ]);
    expect([...rib.peers()].find((p) => p.ref.address === '100.64.1.12')?.state).toBe('down');
    expect([...rib.peers()].find((p) => p.ref.address === appliance.address)?.state).toBe('up');
    // A router that is not FRR (it sends Peer Downs, and may report peers in any order) never loses peers this way.
    const other = setup();
    other.feed(encodeInitiation([tlv(1, 'GoBGP'), tlv(2, 'rs2')]), peerUp(appliance), peerUp(gone), routes(gone, ['10.128.2.0/29']));
    other.feed(stats(appliance), stats(gone));
    for (let round = 0; round < 6; round++) {
      other.advance(30_000);
      other.feed(stats(appliance));
    }
    expect(other.events.filter((e) => e.type === 'peer-down')).toEqual([]);
  });

  it('flushes everything when the BMP session ends: router-down, then every route, no ghosts', () => {
    const { events, rib, feed, attributes } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29']), peerUp(peer('100.64.1.12')), routes(peer('100.64.1.12'), ['10.128.2.0/29']));
    events.length = 0;
    rib.close('closed', 'test', 2_000_000);
    expect(types(events)).toEqual(['router-down', 'route-withdrawn', 'route-withdrawn']);
    expect(events[0]).toMatchObject({ peers: 2, routes: 2, reason: 'closed' });
    expect(rib.routeCount).toBe(0);
    expect([...rib.peers()]).toHaveLength(0);
    expect(attributes.size).toBe(0);
  });

  it('keeps a prefix once per peer across tables: each table holds, changes and withdraws it on its own', () => {
    const { events, rib, feed, attributes } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '2001:db8:100:1::/64']), routes(appliancePost, ['10.128.1.0/29'], { localPref: 200 }));
    const state = [...rib.peers()][0];
    const pre = state.tables.get('adj-rib-in-pre');
    const post = state.tables.get('adj-rib-in-post');
    expect(pre?.size).toBe(2);
    expect(post?.size).toBe(1);
    expect(post?.get('10.128.1.0/29')?.attributes.localPref).toBe(200);
    expect(pre?.get('10.128.1.0/29')?.attributes.localPref).toBeUndefined();
    expect([...(pre ?? [])].map(([key]) => key)).toEqual(['10.128.1.0/29', '2001:db8:100:1::/64']);

    // (Post-policy first: a pre-policy withdrawal takes the post-policy route with it, see the GoBGP test above.)
    feed(withdraw(appliancePost, ['10.128.1.0/29']));
    expect(post?.has('10.128.1.0/29')).toBe(false);
    expect(pre?.get('10.128.1.0/29')?.attributes.localPref).toBeUndefined(); // pre-policy untouched
    expect(state.counts.get('adj-rib-in-post')).toEqual({ ipv4: 0, ipv6: 0 });
    expect(rib.routeCount).toBe(2);

    feed(withdraw(appliance, ['10.128.1.0/29']), routes(appliance, ['10.128.1.0/29', '10.128.1.8/29'], { asPath: [65001] }));
    expect([...(post ?? [])]).toEqual([]);
    expect(pre?.get('10.128.1.0/29')?.attributes.asPathText).toBe('65001');
    expect([...(pre ?? [])].map(([key]) => key).sort()).toEqual(['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64']);
    expect(events.filter((e) => e.type === 'route-withdrawn').map((e) => e.type === 'route-withdrawn' && [e.table, e.prefix])).toEqual([
      ['adj-rib-in-post', '10.128.1.0/29'],
      ['adj-rib-in-pre', '10.128.1.0/29'],
    ]);
    feed(withdraw(appliance, ['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64']));
    expect(rib.routeCount).toBe(0);
    expect(attributes.size).toBe(0);
  });

  it('holds ADD-PATH routes per path id and names the path id in every withdrawal, explicit or flushed', () => {
    const { events, rib, feed, attributes } = setup();
    const addPath = { type: 'add-path' as const, entries: [{ afi: 1, safi: 1, sendReceive: 3 as const }] };
    const caps = [{ type: 'multiprotocol' as const, afi: 1, safi: 1 }, { type: 'four-octet-as' as const, as: 65000 }, addPath];
    const paths = (nlri: { prefix: string; pathId: number }[], withdrawn: { prefix: string; pathId: number }[] = []): Buffer =>
      encodeRouteMonitoring(
        appliance,
        encodeUpdate({
          addPath: true,
          withdrawn,
          nlri,
          attributes: nlri.length === 0 ? [] : [{ type: 'origin', value: 0 }, { type: 'as-path', segments: [], fourOctet: true }, { type: 'next-hop', address: '100.64.1.11' }],
        }),
      );
    feed(peerUp(appliance, { capabilities: caps }), paths([{ prefix: '10.128.1.0/29', pathId: 1 }, { prefix: '10.128.1.0/29', pathId: 2 }, { prefix: '10.128.1.8/29', pathId: 1 }]));
    expect(rib.routeCount).toBe(3);
    expect(events.filter((e) => e.type === 'route-announced').map((e) => e.type === 'route-announced' && [e.prefix, e.pathId])).toEqual([
      ['10.128.1.0/29', 1],
      ['10.128.1.0/29', 2],
      ['10.128.1.8/29', 1],
    ]);
    feed(paths([], [{ prefix: '10.128.1.0/29', pathId: 1 }]));
    expect(events.at(-1)).toMatchObject({ type: 'route-withdrawn', prefix: '10.128.1.0/29', pathId: 1, cause: 'withdraw' });
    expect([...rib.peers()][0].tables.get('adj-rib-in-pre')?.has('10.128.1.0/29#2')).toBe(true);
    events.length = 0;
    feed(peerDown(appliance));
    const flushed = events.filter((e) => e.type === 'route-withdrawn').map((e) => e.type === 'route-withdrawn' && [e.prefix, e.pathId, e.cause]);
    expect(flushed.sort()).toEqual([
      ['10.128.1.0/29', 2, 'peer-down'],
      ['10.128.1.8/29', 1, 'peer-down'],
    ]);
    expect(rib.routeCount).toBe(0);
    expect(attributes.size).toBe(0);
  });

  it('takes one attribute-set reference per stored route, whatever the UPDATE size, and reuses freed ids', () => {
    const { rib, feed, attributes } = setup();
    const prefixes = Array.from({ length: 50 }, (_, i) => `10.130.${i}.0/24`);
    feed(peerUp(appliance), routes(appliance, prefixes), routes(appliance, prefixes.slice(0, 10))); // second: no change
    const entry = [...rib.peers()][0].tables.get('adj-rib-in-pre')?.get(prefixes[0]);
    expect(entry?.refs).toBe(50);
    expect(attributes.size).toBe(1);
    feed(routes(appliance, prefixes.slice(0, 20), { localPref: 50 }));
    expect(entry?.refs).toBe(30);
    feed(withdraw(appliance, prefixes.slice(20)));
    expect(entry?.refs).toBe(0);
    expect(attributes.size).toBe(1);
    const id = entry?.id;
    feed(routes(appliance, ['10.131.0.0/24'], { localPref: 70 }));
    expect([...rib.peers()][0].tables.get('adj-rib-in-pre')?.get('10.131.0.0/24')?.id).toBe(id); // freed id reused
    expect(attributes.get(id ?? 0).attributes.localPref).toBe(70);
  });

  it('closes in steps when asked: router-down first, routes and counts going down with each withdrawal, nothing left', () => {
    const { events, rib, feed, attributes } = setup();
    const prefixes = Array.from({ length: 40 }, (_, i) => `10.140.${i}.0/24`);
    feed(peerUp(appliance), routes(appliance, prefixes), routes(appliancePost, prefixes.slice(0, 25)), peerUp(peer('100.64.1.12')), routes(peer('100.64.1.12'), ['10.150.0.0/24']));
    events.length = 0;
    rib.beginClose('closed', 'test', 2_000_000);
    expect(rib.isClosing).toBe(true);
    expect(types(events)).toEqual(['router-down']);
    expect(events[0]).toMatchObject({ routes: 66, peers: 2 });
    let steps = 0;
    while (!rib.continueClose(7)) {
      steps++;
      const withdrawn = events.filter((e) => e.type === 'route-withdrawn').length;
      expect(withdrawn).toBe(steps * 7);
      expect(rib.routeCount).toBe(66 - withdrawn);
      let counted = 0;
      for (const state of rib.peers()) for (const c of state.counts.values()) counted += c.ipv4 + c.ipv6;
      expect(counted).toBe(rib.routeCount);
    }
    expect(steps).toBe(9);
    expect(rib.isClosing).toBe(false);
    expect(events.filter((e) => e.type === 'route-withdrawn' && e.cause === 'router-down' && e.time === 2_000_000)).toHaveLength(66);
    expect(rib.routeCount).toBe(0);
    expect([...rib.peers()]).toHaveLength(0);
    expect(attributes.size).toBe(0);
  });

  it('finishes a stepped close before applying another message, so no old route outlives it', () => {
    const { events, rib, feed } = setup();
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '10.128.1.8/29', '10.128.1.16/29']));
    rib.beginClose('closed', 'test', 2_000_000);
    expect(rib.continueClose(1)).toBe(false);
    events.length = 0;
    feed(routes(appliance, ['10.128.1.0/29']));
    expect(types(events)).toEqual(['route-withdrawn', 'route-withdrawn', 'route-announced']);
    expect(rib.isClosing).toBe(false);
    expect(rib.routeCount).toBe(1);
  });

  it('reports a route limit breach', () => {
    const { rib, feed } = setup({ maxRoutes: 2 });
    feed(peerUp(appliance), routes(appliance, ['10.128.1.0/29', '10.128.1.8/29']));
    expect(rib.overLimit).toBe(false);
    feed(routes(appliance, ['10.128.1.16/29']));
    expect(rib.overLimit).toBe(true);
  });

  for (const capture of CAPTURES) {
    it(`${capture.name}: replaying the real capture ends with the state its Peer Downs imply`, () => {
      const { rib, events } = setup();
      const decoder = new BmpSessionDecoder();
      new BmpFramer().push(readCapture(capture.file), (frame) => {
        const result = decoder.decode(frame.bytes);
        if (result.ok) rib.apply(result.value, 1_000_000);
      });
      // Peers that went down hold nothing; every remaining route belongs to a peer that is up or seen without Peer Up.
      for (const state of rib.peers()) {
        let held = 0;
        for (const table of state.tables.values()) held += table.size;
        if (state.state === 'down') expect(held).toBe(0);
      }
      const announced = events.filter((e) => e.type === 'route-announced').length;
      const withdrawn = events.filter((e) => e.type === 'route-withdrawn').length;
      expect(announced - withdrawn).toBe(rib.routeCount);
      expect(announced).toBeGreaterThan(20);
    });
  }
});
