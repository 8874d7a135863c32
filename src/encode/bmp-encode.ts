/**
 * BMP message encoders (RFC 7854, with RFC 8671 Adj-RIB-Out and RFC 9069 Loc-RIB additions) for table tests,
 * fuzzing and the benchmark stream generator. Every function is pure and returns a fresh Buffer (the stats
 * helpers return a {type, value} pair for encodeStatsReport).
 *
 * TLV lists accept either {type, value} objects or Buffers that are already whole TLVs (as made by `tlv`), so
 * tests can also slip in deliberately malformed TLVs.
 */
import { parseIp, parseIpv4 } from './bgp-encode.js';

export const BMP_VERSION = 3;
export const BMP_COMMON_HEADER_BYTES = 6;
export const BMP_PER_PEER_HEADER_BYTES = 42;

/** RFC 7854 §4.1 message types. */
export const BmpMessageType = {
  ROUTE_MONITORING: 0,
  STATISTICS_REPORT: 1,
  PEER_DOWN: 2,
  PEER_UP: 3,
  INITIATION: 4,
  TERMINATION: 5,
  ROUTE_MIRRORING: 6,
} as const;

/** RFC 7854 §4.2 peer types; 3 = Loc-RIB instance (RFC 9069 §4.1). */
export const PeerType = { GLOBAL: 0, RD_INSTANCE: 1, LOCAL: 2, LOC_RIB: 3 } as const;

/**
 * Per-peer header flag bits: V (IPv6), L (post-policy), A (legacy 2-byte AS_PATH) from RFC 7854 §4.2, O
 * (Adj-RIB-Out) from RFC 8671 §4, and F (filtered, Loc-RIB only) from RFC 9069 §4.2 — F reuses V's bit.
 */
export const PeerFlag = { V: 0x80, L: 0x40, A: 0x20, O: 0x10, F: 0x80 } as const;

/** RFC 7854 §4.9 Peer Down reasons; 6 is RFC 9069 §4.4 (Loc-RIB local system closed, TLVs follow). */
export const PeerDownReason = {
  LOCAL_NOTIFICATION: 1,
  LOCAL_NO_NOTIFICATION: 2,
  REMOTE_NOTIFICATION: 3,
  REMOTE_NO_NOTIFICATION: 4,
  PEER_DECONFIGURED: 5,
  LOCAL_SYSTEM_CLOSED: 6,
} as const;

/** RFC 7854 §4.4 Information TLV types (Initiation, Peer Up); 3 = VRF/Table Name (RFC 9069 §5.1). */
export const InfoTlvType = { STRING: 0, SYS_DESCR: 1, SYS_NAME: 2, VRF_TABLE_NAME: 3 } as const;

/** RFC 7854 §4.5 Termination TLV types. */
export const TerminationTlvType = { STRING: 0, REASON: 1 } as const;

/** RFC 7854 §4.7 Route Mirroring TLV types. */
export const MirroringTlvType = { BGP_MESSAGE: 0, INFORMATION: 1 } as const;

/** RFC 7854 §4.8 statistics types used here (0-6, 11-13 are 32-bit counters; 7, 8 are 64-bit gauges; 9, 10 per AFI/SAFI). */
export const StatType = {
  REJECTED_PREFIXES: 0,
  DUPLICATE_PREFIX_ADVERTISEMENTS: 1,
  DUPLICATE_WITHDRAWS: 2,
  CLUSTER_LIST_LOOP: 3,
  AS_PATH_LOOP: 4,
  ORIGINATOR_ID_LOOP: 5,
  AS_CONFED_LOOP: 6,
  ADJ_RIB_IN_ROUTES: 7,
  LOC_RIB_ROUTES: 8,
  PER_AFI_SAFI_ADJ_RIB_IN: 9,
  PER_AFI_SAFI_LOC_RIB: 10,
  UPDATES_TREATED_AS_WITHDRAW: 11,
  PREFIXES_TREATED_AS_WITHDRAW: 12,
  DUPLICATE_UPDATES: 13,
} as const;

export interface PeerHeader {
  readonly peerType: 0 | 1 | 2 | 3;
  /** Written as given: the encoder does not derive V from the address, so tests can make them disagree. */
  readonly flags: number;
  /** 8 bytes, or a bigint written big-endian; absent means all zeros. */
  readonly distinguisher?: Buffer | bigint;
  /** IPv4 goes in the last 4 bytes of the 16-byte field with zeros before it; IPv6 fills all 16. */
  readonly address: string;
  readonly as: number;
  readonly bgpId: string;
  readonly timestampSec: number;
  readonly timestampUsec: number;
}

