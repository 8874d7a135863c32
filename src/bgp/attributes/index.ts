/**
 * Path attributes (RFC 4271 §4.3): each is Flags (1) | Type code (1) | Length (1, or 2 with the Extended Length
 * flag) | Value. Malformed attributes follow RFC 7606: most make the UPDATE "treat-as-withdraw", a few are
 * discarded ("attribute-discard"), and only a broken MP_REACH/MP_UNREACH (the NLRI can no longer be located)
 * fails the whole UPDATE.
 */
import { decodeAsPath, isValidAsPath, mergeAs4Path } from './as-path.js';
import { decodeCommunities, decodeExtendedCommunities, decodeLargeCommunities } from './communities.js';
import { decodeMpReach, decodeMpUnreach, type AddPathChooser } from './mp-reach.js';
import type { AttributeAction, AttributeWarning, PathAttributes, RawAttribute } from '../types.js';
import { formatIPv4 } from '../../model/address.js';
import { decodeError, type DecodeError } from '../../wire/decode-error.js';

export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

const FLAG_OPTIONAL = 0x80;
const FLAG_TRANSITIVE = 0x40;
const FLAG_EXTENDED_LENGTH = 0x10;
const AS_TRANS = 23456;

/** Expected Optional/Transitive bits and the RFC 7606 §7 action when a known attribute is malformed. */
const KNOWN: Record<number, { flags: number; action: AttributeAction }> = {
  [ATTR.ORIGIN]: { flags: FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.AS_PATH]: { flags: FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.NEXT_HOP]: { flags: FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.MULTI_EXIT_DISC]: { flags: FLAG_OPTIONAL, action: 'treat-as-withdraw' },
  [ATTR.LOCAL_PREF]: { flags: FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.ATOMIC_AGGREGATE]: { flags: FLAG_TRANSITIVE, action: 'attribute-discard' },
  [ATTR.AGGREGATOR]: { flags: FLAG_OPTIONAL | FLAG_TRANSITIVE, action: 'attribute-discard' },
  [ATTR.COMMUNITIES]: { flags: FLAG_OPTIONAL | FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.ORIGINATOR_ID]: { flags: FLAG_OPTIONAL, action: 'treat-as-withdraw' },
  [ATTR.CLUSTER_LIST]: { flags: FLAG_OPTIONAL, action: 'treat-as-withdraw' },
  [ATTR.EXTENDED_COMMUNITIES]: { flags: FLAG_OPTIONAL | FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
  [ATTR.AS4_PATH]: { flags: FLAG_OPTIONAL | FLAG_TRANSITIVE, action: 'attribute-discard' }, // RFC 6793 §6
  [ATTR.AS4_AGGREGATOR]: { flags: FLAG_OPTIONAL | FLAG_TRANSITIVE, action: 'attribute-discard' },
  [ATTR.LARGE_COMMUNITY]: { flags: FLAG_OPTIONAL | FLAG_TRANSITIVE, action: 'treat-as-withdraw' },
};

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export interface AttributeDecodeInput {
  /** ASN width the bytes are expected to use (BMP A flag / negotiated 4-octet AS). */
  readonly fourOctetAs: boolean;
  readonly addPath: AddPathChooser;
}

export interface DecodedAttributes {
  readonly attributes: PathAttributes;
  readonly warnings: AttributeWarning[];
  readonly asWidthFallbacks: number;
  /** Set when the attribute list itself is broken; NLRI in it (MP_REACH) could not be read. */
  readonly overrun: boolean;
  /**
   * The attribute bytes minus the NLRI inside MP_REACH/MP_UNREACH: equal keys mean equal attributes, so the RIB
   * can store each distinct attribute set once without comparing decoded objects.
   */
  readonly key: string;
  /** Attribute type codes present on the wire, valid or not (for mandatory-attribute and End-of-RIB checks). */
  readonly present: ReadonlySet<number>;
}

/** Decode [start, end). Returns a DecodeError only when MP_REACH/MP_UNREACH is malformed (RFC 7606 §7.3). */
export function decodePathAttributes(buf: Buffer, start: number, end: number, input: AttributeDecodeInput): DecodedAttributes | DecodeError {
  const attributes: PathAttributes = {};
  const warnings: AttributeWarning[] = [];
  const seen = nextSeenStamp();
  let asWidthFallbacks = 0;
  let overrun = false;
  let key = '';
  let keyFrom = start;
  const present = new Set<number>();
  const warn = (code: number, action: AttributeAction, offset: number, detail: string): void => {
    warnings.push({ code, action, offset, detail });
  };

  let pos = start;
  while (pos < end) {
    const attrStart = pos;
    if (end - pos < 3) {
      warn(0, 'treat-as-withdraw', pos, `attribute header needs 3 bytes, ${end - pos} left`);
      overrun = true;
      break;
    }
    const flags = buf[pos];
    const code = buf[pos + 1];
    const extended = (flags & FLAG_EXTENDED_LENGTH) !== 0;
    if (extended && end - pos < 4) {
      warn(code, 'treat-as-withdraw', pos, 'extended-length attribute header needs 4 bytes');
      overrun = true;
      break;
    }
    const length = extended ? buf.readUInt16BE(pos + 2) : buf[pos + 2];
    const valueStart = pos + (extended ? 4 : 3);
    const valueEnd = valueStart + length;
    if (valueEnd > end) {
      // RFC 7606 §3(j): the NLRI of a broken MP attribute cannot be located, so treat-as-withdraw is impossible.
      if (code === ATTR.MP_REACH_NLRI || code === ATTR.MP_UNREACH_NLRI) {
        return decodeError('bgp', 'bad-attribute', attrStart, `attribute ${code} length ${length} overruns the path attributes by ${valueEnd - end} bytes`);
      }
      // RFC 7606 §4: an attribute that overruns the attribute list → treat-as-withdraw.
      warn(code, 'treat-as-withdraw', attrStart, `attribute ${code} length ${length} overruns the path attributes by ${valueEnd - end} bytes`);
      overrun = true;
      break;
    }
    pos = valueEnd;
    present.add(code);

    const isMp = code === ATTR.MP_REACH_NLRI || code === ATTR.MP_UNREACH_NLRI;
    if (isMp) {
      key += buf.toString('latin1', keyFrom, attrStart);
      // Keep AFI, SAFI and the next hop of MP_REACH (they are attributes of the routes); drop the NLRI.
      if (code === ATTR.MP_REACH_NLRI && length >= 4) key += `|${buf.toString('latin1', valueStart, Math.min(valueEnd, valueStart + 4 + buf[valueStart + 3]))}|`;
      keyFrom = valueEnd;
    }
    if (seenStamps[code] === seen) {
      // RFC 7606 §3(g): a repeated MP attribute is fatal; any other repeat is discarded.
      if (isMp) return decodeError('bgp', 'bad-attribute', attrStart, `attribute ${code} appears twice`);
      warn(code, 'attribute-discard', attrStart, `duplicate attribute ${code} discarded`);
      continue;
    }
    seenStamps[code] = seen;

    const known = KNOWN[code];
    if (known && (flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== known.flags) {
      warn(code, known.action, attrStart, `attribute ${code} flags 0x${flags.toString(16)} conflict with its definition`);
      continue;
    }

    const problem = decodeOne(buf, code, flags, valueStart, valueEnd, attributes, input);
    if (problem === null) continue;
    if (problem === 'as-width-fallback') {
      asWidthFallbacks++;
      continue;
    }
    if (isMp) return decodeError('bgp', 'bad-attribute', attrStart, problem);
    warn(code, known?.action ?? 'attribute-discard', attrStart, problem);
  }

  mergeAs4(attributes, input.fourOctetAs);
  key += buf.toString('latin1', keyFrom, Math.min(pos, end));
  return { attributes, warnings, asWidthFallbacks, overrun, key, present };
}

/** Which attribute codes this UPDATE has shown, without a Set per message: a stamp per code, bumped per call. */
const seenStamps = new Uint32Array(256);
let seenStamp = 0;
function nextSeenStamp(): number {
  seenStamp = (seenStamp + 1) >>> 0;
  if (seenStamp === 0) {
    seenStamps.fill(0);
    seenStamp = 1;
  }
  return seenStamp;
}

type DecodeOutcome = null | 'as-width-fallback' | string;

function decodeOne(
  buf: Buffer,
  code: number,
  flags: number,
  start: number,
  end: number,
  attributes: PathAttributes,
  input: AttributeDecodeInput,
): DecodeOutcome {
  const length = end - start;
  switch (code) {
    case ATTR.ORIGIN:
      if (length !== 1 || buf[start] > 2) return `ORIGIN must be 1 byte of 0-2, got ${length} bytes`;
      attributes.origin = ORIGINS[buf[start]];
      return null;
    case ATTR.AS_PATH:
    case ATTR.AS4_PATH: {
      const preferred: 2 | 4 = code === ATTR.AS4_PATH || input.fourOctetAs ? 4 : 2;
      let width = preferred;
      if (!isValidAsPath(buf, start, end, width)) {
        const other: 2 | 4 = width === 4 ? 2 : 4;
        if (code === ATTR.AS4_PATH || !isValidAsPath(buf, start, end, other)) return `malformed ${code === ATTR.AS_PATH ? 'AS_PATH' : 'AS4_PATH'}`;
        width = other;
      }
      const segments = decodeAsPath(buf, start, end, width);
      if (code === ATTR.AS_PATH) attributes.asPath = segments;
      else attributes.as4Path = segments;
      return width === preferred ? null : 'as-width-fallback';
    }
    case ATTR.NEXT_HOP:
      if (length !== 4) return `NEXT_HOP must be 4 bytes, got ${length}`;
      attributes.nextHop = formatIPv4(buf, start);
      return null;
    case ATTR.MULTI_EXIT_DISC:
      if (length !== 4) return `MULTI_EXIT_DISC must be 4 bytes, got ${length}`;
      attributes.med = buf.readUInt32BE(start);
      return null;
    case ATTR.LOCAL_PREF:
      if (length !== 4) return `LOCAL_PREF must be 4 bytes, got ${length}`;
      attributes.localPref = buf.readUInt32BE(start);
      return null;
    case ATTR.ATOMIC_AGGREGATE:
      if (length !== 0) return `ATOMIC_AGGREGATE must be empty, got ${length} bytes`;
      attributes.atomicAggregate = true;
      return null;
    case ATTR.AGGREGATOR: {
      // 6 bytes with 2-octet ASNs, 8 with 4-octet; the length tells which (RFC 6793 §3).
      if (length !== 6 && length !== 8) return `AGGREGATOR must be 6 or 8 bytes, got ${length}`;
      const asBytes = length - 4;
      attributes.aggregator = { as: asBytes === 4 ? buf.readUInt32BE(start) : buf.readUInt16BE(start), address: formatIPv4(buf, start + asBytes) };
      return (asBytes === 4) === input.fourOctetAs ? null : 'as-width-fallback';
    }
    case ATTR.AS4_AGGREGATOR:
      if (length !== 8) return `AS4_AGGREGATOR must be 8 bytes, got ${length}`;
      attributes.as4Aggregator = { as: buf.readUInt32BE(start), address: formatIPv4(buf, start + 4) };
      return null;
    case ATTR.COMMUNITIES: {
      const values = decodeCommunities(buf, start, end);
      if (typeof values === 'string') return values;
      attributes.communities = values;
      return null;
    }
    case ATTR.ORIGINATOR_ID:
      if (length !== 4) return `ORIGINATOR_ID must be 4 bytes, got ${length}`;
      attributes.originatorId = formatIPv4(buf, start);
      return null;
    case ATTR.CLUSTER_LIST: {
      if (length === 0 || length % 4 !== 0) return `CLUSTER_LIST length ${length} is not a positive multiple of 4`;
      const ids: string[] = [];
      for (let pos = start; pos < end; pos += 4) ids.push(formatIPv4(buf, pos));
      attributes.clusterList = ids;
      return null;
    }
    case ATTR.MP_REACH_NLRI: {
      const reach = decodeMpReach(buf, start, end, input.addPath);
      if (typeof reach === 'string') return reach;
      attributes.mpReach = reach;
      return null;
    }
    case ATTR.MP_UNREACH_NLRI: {
      const unreach = decodeMpUnreach(buf, start, end, input.addPath);
      if (typeof unreach === 'string') return unreach;
      attributes.mpUnreach = unreach;
      return null;
    }
    case ATTR.EXTENDED_COMMUNITIES: {
      const values = decodeExtendedCommunities(buf, start, end);
      if (typeof values === 'string') return values;
      attributes.extendedCommunities = values;
      return null;
    }
    case ATTR.LARGE_COMMUNITY: {
      const values = decodeLargeCommunities(buf, start, end);
      if (typeof values === 'string') return values;
      attributes.largeCommunities = values;
      return null;
    }
    default: {
      const raw: RawAttribute = { code, flags, hex: buf.toString('hex', start, end) };
      (attributes.unknown ??= []).push(raw);
      return null;
    }
  }
}

/**
 * RFC 6793 §4.2.3: with 2-octet ASNs on the wire, the real path is the merge of AS_PATH and AS4_PATH, and an
 * AGGREGATOR of AS_TRANS is replaced by AS4_AGGREGATOR. Between 4-octet speakers AS4_* must be ignored.
 */
function mergeAs4(attributes: PathAttributes, fourOctetAs: boolean): void {
  if (fourOctetAs) return;
  // §4.2.3: an AGGREGATOR other than AS_TRANS means the AS4_* attributes are stale and must be ignored.
  if (attributes.aggregator && attributes.aggregator.as !== AS_TRANS) return;
  if (attributes.as4Aggregator && attributes.aggregator?.as === AS_TRANS) attributes.aggregator = attributes.as4Aggregator;
  if (attributes.as4Path && attributes.asPath) attributes.asPath = mergeAs4Path(attributes.asPath, attributes.as4Path);
}
