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
 * - a pre-policy withdrawal also removes the peer's post-policy route (GoBGP leaves out post-policy withdrawals of
 *   routes from a session's initial dump);
 * - BMP timestamps are kept as information only; `now` (arrival) orders and times everything.
 */
import type { AttributeStore, SharedAttributes } from './attribute-store.js';
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

export interface PrefixCount {
  ipv4: number;
  ipv6: number;
}

/** Per slot of PeerRoutes: bit i set = the route is in the table RIB_TABLES[i]; plus the two markers below. */
const IN_ANY_TABLE = 0x1f;
const SLOT_IPV6 = 0x20;
const SLOT_PATH_ID = 0x40;
const INITIAL_SLOTS = 16;

/**
 * A flat copy of a route key, to be kept as long as the route. The decoder's prefix text is a concatenation
 * ("10.1.2.0/" + "24", several levels for IPv6), which V8 keeps as a tree of string parts: two to five times
 * the size of the characters. toLowerCase() flattens it and, for text without upper-case letters (route keys are
 * digits, lower-case hex and punctuation), returns the flat string itself without copying it again. Checked, so
 * a key with upper-case letters is kept as it is rather than changed.
 */
function flatKey(key: string): string {
  const flat = key.toLowerCase();
  return flat === key ? flat : key;
}

/**
 * One peer's routes in all of its tables. A route server reports the same prefixes in several tables of a peer
 * (pre- and post-policy, Loc-RIB...), so each route key ("prefix" or "prefix#pathId") is stored once per peer:
 * one map entry and one flat string, giving the key a slot; each table is a typed array of attribute-set ids
 * indexed by slot (RouteTable, 0 = not in that table).
 */
export class PeerRoutes {
  /** Route key → slot. */
  index = new Map<string, number>();
  /** Per slot: table bits, SLOT_IPV6, SLOT_PATH_ID. */
  flags = new Uint8Array(INITIAL_SLOTS);
  /** Per RIB_TABLES index, the tables in use. */
  readonly columns: (RouteTable | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  private next = 0;
  private free: number[] = [];

  /** A slot for a route key seen for the first time in any table of this peer. */
  allocate(key: string, family: Family, hasPathId: boolean): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.next++;
      if (slot === this.flags.length) this.grow(slot * 2);
    }
    this.flags[slot] = (family === 'ipv6' ? SLOT_IPV6 : 0) | (hasPathId ? SLOT_PATH_ID : 0);
    this.index.set(flatKey(key), slot);
    return slot;
  }

  /** The route left `table`; the slot is freed when no table holds the key any more. */
  unlink(key: string, slot: number, table: RouteTable): void {
    table.ids[slot] = 0;
    const flags = this.flags[slot] & ~table.bit;
    if (flags & SLOT_IPV6) table.counts.ipv6--;
    else table.counts.ipv4--;
    if ((flags & IN_ANY_TABLE) !== 0) {
      this.flags[slot] = flags;
      return;
    }
    this.flags[slot] = 0;
    this.index.delete(key);
    this.free.push(slot);
  }

  column(tableIndex: number, name: RibTable, counts: PrefixCount, store: AttributeStore): RouteTable {
    let table = this.columns[tableIndex];
    if (table === undefined) {
      table = new RouteTable(this, store, name, tableIndex, counts, this.flags.length);
      this.columns[tableIndex] = table;
    }
    return table;
  }

  /** Forget every route (the caller has withdrawn them). */
  reset(): void {
    this.index = new Map();
    this.flags = new Uint8Array(INITIAL_SLOTS);
    this.columns.fill(undefined);
    this.next = 0;
    this.free = [];
  }

  private grow(capacity: number): void {
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    this.flags = flags;
    for (const table of this.columns) table?.resize(capacity);
  }
}

/**
 * One table of one peer, as the API reads it: route key → shared attributes. Backed by its peer's PeerRoutes.
 */
export class RouteTable implements Iterable<[string, SharedAttributes]> {
  /** Attribute-set id per slot of the peer's PeerRoutes; 0 = not in this table. */
  ids: Uint32Array;
  /** This table's bit in PeerRoutes.flags. */
  readonly bit: number;

  constructor(
    private readonly routes: PeerRoutes,
    private readonly store: AttributeStore,
    readonly name: RibTable,
    tableIndex: number,
    /** The peer's per-family count for this table (the same object as in PeerState.counts). */
    readonly counts: PrefixCount,
    capacity: number,
  ) {
    this.ids = new Uint32Array(capacity);
    this.bit = 1 << tableIndex;
  }

