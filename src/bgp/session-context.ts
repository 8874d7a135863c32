/**
 * What a peer's BGP session negotiated, from the two OPENs in its BMP Peer Up (RFC 7854 §4.10), and what the
 * decoder learned from the bytes since. Decoding an UPDATE depends on it:
 * - 4-octet AS (RFC 6793): both OPENs carry capability 65;
 * - ADD-PATH (RFC 7911 §5): path ids are present from A to B for a family when A advertised "send" and B
 *   "receive". In a BMP Peer Up the sent OPEN is the monitored router's and the received OPEN the peer's, so
 *   Adj-RIB-In (routes from the peer) has path ids when the peer sends and the router receives; Adj-RIB-Out
 *   (RFC 8671, routes to the peer) the other way round;
 * - extended messages (RFC 8654): both advertise capability 6.
 */
import type { BgpOpen, Capability } from './types.js';

export type Direction = 'from-peer' | 'to-peer';

export interface SessionContext {
  readonly fourOctetAs: boolean;
  readonly extendedMessages: boolean;
  /** Family keys (familyKey) with path ids in routes from the peer (Adj-RIB-In, Loc-RIB). */
  readonly addPathFromPeer: ReadonlySet<number>;
  /** Family keys with path ids in routes to the peer (Adj-RIB-Out). */
  readonly addPathToPeer: ReadonlySet<number>;
  /** What the bytes showed last time, per direction+family key; mutable, owned by this context. */
  readonly observedAddPath: Map<number, boolean>;
  /** True when the context comes from a Peer Up (false: a default for peers seen without one). */
  readonly negotiated: boolean;
}

export const familyKey = (afi: number, safi: number): number => (afi << 8) | safi;
export const directionalKey = (direction: Direction, afi: number, safi: number): number =>
  (direction === 'to-peer' ? 0x1000000 : 0) | familyKey(afi, safi);

const SEND = 2;
const RECEIVE = 1;

function addPathModes(open: BgpOpen): Map<number, number> {
  const modes = new Map<number, number>();
  for (const capability of open.capabilities) {
    if (capability.type !== 'add-path') continue;
    for (const family of capability.families) modes.set(familyKey(family.afi, family.safi), family.sendReceive);
  }
  return modes;
}

const has = (capabilities: readonly Capability[], type: Capability['type']): boolean => capabilities.some((c) => c.type === type);

/**
 * `locRib`: RFC 9069 §5.2 — for the Loc-RIB peer the OPENs are fabricated and the mere presence of ADD-PATH for a
 * family means path identifiers are used, whatever its send/receive value.
 */
export function negotiateSession(sentOpen: BgpOpen, receivedOpen: BgpOpen, locRib = false): SessionContext {
  const local = addPathModes(sentOpen);
  const remote = addPathModes(receivedOpen);
  const fromPeer = new Set<number>();
  const toPeer = new Set<number>();
  if (locRib) for (const key of [...local.keys(), ...remote.keys()]) fromPeer.add(key);
  for (const [key, remoteMode] of remote) {
    const localMode = local.get(key) ?? 0;
    if (remoteMode & SEND && localMode & RECEIVE) fromPeer.add(key);
    if (localMode & SEND && remoteMode & RECEIVE) toPeer.add(key);
  }
  return {
    fourOctetAs: has(sentOpen.capabilities, 'four-octet-as') && has(receivedOpen.capabilities, 'four-octet-as'),
    extendedMessages: has(sentOpen.capabilities, 'extended-message') && has(receivedOpen.capabilities, 'extended-message'),
    addPathFromPeer: fromPeer,
    addPathToPeer: toPeer,
    observedAddPath: new Map(),
    negotiated: true,
  };
}

/** For routes of a peer without a Peer Up (GoBGP's Loc-RIB, or a collector that joined late): assume the RFC defaults and let the bytes decide. */
export function defaultSessionContext(): SessionContext {
  return {
    fourOctetAs: true,
    extendedMessages: true,
    addPathFromPeer: new Set(),
    addPathToPeer: new Set(),
    observedAddPath: new Map(),
    negotiated: false,
  };
}
