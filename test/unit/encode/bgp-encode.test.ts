// Expected bytes below are laid out by hand from the RFC field diagrams, one field per hex group.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AS_TRANS,
  encodeAttribute,
  encodeCapability,
  encodeEndOfRib,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodePrefix,
  encodeUpdate,
  parseIpv6,
  type Attribute,
} from '../../../src/encode/bgp-encode.js';

/** Hex with spaces/newlines allowed, for readable field-by-field layouts. */
const hex = (s: string): string => s.replace(/\s+/g, '').toLowerCase();
const MARKER = 'ff'.repeat(16);

describe('BGP header, KEEPALIVE, NOTIFICATION (RFC 4271 §4.1, §4.4, §4.5)', () => {
  it('KEEPALIVE is the 19-byte header alone', () => {
    expect(encodeKeepalive().toString('hex')).toBe(hex(`${MARKER} 0013 04`));
  });

  it('NOTIFICATION carries code, subcode and data', () => {
    expect(encodeNotification({ code: 6, subcode: 2 }).toString('hex')).toBe(hex(`${MARKER} 0015 03 06 02`));
    // OPEN Message Error / Bad Peer AS, data = the offending AS
    expect(encodeNotification({ code: 2, subcode: 2, data: Buffer.from([0xfd, 0xe9]) }).toString('hex')).toBe(
      hex(`${MARKER} 0017 03 02 02 fde9`),
    );
  });
});

describe('OPEN (RFC 4271 §4.2, RFC 5492)', () => {
  it('minimal OPEN without optional parameters', () => {
    const open = encodeOpen({ myAs: 65001, holdTime: 180, bgpId: '192.0.2.1', capabilities: [] });
    expect(open.toString('hex')).toBe(hex(`${MARKER} 001d 01  04 fde9 00b4 c0000201 00`));
  });

  it('each capability in its own optional parameter 2, AS_TRANS for a 4-octet My AS', () => {
    const open = encodeOpen({
      myAs: 4200000001,
      holdTime: 90,
      bgpId: '10.0.0.1',
      capabilities: [
        { type: 'multiprotocol', afi: 2, safi: 1 },
        { type: 'four-octet-as', as: 4200000001 },
        { type: 'add-path', entries: [{ afi: 1, safi: 1, sendReceive: 3 }, { afi: 2, safi: 1, sendReceive: 1 }] },
        { type: 'route-refresh' },
        { type: 'extended-message' },
        { type: 'graceful-restart', restartTime: 120, flags: 0x8, families: [{ afi: 1, safi: 1, forwardingState: true }, { afi: 2, safi: 1, forwardingState: false }] },
        { type: 'raw', code: 128, value: Buffer.from([0xde, 0xad]) },
      ],
    });
    expect(open.toString('hex')).toBe(
      hex(`${MARKER} 0055 01
        04 5ba0 005a 0a000001 38
        02 06  01 04 0002 00 01
        02 06  41 04 fa56ea01
        02 0a  45 08 0001 01 03  0002 01 01
        02 02  02 00
        02 02  06 00
        02 0c  40 0a 8078  0001 01 80  0002 01 00
        02 04  80 02 dead`),
    );
    expect(open.readUInt16BE(20)).toBe(AS_TRANS);
  });

  it('capability triples on their own', () => {
    expect(encodeCapability({ type: 'multiprotocol', afi: 1, safi: 1 }).toString('hex')).toBe('010400010001');
    expect(encodeCapability({ type: 'graceful-restart', restartTime: 4095, families: [] }).toString('hex')).toBe('40020fff');
    expect(encodeCapability({ type: 'add-path', entries: [] }).toString('hex')).toBe('4500');
  });

  it('honours an explicit version and rejects impossible fields', () => {
    expect(encodeOpen({ version: 3, myAs: 1, holdTime: 0, bgpId: '0.0.0.0', capabilities: [] })[19]).toBe(3);
    expect(() => encodeCapability({ type: 'graceful-restart', restartTime: 4096, families: [] })).toThrow(RangeError);
    expect(() => encodeOpen({ myAs: 1, holdTime: 90, bgpId: '1.2.3', capabilities: [] })).toThrow(TypeError);
    const big = Array.from({ length: 30 }, () => ({ type: 'raw' as const, code: 200, value: Buffer.alloc(8) }));
    expect(() => encodeOpen({ myAs: 1, holdTime: 90, bgpId: '1.2.3.4', capabilities: big })).toThrow(/255/);
  });
});

