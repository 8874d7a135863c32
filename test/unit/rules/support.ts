/** Builders for rule tests: a configuration with two appliance groups, collector events, a fake clock. */
import { configSchema, type Config, type ConfigInput } from '../../../src/config/schema.js';
import type { AsPathSegment, BgpNotification } from '../../../src/bgp/types.js';
import type { RibTable, Statistic } from '../../../src/bmp/types.js';
import type { CollectorEvent, PeerRef, RouterRef, WithdrawCause } from '../../../src/rib/events.js';
import type { RouteAttributes } from '../../../src/rib/route-attributes.js';
import { RuleEngine } from '../../../src/rules/engine.js';
import { fingerprintOf, type AlertSpec, type RuleNote, type Transition } from '../../../src/rules/types.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

export const BASE_CONFIG: ConfigInput = {
  applianceGroups: [
    {
      name: 'firewalls',
      sessionRanges: ['100.64.0.0/22', '2001:db8:64::/64'],
      sessionType: 'ibgp',
      asns: [64496],
      prefixes: {
        ipv4: [{ prefix: '10.128.0.0/17', minLength: 29, maxLength: 32 }],
        ipv6: [{ prefix: '2001:db8:100::/48', minLength: 64, maxLength: 64 }],
      },
      maxPrefixes: 10,
      maxPrefixesWarningFraction: 0.8,
      anycastPrefixes: ['10.128.100.0/29'],
    },
    {
      name: 'lbs',
      sessionRanges: ['100.64.4.0/24'],
      sessionType: 'ebgp',
      asns: [64512, 64513],
      allowPrivateAsns: true,
      prefixes: { ipv4: [{ prefix: '10.128.128.0/17', minLength: 29, maxLength: 32 }] },
    },
  ],
  appliances: [
    { name: 'fw-01', group: 'firewalls', bgpId: '100.64.0.11', addresses: ['100.64.0.11', '2001:db8:64::11'] },
    { name: 'fw-02', group: 'firewalls', bgpId: '100.64.0.12' },
  ],
  infrastructurePrefixes: ['10.128.0.0/24'],
};

type Rules = NonNullable<ConfigInput['rules']>;

export function testConfig(rules: Rules = {}, extra: Partial<ConfigInput> = {}): Config {
  return configSchema.parse({ ...BASE_CONFIG, ...extra, rules });
}

export function router(name = 'rs1', port = 40000): RouterRef {
  const address = name === 'rs2' ? '192.0.2.2' : name === 'rs3' ? '192.0.2.3' : '192.0.2.1';
  return { id: `${address}:${port}`, address, port, name };
}

export function peer(address: string, as = 64496, bgpId = address.includes(':') ? '100.64.0.99' : address): PeerRef {
  return { key: `0|0:0|${address}`, address, as, bgpId, peerType: 0, peerTypeName: 'global', distinguisher: '0:0', isLocal: false };
}

export const LOCAL_PEER: PeerRef = { key: '3|0:0|0.0.0.0', address: '0.0.0.0', as: 64496, bgpId: '192.0.2.1', peerType: 3, peerTypeName: 'loc-rib', distinguisher: '0:0', isLocal: true };

export function attrs(options: { nextHop?: string | null; linkLocal?: string; asPath?: number[]; segments?: AsPathSegment[]; med?: number } = {}): RouteAttributes {
  const segments = options.segments ?? (options.asPath && options.asPath.length > 0 ? [{ type: 'AS_SEQUENCE' as const, asns: options.asPath }] : []);
  return {
    asPath: segments,
    asPathText: segments.map((s) => (s.type === 'AS_SET' ? `{${s.asns.join(' ')}}` : s.asns.join(' '))).join(' '),
    asPathMissing: false,
    nextHop: options.nextHop === undefined ? null : options.nextHop,
    ...(options.linkLocal !== undefined && { linkLocalNextHop: options.linkLocal }),
    ...(options.med !== undefined && { med: options.med }),
    origin: 'igp',
  };
}

export interface RouteOptions {
  table?: RibTable;
  initialSync?: boolean;
  attributes?: RouteAttributes;
  rs?: RouterRef;
  pathId?: number;
}

