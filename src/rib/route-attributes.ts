/**
 * The attributes of one route as the RIB keeps them: the UPDATE's attributes reduced to what applies to one
 * family (its next hop) without the NLRI lists, frozen and shared by every route with the same attribute set.
 */
import { formatAsPath } from '../bgp/attributes/as-path.js';
import type { Aggregator, AsPathSegment, Family, Origin, PathAttributes, RawAttribute } from '../bgp/types.js';
import { AFI_IPV4, AFI_IPV6 } from '../bgp/types.js';

export interface RouteAttributes {
  readonly origin?: Origin;
  /** Segments as received (after AS4_PATH merge); empty for an empty or missing AS_PATH. */
  readonly asPath: readonly AsPathSegment[];
  /** "65001 65002 {65003}"; "" for an empty path (IBGP). */
  readonly asPathText: string;
  readonly asPathMissing: boolean;
  /** NEXT_HOP for IPv4, MP_REACH global next hop for IPv6 (and RFC 8950 IPv4); null if the UPDATE had none. */
  readonly nextHop: string | null;
  readonly linkLocalNextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  readonly communities?: readonly string[];
  readonly extendedCommunities?: readonly string[];
  readonly largeCommunities?: readonly string[];
  readonly originatorId?: string;
  readonly clusterList?: readonly string[];
  readonly unknown?: readonly RawAttribute[];
}

function nextHopFor(attributes: PathAttributes, family: Family): { nextHop: string | null; linkLocal?: string } {
  const reach = attributes.mpReach;
  const afi = family === 'ipv4' ? AFI_IPV4 : AFI_IPV6;
  if (reach && reach.afi === afi && reach.nextHop !== null) {
    return reach.linkLocalNextHop === undefined ? { nextHop: reach.nextHop } : { nextHop: reach.nextHop, linkLocal: reach.linkLocalNextHop };
  }
  if (family === 'ipv4' && attributes.nextHop !== undefined) return { nextHop: attributes.nextHop };
  return { nextHop: null };
}

export function toRouteAttributes(attributes: PathAttributes, family: Family): RouteAttributes {
  const { nextHop, linkLocal } = nextHopFor(attributes, family);
  const asPath = attributes.asPath ?? [];
  const route: { -readonly [K in keyof RouteAttributes]: RouteAttributes[K] } = {
    asPath,
    asPathText: formatAsPath(asPath),
    asPathMissing: attributes.asPath === undefined,
    nextHop,
  };
  if (linkLocal !== undefined) route.linkLocalNextHop = linkLocal;
  if (attributes.origin !== undefined) route.origin = attributes.origin;
  if (attributes.med !== undefined) route.med = attributes.med;
  if (attributes.localPref !== undefined) route.localPref = attributes.localPref;
  if (attributes.atomicAggregate) route.atomicAggregate = true;
  if (attributes.aggregator) route.aggregator = attributes.aggregator;
  if (attributes.communities) route.communities = attributes.communities;
  if (attributes.extendedCommunities) route.extendedCommunities = attributes.extendedCommunities.map((c) => c.text);
  if (attributes.largeCommunities) route.largeCommunities = attributes.largeCommunities;
  if (attributes.originatorId !== undefined) route.originatorId = attributes.originatorId;
  if (attributes.clusterList) route.clusterList = attributes.clusterList;
  if (attributes.unknown) route.unknown = attributes.unknown;
  return Object.freeze(route);
}
