/**
 * BGP UPDATE scan (RFC 4271 §4.3), after the 19-byte header:
 *
 *   Withdrawn Routes Length (2) | Withdrawn Routes | Total Path Attribute Length (2) | Path Attributes | NLRI
 *
 * The scan is the decoder: it checks every length, flag, segment and prefix, applies RFC 7606 (treat-as-withdraw,
 * attribute-discard, the few fatal cases) and the ADD-PATH and AS-width checks against the bytes, and records the
 * result in a reused UpdateScan: numbers for the fixed-size attributes, byte ranges for the variable ones, and an
 * index of every prefix (bytes + length, the compact form). It allocates nothing on the good path. update.ts turns
 * a scan into the JSON-safe BgpUpdate the rest of bmpwatch uses; a consumer that needs only some fields reads
 * them from the scan and the bytes.
 */
import { isValidAsPath } from './attributes/as-path.js';
import { ATTR, KNOWN_ATTRIBUTE_ACTION, KNOWN_ATTRIBUTE_FLAGS } from './attributes/codes.js';
import { chooseAddPathLayout, indexNlriBlock, lastIndexOddities, NlriSection, PrefixIndex } from './nlri.js';
import { directionalKey, type Direction, type SessionContext } from './session-context.js';
import { AFI_IPV4, AFI_IPV6, SAFI_MULTICAST, SAFI_UNICAST, type AttributeAction, type AttributeWarning } from './types.js';
import { decodeError, truncated, type DecodeError } from '../wire/decode-error.js';
import {
  REC_ADDPATH_FALLBACKS,
  REC_ASWIDTH_FALLBACKS,
  REC_ATTR_COUNT,
  REC_ATTRS_END,
  REC_ATTRS_START,
  REC_EOR,
  REC_HEADER,
  REC_LOCAL_PREF,
  REC_MED,
  REC_ORIGIN,
  REC_PREFIX_COUNT,
  REC_PREFIX_AT,
  REC_REACH,
  REC_SECTIONS,
  REC_UNREACH,
  REC_UPDATE_END,
  REC_UPDATE_START,
  REC_WIDTHS,
} from '../bmp/fast-scan.js';

export interface UpdateScanOptions {
  readonly session: SessionContext;
  readonly direction: Direction;
  /** ASN width on the wire: the BMP A flag (RFC 7854 §4.2), else the negotiation. */
  readonly fourOctetAs: boolean;
}

const FLAG_OPTIONAL = 0x80;
const FLAG_TRANSITIVE = 0x40;
const FLAG_EXTENDED_LENGTH = 0x10;

/** State of an attribute code in the current UPDATE (valid only where `attributeStamp[code]` is the scan's stamp). */
export const ATTRIBUTE_VALID = 1;
/** Present but malformed or with conflicting flags: a warning says what was done about it. */
export const ATTRIBUTE_REJECTED = 2;

/** Where the NLRI of an MP attribute are, when its AFI/SAFI is one we decode (IPv4/IPv6 unicast or multicast). */
function decodedFamily(afi: number, safi: number): number {
  if (safi !== SAFI_UNICAST && safi !== SAFI_MULTICAST) return -1;
  if (afi === AFI_IPV4) return 0;
  if (afi === AFI_IPV6) return 1;
  return -1;
}

export class UpdateScan {
  /** The UPDATE's bytes: every offset below is into this buffer. */
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  /** ASN width on the wire, from the scan's options (materializing needs it for the AS4_PATH merge). */
  fourOctetAs = true;

  readonly prefixes = new PrefixIndex();
  /** Withdrawn Routes field (IPv4 unicast). */
  readonly withdrawnRoutes = new NlriSection();
  /** NLRI field (IPv4 unicast). */
  readonly nlri = new NlriSection();
  readonly mpReachNlri = new NlriSection();
  readonly mpUnreachNlri = new NlriSection();

  attributesStart = 0;
  attributesEnd = 0;
  /** Where the attribute walk stopped: attributesEnd, or the start of an attribute that overran the list. */
  attributesStop = 0;

