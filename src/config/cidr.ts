/**
 * IP address and CIDR prefix helpers shared by the configuration schema and the collector.
 *
 * Parsing is deliberately strict, because these strings decide who may connect and what appliances may announce:
 * - IPv4 is four decimal octets; leading zeros ("010.0.0.1") are refused because some tools read them as octal.
 * - IPv6 is RFC 4291 §2.2 text (hex groups, at most one "::", an optional dotted IPv4 tail); zone indices
 *   ("fe80::1%eth0") are refused: a zone means nothing in a prefix list.
 * - A CIDR prefix must have its host bits zero ("10.1.2.0/16" is refused with the network it probably means),
 *   so a typo cannot silently widen or move a range.
 *
 * Parsers return a value or a one-line English error string; they never throw.
 */
import { formatIPv4, formatIPv6 } from '../model/address.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array;
}

export interface Cidr {
  readonly family: IpFamily;
  /** The network address: 4 bytes for IPv4, 16 for IPv6, network order, host bits zero. */
  readonly bytes: Uint8Array;
  /** Prefix length in bits: 0..32 for IPv4, 0..128 for IPv6. */
  readonly length: number;
}

/** Bits in an address of each family. */
export function familyBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseOctet(text: string): number | undefined {
  if (text.length > 1 && text.startsWith('0')) return undefined; // octal ambiguity
  const value = Number(text);
  return value <= 255 ? value : undefined;
}

/** Dotted-quad IPv4 text → 4 bytes, or undefined. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const match = IPV4_PATTERN.exec(text);
  if (!match) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const octet = parseOctet(match[i + 1]);
    if (octet === undefined) return undefined;
    bytes[i] = octet;
  }
  return bytes;
}

/** Hex groups (and an optional trailing dotted IPv4) → 16-bit values, or undefined. */
function parseGroups(text: string, allowIPv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (allowIPv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (!v4) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** RFC 4291 §2.2 IPv6 text → 16 bytes, or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (!text.includes(':') || text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 1) {
    const all = parseGroups(text, true);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = parseGroups(halves[0], false);
    const tail = parseGroups(halves[1], true);
    // "::" stands for at least one zero group, so at most 7 are written around it.
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = groups[i] >> 8;
    bytes[2 * i + 1] = groups[i] & 0xff;
  }
  return bytes;
}

/** An IPv4 or IPv6 address literal, or an error message. */
export function parseAddress(text: string): IpAddress | string {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, bytes: v6 };
  if (text.includes('/')) return `"${text}" is a prefix, not an address`;
  if (text.includes('%')) return `"${text}" has a zone index; write the address without "%ZONE"`;
  return `"${text}" is not an IPv4 or IPv6 address`;
}

/** True when the first `length` bits of a and b are equal (both at least ceil(length/8) bytes long). */
function samePrefix(a: Uint8Array, b: Uint8Array, length: number): boolean {
  const whole = length >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole] & mask) === (b[whole] & mask);
}

/** The network address of `bytes` with everything after the first `length` bits cleared. */
function network(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const whole = length >> 3;
  out.set(bytes.subarray(0, whole));
  const rest = length & 7;
  if (rest !== 0) out[whole] = bytes[whole] & ((0xff << (8 - rest)) & 0xff);
  return out;
}

/** "ADDRESS/LENGTH" with host bits zero → the prefix, or an error message. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const address = parseAddress(text);
    if (typeof address === 'string') return `"${text}" is not a CIDR prefix (ADDRESS/LENGTH)`;
    return `"${text}" has no prefix length; write ${text}/${familyBits(address.family)} for a single address`;
  }
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const address = parseAddress(addressText);
  if (typeof address === 'string') return `"${text}" is not a CIDR prefix: ${address}`;
  const bits = familyBits(address.family);
  if (!/^(0|[1-9]\d{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return `"${text}" has an invalid prefix length; IPv${address.family} lengths are 0..${bits}`;
  }
  const length = Number(lengthText);
  const net = network(address.bytes, length);
  if (!samePrefix(net, address.bytes, bits)) {
    return `"${text}" has host bits set; the network is ${formatCidr({ family: address.family, bytes: net, length })}`;
  }
  return { family: address.family, bytes: net, length };
}

/** Canonical text (RFC 5952 for IPv6). */
export function formatAddress(address: IpAddress): string {
  return address.family === 4 ? formatIPv4(address.bytes, 0) : formatIPv6(address.bytes, 0);
}

/** Canonical "ADDRESS/LENGTH" text (RFC 5952 for IPv6). */
export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr)}/${cidr.length}`;
}

/** True when every address of `inner` is in `outer` (a prefix contains itself). Different families never do. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.length <= inner.length && samePrefix(outer.bytes, inner.bytes, outer.length);
}

/** True when some address is in both prefixes (for CIDR prefixes: when one contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && samePrefix(a.bytes, b.bytes, Math.min(a.length, b.length));
}

/**
 * True when `address` is inside `cidr`. Strings are parsed on every call (pass a parsed Cidr on hot paths); an
 * unparsable address or prefix is inside nothing. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as dual-stack
 * sockets report IPv4 peers) also matches IPv4 prefixes containing a.b.c.d.
 */
export function addressInCidr(address: string | IpAddress, cidr: string | Cidr): boolean {
  const parsedAddress = typeof address === 'string' ? parseAddress(address) : address;
  const parsedCidr = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  if (typeof parsedAddress === 'string' || typeof parsedCidr === 'string') return false;
  if (parsedAddress.family === parsedCidr.family) return samePrefix(parsedAddress.bytes, parsedCidr.bytes, parsedCidr.length);
  if (parsedAddress.family === 6 && parsedCidr.family === 4 && isIPv4Mapped(parsedAddress.bytes)) {
    return samePrefix(parsedAddress.bytes.subarray(12), parsedCidr.bytes, parsedCidr.length);
  }
  return false;
}

function isIPv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
