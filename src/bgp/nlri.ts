/**
 * NLRI prefixes (RFC 4271 §4.3, RFC 4760 §5) with optional RFC 7911 path identifiers:
 *
 *   +---------------------------+
 *   | Path Identifier (4 bytes) |   only with ADD-PATH
 *   +---------------------------+
 *   | Length (1 byte, in bits)  |
 *   +---------------------------+
 *   | Prefix (ceil(Length/8))   |
 *   +---------------------------+
 *
 * Whether path identifiers are present is not in the bytes: it follows from the ADD-PATH negotiation. Exporters
 * get this wrong (FRR 8.4 negotiates ADD-PATH yet sends none), so we check the negotiated layout against the
 * bytes and fall back when only the other layout is plausible (see chooseAddPathLayout).
 */
import type { Family, Nlri } from './types.js';
import { formatIPv4, formatIPv6 } from '../model/address.js';

const scratch = new Uint8Array(16);

/** Decode one block [start, end). Returns null on success, else the offset of the bad entry. */
export function decodeNlriBlock(
  buf: Buffer,
  start: number,
  end: number,
  family: Family,
  withPathId: boolean,
  out: Nlri[],
): number | null {
  const maxLength = family === 'ipv4' ? 32 : 128;
  let pos = start;
  while (pos < end) {
    const entryStart = pos;
    let pathId: number | undefined;
    if (withPathId) {
      if (end - pos < 5) return entryStart;
      pathId = buf.readUInt32BE(pos);
      pos += 4;
    }
    const length = buf[pos++];
    if (length > maxLength) return entryStart;
    const byteCount = (length + 7) >> 3;
    if (end - pos < byteCount) return entryStart;
    out.push(makeNlri(buf, pos, length, byteCount, family, pathId));
    pos += byteCount;
  }
  return null;
}

function makeNlri(buf: Buffer, pos: number, length: number, byteCount: number, family: Family, pathId: number | undefined): Nlri {
  const width = family === 'ipv4' ? 4 : 16;
  scratch.fill(0, 0, width);
  for (let i = 0; i < byteCount; i++) scratch[i] = buf[pos + i];
  // Trailing bits past the length are irrelevant (RFC 4271 §4.3): clear them so equal prefixes have equal text.
  if (length & 7) scratch[byteCount - 1] &= 0xff << (8 - (length & 7));
  const address = family === 'ipv4' ? formatIPv4(scratch, 0) : formatIPv6(scratch, 0);
  const prefix = `${address}/${length}`;
  return pathId === undefined ? { prefix, family, length } : { prefix, family, length, pathId };
}

/**
 * How implausible a block looks when read with (or without) path identifiers: -1 if it does not parse at all,
 * else a count of oddities that real speakers do not produce. Reading one layout as the other typically yields
 * host bits set past the prefix length, several zero-length prefixes, or path ids with the high byte set
 * (a prefix-length byte read as a path id).
 */
export function scoreNlriLayout(buf: Buffer, start: number, end: number, family: Family, withPathId: boolean): number {
  const maxLength = family === 'ipv4' ? 32 : 128;
  let pos = start;
  let oddities = 0;
  let entries = 0;
  let zeroLength = 0;
  while (pos < end) {
    if (withPathId) {
      if (end - pos < 5) return -1;
      if (buf[pos] !== 0) oddities++;
      pos += 4;
    }
    const length = buf[pos++];
    if (length > maxLength) return -1;
    const byteCount = (length + 7) >> 3;
    if (end - pos < byteCount) return -1;
    if (length & 7 && buf[pos + byteCount - 1] & (0xff >> (length & 7))) oddities++;
    if (length === 0) zeroLength++;
    pos += byteCount;
    entries++;
  }
  if (entries > 1) oddities += zeroLength;
  return oddities;
}

/**
 * Decide whether the block [start, end) carries path identifiers.
 * - expected: what the ADD-PATH negotiation in the Peer Up says;
 * - previous: what this peer's bytes showed last time for the same family and direction, if known.
 * The negotiated layout wins unless the bytes contradict it: it fails to parse, or parses with more oddities
 * than the other layout. Ties keep the previous finding, else the negotiation.
 */
export function chooseAddPathLayout(
  buf: Buffer,
  start: number,
  end: number,
  family: Family,
  expected: boolean,
  previous: boolean | undefined,
): boolean {
  if (start >= end) return previous ?? expected;
  const scoreExpected = scoreNlriLayout(buf, start, end, family, expected);
  const scoreOther = scoreNlriLayout(buf, start, end, family, !expected);
  if (scoreOther < 0) return expected;
  if (scoreExpected < 0) return !expected;
  if (scoreExpected < scoreOther) return expected;
  if (scoreOther < scoreExpected) return !expected;
  return previous ?? expected;
}
