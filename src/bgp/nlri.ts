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
 *
 * Decoding is in two steps: indexNlriBlock validates a block and records where each prefix is (the compact form
 * the scan keeps: offset of the length byte, and the path id); nlriAt turns one entry into the shared Nlri value.
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

/** Where a block's prefixes are: entries first..first+count of a PrefixIndex, all of one family and layout. */
export class NlriSection {
  first = 0;
  count = 0;
  ipv6 = false;
  pathIds = false;

  reset(): void {
    this.first = 0;
    this.count = 0;
    this.ipv6 = false;
    this.pathIds = false;
  }
}

/** Compact prefix list of one UPDATE: the offset of each prefix's length byte, and its path id (ADD-PATH). */
export class PrefixIndex {
  offsets = new Int32Array(1024);
  pathIds = new Uint32Array(1024);
  count = 0;

  /** Make room for `more` entries (a 64 KiB UPDATE holds at most 65,536 one-byte prefixes). */
  reserve(more: number): void {
    const need = this.count + more;
    if (need <= this.offsets.length) return;
    let size = this.offsets.length;
    while (size < need) size *= 2;
    const offsets = new Int32Array(size);
    offsets.set(this.offsets.subarray(0, this.count));
    const pathIds = new Uint32Array(size);
    pathIds.set(this.pathIds.subarray(0, this.count));
    this.offsets = offsets;
    this.pathIds = pathIds;
  }
}

/**
 * Oddities (see scoreNlriLayout) seen by the last successful indexNlriBlock: a second return value, kept in a
 * module variable so the common path allocates nothing.
 */
export let lastIndexOddities = 0;

/**
 * Validate the block [start, end) and append its entries to `index`, counting oddities as scoreNlriLayout does.
 * Returns -1 on success, else the offset of the bad entry (entries before it stay appended).
 */
export function indexNlriBlock(buf: Uint8Array, start: number, end: number, ipv6: boolean, withPathId: boolean, index: PrefixIndex): number {
  const maxLength = ipv6 ? 128 : 32;
  // Each entry takes at least 1 byte (5 with a path id), so this bounds the entries of the block.
  index.reserve(withPathId ? ((end - start) / 5) | 0 : end - start);
  const offsets = index.offsets;
  const pathIds = index.pathIds;
  let n = index.count;
  let pos = start;
  let oddities = 0;
  let zeroLength = 0;
  while (pos < end) {
    const entryStart = pos;
    let pathId = 0;
    if (withPathId) {
      if (end - pos < 5) return entryStart;
      if (buf[pos] !== 0) oddities++;
      pathId = ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
      pos += 4;
    }
    const length = buf[pos];
    if (length > maxLength) return entryStart;
    const byteCount = (length + 7) >> 3;
    if (end - pos - 1 < byteCount) return entryStart;
    if (length & 7 && buf[pos + byteCount] & (0xff >> (length & 7))) oddities++;
    if (length === 0) zeroLength++;
    offsets[n] = pos;
    pathIds[n] = pathId;
    n++;
    pos += 1 + byteCount;
  }
  const entries = n - index.count;
  index.count = n;
  lastIndexOddities = entries > 1 ? oddities + zeroLength : oddities;
  return -1;
}

/** The prefix whose length byte is at `offset` (validated by indexNlriBlock), as the shared interned value. */
export function nlriAt(buf: Uint8Array, offset: number, ipv6: boolean): Nlri {
  const length = buf[offset];
  const byteCount = (length + 7) >> 3;
  const width = ipv6 ? 16 : 4;
  const from = offset + 1;
  // Copy the prefix and clear trailing bits past the length: they are irrelevant (RFC 4271 §4.3).
  for (let i = 0; i < width; i++) scratch[i] = i < byteCount ? buf[from + i] : 0;
  if (length & 7) scratch[byteCount - 1] &= 0xff << (8 - (length & 7));
  return (ipv6 ? internV6 : internV4).get(length, byteCount);
}

/** A section's prefixes as Nlri values, path ids attached when the section has them. */
export function materializeSection(buf: Uint8Array, section: NlriSection, index: PrefixIndex, out: Nlri[]): Nlri[] {
  const end = section.first + section.count;
  for (let i = section.first; i < end; i++) {
    const nlri = nlriAt(buf, index.offsets[i], section.ipv6);
    out.push(section.pathIds ? { prefix: nlri.prefix, family: nlri.family, length: nlri.length, pathId: index.pathIds[i] } : nlri);
  }
  return out;
}

/**
 * How implausible a block looks when read with (or without) path identifiers: -1 if it does not parse at all,
 * else a count of oddities that real speakers do not produce. Reading one layout as the other typically yields
 * host bits set past the prefix length, several zero-length prefixes, or path ids with the high byte set
 * (a prefix-length byte read as a path id).
 */
export function scoreNlriLayout(buf: Uint8Array, start: number, end: number, ipv6: boolean, withPathId: boolean): number {
  const maxLength = ipv6 ? 128 : 32;
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
 * Decide whether the non-empty block [start, end) carries path identifiers.
 * - expected: what the ADD-PATH negotiation in the Peer Up says;
 * - previous: what this peer's bytes showed last time for the same family and direction, if known.
 * The negotiated layout wins unless the bytes contradict it: it fails to parse, or parses with more oddities
 * than the other layout. Ties keep the previous finding, else the negotiation.
 */
export function chooseAddPathLayout(
  buf: Uint8Array,
  start: number,
  end: number,
  ipv6: boolean,
  expected: boolean,
  previous: boolean | undefined,
): boolean {
  const scoreExpected = scoreNlriLayout(buf, start, end, ipv6, expected);
  // No oddity: the other layout can at best tie, and a tie keeps the previous finding (the common case, cheaply).
  if (scoreExpected === 0 && previous !== !expected) return expected;
  const scoreOther = scoreNlriLayout(buf, start, end, ipv6, !expected);
  if (scoreOther < 0) return expected;
  if (scoreExpected < 0) return !expected;
  if (scoreExpected < scoreOther) return expected;
  if (scoreOther < scoreExpected) return !expected;
  return previous ?? expected;
}
