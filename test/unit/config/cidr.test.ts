import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import {
  addressInCidr,
  cidrContains,
  cidrsOverlap,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  type Cidr,
  type IpAddress,
} from '../../../src/config/cidr.js';

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') throw new Error(`test prefix ${text}: ${parsed}`);
  return parsed;
}

function address(text: string): IpAddress {
  const parsed = parseAddress(text);
  if (typeof parsed === 'string') throw new Error(`test address ${text}: ${parsed}`);
  return parsed;
}

/** "0000:0000:...": the form ip-address's canonicalForm() prints. */
function expandedIPv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16).padStart(4, '0'));
  return groups.join(':');
}

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', 4, [10, 0, 0, 0], 8, '10.0.0.0/8'],
    ['0.0.0.0/0', 4, [0, 0, 0, 0], 0, '0.0.0.0/0'],
    ['192.0.2.1/32', 4, [192, 0, 2, 1], 32, '192.0.2.1/32'],
    ['10.128.0.0/9', 4, [10, 128, 0, 0], 9, '10.128.0.0/9'],
    ['100.64.0.0/10', 4, [100, 64, 0, 0], 10, '100.64.0.0/10'],
    ['255.255.255.254/31', 4, [255, 255, 255, 254], 31, '255.255.255.254/31'],
    ['2001:db8::/32', 6, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 32, '2001:db8::/32'],
    ['2001:DB8:0:0:0:0:0:0/32', 6, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 32, '2001:db8::/32'],
    ['::/0', 6, new Array<number>(16).fill(0), 0, '::/0'],
    ['::1/128', 6, [...new Array<number>(15).fill(0), 1], 128, '::1/128'],
    ['2001:db8:100::/48', 6, [0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 48, '2001:db8:100::/48'],
    ['2001:db8:0:1::/64', 6, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 64, '2001:db8:0:1::/64'],
    ['::ffff:10.0.0.0/104', 6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0], 104, '::ffff:10.0.0.0/104'],
    ['fe80::/10', 6, [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 10, 'fe80::/10'],
    ['1:2:3:4:5:6:7::/128', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0], 128, '1:2:3:4:5:6:7:0/128'],
  ])('%s', (text, family, bytes, length, canonical) => {
    const parsed = cidr(text);
    expect(parsed.family).toBe(family);
    expect([...parsed.bytes]).toEqual(bytes);
    expect(parsed.length).toBe(length);
    expect(formatCidr(parsed)).toBe(canonical);
  });

  it.each([
    ['10.0.0.1/8', /host bits set; the network is 10\.0\.0\.0\/8/],
    ['10.128.1.0/16', /host bits set; the network is 10\.128\.0\.0\/16/],
    ['192.0.2.1/31', /host bits set; the network is 192\.0\.2\.0\/31/],
    ['2001:db8::1/64', /host bits set; the network is 2001:db8::\/64/],
    ['2001:db8:100::/39', /host bits set; the network is 2001:db8::\/39/],
    ['10.0.0.0', /no prefix length; write 10\.0\.0\.0\/32/],
    ['2001:db8::1', /no prefix length; write 2001:db8::1\/128/],
    ['10.0.0.0/33', /invalid prefix length; IPv4 lengths are 0\.\.32/],
    ['2001:db8::/129', /invalid prefix length; IPv6 lengths are 0\.\.128/],
    ['10.0.0.0/-1', /invalid prefix length/],
    ['10.0.0.0/08', /invalid prefix length/],
    ['10.0.0.0/', /invalid prefix length/],
    ['10.0.0.0/8/8', /invalid prefix length/],
    ['10.0.0.0/ 8', /invalid prefix length/],
    ['256.0.0.0/8', /not a CIDR prefix/],
    ['010.0.0.0/8', /not a CIDR prefix/],
    ['10.0.0/24', /not a CIDR prefix/],
    [' 10.0.0.0/8', /not a CIDR prefix/],
    ['1::2::3/64', /not a CIDR prefix/],
    ['gggg::/16', /not a CIDR prefix/],
    ['12345::/16', /not a CIDR prefix/],
    ['1:2:3:4:5:6:7:8:9/128', /not a CIDR prefix/],
    ['1:2:3:4:5:6:7:8::/128', /not a CIDR prefix/],
    ['fe80::1%eth0/128', /zone index/],
    ['', /not a CIDR prefix/],
    ['example.net/24', /not a CIDR prefix/],
  ])('rejects %j', (text, message) => {
    const parsed = parseCidr(text);
    expect(typeof parsed).toBe('string');
    expect(parsed).toMatch(message);
  });
});