  get size(): number {
    return this.counts.ipv4 + this.counts.ipv6;
  }

  get(key: string): SharedAttributes | undefined {
    const slot = this.routes.index.get(key);
    if (slot === undefined) return undefined;
    const id = this.ids[slot];
    return id === 0 ? undefined : this.store.get(id);
  }

  has(key: string): boolean {
    const slot = this.routes.index.get(key);
    return slot !== undefined && this.ids[slot] !== 0;
  }

  *entries(): IterableIterator<[string, SharedAttributes]> {
    for (const [key, slot] of this.routes.index) {
      const id = this.ids[slot];
      if (id !== 0) yield [key, this.store.get(id)];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  [Symbol.iterator](): IterableIterator<[string, SharedAttributes]> {
    return this.entries();
  }

  resize(capacity: number): void {
    const ids = new Uint32Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
  }
}

const TABLE_INDEX: Readonly<Record<RibTable, number>> = {
  'adj-rib-in-pre': 0,
  'adj-rib-in-post': 1,
  'loc-rib': 2,
  'adj-rib-out-pre': 3,
  'adj-rib-out-post': 4,
};

/** A pause this long in a peer's route messages ends its initial dump (see RouterRib.isInitialSync). */
export const INITIAL_DUMP_QUIET_MS = 10_000;
/** Missing from this many Statistics Report intervals, an up peer is taken as down (RouterRib.noteStatistics). */
export const STATS_ABSENCE_ROUNDS = 2.5;
/** FRR's Initiation sysDescr ("FRRouting 8.4.4"). */
const FRR_SYS_DESCR = /^FRRouting\b/i;
/** Reports closer than this are one round (a router reports its peers one after another), not an interval. */
const MIN_STATS_INTERVAL_MS = 1_000;

export interface PeerState {
  ref: PeerRef;
  state: PeerSessionState;
  /** Arrival time of the current session's Peer Up (or of the first message, for peers seen without one). */
  since: number;
  /** The last Peer Up's details, for the API. */
  lastUp?: PeerUpMessage;
  lastDown?: { readonly time: number; readonly reason: number; readonly reasonName: string; readonly notification?: string };
  resets: number;
  /** The tables this peer has routes (or had messages) in, in order of first use. */
  readonly tables: Map<RibTable, RouteTable>;
  readonly counts: Map<RibTable, PrefixCount>;
  /** "table|afi|safi" keys whose End-of-RIB has arrived in this session. */
  readonly endOfRib: Set<string>;
  /** Arrival of this session's last Route Monitoring message (a pause ends the initial dump; see isInitialSync). */
  lastRouteAt?: number;
  /** The initial dump of this session is over for every table (a quiet gap or the timeout ended it). */
  dumpOver: boolean;
  /** Arrival of this peer's last Statistics Report (see RouterRib.noteStatistics). */
  lastStatsAt?: number;
  /** Storage behind `tables`; internal. */
  readonly routes: PeerRoutes;
}

/** Where a flush of one peer's routes stands (it may be spread over several calls: router close). */
interface FlushCursor {
  readonly peer: PeerState;
  readonly cause: WithdrawCause;
  readonly now: number;
  readonly bmpTimestamp: number;
  readonly tables: readonly RouteTable[];
  table: number;
  entries: IterableIterator<[string, number]> | undefined;
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
  /** The route server's Statistics Report interval, learned from the reports. */
  private statsIntervalMs: number | undefined;
  /** The route server is FRR (Initiation sysDescr), which sends no Peer Down for dynamic neighbours. */
  private dropsDynamicPeerDowns = false;
  private routes = 0;
  private router: RouterRef;
  /** Set between beginClose and the end of the flush. */
  private closing: { readonly now: number; cursor: FlushCursor | undefined } | undefined;

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

  /** Between beginClose and the last withdrawal of the flush. */
  get isClosing(): boolean {
    return this.closing !== undefined;
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

  /**
   * Whether routes of this peer/table/family are still part of the initial dump at `now`. The dump ends at its
   * End-of-RIB, or when the peer's route messages pause for INITIAL_DUMP_QUIET_MS (a dump streams without pauses;
   * FRR sends no End-of-RIB for a session that comes up while BMP is connected), or at the configured timeout.
   */
  isInitialSync(peer: PeerState, table: RibTable, afi: number, safi: number, now: number): boolean {
    if (peer.dumpOver || peer.endOfRib.has(`${table}|${afi}|${safi}`)) return false;
    const quiet = peer.lastRouteAt !== undefined && now - peer.lastRouteAt >= INITIAL_DUMP_QUIET_MS;
    if (quiet || now - peer.since >= this.options.initialDumpTimeoutMs) {
      peer.dumpOver = true;
      return false;
    }
    return true;
  }

  apply(message: BmpMessage, now: number): void {
    // A message after beginClose would mix with the flush: finish the flush first, so no old route outlives it.
    if (this.closing !== undefined) this.continueClose();
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
        this.noteStatistics(peer, now, message.timestamp);
        return;
      }
      case 'initiation':
        this.dropsDynamicPeerDowns = message.sysDescr !== undefined && FRR_SYS_DESCR.test(message.sysDescr);
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
    this.beginClose(reason, detail, now);
    this.continueClose();
  }

  /**
   * close() in steps, so that a router holding a million routes does not block the event loop for the whole
   * flush: emits router-down now; continueClose() then withdraws the routes (time `now`, cause router-down),
   * peer by peer and table by table. Routes and counts go down as their withdrawals are emitted, so what the
   * RIB shows always matches the events so far. Does nothing if a close is already under way.
   */
  beginClose(reason: RouterDownReason, detail: string, now: number): void {
    if (this.closing !== undefined) return;
    this.emit({ type: 'router-down', router: this.router, time: now, reason, detail, peers: this.peerStates.size, routes: this.routes });
    this.closing = { now, cursor: undefined };
  }

  /**
   * Withdraws up to `maxRoutes` more routes of a close begun with beginClose(). True when the RIB is empty and
   * the close is complete (also when no close was under way).
   */
  continueClose(maxRoutes = Number.POSITIVE_INFINITY): boolean {
    const closing = this.closing;
    if (closing === undefined) return true;
    let budget = maxRoutes;
    for (;;) {
      if (closing.cursor === undefined) {
        const next = this.peerStates.values().next();
        if (next.done) break;
        closing.cursor = this.flushCursor(next.value, 'router-down', closing.now, 0);
      }
      if (budget <= 0) return false;
      const before = this.routes;
      if (!this.flushSome(closing.cursor, budget)) return false;
      budget -= before - this.routes;
      this.peerStates.delete(closing.cursor.peer.ref.key);
      closing.cursor = undefined;
    }
    this.closing = undefined;
    this.routes = 0;
    return true;
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
        dumpOver: false,
        routes: new PeerRoutes(),
      };
      this.peerStates.set(key, peer);
    } else if (peer.ref.as !== header.as || peer.ref.bgpId !== header.bgpId) {
      peer.ref = toPeerRef(header, key);
    }
    return peer;
  }

