/**
 * The routing state rules read: built from the collector's events, indexed for the questions rules ask.
 *
 * - Only appliance routes are indexed: Adj-RIB-In (pre- and post-policy) of peers that resolve to an appliance,
 *   and Loc-RIB routes whose next hop is an appliance address. Full tables from other peers (upstreams) stay in
 *   the collector's RIB only, so this index costs memory in proportion to what appliances announce.
 * - Per prefix: every (router, peer, table, path id) entry, so a rule sees at once who announces a prefix, where
 *   the route server accepted it and with which attributes.
 * - Per router: peers with their session state, and route-server incidents (every peer down at once), which
 *   explain per-appliance session alerts.
 *
 * Pure: events and `now` in, no I/O, no clock. Rules get it as the read-only `RoutingView`.
 */
import type { CollectorEvent, PeerRef, RouterRef } from '../rib/events.js';
import type { RibTable } from '../bmp/types.js';
import type { BgpNotification } from '../bgp/types.js';
import type { RouteAttributes } from '../rib/route-attributes.js';
import { ApplianceDirectory, type Appliance } from './appliances.js';
import type { RouteTouch } from './types.js';

export type ApplianceTable = 'adj-rib-in-pre' | 'adj-rib-in-post' | 'loc-rib';

/** Tables that show the route server accepted a route (its import policy let it through). */
export function isAcceptedTable(table: RibTable): boolean {
  return table === 'adj-rib-in-post' || table === 'loc-rib';
}

function isApplianceTable(table: RibTable): table is ApplianceTable {
  return table === 'adj-rib-in-pre' || table === 'adj-rib-in-post' || table === 'loc-rib';
}

export interface RouteEntry {
  readonly routerId: string;
  readonly routerName: string;
  /** The BMP peer: the appliance for Adj-RIB-In, the route server itself for Loc-RIB. */
  readonly peer: PeerRef;
  readonly appliance: Appliance;
  readonly table: ApplianceTable;
  readonly prefix: string;
  readonly pathId?: number;
  readonly attributes: RouteAttributes;
  /** First seen (this session), and last changed. */
  readonly since: number;
  readonly updatedAt: number;
  readonly initialSync: boolean;
}

export interface PeerDownInfo {
  readonly time: number;
  readonly reason: number;
  readonly reasonName: string;
  readonly notification?: BgpNotification;
  readonly implied: boolean;
}

export interface PeerView {
  readonly ref: PeerRef;
  readonly state: 'up' | 'down' | 'unknown';
  readonly since: number;
  readonly appliance: Appliance | undefined;
  readonly lastDown?: PeerDownInfo;
  /**
   * The route server's own AS on this session, from the 4-octet AS capability of the OPEN it sent (Peer Up).
   * FRR 8.4 encodes Route Monitoring of EBGP peers as if sending to them: its own AS in front of the path.
   */
  readonly localAs?: number;
  /** Indexed routes per table (appliance tables only). */
  routeCount(table: ApplianceTable): number;
}

export interface RouterView {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly connected: boolean;
  readonly connectedAt: number;
  readonly lastEventAt: number;
  readonly peers: ReadonlyMap<string, PeerView>;
  /** Non-local peers currently up. */
  readonly upPeers: number;
}

/** Every peer of a route server went down at once. */
export interface Incident {
  readonly routerId: string;
  readonly routerName: string;
  /** First and last Peer Down of the burst. */
  readonly startedAt: number;
  readonly detectedAt: number;
  readonly peers: readonly string[];
  readonly active: boolean;
  readonly endedAt?: number;
}

export interface RoutingView {
  readonly directory: ApplianceDirectory;
  routers(): Iterable<RouterView>;
  router(id: string): RouterView | undefined;
  /** Every indexed entry for the prefix (all appliances, routers and tables). */
  entries(prefix: string): Iterable<RouteEntry>;
  /** Every prefix with indexed entries. */
  prefixes(): Iterable<string>;
  /** Routes an appliance announces: per route server, per session, the larger of its pre- and post-policy counts. */
  applianceRouteCount(applianceId: string): { readonly count: number; readonly router?: string };
  /** The active or recent incident on a router that covers `time` (a Peer Down at `time` is explained by it). */
  incidentAt(routerId: string, time: number): Incident | undefined;
  activeIncidents(): Iterable<Incident>;
}