/** A harness: engine + fake clock + the alerts currently firing according to the transitions seen. */
export function harness(config: Config = testConfig()) {
  const engine = new RuleEngine(config);
  let now = T0;
  const firing = new Map<string, AlertSpec>();
  const transitions: Transition[] = [];
  const notes: RuleNote[] = [];
  const record = (list: readonly Transition[]): Transition[] => {
    for (const t of list) {
      transitions.push(t);
      if (t.action === 'fire') firing.set(fingerprintOf(t.alert.rule, t.alert.key), t.alert);
      else if (t.action === 'resolve') firing.delete(fingerprintOf(t.rule, t.key));
      else notes.push(t.note);
    }
    return [...list];
  };
  const h = {
    engine,
    firing,
    transitions,
    notes,
    now: () => now,
    advance(ms: number): Transition[] {
      now += ms;
      return record(engine.tick(now));
    },
    /** Advance in steps of `step` ms, ticking at each (like the consumer's timer). */
    run(ms: number, step = 5_000): void {
      for (let elapsed = 0; elapsed < ms; elapsed += step) h.advance(Math.min(step, ms - elapsed));
    },
    send(event: CollectorEvent): Transition[] {
      return record(engine.handle(event, now));
    },
    routerUp(rs = router()): void {
      h.send({ type: 'router-up', router: rs, time: now });
      h.send({ type: 'router-initiation', router: rs, time: now, sysName: rs.name });
    },
    routerDown(rs = router(), reason: 'closed' | 'termination' | 'shutdown' = 'closed'): void {
      h.send({ type: 'router-down', router: rs, time: now, reason, detail: 'test', peers: 0, routes: 0 });
    },
    peerUp(p: PeerRef, rs = router(), reset = false): Transition[] {
      return h.send({ type: 'peer-up', router: rs, time: now, peer: p, bmpTimestamp: 0, localAddress: '192.0.2.1', localPort: 179, remotePort: 40179, sentCapabilities: [], receivedCapabilities: [], holdTime: 90, reset });
    },
    peerDown(p: PeerRef, rs = router(), options: { reason?: number; implied?: boolean; wasUp?: boolean; notification?: BgpNotification } = {}): Transition[] {
      return h.send({
        type: 'peer-down',
        router: rs,
        time: now,
        peer: p,
        bmpTimestamp: 0,
        reason: options.reason ?? 3,
        reasonName: options.reason === 0 ? 'session reset (Peer Up while up)' : 'remote system closed the session with a NOTIFICATION',
        ...(options.notification && { notification: options.notification }),
        wasUp: options.wasUp ?? true,
        implied: options.implied ?? false,
        routesRemoved: 0,
      });
    },
    announce(p: PeerRef, prefix: string, options: RouteOptions = {}): Transition[] {
      return h.send({
        type: 'route-announced',
        router: options.rs ?? router(),
        time: now,
        peer: p,
        table: options.table ?? 'adj-rib-in-pre',
        prefix,
        ...(options.pathId !== undefined && { pathId: options.pathId }),
        bmpTimestamp: 0,
        initialSync: options.initialSync ?? false,
        attributes: options.attributes ?? attrs({ nextHop: p.address }),
      });
    },
    change(p: PeerRef, prefix: string, attributes: RouteAttributes, previous: RouteAttributes, options: RouteOptions = {}): Transition[] {
      return h.send({ type: 'route-changed', router: options.rs ?? router(), time: now, peer: p, table: options.table ?? 'adj-rib-in-pre', prefix, bmpTimestamp: 0, initialSync: options.initialSync ?? false, attributes, previous });
    },
    withdraw(p: PeerRef, prefix: string, options: RouteOptions & { cause?: WithdrawCause; previous?: RouteAttributes } = {}): Transition[] {
      return h.send({
        type: 'route-withdrawn',
        router: options.rs ?? router(),
        time: now,
        peer: p,
        table: options.table ?? 'adj-rib-in-pre',
        prefix,
        bmpTimestamp: 0,
        initialSync: options.initialSync ?? false,
        previous: options.previous ?? attrs({ nextHop: p.address }),
        cause: options.cause ?? 'withdraw',
      });
    },
    stats(p: PeerRef, stats: Statistic[], rs = router()): Transition[] {
      return h.send({ type: 'statistics', router: rs, time: now, peer: p, bmpTimestamp: 0, stats });
    },
    /** Firing alerts of one rule, by key. */
    alertsOf(rule: string): Map<string, AlertSpec> {
      return new Map([...firing.values()].filter((a) => a.rule === rule).map((a) => [a.key, a]));
    },
  };
  return h;
}

export function rejected(value: number): Statistic {
  return { type: 0, name: 'prefixes rejected by inbound policy', value, kind: 'counter' };
}

export const FW1 = peer('100.64.0.11');
export const FW2 = peer('100.64.0.12');
export const FW3 = peer('100.64.0.13');
export const LB1 = peer('100.64.4.10', 64512);