  private tableOf(peer: PeerState, name: RibTable): RouteTable {
    let table = peer.tables.get(name);
    if (table === undefined) {
      let counts = peer.counts.get(name);
      if (counts === undefined) {
        counts = { ipv4: 0, ipv6: 0 };
        peer.counts.set(name, counts);
      }
      table = peer.routes.column(TABLE_INDEX[name], name, counts, this.options.attributes);
      peer.tables.set(name, table);
    }
    return table;
  }

  private applyRouteMonitoring(message: RouteMonitoringMessage, now: number): void {
    const peer = this.peerFor(message.peer, now);
    const tableName = message.peer.table;
    const table = this.tableOf(peer, tableName);
    const { update } = message;
    for (const warning of update.warnings) {
      this.emit({ type: 'update-warning', router: this.router, time: now, peer: peer.ref, table: tableName, detail: warning.detail, action: warning.action });
    }
    if (update.endOfRib) {
      peer.endOfRib.add(`${tableName}|${update.endOfRib.afi}|${update.endOfRib.safi}`);
      this.emit({ type: 'end-of-rib', router: this.router, time: now, peer: peer.ref, table: tableName, ...update.endOfRib });
      return;
    }
    const store = this.options.attributes;
    const routes = peer.routes;
    const cause: WithdrawCause = update.treatAsWithdraw ? 'treat-as-withdraw' : 'withdraw';
    // Once per message, not per prefix: the sync state depends only on table and family.
    const syncV4 = this.isInitialSync(peer, tableName, 1, 1, now);
    const syncV6 = this.isInitialSync(peer, tableName, 2, 1, now);
    peer.lastRouteAt = now;
    for (const nlri of update.withdrawn) {
      const key = routeKey(nlri);
      const slot = routes.index.get(key);
      const id = slot === undefined ? 0 : table.ids[slot];
      if (slot === undefined || id === 0) continue; // withdraw of a route we never saw (normal after Peer Up or reconnect)
      const previous = store.get(id);
      routes.unlink(key, slot, table);
      this.routes--;
      store.release(previous);
      this.emit(withdrawnEvent(this.router, now, peer.ref, tableName, nlri.prefix, nlri.pathId, message.timestamp, nlri.family === 'ipv4' ? syncV4 : syncV6, previous, cause));
      // The post-policy Adj-RIB-In is the pre-policy one after import policy: a route its peer withdrew cannot
      // stay in it. GoBGP 3.10 omits post-policy withdrawals of routes it sent in a BMP session's initial dump;
      // without this they would stay forever as ghosts. (A withdrawal of a route we did not hold pre-policy, as
      // FRR sends without soft-reconfiguration inbound, does not get here.)
      if (tableName === 'adj-rib-in-pre') {
        const post = peer.tables.get('adj-rib-in-post');
        const postId = post === undefined ? 0 : post.ids[slot];
        if (post !== undefined && postId !== 0) {
          const postPrevious = store.get(postId);
          routes.unlink(key, slot, post);
          this.routes--;
          store.release(postPrevious);
          const initialSync = this.isInitialSync(peer, 'adj-rib-in-post', nlri.family === 'ipv4' ? 1 : 2, 1, now);
          this.emit(withdrawnEvent(this.router, now, peer.ref, 'adj-rib-in-post', nlri.prefix, nlri.pathId, message.timestamp, initialSync, postPrevious, cause));
        }
      }
    }
    if (update.announced.length === 0) return;
    // The attribute set is looked up once per message and family (not per prefix); the message holds a reference
    // while it is applied, each stored route one more.
    let entryV4: SharedAttributes | undefined;
    let entryV6: SharedAttributes | undefined;
    for (const nlri of update.announced) {
      const ipv4 = nlri.family === 'ipv4';
      let entry = ipv4 ? entryV4 : entryV6;
      if (entry === undefined) {
        entry = store.acquire(update.attributesKey, nlri.family, update.attributes);
        if (ipv4) entryV4 = entry;
        else entryV6 = entry;
      }
      const key = routeKey(nlri);
      let slot = routes.index.get(key);
      if (slot === undefined) slot = routes.allocate(key, nlri.family, nlri.pathId !== undefined);
      const previousId = table.ids[slot];
      if (previousId === entry.id) continue; // re-announcement with identical attributes: no change
      store.retain(entry);
      table.ids[slot] = entry.id;
      const initialSync = ipv4 ? syncV4 : syncV6;
      if (previousId === 0) {
        routes.flags[slot] |= table.bit;
        table.counts[nlri.family]++;
        this.routes++;
        this.emit(
          nlri.pathId === undefined
            ? { type: 'route-announced', router: this.router, time: now, peer: peer.ref, table: tableName, prefix: nlri.prefix, bmpTimestamp: message.timestamp, initialSync, attributes: entry.attributes }
            : { type: 'route-announced', router: this.router, time: now, peer: peer.ref, table: tableName, prefix: nlri.prefix, pathId: nlri.pathId, bmpTimestamp: message.timestamp, initialSync, attributes: entry.attributes },
        );
      } else {
        const previous = store.get(previousId);
        store.release(previous);
        this.emit(
          nlri.pathId === undefined
            ? { type: 'route-changed', router: this.router, time: now, peer: peer.ref, table: tableName, prefix: nlri.prefix, bmpTimestamp: message.timestamp, initialSync, attributes: entry.attributes, previous: previous.attributes }
            : { type: 'route-changed', router: this.router, time: now, peer: peer.ref, table: tableName, prefix: nlri.prefix, pathId: nlri.pathId, bmpTimestamp: message.timestamp, initialSync, attributes: entry.attributes, previous: previous.attributes },
        );
      }
    }
    if (entryV4 !== undefined) store.release(entryV4);
    if (entryV6 !== undefined) store.release(entryV6);
  }