describe('NLRI prefixes (RFC 4271 §4.3, RFC 7911 §3)', () => {
  it('length byte then the fewest whole bytes', () => {
    expect(encodePrefix({ prefix: '0.0.0.0/0' }, false).toString('hex')).toBe('00');
    expect(encodePrefix({ prefix: '10.0.0.0/8' }, false).toString('hex')).toBe('080a');
    expect(encodePrefix({ prefix: '10.1.128.0/17' }, false).toString('hex')).toBe('110a0180');
    expect(encodePrefix({ prefix: '192.0.2.1/32' }, false).toString('hex')).toBe('20c0000201');
    expect(encodePrefix({ prefix: '2001:db8:1:2::/64' }, false).toString('hex')).toBe('4020010db800010002');
    expect(encodePrefix({ prefix: '::/0' }, false).toString('hex')).toBe('00');
    expect(encodePrefix({ prefix: '::ffff:10.0.0.1/128' }, false).toString('hex')).toBe('80' + '00000000000000000000ffff0a000001');
  });

  it('zeroes host bits in the last byte', () => {
    expect(encodePrefix({ prefix: '10.0.0.255/25' }, false).toString('hex')).toBe('190a000080');
  });

  it('path id first when ADD-PATH is on, ignored otherwise', () => {
    expect(encodePrefix({ prefix: '10.0.0.0/24', pathId: 7 }, true).toString('hex')).toBe(hex('00000007 18 0a0000'));
    expect(encodePrefix({ prefix: '10.0.0.0/24' }, true).toString('hex')).toBe('00000000180a0000');
    expect(encodePrefix({ prefix: '10.0.0.0/24', pathId: 7 }, false).toString('hex')).toBe('180a0000');
  });

  it('rejects malformed text', () => {
    for (const bad of ['10.0.0/24', '10.0.0.0/33', '10.0.0.256/24', '2001:db8::/129', '1:::2/64', '1::2::3/64', '10.0.0.0', 'fe80::1%eth0/64']) {
      expect(() => encodePrefix({ prefix: bad }, false), bad).toThrow();
    }
  });

  it('parses IPv6 forms', () => {
    expect(parseIpv6('::').toString('hex')).toBe('0'.repeat(32));
    expect(parseIpv6('1:2:3:4:5:6:7::').toString('hex')).toBe('00010002000300040005000600070000');
    expect(parseIpv6('::1.2.3.4').toString('hex')).toBe('00000000000000000000000001020304');
    expect(parseIpv6('2001:DB8:0:0:0:0:0:1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(parseIpv6('1:2:3:4:5:6:1.2.3.4').toString('hex')).toBe('00010002000300040005000601020304');
    expect(parseIpv6('1::2:3').toString('hex')).toBe('00010000000000000000000000020003');
    for (const bad of ['1:2:3:4:5:6:7:8::', '1:2:3:4:5:6:7', ':1::', '1::2:', '1:2:3:4:5:6:7:8:', '1:2:3:4:5:6:7:8:9', '12345::', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', '::1.2.3', 'g::', '']) {
      expect(() => parseIpv6(bad), bad).toThrow(TypeError);
    }
  });

  it('IPv6 parse agrees with full and compressed (WHATWG URL) spellings', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (words) => {
        const expected = Buffer.alloc(16);
        words.forEach((w, i) => expected.writeUInt16BE(w, i * 2));
        const full = words.map((w) => w.toString(16)).join(':');
        const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        expect(parseIpv6(full).equals(expected)).toBe(true);
        expect(parseIpv6(compressed).equals(expected), compressed).toBe(true);
      }),
    );
  });

  it('length is always 1 + ceil(len/8) (+4 with ADD-PATH)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.boolean(), (addr, len, addPath) => {
        const text = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
        const b = encodePrefix({ prefix: text, pathId: 1 }, addPath);
        expect(b.length).toBe((addPath ? 5 : 1) + Math.ceil(len / 8));
        expect(b[addPath ? 4 : 0]).toBe(len);
      }),
    );
  });
});

