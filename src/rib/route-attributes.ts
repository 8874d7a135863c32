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

/**
 * Bounded pools of the text and AS paths that attribute sets keep. Many sets share them (a peer's next hop, the
 * route server's communities, the same AS path pre- and post-policy), and the decoder hands out a fresh copy per
 * UPDATE, often a concatenation that V8 keeps as a tree of parts. A pool keeps one flat copy while it is in use
 * by the sets it was handed to; when a pool is full it is emptied and starts over (sets keep what they have), so
 * it never grows beyond POOL_LIMIT entries whatever the input.
 */
const POOL_LIMIT = 1 << 15;
const texts = new Map<string, string>();
const asPaths = new Map<string, readonly AsPathSegment[]>();

function pooledText(text: string): string {
  let pooled = texts.get(text);
  if (pooled === undefined) {
    if (texts.size >= POOL_LIMIT) texts.clear();
    // toLowerCase() returns a flat string; for text without upper-case letters, the same text (checked).
    const lower = text.toLowerCase();
    pooled = lower === text ? lower : text;
    texts.set(pooled, pooled);
  }
  return pooled;
}

function pooledTexts(values: readonly string[]): readonly string[] {
  return values.map(pooledText);
}

function sameSegments(a: readonly AsPathSegment[], b: readonly AsPathSegment[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.type !== y.type || x.asns.length !== y.asns.length) return false;
    for (let j = 0; j < x.asns.length; j++) if (x.asns[j] !== y.asns[j]) return false;
  }
  return true;
}

/** Pooled by text; reused only when the segments are the same too (the text does not show segment borders). */
function pooledAsPath(text: string, segments: readonly AsPathSegment[]): readonly AsPathSegment[] {
  const pooled = asPaths.get(text);
  if (pooled !== undefined) return sameSegments(pooled, segments) ? pooled : segments;
  if (asPaths.size >= POOL_LIMIT) asPaths.clear();
  asPaths.set(text, segments);
  return segments;
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
  const asPathText = pooledText(formatAsPath(attributes.asPath ?? []));
  const route: { -readonly [K in keyof RouteAttributes]: RouteAttributes[K] } = {
    asPath: pooledAsPath(asPathText, attributes.asPath ?? []),
    asPathText,
    asPathMissing: attributes.asPath === undefined,
    nextHop: nextHop === null ? null : pooledText(nextHop),
  };
  if (linkLocal !== undefined) route.linkLocalNextHop = pooledText(linkLocal);
  if (attributes.origin !== undefined) route.origin = attributes.origin;
  if (attributes.med !== undefined) route.med = attributes.med;
  if (attributes.localPref !== undefined) route.localPref = attributes.localPref;
  if (attributes.atomicAggregate) route.atomicAggregate = true;
  if (attributes.aggregator) route.aggregator = attributes.aggregator;
  if (attributes.communities) route.communities = pooledTexts(attributes.communities);
  if (attributes.extendedCommunities) route.extendedCommunities = attributes.extendedCommunities.map((c) => pooledText(c.text));
  if (attributes.largeCommunities) route.largeCommunities = pooledTexts(attributes.largeCommunities);
  if (attributes.originatorId !== undefined) route.originatorId = attributes.originatorId;
  if (attributes.clusterList) route.clusterList = attributes.clusterList;
  if (attributes.unknown) route.unknown = attributes.unknown;
  return Object.freeze(route);
}
