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

/**
 * Interned NLRI values. Route-server streams repeat the same prefixes over and over (pre- and post-policy, each
 * peer's copy, every flap), and formatting an address is the decoder's most expensive step; sharing one frozen
 * value per prefix also saves memory downstream. A direct-mapped table: a collision just re-formats, so it is
 * bounded by construction and needs no eviction policy.
 */
class PrefixInternTable {
  private readonly slots = 1 << 16;
  private readonly keys: Uint8Array;
  private readonly lengths = new Int16Array(this.slots).fill(-1);
  private readonly values: (Nlri | undefined)[] = new Array<Nlri | undefined>(this.slots);

  constructor(
    private readonly width: number,
    private readonly family: Family,
  ) {
    this.keys = new Uint8Array(this.slots * width);
  }

  /** The prefix must be in `scratch` with its trailing bits cleared. */
  get(length: number, byteCount: number): Nlri {
    let hash = 0x811c9dc5 ^ length;
    for (let i = 0; i < byteCount; i++) hash = Math.imul(hash ^ scratch[i], 0x01000193);
    const slot = (hash >>> 0) & (this.slots - 1);
    const base = slot * this.width;
    const cached = this.values[slot];
    if (cached !== undefined && this.lengths[slot] === length) {
      let same = true;
      for (let i = 0; i < byteCount; i++) {
        if (this.keys[base + i] !== scratch[i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const address = this.family === 'ipv4' ? formatIPv4(scratch, 0) : formatIPv6(scratch, 0);
    const nlri: Nlri = Object.freeze({ prefix: `${address}/${length}`, family: this.family, length });
    for (let i = 0; i < byteCount; i++) this.keys[base + i] = scratch[i];
    this.lengths[slot] = length;
    this.values[slot] = nlri;
    return nlri;
  }
}

const internV4 = new PrefixInternTable(4, 'ipv4');
const internV6 = new PrefixInternTable(16, 'ipv6');

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
  const width = family === 'ipv4' ? 4 : 16;
  const table = family === 'ipv4' ? internV4 : internV6;
  let pos = start;
  while (pos < end) {
    const entryStart = pos;
    let pathId = -1;
    if (withPathId) {
      if (end - pos < 5) return entryStart;
      pathId = buf.readUInt32BE(pos);
      pos += 4;
    }
    const length = buf[pos++];
    if (length > maxLength) return entryStart;
    const byteCount = (length + 7) >> 3;
    if (end - pos < byteCount) return entryStart;
    // Copy the prefix and clear trailing bits past the length: they are irrelevant (RFC 4271 §4.3).
    for (let i = 0; i < width; i++) scratch[i] = i < byteCount ? buf[pos + i] : 0;
    if (length & 7) scratch[byteCount - 1] &= 0xff << (8 - (length & 7));
    const nlri = table.get(length, byteCount);
    out.push(pathId < 0 ? nlri : { prefix: nlri.prefix, family, length, pathId });
    pos += byteCount;
  }
  return null;
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
