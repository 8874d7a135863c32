/**
 * The hot-path address formatters against ip-address's canonical text (RFC 5952 for IPv6): a table of the tricky
 * cases, then random addresses. IPv4-mapped addresses (::ffff:0:0/96) are the one deliberate difference: we print
 * them in RFC 5952 §5 mixed notation, ip-address's correctForm() does not, so they are checked on their own.
 */
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { formatAddress16, formatIPv4, formatIPv6, isAllZero } from '../../../src/model/address.js';

const RUNS = 2000;

/** 16 bytes from 8 groups. */
function bytesOf(groups: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

const isMapped = (bytes: Uint8Array): boolean => bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
const reference6 = (bytes: Uint8Array): string => Address6.fromByteArray(Array.from(bytes)).correctForm();
const reference4 = (bytes: Uint8Array, offset: number): string =>
  Address4.fromInteger(((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0).correctForm();

describe('formatIPv6 (RFC 5952)', () => {
  const cases: { name: string; groups: number[]; expected: string }[] = [
    { name: 'unspecified', groups: [0, 0, 0, 0, 0, 0, 0, 0], expected: '::' },
    { name: 'loopback', groups: [0, 0, 0, 0, 0, 0, 0, 1], expected: '::1' },
    { name: 'trailing zeros', groups: [1, 0, 0, 0, 0, 0, 0, 0], expected: '1::' },
    { name: 'documentation address', groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], expected: '2001:db8::1' },
    { name: 'no zeros, leading zeros dropped in each group', groups: [0x2001, 0xdb8, 0x1, 0x20, 0x300, 0x4000, 0xabc, 0xf], expected: '2001:db8:1:20:300:4000:abc:f' },
    { name: 'lower-case hex', groups: [0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789], expected: 'abcd:ef01:2345:6789:abcd:ef01:2345:6789' },
    { name: 'all ones', groups: [0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff], expected: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
    { name: 'a single zero group is not compressed (§4.2.2)', groups: [1, 0, 1, 1, 1, 1, 1, 1], expected: '1:0:1:1:1:1:1:1' },
    { name: 'the longest run is compressed (§4.2.3)', groups: [0x2001, 0, 0, 1, 0, 0, 0, 1], expected: '2001:0:0:1::1' },
    { name: 'equal runs: the first is compressed (§4.2.3)', groups: [1, 0, 0, 1, 0, 0, 1, 1], expected: '1::1:0:0:1:1' },
    { name: 'equal runs at both ends', groups: [0, 0, 1, 1, 1, 1, 0, 0], expected: '::1:1:1:1:0:0' },
    { name: 'run in the middle, zeros at the edges', groups: [0, 0, 1, 0, 0, 0, 1, 0], expected: '0:0:1::1:0' },
    { name: 'seven zero groups at the end', groups: [0xfe80, 0, 0, 0, 0, 0, 0, 0], expected: 'fe80::' },
    { name: 'link-local with an EUI-64 interface id', groups: [0xfe80, 0, 0, 0, 0x1, 0x2ff, 0xfe03, 0x405], expected: 'fe80::1:2ff:fe03:405' },
    { name: 'NAT64 well-known prefix stays hexadecimal', groups: [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201], expected: '64:ff9b::c000:201' },
    { name: 'IPv4-compatible (deprecated) stays hexadecimal', groups: [0, 0, 0, 0, 0, 0, 0xc000, 0x201], expected: '::c000:201' },
    { name: 'ffff in group 5 but not mapped (group 4 non-zero)', groups: [0, 0, 0, 0, 1, 0xffff, 0xc000, 0x201], expected: '::1:ffff:c000:201' },
    { name: 'ffff in group 6 is not mapped', groups: [0, 0, 0, 0, 0, 0, 0xffff, 1], expected: '::ffff:1' },
    { name: 'prefix of a /64', groups: [0x2001, 0xdb8, 0x100, 0x1, 0, 0, 0, 0], expected: '2001:db8:100:1::' },
  ];

  it.each(cases)('$name: $expected', ({ groups, expected }) => {
    const bytes = bytesOf(groups);
    expect(formatIPv6(bytes, 0)).toBe(expected);
    expect(reference6(bytes)).toBe(expected);
  });

  it('reads at an offset inside a larger buffer', () => {
    const buffer = Buffer.concat([Buffer.from([0xaa, 0xbb, 0xcc]), Buffer.from(bytesOf([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11])), Buffer.from([0xdd])]);
    expect(formatIPv6(buffer, 3)).toBe('2001:db8::11');
  });

  it(`agrees with ip-address for ${RUNS} random addresses rich in zero groups`, () => {
    const group = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 0xffff }), weight: 2 });
    const address = fc.array(group, { minLength: 8, maxLength: 8 }).map(bytesOf).filter((bytes) => !isMapped(bytes));
    fc.assert(
      fc.property(address, (bytes) => {
        expect(formatIPv6(bytes, 0)).toBe(reference6(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it(`agrees with ip-address for ${RUNS} uniformly random addresses`, () => {
    const address = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((bytes) => !isMapped(bytes));
    fc.assert(
      fc.property(address, (bytes) => {
        expect(formatIPv6(bytes, 0)).toBe(reference6(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('the output parses back to the same address', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(new Address6(formatIPv6(bytes, 0)).toByteArray()).toEqual(Address6.fromByteArray(Array.from(bytes)).toByteArray());
      }),
      { numRuns: RUNS },
    );
  });
});

describe('formatIPv6: IPv4-mapped addresses in mixed notation (RFC 5952 §5)', () => {
  it.each([
    { v4: [0, 0, 0, 0], expected: '::ffff:0.0.0.0' },
    { v4: [192, 0, 2, 1], expected: '::ffff:192.0.2.1' },
    { v4: [127, 0, 0, 1], expected: '::ffff:127.0.0.1' },
    { v4: [255, 255, 255, 255], expected: '::ffff:255.255.255.255' },
  ])('$expected', ({ v4, expected }) => {
    const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
    expect(formatIPv6(bytes, 0)).toBe(expected);
    expect(Address6.fromByteArray(Array.from(bytes)).to4in6()).toBe(expected);
  });

  it(`agrees with ip-address's to4in6() for ${RUNS} random mapped addresses`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (v4) => {
        const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
        const text = formatIPv6(bytes, 0);
        expect(text).toBe(Address6.fromByteArray(Array.from(bytes)).to4in6());
        expect(text).toBe(`::ffff:${formatIPv4(v4, 0)}`);
        expect(new Address6(text).toByteArray()).toEqual(Address6.fromByteArray(Array.from(bytes)).toByteArray());
      }),
      { numRuns: RUNS },
    );
  });
});

describe('formatIPv4', () => {
  it.each([
    { bytes: [0, 0, 0, 0], expected: '0.0.0.0' },
    { bytes: [10, 128, 1, 0], expected: '10.128.1.0' },
    { bytes: [192, 0, 2, 1], expected: '192.0.2.1' },
    { bytes: [255, 255, 255, 255], expected: '255.255.255.255' },
    { bytes: [1, 2, 3, 4], expected: '1.2.3.4' },
  ])('$expected', ({ bytes, expected }) => {
    const array = new Uint8Array(bytes);
    expect(formatIPv4(array, 0)).toBe(expected);
    expect(reference4(array, 0)).toBe(expected);
  });

  it(`agrees with ip-address for ${RUNS} random addresses at random offsets`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 12 }), fc.nat(), (bytes, seed) => {
        const offset = seed % (bytes.length - 3);
        expect(formatIPv4(bytes, offset)).toBe(reference4(bytes, offset));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('formatAddress16 and isAllZero (BMP 16-byte address fields)', () => {
  const field = bytesOf([0x2001, 0xdb8, 0, 0, 0, 0, 0xc000, 0x20b]);

  it.each([
    { name: 'IPv6 reads all 16 bytes', ipv6: true, expected: '2001:db8::c000:20b' },
    { name: 'IPv4 reads the last 4 bytes', ipv6: false, expected: '192.0.2.11' },
  ])('$name', ({ ipv6, expected }) => {
    expect(formatAddress16(field, 0, ipv6)).toBe(expected);
  });

  it.each([
    { name: 'all zero', bytes: [0, 0, 0, 0], start: 0, end: 4, expected: true },
    { name: 'a non-zero byte inside the range', bytes: [0, 0, 1, 0], start: 0, end: 4, expected: false },
    { name: 'a non-zero byte outside the range', bytes: [1, 0, 0, 1], start: 1, end: 3, expected: true },
    { name: 'empty range', bytes: [1], start: 0, end: 0, expected: true },
  ])('isAllZero: $name', ({ bytes, start, end, expected }) => {
    expect(isAllZero(new Uint8Array(bytes), start, end)).toBe(expected);
  });
});
