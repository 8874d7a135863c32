/**
 * History in the embedded SQLite store: the back-end `bmpwatch serve` uses when no InfluxDB is configured.
 *
 * Writes are buffered and committed in one transaction per flush (by size or every flushIntervalMs), so a burst
 * of route events costs one fsync, not thousands. Every value is bound as a parameter: no text from the network
 * or the command line is ever spliced into SQL.
 */
import type { HistoryEvent, HistoryEventType } from '../history-event.js';
import type { EventFilter, HistoryBackend, PeerIdentity, TimeRange } from '../history.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import type { RibTable } from '../../bmp/types.js';

interface EventRow {
  time: number;
  type: string;
  router: string;
  router_address: string;
  peer: string | null;
  peer_as: number | null;
  peer_bgp_id: string | null;
  rib_table: string | null;
  prefix: string | null;
  path_id: number | null;
  next_hop: string | null;
  as_path: string | null;
  sync: number | null;
  detail: string | null;
  duration_ms: number | null;
  rule: string | null;
  severity: string | null;
  fingerprint: string | null;
}

const COLUMNS = [
  'time',
  'type',
  'router',
  'router_address',
  'peer',
  'peer_as',
  'peer_bgp_id',
  'rib_table',
  'prefix',
  'path_id',
  'next_hop',
  'as_path',
  'sync',
  'detail',
  'duration_ms',
  'rule',
  'severity',
  'fingerprint',
] as const;

function toRow(event: HistoryEvent): EventRow {
  return {
    time: event.time,
    type: event.type,
    router: event.router,
    router_address: event.routerAddress,
    peer: event.peer ?? null,
    peer_as: event.peerAs ?? null,
    peer_bgp_id: event.peerBgpId ?? null,
    rib_table: event.table ?? null,
    prefix: event.prefix ?? null,
    path_id: event.pathId ?? null,
    next_hop: event.nextHop ?? null,
    as_path: event.asPath ?? null,
    sync: event.sync ? 1 : null,
    detail: event.detail ?? null,
    duration_ms: event.durationMs ?? null,
    rule: event.rule ?? null,
    severity: event.severity ?? null,
    fingerprint: event.fingerprint ?? null,
  };
}

function fromRow(row: EventRow): HistoryEvent {
  const event: { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] } = {
    time: row.time,
    type: row.type as HistoryEventType,
    router: row.router,
    routerAddress: row.router_address,
  };
  if (row.peer !== null) event.peer = row.peer;
  if (row.peer_as !== null) event.peerAs = row.peer_as;
  if (row.peer_bgp_id !== null) event.peerBgpId = row.peer_bgp_id;
  if (row.rib_table !== null) event.table = row.rib_table as RibTable;
  if (row.prefix !== null) event.prefix = row.prefix;
  if (row.path_id !== null) event.pathId = row.path_id;
  if (row.next_hop !== null) event.nextHop = row.next_hop;
  if (row.as_path !== null) event.asPath = row.as_path;
  if (row.sync) event.sync = true;
  if (row.detail !== null) event.detail = row.detail;
  if (row.duration_ms !== null) event.durationMs = row.duration_ms;
  if (row.rule !== null) event.rule = row.rule;
  if (row.severity !== null) event.severity = row.severity;
  if (row.fingerprint !== null) event.fingerprint = row.fingerprint;
  return event;
}

/** SQLite's default limit on bound parameters is 32766; stay far below it. */
const MAX_LIST_PARAMETERS = 500;

export class SqliteHistoryStore implements HistoryBackend {
  readonly name = 'sqlite';
  private statements: { insertEvent: Statement; upsertIdentity: Statement } | undefined;

  constructor(private readonly db: SqliteDatabase) {}