  /** Per attribute code: `stamp` marks codes seen in this UPDATE; the rest hold the first occurrence. */
  readonly attributeStamp = new Uint32Array(256);
  readonly attributeState = new Uint8Array(256);
  readonly attributeHeader = new Int32Array(256);
  readonly attributeValueStart = new Int32Array(256);
  readonly attributeValueEnd = new Int32Array(256);
  /** Distinct attribute codes on the wire, in wire order (first occurrences). */
  readonly attributeOrder = new Uint8Array(256);
  attributeCount = 0;
  stamp = 0;

  // Fixed-size attributes, decoded (meaningful when the attribute's state is ATTRIBUTE_VALID).
  origin = 0;
  med = 0;
  localPref = 0;
  /** ASN width used for AS_PATH and AS4_PATH, after checking the bytes (2 or 4). */
  asPathWidth = 4;
  as4PathWidth = 4;
  mpReachAfi = 0;
  mpReachSafi = 0;
  /** 0 IPv4, 1 IPv6, -1 a family kept raw. */
  mpReachFamily = -1;
  mpReachNextHopStart = 0;
  mpReachNextHopLength = 0;
  mpReachNlriStart = 0;
  mpUnreachAfi = 0;
  mpUnreachSafi = 0;
  mpUnreachFamily = -1;
  mpUnreachNlriStart = 0;

  /**
   * ADD-PATH layouts the bytes showed in this UPDATE (directional family key → with path ids), applied to the
   * session only when the UPDATE decodes: a broken message must not change how the next one is read.
   */
  readonly observedKeys = new Int32Array(4);
  readonly observedLayouts = new Uint8Array(4);
  observedCount = 0;

  readonly warnings: AttributeWarning[] = [];
  treatAsWithdraw = false;
  addPathFallbacks = 0;
  asWidthFallbacks = 0;
  /** End-of-RIB marker (RFC 4724 §2): AFI and SAFI, or 0 when this UPDATE is not one. */
  endOfRibAfi = 0;
  endOfRibSafi = 0;

  has(code: number): boolean {
    return this.attributeStamp[code] === this.stamp;
  }

  valid(code: number): boolean {
    return this.attributeStamp[code] === this.stamp && this.attributeState[code] === ATTRIBUTE_VALID;
  }

  /** Prefixes announced, all families (zero under treat-as-withdraw, when they count as withdrawn). */
  get announcedCount(): number {
    return this.treatAsWithdraw ? 0 : this.nlri.count + this.mpReachNlri.count;
  }

  get withdrawnCount(): number {
    const withdrawn = this.withdrawnRoutes.count + this.mpUnreachNlri.count;
    return this.treatAsWithdraw ? withdrawn + this.nlri.count + this.mpReachNlri.count : withdrawn;
  }

  reset(buf: Buffer, start: number, end: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.prefixes.count = 0;
    this.withdrawnRoutes.reset();
    this.nlri.reset();
    this.mpReachNlri.reset();
    this.mpUnreachNlri.reset();
    this.attributeCount = 0;
    this.observedCount = 0;
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.attributeStamp.fill(0);
      this.stamp = 1;
    }
    if (this.warnings.length > 0) this.warnings.length = 0;
    this.treatAsWithdraw = false;
    this.addPathFallbacks = 0;
    this.asWidthFallbacks = 0;
    this.endOfRibAfi = 0;
    this.endOfRibSafi = 0;
    this.asPathWidth = 4;
    this.as4PathWidth = 4;
    this.mpReachFamily = -1;
    this.mpUnreachFamily = -1;
  }

  warn(code: number, action: AttributeAction, offset: number, detail: string): void {
    this.warnings.push({ code, action, offset, detail });
    if (action === 'treat-as-withdraw') this.treatAsWithdraw = true;
  }
}

