/**
 * MP_REACH_NLRI next hop (RFC 4760 §3): IPv6 next hops are 16 bytes (global) or 32 (global + link-local,
 * RFC 2545 §3). IPv4 NLRI may use an IPv6 next hop (RFC 8950). VPN next hops carry an 8-byte zero route
 * distinguisher first (RFC 4364 §4.3.2). The attribute itself is scanned in update-scan.ts.
 */
import { SAFI_MPLS_VPN } from '../types.js';
import { formatIPv4, formatIPv6 } from '../../model/address.js';

export function decodeNextHop(buf: Buffer, start: number, length: number, safi: number): { nextHop: string | null; linkLocalNextHop?: string } {
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
