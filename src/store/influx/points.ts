/**
 * InfluxDB points for history events, statistics reports and metrics snapshots. Pure: names from ../schema.ts.
 *
 * Event timestamps are nanoseconds: the arrival millisecond plus a per-writer sequence number below one
 * millisecond, because InfluxDB keeps one point per series and timestamp; a hundred prefixes of one UPDATE would
 * otherwise overwrite each other.
 */
import type { IPoint } from 'influx';
import type { PeerView, RouterView } from '../../api/views.js';
import type { RibTable } from '../../bmp/types.js';
import type { StatisticsEvent } from '../../rib/events.js';
import type { HistoryEvent, HistoryEventType } from '../history-event.js';
import { FIELDS, MEASUREMENTS, TAGS } from '../schema.js';

const NS_PER_MS = 1_000_000n;

/**
 * Unique nanosecond timestamps for points of one millisecond (up to a million per ms). The sequence is kept per
 * millisecond, not just for the last one: history events are stamped when their batch is flushed, statistics and
 * snapshots when they happen, so stamps for the same millisecond arrive interleaved with others, and restarting
 * the sequence would give two points the same timestamp (InfluxDB keeps only the last).
 */
export class NanoClock {
  private readonly next = new Map<number, number>();

  constructor(private readonly maxTracked = 100_000) {}

  stamp(ms: number): string {
    const seq = this.next.get(ms) ?? 0;
    this.next.set(ms, seq + 1);
    if (this.next.size > this.maxTracked) {
      // Milliseconds arrive in roughly increasing order, so the first inserted is the oldest.
      const oldest = this.next.keys().next();
      if (!oldest.done) this.next.delete(oldest.value);
    }
    return (BigInt(ms) * NS_PER_MS + BigInt(seq % 1_000_000)).toString();
  }
}

function withInstance(tags: Record<string, string>, instance: string | undefined): Record<string, string> {
  if (instance) tags[TAGS.instance] = instance;
  return tags;
}

export function eventPoint(event: HistoryEvent, timestampNs: string, instance?: string): IPoint {
  const tags: Record<string, string> = { [TAGS.router]: event.router, [TAGS.type]: event.type };
  if (event.peer !== undefined) tags[TAGS.peer] = event.peer;
  if (event.peerAs !== undefined) tags[TAGS.peerAs] = String(event.peerAs);
  if (event.peerBgpId !== undefined) tags[TAGS.peerBgpId] = event.peerBgpId;
  if (event.table !== undefined) tags[TAGS.table] = event.table;
  if (event.rule !== undefined) tags[TAGS.rule] = event.rule;
  if (event.severity !== undefined) tags[TAGS.severity] = event.severity;
  const f = FIELDS.events;
  const fields: Record<string, unknown> = { [f.routerAddress]: event.routerAddress };
  if (event.prefix !== undefined) fields[f.prefix] = event.prefix;
  if (event.pathId !== undefined) fields[f.pathId] = BigInt(event.pathId);
  if (event.nextHop !== undefined) fields[f.nextHop] = event.nextHop;
  if (event.asPath !== undefined) fields[f.asPath] = event.asPath;
  if (event.sync) fields[f.sync] = true;
  if (event.detail !== undefined) fields[f.detail] = event.detail;
  if (event.durationMs !== undefined) fields[f.durationMs] = BigInt(Math.round(event.durationMs));
  if (event.fingerprint !== undefined) fields[f.fingerprint] = event.fingerprint;
  return { measurement: MEASUREMENTS.events, tags: withInstance(tags, instance), fields, timestamp: timestampNs };
}

/** A row of `SELECT * FROM bmp_events` (tags and fields as columns; absent ones null) back to a history event. */
export function eventFromRow(row: Record<string, unknown>, timeMs: number): HistoryEvent {
  const text = (key: string): string | undefined => {
    const value = row[key];
    return value === null || value === undefined || value === '' ? undefined : String(value);
  };
  const f = FIELDS.events;
  const event: { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] } = {
    time: timeMs,
    type: text(TAGS.type) as HistoryEventType,
    router: text(TAGS.router) ?? '',
    routerAddress: text(f.routerAddress) ?? '',
  };
  const peer = text(TAGS.peer);
  if (peer !== undefined) event.peer = peer;
  const peerAs = text(TAGS.peerAs);
  if (peerAs !== undefined) event.peerAs = Number(peerAs);
  const peerBgpId = text(TAGS.peerBgpId);
  if (peerBgpId !== undefined) event.peerBgpId = peerBgpId;
  const table = text(TAGS.table);
  if (table !== undefined) event.table = table as RibTable;
  const prefix = text(f.prefix);
  if (prefix !== undefined) event.prefix = prefix;
  const pathId = text(f.pathId);
  if (pathId !== undefined) event.pathId = Number(pathId);
  const nextHop = text(f.nextHop);
  if (nextHop !== undefined) event.nextHop = nextHop;
  // An empty AS path (IBGP) is a value, not an absence.
  const asPath = row[f.asPath];
  if (typeof asPath === 'string') event.asPath = asPath;
  if (row[f.sync] === true) event.sync = true;
  const detail = text(f.detail);
  if (detail !== undefined) event.detail = detail;
  const durationMs = text(f.durationMs);
  if (durationMs !== undefined) event.durationMs = Number(durationMs);
  const rule = text(TAGS.rule);
  if (rule !== undefined) event.rule = rule;
  const severity = text(TAGS.severity);
  if (severity !== undefined) event.severity = severity;
  const fingerprint = text(f.fingerprint);
  if (fingerprint !== undefined) event.fingerprint = fingerprint;
  return event;
}