/** Scan the UPDATE body [start, end) into `scan`. Returns an error only when the UPDATE cannot be used at all. */
export function scanUpdate(buf: Buffer, start: number, end: number, options: UpdateScanOptions, scan: UpdateScan): DecodeError | null {
  scan.reset(buf, start, end);
  scan.fourOctetAs = options.fourOctetAs;
  if (end - start < 4) return truncated('bgp', start, 'UPDATE', 4, end - start);
  const withdrawnLength = (buf[start] << 8) | buf[start + 1];
  const withdrawnStart = start + 2;
  const withdrawnEnd = withdrawnStart + withdrawnLength;
  if (withdrawnEnd + 2 > end) {
    return decodeError('bgp', 'length-mismatch', start, `withdrawn routes length ${withdrawnLength} overruns the UPDATE`);
  }
  const attributesLength = (buf[withdrawnEnd] << 8) | buf[withdrawnEnd + 1];
  const attributesStart = withdrawnEnd + 2;
  const attributesEnd = attributesStart + attributesLength;
  if (attributesEnd > end) {
    return decodeError('bgp', 'length-mismatch', withdrawnEnd, `path attribute length ${attributesLength} overruns the UPDATE`);
  }
  scan.attributesStart = attributesStart;
  scan.attributesEnd = attributesEnd;

  if (withdrawnStart < withdrawnEnd) {
    const bad = indexBlock(buf, withdrawnStart, withdrawnEnd, AFI_IPV4, SAFI_UNICAST, 0, options, scan, scan.withdrawnRoutes);
    if (bad >= 0) return decodeError('bgp', 'bad-prefix-length', bad, 'malformed prefix in Withdrawn Routes');
  }

  const fatal = scanAttributes(buf, attributesStart, attributesEnd, options, scan);
  if (fatal) return fatal;

  if (attributesEnd < end) {
    const bad = indexBlock(buf, attributesEnd, end, AFI_IPV4, SAFI_UNICAST, 0, options, scan, scan.nlri);
    if (bad >= 0) return decodeError('bgp', 'bad-prefix-length', bad, 'malformed prefix in NLRI');
  }

  if (scan.nlri.count + scan.mpReachNlri.count > 0) checkMandatory(scan, attributesEnd);
  detectEndOfRib(scan, attributesLength);
  if (scan.observedCount > 0) {
    for (let i = 0; i < scan.observedCount; i++) options.session.observedAddPath.set(scan.observedKeys[i], scan.observedLayouts[i] === 1);
    observedAddPathChanges++;
  }
  return null;
}

/**
 * How often a scan changed a session's remembered ADD-PATH layouts (a live counter): the WebAssembly fast path
 * keeps a copy of them per peer and must drop it when this moves (see BmpSessionDecoder.scanFrames).
 */
export let observedAddPathChanges = 0;

/**
 * Fill `scan` from a fast-path record (src/bmp/fast-scan.ts REC_*) of a message the WebAssembly scan accepted:
 * the same fields scanUpdate would have set, with offsets into `buf` (the frame). Accepted messages have no
 * warnings, no rejected attribute and no remembered layout to change.
 */
