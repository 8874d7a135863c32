/**
 * Decoded BGP-4 values (RFC 4271 and extensions). Addresses and prefixes are text so that every consumer
 * (RIB keys, logs, JSON output) shares one canonical form: IPv4 dotted quad, IPv6 RFC 5952 compressed.
 */

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;
export const SAFI_MULTICAST = 2;
export const SAFI_MPLS_VPN = 128;

export type Family = 'ipv4' | 'ipv6';

/** One NLRI entry: a prefix, and its RFC 7911 path identifier when the session uses ADD-PATH. */
export interface Nlri {
  /** Canonical text, e.g. "10.128.1.0/29" or "2001:db8:100:1::/64". */
  readonly prefix: string;
  readonly family: Family;
  readonly length: number;
  readonly pathId?: number;
}

export type AsPathSegmentType = 'AS_SET' | 'AS_SEQUENCE' | 'AS_CONFED_SEQUENCE' | 'AS_CONFED_SET';

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

export type Origin = 'igp' | 'egp' | 'incomplete';

export interface Aggregator {
  readonly as: number;
  readonly address: string;
}

export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  /** Global next hop (IPv4 or IPv6), or null when the length did not match a known layout. */
  readonly nextHop: string | null;
  /** IPv6 link-local next hop, present when the next-hop field is 32 bytes (RFC 2545 §3). */
  readonly linkLocalNextHop?: string;
  readonly nlri: readonly Nlri[];
  /** NLRI of families we do not decode (VPN, labelled, EVPN, flowspec…), kept verbatim. */
  readonly rawNlriHex?: string;
}

export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly Nlri[];
  readonly rawNlriHex?: string;
}

export interface ExtendedCommunity {
  readonly type: number;
  readonly subtype: number;
  /** Human form where the type is a known one: "rt:65000:100", "soo:192.0.2.1:7", else the raw hex. */
  readonly text: string;
}

export interface RawAttribute {
  readonly code: number;
  readonly flags: number;
  readonly hex: string;
}

/** Path attributes of an UPDATE (RFC 4271 §5 plus the extensions named per field). */
export interface PathAttributes {
  origin?: Origin;
  /** AS_PATH as on the wire (after AS4_PATH merge when the session uses 2-octet ASNs, RFC 6793 §4.2.3). */
  asPath?: AsPathSegment[];
  /** Raw AS4_PATH, kept for evidence; asPath already holds the merge. */
  as4Path?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  as4Aggregator?: Aggregator;
  /** RFC 1997 communities as "asn:value" (well-known ones keep the numeric form too). */
  communities?: string[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  extendedCommunities?: ExtendedCommunity[];
  /** RFC 8092 large communities as "global:local1:local2". */
  largeCommunities?: string[];
  /** Attributes we do not interpret, kept verbatim. */
  unknown?: RawAttribute[];
}

/**
 * RFC 7606 outcome for an attribute that failed its checks. 'report-only' is ours: a missing well-known attribute
 * is noted but the routes are kept, because the exporter already holds them (GoBGP's Loc-RIB omits AS_PATH for
 * locally originated routes) and a monitor that hid them would hide exactly what it is there to watch.
 */
export type AttributeAction = 'treat-as-withdraw' | 'attribute-discard' | 'report-only';

export interface AttributeWarning {
  readonly code: number;
  readonly action: AttributeAction;
  readonly offset: number;
  readonly detail: string;
}

/** How NLRI path identifiers were decided for one NLRI block (see bgp/add-path.ts). */
export type AddPathDecision = 'as-negotiated' | 'fallback';

export interface BgpUpdate {
  readonly type: 'update';
  /** Withdrawn Routes field (IPv4 unicast). */
  readonly withdrawnRoutes: Nlri[];
  readonly attributes: PathAttributes;
  /** Identity of the attribute set (attribute bytes without MP NLRI); see bgp/attributes/index.ts. */
  readonly attributesKey: string;
  /** NLRI field (IPv4 unicast). */
  readonly nlri: Nlri[];
  /** Everything announced, all families (NLRI field + MP_REACH), unless the UPDATE is treat-as-withdraw. */
  readonly announced: Nlri[];
  /** Everything withdrawn, all families (Withdrawn Routes + MP_UNREACH, plus announcements under treat-as-withdraw). */
  readonly withdrawn: Nlri[];
  /** Set when this UPDATE is an End-of-RIB marker (RFC 4724 §2). */
  readonly endOfRib?: { readonly afi: number; readonly safi: number };
  readonly treatAsWithdraw: boolean;
  readonly warnings: AttributeWarning[];
  /** NLRI blocks whose path-id layout contradicted the negotiated ADD-PATH capabilities (decoded the other way). */
  readonly addPathFallbacks: number;
  /** AS_PATH/AGGREGATOR attributes whose bytes contradicted the expected AS width (decoded the other way). */
  readonly asWidthFallbacks: number;
}

export type CapabilityCode = number;

export interface AddPathFamily {
  readonly afi: number;
  readonly safi: number;
  /** 1 receive, 2 send, 3 both (RFC 7911 §4). */
  readonly sendReceive: number;
}

export interface GracefulRestartFamily {
  readonly afi: number;
  readonly safi: number;
  readonly forwardingState: boolean;
}

export type Capability =
  | { readonly type: 'multiprotocol'; readonly code: 1; readonly afi: number; readonly safi: number }
  | { readonly type: 'route-refresh'; readonly code: 2 | 128 }
  | { readonly type: 'extended-message'; readonly code: 6 }
  | {
      readonly type: 'graceful-restart';
      readonly code: 64;
      readonly restartFlags: number;
      readonly restartTime: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  | { readonly type: 'four-octet-as'; readonly code: 65; readonly as: number }
  | { readonly type: 'add-path'; readonly code: 69; readonly families: readonly AddPathFamily[] }
  | { readonly type: 'enhanced-route-refresh'; readonly code: 70 }
  | { readonly type: 'long-lived-graceful-restart'; readonly code: 71; readonly hex: string }
  | { readonly type: 'fqdn'; readonly code: 73; readonly hostname: string; readonly domain: string }
  | { readonly type: 'unknown'; readonly code: number; readonly hex: string };

export interface BgpOpen {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet My Autonomous System field (23456 AS_TRANS when the real AS needs 4 octets). */
  readonly myAs: number;
  /** The speaker's real AS: the 4-octet AS capability when present, else myAs. */
  readonly as: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: Capability[];
}

export interface BgpNotification {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly codeName: string;
  readonly subcodeName: string;
  readonly dataHex: string;
  /** RFC 8203/9003 shutdown communication, when present. */
  readonly shutdownMessage?: string;
}

export interface BgpKeepalive {
  readonly type: 'keepalive';
}

export interface BgpRouteRefresh {
  readonly type: 'route-refresh';
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

export interface BgpUnknownMessage {
  readonly type: 'unknown';
  readonly messageType: number;
  readonly hex: string;
}

export type BgpMessage = BgpOpen | BgpUpdate | BgpNotification | BgpKeepalive | BgpRouteRefresh | BgpUnknownMessage;