  /** Prepared on first write, so a read-only store never prepares writes. */
  private writeStatements(): { insertEvent: Statement; upsertIdentity: Statement } {
    this.statements ??= {
      insertEvent: this.db.prepare(`INSERT INTO events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`),
      upsertIdentity: this.db.prepare(
        `INSERT INTO peer_identities (address, bgp_id, as_number, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (address, bgp_id, as_number) DO UPDATE SET
           first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
      ),
    };
    return this.statements;
  }

  /** Writes events in one transaction. */
  append(events: readonly HistoryEvent[]): void {
    if (events.length === 0) return;
    // Identities change rarely: fold each batch to one upsert per identity.
    const seen = new Map<string, { address: string; bgpId: string; as: number; first: number; last: number }>();
    for (const event of events) {
      if (event.peer === undefined || event.peerBgpId === undefined || event.peerAs === undefined) continue;
      const key = `${event.peer}|${event.peerBgpId}|${event.peerAs}`;
      const entry = seen.get(key);
      if (entry) {
        entry.first = Math.min(entry.first, event.time);
        entry.last = Math.max(entry.last, event.time);
      } else {
        seen.set(key, { address: event.peer, bgpId: event.peerBgpId, as: event.peerAs, first: event.time, last: event.time });
      }
    }
    const { insertEvent, upsertIdentity } = this.writeStatements();
    this.db.transaction(() => {
      for (const event of events) insertEvent.run(toRow(event));
      for (const entry of seen.values()) upsertIdentity.run(entry.address, entry.bgpId, entry.as, entry.first, entry.last);
    })();
  }

  /** Deletes events older than `before` (ms), at most `batch` rows per call so a large purge never blocks long. */
  prune(before: number, batch = 10_000): number {
    const result = this.db.prepare('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? LIMIT ?)').run(before, batch);
    this.db.prepare('DELETE FROM peer_identities WHERE last_seen < ?').run(before);
    return result.changes;
  }

  identities(match: { addresses: readonly string[]; bgpIds: readonly string[] }, range: TimeRange): Promise<PeerIdentity[]> {
    const addresses = match.addresses.slice(0, MAX_LIST_PARAMETERS);
    const bgpIds = match.bgpIds.slice(0, MAX_LIST_PARAMETERS);
    const conditions: string[] = [];
    if (addresses.length > 0) conditions.push(`address IN (${addresses.map(() => '?').join(', ')})`);
    if (bgpIds.length > 0) conditions.push(`bgp_id IN (${bgpIds.map(() => '?').join(', ')})`);
    if (conditions.length === 0) return Promise.resolve([]);
    const rows = this.db
      .prepare(
        `SELECT address, bgp_id AS bgpId, as_number AS "as" FROM peer_identities
         WHERE (${conditions.join(' OR ')}) AND first_seen <= ? AND last_seen >= ?
         ORDER BY first_seen, address`,
      )
      .all(...addresses, ...bgpIds, range.to, range.from) as PeerIdentity[];
    return Promise.resolve(rows);
  }

  events(filter: EventFilter): Promise<HistoryEvent[]> {
    const parameters: (string | number)[] = [];
    const scopes: string[] = [];
    const pairs = filter.identities.slice(0, MAX_LIST_PARAMETERS);
    if (pairs.length > 0) {
      scopes.push(`(${pairs.map(() => '(peer_bgp_id = ? AND peer_as = ?)').join(' OR ')})`);
      for (const pair of pairs) parameters.push(pair.bgpId, pair.as);
    }
    const routers = (filter.routerAddresses ?? []).slice(0, MAX_LIST_PARAMETERS);
    if (routers.length > 0) {
      scopes.push(`(peer IS NULL AND router_address IN (${routers.map(() => '?').join(', ')}))`);
      parameters.push(...routers);
    }
    if (scopes.length === 0) return Promise.resolve([]);
    let sql = `SELECT ${COLUMNS.join(', ')} FROM events WHERE (${scopes.join(' OR ')}) AND time >= ? AND time <= ?`;
    parameters.push(filter.from, filter.to);
    if (filter.types && filter.types.length > 0) {
      sql += ` AND type IN (${filter.types.map(() => '?').join(', ')})`;
      parameters.push(...filter.types);
    }
    if (filter.router !== undefined) {
      sql += ' AND (router = ? OR router_address = ?)';
      parameters.push(filter.router, filter.router);
    }
    sql += ' ORDER BY time, id LIMIT ?';
    parameters.push(filter.limit);
    const rows = this.db.prepare(sql).all(...parameters) as EventRow[];
    return Promise.resolve(rows.map(fromRow));
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