export function statisticsPoints(event: StatisticsEvent, timestampNs: string, instance?: string): IPoint[] {
  return event.stats
    .filter((stat) => Number.isFinite(stat.value) && stat.hex === undefined)
    .map((stat) => {
      const tags: Record<string, string> = {
        [TAGS.router]: event.router.name,
        [TAGS.peer]: event.peer.address,
        [TAGS.peerAs]: String(event.peer.as),
        [TAGS.stat]: stat.name,
      };
      if (stat.afi !== undefined && stat.safi !== undefined) tags[TAGS.afiSafi] = `${stat.afi}/${stat.safi}`;
      return { measurement: MEASUREMENTS.statistics, tags: withInstance(tags, instance), fields: { [FIELDS.statistics.value]: stat.value }, timestamp: timestampNs };
    });
}

/** Route events per peer within one metrics interval. */
export interface PeerActivity {
  announcements: number;
  withdrawals: number;
  changes: number;
}

const TABLES: readonly RibTable[] = ['adj-rib-in-pre', 'adj-rib-in-post', 'loc-rib', 'adj-rib-out-pre', 'adj-rib-out-post'];

export function peerActivityKey(router: string, peer: string): string {
  return `${router}|${peer}`;
}

/** One metrics snapshot: routers, peers, prefix counts. `activity` is keyed by peerActivityKey(routerId, address). */
export function snapshotPoints(
  routers: readonly RouterView[],
  peers: readonly PeerView[],
  activity: ReadonlyMap<string, PeerActivity>,
  timestampNs: string,
  instance?: string,
  /** Route-flap figure of merit by peer address (absent: 0). */
  flapMerits: ReadonlyMap<string, number> = new Map(),
): IPoint[] {
  const points: IPoint[] = [];
  const rf = FIELDS.router;
  for (const router of routers) {
    const routerPeers = peers.filter((peer) => peer.routerId === router.id);
    points.push({
      measurement: MEASUREMENTS.router,
      tags: withInstance({ [TAGS.router]: router.name }, instance),
      fields: {
        [rf.up]: 1n,
        [rf.uptimeSeconds]: BigInt(Math.round(router.uptimeSeconds)),
        [rf.messages]: BigInt(router.messages),
        [rf.bytes]: BigInt(router.bytes),
        [rf.decodeErrors]: BigInt(router.decodeErrors),
        [rf.peers]: BigInt(routerPeers.filter((peer) => !peer.isLocal).length),
        [rf.peersUp]: BigInt(routerPeers.filter((peer) => !peer.isLocal && peer.state === 'up').length),
        [rf.routes]: BigInt(router.routes),
        [rf.address]: router.address,
      },
      timestamp: timestampNs,
    });
  }
  const pf = FIELDS.peer;
  for (const peer of peers) {
    const tags = withInstance(
      { [TAGS.router]: peer.router, [TAGS.peer]: peer.address, [TAGS.peerAs]: String(peer.as), [TAGS.peerBgpId]: peer.bgpId, [TAGS.peerType]: peer.peerType },
      instance,
    );
    const counts = activity.get(peerActivityKey(peer.routerId, peer.address)) ?? { announcements: 0, withdrawals: 0, changes: 0 };
    points.push({
      measurement: MEASUREMENTS.peer,
      tags,
      fields: {
        [pf.up]: peer.state === 'up' ? 1n : 0n,
        [pf.uptimeSeconds]: BigInt(Math.round(peer.uptimeSeconds ?? 0)),
        [pf.resets]: BigInt(peer.resets),
        [pf.announcements]: BigInt(counts.announcements),
        [pf.withdrawals]: BigInt(counts.withdrawals),
        [pf.changes]: BigInt(counts.changes),
        [pf.flapMerit]: flapMerits.get(peer.address) ?? 0,
      },
      timestamp: timestampNs,
    });
    for (const table of TABLES) {
      const count = peer.prefixes[table];
      for (const family of ['ipv4', 'ipv6'] as const) {
        if (count[family] === 0 && table.startsWith('adj-rib-out')) continue;
        points.push({
          measurement: MEASUREMENTS.peerPrefixes,
          tags: { ...tags, [TAGS.table]: table, [TAGS.family]: family },
          fields: { [FIELDS.peerPrefixes.prefixes]: BigInt(count[family]) },
          timestamp: timestampNs,
        });
      }
    }
  }
  return points;
}
