/**
 * What one route server (one BMP session) knows: per peer, per table (pre/post-policy Adj-RIB-In, Loc-RIB,
 * pre/post-policy Adj-RIB-Out), per prefix and path id, the shared attribute set. Pure state: messages and the
 * arrival time go in, typed events come out; no I/O, no clock of its own.
 *
 * Exporter behaviour it is built to survive (measured on FRR 8.4 and GoBGP 3.10):
 * - a Peer Up for a peer already up means the old session is gone (FRR sends no Peer Down for dynamic
 *   neighbours): its routes are withdrawn and an implied Peer Down is emitted, so it counts as churn;
 * - a Peer Down for a peer never seen up is normal (FRR, at BMP session start);
 * - routes with no Peer Up (GoBGP's Loc-RIB, or a collector that joined late) are accepted;
 * - BMP timestamps are kept as information only; `now` (arrival) orders and times everything.
 */
import { AttributeStore, type SharedAttributes } from './attribute-store.js';
import type { CollectorEvent, EventSink, PeerRef, RouterDownReason, RouterRef, WithdrawCause } from './events.js';
import type { BmpMessage, PeerDownMessage, PeerUpMessage, PerPeerHeader, RibTable, RouteMonitoringMessage } from '../bmp/types.js';
import type { Family, Nlri } from '../bgp/types.js';
import { peerKeyOf } from '../bmp/decode.js';

export const RIB_TABLES: readonly RibTable[] = ['adj-rib-in-pre', 'adj-rib-in-post', 'loc-rib', 'adj-rib-out-pre', 'adj-rib-out-post'];

export type PeerSessionState = 'up' | 'down' | 'unknown';

export interface RouterRibOptions {
  /** A peer's initial table dump ends at End-of-RIB, or this long after Peer Up when the router sends none. */
  readonly initialDumpTimeoutMs: number;
  /** Limit breach closes the router's session (checked by the caller after each message). */
  readonly maxRoutes: number;
  /** Shared by all routers so identical attribute sets are stored once collector-wide. */
  readonly attributes: AttributeStore;
}

type Table = Map<string, SharedAttributes>;

export interface PeerState {
  ref: PeerRef;
  state: PeerSessionState;
  /** Arrival time of the current session's Peer Up (or of the first message, for peers seen without one). */
  since: number;
  /** The last Peer Up's details, for the API. */
  lastUp?: PeerUpMessage;
  lastDown?: { readonly time: number; readonly reason: number; readonly reasonName: string; readonly notification?: string };
  resets: number;
  readonly tables: Map<RibTable, Table>;
  readonly counts: Map<RibTable, { ipv4: number; ipv6: number }>;
  /** "table|afi|safi" keys whose End-of-RIB has arrived in this session. */
  readonly endOfRib: Set<string>;
}

const familyOfKey = (key: string): Family => (key.includes(':') ? 'ipv6' : 'ipv4');
const routeKey = (nlri: Nlri): string => (nlri.pathId === undefined ? nlri.prefix : `${nlri.prefix}#${nlri.pathId}`);

function splitRouteKey(key: string): { prefix: string; pathId?: number } {
  const hash = key.indexOf('#');
  return hash < 0 ? { prefix: key } : { prefix: key.slice(0, hash), pathId: Number(key.slice(hash + 1)) };
}

function toPeerRef(peer: PerPeerHeader, key: string): PeerRef {
  return Object.freeze({
    key,
    address: peer.address,
    as: peer.as,
    bgpId: peer.bgpId,
    peerType: peer.peerType,
    peerTypeName: peer.peerTypeName,
    distinguisher: peer.distinguisher,
    isLocal: peer.isLocal || peer.peerTypeName === 'loc-rib',
  });
}

export class RouterRib {
  private readonly peerStates = new Map<string, PeerState>();
  private routes = 0;
  private router: RouterRef;

  constructor(
    router: RouterRef,
    private readonly options: RouterRibOptions,
    private readonly emit: EventSink,
  ) {
    this.router = router;
  }

  get ref(): RouterRef {
    return this.router;
  }

  get routeCount(): number {
    return this.routes;
  }

  get overLimit(): boolean {
    return this.routes > this.options.maxRoutes;
  }

  peers(): IterableIterator<PeerState> {
    return this.peerStates.values();
  }

  peer(key: string): PeerState | undefined {
    return this.peerStates.get(key);
  }

  rename(name: string): void {
    this.router = Object.freeze({ ...this.router, name });
  }

