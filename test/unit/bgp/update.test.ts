/**
 * BGP UPDATE decoding through the BMP session decoder (RFC 4271 §4.3 and §5, RFC 4760, RFC 6793, RFC 7606,
 * RFC 4724 End-of-RIB, RFC 8654 extended messages), plus the other BGP messages a BMP stream carries
 * (OPEN capabilities via Peer Up, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH via Route Mirroring).
 */
import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import type { AttributeAction, BgpMessage, Capability as DecodedCapability, Nlri, PathAttributes } from '../../../src/bgp/types.js';
import {
  encodeBgpMessage,
  encodeEndOfRib,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodePrefix,
  encodeUpdate,
  type Attribute,
  type Capability,
} from '../../../src/encode/bgp-encode.js';
import { encodePeerUp, encodeRouteMirroring, encodeRouteMonitoring, tlv, type PeerHeader } from '../../../src/encode/bmp-encode.js';
import {
  attribute,
  decodeAs,
  decodePeerUp,
  decodeUpdateFrom,
  decodeUpdateMessage,
  expectError,
  FIRST_ATTRIBUTE_AT,
  header,
  hex,
  MANDATORY,
  nlri,
  PEER_PAYLOAD_AT,
  PEER_V4,
  PEER_V4_LEGACY,
  peerUpFrame,
  rawAttribute,
  rawUpdate,
  withoutKey,
} from './support.js';

const BASE: PathAttributes = { origin: 'igp', asPath: [{ type: 'AS_SEQUENCE', asns: [65011] }], nextHop: '192.0.2.11' };
const ORIGIN = attribute({ type: 'origin', value: 0 });
const AS_PATH = attribute({ type: 'as-path', segments: [{ type: 2, asns: [65011] }], fourOctet: true });
const AS_PATH_2 = attribute({ type: 'as-path', segments: [{ type: 2, asns: [65011] }], fourOctet: false });
const NEXT_HOP = attribute({ type: 'next-hop', address: '192.0.2.11' });
const NLRI_10 = encodePrefix({ prefix: '10.0.0.0/24' }, false);