export function fillUpdateScan(scan: UpdateScan, buf: Buffer, fourOctetAs: boolean, i32: Int32Array, u32: Uint32Array, at: number, prefixesAt: number): void {
  scan.reset(buf, i32[at + REC_UPDATE_START], i32[at + REC_UPDATE_END]);
  scan.fourOctetAs = fourOctetAs;
  scan.attributesStart = i32[at + REC_ATTRS_START];
  scan.attributesEnd = i32[at + REC_ATTRS_END];
  scan.attributesStop = scan.attributesEnd;
  scan.origin = i32[at + REC_ORIGIN];
  scan.med = u32[at + REC_MED];
  scan.localPref = u32[at + REC_LOCAL_PREF];
  const widths = i32[at + REC_WIDTHS];
  scan.asPathWidth = widths & 0xff;
  scan.as4PathWidth = (widths >> 8) & 0xff;
  const reach = at + REC_REACH;
  scan.mpReachAfi = i32[reach];
  scan.mpReachSafi = i32[reach + 1];
  scan.mpReachFamily = i32[reach + 2];
  scan.mpReachNextHopStart = i32[reach + 3];
  scan.mpReachNextHopLength = i32[reach + 4];
  scan.mpReachNlriStart = i32[reach + 5];
  const unreach = at + REC_UNREACH;
  scan.mpUnreachAfi = i32[unreach];
  scan.mpUnreachSafi = i32[unreach + 1];
  scan.mpUnreachFamily = i32[unreach + 2];
  scan.mpUnreachNlriStart = i32[unreach + 3];
  scan.endOfRibAfi = i32[at + REC_EOR];
  scan.endOfRibSafi = i32[at + REC_EOR + 1];
  scan.addPathFallbacks = i32[at + REC_ADDPATH_FALLBACKS];
  scan.asWidthFallbacks = i32[at + REC_ASWIDTH_FALLBACKS];
  fillSection(scan.withdrawnRoutes, i32, at + REC_SECTIONS);
  fillSection(scan.nlri, i32, at + REC_SECTIONS + 3);
  fillSection(scan.mpReachNlri, i32, at + REC_SECTIONS + 6);
  fillSection(scan.mpUnreachNlri, i32, at + REC_SECTIONS + 9);
  const stamp = scan.stamp;
  const attributes = i32[at + REC_ATTR_COUNT];
  for (let k = 0; k < attributes; k++) {
    const entry = at + REC_HEADER + 4 * k;
    const code = i32[entry];
    scan.attributeStamp[code] = stamp;
    scan.attributeState[code] = ATTRIBUTE_VALID;
    scan.attributeHeader[code] = i32[entry + 1];
    scan.attributeValueStart[code] = i32[entry + 2];
    scan.attributeValueEnd[code] = i32[entry + 3];
    scan.attributeOrder[k] = code;
  }
  scan.attributeCount = attributes;
  const prefixes = i32[at + REC_PREFIX_COUNT];
  const first = prefixesAt + i32[at + REC_PREFIX_AT];
  const index = scan.prefixes;
  index.reserve(prefixes);
  for (let k = 0; k < prefixes; k++) {
    index.offsets[k] = i32[first + 2 * k];
    index.pathIds[k] = u32[first + 2 * k + 1];
  }
  index.count = prefixes;
}

/**
 * Choose the path-id layout of a non-empty block (remembering what the bytes showed, counting contradictions of
 * the negotiation) and index its prefixes. Returns -1, or the offset of a malformed entry.
 */
function indexBlock(
  buf: Buffer,
  start: number,
  end: number,
  afi: number,
  safi: number,
  family: number,
  options: UpdateScanOptions,
  scan: UpdateScan,
  section: NlriSection,
): number {
  const { session, direction } = options;
  const key = directionalKey(direction, afi, safi);
  const negotiated = direction === 'from-peer' ? session.addPathFromPeer : session.addPathToPeer;
  const expected = negotiated.size > 0 && negotiated.has(key & 0xffff);
  const observed = session.observedAddPath;
  let previous = observed.size === 0 ? undefined : observed.get(key);
  let pending = -1;
  for (let i = 0; i < scan.observedCount; i++) {
    if (scan.observedKeys[i] === key) {
      pending = i;
      previous = scan.observedLayouts[i] === 1;
    }
  }
  const ipv6 = family === 1;
  const first = scan.prefixes.count;
  section.first = first;
  section.ipv6 = ipv6;
  // Index with the negotiated layout; only if the bytes look odd that way (or did last time) weigh the other one.
  let bad = indexNlriBlock(buf, start, end, ipv6, expected, scan.prefixes);
  let withPathId = expected;
  if (bad >= 0 || lastIndexOddities > 0 || previous === !expected) {
    withPathId = chooseAddPathLayout(buf, start, end, ipv6, expected, previous);
    if (withPathId !== expected || bad >= 0) {
      scan.prefixes.count = first;
      bad = indexNlriBlock(buf, start, end, ipv6, withPathId, scan.prefixes);
    }
  }
  if (withPathId !== expected) scan.addPathFallbacks++;
  // Only what contradicts the negotiation is worth remembering (a missing entry means "as negotiated").
  if (previous !== withPathId && (previous !== undefined || withPathId !== expected)) {
    const at = pending >= 0 ? pending : scan.observedCount++;
    scan.observedKeys[at] = key;
    scan.observedLayouts[at] = withPathId ? 1 : 0;
  }
  section.pathIds = withPathId;
  section.count = scan.prefixes.count - first;
  return bad;
}

