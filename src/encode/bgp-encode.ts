/**
 * BGP-4 message encoders (RFC 4271 and the extensions a route server meets) for table tests, fuzzing and the
 * benchmark stream generator. Every function is pure and returns a fresh Buffer.
 *
 * Encoders throw (RangeError / TypeError) on caller mistakes such as an out-of-range field or an over-long
 * message; the decoders never throw, so the two sides must not share code.
 */

export const BGP_MARKER_BYTES = 16;
export const BGP_HEADER_BYTES = 19;
/** RFC 4271 §4.1 maximum message size. */
export const BGP_MAX_MESSAGE_BYTES = 4096;
/** RFC 8654 §4 maximum once the Extended Message capability is negotiated. */
export const BGP_MAX_EXTENDED_MESSAGE_BYTES = 65535;
/** RFC 6793 §9 placeholder for a 4-octet AS in a 2-octet field. */
export const AS_TRANS = 23456;

/** RFC 4271 §4.1 message types (5 = ROUTE-REFRESH, RFC 2918). */
export const BgpMessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

/** RFC 4271 §4.3 path attribute flag bits. */
export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const AttrCode = {
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

/** Capability codes (IANA "Capability Codes"). */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
} as const;

export const Afi = { IPV4: 1, IPV6: 2 } as const;
export const Safi = { UNICAST: 1, MULTICAST: 2 } as const;

/** RFC 4271 §4.3 AS_PATH segment types; 3 and 4 are the confederation types of RFC 5065 §3. */
export const AsPathSegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;

// ---------------------------------------------------------------------------------------------------------------
// Types

/** A prefix in text form ("10.0.0.0/24", "2001:db8::/64"), with an RFC 7911 path identifier when ADD-PATH is on. */
export interface Nlri {
  readonly prefix: string;
  readonly pathId?: number;
}

export interface AddPathEntry {
  readonly afi: number;
  readonly safi: number;
  /** RFC 7911 §4: 1 = receive, 2 = send, 3 = both. */
  readonly sendReceive: 1 | 2 | 3;
}

export interface GracefulRestartFamily {
  readonly afi: number;
  readonly safi: number;
  readonly forwardingState: boolean;
}