export interface Tlv {
  readonly type: number;
  readonly value: Buffer;
}

/** A TLV as an object, or as bytes already encoded (passed through untouched). */
export type TlvInput = Tlv | Buffer;

export interface PeerUpInfo {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remotePort: number;
  readonly sentOpen: Buffer;
  readonly receivedOpen: Buffer;
  readonly tlvs?: readonly TlvInput[];
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer in 0..${max}, got ${value}`);
  }
  return value;
}

/** RFC 7854 §4.2: a 16-byte address field, IPv4 right-aligned after 12 zero bytes. */
export function encodeAddress16(address: string): Buffer {
  const raw = parseIp(address);
  if (raw.length === 16) return raw;
  const out = Buffer.alloc(16);
  raw.copy(out, 12);
  return out;
}

/** A TLV with 2-byte type and 2-byte length (RFC 7854 §4.4); string values are UTF-8 (RFC 7854 §4.3). */
export function tlv(type: number, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  checkUint(type, 0xffff, 'TLV type');
  checkUint(v.length, 0xffff, 'TLV length');
  const out = Buffer.allocUnsafe(4 + v.length);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(v.length, 2);
  v.copy(out, 4);
  return out;
}

function encodeTlvs(tlvs: readonly TlvInput[]): Buffer {
  return Buffer.concat(tlvs.map((t) => (Buffer.isBuffer(t) ? t : tlv(t.type, t.value))));
}

/** RFC 7854 §4.1 common header: version 3, 4-byte length of the whole message, type. */
export function encodeCommonHeader(type: number, totalLength: number): Buffer {
  const out = Buffer.allocUnsafe(BMP_COMMON_HEADER_BYTES);
  out[0] = BMP_VERSION;
  out.writeUInt32BE(checkUint(totalLength, 0xffffffff, 'BMP message length'), 1);
  out[5] = checkUint(type, 0xff, 'BMP message type');
  return out;
}

/** A whole BMP message: common header followed by the body parts. RFC 7854 §4.1. */
export function encodeBmpMessage(type: number, parts: readonly Buffer[]): Buffer {
  let bodyLength = 0;
  for (const p of parts) bodyLength += p.length;
  const out = Buffer.allocUnsafe(BMP_COMMON_HEADER_BYTES + bodyLength);
  encodeCommonHeader(type, out.length).copy(out, 0);
  let pos = BMP_COMMON_HEADER_BYTES;
  for (const p of parts) pos += p.copy(out, pos);
  return out;
}

/**
 * RFC 7854 §4.2 per-peer header (42 bytes): type(1), flags(1), distinguisher(8), address(16), AS(4),
 * BGP ID(4), timestamp seconds(4), microseconds(4).
 */
export function encodePerPeerHeader(peer: PeerHeader): Buffer {
  const out = Buffer.alloc(BMP_PER_PEER_HEADER_BYTES);
  out[0] = checkUint(peer.peerType, 0xff, 'peer type');
  out[1] = checkUint(peer.flags, 0xff, 'peer flags');
  const rd = peer.distinguisher;
  if (typeof rd === 'bigint') {
    if (rd < 0n || rd > 0xffffffffffffffffn) throw new RangeError(`peer distinguisher out of range: ${rd}`);
    out.writeBigUInt64BE(rd, 2);
  } else if (rd !== undefined) {
    if (rd.length !== 8) throw new RangeError(`peer distinguisher must be 8 bytes, got ${rd.length}`);
    rd.copy(out, 2);
  }
  encodeAddress16(peer.address).copy(out, 10);
  out.writeUInt32BE(checkUint(peer.as, 0xffffffff, 'peer AS'), 26);
  parseIpv4(peer.bgpId).copy(out, 30);
  out.writeUInt32BE(checkUint(peer.timestampSec, 0xffffffff, 'timestamp seconds'), 34);
  out.writeUInt32BE(checkUint(peer.timestampUsec, 0xffffffff, 'timestamp microseconds'), 38);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** RFC 7854 §4.6 Route Monitoring: per-peer header, then one BGP UPDATE PDU. */
export function encodeRouteMonitoring(peer: PeerHeader, bgpUpdate: Buffer): Buffer {
  return encodeBmpMessage(BmpMessageType.ROUTE_MONITORING, [encodePerPeerHeader(peer), bgpUpdate]);
}

/** RFC 7854 §4.8 Stats Report: per-peer header, 4-byte count, then the stat TLVs (2-byte type, 2-byte length). */
export function encodeStatsReport(peer: PeerHeader, stats: readonly TlvInput[]): Buffer {
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(stats.length, 0);
  return encodeBmpMessage(BmpMessageType.STATISTICS_REPORT, [encodePerPeerHeader(peer), count, encodeTlvs(stats)]);
}

/** RFC 7854 §4.8 32-bit counter statistic (types 0-6, 11-13). */
export function stat32(type: number, n: number): Tlv {
  const value = Buffer.allocUnsafe(4);
  value.writeUInt32BE(checkUint(n, 0xffffffff, 'stat counter'), 0);
  return { type, value };
}

/** RFC 7854 §4.8 64-bit gauge statistic (types 7, 8). */
export function stat64(type: number, n: bigint): Tlv {
  const value = Buffer.allocUnsafe(8);
  value.writeBigUInt64BE(n, 0);
  return { type, value };
}

/** RFC 7854 §4.8 per-AFI/SAFI gauge (types 9, 10): AFI(2), SAFI(1), 64-bit gauge. */
export function statAfiSafi64(type: number, afi: number, safi: number, n: bigint): Tlv {
  const value = Buffer.allocUnsafe(11);
  value.writeUInt16BE(checkUint(afi, 0xffff, 'AFI'), 0);
  value[2] = checkUint(safi, 0xff, 'SAFI');
  value.writeBigUInt64BE(n, 3);
  return { type, value };
}

/** RFC 7854 §4.9 data for reason 2: the 2-byte FSM event code. */
export function fsmEventCode(code: number): Buffer {
  const out = Buffer.allocUnsafe(2);
  out.writeUInt16BE(checkUint(code, 0xffff, 'FSM event code'), 0);
  return out;
}

/**
 * RFC 7854 §4.9 Peer Down: per-peer header, reason(1), data. Reasons 1 and 3 carry a NOTIFICATION PDU, 2 a
 * 2-byte FSM event code (see fsmEventCode), 6 TLVs (RFC 9069 §4.4); 4 and 5 carry nothing. The data is written
 * as given so tests can build mismatched combinations.
 */
export function encodePeerDown(peer: PeerHeader, reason: number, data?: Buffer): Buffer {
  return encodeBmpMessage(BmpMessageType.PEER_DOWN, [
    encodePerPeerHeader(peer),
    Buffer.from([checkUint(reason, 0xff, 'peer down reason')]),
    data ?? Buffer.alloc(0),
  ]);
}

/**
 * RFC 7854 §4.10 Peer Up: per-peer header, local address(16), local port(2), remote port(2), sent OPEN,
 * received OPEN, optional information TLVs.
 */
export function encodePeerUp(peer: PeerHeader, info: PeerUpInfo): Buffer {
  const ports = Buffer.allocUnsafe(4);
  ports.writeUInt16BE(checkUint(info.localPort, 0xffff, 'local port'), 0);
  ports.writeUInt16BE(checkUint(info.remotePort, 0xffff, 'remote port'), 2);
  return encodeBmpMessage(BmpMessageType.PEER_UP, [
    encodePerPeerHeader(peer),
    encodeAddress16(info.localAddress),
    ports,
    info.sentOpen,
    info.receivedOpen,
    encodeTlvs(info.tlvs ?? []),
  ]);
}

/** RFC 7854 §4.3 Initiation: information TLVs only (types 0 string, 1 sysDescr, 2 sysName). */
export function encodeInitiation(tlvs: readonly TlvInput[]): Buffer {
  return encodeBmpMessage(BmpMessageType.INITIATION, [encodeTlvs(tlvs)]);
}

/** RFC 7854 §4.5 Termination: TLVs only (type 0 string, 1 two-byte reason). */
export function encodeTermination(tlvs: readonly TlvInput[]): Buffer {
  return encodeBmpMessage(BmpMessageType.TERMINATION, [encodeTlvs(tlvs)]);
}

/** RFC 7854 §4.7 Route Mirroring: per-peer header, then TLVs (0 BGP message, 1 two-byte information code). */
export function encodeRouteMirroring(peer: PeerHeader, tlvs: readonly TlvInput[]): Buffer {
  return encodeBmpMessage(BmpMessageType.ROUTE_MIRRORING, [encodePerPeerHeader(peer), encodeTlvs(tlvs)]);
}