describe('path attributes (RFC 4271 §5 and extensions)', () => {
  interface AttributeCase {
    readonly name: string;
    readonly peer?: PeerHeader;
    readonly attributes: readonly Attribute[];
    readonly nlri?: readonly string[];
    readonly expected: PathAttributes;
    readonly announced?: readonly Nlri[];
    readonly withdrawn?: readonly Nlri[];
  }
  const seq = (...asns: number[]) => ({ type: 2 as const, asns });
  const V4 = ['10.0.0.0/24'];

  const cases: AttributeCase[] = [
    {
      name: 'ORIGIN IGP, AS_PATH, NEXT_HOP',
      attributes: MANDATORY,
      nlri: V4,
      expected: BASE,
    },
    {
      name: 'ORIGIN EGP',
      attributes: [{ type: 'origin', value: 1 }, ...MANDATORY.slice(1)],
      nlri: V4,
      expected: { ...BASE, origin: 'egp' },
    },
    {
      name: 'ORIGIN INCOMPLETE',
      attributes: [{ type: 'origin', value: 2 }, ...MANDATORY.slice(1)],
      nlri: V4,
      expected: { ...BASE, origin: 'incomplete' },
    },
    {
      name: 'AS_PATH 4-octet: AS_SEQUENCE, AS_SET, AS_CONFED_SEQUENCE, AS_CONFED_SET',
      attributes: [
        { type: 'origin', value: 0 },
        {
          type: 'as-path',
          fourOctet: true,
          segments: [
            { type: 3, asns: [65100, 4_200_000_100] },
            { type: 4, asns: [65101, 65102] },
            { type: 2, asns: [65001, 4_200_000_001] },
            { type: 1, asns: [65010, 4_200_000_010] },
          ],
        },
        { type: 'next-hop', address: '192.0.2.11' },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [
          { type: 'AS_CONFED_SEQUENCE', asns: [65100, 4_200_000_100] },
          { type: 'AS_CONFED_SET', asns: [65101, 65102] },
          { type: 'AS_SEQUENCE', asns: [65001, 4_200_000_001] },
          { type: 'AS_SET', asns: [65010, 4_200_000_010] },
        ],
      },
    },
    {
      name: 'AS_PATH 2-octet (A flag): all four segment types',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        {
          type: 'as-path',
          fourOctet: false,
          segments: [
            { type: 3, asns: [65100] },
            { type: 4, asns: [65101, 65102] },
            { type: 2, asns: [65001, 65002, 65003] },
            { type: 1, asns: [65010, 65011] },
          ],
        },
        { type: 'next-hop', address: '192.0.2.11' },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [
          { type: 'AS_CONFED_SEQUENCE', asns: [65100] },
          { type: 'AS_CONFED_SET', asns: [65101, 65102] },
          { type: 'AS_SEQUENCE', asns: [65001, 65002, 65003] },
          { type: 'AS_SET', asns: [65010, 65011] },
        ],
      },
    },
    {
      name: 'empty AS_PATH (IBGP)',
      attributes: [{ type: 'origin', value: 0 }, { type: 'as-path', segments: [], fourOctet: true }, { type: 'next-hop', address: '192.0.2.11' }],
      nlri: V4,
      expected: { ...BASE, asPath: [] },
    },
    {
      name: 'AS_PATH segment of 255 ASNs',
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(...Array.from({ length: 255 }, (_, i) => 64_512 + i))], fourOctet: true },
        { type: 'next-hop', address: '192.0.2.11' },
      ],
      nlri: V4,
      expected: { ...BASE, asPath: [{ type: 'AS_SEQUENCE', asns: Array.from({ length: 255 }, (_, i) => 64_512 + i) }] },
    },
    {
      name: 'AS4_PATH merge (RFC 6793 §4.2.3): leading AS_PATH entries + AS4_PATH',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(65001, 4_200_000_001, 4_200_000_002)], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_001, 4_200_000_002)] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 4_200_000_001, 4_200_000_002] }],
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4_200_000_001, 4_200_000_002] }],
      },
    },
    {
      name: 'AS4_PATH merge: as long as AS_PATH replaces it entirely',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(23456, 23456)], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_001, 4_200_000_002)] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [{ type: 'AS_SEQUENCE', asns: [4_200_000_001, 4_200_000_002] }],
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4_200_000_001, 4_200_000_002] }],
      },
    },
    {
      name: 'AS4_PATH merge: an AS_SET counts as one AS',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(65001, 23456), { type: 1, asns: [23456, 65003] }], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_002), { type: 1, asns: [4_200_000_003, 65003] }] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [
          { type: 'AS_SEQUENCE', asns: [65001, 4_200_000_002] },
          { type: 'AS_SET', asns: [4_200_000_003, 65003] },
        ],
        as4Path: [
          { type: 'AS_SEQUENCE', asns: [4_200_000_002] },
          { type: 'AS_SET', asns: [4_200_000_003, 65003] },
        ],
      },
    },
    {
      name: 'AS4_PATH merge: a leading AS_CONFED_SEQUENCE is kept and not counted',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [{ type: 3, asns: [65100, 65101] }, seq(65001, 23456)], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_002)] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [
          { type: 'AS_CONFED_SEQUENCE', asns: [65100, 65101] },
          { type: 'AS_SEQUENCE', asns: [65001, 4_200_000_002] },
        ],
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4_200_000_002] }],
      },
    },
    {
      // RFC 6793 §4.2.3: "a valid AS_CONFED_SEQUENCE or AS_CONFED_SET path segment SHALL be prepended if it is
      // either the leading path segment or is adjacent to a path segment that is prepended."
      name: 'AS4_PATH merge: a leading AS_CONFED_SEQUENCE is kept even when AS4_PATH covers every AS',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [{ type: 3, asns: [65100] }, seq(23456, 23456)], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_001, 4_200_000_002)] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [
          { type: 'AS_CONFED_SEQUENCE', asns: [65100] },
          { type: 'AS_SEQUENCE', asns: [4_200_000_001, 4_200_000_002] },
        ],
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4_200_000_001, 4_200_000_002] }],
      },
    },
    {
      name: 'AS4_PATH merge: AS_PATH shorter than AS4_PATH → AS4_PATH ignored',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(23456)], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_001, 4_200_000_002)] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [{ type: 'AS_SEQUENCE', asns: [23456] }],
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4_200_000_001, 4_200_000_002] }],
      },
    },
    {
      name: 'AS4_PATH between 4-octet speakers is not merged (RFC 6793 §4.1), only kept',
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(65001, 65002)], fourOctet: true },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'as4-path', segments: [seq(4_200_000_002)] },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 65002] }],
        as4Path: [{ type: 'AS_SEQUENCE', asns: [4_200_000_002] }],
      },
    },
    {
      name: 'AGGREGATOR 2-octet (6 bytes, A flag)',
      peer: PEER_V4_LEGACY,
      attributes: [{ type: 'origin', value: 0 }, { type: 'as-path', segments: [seq(65011)], fourOctet: false }, { type: 'next-hop', address: '192.0.2.11' }, { type: 'aggregator', as: 65010, address: '192.0.2.10', fourOctet: false }],
      nlri: V4,
      expected: { ...BASE, aggregator: { as: 65010, address: '192.0.2.10' } },
    },
    {
      name: 'AGGREGATOR 4-octet (8 bytes)',
      attributes: [...MANDATORY, { type: 'aggregator', as: 4_200_000_010, address: '192.0.2.10', fourOctet: true }],
      nlri: V4,
      expected: { ...BASE, aggregator: { as: 4_200_000_010, address: '192.0.2.10' } },
    },
    {
      name: 'AS4_AGGREGATOR replaces an AGGREGATOR of AS_TRANS (A flag)',
      peer: PEER_V4_LEGACY,
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [seq(65011)], fourOctet: false },
        { type: 'next-hop', address: '192.0.2.11' },
        { type: 'aggregator', as: 4_200_000_010, address: '192.0.2.10', fourOctet: false },
        { type: 'as4-aggregator', as: 4_200_000_010, address: '192.0.2.10' },
      ],
      nlri: V4,
      expected: { ...BASE, aggregator: { as: 4_200_000_010, address: '192.0.2.10' }, as4Aggregator: { as: 4_200_000_010, address: '192.0.2.10' } },
    },
    {
      name: 'AS4_AGGREGATOR between 4-octet speakers is only kept',
      attributes: [...MANDATORY, { type: 'aggregator', as: 23456, address: '192.0.2.10', fourOctet: true }, { type: 'as4-aggregator', as: 4_200_000_010, address: '192.0.2.10' }],
      nlri: V4,
      expected: { ...BASE, aggregator: { as: 23456, address: '192.0.2.10' }, as4Aggregator: { as: 4_200_000_010, address: '192.0.2.10' } },
    },
    {
      name: 'MULTI_EXIT_DISC, LOCAL_PREF, ATOMIC_AGGREGATE',
      attributes: [...MANDATORY, { type: 'med', value: 0xffffffff }, { type: 'local-pref', value: 200 }, { type: 'atomic-aggregate' }],
      nlri: V4,
      expected: { ...BASE, med: 4_294_967_295, localPref: 200, atomicAggregate: true },
    },
    {
      name: 'MULTI_EXIT_DISC 0',
      attributes: [...MANDATORY, { type: 'med', value: 0 }],
      nlri: V4,
      expected: { ...BASE, med: 0 },
    },
    {
      name: 'COMMUNITIES, including well-known NO_EXPORT and 0:0',
      attributes: [...MANDATORY, { type: 'communities', values: [65000 * 65536 + 100, 0xffffff01, 0] }],
      nlri: V4,
      expected: { ...BASE, communities: ['65000:100', '65535:65281', '0:0'] },
    },
    {
      name: 'empty COMMUNITIES',
      attributes: [...MANDATORY, { type: 'communities', values: [] }],
      nlri: V4,
      expected: { ...BASE, communities: [] },
    },
    {
      name: 'ORIGINATOR_ID and CLUSTER_LIST',
      attributes: [...MANDATORY, { type: 'originator-id', id: '192.0.2.50' }, { type: 'cluster-list', ids: ['192.0.2.1', '192.0.2.2'] }],
      nlri: V4,
      expected: { ...BASE, originatorId: '192.0.2.50', clusterList: ['192.0.2.1', '192.0.2.2'] },
    },
    {
      name: 'MP_REACH_NLRI IPv4 unicast (no NEXT_HOP needed)',
      attributes: [MANDATORY[0], MANDATORY[1], { type: 'mp-reach', afi: 1, safi: 1, nextHop: '192.0.2.1', nlri: [{ prefix: '10.2.0.0/16' }, { prefix: '10.3.0.0/17' }] }],
      expected: {
        origin: 'igp',
        asPath: BASE.asPath,
        mpReach: { afi: 1, safi: 1, nextHop: '192.0.2.1', nlri: [nlri('10.2.0.0/16'), nlri('10.3.0.0/17')] },
      },
      announced: [nlri('10.2.0.0/16'), nlri('10.3.0.0/17')],
    },
    {
      name: 'MP_REACH_NLRI IPv6 with a global next hop (16 bytes)',
      attributes: [MANDATORY[0], MANDATORY[1], { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '2001:db8:100:1::/64' }] }],
      expected: {
        origin: 'igp',
        asPath: BASE.asPath,
        mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [nlri('2001:db8:100:1::/64')] },
      },
      announced: [nlri('2001:db8:100:1::/64')],
    },
    {
      name: 'MP_REACH_NLRI IPv6 with global and link-local next hops (32 bytes, RFC 2545 §3)',
      attributes: [
        MANDATORY[0],
        MANDATORY[1],
        { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', linkLocalNextHop: 'fe80::1:2ff:fe03:405', nlri: [{ prefix: '2001:db8:200::/40' }, { prefix: '::/0' }] },
      ],
      expected: {
        origin: 'igp',
        asPath: BASE.asPath,
        mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::ff', linkLocalNextHop: 'fe80::1:2ff:fe03:405', nlri: [nlri('2001:db8:200::/40'), nlri('::/0')] },
      },
      announced: [nlri('2001:db8:200::/40'), nlri('::/0')],
    },
    {
      name: 'MP_REACH_NLRI IPv4 with an IPv6 next hop (RFC 8950)',
      attributes: [MANDATORY[0], MANDATORY[1], { type: 'mp-reach', afi: 1, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '192.0.2.0/24' }] }],
      expected: { origin: 'igp', asPath: BASE.asPath, mpReach: { afi: 1, safi: 1, nextHop: '2001:db8::ff', nlri: [nlri('192.0.2.0/24')] } },
      announced: [nlri('192.0.2.0/24')],
    },
    {
      name: 'MP_REACH_NLRI IPv6 multicast',
      attributes: [MANDATORY[0], MANDATORY[1], { type: 'mp-reach', afi: 2, safi: 2, nextHop: '2001:db8::ff', nlri: [{ prefix: 'ff00::/8' }] }],
      expected: { origin: 'igp', asPath: BASE.asPath, mpReach: { afi: 2, safi: 2, nextHop: '2001:db8::ff', nlri: [nlri('ff00::/8')] } },
      announced: [nlri('ff00::/8')],
    },
    {
      name: 'MP_UNREACH_NLRI IPv6',
      attributes: [{ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:100:1::/64' }, { prefix: '2001:db8:100:2::/64' }] }],
      expected: { mpUnreach: { afi: 2, safi: 1, withdrawn: [nlri('2001:db8:100:1::/64'), nlri('2001:db8:100:2::/64')] } },
      withdrawn: [nlri('2001:db8:100:1::/64'), nlri('2001:db8:100:2::/64')],
    },
    {
      name: 'MP_UNREACH_NLRI IPv4 unicast',
      attributes: [{ type: 'mp-unreach', afi: 1, safi: 1, withdrawn: [{ prefix: '10.9.0.0/16' }] }],
      expected: { mpUnreach: { afi: 1, safi: 1, withdrawn: [nlri('10.9.0.0/16')] } },
      withdrawn: [nlri('10.9.0.0/16')],
    },
    {
      name: 'EXTENDED_COMMUNITIES: route target and site of origin forms, raw hex otherwise',
      attributes: [
        ...MANDATORY,
        {
          type: 'extended-communities',
          values: [
            hex('0002 fde8 00000064'), // 2-octet AS route target
            hex('0102 c0000201 0007'), // IPv4 route target
            hex('0202 fa56ea01 0064'), // 4-octet AS route target
            hex('0003 fde8 00000001'), // 2-octet AS site of origin
            hex('0103 c0000201 0009'), // IPv4 site of origin
            hex('4002 fde8 0000000a'), // non-transitive bit does not change the layout
            hex('8006 0000 00000000'), // flowspec traffic-rate: not interpreted
            hex('0302 0000 00000001'), // opaque type with subtype 2: not a route target
          ],
        },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        extendedCommunities: [
          { type: 0x00, subtype: 0x02, text: 'rt:65000:100' },
          { type: 0x01, subtype: 0x02, text: 'rt:192.0.2.1:7' },
          { type: 0x02, subtype: 0x02, text: 'rt:4200000001:100' },
          { type: 0x00, subtype: 0x03, text: 'soo:65000:1' },
          { type: 0x01, subtype: 0x03, text: 'soo:192.0.2.1:9' },
          { type: 0x40, subtype: 0x02, text: 'rt:65000:10' },
          { type: 0x80, subtype: 0x06, text: '8006000000000000' },
          { type: 0x03, subtype: 0x02, text: '0302000000000001' },
        ],
      },
    },
    {
      name: 'LARGE_COMMUNITY',
      attributes: [
        ...MANDATORY,
        {
          type: 'large-communities',
          values: [
            [4_200_000_001, 1, 2],
            [65000, 0, 4_294_967_295],
          ],
        },
      ],
      nlri: V4,
      expected: { ...BASE, largeCommunities: ['4200000001:1:2', '65000:0:4294967295'] },
    },
    {
      name: 'unknown attributes kept raw with their flags (optional transitive, partial, extended length)',
      attributes: [
        ...MANDATORY,
        { type: 'raw', flags: 0xc0, code: 99, value: hex('abcd') },
        { type: 'raw', flags: 0xe0, code: 100, value: hex('01') },
        { type: 'raw', flags: 0xd0, code: 101, value: hex('') },
        { type: 'raw', flags: 0x80, code: 255, value: Buffer.alloc(300, 0x11) },
      ],
      nlri: V4,
      expected: {
        ...BASE,
        unknown: [
          { code: 99, flags: 0xc0, hex: 'abcd' },
          { code: 100, flags: 0xe0, hex: '01' },
          { code: 101, flags: 0xd0, hex: '' },
          { code: 255, flags: 0x90, hex: '11'.repeat(300) },
        ],
      },
    },
    {
      name: 'a known attribute with the Extended Length flag decodes the same',
      attributes: [...MANDATORY, { type: 'raw', flags: 0xd0, code: 8, value: hex('fde80064') }],
      nlri: V4,
      expected: { ...BASE, communities: ['65000:100'] },
    },
  ];

  it.each(cases)('$name', ({ peer, attributes, nlri: prefixes, expected, announced, withdrawn }) => {
    const update = decodeUpdateMessage({ attributes, nlri: (prefixes ?? []).map((prefix) => ({ prefix })) }, peer ?? PEER_V4);
    expect(update.attributes).toEqual(expected);
    expect(update.warnings).toEqual([]);
    expect(update.treatAsWithdraw).toBe(false);
    expect(update.asWidthFallbacks).toBe(0);
    expect(update.announced).toEqual(announced ?? (prefixes ?? []).map((prefix) => nlri(prefix)));
    expect(update.withdrawn).toEqual(withdrawn ?? []);
  });

  it('AS4_PATH is ignored when the AGGREGATOR is not AS_TRANS (RFC 6793 §4.2.3)', () => {
    // "if the AS number in the AGGREGATOR attribute is not AS_TRANS, then the AS4_AGGREGATOR attribute and the
    // AS4_PATH attribute SHALL be ignored, ... and the AS_PATH attribute SHALL be taken as the AS path information."
    const update = decodeUpdateMessage(
      {
        attributes: [
          { type: 'origin', value: 0 },
          { type: 'as-path', segments: [seq(65001, 23456)], fourOctet: false },
          { type: 'next-hop', address: '192.0.2.11' },
          { type: 'aggregator', as: 65010, address: '192.0.2.10', fourOctet: false },
          { type: 'as4-path', segments: [seq(4_200_000_002)] },
          { type: 'as4-aggregator', as: 4_200_000_010, address: '192.0.2.20' },
        ],
        nlri: [{ prefix: '10.0.0.0/24' }],
      },
      PEER_V4_LEGACY,
    );
    expect(update.attributes.aggregator).toEqual({ as: 65010, address: '192.0.2.10' });
    expect(update.attributes.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65001, 23456] }]);
  });

  it('AS4_PATH confederation segments are discarded before the merge (RFC 6793 §6)', () => {
    // "A NEW BGP speaker that receives these path segment types in the AS4_PATH attribute of an UPDATE message
    // from an OLD BGP speaker MUST discard these path segments ... and continue processing the UPDATE message."
    const update = decodeUpdateMessage(
      {
        attributes: [
          { type: 'origin', value: 0 },
          { type: 'as-path', segments: [seq(65001, 23456, 23456)], fourOctet: false },
          { type: 'next-hop', address: '192.0.2.11' },
          { type: 'as4-path', segments: [{ type: 3, asns: [65100] }, seq(4_200_000_001, 4_200_000_002)] },
        ],
        nlri: [{ prefix: '10.0.0.0/24' }],
      },
      PEER_V4_LEGACY,
    );
    expect(update.attributes.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65001, 4_200_000_001, 4_200_000_002] }]);
  });

  it('MP_REACH_NLRI of a family we do not decode keeps its NLRI as hex (VPN next hop after its route distinguisher)', () => {
    const vpnNlri = '70 000641 0000fde800000064 0a000000'; // label 100, RD 65000:100, 10.0.0.0/8 (112 bits)
    const update = decodeUpdateFrom(rawUpdate([ORIGIN, AS_PATH, rawAttribute(0x80, 14, `0001 80 0c 0000000000000000 c0000201 00 ${vpnNlri}`)]));
    expect(update.attributes.mpReach).toEqual({ afi: 1, safi: 128, nextHop: '192.0.2.1', nlri: [], rawNlriHex: hex(vpnNlri).toString('hex') });
    expect(update.announced).toEqual([]);
    expect(update.warnings).toEqual([]);
  });

  it('MP_REACH_NLRI with a next-hop length of no known layout keeps the routes and a null next hop (documented leniency)', () => {
    const update = decodeUpdateFrom(rawUpdate([ORIGIN, AS_PATH, rawAttribute(0x80, 14, '0002 01 05 2001db8000 00 40 20010db8 01000001')]));
    expect(update.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHop: null, nlri: [nlri('2001:db8:100:1::/64')] });
    expect(update.announced).toEqual([nlri('2001:db8:100:1::/64')]);
  });

  it('Withdrawn Routes field (IPv4)', () => {
    const update = decodeUpdateMessage({ withdrawn: [{ prefix: '10.0.0.0/8' }, { prefix: '192.0.2.128/25' }] });
    expect(withoutKey(update)).toEqual({
      type: 'update',
      withdrawnRoutes: [nlri('10.0.0.0/8'), nlri('192.0.2.128/25')],
      attributes: {},
      nlri: [],
      announced: [],
      withdrawn: [nlri('10.0.0.0/8'), nlri('192.0.2.128/25')],
      treatAsWithdraw: false,
      warnings: [],
      addPathFallbacks: 0,
      asWidthFallbacks: 0,
    });
  });

  it('host bits past the prefix length are cleared (RFC 4271 §4.3)', () => {
    const update = decodeUpdateFrom(rawUpdate([ORIGIN, AS_PATH, NEXT_HOP], hex('1d 0a800107 11 c000ff')));
    expect(update.nlri).toEqual([nlri('10.128.1.0/29'), nlri('192.0.128.0/17')]);
  });

  it('2-octet AS_PATH bytes from a peer without the A flag decode by their layout and count a width fallback', () => {
    const update = decodeUpdateFrom(rawUpdate([ORIGIN, AS_PATH_2, NEXT_HOP], NLRI_10));
    expect(update.attributes.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65011] }]);
    expect(update.asWidthFallbacks).toBe(1);
    expect(update.warnings).toEqual([]);
  });

  it('4-octet AS_PATH bytes under the A flag decode by their layout and count a width fallback', () => {
    const path = attribute({ type: 'as-path', segments: [{ type: 2, asns: [65001, 4_200_000_001] }], fourOctet: true });
    const update = decodeUpdateFrom(rawUpdate([ORIGIN, path, NEXT_HOP], NLRI_10), PEER_V4_LEGACY);
    expect(update.attributes.asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65001, 4_200_000_001] }]);
    expect(update.asWidthFallbacks).toBe(1);
  });

  it('an 8-byte AGGREGATOR under the A flag counts a width fallback', () => {
    const aggregator = attribute({ type: 'aggregator', as: 4_200_000_010, address: '192.0.2.10', fourOctet: true });
    const update = decodeUpdateFrom(rawUpdate([ORIGIN, AS_PATH_2, NEXT_HOP, aggregator], NLRI_10), PEER_V4_LEGACY);
    expect(update.attributes.aggregator).toEqual({ as: 4_200_000_010, address: '192.0.2.10' });
    expect(update.asWidthFallbacks).toBe(1);
  });
});

