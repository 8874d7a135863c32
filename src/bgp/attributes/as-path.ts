/**
 * AS_PATH (type 2, RFC 4271 §4.3) and AS4_PATH (type 17, RFC 6793): a sequence of segments
 *
 *   Segment type (1) | Segment length in ASNs (1) | ASNs (2 or 4 bytes each)
 *
 * Types: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET (RFC 5065). The ASN width is not in the
 * bytes; it comes from the session (or the BMP A flag), and we check it against the layout.
 */
import type { AsPathSegment, AsPathSegmentType } from '../types.js';

const SEGMENT_TYPES: Record<number, AsPathSegmentType> = {
  1: 'AS_SET',
  2: 'AS_SEQUENCE',
  3: 'AS_CONFED_SEQUENCE',
  4: 'AS_CONFED_SET',
};

/** True when [start, end) is a well-formed segment list for the given ASN width (RFC 7606 §7.2 checks). */
export function isValidAsPath(buf: Buffer, start: number, end: number, width: 2 | 4): boolean {
  let pos = start;
  while (pos < end) {
    if (end - pos < 2) return false;
    const type = buf[pos];
    const count = buf[pos + 1];
    if (type < 1 || type > 4 || count === 0) return false;
    pos += 2 + count * width;
  }
  return pos === end;
}

export function decodeAsPath(buf: Buffer, start: number, end: number, width: 2 | 4): AsPathSegment[] {
  const segments: AsPathSegment[] = [];
  let pos = start;
  while (pos < end) {
    const type = SEGMENT_TYPES[buf[pos]];
    const count = buf[pos + 1];
    pos += 2;
    const asns = new Array<number>(count);
    for (let i = 0; i < count; i++, pos += width) asns[i] = width === 4 ? buf.readUInt32BE(pos) : buf.readUInt16BE(pos);
    segments.push({ type, asns });
  }
  return segments;
}

/** Path length as RFC 4271 §9.1.2.2 counts it: each AS of a sequence counts, a set counts once, confed segments not. */
function countPathLength(segments: readonly AsPathSegment[]): number {
  let total = 0;
  for (const segment of segments) {
    if (segment.type === 'AS_SEQUENCE') total += segment.asns.length;
    else if (segment.type === 'AS_SET') total += 1;
  }
  return total;
}

/**
 * RFC 6793 §4.2.3: rebuild the real path from a 2-octet AS_PATH (with AS_TRANS in it) and the AS4_PATH. If the
 * AS_PATH is shorter than the AS4_PATH, the AS4_PATH is ignored. Otherwise keep the leading AS_PATH entries that
 * the AS4_PATH does not cover and append the AS4_PATH. Confederation segments in the AS_PATH are kept in place.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4PathReceived: readonly AsPathSegment[]): AsPathSegment[] {
  // RFC 6793 §6: confederation segments in AS4_PATH are discarded.
  const as4Path = as4PathReceived.filter((segment) => segment.type === 'AS_SEQUENCE' || segment.type === 'AS_SET');
  const asPathLength = countPathLength(asPath);
  const as4PathLength = countPathLength(as4Path);
  if (asPathLength < as4PathLength) return [...asPath];
  let keep = asPathLength - as4PathLength;
  const merged: AsPathSegment[] = [];
  for (const segment of asPath) {
    if (segment.type === 'AS_CONFED_SEQUENCE' || segment.type === 'AS_CONFED_SET') {
      merged.push(segment);
    } else if (keep === 0) {
      continue;
    } else if (segment.type === 'AS_SET') {
      merged.push(segment);
      keep -= 1;
    } else {
      const take = Math.min(keep, segment.asns.length);
      merged.push({ type: segment.type, asns: segment.asns.slice(0, take) });
      keep -= take;
    }
  }
  // Adjacent sequences are one segment on the wire; join them so the merge prints as one path.
  const first = as4Path[0];
  const last = merged[merged.length - 1];
  if (last && first && last.type === 'AS_SEQUENCE' && first.type === 'AS_SEQUENCE') {
    merged[merged.length - 1] = { type: 'AS_SEQUENCE', asns: [...last.asns, ...first.asns] };
    return [...merged, ...as4Path.slice(1)];
  }
  return [...merged, ...as4Path];
}

/** AS path as the text operators know: "65001 65002 {65003,65004} (65010)" — sets in braces, confeds in parens. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((segment) => {
      const list = segment.asns.join(segment.type === 'AS_SEQUENCE' || segment.type === 'AS_CONFED_SEQUENCE' ? ' ' : ',');
      switch (segment.type) {
        case 'AS_SEQUENCE':
          return list;
        case 'AS_SET':
          return `{${list}}`;
        case 'AS_CONFED_SEQUENCE':
          return `(${list})`;
        case 'AS_CONFED_SET':
          return `[${list}]`;
      }
    })
    .join(' ');
}