export interface IncidentSettings {
  readonly windowMs: number;
  readonly minPeers: number;
}

interface MutablePeer extends PeerView {
  ref: PeerRef;
  state: 'up' | 'down' | 'unknown';
  since: number;
  appliance: Appliance | undefined;
  lastDown?: PeerDownInfo;
  localAs?: number;
  readonly counts: Record<ApplianceTable, number>;
  /** Whether this peer went down as part of a burst that is now an incident (cleared on Peer Up). */
}

interface MutableRouter {
  readonly id: string;
  name: string;
  readonly address: string;
  connected: boolean;
  readonly connectedAt: number;
  lastEventAt: number;
  readonly peers: Map<string, MutablePeer>;
  upPeers: number;
  /** Peer Downs of peers that were up, within the incident window. */
  recentDowns: { time: number; peer: string }[];
  incidents: MutableIncident[];
}

interface MutableIncident {
  readonly routerId: string;
  routerName: string;
  readonly startedAt: number;
  readonly detectedAt: number;
  readonly peers: readonly string[];
  active: boolean;
  endedAt?: number;
}

/** Incidents remembered per router (so delayed rules can still ask whether a Peer Down was explained). */
const MAX_INCIDENTS_PER_ROUTER = 8;

export class RoutingState implements RoutingView {
  private readonly routerMap = new Map<string, MutableRouter>();
  private readonly byPrefix = new Map<string, Map<string, RouteEntry>>();
  /** Appliance id → "routerId|peerKey" of its sessions. */
  private readonly sessions = new Map<string, Set<string>>();

  constructor(
    public directory: ApplianceDirectory,
    private incidentSettings: IncidentSettings,
  ) {}

  /**
   * A new configuration: re-resolve every peer and entry (group ranges or names may have changed). With a
   * `snapshot` of the collector's current routes (as route-announced events), the index is rebuilt from it, so
   * peers that only now fall into an appliance range are indexed too; without one, such peers' routes are indexed
   * from their next change.
   */
  reconfigure(directory: ApplianceDirectory, incidentSettings: IncidentSettings, snapshot?: Iterable<CollectorEvent>, now = 0): void {
    this.directory = directory;
    this.incidentSettings = incidentSettings;
    this.sessions.clear();
    if (snapshot !== undefined) {
      this.byPrefix.clear();
      for (const router of this.routerMap.values()) {
        for (const peer of router.peers.values()) {
          peer.appliance = directory.resolve(peer.ref);
          if (peer.appliance) this.addSession(peer.appliance.id, router.id, peer.ref.key);
          peer.counts['adj-rib-in-pre'] = 0;
          peer.counts['adj-rib-in-post'] = 0;
          peer.counts['loc-rib'] = 0;
        }
      }
      for (const event of snapshot) {
        if (event.type === 'route-announced') this.applyRoute(this.routerFor(event.router, now), event, now);
      }
      return;
    }
    for (const router of this.routerMap.values()) {
      for (const peer of router.peers.values()) {
        peer.appliance = directory.resolve(peer.ref);
        if (peer.appliance) this.addSession(peer.appliance.id, router.id, peer.ref.key);
      }
    }
    for (const [prefix, entries] of this.byPrefix) {
      for (const [key, entry] of entries) {
        const appliance = entry.table === 'loc-rib' ? this.locRibAppliance(entry.attributes) : directory.resolve(entry.peer);
        if (appliance === undefined) {
          entries.delete(key);
          const peer = this.routerMap.get(entry.routerId)?.peers.get(entry.peer.key);
          if (peer) peer.counts[entry.table]--;
        } else {
          entries.set(key, { ...entry, appliance });
        }
      }
      if (entries.size === 0) this.byPrefix.delete(prefix);
    }
  }

  routers(): Iterable<RouterView> {
    return this.routerMap.values();
  }

  router(id: string): RouterView | undefined {
    return this.routerMap.get(id);
  }

  entries(prefix: string): Iterable<RouteEntry> {
    return this.byPrefix.get(prefix)?.values() ?? [];
  }

  prefixes(): Iterable<string> {
    return this.byPrefix.keys();
  }