/**
 * Path attributes (RFC 4271 §4.3): Flags (1) | Type code (1) | Length (1, or 2 with Extended Length) | Value.
 * Malformed attributes follow RFC 7606: most make the UPDATE treat-as-withdraw, a few are discarded, and only a
 * broken MP_REACH/MP_UNREACH (its NLRI can no longer be located) fails the whole UPDATE.
 */
function scanAttributes(buf: Buffer, start: number, end: number, options: UpdateScanOptions, scan: UpdateScan): DecodeError | null {
  const stamp = scan.stamp;
  const stamps = scan.attributeStamp;
  let pos = start;
  while (pos < end) {
    const attrStart = pos;
    if (end - pos < 3) {
      scan.warn(0, 'treat-as-withdraw', pos, `attribute header needs 3 bytes, ${end - pos} left`);
      break;
    }
    const flags = buf[pos];
    const code = buf[pos + 1];
    const extended = (flags & FLAG_EXTENDED_LENGTH) !== 0;
    if (extended && end - pos < 4) {
      scan.warn(code, 'treat-as-withdraw', pos, 'extended-length attribute header needs 4 bytes');
      break;
    }
    const length = extended ? (buf[pos + 2] << 8) | buf[pos + 3] : buf[pos + 2];
    const valueStart = pos + (extended ? 4 : 3);
    const valueEnd = valueStart + length;
    const isMp = code === ATTR.MP_REACH_NLRI || code === ATTR.MP_UNREACH_NLRI;
    if (valueEnd > end) {
      // RFC 7606 §3(j): the NLRI of a broken MP attribute cannot be located, so treat-as-withdraw is impossible.
      const detail = `attribute ${code} length ${length} overruns the path attributes by ${valueEnd - end} bytes`;
      if (isMp) return decodeError('bgp', 'bad-attribute', attrStart, detail);
      // RFC 7606 §4: an attribute that overruns the attribute list → treat-as-withdraw.
      scan.warn(code, 'treat-as-withdraw', attrStart, detail);
      break;
    }
    pos = valueEnd;

    if (stamps[code] === stamp) {
      // RFC 7606 §3(g): a repeated MP attribute is fatal; any other repeat is discarded.
      if (isMp) return decodeError('bgp', 'bad-attribute', attrStart, `attribute ${code} appears twice`);
      scan.warn(code, 'attribute-discard', attrStart, `duplicate attribute ${code} discarded`);
      continue;
    }
    stamps[code] = stamp;
    scan.attributeOrder[scan.attributeCount++] = code;
    scan.attributeHeader[code] = attrStart;
    scan.attributeValueStart[code] = valueStart;
    scan.attributeValueEnd[code] = valueEnd;
    scan.attributeState[code] = ATTRIBUTE_REJECTED;

    const expectedFlags = KNOWN_ATTRIBUTE_FLAGS[code];
    if (expectedFlags >= 0 && (flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== expectedFlags) {
      scan.warn(code, KNOWN_ATTRIBUTE_ACTION[code], attrStart, `attribute ${code} flags 0x${flags.toString(16)} conflict with its definition`);
      continue;
    }

    const problem = checkAttribute(buf, code, valueStart, valueEnd, options, scan);
    if (problem === null) {
      scan.attributeState[code] = ATTRIBUTE_VALID;
      continue;
    }
    if (problem === AS_WIDTH_FALLBACK) {
      scan.attributeState[code] = ATTRIBUTE_VALID;
      scan.asWidthFallbacks++;
      continue;
    }
    if (isMp) return decodeError('bgp', 'bad-attribute', attrStart, problem);
    scan.warn(code, expectedFlags >= 0 ? KNOWN_ATTRIBUTE_ACTION[code] : 'attribute-discard', attrStart, problem);
  }
  scan.attributesStop = Math.min(pos, end);
  return null;
}

const AS_WIDTH_FALLBACK = '\u0000as-width-fallback';

/** Check one attribute's value and record what it says. Returns null, AS_WIDTH_FALLBACK, or what is wrong. */
function checkAttribute(buf: Buffer, code: number, start: number, end: number, options: UpdateScanOptions, scan: UpdateScan): string | null {
  const length = end - start;
  switch (code) {
    case ATTR.ORIGIN:
      if (length !== 1 || buf[start] > 2) return `ORIGIN must be 1 byte of 0-2, got ${length} bytes`;
      scan.origin = buf[start];
      return null;
    case ATTR.AS_PATH:
    case ATTR.AS4_PATH: {
      const preferred = code === ATTR.AS4_PATH || options.fourOctetAs ? 4 : 2;
      let width: 2 | 4 = preferred;
      if (!isValidAsPath(buf, start, end, width)) {
        const other = width === 4 ? 2 : 4;
        if (code === ATTR.AS4_PATH || !isValidAsPath(buf, start, end, other)) return `malformed ${code === ATTR.AS_PATH ? 'AS_PATH' : 'AS4_PATH'}`;
        width = other;
      }
      if (code === ATTR.AS_PATH) scan.asPathWidth = width;
      else scan.as4PathWidth = width;
      return width === preferred ? null : AS_WIDTH_FALLBACK;
    }
    case ATTR.NEXT_HOP:
      return length === 4 ? null : `NEXT_HOP must be 4 bytes, got ${length}`;
    case ATTR.MULTI_EXIT_DISC:
      if (length !== 4) return `MULTI_EXIT_DISC must be 4 bytes, got ${length}`;
      scan.med = buf.readUInt32BE(start);
      return null;
    case ATTR.LOCAL_PREF:
      if (length !== 4) return `LOCAL_PREF must be 4 bytes, got ${length}`;
      scan.localPref = buf.readUInt32BE(start);
      return null;
    case ATTR.ATOMIC_AGGREGATE:
      return length === 0 ? null : `ATOMIC_AGGREGATE must be empty, got ${length} bytes`;
    case ATTR.AGGREGATOR:
      // 6 bytes with 2-octet ASNs, 8 with 4-octet; the length tells which (RFC 6793 §3).
      if (length !== 6 && length !== 8) return `AGGREGATOR must be 6 or 8 bytes, got ${length}`;
      return (length === 8) === options.fourOctetAs ? null : AS_WIDTH_FALLBACK;
    case ATTR.AS4_AGGREGATOR:
      return length === 8 ? null : `AS4_AGGREGATOR must be 8 bytes, got ${length}`;
    case ATTR.COMMUNITIES:
      return length % 4 === 0 ? null : `COMMUNITIES length ${length} is not a multiple of 4`;
    case ATTR.ORIGINATOR_ID:
      return length === 4 ? null : `ORIGINATOR_ID must be 4 bytes, got ${length}`;
    case ATTR.CLUSTER_LIST:
      return length !== 0 && length % 4 === 0 ? null : `CLUSTER_LIST length ${length} is not a positive multiple of 4`;
    case ATTR.MP_REACH_NLRI:
      return scanMpReach(buf, start, end, options, scan);
    case ATTR.MP_UNREACH_NLRI:
      return scanMpUnreach(buf, start, end, options, scan);
    case ATTR.EXTENDED_COMMUNITIES:
      return length % 8 === 0 ? null : `EXTENDED_COMMUNITIES length ${length} is not a multiple of 8`;
    case ATTR.LARGE_COMMUNITY:
      return length !== 0 && length % 12 === 0 ? null : `LARGE_COMMUNITY length ${length} is not a positive multiple of 12`;
    default:
      return null; // kept raw
  }
}

/**
 * MP_REACH_NLRI (RFC 4760 §3): AFI (2) | SAFI (1) | Next hop length (1) | Next hop | Reserved (1) | NLRI.
 * The next hop is formatted when materialized (mp-reach.ts); its length decides the layout.
 */
function scanMpReach(buf: Buffer, start: number, end: number, options: UpdateScanOptions, scan: UpdateScan): string | null {
  if (end - start < 5) return `MP_REACH_NLRI of ${end - start} bytes is shorter than its 5-byte minimum`;
  const afi = (buf[start] << 8) | buf[start + 1];
  const safi = buf[start + 2];
  const nextHopLength = buf[start + 3];
  const nlriStart = start + 4 + nextHopLength + 1; // + reserved byte
  if (nlriStart > end) return `MP_REACH_NLRI next hop length ${nextHopLength} overruns the attribute`;
  scan.mpReachAfi = afi;
  scan.mpReachSafi = safi;
  scan.mpReachNextHopStart = start + 4;
  scan.mpReachNextHopLength = nextHopLength;
  scan.mpReachNlriStart = nlriStart;
  const family = decodedFamily(afi, safi);
  scan.mpReachFamily = family;
  if (family < 0 || nlriStart === end) return null;
  const bad = indexBlock(buf, nlriStart, end, afi, safi, family, options, scan, scan.mpReachNlri);
  return bad < 0 ? null : `MP_REACH_NLRI prefix at offset ${bad} is malformed`;
}

/** MP_UNREACH_NLRI (RFC 4760 §4): AFI (2) | SAFI (1) | Withdrawn routes. */
function scanMpUnreach(buf: Buffer, start: number, end: number, options: UpdateScanOptions, scan: UpdateScan): string | null {
  if (end - start < 3) return `MP_UNREACH_NLRI of ${end - start} bytes is shorter than its 3-byte minimum`;
  const afi = (buf[start] << 8) | buf[start + 1];
  const safi = buf[start + 2];
  scan.mpUnreachAfi = afi;
  scan.mpUnreachSafi = safi;
  scan.mpUnreachNlriStart = start + 3;
  const family = decodedFamily(afi, safi);
  scan.mpUnreachFamily = family;
  if (family < 0 || start + 3 === end) return null;
  const bad = indexBlock(buf, start + 3, end, afi, safi, family, options, scan, scan.mpUnreachNlri);
  return bad < 0 ? null : `MP_UNREACH_NLRI prefix at offset ${bad} is malformed`;
}

/**
 * RFC 7606 §3(d) would make a missing well-known attribute treat-as-withdraw for a BGP speaker; a monitor reports
 * it and keeps the routes (see AttributeAction 'report-only').
 */
function checkMandatory(scan: UpdateScan, offset: number): void {
  const missingOrigin = !scan.has(ATTR.ORIGIN);
  const missingPath = !scan.has(ATTR.AS_PATH);
  const missingNextHop = scan.nlri.count > 0 && !scan.has(ATTR.NEXT_HOP);
  if (!missingOrigin && !missingPath && !missingNextHop) return;
  const missing: string[] = [];
  if (missingOrigin) missing.push('ORIGIN');
  if (missingPath) missing.push('AS_PATH');
  if (missingNextHop) missing.push('NEXT_HOP');
  scan.warnings.push({ code: 0, action: 'report-only', offset, detail: `missing well-known attribute ${missing.join(', ')}` });
}

/**
 * RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4 unicast), or with only an empty MP_UNREACH_NLRI
 * for the family.
 */
function detectEndOfRib(scan: UpdateScan, attributesLength: number): void {
  if (scan.withdrawnRoutes.count > 0 || scan.nlri.count > 0) return;
  if (attributesLength === 0) {
    scan.endOfRibAfi = AFI_IPV4;
    scan.endOfRibSafi = SAFI_UNICAST;
    return;
  }
  const code = ATTR.MP_UNREACH_NLRI;
  if (scan.attributeCount === 1 && scan.valid(code) && scan.attributeValueEnd[code] - scan.attributeValueStart[code] === 3) {
    scan.endOfRibAfi = scan.mpUnreachAfi;
    scan.endOfRibSafi = scan.mpUnreachSafi;
  }
}

/** A record's section entry: first, count, ipv6 | pathIds << 1. */
function fillSection(section: NlriSection, i32: Int32Array, at: number): void {
  section.first = i32[at];
  section.count = i32[at + 1];
  section.ipv6 = (i32[at + 2] & 1) !== 0;
  section.pathIds = (i32[at + 2] & 2) !== 0;
}
