/** Short builders for realistic BMP messages in tests, on top of src/encode. */
import { encodeOpen, encodeUpdate, encodeNotification, encodeEndOfRib, type Attribute, type Capability } from '../../src/encode/bgp-encode.js';
import { encodePeerDown, encodePeerUp, encodeRouteMonitoring, encodeInitiation, encodeTermination, tlv, type PeerHeader } from '../../src/encode/bmp-encode.js';

export interface PeerOptions {
  readonly as?: number;
  readonly bgpId?: string;
  readonly postPolicy?: boolean;
  readonly locRib?: boolean;
  readonly timestamp?: number;
}

export function peer(address: string, options: PeerOptions = {}): PeerHeader {
  const ipv6 = address.includes(':');
  const flags = options.locRib ? 0 : (ipv6 ? 0x80 : 0) | (options.postPolicy ? 0x40 : 0);
  return {
    peerType: options.locRib ? 3 : 0,
    flags,
    address,
    as: options.as ?? 65000,
    bgpId: options.bgpId ?? (ipv6 ? '192.0.2.99' : address),
    timestampSec: options.timestamp ?? 1_700_000_000,
    timestampUsec: 0,
  };
}

const CAPABILITIES: Capability[] = [
  { type: 'multiprotocol', afi: 1, safi: 1 },
  { type: 'multiprotocol', afi: 2, safi: 1 },
  { type: 'four-octet-as', as: 65000 },
  { type: 'route-refresh' },
];

export function peerUp(header: PeerHeader, options: { capabilities?: Capability[]; peerCapabilities?: Capability[] } = {}): Buffer {
  const sentOpen = encodeOpen({ myAs: 65000, holdTime: 90, bgpId: '192.0.2.1', capabilities: options.capabilities ?? CAPABILITIES });
  const receivedOpen = encodeOpen({
    myAs: header.as > 65535 ? 23456 : header.as,
    holdTime: 90,
    bgpId: header.bgpId,
    capabilities: options.peerCapabilities ?? options.capabilities ?? CAPABILITIES.map((c) => (c.type === 'four-octet-as' ? { ...c, as: header.as } : c)),
  });
  return encodePeerUp(header, { localAddress: header.address.includes(':') ? '2001:db8::1' : '192.0.2.1', localPort: 179, remotePort: 40000, sentOpen, receivedOpen });
}

export function peerDown(header: PeerHeader, reason = 4): Buffer {
  if (reason === 1 || reason === 3) return encodePeerDown(header, reason, encodeNotification({ code: 6, subcode: 2 }));
  if (reason === 2) return encodePeerDown(header, reason, Buffer.from([0, 2]));
  return encodePeerDown(header, reason);
}

export interface RouteOptions {
  readonly nextHop?: string;
  readonly asPath?: number[];
  readonly localPref?: number;
  readonly communities?: number[];
  readonly withdraw?: readonly string[];
}

/** One Route Monitoring message announcing `prefixes` (IPv4 in the NLRI field, IPv6 in MP_REACH). */
export function routes(header: PeerHeader, prefixes: readonly string[], options: RouteOptions = {}): Buffer {
  const v4 = prefixes.filter((p) => !p.includes(':')).map((prefix) => ({ prefix }));
  const v6 = prefixes.filter((p) => p.includes(':')).map((prefix) => ({ prefix }));
  const withdrawV4 = (options.withdraw ?? []).filter((p) => !p.includes(':')).map((prefix) => ({ prefix }));
  const withdrawV6 = (options.withdraw ?? []).filter((p) => p.includes(':')).map((prefix) => ({ prefix }));
  const attributes: Attribute[] = [];
  if (prefixes.length > 0) {
    attributes.push({ type: 'origin', value: 0 });
    attributes.push({ type: 'as-path', segments: options.asPath && options.asPath.length > 0 ? [{ type: 2, asns: options.asPath }] : [], fourOctet: true });
    if (v4.length > 0) attributes.push({ type: 'next-hop', address: options.nextHop ?? header.address });
    if (options.localPref !== undefined) attributes.push({ type: 'local-pref', value: options.localPref });
    if (options.communities) attributes.push({ type: 'communities', values: options.communities });
    if (v6.length > 0) attributes.push({ type: 'mp-reach', afi: 2, safi: 1, nextHop: options.nextHop?.includes(':') ? options.nextHop : '2001:db8::ff', nlri: v6 });
  }
  if (withdrawV6.length > 0) attributes.push({ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: withdrawV6 });
  return encodeRouteMonitoring(header, encodeUpdate({ withdrawn: withdrawV4, attributes, nlri: v4 }));
}

export function withdraw(header: PeerHeader, prefixes: readonly string[]): Buffer {
  return routes(header, [], { withdraw: prefixes });
}

export function endOfRib(header: PeerHeader, afi = 1): Buffer {
  return encodeRouteMonitoring(header, encodeEndOfRib(afi, 1));
}

export function initiation(sysName = 'rs1'): Buffer {
  return encodeInitiation([tlv(2, sysName), tlv(1, 'test route server')]);
}

export function termination(reason = 0): Buffer {
  const value = Buffer.alloc(2);
  value.writeUInt16BE(reason);
  return encodeTermination([tlv(1, value)]);
}