  applianceRouteCount(applianceId: string): { count: number; router?: string } {
    const perRouter = new Map<string, number>();
    for (const session of this.sessions.get(applianceId) ?? []) {
      const bar = session.indexOf('|');
      const routerId = session.slice(0, bar);
      const peer = this.routerMap.get(routerId)?.peers.get(session.slice(bar + 1));
      if (!peer) continue;
      const count = Math.max(peer.counts['adj-rib-in-pre'], peer.counts['adj-rib-in-post']);
      perRouter.set(routerId, (perRouter.get(routerId) ?? 0) + count);
    }
    let best: { count: number; router?: string } = { count: 0 };
    for (const [routerId, count] of perRouter) {
      if (count > best.count) best = { count, router: this.routerMap.get(routerId)?.name ?? routerId };
    }
    return best;
  }

  incidentAt(routerId: string, time: number): Incident | undefined {
    const router = this.routerMap.get(routerId);
    return router?.incidents.find((incident) => time >= incident.startedAt && time <= incident.detectedAt);
  }

  *activeIncidents(): Iterable<Incident> {
    for (const router of this.routerMap.values()) for (const incident of router.incidents) if (incident.active) yield incident;
  }

  /** Drop routers whose BMP session ended (their routes have been withdrawn by now). */
  sweep(): void {
    for (const [id, router] of this.routerMap) if (!router.connected) this.routerMap.delete(id);
  }