describe('parseAddress', () => {
  it.each([
    ['192.0.2.1', 4, '192.0.2.1'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['::', 6, '::'],
    ['::1', 6, '::1'],
    ['2001:DB8::0:1', 6, '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['::ffff:192.0.2.1', 6, '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.1', 6, '64:ff9b::c000:201'],
    ['1:2:3:4:5:6:192.0.2.1', 6, '1:2:3:4:5:6:c000:201'],
  ])('%s', (text, family, canonical) => {
    const parsed = address(text);
    expect(parsed.family).toBe(family);
    expect(formatAddress(parsed)).toBe(canonical);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '1.2.3.04', '1.2.3.256', '1.2.3.4/32', ':::', '1:2:3:4:5:6:7', '::1.2.3', '1.2.3.4::', 'fe80::1%1', 'localhost', ' ::1'])(
    'rejects %j',
    (text) => {
      expect(typeof parseAddress(text)).toBe('string');
    },
  );

  it('agrees with ip-address on random IPv6 addresses (bytes and canonical text)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatAddress({ family: 6, bytes });
        const parsed = address(text);
        expect([...parsed.bytes]).toEqual([...bytes]);
        expect(new Address6(text).canonicalForm()).toBe(expandedIPv6(bytes));
        // ip-address prints IPv4-mapped addresses in hex; everything else must read the same.
        if (!text.startsWith('::ffff:') || !text.includes('.')) expect(new Address6(text).correctForm()).toBe(text);
      }),
    );
  });

  it('agrees with ip-address on which IPv6-looking strings are addresses', () => {
    const piece = fc.constantFrom('0', '1', 'ab', 'ffff', '12345', 'g', '', '1.2.3.4', '256.1.1.1');
    const text = fc.array(piece, { minLength: 1, maxLength: 10 }).map((pieces) => pieces.join(':'));
    fc.assert(
      fc.property(text, (candidate) => {
        const ours = parseAddress(candidate);
        expect(typeof ours !== 'string' && ours.family === 6).toBe(Address6.isValid(candidate));
        if (typeof ours !== 'string' && ours.family === 6) expect(new Address6(candidate).canonicalForm()).toBe(expandedIPv6(ours.bytes));
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees with ip-address on random IPv4 addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        const text = formatAddress({ family: 4, bytes });
        expect(Address4.isValid(text)).toBe(true);
        expect([...address(text).bytes]).toEqual([...bytes]);
      }),
    );
  });
});

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', true],
    ['10.0.0.0/8', '10.128.0.0/16', true],
    ['10.0.0.0/8', '10.255.255.255/32', true],
    ['10.0.0.0/8', '11.0.0.0/8', false],
    ['10.128.0.0/16', '10.0.0.0/8', false],
    ['10.128.0.0/9', '10.127.0.0/16', false],
    ['10.128.0.0/9', '10.255.0.0/16', true],
    ['0.0.0.0/0', '192.0.2.0/24', true],
    ['192.0.2.0/25', '192.0.2.128/25', false],
    ['2001:db8::/32', '2001:db8:100::/48', true],
    ['2001:db8:100::/48', '2001:db8::/32', false],
    ['2001:db8:100::/48', '2001:db8:101::/48', false],
    ['2001:db8:100::/47', '2001:db8:101::/48', true],
    ['::/0', '2001:db8::/32', true],
    ['::/0', '0.0.0.0/0', false],
    ['0.0.0.0/0', '::/0', false],
    ['::ffff:0:0/96', '10.0.0.0/8', false],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(cidrContains(cidr(outer), cidr(inner))).toBe(expected);
  });
});