  /** Whether routes of this peer/table/family are still part of the initial dump at `now`. */
  isInitialSync(peer: PeerState, table: RibTable, afi: number, safi: number, now: number): boolean {
    if (peer.endOfRib.has(`${table}|${afi}|${safi}`)) return false;
    return now - peer.since < this.options.initialDumpTimeoutMs;
  }

  apply(message: BmpMessage, now: number): void {
    switch (message.type) {
      case 'route-monitoring':
        this.applyRouteMonitoring(message, now);
        return;
      case 'peer-up':
        this.applyPeerUp(message, now);
        return;
      case 'peer-down':
        this.applyPeerDown(message, now);
        return;
      case 'statistics-report': {
        const peer = this.peerFor(message.peer, now);
        this.emit({ type: 'statistics', router: this.router, time: now, peer: peer.ref, bmpTimestamp: message.timestamp, stats: message.stats });
        return;
      }
      case 'initiation':
        this.emit({ type: 'router-initiation', router: this.router, time: now, sysName: message.sysName, sysDescr: message.sysDescr });
        return;
      case 'termination':
      case 'route-mirroring':
      case 'unknown':
        // Termination is acted on by the session (it closes); mirroring and unknown types carry no RIB state.
        return;
      default: {
        const exhaustive: never = message;
        return exhaustive;
      }
    }
  }

  /** The BMP session ended: every route of every peer goes, with one router-down event first. */
  close(reason: RouterDownReason, detail: string, now: number): void {
    this.emit({ type: 'router-down', router: this.router, time: now, reason, detail, peers: this.peerStates.size, routes: this.routes });
    for (const peer of this.peerStates.values()) this.flushPeer(peer, 'router-down', now, 0);
    this.peerStates.clear();
    this.routes = 0;
  }

  private peerFor(header: PerPeerHeader, now: number): PeerState {
    const key = peerKeyOf(header);
    let peer = this.peerStates.get(key);
    if (peer === undefined) {
      peer = {
        ref: toPeerRef(header, key),
        state: 'unknown',
        since: now,
        resets: 0,
        tables: new Map(),
        counts: new Map(),
        endOfRib: new Set(),
      };
      this.peerStates.set(key, peer);
    } else if (peer.ref.as !== header.as || peer.ref.bgpId !== header.bgpId) {
      peer.ref = toPeerRef(header, key);
    }
    return peer;
  }

  private applyRouteMonitoring(message: RouteMonitoringMessage, now: number): void {
    const peer = this.peerFor(message.peer, now);
    const tableName = message.peer.table;
    let table = peer.tables.get(tableName);
    if (table === undefined) {
      table = new Map();
      peer.tables.set(tableName, table);
    }
    let counts = peer.counts.get(tableName);
    if (counts === undefined) {
      counts = { ipv4: 0, ipv6: 0 };
      peer.counts.set(tableName, counts);
    }
    const { update } = message;
    for (const warning of update.warnings) {
      this.emit({ type: 'update-warning', router: this.router, time: now, peer: peer.ref, table: tableName, detail: warning.detail, action: warning.action });
    }
    if (update.endOfRib) {
      peer.endOfRib.add(`${tableName}|${update.endOfRib.afi}|${update.endOfRib.safi}`);
      this.emit({ type: 'end-of-rib', router: this.router, time: now, peer: peer.ref, table: tableName, ...update.endOfRib });
      return;
    }
    const cause: WithdrawCause = update.treatAsWithdraw ? 'treat-as-withdraw' : 'withdraw';
    // Once per message, not per prefix: the sync state depends only on table and family.
    const syncV4 = this.isInitialSync(peer, tableName, 1, 1, now);
    const syncV6 = this.isInitialSync(peer, tableName, 2, 1, now);
    for (const nlri of update.withdrawn) {
      const key = routeKey(nlri);
      const previous = table.get(key);
      if (previous === undefined) continue; // withdraw of a route we never saw (normal after Peer Up or reconnect)
      table.delete(key);
      counts[nlri.family]--;
      this.routes--;
      this.options.attributes.release(previous);
      this.emit({
        type: 'route-withdrawn',
        router: this.router,
        time: now,
        peer: peer.ref,
        table: tableName,
        prefix: nlri.prefix,
        ...(nlri.pathId !== undefined && { pathId: nlri.pathId }),
        bmpTimestamp: message.timestamp,
        initialSync: nlri.family === 'ipv4' ? syncV4 : syncV6,
        previous: previous.attributes,
        cause,
      });
    }
    for (const nlri of update.announced) {
      const key = routeKey(nlri);
      const entry = this.options.attributes.acquire(update.attributesKey, nlri.family, update.attributes);
      const previous = table.get(key);
      if (previous === entry) {
        this.options.attributes.release(entry); // re-announcement with identical attributes: no change
        continue;
      }
      table.set(key, entry);
      const initialSync = nlri.family === 'ipv4' ? syncV4 : syncV6;
      const base = {
        router: this.router,
        time: now,
        peer: peer.ref,
        table: tableName,
        prefix: nlri.prefix,
        ...(nlri.pathId !== undefined && { pathId: nlri.pathId }),
        bmpTimestamp: message.timestamp,
        initialSync,
        attributes: entry.attributes,
      };
      if (previous === undefined) {
        counts[nlri.family]++;
        this.routes++;
        this.emit({ type: 'route-announced', ...base });
      } else {
        this.options.attributes.release(previous);
        this.emit({ type: 'route-changed', ...base, previous: previous.attributes });
      }
    }
  }