  apply(event: CollectorEvent, now: number): RouteTouch | undefined {
    const router = this.routerFor(event.router, now);
    router.lastEventAt = now;
    switch (event.type) {
      case 'router-up':
      case 'router-initiation':
        router.name = event.router.name;
        router.connected = true;
        return undefined;
      case 'router-down':
        router.connected = false;
        for (const incident of router.incidents) {
          if (incident.active) {
            incident.active = false;
            incident.endedAt = now;
          }
        }
        return undefined;
      case 'peer-up': {
        const peer = this.peerFor(router, event.peer, now);
        if (peer.state !== 'up') router.upPeers += peer.ref.isLocal ? 0 : 1;
        peer.state = 'up';
        peer.since = now;
        const fourOctetAs = event.sentCapabilities.find((capability) => capability.type === 'four-octet-as');
        if (fourOctetAs?.type === 'four-octet-as') peer.localAs = fourOctetAs.as;
        this.endIncidentIfRecovered(router, now);
        return undefined;
      }
      case 'peer-down': {
        const peer = this.peerFor(router, event.peer, now);
        if (peer.state === 'up' && !peer.ref.isLocal) router.upPeers--;
        peer.lastDown = {
          time: now,
          reason: event.reason,
          reasonName: event.reasonName,
          ...(event.notification && { notification: event.notification }),
          implied: event.implied,
        };
        // An implied Peer Down (Peer Up while up) is followed by the new session's Peer Up.
        peer.state = 'down';
        peer.since = now;
        if (event.wasUp && !peer.ref.isLocal) this.noteDown(router, peer.ref.key, now);
        return undefined;
      }
      case 'route-announced':
      case 'route-changed':
      case 'route-withdrawn':
        return this.applyRoute(router, event, now);
      case 'end-of-rib':
      case 'statistics':
      case 'decode-error':
      case 'update-warning':
        return undefined;
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  }

  private routerFor(ref: RouterRef, now: number): MutableRouter {
    let router = this.routerMap.get(ref.id);
    if (router === undefined) {
      router = {
        id: ref.id,
        name: ref.name,
        address: ref.address,
        connected: true,
        connectedAt: now,
        lastEventAt: now,
        peers: new Map(),
        upPeers: 0,
        recentDowns: [],
        incidents: [],
      };
      this.routerMap.set(ref.id, router);
    }
    router.name = ref.name;
    return router;
  }

  private peerFor(router: MutableRouter, ref: PeerRef, now: number): MutablePeer {
    let peer = router.peers.get(ref.key);
    if (peer === undefined) {
      const appliance = this.directory.resolve(ref);
      peer = {
        ref,
        state: 'unknown',
        since: now,
        appliance,
        counts: { 'adj-rib-in-pre': 0, 'adj-rib-in-post': 0, 'loc-rib': 0 },
        routeCount(table) {
          return this.counts[table];
        },
      };
      router.peers.set(ref.key, peer);
      if (appliance) this.addSession(appliance.id, router.id, ref.key);
    } else if (peer.ref.as !== ref.as || peer.ref.bgpId !== ref.bgpId) {
      // A new session from the same address may be another appliance (dynamic neighbours reuse addresses).
      const before = peer.appliance;
      peer.ref = ref;
      peer.appliance = this.directory.resolve(ref);
      if (before && before.id !== peer.appliance?.id) this.sessions.get(before.id)?.delete(`${router.id}|${ref.key}`);
      if (peer.appliance) this.addSession(peer.appliance.id, router.id, ref.key);
    }
    return peer;
  }

  private addSession(applianceId: string, routerId: string, peerKey: string): void {
    let set = this.sessions.get(applianceId);
    if (set === undefined) {
      set = new Set();
      this.sessions.set(applianceId, set);
    }
    set.add(`${routerId}|${peerKey}`);
  }

  private locRibAppliance(attributes: RouteAttributes): Appliance | undefined {
    return attributes.nextHop === null ? undefined : this.directory.byNextHop(attributes.nextHop);
  }

  private applyRoute(
    router: MutableRouter,
    event: Extract<CollectorEvent, { type: 'route-announced' | 'route-changed' | 'route-withdrawn' }>,
    now: number,
  ): RouteTouch | undefined {
    const table = event.table;
    if (!isApplianceTable(table)) return undefined;
    const peer = this.peerFor(router, event.peer, now);
    if (table !== 'loc-rib' && peer.appliance === undefined) return undefined;
    const key = `${router.id}|${event.peer.key}|${table}|${event.prefix}|${event.pathId ?? ''}`;
    let entries = this.byPrefix.get(event.prefix);
    const previous = entries?.get(key);
    const touched = new Set<string>();
    if (previous) {
      touched.add(previous.appliance.id);
      entries?.delete(key);
      peer.counts[table]--;
    }
    if (event.type !== 'route-withdrawn') {
      const appliance = table === 'loc-rib' ? this.locRibAppliance(event.attributes) : peer.appliance;
      if (appliance !== undefined) {
        if (entries === undefined) {
          entries = new Map();
          this.byPrefix.set(event.prefix, entries);
        }
        entries.set(key, {
          routerId: router.id,
          routerName: router.name,
          peer: event.peer,
          appliance,
          table,
          prefix: event.prefix,
          ...(event.pathId !== undefined && { pathId: event.pathId }),
          attributes: event.attributes,
          since: previous?.since ?? now,
          updatedAt: now,
          initialSync: event.initialSync,
        });
        peer.counts[table]++;
        touched.add(appliance.id);
      }
    }
    if (entries !== undefined && entries.size === 0) this.byPrefix.delete(event.prefix);
    return touched.size === 0 ? undefined : { prefix: event.prefix, applianceIds: [...touched] };
  }

  private noteDown(router: MutableRouter, peerKey: string, now: number): void {
    const windowStart = now - this.incidentSettings.windowMs;
    router.recentDowns = router.recentDowns.filter((down) => down.time >= windowStart);
    router.recentDowns.push({ time: now, peer: peerKey });
    const distinct = new Set(router.recentDowns.map((down) => down.peer));
    if (router.upPeers > 0 || distinct.size < this.incidentSettings.minPeers) return;
    if (router.incidents.some((incident) => incident.active)) return;
    router.incidents.push({
      routerId: router.id,
      routerName: router.name,
      startedAt: router.recentDowns[0].time,
      detectedAt: now,
      peers: [...distinct],
      active: true,
    });
    if (router.incidents.length > MAX_INCIDENTS_PER_ROUTER) router.incidents.shift();
    router.recentDowns = [];
  }

  /** An incident ends when at least half of the peers it took down are up again. */
  private endIncidentIfRecovered(router: MutableRouter, now: number): void {
    for (const incident of router.incidents) {
      if (!incident.active) continue;
      const back = incident.peers.filter((key) => router.peers.get(key)?.state === 'up').length;
      if (back * 2 >= incident.peers.length) {
        incident.active = false;
        incident.endedAt = now;
      }
    }
  }
}
