/**
 * Community attributes:
 * - COMMUNITIES (type 8, RFC 1997): 4-byte values, written "asn:value".
 * - EXTENDED_COMMUNITIES (type 16, RFC 4360): 8-byte values: type (1), subtype (1), value (6).
 * - LARGE_COMMUNITY (type 32, RFC 8092): 12-byte values: global admin, local data 1, local data 2 (4 bytes each).
 * The lengths were checked by the scan (update-scan.ts); these only turn the values into text.
 */
import type { ExtendedCommunity } from '../types.js';
import { formatIPv4 } from '../../model/address.js';

export function decodeCommunities(buf: Buffer, start: number, end: number): string[] {
  const values: string[] = [];
  for (let pos = start; pos < end; pos += 4) values.push(`${buf.readUInt16BE(pos)}:${buf.readUInt16BE(pos + 2)}`);
  return values;
}

export function decodeLargeCommunities(buf: Buffer, start: number, end: number): string[] {
  const values: string[] = [];
  for (let pos = start; pos < end; pos += 12) {
    values.push(`${buf.readUInt32BE(pos)}:${buf.readUInt32BE(pos + 4)}:${buf.readUInt32BE(pos + 8)}`);
  }
  return values;
}

/** Subtypes shared by the AS- and IPv4-specific types (RFC 4360 §5, RFC 5668). */
const SUBTYPE_NAMES: Record<number, string> = { 0x02: 'rt', 0x03: 'soo' };

export function decodeExtendedCommunities(buf: Buffer, start: number, end: number): ExtendedCommunity[] {
  const values: ExtendedCommunity[] = [];
  for (let pos = start; pos < end; pos += 8) {
    const type = buf[pos];
    const subtype = buf[pos + 1];
    values.push({ type, subtype, text: extendedCommunityText(buf, pos, type & 0x3f, subtype) });
  }
  return values;
}

function extendedCommunityText(buf: Buffer, pos: number, baseType: number, subtype: number): string {
  const name = SUBTYPE_NAMES[subtype];
  if (name !== undefined) {
    // Bits 0x40 (non-transitive) and 0x80 (IANA authority) do not change the layout.
    if (baseType === 0x00) return `${name}:${buf.readUInt16BE(pos + 2)}:${buf.readUInt32BE(pos + 4)}`;
    if (baseType === 0x01) return `${name}:${formatIPv4(buf, pos + 2)}:${buf.readUInt16BE(pos + 6)}`;
    if (baseType === 0x02) return `${name}:${buf.readUInt32BE(pos + 2)}:${buf.readUInt16BE(pos + 6)}`;
  }
  return buf.toString('hex', pos, pos + 8);
}