  private applyPeerUp(message: PeerUpMessage, now: number): void {
    const peer = this.peerFor(message.peer, now);
    const reset = peer.state === 'up';
    if (reset) {
      // FRR: a new session of a dynamic neighbour arrives as another Peer Up. The old session's routes are gone.
      peer.resets++;
      this.emitPeerDown(peer, now, message.timestamp, { reason: 0, reasonName: 'session reset (Peer Up while up)', implied: true });
      this.flushPeer(peer, 'peer-reset', now, message.timestamp);
    }
    peer.ref = toPeerRef(message.peer, peer.ref.key);
    peer.state = 'up';
    peer.since = now;
    peer.lastUp = message;
    peer.endOfRib.clear();
    this.emit({
      type: 'peer-up',
      router: this.router,
      time: now,
      peer: peer.ref,
      bmpTimestamp: message.timestamp,
      localAddress: message.localAddress,
      localPort: message.localPort,
      remotePort: message.remotePort,
      sentCapabilities: message.sentOpen.capabilities,
      receivedCapabilities: message.receivedOpen.capabilities,
      holdTime: Math.min(message.sentOpen.holdTime, message.receivedOpen.holdTime),
      ...(message.tableName !== undefined && { tableName: message.tableName }),
      reset,
    });
  }

  private applyPeerDown(message: PeerDownMessage, now: number): void {
    const peer = this.peerFor(message.peer, now);
    this.emitPeerDown(peer, now, message.timestamp, {
      reason: message.reason,
      reasonName: message.reasonName,
      notification: message.notification,
      fsmEventCode: message.fsmEventCode,
      implied: false,
    });
    this.flushPeer(peer, 'peer-down', now, message.timestamp);
    peer.state = 'down';
    peer.since = now;
    peer.endOfRib.clear();
  }

  private emitPeerDown(
    peer: PeerState,
    now: number,
    bmpTimestamp: number,
    details: Pick<Extract<CollectorEvent, { type: 'peer-down' }>, 'reason' | 'reasonName' | 'notification' | 'fsmEventCode' | 'implied'>,
  ): void {
    let routesRemoved = 0;
    for (const table of peer.tables.values()) routesRemoved += table.size;
    const wasUp = peer.state === 'up';
    peer.lastDown = {
      time: now,
      reason: details.reason,
      reasonName: details.reasonName,
      ...(details.notification && { notification: `${details.notification.codeName} / ${details.notification.subcodeName}` }),
    };
    this.emit({
      type: 'peer-down',
      router: this.router,
      time: now,
      peer: peer.ref,
      bmpTimestamp,
      reason: details.reason,
      reasonName: details.reasonName,
      ...(details.notification && { notification: details.notification }),
      ...(details.fsmEventCode !== undefined && { fsmEventCode: details.fsmEventCode }),
      wasUp,
      implied: details.implied,
      routesRemoved,
      ...(wasUp && { upDurationMs: now - peer.since }),
    });
  }

  /** Remove every route of the peer, emitting a withdrawal per route with the given cause. */
  private flushPeer(peer: PeerState, cause: WithdrawCause, now: number, bmpTimestamp: number): void {
    const store = this.options.attributes;
    for (const [tableName, table] of peer.tables) {
      for (const [key, entry] of table) {
        store.release(entry);
        const { prefix, pathId } = splitRouteKey(key);
        this.emit({
          type: 'route-withdrawn',
          router: this.router,
          time: now,
          peer: peer.ref,
          table: tableName,
          prefix,
          ...(pathId !== undefined && { pathId }),
          bmpTimestamp,
          initialSync: false,
          previous: entry.attributes,
          cause,
        });
      }
      this.routes -= table.size;
    }
    peer.tables.clear();
    peer.counts.clear();
  }
}

export { familyOfKey, splitRouteKey };