export type Capability =
  | { readonly type: 'multiprotocol'; readonly afi: number; readonly safi: number }
  | { readonly type: 'four-octet-as'; readonly as: number }
  | { readonly type: 'add-path'; readonly entries: readonly AddPathEntry[] }
  | { readonly type: 'route-refresh' }
  | { readonly type: 'extended-message' }
  | {
      readonly type: 'graceful-restart';
      readonly restartTime: number;
      /** The 4 Restart Flags bits (R = 0x8, N = 0x4 per RFC 8538), as a number 0..15. */
      readonly flags?: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  | { readonly type: 'raw'; readonly code: number; readonly value: Buffer };

export interface OpenMessage {
  readonly version?: number;
  readonly myAs: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
}

export interface AsPathSegment {
  readonly type: 1 | 2 | 3 | 4;
  readonly asns: readonly number[];
}

export type Attribute =
  | { readonly type: 'origin'; readonly value: 0 | 1 | 2 }
  | { readonly type: 'as-path'; readonly segments: readonly AsPathSegment[]; readonly fourOctet: boolean }
  | { readonly type: 'as4-path'; readonly segments: readonly AsPathSegment[] }
  | { readonly type: 'next-hop'; readonly address: string }
  | { readonly type: 'med'; readonly value: number }
  | { readonly type: 'local-pref'; readonly value: number }
  | { readonly type: 'atomic-aggregate' }
  | { readonly type: 'aggregator'; readonly as: number; readonly address: string; readonly fourOctet: boolean }
  | { readonly type: 'as4-aggregator'; readonly as: number; readonly address: string }
  | { readonly type: 'communities'; readonly values: readonly number[] }
  | { readonly type: 'originator-id'; readonly id: string }
  | { readonly type: 'cluster-list'; readonly ids: readonly string[] }
  | {
      readonly type: 'mp-reach';
      readonly afi: number;
      readonly safi: number;
      readonly nextHop: string;
      readonly linkLocalNextHop?: string;
      readonly nlri: readonly Nlri[];
      /** Defaults to the enclosing UPDATE's addPath. */
      readonly addPath?: boolean;
    }
  | {
      readonly type: 'mp-unreach';
      readonly afi: number;
      readonly safi: number;
      readonly withdrawn: readonly Nlri[];
      /** Defaults to the enclosing UPDATE's addPath. */
      readonly addPath?: boolean;
    }
  | { readonly type: 'extended-communities'; readonly values: readonly Buffer[] }
  | { readonly type: 'large-communities'; readonly values: readonly (readonly [number, number, number])[] }
  | { readonly type: 'raw'; readonly flags: number; readonly code: number; readonly value: Buffer };

export interface UpdateMessage {
  readonly withdrawn?: readonly Nlri[];
  readonly attributes?: readonly Attribute[];
  readonly nlri?: readonly Nlri[];
  /** RFC 7911: every NLRI carries a 4-byte path identifier (pathId, default 0). */
  readonly addPath?: boolean;
  /** RFC 8654: allow up to 65,535 bytes instead of 4,096. */
  readonly extended?: boolean;
}

export interface NotificationMessage {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
  /** RFC 8654 §4: NOTIFICATION may use the extended size too. */
  readonly extended?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function checkUint(value: number, bits: 8 | 16 | 32, what: string): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer in 0..${max}, got ${value}`);
  }
  return value;
}

function u8(value: number, what: string): Buffer {
  return Buffer.from([checkUint(value, 8, what)]);
}

function u16(value: number, what: string): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(checkUint(value, 16, what), 0);
  return b;
}

function u32(value: number, what: string): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(checkUint(value, 32, what), 0);
  return b;
}

/** Write dotted-quad IPv4 text s[start, end) into out[off..off+4); false if it is not exactly four decimal octets. */
function ipv4Into(s: string, start: number, end: number, out: Buffer, off: number): boolean {
  let octet = 0;
  let digits = 0;
  let index = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else if (c === 46 /* . */ && digits > 0 && index < 3) {
      out[off + index++] = octet;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || index !== 3) return false;
  out[off + 3] = octet;
  return true;
}

/** Parse dotted-quad IPv4 text into 4 bytes. Strict: exactly four decimal octets, nothing else. */
export function parseIpv4(text: string): Buffer {
  const out = Buffer.allocUnsafe(4);
  if (!ipv4Into(text, 0, text.length, out, 0)) throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Write IPv6 text s[0, end) into the 16 bytes of out; false if malformed. Single pass: this is on the generator's hot path. */
function ipv6Into(s: string, end: number, out: Buffer): boolean {
  const words: number[] = [];
  let gap = -1; // number of words before the "::", if any
  let i = 0;
  if (end >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    if (words.length === 8) return false;
    let j = i;
    let v = 0;
    while (j < end) {
      const h = hexDigit(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      j++;
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // Dotted IPv4 tail: must end the address and fit in the last two words.
      if (words.length > 6) return false;
      const v4 = Buffer.allocUnsafe(4);
      if (!ipv4Into(s, i, end, v4, 0)) return false;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      break;
    }
    if (j === i || j - i > 4) return false;
    words.push(v);
    i = j;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = words.length;
      i++;
    } else if (i === end) {
      return false; // a single trailing colon
    }
  }
  // "::" stands for at least one zero word (RFC 4291 §2.2).
  if (gap < 0 ? words.length !== 8 : words.length > 7) return false;
  out.fill(0);
  const tail = gap < 0 ? 0 : words.length - gap;
  for (let k = 0; k < words.length - tail; k++) out.writeUInt16BE(words[k], k * 2);
  for (let k = 0; k < tail; k++) out.writeUInt16BE(words[words.length - tail + k], 16 - (tail - k) * 2);
  return true;
}

/**
 * Parse IPv6 text (RFC 4291 §2.2: hex groups, one optional "::", optional dotted IPv4 tail) into 16 bytes.
 * Zone ids are rejected: they have no wire form.
 */
export function parseIpv6(text: string): Buffer {
  const out = Buffer.allocUnsafe(16);
  if (!ipv6Into(text, text.length, out)) throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return out;
}

/** IPv4 or IPv6 text to 4 or 16 bytes (IPv6 if it contains a colon). */
export function parseIp(text: string): Buffer {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Parse "addr/len" into the address bytes (4 or 16) and the prefix length, checking the length's range. */
export function parsePrefix(text: string): { address: Buffer; length: number } {
  const slash = text.indexOf('/');
  if (slash < 0) throw new TypeError(`prefix without a length: ${JSON.stringify(text)}`);
  const address = parseIp(text.slice(0, slash));
  let length = 0;
  const digits = text.length - slash - 1;
  for (let i = slash + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57 || digits > 3) throw new TypeError(`bad prefix length in ${JSON.stringify(text)}`);
    length = length * 10 + (c - 48);
  }
  if (digits === 0) throw new TypeError(`bad prefix length in ${JSON.stringify(text)}`);
  if (length > address.length * 8) throw new RangeError(`prefix length ${length} too long in ${JSON.stringify(text)}`);
  return { address, length };
}

/**
 * RFC 4271 §4.3 NLRI encoding: 1-byte length in bits, then the fewest whole bytes that hold it; RFC 7911 §3
 * puts a 4-byte Path Identifier in front when ADD-PATH is in use. Host bits in the last byte are zeroed, as a
 * router would send them; pathId is ignored when addPath is false.
 */
export function encodePrefix(nlri: Nlri, addPath: boolean): Buffer {
  const { address, length } = parsePrefix(nlri.prefix);
  const nbytes = (length + 7) >> 3;
  const head = addPath ? 5 : 1;
  const out = Buffer.alloc(head + nbytes);
  if (addPath) out.writeUInt32BE(checkUint(nlri.pathId ?? 0, 32, 'path id'), 0);
  out[head - 1] = length;
  address.copy(out, head, 0, nbytes);
  if (length % 8 !== 0) out[head + nbytes - 1] &= (0xff << (8 - (length % 8))) & 0xff;
  return out;
}

function encodePrefixes(list: readonly Nlri[] | undefined, addPath: boolean): Buffer {
  if (!list || list.length === 0) return Buffer.alloc(0);
  return Buffer.concat(list.map((n) => encodePrefix(n, addPath)));
}

/**
 * RFC 4271 §4.1 message header: 16-byte all-ones marker, 2-byte total length, 1-byte type. The size limit is
 * 4,096 bytes, or 65,535 with the RFC 8654 Extended Message capability.
 */
export function encodeBgpMessage(type: number, body: Buffer, extended = false): Buffer {
  const total = BGP_HEADER_BYTES + body.length;
  const limit = extended ? BGP_MAX_EXTENDED_MESSAGE_BYTES : BGP_MAX_MESSAGE_BYTES;
  if (total > limit) throw new RangeError(`BGP message of ${total} bytes exceeds the ${limit}-byte limit`);
  const out = Buffer.allocUnsafe(total);
  out.fill(0xff, 0, BGP_MARKER_BYTES);
  out.writeUInt16BE(total, 16);
  out[18] = checkUint(type, 8, 'message type');
  body.copy(out, BGP_HEADER_BYTES);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OPEN

/** One capability as its RFC 5492 §4 (code, length, value) triple. */
export function encodeCapability(cap: Capability): Buffer {
  let code: number;
  let value: Buffer;
  switch (cap.type) {
    case 'multiprotocol':
      // RFC 4760 §8: AFI(2), reserved(1), SAFI(1).
      code = CapabilityCode.MULTIPROTOCOL;
      value = Buffer.concat([u16(cap.afi, 'AFI'), Buffer.from([0]), u8(cap.safi, 'SAFI')]);
      break;
    case 'route-refresh':
      // RFC 2918 §2: no value.
      code = CapabilityCode.ROUTE_REFRESH;
      value = Buffer.alloc(0);
      break;
    case 'extended-message':
      // RFC 8654 §3: no value.
      code = CapabilityCode.EXTENDED_MESSAGE;
      value = Buffer.alloc(0);
      break;
    case 'graceful-restart': {
      // RFC 4724 §3: 4 flag bits + 12-bit restart time, then (AFI(2), SAFI(1), flags(1) with F = 0x80) per family.
      code = CapabilityCode.GRACEFUL_RESTART;
      const flags = cap.flags ?? 0;
      if (!Number.isInteger(flags) || flags < 0 || flags > 0xf) throw new RangeError(`graceful-restart flags must be 0..15, got ${flags}`);
      if (!Number.isInteger(cap.restartTime) || cap.restartTime < 0 || cap.restartTime > 0xfff) {
        throw new RangeError(`graceful-restart restart time must be 0..4095, got ${cap.restartTime}`);
      }
      const parts = [u16((flags << 12) | cap.restartTime, 'restart flags/time')];
      for (const f of cap.families) {
        parts.push(u16(f.afi, 'AFI'), u8(f.safi, 'SAFI'), Buffer.from([f.forwardingState ? 0x80 : 0]));
      }
      value = Buffer.concat(parts);
      break;
    }
    case 'four-octet-as':
      // RFC 6793 §9: the 4-octet AS number.
      code = CapabilityCode.FOUR_OCTET_AS;
      value = u32(cap.as, 'AS number');
      break;
    case 'add-path':
      // RFC 7911 §4: (AFI(2), SAFI(1), Send/Receive(1)) per family.
      code = CapabilityCode.ADD_PATH;
      value = Buffer.concat(cap.entries.flatMap((e) => [u16(e.afi, 'AFI'), u8(e.safi, 'SAFI'), u8(e.sendReceive, 'send/receive')]));
      break;
    case 'raw':
      code = cap.code;
      value = cap.value;
      break;
  }
  if (value.length > 255) throw new RangeError(`capability ${code} value of ${value.length} bytes exceeds 255`);
  return Buffer.concat([u8(code, 'capability code'), Buffer.from([value.length]), value]);
}

/**
 * RFC 4271 §4.2 OPEN: version, My AS (AS_TRANS when the AS needs 4 octets, RFC 6793 §4.1), hold time, BGP
 * Identifier, then optional parameters. Each capability gets its own type-2 parameter (RFC 5492 §4), as FRR does.
 */
export function encodeOpen(open: OpenMessage): Buffer {
  checkUint(open.myAs, 32, 'My AS');
  const params = open.capabilities.map((cap) => {
    const c = encodeCapability(cap);
    if (c.length > 255) throw new RangeError(`capability parameter of ${c.length} bytes exceeds 255`);
    return Buffer.concat([Buffer.from([2, c.length]), c]);
  });
  const optional = Buffer.concat(params);
  // RFC 9072 extended optional parameters are not produced: the 1-byte length must hold.
  if (optional.length > 255) throw new RangeError(`optional parameters of ${optional.length} bytes exceed 255`);
  const body = Buffer.concat([
    u8(open.version ?? 4, 'version'),
    u16(open.myAs > 0xffff ? AS_TRANS : open.myAs, 'My AS'),
    u16(open.holdTime, 'hold time'),
    parseIpv4(open.bgpId),
    Buffer.from([optional.length]),
    optional,
  ]);
  return encodeBgpMessage(BgpMessageType.OPEN, body);
}

// ---------------------------------------------------------------------------------------------------------------
// UPDATE

function encodeSegments(segments: readonly AsPathSegment[], fourOctet: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    // RFC 4271 §4.3: the segment length counts ASes in one byte; callers split longer paths themselves.
    if (seg.asns.length > 255) throw new RangeError(`AS_PATH segment of ${seg.asns.length} ASes exceeds 255`);
    const b = Buffer.allocUnsafe(2 + seg.asns.length * (fourOctet ? 4 : 2));
    b[0] = checkUint(seg.type, 8, 'segment type');
    b[1] = seg.asns.length;
    seg.asns.forEach((asn, i) => {
      checkUint(asn, 32, 'AS number');
      // RFC 6793 §4.2.2: a 4-octet AS in a 2-octet path is written as AS_TRANS.
      if (fourOctet) b.writeUInt32BE(asn, 2 + i * 4);
      else b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + i * 2);
    });
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function mpNextHop(nextHop: string, linkLocal: string | undefined): Buffer {
  // RFC 4760 §3 next hop; RFC 2545 §3: an IPv6 global address may be followed by a link-local one (32 bytes).
  const global = nextHop === '' ? Buffer.alloc(0) : parseIp(nextHop);
  if (linkLocal === undefined) return global;
  return Buffer.concat([global, parseIpv6(linkLocal)]);
}

/** The (flags, code, value) of one attribute before the length is chosen. RFC 4271 §4.3 and §5.1. */
function attributeParts(attr: Attribute, addPathDefault: boolean): { flags: number; code: number; value: Buffer } {
  const WELL_KNOWN = AttrFlag.TRANSITIVE; // RFC 4271 §4.3: well-known attributes are transitive, not optional
  const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
  const OPT_NON_TRANS = AttrFlag.OPTIONAL;
  switch (attr.type) {
    case 'origin':
      return { flags: WELL_KNOWN, code: AttrCode.ORIGIN, value: u8(attr.value, 'ORIGIN') };
    case 'as-path':
      return { flags: WELL_KNOWN, code: AttrCode.AS_PATH, value: encodeSegments(attr.segments, attr.fourOctet) };
    case 'as4-path':
      // RFC 6793 §3: optional transitive, always 4-octet ASes.
      return { flags: OPT_TRANS, code: AttrCode.AS4_PATH, value: encodeSegments(attr.segments, true) };
    case 'next-hop':
      return { flags: WELL_KNOWN, code: AttrCode.NEXT_HOP, value: parseIpv4(attr.address) };
    case 'med':
      return { flags: OPT_NON_TRANS, code: AttrCode.MULTI_EXIT_DISC, value: u32(attr.value, 'MED') };
    case 'local-pref':
      return { flags: WELL_KNOWN, code: AttrCode.LOCAL_PREF, value: u32(attr.value, 'LOCAL_PREF') };
    case 'atomic-aggregate':
      return { flags: WELL_KNOWN, code: AttrCode.ATOMIC_AGGREGATE, value: Buffer.alloc(0) };
    case 'aggregator': {
      // RFC 4271 §5.1.7 (2-octet AS) / RFC 6793 §3 (4-octet AS when both speakers are NEW).
      checkUint(attr.as, 32, 'AGGREGATOR AS');
      const as = attr.fourOctet ? u32(attr.as, 'AGGREGATOR AS') : u16(attr.as > 0xffff ? AS_TRANS : attr.as, 'AGGREGATOR AS');
      return { flags: OPT_TRANS, code: AttrCode.AGGREGATOR, value: Buffer.concat([as, parseIpv4(attr.address)]) };
    }
    case 'as4-aggregator':
      return { flags: OPT_TRANS, code: AttrCode.AS4_AGGREGATOR, value: Buffer.concat([u32(attr.as, 'AS4_AGGREGATOR AS'), parseIpv4(attr.address)]) };
    case 'communities':
      // RFC 1997: optional transitive, 4 bytes each.
      return { flags: OPT_TRANS, code: AttrCode.COMMUNITIES, value: Buffer.concat(attr.values.map((v) => u32(v, 'community'))) };
    case 'originator-id':
      // RFC 4456 §8: optional non-transitive.
      return { flags: OPT_NON_TRANS, code: AttrCode.ORIGINATOR_ID, value: parseIpv4(attr.id) };
    case 'cluster-list':
      return { flags: OPT_NON_TRANS, code: AttrCode.CLUSTER_LIST, value: Buffer.concat(attr.ids.map(parseIpv4)) };
    case 'mp-reach': {
      // RFC 4760 §3: AFI(2), SAFI(1), next-hop length(1), next hop, reserved(1), NLRI.
      const nh = mpNextHop(attr.nextHop, attr.linkLocalNextHop);
      if (nh.length > 255) throw new RangeError('MP_REACH_NLRI next hop too long');
      const value = Buffer.concat([
        u16(attr.afi, 'AFI'),
        u8(attr.safi, 'SAFI'),
        Buffer.from([nh.length]),
        nh,
        Buffer.from([0]),
        encodePrefixes(attr.nlri, attr.addPath ?? addPathDefault),
      ]);
      return { flags: OPT_NON_TRANS, code: AttrCode.MP_REACH_NLRI, value };
    }
    case 'mp-unreach': {
      // RFC 4760 §4: AFI(2), SAFI(1), withdrawn routes.
      const value = Buffer.concat([u16(attr.afi, 'AFI'), u8(attr.safi, 'SAFI'), encodePrefixes(attr.withdrawn, attr.addPath ?? addPathDefault)]);
      return { flags: OPT_NON_TRANS, code: AttrCode.MP_UNREACH_NLRI, value };
    }
    case 'extended-communities':
      // RFC 4360 §2: optional transitive, 8 bytes each.
      for (const v of attr.values) if (v.length !== 8) throw new RangeError(`extended community must be 8 bytes, got ${v.length}`);
      return { flags: OPT_TRANS, code: AttrCode.EXTENDED_COMMUNITIES, value: Buffer.concat(attr.values) };
    case 'large-communities':
      // RFC 8092 §3: optional transitive, (global admin, local 1, local 2) 4 bytes each.
      return {
        flags: OPT_TRANS,
        code: AttrCode.LARGE_COMMUNITY,
        value: Buffer.concat(attr.values.flatMap(([g, l1, l2]) => [u32(g, 'large community'), u32(l1, 'large community'), u32(l2, 'large community')])),
      };
    case 'raw':
      return { flags: checkUint(attr.flags, 8, 'attribute flags'), code: attr.code, value: attr.value };
  }
}

/**
 * One path attribute (RFC 4271 §4.3): flags, type code, 1- or 2-byte length, value. The Extended Length bit is
 * set whenever the value exceeds 255 bytes; a raw attribute that already has it keeps the 2-byte length.
 * `addPathDefault` is used for MP_REACH/MP_UNREACH that don't say.
 */
export function encodeAttribute(attr: Attribute, addPathDefault = false): Buffer {
  const { flags: baseFlags, code, value } = attributeParts(attr, addPathDefault);
  checkUint(code, 8, 'attribute type code');
  if (value.length > 0xffff) throw new RangeError(`attribute ${code} value of ${value.length} bytes exceeds 65535`);
  const flags = value.length > 255 ? baseFlags | AttrFlag.EXTENDED_LENGTH : baseFlags;
  const extendedLength = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
  const head = extendedLength ? 4 : 3;
  const out = Buffer.allocUnsafe(head + value.length);
  out[0] = flags;
  out[1] = code;
  if (extendedLength) out.writeUInt16BE(value.length, 2);
  else out[2] = value.length;
  value.copy(out, head);
  return out;
}

/**
 * RFC 4271 §4.3 UPDATE: withdrawn-routes length(2), withdrawn routes, total path attribute length(2), path
 * attributes, NLRI. With addPath every NLRI carries a path id (RFC 7911 §3).
 */
export function encodeUpdate(update: UpdateMessage): Buffer {
  const addPath = update.addPath ?? false;
  const withdrawn = encodePrefixes(update.withdrawn, addPath);
  const attrs = Buffer.concat((update.attributes ?? []).map((a) => encodeAttribute(a, addPath)));
  const nlri = encodePrefixes(update.nlri, addPath);
  const limit = update.extended ? BGP_MAX_EXTENDED_MESSAGE_BYTES : BGP_MAX_MESSAGE_BYTES;
  const total = BGP_HEADER_BYTES + 4 + withdrawn.length + attrs.length + nlri.length;
  if (total > limit) throw new RangeError(`UPDATE of ${total} bytes exceeds the ${limit}-byte limit`);
  const body = Buffer.concat([u16(withdrawn.length, 'withdrawn length'), withdrawn, u16(attrs.length, 'path attribute length'), attrs, nlri]);
  return encodeBgpMessage(BgpMessageType.UPDATE, body, update.extended ?? false);
}

/** RFC 4271 §4.5 NOTIFICATION: error code, subcode, data. */
export function encodeNotification(n: NotificationMessage): Buffer {
  const body = Buffer.concat([u8(n.code, 'error code'), u8(n.subcode, 'error subcode'), n.data ?? Buffer.alloc(0)]);
  return encodeBgpMessage(BgpMessageType.NOTIFICATION, body, n.extended ?? false);
}

/** RFC 4271 §4.4 KEEPALIVE: the header alone. */
export function encodeKeepalive(): Buffer {
  return encodeBgpMessage(BgpMessageType.KEEPALIVE, Buffer.alloc(0));
}

/**
 * RFC 4724 §2 End-of-RIB: an UPDATE with nothing in it for IPv4 unicast, otherwise an UPDATE whose only
 * attribute is an MP_UNREACH_NLRI holding just the AFI/SAFI.
 */
export function encodeEndOfRib(afi: number, safi: number): Buffer {
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) return encodeUpdate({});
  return encodeUpdate({ attributes: [{ type: 'mp-unreach', afi, safi, withdrawn: [] }] });
}
