/**
 * BmpSessionDecoder, message by message (RFC 7854 §4, RFC 8671, RFC 9069): each case builds a frame with
 * src/encode (or by hand where the encoder would refuse) and states the whole decoded value.
 */
import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import type { InformationTlv, PerPeerHeader, RouteMirroringItem, Statistic } from '../../../src/bmp/types.js';
import type { BgpNotification } from '../../../src/bgp/types.js';
import { encodeKeepalive, encodeNotification, encodeOpen, encodeUpdate } from '../../../src/encode/bgp-encode.js';
import {
  encodeBmpMessage,
  encodeInitiation,
  encodePeerDown,
  encodePeerUp,
  encodeRouteMirroring,
  encodeRouteMonitoring,
  encodeStatsReport,
  encodeTermination,
  fsmEventCode,
  stat32,
  stat64,
  statAfiSafi64,
  tlv,
  type PeerHeader,
  type TlvInput,
} from '../../../src/encode/bmp-encode.js';
import type { DecodeError } from '../../../src/wire/decode-error.js';
import { decodeAs, expectError, expectOk, header, hex, MANDATORY, nlri, PEER_PAYLOAD_AT, PEER_V4 } from '../bgp/support.js';

/** The per-peer header of PEER_V4 as decoded; cases override what their flags and type change. */
const BASE_PEER: PerPeerHeader = {
  peerType: 0,
  peerTypeName: 'global',
  flags: 0,
  ipv6: false,
  postPolicy: false,
  legacyAsPath: false,
  adjRibOut: false,
  filtered: false,
  table: 'adj-rib-in-pre',
  distinguisher: '0:0',
  address: '192.0.2.11',
  as: 65011,
  bgpId: '192.0.2.11',
  isLocal: false,
};

/** A Statistics Report with no statistics: the smallest per-peer message, to look at the header alone. */
const emptyStats = (peer: PeerHeader): Buffer => encodeStatsReport(peer, []);

