/**
 * Per-peer header (RFC 7854 §4.2), 42 bytes after the common header:
 *
 *   Peer Type (1) | Peer Flags (1) | Peer Distinguisher (8) | Peer Address (16) | Peer AS (4) |
 *   Peer BGP ID (4) | Timestamp seconds (4) | Timestamp microseconds (4)
 *
 * Flags: V 0x80 (IPv6), L 0x40 (post-policy), A 0x20 (2-octet AS_PATH), O 0x10 (Adj-RIB-Out, RFC 8671).
 * For the Loc-RIB peer type 3 (RFC 9069 §4.1) the only flag is F 0x80 (filtered), and the address is zero.
 */
import { PEER_FLAG, PEER_TYPE_LOC_RIB, PEER_TYPE_NAMES } from './constants.js';
import type { PeerTypeName, PerPeerHeader, RibTable } from './types.js';
import { formatAddress16, formatIPv4, isAllZero } from '../model/address.js';
import { truncated, type DecodeError } from '../wire/decode-error.js';

export const PER_PEER_HEADER_BYTES = 42;

/** Bytes of the per-peer header that identify the peer and table (everything but the timestamp). */
export const PEER_IDENTITY_BYTES = 34;

/** BMP timestamp of the per-peer header at `start` (seconds, fractional). Call only after the length check. */
export function readPeerTimestamp(buf: Buffer, start: number): number {
  return buf.readUInt32BE(start + 34) + buf.readUInt32BE(start + 38) / 1e6;
}

/** Decode the identity part; the caller has checked that PER_PEER_HEADER_BYTES are present. */
export function decodePeerIdentity(buf: Buffer, start: number): PerPeerHeader {
  const peerType = buf[start];
  const flags = buf[start + 1];
  const locRib = peerType === PEER_TYPE_LOC_RIB;
  const ipv6 = !locRib && (flags & PEER_FLAG.V) !== 0;
  const postPolicy = !locRib && (flags & PEER_FLAG.L) !== 0;
  const adjRibOut = !locRib && (flags & PEER_FLAG.O) !== 0;
  const table: RibTable = locRib ? 'loc-rib' : adjRibOut ? (postPolicy ? 'adj-rib-out-post' : 'adj-rib-out-pre') : postPolicy ? 'adj-rib-in-post' : 'adj-rib-in-pre';
  return Object.freeze({
    peerType,
    peerTypeName: (PEER_TYPE_NAMES[peerType] as PeerTypeName | undefined) ?? 'unknown',
    flags,
    ipv6,
    postPolicy,
    legacyAsPath: !locRib && (flags & PEER_FLAG.A) !== 0,
    adjRibOut,
    filtered: locRib && (flags & PEER_FLAG.F_LOC_RIB) !== 0,
    table,
    distinguisher: formatDistinguisher(buf, start + 2),
    address: formatAddress16(buf, start + 10, ipv6),
    as: buf.readUInt32BE(start + 26),
    bgpId: formatIPv4(buf, start + 30),
    isLocal: isAllZero(buf, start + 10, start + 34),
  });
}

export function checkPerPeerHeader(buf: Buffer, start: number, end: number): DecodeError | null {
  return end - start < PER_PEER_HEADER_BYTES ? truncated('bmp', start, 'per-peer header', PER_PEER_HEADER_BYTES, end - start) : null;
}

/** Route distinguisher text (RFC 4364 §4.2): type 0 "AS2:N4", type 1 "IPv4:N2", type 2 "AS4:N2". */
export function formatDistinguisher(buf: Buffer, at: number): string {
  const type = buf.readUInt16BE(at);
  switch (type) {
    case 0:
      return `${buf.readUInt16BE(at + 2)}:${buf.readUInt32BE(at + 4)}`;
    case 1:
      return `${formatIPv4(buf, at + 2)}:${buf.readUInt16BE(at + 6)}`;
    case 2:
      return `${buf.readUInt32BE(at + 2)}:${buf.readUInt16BE(at + 6)}`;
    default:
      return buf.toString('hex', at, at + 8);
  }
}
