/**
 * MP_REACH_NLRI (type 14) and MP_UNREACH_NLRI (type 15), RFC 4760 §3-4:
 *
 *   MP_REACH:   AFI (2) | SAFI (1) | Next hop length (1) | Next hop | Reserved (1) | NLRI
 *   MP_UNREACH: AFI (2) | SAFI (1) | Withdrawn routes
 *
 * IPv6 next hops are 16 bytes (global) or 32 (global + link-local, RFC 2545 §3). IPv4 NLRI may use an IPv6 next
 * hop (RFC 8950). VPN next hops carry an 8-byte zero route distinguisher first (RFC 4364 §4.3.2).
 */
import { decodeNlriBlock } from '../nlri.js';
import { AFI_IPV4, AFI_IPV6, SAFI_MPLS_VPN, SAFI_MULTICAST, SAFI_UNICAST, type Family, type MpReach, type MpUnreach, type Nlri } from '../types.js';
import { formatIPv4, formatIPv6 } from '../../model/address.js';

/** Per-family ADD-PATH choice: the decoder passes what the session expects and what the bytes showed before. */
export interface AddPathChooser {
  choose(buf: Buffer, start: number, end: number, afi: number, safi: number, family: Family): boolean;
}

export function familyOf(afi: number, safi: number): Family | null {
  if (safi !== SAFI_UNICAST && safi !== SAFI_MULTICAST) return null;
  if (afi === AFI_IPV4) return 'ipv4';
  if (afi === AFI_IPV6) return 'ipv6';
  return null;
}

export function decodeMpReach(buf: Buffer, start: number, end: number, addPath: AddPathChooser): MpReach | string {
  if (end - start < 5) return `MP_REACH_NLRI of ${end - start} bytes is shorter than its 5-byte minimum`;
  const afi = buf.readUInt16BE(start);
  const safi = buf[start + 2];
  const nextHopLength = buf[start + 3];
  const nextHopStart = start + 4;
  const nlriStart = nextHopStart + nextHopLength + 1; // + reserved byte
  if (nlriStart > end) return `MP_REACH_NLRI next hop length ${nextHopLength} overruns the attribute`;
  const { nextHop, linkLocalNextHop } = decodeNextHop(buf, nextHopStart, nextHopLength, safi);
  const family = familyOf(afi, safi);
  if (family === null) return { afi, safi, nextHop, nlri: [], rawNlriHex: buf.toString('hex', nlriStart, end) };
  const nlri: Nlri[] = [];
  const withPathId = addPath.choose(buf, nlriStart, end, afi, safi, family);
  const badAt = decodeNlriBlock(buf, nlriStart, end, family, withPathId, nlri);
  if (badAt !== null) return `MP_REACH_NLRI prefix at offset ${badAt} is malformed`;
  const reach: MpReach = { afi, safi, nextHop, nlri };
  return linkLocalNextHop === undefined ? reach : { ...reach, linkLocalNextHop };
}

export function decodeMpUnreach(buf: Buffer, start: number, end: number, addPath: AddPathChooser): MpUnreach | string {
  if (end - start < 3) return `MP_UNREACH_NLRI of ${end - start} bytes is shorter than its 3-byte minimum`;
  const afi = buf.readUInt16BE(start);
  const safi = buf[start + 2];
  const family = familyOf(afi, safi);
  if (family === null) return { afi, safi, withdrawn: [], rawNlriHex: buf.toString('hex', start + 3, end) };
  const withdrawn: Nlri[] = [];
  const withPathId = addPath.choose(buf, start + 3, end, afi, safi, family);
  const badAt = decodeNlriBlock(buf, start + 3, end, family, withPathId, withdrawn);
  if (badAt !== null) return `MP_UNREACH_NLRI prefix at offset ${badAt} is malformed`;
  return { afi, safi, withdrawn };
}

function decodeNextHop(buf: Buffer, start: number, length: number, safi: number): { nextHop: string | null; linkLocalNextHop?: string } {
  // VPN next hops are prefixed by an 8-byte route distinguisher (always zero).
  const skip = safi === SAFI_MPLS_VPN ? 8 : 0;
  const addressLength = length - skip;
  const at = start + skip;
  if (addressLength === 4) return { nextHop: formatIPv4(buf, at) };
  if (addressLength === 16) return { nextHop: formatIPv6(buf, at) };
  if (addressLength === 32 || (skip > 0 && addressLength === 40)) {
    const linkLocalAt = at + 16 + (addressLength === 40 ? 8 : 0);
    return { nextHop: formatIPv6(buf, at), linkLocalNextHop: formatIPv6(buf, linkLocalAt) };
  }
  return { nextHop: null };
}