describe('cidrsOverlap', () => {
  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/8', '10.0.0.0/8', true],
    ['10.0.0.0/9', '10.128.0.0/9', false],
    ['100.64.0.0/22', '100.64.3.0/24', true],
    ['100.64.0.0/22', '100.64.4.0/24', false],
    ['192.0.2.0/32', '192.0.2.1/32', false],
    ['2001:db8::/32', '2001:db8:ffff::/48', true],
    ['2001:db8::/33', '2001:db8:8000::/33', false],
    ['2001:db8::/32', '32.1.13.184/32', false],
    ['0.0.0.0/0', '::/0', false],
  ])('%s and %s: %s', (a, b, expected) => {
    expect(cidrsOverlap(cidr(a), cidr(b))).toBe(expected);
    expect(cidrsOverlap(cidr(b), cidr(a))).toBe(expected);
  });
});

describe('addressInCidr', () => {
  it.each([
    ['127.0.0.1', '127.0.0.0/8', true],
    ['128.0.0.1', '127.0.0.0/8', false],
    ['192.0.2.1', '192.0.2.1/32', true],
    ['192.0.2.2', '192.0.2.1/32', false],
    ['192.0.2.200', '192.0.2.128/25', true],
    ['192.0.2.100', '192.0.2.128/25', false],
    ['::1', '::1/128', true],
    ['::2', '::1/128', false],
    ['2001:db8:0:1::5', '2001:db8:0:1::/64', true],
    ['2001:db8:0:2::5', '2001:db8:0:1::/64', false],
    ['2001:DB8:0:1:0:0:0:5', '2001:db8:0:1::/64', true],
    // Dual-stack sockets report IPv4 peers as IPv4-mapped IPv6 addresses.
    ['::ffff:127.0.0.1', '127.0.0.0/8', true],
    ['::ffff:192.0.2.1', '127.0.0.0/8', false],
    ['::ffff:127.0.0.1', '::ffff:0:0/96', true],
    ['127.0.0.1', '::ffff:0:0/96', false],
    ['::127.0.0.1', '127.0.0.0/8', false],
    ['127.0.0.1', '::/0', false],
    ['::1', '0.0.0.0/0', false],
    ['not an address', '0.0.0.0/0', false],
    ['127.0.0.1', 'not a prefix', false],
    ['127.0.0.1', '127.0.0.1/8', false],
  ])('%s in %s: %s', (addr, prefix, expected) => {
    expect(addressInCidr(addr, prefix)).toBe(expected);
    const parsedPrefix = parseCidr(prefix);
    if (typeof parsedPrefix !== 'string') expect(addressInCidr(addr, parsedPrefix)).toBe(expected);
    const parsedAddress = parseAddress(addr);
    if (typeof parsedAddress !== 'string') expect(addressInCidr(parsedAddress, prefix)).toBe(expected);
  });

  it('matches cidrContains for the /32 or /128 of the address', () => {
    const v4 = fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }));
    fc.assert(
      fc.property(v4, ([addressBytes, networkBytes, length]) => {
        const network = cidr(`${formatAddress({ family: 4, bytes: networkBytes })}/32`);
        const outerText = formatCidr({ family: 4, bytes: maskBytes(network.bytes, length), length });
        const host = cidr(`${formatAddress({ family: 4, bytes: addressBytes })}/32`);
        expect(addressInCidr(formatAddress({ family: 4, bytes: addressBytes }), outerText)).toBe(cidrContains(cidr(outerText), host));
      }),
    );
  });
});

function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let bit = 0; bit < length; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    out[byte] |= bytes[byte] & mask;
  }
  return out;
}
