/**
 * History events: the flat records both history back-ends (the embedded SQLite store and InfluxDB) keep, and the
 * mapping from the collector's event stream to them. Pure: no I/O, no clock.
 *
 * What is kept, and why:
 * - Sessions: router up/down, peer up/down (with reason, NOTIFICATION and how long the session was up). A Peer Up
 *   for a peer already up (FRR's only signal of a dynamic neighbour's new session) is kept as a peer-down
 *   ("implied") followed by the peer-up, as the collector reports it.
 * - Routes of the Adj-RIB-In (pre- and post-policy): what an appliance announced, changed and withdrew. Loc-RIB and
 *   Adj-RIB-Out are the route server's own view and belong to no single appliance.
 * - Withdrawals implied by a session going down are NOT stored one by one: the peer-down (or router-down) event
 *   says every route of that session is gone, and the history replays it that way. A full table leaving would
 *   otherwise write a row per route at the worst moment.
 * - Announcements of the initial dump after Peer Up or a BMP reconnect are stored with `sync: true`: they are not
 *   changes, but they are what makes "what did the appliance announce at time T" answerable after a reconnect.
 */
import type { RibTable } from '../bmp/types.js';
import type { CollectorEvent, PeerRef, RouterRef } from '../rib/events.js';
import type { RouteAttributes } from '../rib/route-attributes.js';

export const HISTORY_EVENT_TYPES = [
  'router-up',
  'router-down',
  'peer-up',
  'peer-down',
  'route-announced',
  'route-changed',
  'route-withdrawn',
  'alert-firing',
  'alert-resolved',
] as const;
export type HistoryEventType = (typeof HISTORY_EVENT_TYPES)[number];

/** Tables whose routes are an appliance's own announcements. */
export const HISTORY_TABLES: readonly RibTable[] = ['adj-rib-in-pre', 'adj-rib-in-post'];

export interface HistoryEvent {
  /** Arrival time, ms since the epoch. */
  readonly time: number;
  readonly type: HistoryEventType;
  /** Route server name at the time (config name, else sysName, else address). */
  readonly router: string;
  /** Route server address: the stable key of a router across reconnects. */
  readonly routerAddress: string;
  readonly peer?: string;
  readonly peerAs?: number;
  readonly peerBgpId?: string;
  readonly table?: RibTable;
  readonly prefix?: string;
  readonly pathId?: number;
  readonly nextHop?: string;
  readonly asPath?: string;
  /** Part of an initial table dump, not a change. */
  readonly sync?: boolean;
  /** Human-readable reason, cause or explanation. */
  readonly detail?: string;
  /** Session duration (peer-down) in ms. */
  readonly durationMs?: number;
  /** Alerts: rule, severity and fingerprint. */
  readonly rule?: string;
  readonly severity?: string;
  readonly fingerprint?: string;
}

/** Which peers' route events are kept: every peer, appliance peers only (see `isAppliancePeer`), or none. */
export type RouteEventScope = 'all' | 'appliances' | 'none';

export interface HistoryMappingOptions {
  readonly routeEvents: RouteEventScope;
  /** Is this peer an appliance (inside an appliance group's session ranges, or a named appliance)? */
  readonly isAppliancePeer: (peer: PeerRef) => boolean;
}

function base(router: RouterRef, time: number, type: HistoryEventType) {
  return { time, type, router: router.name, routerAddress: router.address };
}

function peerFields(peer: PeerRef) {
  return { peer: peer.address, peerAs: peer.as, peerBgpId: peer.bgpId };
}

function routeFields(attributes: RouteAttributes) {
  const out: { nextHop?: string; asPath: string } = { asPath: attributes.asPathText };
  const nextHop = attributes.nextHop ?? attributes.linkLocalNextHop;
  if (nextHop !== undefined && nextHop !== null) out.nextHop = nextHop;
  return out;
}

function withPathId<T extends object>(record: T, pathId: number | undefined): T & { pathId?: number } {
  return pathId === undefined ? record : { ...record, pathId };
}

/** "Cease / Administrative Reset" or the BMP reason name, with the shutdown message when one was sent. */
export function peerDownDetail(event: Extract<CollectorEvent, { type: 'peer-down' }>): string {
  const parts = [event.reasonName];
  const n = event.notification;
  if (n) {
    parts.push(`NOTIFICATION ${n.code}/${n.subcode} ${n.codeName} / ${n.subcodeName}`);
    if (n.shutdownMessage) parts.push(`"${n.shutdownMessage}"`);
  }
  if (event.fsmEventCode !== undefined) parts.push(`FSM event ${event.fsmEventCode}`);
  return parts.join('; ');
}

function keepsRoutes(peer: PeerRef, table: RibTable, options: HistoryMappingOptions): boolean {
  if (peer.isLocal || !HISTORY_TABLES.includes(table)) return false;
  if (options.routeEvents === 'none') return false;
  return options.routeEvents === 'all' || options.isAppliancePeer(peer);
}

/** The history record of one collector event, or undefined when the history does not keep it. */
export function toHistoryEvent(event: CollectorEvent, options: HistoryMappingOptions): HistoryEvent | undefined {
  switch (event.type) {
    case 'router-up':
      return base(event.router, event.time, 'router-up');
    case 'router-down':
      return { ...base(event.router, event.time, 'router-down'), detail: `${event.reason}${event.detail ? `: ${event.detail}` : ''}` };
    case 'peer-up':
      if (event.peer.isLocal) return undefined;
      return { ...base(event.router, event.time, 'peer-up'), ...peerFields(event.peer), detail: event.reset ? 'new session while up (reset)' : 'session up' };
    case 'peer-down': {
      if (event.peer.isLocal || !event.wasUp) return undefined;
      const record = { ...base(event.router, event.time, 'peer-down'), ...peerFields(event.peer), detail: peerDownDetail(event) };
      return event.upDurationMs === undefined ? record : { ...record, durationMs: event.upDurationMs };
    }
    case 'route-announced':
    case 'route-changed': {
      if (!keepsRoutes(event.peer, event.table, options)) return undefined;
      const record = {
        ...base(event.router, event.time, event.type),
        ...peerFields(event.peer),
        table: event.table,
        prefix: event.prefix,
        ...routeFields(event.attributes),
      };
      return withPathId(event.initialSync ? { ...record, sync: true } : record, event.pathId);
    }
    case 'route-withdrawn': {
      // Session-wide withdrawals are implied by the peer-down / router-down record (see the module comment).
      if (event.cause !== 'withdraw' && event.cause !== 'treat-as-withdraw') return undefined;
      if (!keepsRoutes(event.peer, event.table, options)) return undefined;
      const record = {
        ...base(event.router, event.time, 'route-withdrawn'),
        ...peerFields(event.peer),
        table: event.table,
        prefix: event.prefix,
        detail: event.cause,
      };
      return withPathId(record, event.pathId);
    }
    default:
      return undefined;
  }
}