describe('path attributes (RFC 4271 §4.3 and extensions)', () => {
  const cases: [string, Attribute, string][] = [
    ['ORIGIN', { type: 'origin', value: 2 }, '40 01 01 02'],
    ['AS_PATH 4-octet', { type: 'as-path', fourOctet: true, segments: [{ type: 2, asns: [65001, 4200000001] }] }, '40 02 0a 02 02 0000fde9 fa56ea01'],
    [
      'AS_PATH 2-octet with AS_TRANS and an AS_SET (RFC 6793 §4.2.2)',
      { type: 'as-path', fourOctet: false, segments: [{ type: 2, asns: [65001, 4200000001] }, { type: 1, asns: [64512] }] },
      '40 02 0a 02 02 fde9 5ba0  01 01 fc00',
    ],
    ['AS_PATH confederation segment types (RFC 5065)', { type: 'as-path', fourOctet: true, segments: [{ type: 3, asns: [1] }, { type: 4, asns: [] }] }, '40 02 08 03 01 00000001 04 00'],
    ['AS_PATH empty (IBGP)', { type: 'as-path', fourOctet: true, segments: [] }, '40 02 00'],
    ['AS4_PATH (RFC 6793 §3)', { type: 'as4-path', segments: [{ type: 2, asns: [4200000001] }] }, 'c0 11 06 02 01 fa56ea01'],
    ['NEXT_HOP', { type: 'next-hop', address: '192.0.2.254' }, '40 03 04 c00002fe'],
    ['MULTI_EXIT_DISC', { type: 'med', value: 100 }, '80 04 04 00000064'],
    ['LOCAL_PREF', { type: 'local-pref', value: 200 }, '40 05 04 000000c8'],
    ['ATOMIC_AGGREGATE', { type: 'atomic-aggregate' }, '40 06 00'],
    ['AGGREGATOR 4-octet', { type: 'aggregator', as: 65001, address: '192.0.2.1', fourOctet: true }, 'c0 07 08 0000fde9 c0000201'],
    ['AGGREGATOR 2-octet with AS_TRANS', { type: 'aggregator', as: 4200000001, address: '192.0.2.1', fourOctet: false }, 'c0 07 06 5ba0 c0000201'],
    ['AS4_AGGREGATOR', { type: 'as4-aggregator', as: 4200000001, address: '192.0.2.1' }, 'c0 12 08 fa56ea01 c0000201'],
    ['COMMUNITIES (RFC 1997)', { type: 'communities', values: [0xfde90064, 0xffffff01] }, 'c0 08 08 fde90064 ffffff01'],
    ['ORIGINATOR_ID (RFC 4456)', { type: 'originator-id', id: '10.0.0.1' }, '80 09 04 0a000001'],
    ['CLUSTER_LIST (RFC 4456)', { type: 'cluster-list', ids: ['10.0.0.1', '10.0.0.2'] }, '80 0a 08 0a000001 0a000002'],
    [
      'MP_REACH_NLRI IPv6 with link-local next hop (RFC 4760 §3, RFC 2545 §3)',
      { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: [{ prefix: '2001:db8:1::/48' }] },
      `80 0e 2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00  30 20010db80001`,
    ],
    [
      'MP_REACH_NLRI with ADD-PATH',
      { type: 'mp-reach', afi: 1, safi: 1, nextHop: '192.0.2.1', nlri: [{ prefix: '10.0.0.0/8', pathId: 7 }], addPath: true },
      '80 0e 0f 0001 01 04 c0000201 00  00000007 08 0a',
    ],
    ['MP_UNREACH_NLRI (RFC 4760 §4)', { type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8::/32' }] }, '80 0f 08 0002 01  20 20010db8'],
    ['EXTENDED_COMMUNITIES (RFC 4360)', { type: 'extended-communities', values: [Buffer.from('0002fde900000064', 'hex')] }, 'c0 10 08 0002fde900000064'],
    ['LARGE_COMMUNITY (RFC 8092)', { type: 'large-communities', values: [[4200000001, 1, 2]] }, 'c0 20 0c fa56ea01 00000001 00000002'],
    ['raw', { type: 'raw', flags: 0xc0, code: 99, value: Buffer.from([1, 2, 3]) }, 'c0 63 03 010203'],
    ['raw keeps a caller-set extended length', { type: 'raw', flags: 0xd0, code: 99, value: Buffer.from([1, 2, 3]) }, 'd0 63 0003 010203'],
  ];
  for (const [name, attr, expected] of cases) {
    it(name, () => {
      expect(encodeAttribute(attr).toString('hex')).toBe(hex(expected));
    });
  }

  it('sets Extended Length only when the value exceeds 255 bytes', () => {
    const values63 = Array.from({ length: 63 }, (_, i) => i);
    const short = encodeAttribute({ type: 'communities', values: values63 });
    expect(short.subarray(0, 3).toString('hex')).toBe('c008fc');
    expect(short.length).toBe(3 + 252);
    const long = encodeAttribute({ type: 'communities', values: [...values63, 63] });
    expect(long.subarray(0, 4).toString('hex')).toBe('d0080100');
    expect(long.length).toBe(4 + 256);
    const raw = encodeAttribute({ type: 'raw', flags: 0x80, code: 200, value: Buffer.alloc(300, 1) });
    expect(raw.subarray(0, 4).toString('hex')).toBe('90c8012c');
  });

  it('rejects caller mistakes', () => {
    expect(() => encodeAttribute({ type: 'extended-communities', values: [Buffer.alloc(7)] })).toThrow(RangeError);
    expect(() => encodeAttribute({ type: 'med', value: -1 })).toThrow(RangeError);
    expect(() => encodeAttribute({ type: 'as-path', fourOctet: true, segments: [{ type: 2, asns: new Array<number>(256).fill(1) }] })).toThrow(RangeError);
  });
});

describe('UPDATE (RFC 4271 §4.3)', () => {
  it('IPv4 UPDATE with attributes and NLRI', () => {
    const u = encodeUpdate({
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', fourOctet: true, segments: [{ type: 2, asns: [65001, 4200000001] }] },
        { type: 'next-hop', address: '192.0.2.254' },
      ],
      nlri: [{ prefix: '10.0.0.0/24' }, { prefix: '10.1.128.0/17' }],
    });
    expect(u.toString('hex')).toBe(
      hex(`${MARKER} 0037 02
        0000
        0018  40010100  40020a 0202 0000fde9 fa56ea01  400304c00002fe
        180a0000  110a0180`),
    );
  });

  it('ADD-PATH puts a path id before every withdrawn and announced prefix', () => {
    const u = encodeUpdate({
      withdrawn: [{ prefix: '10.0.0.0/24', pathId: 1 }],
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', fourOctet: true, segments: [] },
        { type: 'next-hop', address: '192.0.2.1' },
      ],
      nlri: [{ prefix: '10.0.1.0/24', pathId: 2 }],
      addPath: true,
    });
    expect(u.toString('hex')).toBe(
      hex(`${MARKER} 0035 02
        0008 00000001 180a0000
        000e 40010100 400200 400304c0000201
        00000002 180a0001`),
    );
  });

  it('MP attributes inherit the UPDATE addPath unless they say otherwise', () => {
    const mp = (addPath?: boolean): Buffer =>
      encodeUpdate({ attributes: [{ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8::/32', pathId: 9 }], addPath }], addPath: true });
    expect(mp().subarray(23).toString('hex')).toBe(hex('800f0c 0002 01 00000009 20 20010db8'));
    expect(mp(false).subarray(23).toString('hex')).toBe(hex('800f08 0002 01 20 20010db8'));
  });

  it('enforces 4096 bytes unless extended (RFC 8654)', () => {
    const nlri = Array.from({ length: 900 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.1/32` }));
    expect(() => encodeUpdate({ nlri })).toThrow(/4096/);
    const u = encodeUpdate({ nlri, extended: true });
    expect(u.length).toBe(19 + 4 + 900 * 5);
    expect(u.readUInt16BE(16)).toBe(u.length);
    // 814 × /32 (5 bytes) + one /16 (3 bytes) = 4073 bytes of NLRI: exactly 4096 with the 23 fixed bytes.
    const full = [...nlri.slice(0, 814), { prefix: '10.200.0.0/16' }];
    expect(encodeUpdate({ nlri: full }).length).toBe(4096);
    expect(() => encodeUpdate({ nlri: [...full, { prefix: '0.0.0.0/0' }] })).toThrow(RangeError);
    expect(encodeUpdate({ nlri: [...full, { prefix: '0.0.0.0/0' }], extended: true }).readUInt16BE(16)).toBe(4097);
  });

  it('length field always equals the buffer length', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 8, max: 32 })), { maxLength: 200 }), (list) => {
        const nlri = list.map(([a, l]) => ({ prefix: `10.${a >> 16}.${(a >> 8) & 255}.${a & 255}/${l}` }));
        const u = encodeUpdate({ nlri, attributes: [{ type: 'origin', value: 0 }] });
        expect(u.readUInt16BE(16)).toBe(u.length);
        expect(u.readUInt16BE(19)).toBe(0);
        expect(u.readUInt16BE(21)).toBe(4);
      }),
    );
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  it('IPv4 unicast: empty UPDATE', () => {
    expect(encodeEndOfRib(1, 1).toString('hex')).toBe(hex(`${MARKER} 0017 02 0000 0000`));
  });
  it('other families: UPDATE with only an empty MP_UNREACH_NLRI', () => {
    expect(encodeEndOfRib(2, 1).toString('hex')).toBe(hex(`${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`));
    expect(encodeEndOfRib(1, 128).toString('hex')).toBe(hex(`${MARKER} 001d 02 0000 0006 80 0f 03 0001 80`));
  });
});