describe('per-peer header: peer types (RFC 7854 §4.2, RFC 9069 §4.1)', () => {
  const rd = (text: string): Buffer => hex(text);
  const cases: { name: string; peer: PeerHeader; expected: PerPeerHeader }[] = [
    { name: 'type 0 global instance', peer: PEER_V4, expected: BASE_PEER },
    {
      name: 'type 1 RD instance, RD type 0 (2-octet AS : 4-octet number)',
      peer: header({ peerType: 1, distinguisher: rd('0000 fde8 00000064') }),
      expected: { ...BASE_PEER, peerType: 1, peerTypeName: 'rd-instance', distinguisher: '65000:100' },
    },
    {
      name: 'type 1 RD instance, RD type 1 (IPv4 : 2-octet number)',
      peer: header({ peerType: 1, distinguisher: rd('0001 c0000201 0007') }),
      expected: { ...BASE_PEER, peerType: 1, peerTypeName: 'rd-instance', distinguisher: '192.0.2.1:7' },
    },
    {
      name: 'type 1 RD instance, RD type 2 (4-octet AS : 2-octet number)',
      peer: header({ peerType: 1, distinguisher: rd('0002 fa56ea01 0064') }),
      expected: { ...BASE_PEER, peerType: 1, peerTypeName: 'rd-instance', distinguisher: '4200000001:100' },
    },
    {
      name: 'type 1 RD instance, unknown RD type kept as hex',
      peer: header({ peerType: 1, distinguisher: rd('0003 0102 0304 0506') }),
      expected: { ...BASE_PEER, peerType: 1, peerTypeName: 'rd-instance', distinguisher: '0003010203040506' },
    },
    {
      name: 'type 2 local instance',
      peer: header({ peerType: 2, distinguisher: rd('0000 fde8 00000001') }),
      expected: { ...BASE_PEER, peerType: 2, peerTypeName: 'local-instance', distinguisher: '65000:1' },
    },
    {
      name: 'type 3 Loc-RIB, unfiltered',
      peer: header({ peerType: 3, address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' }),
      expected: { ...BASE_PEER, peerType: 3, peerTypeName: 'loc-rib', table: 'loc-rib', address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' },
    },
    {
      name: 'type 3 Loc-RIB: 0x80 is F (filtered), not V',
      peer: header({ peerType: 3, flags: 0x80, address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' }),
      expected: {
        ...BASE_PEER,
        peerType: 3,
        peerTypeName: 'loc-rib',
        flags: 0x80,
        filtered: true,
        table: 'loc-rib',
        address: '0.0.0.0',
        as: 65000,
        bgpId: '192.0.2.1',
      },
    },
    {
      name: 'type 3 Loc-RIB: the L, A and O bits mean nothing there',
      peer: header({ peerType: 3, flags: 0x70, address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' }),
      expected: { ...BASE_PEER, peerType: 3, peerTypeName: 'loc-rib', flags: 0x70, table: 'loc-rib', address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' },
    },
    {
      name: 'type 3 Loc-RIB for a VRF (RD type 0)',
      peer: header({ peerType: 3, distinguisher: rd('0000 fde8 0000000a'), address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' }),
      expected: {
        ...BASE_PEER,
        peerType: 3,
        peerTypeName: 'loc-rib',
        table: 'loc-rib',
        distinguisher: '65000:10',
        address: '0.0.0.0',
        as: 65000,
        bgpId: '192.0.2.1',
      },
    },
    {
      name: 'all-zero header (FRR: the route server itself) is local',
      peer: header({ address: '0.0.0.0', as: 0, bgpId: '0.0.0.0' }),
      expected: { ...BASE_PEER, address: '0.0.0.0', as: 0, bgpId: '0.0.0.0', isLocal: true },
    },
    {
      name: '4-octet peer AS',
      peer: header({ as: 4_200_000_011 }),
      expected: { ...BASE_PEER, as: 4_200_000_011 },
    },
  ];

  it.each(cases)('$name', ({ peer, expected }) => {
    const message = decodeAs(emptyStats(peer), 'statistics-report');
    expect(message.peer).toEqual(expected);
  });

  it('a peer type beyond 3 is named unknown', () => {
    const frame = emptyStats(PEER_V4);
    frame[6] = 4;
    expect(decodeAs(frame, 'statistics-report').peer).toEqual({ ...BASE_PEER, peerType: 4, peerTypeName: 'unknown' });
  });
});

describe('per-peer header: flags V, L, A, O and the derived table (RFC 7854 §4.2, RFC 8671 §4)', () => {
  const cases: { name: string; flags: number; address: string; expected: Partial<PerPeerHeader> }[] = [
    { name: 'no flags: Adj-RIB-In pre-policy', flags: 0x00, address: '192.0.2.11', expected: {} },
    { name: 'V: IPv6 peer address', flags: 0x80, address: '2001:db8::11', expected: { ipv6: true, address: '2001:db8::11' } },
    { name: 'L: post-policy', flags: 0x40, address: '192.0.2.11', expected: { postPolicy: true, table: 'adj-rib-in-post' } },
    { name: 'A: legacy 2-octet AS_PATH', flags: 0x20, address: '192.0.2.11', expected: { legacyAsPath: true } },
    { name: 'O: Adj-RIB-Out pre-policy', flags: 0x10, address: '192.0.2.11', expected: { adjRibOut: true, table: 'adj-rib-out-pre' } },
    { name: 'O+L: Adj-RIB-Out post-policy', flags: 0x50, address: '192.0.2.11', expected: { adjRibOut: true, postPolicy: true, table: 'adj-rib-out-post' } },
    {
      name: 'V+L+A+O together',
      flags: 0xf0,
      address: '2001:db8:0:1::11',
      expected: { ipv6: true, postPolicy: true, legacyAsPath: true, adjRibOut: true, table: 'adj-rib-out-post', address: '2001:db8:0:1::11' },
    },
    {
      name: 'V with an IPv4-mapped address prints mixed notation',
      flags: 0x80,
      address: '::ffff:192.0.2.11',
      expected: { ipv6: true, address: '::ffff:192.0.2.11' },
    },
    {
      name: 'without V the last 4 bytes of the address field are the IPv4 address',
      flags: 0x00,
      address: '2001:db8::c000:20b',
      expected: { address: '192.0.2.11' },
    },
  ];

  it.each(cases)('$name', ({ flags, address, expected }) => {
    const message = decodeAs(emptyStats(header({ flags, address })), 'statistics-report');
    expect(message.peer).toEqual({ ...BASE_PEER, flags, ...expected });
  });

  it('one shared, frozen header object per peer and table; timestamps vary per message', () => {
    const decoder = new BmpSessionDecoder();
    const first = decodeAs(emptyStats(header({ timestampSec: 1 })), 'statistics-report', decoder);
    const second = decodeAs(emptyStats(header({ timestampSec: 2 })), 'statistics-report', decoder);
    const post = decodeAs(emptyStats(header({ flags: 0x40 })), 'statistics-report', decoder);
    expect(second.peer).toBe(first.peer);
    expect(Object.isFrozen(first.peer)).toBe(true);
    expect(post.peer).not.toBe(first.peer);
    expect([first.timestamp, second.timestamp]).toEqual([1, 2]);
  });
});

describe('per-peer header: timestamps', () => {
  it.each([
    { name: 'seconds and microseconds', sec: 1_700_000_000, usec: 123_456, expected: 1_700_000_000.123456 },
    { name: 'whole seconds', sec: 1_700_000_000, usec: 0, expected: 1_700_000_000 },
    { name: 'zero (exporters that do not know)', sec: 0, usec: 0, expected: 0 },
    { name: 'largest seconds value', sec: 0xffffffff, usec: 999_999, expected: 4_294_967_295.999999 },
  ])('$name', ({ sec, usec, expected }) => {
    const message = decodeAs(emptyStats(header({ timestampSec: sec, timestampUsec: usec })), 'statistics-report');
    expect(message.timestamp).toBe(expected);
  });
});

describe('Route Monitoring (RFC 7854 §4.6)', () => {
  it('carries the decoded UPDATE with the peer header and timestamp', () => {
    const update = encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.0.0.0/24' }] });
    const message = decodeAs(encodeRouteMonitoring(header({ timestampUsec: 500_000 }), update), 'route-monitoring');
    expect(message.type).toBe('route-monitoring');
    expect(message.peer).toEqual(BASE_PEER);
    expect(message.timestamp).toBe(1_700_000_000.5);
    expect(message.update.announced).toEqual([nlri('10.0.0.0/24')]);
    expect(message.update.withdrawn).toEqual([]);
    expect(message.update.attributes).toEqual({
      origin: 'igp',
      asPath: [{ type: 'AS_SEQUENCE', asns: [65011] }],
      nextHop: '192.0.2.11',
    });
  });
});

describe('Statistics Report (RFC 7854 §4.8, RFC 8671 §5, RFC 9972)', () => {
  const counters = [0, 1, 2, 3, 4, 5, 6, 11, 12, 13];
  const gauges = [7, 8, 14, 15, 18, 20];
  const perAfiSafi = [9, 10, 16, 17, 19, 21];
  const NAMES: Record<number, string> = {
    0: 'prefixes rejected by inbound policy',
    1: 'duplicate prefix advertisements',
    2: 'duplicate withdraws',
    3: 'updates invalidated by CLUSTER_LIST loop',
    4: 'updates invalidated by AS_PATH loop',
    5: 'updates invalidated by ORIGINATOR_ID',
    6: 'updates invalidated by AS_CONFED loop',
    7: 'routes in Adj-RIBs-In',
    8: 'routes in Loc-RIB',
    9: 'routes in per-AFI/SAFI Adj-RIB-In',
    10: 'routes in per-AFI/SAFI Loc-RIB',
    11: 'updates subjected to treat-as-withdraw',
    12: 'prefixes subjected to treat-as-withdraw',
    13: 'duplicate update messages received',
    14: 'routes in pre-policy Adj-RIB-Out',
    15: 'routes in post-policy Adj-RIB-Out',
    16: 'routes in per-AFI/SAFI pre-policy Adj-RIB-Out',
    17: 'routes in per-AFI/SAFI post-policy Adj-RIB-Out',
    18: 'routes in pre-policy Adj-RIB-In',
    19: 'routes in per-AFI/SAFI pre-policy Adj-RIB-In',
    20: 'routes in post-policy Adj-RIB-In',
    21: 'routes in per-AFI/SAFI post-policy Adj-RIB-In',
  };

  // Values differ per type so a mix-up shows; gauges go past 2^32 to prove all 64 bits are read.
  const cases: { name: string; stat: TlvInput; expected: Statistic }[] = [
    ...counters.map((type) => ({
      name: `type ${type}: 32-bit counter`,
      stat: stat32(type, 1000 + type),
      expected: { type, name: NAMES[type], kind: 'counter' as const, value: 1000 + type },
    })),
    ...gauges.map((type) => ({
      name: `type ${type}: 64-bit gauge`,
      stat: stat64(type, 0x1_0000_0000n * BigInt(type) + 7n),
      expected: { type, name: NAMES[type], kind: 'gauge' as const, value: 0x1_0000_0000 * type + 7 },
    })),
    ...perAfiSafi.map((type, i) => ({
      name: `type ${type}: per-AFI/SAFI 64-bit gauge`,
      stat: statAfiSafi64(type, i % 2 === 0 ? 1 : 2, i === 5 ? 128 : 1, 0x2_0000_0000n + BigInt(type)),
      expected: {
        type,
        name: NAMES[type],
        kind: 'gauge' as const,
        afi: i % 2 === 0 ? 1 : 2,
        safi: i === 5 ? 128 : 1,
        value: 0x2_0000_0000 + type,
      },
    })),
    {
      name: 'counter at its maximum',
      stat: stat32(0, 0xffffffff),
      expected: { type: 0, name: NAMES[0], kind: 'counter', value: 4_294_967_295 },
    },
    {
      name: 'gauge at 2^53 - 1 (largest exact value)',
      stat: stat64(7, 2n ** 53n - 1n),
      expected: { type: 7, name: NAMES[7], kind: 'gauge', value: Number.MAX_SAFE_INTEGER },
    },
    {
      name: 'private type 65531 (FRR) with 4 bytes reads as a counter',
      stat: stat32(65531, 42),
      expected: { type: 65531, name: 'type 65531', kind: 'counter', value: 42 },
    },
    {
      name: 'unknown type with 8 bytes reads as a gauge',
      stat: stat64(300, 5n),
      expected: { type: 300, name: 'type 300', kind: 'gauge', value: 5 },
    },
    {
      name: 'odd length is kept as hex',
      stat: { type: 65532, value: hex('0a0b0c') },
      expected: { type: 65532, name: 'type 65532', kind: 'unknown', value: 0, hex: '0a0b0c' },
    },
    {
      name: 'known type with an unexpected length is kept as hex',
      stat: { type: 0, value: hex('0102') },
      expected: { type: 0, name: NAMES[0], kind: 'unknown', value: 0, hex: '0102' },
    },
    {
      name: 'empty value',
      stat: { type: 1, value: Buffer.alloc(0) },
      expected: { type: 1, name: NAMES[1], kind: 'unknown', value: 0, hex: '' },
    },
  ];

  it.each(cases)('$name', ({ stat, expected }) => {
    const message = decodeAs(encodeStatsReport(PEER_V4, [stat]), 'statistics-report');
    expect(message).toEqual({ type: 'statistics-report', peer: BASE_PEER, timestamp: 1_700_000_000, stats: [expected] });
  });

  it('all 22 RFC types and a private one in one report, in order', () => {
    const stats = cases.slice(0, 22).map((c) => c.stat);
    const message = decodeAs(encodeStatsReport(PEER_V4, [...stats, stat32(65531, 3)]), 'statistics-report');
    expect(message.stats.map((s) => s.type)).toEqual([...counters, ...gauges, ...perAfiSafi, 65531]);
    expect(message.stats).toEqual([...cases.slice(0, 22).map((c) => c.expected), { type: 65531, name: 'type 65531', kind: 'counter', value: 3 }]);
  });

  it('a report with no statistics', () => {
    expect(decodeAs(emptyStats(PEER_V4), 'statistics-report').stats).toEqual([]);
  });
});

describe('Peer Down (RFC 7854 §4.9, RFC 9069 §5.3)', () => {
  const notification = (fields: Omit<BgpNotification, 'type'>): BgpNotification => ({ type: 'notification', ...fields });
  const shutdown = Buffer.concat([Buffer.from([11]), Buffer.from('maintenance', 'utf8')]);

  const cases: { name: string; reason: number; data?: Buffer; expected: Record<string, unknown> }[] = [
    {
      name: 'reason 1: local close with NOTIFICATION (Cease / Administrative Shutdown with a shutdown communication)',
      reason: 1,
      data: encodeNotification({ code: 6, subcode: 2, data: shutdown }),
      expected: {
        reasonName: 'local system closed, NOTIFICATION follows',
        notification: notification({
          code: 6,
          subcode: 2,
          codeName: 'Cease',
          subcodeName: 'Administrative Shutdown',
          dataHex: shutdown.toString('hex'),
          shutdownMessage: 'maintenance',
        }),
      },
    },
    {
      name: 'reason 1: Cease / Administrative Reset without a message',
      reason: 1,
      data: encodeNotification({ code: 6, subcode: 4 }),
      expected: {
        reasonName: 'local system closed, NOTIFICATION follows',
        notification: notification({ code: 6, subcode: 4, codeName: 'Cease', subcodeName: 'Administrative Reset', dataHex: '' }),
      },
    },
    {
      name: 'reason 2: local close, FSM event code',
      reason: 2,
      data: fsmEventCode(10),
      expected: { reasonName: 'local system closed, FSM event follows', fsmEventCode: 10 },
    },
    {
      name: 'reason 2: FSM event code 0 (FRR)',
      reason: 2,
      data: fsmEventCode(0),
      expected: { reasonName: 'local system closed, FSM event follows', fsmEventCode: 0 },
    },
    {
      name: 'reason 3: remote close with NOTIFICATION (Hold Timer Expired, subcode 0)',
      reason: 3,
      data: encodeNotification({ code: 4, subcode: 0 }),
      expected: {
        reasonName: 'remote system closed, NOTIFICATION follows',
        notification: notification({ code: 4, subcode: 0, codeName: 'Hold Timer Expired', subcodeName: 'Unspecific', dataHex: '' }),
      },
    },
    {
      name: 'reason 3: UPDATE Message Error / Malformed AS_PATH with data',
      reason: 3,
      data: encodeNotification({ code: 3, subcode: 11, data: hex('40020402') }),
      expected: {
        reasonName: 'remote system closed, NOTIFICATION follows',
        notification: notification({ code: 3, subcode: 11, codeName: 'UPDATE Message Error', subcodeName: 'Malformed AS_PATH', dataHex: '40020402' }),
      },
    },
    {
      name: 'reason 3: OPEN Message Error / Bad Peer AS',
      reason: 3,
      data: encodeNotification({ code: 2, subcode: 2, data: hex('fde9') }),
      expected: {
        reasonName: 'remote system closed, NOTIFICATION follows',
        notification: notification({ code: 2, subcode: 2, codeName: 'OPEN Message Error', subcodeName: 'Bad Peer AS', dataHex: 'fde9' }),
      },
    },
    {
      name: 'reason 3: Finite State Machine Error / subcode 0 is "Unspecified Error"',
      reason: 3,
      data: encodeNotification({ code: 5, subcode: 0 }),
      expected: {
        reasonName: 'remote system closed, NOTIFICATION follows',
        notification: notification({ code: 5, subcode: 0, codeName: 'Finite State Machine Error', subcodeName: 'Unspecified Error', dataHex: '' }),
      },
    },
    {
      name: 'reason 3: Cease / Hard Reset',
      reason: 3,
      data: encodeNotification({ code: 6, subcode: 9 }),
      expected: {
        reasonName: 'remote system closed, NOTIFICATION follows',
        notification: notification({ code: 6, subcode: 9, codeName: 'Cease', subcodeName: 'Hard Reset', dataHex: '' }),
      },
    },
    {
      name: 'reason 3: unknown code and subcode',
      reason: 3,
      data: encodeNotification({ code: 9, subcode: 7 }),
      expected: {
        reasonName: 'remote system closed, NOTIFICATION follows',
        notification: notification({ code: 9, subcode: 7, codeName: 'Unknown (9)', subcodeName: 'Unknown (7)', dataHex: '' }),
      },
    },
    {
      name: 'reason 4: remote close, no data',
      reason: 4,
      expected: { reasonName: 'remote system closed, no data' },
    },
    {
      name: 'reason 5: peer de-configured',
      reason: 5,
      expected: { reasonName: 'peer de-configured' },
    },
    {
      name: 'reason 6: information TLVs (string)',
      reason: 6,
      data: tlv(0, 'bmp session reset'),
      expected: { reasonName: 'local system closed, TLV data follows', information: [{ type: 0, name: 'string', value: 'bmp session reset' }] },
    },
    {
      name: 'reason 1 whose data is not a NOTIFICATION keeps the bytes',
      reason: 1,
      data: encodeKeepalive(),
      expected: { reasonName: 'local system closed, NOTIFICATION follows', dataHex: encodeKeepalive().toString('hex') },
    },
    {
      name: 'reason 3 with a truncated NOTIFICATION keeps the bytes',
      reason: 3,
      data: encodeNotification({ code: 6, subcode: 2 }).subarray(0, 20),
      expected: { reasonName: 'remote system closed, NOTIFICATION follows', dataHex: encodeNotification({ code: 6, subcode: 2 }).subarray(0, 20).toString('hex') },
    },
    {
      name: 'reason 2 with a 1-byte FSM event keeps the byte',
      reason: 2,
      data: hex('07'),
      expected: { reasonName: 'local system closed, FSM event follows', dataHex: '07' },
    },
    {
      name: 'reason 6 with a broken TLV keeps the bytes',
      reason: 6,
      data: hex('0000 0009 6162'),
      expected: { reasonName: 'local system closed, TLV data follows', dataHex: '000000096162' },
    },
    {
      name: 'unknown reason 7 with data',
      reason: 7,
      data: hex('abcd'),
      expected: { reasonName: 'unknown (7)', dataHex: 'abcd' },
    },
    {
      name: 'reason 4 with unexpected data keeps it',
      reason: 4,
      data: hex('00'),
      expected: { reasonName: 'remote system closed, no data', dataHex: '00' },
    },
  ];

  it.each(cases)('$name', ({ reason, data, expected }) => {
    const message = decodeAs(encodePeerDown(PEER_V4, reason, data), 'peer-down');
    expect(message).toEqual({ type: 'peer-down', peer: BASE_PEER, timestamp: 1_700_000_000, reason, ...expected });
  });

  it('reason 6 (Loc-RIB): the VRF/Table Name TLV (type 3) is named and read as UTF-8, as in the Peer Up (RFC 9069 §5.3)', () => {
    const locRib = header({ peerType: 3, address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' });
    const message = decodeAs(encodePeerDown(locRib, 6, tlv(3, 'global')), 'peer-down');
    expect(message.information).toEqual([{ type: 3, name: 'vrf-table-name', value: 'global' }]);
    expect(message.dataHex).toBeUndefined();
  });
});

describe('Peer Up (RFC 7854 §4.10, RFC 9069 §5.2)', () => {
  const sentOpen = encodeOpen({
    myAs: 65000,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', as: 65000 }, { type: 'route-refresh' }, { type: 'extended-message' }],
  });
  const receivedOpen = encodeOpen({
    myAs: 23456,
    holdTime: 180,
    bgpId: '192.0.2.11',
    capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', as: 4_200_000_011 }],
  });
  const SENT = {
    type: 'open',
    version: 4,
    myAs: 65000,
    as: 65000,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: [
      { type: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { type: 'four-octet-as', code: 65, as: 65000 },
      { type: 'route-refresh', code: 2 },
      { type: 'extended-message', code: 6 },
    ],
  };
  const RECEIVED = {
    type: 'open',
    version: 4,
    myAs: 23456,
    as: 4_200_000_011,
    holdTime: 180,
    bgpId: '192.0.2.11',
    capabilities: [
      { type: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { type: 'four-octet-as', code: 65, as: 4_200_000_011 },
    ],
  };
  const NEGOTIATED = { fourOctetAs: true, extendedMessages: false, addPathFromPeer: [], addPathToPeer: [] };

  const cases: { name: string; peer: PeerHeader; localAddress: string; tlvs: TlvInput[]; expected: Record<string, unknown> }[] = [
    {
      name: 'IPv4 peer, no information TLVs',
      peer: PEER_V4,
      localAddress: '192.0.2.1',
      tlvs: [],
      expected: { peer: BASE_PEER, localAddress: '192.0.2.1', information: [] },
    },
    {
      name: 'IPv6 peer: the local address is IPv6 too',
      peer: header({ flags: 0x80, address: '2001:db8::11' }),
      localAddress: '2001:db8::1',
      tlvs: [],
      expected: { peer: { ...BASE_PEER, flags: 0x80, ipv6: true, address: '2001:db8::11' }, localAddress: '2001:db8::1', information: [] },
    },
    {
      name: 'string TLV and VRF/Table Name TLV (type 3)',
      peer: PEER_V4,
      localAddress: '192.0.2.1',
      tlvs: [tlv(0, 'appliance 11'), tlv(3, 'customers-vrf')],
      expected: {
        peer: BASE_PEER,
        localAddress: '192.0.2.1',
        information: [
          { type: 0, name: 'string', value: 'appliance 11' },
          { type: 3, name: 'vrf-table-name', value: 'customers-vrf' },
        ],
        tableName: 'customers-vrf',
      },
    },
    {
      name: 'Loc-RIB peer with the default table name "global"',
      peer: header({ peerType: 3, address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' }),
      localAddress: '0.0.0.0',
      tlvs: [tlv(3, 'global')],
      expected: {
        peer: { ...BASE_PEER, peerType: 3, peerTypeName: 'loc-rib', table: 'loc-rib', address: '0.0.0.0', as: 65000, bgpId: '192.0.2.1' },
        localAddress: '0.0.0.0',
        information: [{ type: 3, name: 'vrf-table-name', value: 'global' }],
        tableName: 'global',
      },
    },
    {
      name: 'unknown information TLV kept as hex',
      peer: PEER_V4,
      localAddress: '192.0.2.1',
      tlvs: [tlv(4, hex('0001')), tlv(65000, hex('deadbeef'))],
      expected: {
        peer: BASE_PEER,
        localAddress: '192.0.2.1',
        information: [
          { type: 4, name: 'type-4', value: '0001' },
          { type: 65000, name: 'type-65000', value: 'deadbeef' },
        ],
      },
    },
    {
      name: 'UTF-8 string TLV',
      peer: PEER_V4,
      localAddress: '192.0.2.1',
      tlvs: [tlv(0, 'Zürich–Genève')],
      expected: { peer: BASE_PEER, localAddress: '192.0.2.1', information: [{ type: 0, name: 'string', value: 'Zürich–Genève' }] },
    },
  ];

  it.each(cases)('$name', ({ peer, localAddress, tlvs, expected }) => {
    const frame = encodePeerUp(peer, { localAddress, localPort: 179, remotePort: 40_001, sentOpen, receivedOpen, tlvs });
    const message = decodeAs(frame, 'peer-up');
    expect(message).toEqual({
      type: 'peer-up',
      timestamp: 1_700_000_000,
      localPort: 179,
      remotePort: 40_001,
      sentOpen: SENT,
      receivedOpen: RECEIVED,
      negotiated: NEGOTIATED,
      ...expected,
    });
  });
});

describe('Initiation (RFC 7854 §4.3)', () => {
  const cases: { name: string; tlvs: TlvInput[]; expected: { information: InformationTlv[]; sysName?: string; sysDescr?: string } }[] = [
    {
      name: 'sysDescr and sysName',
      tlvs: [tlv(1, 'FRRouting 8.4.4'), tlv(2, 'bmp-harness-rs')],
      expected: {
        information: [
          { type: 1, name: 'sysDescr', value: 'FRRouting 8.4.4' },
          { type: 2, name: 'sysName', value: 'bmp-harness-rs' },
        ],
        sysName: 'bmp-harness-rs',
        sysDescr: 'FRRouting 8.4.4',
      },
    },
    {
      name: 'string TLVs, several',
      tlvs: [tlv(0, 'first'), tlv(0, 'second')],
      expected: {
        information: [
          { type: 0, name: 'string', value: 'first' },
          { type: 0, name: 'string', value: 'second' },
        ],
      },
    },
    {
      name: 'unknown TLV types kept as hex, in order',
      tlvs: [tlv(2, 'rs1'), tlv(99, hex('dead')), tlv(4, hex(''))],
      expected: {
        information: [
          { type: 2, name: 'sysName', value: 'rs1' },
          { type: 99, name: 'type-99', value: 'dead' },
          { type: 4, name: 'type-4', value: '' },
        ],
        sysName: 'rs1',
      },
    },
    { name: 'no TLVs', tlvs: [], expected: { information: [] } },
    {
      name: 'UTF-8 sysDescr',
      tlvs: [tlv(1, 'routeur de Genève ✓')],
      expected: { information: [{ type: 1, name: 'sysDescr', value: 'routeur de Genève ✓' }], sysDescr: 'routeur de Genève ✓' },
    },
  ];

  it.each(cases)('$name', ({ tlvs, expected }) => {
    expect(expectOk(new BmpSessionDecoder().decode(encodeInitiation(tlvs)))).toEqual({ type: 'initiation', ...expected });
  });
});

describe('Termination (RFC 7854 §4.5)', () => {
  const reasonTlv = (reason: number): Buffer => tlv(1, hex(reason.toString(16).padStart(4, '0')));
  const REASONS = [
    'session administratively closed',
    'unspecified reason',
    'out of resources',
    'redundant connection',
    'session permanently administratively closed',
  ];

  it.each(REASONS.map((reasonName, reason) => ({ name: `reason ${reason}: ${reasonName}`, reason, reasonName })))('$name', ({ reason, reasonName }) => {
    expect(expectOk(new BmpSessionDecoder().decode(encodeTermination([reasonTlv(reason)])))).toEqual({
      type: 'termination',
      information: [{ type: 1, name: 'reason', value: reason.toString(16).padStart(4, '0') }],
      reason,
      reasonName,
    });
  });

  it.each([
    {
      name: 'unknown reason code with a string',
      tlvs: [tlv(0, 'shutting down'), reasonTlv(9)],
      expected: {
        information: [
          { type: 0, name: 'string', value: 'shutting down' },
          { type: 1, name: 'reason', value: '0009' },
        ],
        reason: 9,
        reasonName: 'unknown (9)',
      },
    },
    {
      name: 'reason TLV of the wrong length gives no reason',
      tlvs: [tlv(1, hex('000102'))],
      expected: { information: [{ type: 1, name: 'reason', value: '000102' }] },
    },
    {
      name: 'string only',
      tlvs: [tlv(0, 'bye')],
      expected: { information: [{ type: 0, name: 'string', value: 'bye' }] },
    },
    {
      name: 'unknown TLV kept as hex',
      tlvs: [tlv(7, hex('0102')), reasonTlv(1)],
      expected: {
        information: [
          { type: 7, name: 'type-7', value: '0102' },
          { type: 1, name: 'reason', value: '0001' },
        ],
        reason: 1,
        reasonName: 'unspecified reason',
      },
    },
  ])('$name', ({ tlvs, expected }) => {
    expect(expectOk(new BmpSessionDecoder().decode(encodeTermination(tlvs)))).toEqual({ type: 'termination', ...expected });
  });
});

describe('Route Mirroring (RFC 7854 §4.7)', () => {
  const update = encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.1.0.0/16' }] });
  const garbled = Buffer.from(update);
  garbled[0] = 0x00;
  const code = (value: number): Buffer => hex(value.toString(16).padStart(4, '0'));

  const cases: { name: string; tlvs: TlvInput[]; check: (items: RouteMirroringItem[]) => void }[] = [
    {
      name: 'BGP message TLV with an UPDATE, decoded',
      tlvs: [tlv(0, update)],
      check: (items) => {
        expect(items).toHaveLength(1);
        const item = items[0];
        if (item.type !== 'bgp-message' || item.message.type !== 'update') throw new Error(`unexpected item ${JSON.stringify(item)}`);
        expect(item.message.announced).toEqual([nlri('10.1.0.0/16')]);
        expect(item.message.attributes).toEqual({ origin: 'igp', asPath: [{ type: 'AS_SEQUENCE', asns: [65011] }], nextHop: '192.0.2.11' });
      },
    },
    {
      name: 'BGP message TLV with a NOTIFICATION and a KEEPALIVE',
      tlvs: [tlv(0, encodeNotification({ code: 3, subcode: 1 })), tlv(0, encodeKeepalive())],
      check: (items) =>
        expect(items).toEqual([
          {
            type: 'bgp-message',
            message: { type: 'notification', code: 3, subcode: 1, codeName: 'UPDATE Message Error', subcodeName: 'Malformed Attribute List', dataHex: '' },
          },
          { type: 'bgp-message', message: { type: 'keepalive' } },
        ]),
    },
    {
      name: 'information TLVs: errored PDU, messages lost, unknown code',
      tlvs: [tlv(1, code(0)), tlv(1, code(1)), tlv(1, code(5))],
      check: (items) =>
        expect(items).toEqual([
          { type: 'information', code: 0, name: 'errored PDU' },
          { type: 'information', code: 1, name: 'messages lost' },
          { type: 'information', code: 5, name: 'unknown (5)' },
        ]),
    },
    {
      name: 'errored PDU followed by the BGP message that could not be decoded',
      tlvs: [tlv(1, code(0)), tlv(0, garbled)],
      check: (items) =>
        expect(items).toEqual([
          { type: 'information', code: 0, name: 'errored PDU' },
          { type: 'bgp-message-error', detail: 'bad-marker: BGP marker is not all ones', hex: garbled.toString('hex') },
        ]),
    },
    {
      name: 'unknown TLV type and an information TLV of the wrong length are kept as hex',
      tlvs: [tlv(9, hex('0102')), tlv(1, hex('000001'))],
      check: (items) =>
        expect(items).toEqual([
          { type: 'unknown', tlvType: 9, hex: '0102' },
          { type: 'unknown', tlvType: 1, hex: '000001' },
        ]),
    },
    { name: 'no TLVs', tlvs: [], check: (items) => expect(items).toEqual([]) },
  ];

  it.each(cases)('$name', ({ tlvs, check }) => {
    const message = decodeAs(encodeRouteMirroring(PEER_V4, tlvs), 'route-mirroring');
    expect(message.peer).toEqual(BASE_PEER);
    expect(message.timestamp).toBe(1_700_000_000);
    check(message.items);
  });
});

describe('unknown message types (RFC 7854 §4.1: skipped by length)', () => {
  it.each([
    { name: 'type 7 with a body', type: 7, body: hex('0102030405060708090a'), expected: { type: 'unknown', messageType: 7, length: 16 } },
    { name: 'type 255 without a body', type: 255, body: Buffer.alloc(0), expected: { type: 'unknown', messageType: 255, length: 6 } },
  ])('$name', ({ type, body, expected }) => {
    expect(expectOk(new BmpSessionDecoder().decode(encodeBmpMessage(type, [body])))).toEqual(expected);
  });

  it('the session goes on after an unknown message', () => {
    const decoder = new BmpSessionDecoder();
    expect(expectOk(decoder.decode(encodeBmpMessage(42, [hex('ffff')])))).toEqual({ type: 'unknown', messageType: 42, length: 8 });
    expect(expectOk(decoder.decode(encodeInitiation([tlv(2, 'rs1')])))).toEqual({
      type: 'initiation',
      information: [{ type: 2, name: 'sysName', value: 'rs1' }],
      sysName: 'rs1',
    });
  });
});

describe('malformed messages give typed errors with frame offsets', () => {
  const validPeerUp = encodePeerUp(PEER_V4, {
    localAddress: '192.0.2.1',
    localPort: 179,
    remotePort: 40_001,
    sentOpen: encodeOpen({ myAs: 65000, holdTime: 90, bgpId: '192.0.2.1', capabilities: [] }),
    receivedOpen: encodeOpen({ myAs: 65011, holdTime: 90, bgpId: '192.0.2.11', capabilities: [] }),
  });
  const openLength = 29; // an OPEN without optional parameters
  const update = encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.0.0.0/24' }] });
  const withMarkerByte = (index: number, value: number): Buffer => {
    const copy = Buffer.from(update);
    copy[index] = value;
    return copy;
  };
  const withLength = (length: number): Buffer => {
    const copy = Buffer.from(update);
    copy.writeUInt16BE(length, 16);
    return copy;
  };
  /** A whole message with its length field following the (possibly too short) content. */
  const frame = (type: number, ...parts: Buffer[]): Buffer => encodeBmpMessage(type, parts);
  const peerHeaderBytes = encodeRouteMonitoring(PEER_V4, Buffer.alloc(0)).subarray(6);

  const cases: { name: string; frame: Buffer; expected: DecodeError }[] = [
    {
      name: 'frame shorter than the common header',
      frame: hex('0300000005'),
      expected: { layer: 'bmp', code: 'truncated', offset: 0, detail: 'common header: need 6 bytes, have 5' },
    },
    {
      name: 'per-peer header cut short',
      frame: frame(1, peerHeaderBytes.subarray(0, 20)),
      expected: { layer: 'bmp', code: 'truncated', offset: 6, detail: 'per-peer header: need 42 bytes, have 20' },
    },
    {
      name: 'statistics report without its count',
      frame: frame(1, peerHeaderBytes),
      expected: { layer: 'bmp', code: 'truncated', offset: 48, detail: 'statistics count: need 4 bytes, have 0' },
    },
    {
      name: 'statistics count larger than the statistics present',
      frame: (() => {
        const report = encodeStatsReport(PEER_V4, [stat32(0, 1), stat32(1, 2)]);
        report.writeUInt32BE(3, PEER_PAYLOAD_AT);
        return report;
      })(),
      expected: { layer: 'bmp', code: 'truncated', offset: 68, detail: 'statistic 3 of 3: need 4 bytes, have 0' },
    },
    {
      name: 'statistic value overrunning the message',
      frame: frame(1, peerHeaderBytes, hex('00000001'), hex('0007 0008 00000001')),
      expected: { layer: 'bmp', code: 'truncated', offset: 52, detail: 'statistic type 7: need 8 bytes, have 4' },
    },
    {
      name: 'bytes after the last statistic',
      frame: frame(1, peerHeaderBytes, hex('00000001'), hex('0000 0004 00000001'), hex('aabbcc')),
      expected: { layer: 'bmp', code: 'length-mismatch', offset: 60, detail: '3 bytes follow the 1 statistics' },
    },
    {
      name: 'initiation: TLV header cut after a good TLV',
      frame: frame(4, tlv(2, 'rs1'), hex('0001')),
      expected: { layer: 'bmp', code: 'truncated', offset: 13, detail: 'information TLV header: need 4 bytes, have 2' },
    },
    {
      name: 'initiation: TLV value overrunning the message',
      frame: frame(4, tlv(1, 'FRR'), hex('0002 000a 727331')),
      expected: { layer: 'bmp', code: 'truncated', offset: 13, detail: 'information TLV 2: need 10 bytes, have 3' },
    },
    {
      name: 'termination: TLV value overrunning the message',
      frame: frame(5, hex('0001 0002 00')),
      expected: { layer: 'bmp', code: 'truncated', offset: 6, detail: 'information TLV 1: need 2 bytes, have 1' },
    },
    {
      name: 'peer up: fixed fields cut short',
      frame: frame(3, peerHeaderBytes, Buffer.alloc(10)),
      expected: { layer: 'bmp', code: 'truncated', offset: 48, detail: 'peer up fields: need 20 bytes, have 10' },
    },
    {
      name: 'peer up: the sent OPEN is a KEEPALIVE',
      frame: frame(3, peerHeaderBytes, Buffer.alloc(20), encodeKeepalive(), encodeOpen({ myAs: 65011, holdTime: 90, bgpId: '192.0.2.11', capabilities: [] })),
      expected: { layer: 'bmp', code: 'bad-message', offset: 48 + 20 + 18, detail: 'sent OPEN has BGP type 4' },
    },
    {
      name: 'peer up: the received OPEN is cut short',
      frame: frame(3, validPeerUp.subarray(6, validPeerUp.length - 5)),
      expected: { layer: 'bgp', code: 'truncated', offset: 48 + 20 + openLength + 16, detail: `BGP message: need ${openLength} bytes, have ${openLength - 5}` },
    },
    {
      name: 'peer up: information TLV overrunning the message',
      frame: frame(3, validPeerUp.subarray(6), hex('0000 0014 6869')),
      expected: { layer: 'bmp', code: 'truncated', offset: 48 + 20 + 2 * openLength, detail: 'information TLV 0: need 20 bytes, have 2' },
    },
    {
      name: 'peer up: information TLV header cut short',
      frame: frame(3, validPeerUp.subarray(6), tlv(3, 'global'), hex('00')),
      expected: { layer: 'bmp', code: 'truncated', offset: 48 + 20 + 2 * openLength + 10, detail: 'information TLV header: need 4 bytes, have 1' },
    },
    {
      name: 'peer down without a reason',
      frame: frame(2, peerHeaderBytes),
      expected: { layer: 'bmp', code: 'truncated', offset: 48, detail: 'peer down reason: need 1 bytes, have 0' },
    },
    {
      name: 'route mirroring: TLV header cut short',
      frame: frame(6, peerHeaderBytes, hex('000100')),
      expected: { layer: 'bmp', code: 'truncated', offset: 48, detail: 'route mirroring TLV header: need 4 bytes, have 3' },
    },
    {
      name: 'route mirroring: TLV value overrunning the message',
      frame: frame(6, peerHeaderBytes, tlv(1, hex('0000')), hex('0001 0002 00')),
      expected: { layer: 'bmp', code: 'truncated', offset: 54, detail: 'route mirroring TLV 1: need 2 bytes, have 1' },
    },
    {
      name: 'route monitoring: no BGP message',
      frame: frame(0, peerHeaderBytes),
      expected: { layer: 'bgp', code: 'truncated', offset: 48, detail: 'BGP header: need 19 bytes, have 0' },
    },
    {
      name: 'route monitoring: BGP marker not all ones',
      frame: encodeRouteMonitoring(PEER_V4, withMarkerByte(3, 0xfe)),
      expected: { layer: 'bgp', code: 'bad-marker', offset: 51, detail: 'BGP marker is not all ones' },
    },
    {
      name: 'route monitoring: BGP length below the header',
      frame: encodeRouteMonitoring(PEER_V4, withLength(18)),
      expected: { layer: 'bgp', code: 'bad-bgp-length', offset: 64, detail: 'BGP length 18 is below the 19-byte header' },
    },
    {
      name: 'route monitoring: BGP length beyond the frame',
      frame: encodeRouteMonitoring(PEER_V4, withLength(update.length + 1)),
      expected: { layer: 'bgp', code: 'truncated', offset: 64, detail: `BGP message: need ${update.length + 1} bytes, have ${update.length}` },
    },
    {
      name: 'route monitoring: BGP length short of the frame',
      frame: encodeRouteMonitoring(PEER_V4, Buffer.concat([update, hex('0000')])),
      expected: { layer: 'bmp', code: 'length-mismatch', offset: 48 + update.length, detail: '2 bytes follow the BGP UPDATE' },
    },
    {
      name: 'route monitoring carrying a KEEPALIVE',
      frame: encodeRouteMonitoring(PEER_V4, encodeKeepalive()),
      expected: { layer: 'bmp', code: 'bad-message', offset: 66, detail: 'route monitoring carries BGP type 4, not UPDATE' },
    },
  ];

  it.each(cases)('$name', ({ frame: input, expected }) => {
    expect(expectError(new BmpSessionDecoder().decode(input))).toEqual(expected);
  });

  it('an error leaves the session usable', () => {
    const decoder = new BmpSessionDecoder();
    expect(expectError(decoder.decode(cases[5].frame)).code).toBe('length-mismatch');
    const message = decodeAs(encodeRouteMonitoring(PEER_V4, update), 'route-monitoring', decoder);
    expect(message.update.announced).toEqual([nlri('10.0.0.0/24')]);
  });
});