describe('NLRI with and without path identifiers (RFC 7911)', () => {
  const addPathBoth: Capability[] = [
    { type: 'multiprotocol', afi: 1, safi: 1 },
    { type: 'multiprotocol', afi: 2, safi: 1 },
    { type: 'four-octet-as', as: 65000 },
    {
      type: 'add-path',
      entries: [
        { afi: 1, safi: 1, sendReceive: 3 },
        { afi: 2, safi: 1, sendReceive: 3 },
      ],
    },
  ];

  it('without ADD-PATH: no pathId on any entry', () => {
    const update = decodeUpdateMessage({
      withdrawn: [{ prefix: '10.9.0.0/16' }],
      attributes: [...MANDATORY, { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '2001:db8:1::/48' }] }],
      nlri: [{ prefix: '10.0.0.0/24' }, { prefix: '10.0.1.0/24' }],
    });
    expect(update.withdrawnRoutes).toEqual([nlri('10.9.0.0/16')]);
    expect(update.nlri).toEqual([nlri('10.0.0.0/24'), nlri('10.0.1.0/24')]);
    expect(update.announced).toEqual([nlri('10.0.0.0/24'), nlri('10.0.1.0/24'), nlri('2001:db8:1::/48')]);
    expect(update.addPathFallbacks).toBe(0);
  });

  it('with ADD-PATH negotiated in both directions: path ids in every block', () => {
    const decoder = new BmpSessionDecoder();
    decodePeerUp(peerUpFrame(PEER_V4, addPathBoth, addPathBoth), decoder);
    const update = decodeUpdateMessage(
      {
        addPath: true,
        withdrawn: [{ prefix: '10.9.0.0/16', pathId: 7 }],
        attributes: [
          ...MANDATORY,
          { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '2001:db8:1::/48', pathId: 2 }] },
          { type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48', pathId: 3 }] },
        ],
        nlri: [
          { prefix: '10.0.0.0/24', pathId: 1 },
          { prefix: '10.0.0.0/24', pathId: 4_294_967_295 },
        ],
      },
      PEER_V4,
      decoder,
    );
    expect(update.withdrawnRoutes).toEqual([nlri('10.9.0.0/16', 7)]);
    expect(update.nlri).toEqual([nlri('10.0.0.0/24', 1), nlri('10.0.0.0/24', 4_294_967_295)]);
    expect(update.announced).toEqual([nlri('10.0.0.0/24', 1), nlri('10.0.0.0/24', 4_294_967_295), nlri('2001:db8:1::/48', 2)]);
    expect(update.withdrawn).toEqual([nlri('10.9.0.0/16', 7), nlri('2001:db8:2::/48', 3)]);
    expect(update.addPathFallbacks).toBe(0);
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  it.each([
    { name: 'IPv4 unicast: an empty UPDATE', frame: encodeEndOfRib(1, 1), expected: { afi: 1, safi: 1 }, attributes: {} },
    { name: 'IPv6 unicast: only an empty MP_UNREACH_NLRI', frame: encodeEndOfRib(2, 1), expected: { afi: 2, safi: 1 }, attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } } },
    { name: 'IPv4 multicast', frame: encodeEndOfRib(1, 2), expected: { afi: 1, safi: 2 }, attributes: { mpUnreach: { afi: 1, safi: 2, withdrawn: [] } } },
    {
      name: 'VPNv4 (a family kept as raw NLRI)',
      frame: rawUpdate([rawAttribute(0x80, 15, '0001 80')]),
      expected: { afi: 1, safi: 128 },
      attributes: { mpUnreach: { afi: 1, safi: 128, withdrawn: [], rawNlriHex: '' } },
    },
  ])('$name', ({ frame, expected, attributes }) => {
    const update = decodeUpdateFrom(frame);
    expect(update.endOfRib).toEqual(expected);
    expect(update.attributes).toEqual(attributes);
    expect(update.announced).toEqual([]);
    expect(update.withdrawn).toEqual([]);
    expect(update.warnings).toEqual([]);
  });

  it.each([
    { name: 'only Withdrawn Routes', frame: encodeUpdate({ withdrawn: [{ prefix: '10.0.0.0/24' }] }) },
    { name: 'attributes without NLRI', frame: encodeUpdate({ attributes: [{ type: 'origin', value: 0 }] }) },
    { name: 'MP_UNREACH_NLRI that withdraws a route', frame: encodeUpdate({ attributes: [{ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8::/32' }] }] }) },
    { name: 'empty MP_UNREACH_NLRI plus ORIGIN', frame: encodeUpdate({ attributes: [{ type: 'origin', value: 0 }, { type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [] }] }) },
    { name: 'empty MP_UNREACH_NLRI plus an unknown attribute', frame: encodeUpdate({ attributes: [{ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [] }, { type: 'raw', flags: 0xc0, code: 99, value: hex('00') }] }) },
    { name: 'empty MP_REACH_NLRI', frame: encodeUpdate({ attributes: [{ type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [] }] }) },
    { name: 'MP_UNREACH_NLRI of a raw family with NLRI bytes', frame: rawUpdate([rawAttribute(0x80, 15, '0001 80 70 000641 0000fde800000064 0a000000')]) },
    {
      name: 'empty MP_UNREACH_NLRI plus an ORIGIN with wrong flags (discarded, but present on the wire)',
      frame: rawUpdate([rawAttribute(0xc0, 1, '00'), attribute({ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [] })]),
    },
  ])('not End-of-RIB: $name', ({ frame }) => {
    expect(decodeUpdateFrom(frame).endOfRib).toBeUndefined();
  });
});

describe('extended messages (RFC 8654) inside BMP', () => {
  it('an UPDATE above 4096 bytes decodes whole', () => {
    const prefixes = Array.from({ length: 1200 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 0xff}.0/24` }));
    const bgp = encodeUpdate({ attributes: MANDATORY, nlri: prefixes, extended: true });
    expect(bgp.length).toBeGreaterThan(4096);
    const frame = encodeRouteMonitoring(PEER_V4, bgp);
    expect(frame.readUInt32BE(1)).toBe(bgp.length + PEER_PAYLOAD_AT);
    const update = decodeUpdateFrom(bgp);
    expect(update.nlri).toHaveLength(1200);
    expect(update.nlri[0]).toEqual(nlri('10.0.0.0/24'));
    expect(update.nlri[1199]).toEqual(nlri('10.4.175.0/24'));
    expect(update.announced).toEqual(prefixes.map((p) => nlri(p.prefix)));
    expect(update.warnings).toEqual([]);
  });

  it('an extended-length MP_REACH_NLRI with 3000 IPv6 prefixes', () => {
    const prefixes = Array.from({ length: 3000 }, (_, i) => ({ prefix: `2001:db8:${i.toString(16)}::/48` }));
    const bgp = encodeUpdate({ attributes: [MANDATORY[0], MANDATORY[1], { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: prefixes }], extended: true });
    const update = decodeUpdateFrom(bgp);
    expect(update.announced).toHaveLength(3000);
    expect(update.announced[2999]).toEqual(nlri('2001:db8:bb7::/48'));
    expect(update.attributes.mpReach?.nextHop).toBe('2001:db8::ff');
  });
});

describe('RFC 7606 error handling', () => {
  interface MalformedCase {
    readonly name: string;
    readonly peer?: PeerHeader;
    readonly attributes: readonly Buffer[];
    readonly nlri?: Buffer;
    /** Index of the attribute the warning points at (its offset in the frame follows from the attributes before it). */
    readonly at: number;
    readonly warning: { readonly code: number; readonly action: AttributeAction; readonly detail: string };
    readonly attributesAfter: PathAttributes;
    readonly announced: readonly Nlri[];
    readonly withdrawn: readonly Nlri[];
    /** A well-known mandatory attribute is present but malformed: it must not also be reported as missing. */
    readonly malformedMandatory?: boolean;
  }
  const R10 = [nlri('10.0.0.0/24')];
  const MED = attribute({ type: 'med', value: 10 });
  const offsetOf = (attributes: readonly Buffer[], index: number): number => FIRST_ATTRIBUTE_AT + attributes.slice(0, index).reduce((sum, b) => sum + b.length, 0);

  const cases: MalformedCase[] = [
    {
      name: 'ORIGIN value 3 → treat-as-withdraw',
      attributes: [rawAttribute(0x40, 1, '03'), AS_PATH, NEXT_HOP],
      at: 0,
      warning: { code: 1, action: 'treat-as-withdraw', detail: 'ORIGIN must be 1 byte of 0-2, got 1 bytes' },
      attributesAfter: { asPath: BASE.asPath, nextHop: '192.0.2.11' },
      announced: [],
      withdrawn: R10,
      malformedMandatory: true,
    },
    {
      name: 'ORIGIN of 2 bytes → treat-as-withdraw',
      attributes: [rawAttribute(0x40, 1, '0000'), AS_PATH, NEXT_HOP],
      at: 0,
      warning: { code: 1, action: 'treat-as-withdraw', detail: 'ORIGIN must be 1 byte of 0-2, got 2 bytes' },
      attributesAfter: { asPath: BASE.asPath, nextHop: '192.0.2.11' },
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'AS_PATH with an unknown segment type → treat-as-withdraw',
      attributes: [ORIGIN, rawAttribute(0x40, 2, '07 01 0000fdf3'), NEXT_HOP],
      at: 1,
      warning: { code: 2, action: 'treat-as-withdraw', detail: 'malformed AS_PATH' },
      attributesAfter: { origin: 'igp', nextHop: '192.0.2.11' },
      announced: [],
      withdrawn: R10,
      malformedMandatory: true,
    },
    {
      name: 'AS_PATH with a zero-length segment → treat-as-withdraw',
      attributes: [ORIGIN, rawAttribute(0x40, 2, '02 00'), NEXT_HOP],
      at: 1,
      warning: { code: 2, action: 'treat-as-withdraw', detail: 'malformed AS_PATH' },
      attributesAfter: { origin: 'igp', nextHop: '192.0.2.11' },
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'AS_PATH segment overrunning the attribute → treat-as-withdraw',
      attributes: [ORIGIN, rawAttribute(0x40, 2, '02 03 0000fdf3'), NEXT_HOP],
      at: 1,
      warning: { code: 2, action: 'treat-as-withdraw', detail: 'malformed AS_PATH' },
      attributesAfter: { origin: 'igp', nextHop: '192.0.2.11' },
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'NEXT_HOP of 5 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, rawAttribute(0x40, 3, 'c00002 0b 00')],
      at: 2,
      warning: { code: 3, action: 'treat-as-withdraw', detail: 'NEXT_HOP must be 4 bytes, got 5' },
      attributesAfter: { origin: 'igp', asPath: BASE.asPath },
      announced: [],
      withdrawn: R10,
      malformedMandatory: true,
    },
    {
      name: 'MULTI_EXIT_DISC of 3 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x80, 4, '000001')],
      at: 3,
      warning: { code: 4, action: 'treat-as-withdraw', detail: 'MULTI_EXIT_DISC must be 4 bytes, got 3' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'LOCAL_PREF of 2 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x40, 5, '0064')],
      at: 3,
      warning: { code: 5, action: 'treat-as-withdraw', detail: 'LOCAL_PREF must be 4 bytes, got 2' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'COMMUNITIES of 5 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 8, 'fde8006400')],
      at: 3,
      warning: { code: 8, action: 'treat-as-withdraw', detail: 'COMMUNITIES length 5 is not a multiple of 4' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'ORIGINATOR_ID of 3 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x80, 9, 'c00002')],
      at: 3,
      warning: { code: 9, action: 'treat-as-withdraw', detail: 'ORIGINATOR_ID must be 4 bytes, got 3' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'CLUSTER_LIST of 6 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x80, 10, 'c0000201 c000')],
      at: 3,
      warning: { code: 10, action: 'treat-as-withdraw', detail: 'CLUSTER_LIST length 6 is not a positive multiple of 4' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'EXTENDED_COMMUNITIES of 7 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 16, '0002fde8000000')],
      at: 3,
      warning: { code: 16, action: 'treat-as-withdraw', detail: 'EXTENDED_COMMUNITIES length 7 is not a multiple of 8' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'LARGE_COMMUNITY of 11 bytes → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 32, '0000fde8 00000001 000000')],
      at: 3,
      warning: { code: 32, action: 'treat-as-withdraw', detail: 'LARGE_COMMUNITY length 11 is not a positive multiple of 12' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'ATOMIC_AGGREGATE with a value → attribute-discard, routes kept',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x40, 6, '00')],
      at: 3,
      warning: { code: 6, action: 'attribute-discard', detail: 'ATOMIC_AGGREGATE must be empty, got 1 bytes' },
      attributesAfter: BASE,
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'AGGREGATOR of 7 bytes → attribute-discard, routes kept',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 7, '0000fdf2 c00002')],
      at: 3,
      warning: { code: 7, action: 'attribute-discard', detail: 'AGGREGATOR must be 6 or 8 bytes, got 7' },
      attributesAfter: BASE,
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'AS4_AGGREGATOR of 6 bytes → attribute-discard',
      peer: PEER_V4_LEGACY,
      attributes: [ORIGIN, AS_PATH_2, NEXT_HOP, rawAttribute(0xc0, 18, 'fdf2 c000020a')],
      at: 3,
      warning: { code: 18, action: 'attribute-discard', detail: 'AS4_AGGREGATOR must be 8 bytes, got 6' },
      attributesAfter: BASE,
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'AS4_PATH malformed → attribute-discard, AS_PATH used as is',
      peer: PEER_V4_LEGACY,
      attributes: [ORIGIN, rawAttribute(0x40, 2, '02 02 fde9 5ba0'), NEXT_HOP, rawAttribute(0xc0, 17, '02 02 fa56ea01')],
      at: 3,
      warning: { code: 17, action: 'attribute-discard', detail: 'malformed AS4_PATH' },
      attributesAfter: { ...BASE, asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 23456] }] },
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'attribute overrunning the attribute list → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 8, 'fde80064', 10)],
      at: 3,
      warning: { code: 8, action: 'treat-as-withdraw', detail: 'attribute 8 length 10 overruns the path attributes by 6 bytes' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'attribute header cut by the end of the list → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, hex('c008')],
      at: 3,
      warning: { code: 0, action: 'treat-as-withdraw', detail: 'attribute header needs 3 bytes, 2 left' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'extended-length attribute header cut by the end of the list → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, hex('d00800')],
      at: 3,
      warning: { code: 8, action: 'treat-as-withdraw', detail: 'extended-length attribute header needs 4 bytes' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'well-known ORIGIN flagged optional → treat-as-withdraw',
      attributes: [rawAttribute(0xc0, 1, '00'), AS_PATH, NEXT_HOP],
      at: 0,
      warning: { code: 1, action: 'treat-as-withdraw', detail: 'attribute 1 flags 0xc0 conflict with its definition' },
      attributesAfter: { asPath: BASE.asPath, nextHop: '192.0.2.11' },
      announced: [],
      withdrawn: R10,
      malformedMandatory: true,
    },
    {
      name: 'well-known NEXT_HOP flagged optional non-transitive → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, rawAttribute(0x80, 3, 'c000020b')],
      at: 2,
      warning: { code: 3, action: 'treat-as-withdraw', detail: 'attribute 3 flags 0x80 conflict with its definition' },
      attributesAfter: { origin: 'igp', asPath: BASE.asPath },
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'well-known ATOMIC_AGGREGATE flagged optional → attribute-discard',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 6, '')],
      at: 3,
      warning: { code: 6, action: 'attribute-discard', detail: 'attribute 6 flags 0xc0 conflict with its definition' },
      attributesAfter: BASE,
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'optional MULTI_EXIT_DISC flagged well-known → treat-as-withdraw',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x40, 4, '0000000a')],
      at: 3,
      warning: { code: 4, action: 'treat-as-withdraw', detail: 'attribute 4 flags 0x40 conflict with its definition' },
      attributesAfter: BASE,
      announced: [],
      withdrawn: R10,
    },
    {
      name: 'duplicate MULTI_EXIT_DISC → the second is discarded, the first kept',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, MED, attribute({ type: 'med', value: 20 })],
      at: 4,
      warning: { code: 4, action: 'attribute-discard', detail: 'duplicate attribute 4 discarded' },
      attributesAfter: { ...BASE, med: 10 },
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'duplicate unknown attribute → the second is discarded',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0xc0, 99, '01'), rawAttribute(0xc0, 99, '02')],
      at: 4,
      warning: { code: 99, action: 'attribute-discard', detail: 'duplicate attribute 99 discarded' },
      attributesAfter: { ...BASE, unknown: [{ code: 99, flags: 0xc0, hex: '01' }] },
      announced: R10,
      withdrawn: [],
    },
    {
      name: 'duplicate ORIGIN → the second is discarded',
      attributes: [ORIGIN, AS_PATH, NEXT_HOP, rawAttribute(0x40, 1, '02')],
      at: 3,
      warning: { code: 1, action: 'attribute-discard', detail: 'duplicate attribute 1 discarded' },
      attributesAfter: BASE,
      announced: R10,
      withdrawn: [],
    },
  ];

  it.each(cases)('$name', ({ peer, attributes, nlri: nlriBytes, at, warning, attributesAfter, announced, withdrawn }) => {
    const update = decodeUpdateFrom(rawUpdate(attributes, nlriBytes ?? NLRI_10), peer ?? PEER_V4);
    expect(update.warnings.filter((w) => w.action !== 'report-only')).toEqual([{ ...warning, offset: offsetOf(attributes, at) }]);
    expect(update.treatAsWithdraw).toBe(warning.action === 'treat-as-withdraw');
    expect(update.attributes).toEqual(attributesAfter);
    expect(update.nlri).toEqual(R10);
    expect(update.announced).toEqual(announced);
    expect(update.withdrawn).toEqual(withdrawn);
  });

  it.each(cases.filter((c) => c.malformedMandatory))('a malformed attribute is not also reported missing: $name', ({ peer, attributes, nlri: nlriBytes }) => {
    const update = decodeUpdateFrom(rawUpdate(attributes, nlriBytes ?? NLRI_10), peer ?? PEER_V4);
    expect(update.warnings.filter((w) => w.action === 'report-only')).toEqual([]);
  });

  it('treat-as-withdraw moves MP_REACH_NLRI and NLRI routes into withdrawn, after the explicit withdrawals', () => {
    const reach = attribute({ type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '2001:db8:1::/48' }] });
    const unreach = attribute({ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] });
    const update = decodeUpdateFrom(rawUpdate([rawAttribute(0x40, 1, '05'), AS_PATH, NEXT_HOP, reach, unreach], NLRI_10, encodePrefix({ prefix: '10.9.0.0/16' }, false)));
    expect(update.treatAsWithdraw).toBe(true);
    expect(update.announced).toEqual([]);
    expect(update.withdrawn).toEqual([nlri('10.9.0.0/16'), nlri('2001:db8:2::/48'), nlri('10.0.0.0/24'), nlri('2001:db8:1::/48')]);
    expect(update.attributes.mpReach?.nlri).toEqual([nlri('2001:db8:1::/48')]);
  });

  it.each([
    {
      name: 'AS_PATH missing with IPv4 NLRI',
      attributes: [ORIGIN, NEXT_HOP],
      detail: 'missing well-known attribute AS_PATH',
      expected: { origin: 'igp', nextHop: '192.0.2.11' },
      announced: [nlri('10.0.0.0/24')],
    },
    {
      name: 'all three missing',
      attributes: [attribute({ type: 'med', value: 5 })],
      detail: 'missing well-known attribute ORIGIN, AS_PATH, NEXT_HOP',
      expected: { med: 5 },
      announced: [nlri('10.0.0.0/24')],
    },
    {
      name: 'AS_PATH missing with MP_REACH_NLRI only (NEXT_HOP not needed)',
      attributes: [ORIGIN, attribute({ type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '2001:db8:1::/48' }] })],
      nlri: Buffer.alloc(0),
      detail: 'missing well-known attribute AS_PATH',
      expected: { origin: 'igp', mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [nlri('2001:db8:1::/48')] } },
      announced: [nlri('2001:db8:1::/48')],
    },
  ])('missing well-known attribute → report-only, routes kept: $name', ({ attributes, nlri: nlriBytes, detail, expected, announced }) => {
    const update = decodeUpdateFrom(rawUpdate(attributes, nlriBytes ?? NLRI_10));
    const attributesEnd = FIRST_ATTRIBUTE_AT + attributes.reduce((sum, b) => sum + b.length, 0);
    expect(update.warnings).toEqual([{ code: 0, action: 'report-only', offset: attributesEnd, detail }]);
    expect(update.treatAsWithdraw).toBe(false);
    expect(update.attributes).toEqual(expected);
    expect(update.announced).toEqual(announced);
    expect(update.withdrawn).toEqual([]);
  });

  it('nothing announced, nothing required: a pure withdrawal has no warnings', () => {
    expect(decodeUpdateMessage({ withdrawn: [{ prefix: '10.0.0.0/24' }] }).warnings).toEqual([]);
  });

  it.each([
    { name: 'MP_REACH_NLRI', code: 14, value: `0002 01 10 ${'20010db8000000000000000000000011'} 00 30 20010db80001` },
    { name: 'MP_UNREACH_NLRI', code: 15, value: '0002 01 30 20010db80002' },
  ])('$name whose length overruns the attribute list: its NLRI cannot be located → bad-attribute (RFC 7606 §3(j), §4)', ({ code, value }) => {
    // "in order to use the approach of "treat-as-withdraw", the entire NLRI field and/or the MP_REACH_NLRI and
    // MP_UNREACH_NLRI attributes need to be successfully parsed ... If this is not possible, ... the "session
    // reset" approach (or the "AFI/SAFI disable" approach) MUST be followed."
    const bytes = hex(value);
    const broken = rawAttribute(0x80, code, bytes, bytes.length + 5);
    const result = new BmpSessionDecoder().decode(encodeRouteMonitoring(PEER_V4, rawUpdate([ORIGIN, AS_PATH, broken])));
    expect(expectError(result)).toEqual({
      layer: 'bgp',
      code: 'bad-attribute',
      offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length,
      detail: expect.stringContaining(`attribute ${code}`),
    });
  });

  describe('errors that discard the whole UPDATE', () => {
    const reach = attribute({ type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::ff', nlri: [{ prefix: '2001:db8:1::/48' }] });
    const unreach = attribute({ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] });
    const badPrefixReach = rawAttribute(0x80, 14, `0002 01 10 ${'20010db8000000000000000000000001'} 00 81 ${'ff'.repeat(17)}`);
    const cases = [
      {
        name: 'duplicate MP_REACH_NLRI',
        update: rawUpdate([ORIGIN, AS_PATH, reach, reach]),
        expected: { layer: 'bgp', code: 'bad-attribute', offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length + reach.length, detail: 'attribute 14 appears twice' },
      },
      {
        name: 'duplicate MP_UNREACH_NLRI',
        update: rawUpdate([unreach, unreach]),
        expected: { layer: 'bgp', code: 'bad-attribute', offset: FIRST_ATTRIBUTE_AT + unreach.length, detail: 'attribute 15 appears twice' },
      },
      {
        name: 'MP_REACH_NLRI next hop overrunning the attribute',
        update: rawUpdate([ORIGIN, AS_PATH, rawAttribute(0x80, 14, `0002 01 28 ${'20010db8000000000000000000000001'}`)]),
        expected: { layer: 'bgp', code: 'bad-attribute', offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length, detail: 'MP_REACH_NLRI next hop length 40 overruns the attribute' },
      },
      {
        name: 'MP_REACH_NLRI shorter than 5 bytes',
        update: rawUpdate([ORIGIN, AS_PATH, rawAttribute(0x80, 14, '000201')]),
        expected: { layer: 'bgp', code: 'bad-attribute', offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length, detail: 'MP_REACH_NLRI of 3 bytes is shorter than its 5-byte minimum' },
      },
      {
        name: 'MP_REACH_NLRI with an IPv6 prefix length of 129',
        update: rawUpdate([ORIGIN, AS_PATH, badPrefixReach]),
        expected: {
          layer: 'bgp',
          code: 'bad-attribute',
          offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length,
          detail: `MP_REACH_NLRI prefix at offset ${FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length + 3 + 4 + 16 + 1} is malformed`,
        },
      },
      {
        name: 'MP_UNREACH_NLRI shorter than 3 bytes',
        update: rawUpdate([rawAttribute(0x80, 15, '0002')]),
        expected: { layer: 'bgp', code: 'bad-attribute', offset: FIRST_ATTRIBUTE_AT, detail: 'MP_UNREACH_NLRI of 2 bytes is shorter than its 3-byte minimum' },
      },
      {
        name: 'NLRI prefix length 33',
        update: rawUpdate([ORIGIN, AS_PATH, NEXT_HOP], hex('18 0a0000 21 0a000000 00')),
        expected: { layer: 'bgp', code: 'bad-prefix-length', offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length + NEXT_HOP.length + 4, detail: 'malformed prefix in NLRI' },
      },
      {
        name: 'NLRI prefix cut short',
        update: rawUpdate([ORIGIN, AS_PATH, NEXT_HOP], hex('18 0a00')),
        expected: { layer: 'bgp', code: 'bad-prefix-length', offset: FIRST_ATTRIBUTE_AT + ORIGIN.length + AS_PATH.length + NEXT_HOP.length, detail: 'malformed prefix in NLRI' },
      },
      {
        name: 'Withdrawn Routes prefix length 33',
        update: rawUpdate([], Buffer.alloc(0), hex('21 0a000000 00')),
        expected: { layer: 'bgp', code: 'bad-prefix-length', offset: PEER_PAYLOAD_AT + 19 + 2, detail: 'malformed prefix in Withdrawn Routes' },
      },
      {
        name: 'Withdrawn Routes length overrunning the UPDATE',
        update: (() => {
          const u = encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.0.0.0/24' }] });
          u.writeUInt16BE(500, 19);
          return u;
        })(),
        expected: { layer: 'bgp', code: 'length-mismatch', offset: PEER_PAYLOAD_AT + 19, detail: 'withdrawn routes length 500 overruns the UPDATE' },
      },
      {
        name: 'Total Path Attribute Length overrunning the UPDATE',
        update: (() => {
          const u = encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.0.0.0/24' }] });
          u.writeUInt16BE(500, 21);
          return u;
        })(),
        expected: { layer: 'bgp', code: 'length-mismatch', offset: PEER_PAYLOAD_AT + 21, detail: 'path attribute length 500 overruns the UPDATE' },
      },
      {
        name: 'UPDATE body shorter than its two length fields',
        update: encodeBgpMessage(2, hex('000000')),
        expected: { layer: 'bgp', code: 'truncated', offset: PEER_PAYLOAD_AT + 19, detail: 'UPDATE: need 4 bytes, have 3' },
      },
    ];
    it.each(cases)('$name', ({ update, expected }) => {
      expect(expectError(new BmpSessionDecoder().decode(encodeRouteMonitoring(PEER_V4, update)))).toEqual(expected);
    });
  });
});

describe('OPEN capabilities (RFC 5492) via Peer Up', () => {
  /** An OPEN whose optional parameters are given as bytes (RFC 4271 §4.2 / RFC 9072). */
  const openWithParameters = (parameters: string, extended = false): Buffer => {
    const params = hex(parameters);
    const length = extended ? Buffer.concat([hex('ffff'), Buffer.from([params.length >> 8, params.length & 0xff])]) : Buffer.from([params.length]);
    return encodeBgpMessage(1, Buffer.concat([hex('04 fdf3 00b4 c000020b'), length, params]));
  };
  const peerUpWith = (receivedOpen: Buffer): Buffer =>
    encodePeerUp(PEER_V4, {
      localAddress: '192.0.2.1',
      localPort: 179,
      remotePort: 40_001,
      sentOpen: encodeOpen({ myAs: 65000, holdTime: 90, bgpId: '192.0.2.1', capabilities: [] }),
      receivedOpen,
    });
  const capabilitiesOf = (open: Buffer): DecodedCapability[] => decodePeerUp(peerUpWith(open)).receivedOpen.capabilities;

  const cases: { name: string; capabilities: Capability[]; expected: DecodedCapability[] }[] = [
    {
      name: 'multiprotocol IPv4 and IPv6 unicast',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'multiprotocol', afi: 2, safi: 1 },
      ],
      expected: [
        { type: 'multiprotocol', code: 1, afi: 1, safi: 1 },
        { type: 'multiprotocol', code: 1, afi: 2, safi: 1 },
      ],
    },
    {
      name: 'four-octet AS',
      capabilities: [{ type: 'four-octet-as', as: 4_200_000_011 }],
      expected: [{ type: 'four-octet-as', code: 65, as: 4_200_000_011 }],
    },
    {
      name: 'ADD-PATH per AFI/SAFI and direction',
      capabilities: [
        {
          type: 'add-path',
          entries: [
            { afi: 1, safi: 1, sendReceive: 1 },
            { afi: 2, safi: 1, sendReceive: 2 },
            { afi: 1, safi: 2, sendReceive: 3 },
          ],
        },
      ],
      expected: [
        {
          type: 'add-path',
          code: 69,
          families: [
            { afi: 1, safi: 1, sendReceive: 1 },
            { afi: 2, safi: 1, sendReceive: 2 },
            { afi: 1, safi: 2, sendReceive: 3 },
          ],
        },
      ],
    },
    {
      name: 'route refresh, standard (2) and pre-standard (128)',
      capabilities: [{ type: 'route-refresh' }, { type: 'raw', code: 128, value: Buffer.alloc(0) }],
      expected: [
        { type: 'route-refresh', code: 2 },
        { type: 'route-refresh', code: 128 },
      ],
    },
    {
      name: 'extended message and enhanced route refresh',
      capabilities: [{ type: 'extended-message' }, { type: 'raw', code: 70, value: Buffer.alloc(0) }],
      expected: [
        { type: 'extended-message', code: 6 },
        { type: 'enhanced-route-refresh', code: 70 },
      ],
    },
    {
      name: 'graceful restart with families and forwarding state',
      capabilities: [
        {
          type: 'graceful-restart',
          restartTime: 120,
          flags: 0x8,
          families: [
            { afi: 1, safi: 1, forwardingState: true },
            { afi: 2, safi: 1, forwardingState: false },
          ],
        },
      ],
      expected: [
        {
          type: 'graceful-restart',
          code: 64,
          restartFlags: 8,
          restartTime: 120,
          families: [
            { afi: 1, safi: 1, forwardingState: true },
            { afi: 2, safi: 1, forwardingState: false },
          ],
        },
      ],
    },
    {
      name: 'graceful restart, helper only (no families)',
      capabilities: [{ type: 'graceful-restart', restartTime: 4095, families: [] }],
      expected: [{ type: 'graceful-restart', code: 64, restartFlags: 0, restartTime: 4095, families: [] }],
    },
    {
      name: 'FQDN (hostname capability)',
      capabilities: [{ type: 'raw', code: 73, value: Buffer.concat([Buffer.from([3]), Buffer.from('rs1'), Buffer.from([11]), Buffer.from('example.net')]) }],
      expected: [{ type: 'fqdn', code: 73, hostname: 'rs1', domain: 'example.net' }],
    },
    {
      name: 'FQDN with an empty domain',
      capabilities: [{ type: 'raw', code: 73, value: hex('04 61707031 00') }],
      expected: [{ type: 'fqdn', code: 73, hostname: 'app1', domain: '' }],
    },
    {
      name: 'long-lived graceful restart kept as hex',
      capabilities: [{ type: 'raw', code: 71, value: hex('0001 01 80 000e10') }],
      expected: [{ type: 'long-lived-graceful-restart', code: 71, hex: '00010180000e10' }],
    },
    {
      name: 'unknown capability kept as hex',
      capabilities: [{ type: 'raw', code: 200, value: hex('abcd') }],
      expected: [{ type: 'unknown', code: 200, hex: 'abcd' }],
    },
    {
      name: 'malformed known capabilities fall back to unknown',
      capabilities: [
        { type: 'raw', code: 1, value: hex('000100') },
        { type: 'raw', code: 65, value: hex('fdf3') },
        { type: 'raw', code: 69, value: hex('0001 01 03 00') },
        { type: 'raw', code: 64, value: hex('00') },
        { type: 'raw', code: 73, value: hex('05 6162') },
      ],
      expected: [
        { type: 'unknown', code: 1, hex: '000100' },
        { type: 'unknown', code: 65, hex: 'fdf3' },
        { type: 'unknown', code: 69, hex: '0001010300' },
        { type: 'unknown', code: 64, hex: '00' },
        { type: 'unknown', code: 73, hex: '056162' },
      ],
    },
  ];

  it.each(cases)('$name', ({ capabilities, expected }) => {
    expect(capabilitiesOf(encodeOpen({ myAs: 65011, holdTime: 180, bgpId: '192.0.2.11', capabilities }))).toEqual(expected);
  });

  it('the OPEN fields: version, 2-octet My AS (AS_TRANS), real AS from the capability, hold time, BGP Identifier', () => {
    const open = decodePeerUp(peerUpWith(encodeOpen({ myAs: 4_200_000_011, holdTime: 180, bgpId: '192.0.2.11', capabilities: [{ type: 'four-octet-as', as: 4_200_000_011 }] }))).receivedOpen;
    expect(open).toEqual({
      type: 'open',
      version: 4,
      myAs: 23456,
      as: 4_200_000_011,
      holdTime: 180,
      bgpId: '192.0.2.11',
      capabilities: [{ type: 'four-octet-as', code: 65, as: 4_200_000_011 }],
    });
  });

  it('several capabilities in one optional parameter, and a non-capability parameter skipped', () => {
    expect(capabilitiesOf(openWithParameters('02 0c 01 04 00010001 41 04 0000fdf3   01 02 abcd'))).toEqual([
      { type: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { type: 'four-octet-as', code: 65, as: 65011 },
    ]);
  });

  it('RFC 9072 extended optional parameters length', () => {
    expect(capabilitiesOf(openWithParameters('02 000c 01 04 00010001 41 04 0000fdf3', true))).toEqual([
      { type: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { type: 'four-octet-as', code: 65, as: 65011 },
    ]);
  });

  it('a capability overrunning its optional parameter fails the Peer Up with its offset', () => {
    const receivedAt = PEER_PAYLOAD_AT + 20 + 29; // after the sent OPEN without parameters
    expect(expectError(new BmpSessionDecoder().decode(peerUpWith(openWithParameters('02 04 01 08 0001'))))).toEqual({
      layer: 'bgp',
      code: 'bad-message',
      offset: receivedAt + 19 + 10 + 2,
      detail: 'capability length overruns its optional parameter',
    });
  });

  it('an optional parameters length that disagrees with the message fails the Peer Up', () => {
    const open = openWithParameters('02 06 41 04 0000fdf3');
    open[19 + 9] = 9;
    const receivedAt = PEER_PAYLOAD_AT + 20 + 29;
    expect(expectError(new BmpSessionDecoder().decode(peerUpWith(open)))).toEqual({
      layer: 'bgp',
      code: 'length-mismatch',
      offset: receivedAt + 19 + 9,
      detail: 'OPEN optional parameters length 9, 8 bytes present',
    });
  });

  it('negotiated: 4-octet AS and extended messages need both OPENs', () => {
    const both: Capability[] = [{ type: 'four-octet-as', as: 65000 }, { type: 'extended-message' }];
    const decoder = new BmpSessionDecoder();
    expect(decodePeerUp(peerUpFrame(PEER_V4, both, both), decoder).negotiated).toEqual({ fourOctetAs: true, extendedMessages: true, addPathFromPeer: [], addPathToPeer: [] });
    expect(decodePeerUp(peerUpFrame(header({ address: '192.0.2.12' }), both, []), decoder).negotiated).toEqual({
      fourOctetAs: false,
      extendedMessages: false,
      addPathFromPeer: [],
      addPathToPeer: [],
    });
  });
});

describe('NOTIFICATION, KEEPALIVE, ROUTE-REFRESH and unknown BGP messages (via Route Mirroring)', () => {
  const decodeMirrored = (bgp: Buffer): BgpMessage | { error: string } => {
    const message = decodeAs(encodeRouteMirroring(PEER_V4, [tlv(0, bgp)]), 'route-mirroring');
    const item = message.items[0];
    if (item.type === 'bgp-message') return item.message;
    if (item.type === 'bgp-message-error') return { error: item.detail };
    throw new Error(`unexpected item ${item.type}`);
  };
  const shutdown = (text: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]);

  it.each([
    { name: 'KEEPALIVE', bgp: encodeKeepalive(), expected: { type: 'keepalive' } },
    { name: 'KEEPALIVE with a body', bgp: encodeBgpMessage(4, hex('00')), expected: { error: 'bad-bgp-length: KEEPALIVE with a body' } },
    {
      name: 'NOTIFICATION Cease / Administrative Shutdown with a UTF-8 shutdown communication (RFC 9003)',
      bgp: encodeNotification({ code: 6, subcode: 2, data: shutdown('Wartung bis 18:00 ✓') }),
      expected: {
        type: 'notification',
        code: 6,
        subcode: 2,
        codeName: 'Cease',
        subcodeName: 'Administrative Shutdown',
        dataHex: shutdown('Wartung bis 18:00 ✓').toString('hex'),
        shutdownMessage: 'Wartung bis 18:00 ✓',
      },
    },
    {
      name: 'NOTIFICATION whose shutdown length overruns the data: no message',
      bgp: encodeNotification({ code: 6, subcode: 2, data: hex('09 6869') }),
      expected: { type: 'notification', code: 6, subcode: 2, codeName: 'Cease', subcodeName: 'Administrative Shutdown', dataHex: '096869' },
    },
    {
      name: 'NOTIFICATION Cease / Maximum Number of Prefixes Reached with data (no shutdown message)',
      bgp: encodeNotification({ code: 6, subcode: 1, data: hex('0001 01 00000064') }),
      expected: { type: 'notification', code: 6, subcode: 1, codeName: 'Cease', subcodeName: 'Maximum Number of Prefixes Reached', dataHex: '00010100000064' },
    },
    {
      name: 'NOTIFICATION Message Header Error / Bad Message Length',
      bgp: encodeNotification({ code: 1, subcode: 2, data: hex('1001') }),
      expected: { type: 'notification', code: 1, subcode: 2, codeName: 'Message Header Error', subcodeName: 'Bad Message Length', dataHex: '1001' },
    },
    {
      name: 'NOTIFICATION ROUTE-REFRESH Message Error',
      bgp: encodeNotification({ code: 7, subcode: 1 }),
      expected: { type: 'notification', code: 7, subcode: 1, codeName: 'ROUTE-REFRESH Message Error', subcodeName: 'Invalid Message Length', dataHex: '' },
    },
    { name: 'NOTIFICATION of one byte', bgp: encodeBgpMessage(3, hex('06')), expected: { error: 'truncated: NOTIFICATION: need 2 bytes, have 1' } },
    { name: 'ROUTE-REFRESH IPv6 unicast', bgp: encodeBgpMessage(5, hex('0002 00 01')), expected: { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 } },
    { name: 'enhanced ROUTE-REFRESH BoRR (RFC 7313)', bgp: encodeBgpMessage(5, hex('0001 01 01')), expected: { type: 'route-refresh', afi: 1, safi: 1, subtype: 1 } },
    { name: 'ROUTE-REFRESH of the wrong size', bgp: encodeBgpMessage(5, hex('0001 00')), expected: { error: 'bad-bgp-length: ROUTE-REFRESH must have a 4-byte body' } },
    { name: 'unknown BGP message type', bgp: encodeBgpMessage(9, hex('0102')), expected: { type: 'unknown', messageType: 9, hex: '0102' } },
    {
      name: 'OPEN',
      bgp: encodeOpen({ myAs: 65011, holdTime: 0, bgpId: '192.0.2.11', capabilities: [{ type: 'route-refresh' }] }),
      expected: { type: 'open', version: 4, myAs: 65011, as: 65011, holdTime: 0, bgpId: '192.0.2.11', capabilities: [{ type: 'route-refresh', code: 2 }] },
    },
  ])('$name', ({ bgp, expected }) => {
    expect(decodeMirrored(bgp)).toEqual(expected);
  });

  it('a mirrored UPDATE decodes like a monitored one', () => {
    const message = decodeMirrored(encodeUpdate({ attributes: MANDATORY, nlri: [{ prefix: '10.0.0.0/24' }] }));
    if ('error' in message || message.type !== 'update') throw new Error(`expected an update, got ${JSON.stringify(message)}`);
    expect(message.attributes).toEqual(BASE);
    expect(message.announced).toEqual([nlri('10.0.0.0/24')]);
  });
});