  /**
   * FRR sends neither a Peer Down nor withdrawals when a dynamic neighbour's session dies, so its routes would stay
   * forever. It does report every established peer in each Statistics Report round: a peer that had reports and is
   * missing from them for STATS_ABSENCE_ROUNDS intervals (learned from the reports) is down, its routes withdrawn.
   * Applied to routers that identify as FRR in their Initiation only.
   */
  private noteStatistics(reported: PeerState, now: number, bmpTimestamp: number): void {
    // Only for the exporter known to do this; others send Peer Down, and may report peers in any order.
    if (!this.dropsDynamicPeerDowns) return;
    if (reported.lastStatsAt !== undefined) {
      const gap = now - reported.lastStatsAt;
      if (gap >= MIN_STATS_INTERVAL_MS) this.statsIntervalMs = this.statsIntervalMs === undefined ? gap : Math.min(this.statsIntervalMs, gap);
    }
    reported.lastStatsAt = now;
    if (this.statsIntervalMs === undefined) return;
    const limit = this.statsIntervalMs * STATS_ABSENCE_ROUNDS;
    for (const peer of this.peerStates.values()) {
      if (peer === reported || peer.state !== 'up' || peer.ref.isLocal || peer.lastStatsAt === undefined) continue;
      if (now - peer.lastStatsAt <= limit || now - peer.since <= limit) continue;
      this.emitPeerDown(peer, now, bmpTimestamp, { reason: 0, reasonName: 'session gone (missing from Statistics Reports)', implied: true });
      this.flushPeer(peer, 'peer-down', now, bmpTimestamp);
      peer.state = 'down';
      peer.since = now;
      peer.endOfRib.clear();
      peer.dumpOver = false;
      peer.lastRouteAt = undefined;
      peer.lastStatsAt = undefined;
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
    peer.dumpOver = false;
    peer.lastRouteAt = undefined;
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
    peer.dumpOver = false;
    peer.lastRouteAt = undefined;
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
    this.flushSome(this.flushCursor(peer, cause, now, bmpTimestamp), Number.POSITIVE_INFINITY);
  }

  private flushCursor(peer: PeerState, cause: WithdrawCause, now: number, bmpTimestamp: number): FlushCursor {
    return { peer, cause, now, bmpTimestamp, tables: [...peer.tables.values()], table: 0, entries: undefined };
  }

  /**
   * Withdraws up to `budget` (> 0) routes of the cursor's peer, table by table in order of first use, each with a
   * route-withdrawn event. True when the peer holds no route any more (its tables are then reset); false when
   * the budget ran out first (call again with the same cursor to go on).
   */
  private flushSome(cursor: FlushCursor, budget: number): boolean {
    const { peer, cause, now, bmpTimestamp } = cursor;
    const store = this.options.attributes;
    const routes = peer.routes;
    const flags = routes.flags; // no slot is allocated during a flush, so the arrays stay the same
    let left = budget;
    for (; cursor.table < cursor.tables.length; cursor.table++, cursor.entries = undefined) {
      const table = cursor.tables[cursor.table];
      const { ids, counts, bit, name } = table;
      if (counts.ipv4 + counts.ipv6 === 0) continue;
      const entries = (cursor.entries ??= routes.index.entries());
      for (;;) {
        if (left <= 0) return false;
        const next = entries.next();
        if (next.done) break;
        const slot = next.value[1];
        const id = ids[slot];
        if (id === 0) continue;
        // Only this table's column and the counts change: the index is reset once the whole peer is done.
        ids[slot] = 0;
        flags[slot] &= ~bit;
        if (flags[slot] & SLOT_IPV6) counts.ipv6--;
        else counts.ipv4--;
        this.routes--;
        const previous = store.get(id);
        store.release(previous);
        const key = next.value[0];
        if (flags[slot] & SLOT_PATH_ID) {
          const { prefix, pathId } = splitRouteKey(key);
          this.emit(withdrawnEvent(this.router, now, peer.ref, name, prefix, pathId, bmpTimestamp, false, previous, cause));
        } else {
          this.emit(withdrawnEvent(this.router, now, peer.ref, name, key, undefined, bmpTimestamp, false, previous, cause));
        }
        left--;
        if (counts.ipv4 + counts.ipv6 === 0) break;
      }
    }
    routes.reset();
    peer.tables.clear();
    peer.counts.clear();
    return true;
  }
}

function withdrawnEvent(
  router: RouterRef,
  time: number,
  peer: PeerRef,
  table: RibTable,
  prefix: string,
  pathId: number | undefined,
  bmpTimestamp: number,
  initialSync: boolean,
  previous: SharedAttributes,
  cause: WithdrawCause,
): CollectorEvent {
  return pathId === undefined
    ? { type: 'route-withdrawn', router, time, peer, table, prefix, bmpTimestamp, initialSync, previous: previous.attributes, cause }
    : { type: 'route-withdrawn', router, time, peer, table, prefix, pathId, bmpTimestamp, initialSync, previous: previous.attributes, cause };
}

export { familyOfKey, splitRouteKey };
