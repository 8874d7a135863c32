/**
 * History queries against InfluxDB 1.x (InfluxQL), answering the same two questions as the embedded store.
 *
 * Every value from the command line goes through node-influx's escapers (string literals and identifiers), so an
 * argument can never change the query. Times are sent as integer nanoseconds and read back as nanoseconds so the
 * write order within a millisecond (see NanoClock) is kept.
 */
import { escape, InfluxDB, type TimePrecision } from 'influx';
import type { HistoryEvent } from '../history-event.js';
import type { EventFilter, HistoryBackend, PeerIdentity, TimeRange } from '../history.js';
import { FIELDS, MEASUREMENTS, TAGS } from '../schema.js';
import { eventFromRow } from './points.js';

export interface InfluxConnection {
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
}

export function influxClient(connection: InfluxConnection): InfluxDB {
  const url = new URL(connection.url);
  return new InfluxDB({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 8086) : Number(url.port),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    database: connection.database,
    ...(connection.username === undefined ? {} : { username: connection.username }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
  });
}

/**
 * An InfluxQL string literal. InfluxQL's scanner knows the escapes \\, \', \" and \n and rejects any other
 * backslash sequence, so every backslash, quote and newline is escaped (node-influx's stringLit leaves
 * backslashes alone, which breaks or changes the query).
 */
export function influxString(value: string): string {
  return `'${value.replace(/[\\'\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}'`;
}
const lit = influxString;
const id = (name: string): string => escape.quoted(name);
const ns = (ms: number, extra = 0n): string => `${BigInt(Math.floor(ms)) * 1_000_000n + extra}`;
const measurement = id(MEASUREMENTS.events);

function timeClause(range: TimeRange): string {
  // `to` is inclusive to the end of its millisecond.
  return `time >= ${ns(range.from)} AND time <= ${ns(range.to, 999_999n)}`;
}

function anyOf(clauses: readonly string[]): string {
  return clauses.length === 1 ? clauses[0]! : `(${clauses.join(' OR ')})`;
}

/** Rows of a raw query, whatever node-influx's result wrapper looks like. */
interface RawSeries {
  readonly name?: string;
  readonly columns: string[];
  readonly values?: unknown[][];
  readonly tags?: Record<string, string>;
}

export class InfluxHistoryBackend implements HistoryBackend {
  readonly name = 'influxdb';

  constructor(
    private readonly client: InfluxDB,
    private readonly database: string,
  ) {}

  private async raw(query: string): Promise<RawSeries[]> {
    const response = (await this.client.queryRaw(query, { database: this.database, precision: 'n' as TimePrecision })) as {
      results?: { series?: RawSeries[]; error?: string }[];
    };
    const result = response.results?.[0];
    if (result?.error) throw new Error(`InfluxDB: ${result.error}`);
    return result?.series ?? [];
  }

  async identities(match: { addresses: readonly string[]; bgpIds: readonly string[] }, range: TimeRange): Promise<PeerIdentity[]> {
    const clauses = [...match.addresses.map((a) => `${id(TAGS.peer)} = ${lit(a)}`), ...match.bgpIds.map((b) => `${id(TAGS.peerBgpId)} = ${lit(b)}`)];
    if (clauses.length === 0) return [];
    const series = await this.raw(
      `SELECT count(${id(FIELDS.events.routerAddress)}) FROM ${measurement} WHERE ${anyOf(clauses)} AND ${timeClause(range)} GROUP BY ${id(TAGS.peer)}, ${id(TAGS.peerBgpId)}, ${id(TAGS.peerAs)}`,
    );
    const identities: PeerIdentity[] = [];
    for (const entry of series) {
      const tags = entry.tags ?? {};
      const address = tags[TAGS.peer];
      const bgpId = tags[TAGS.peerBgpId];
      const as = tags[TAGS.peerAs];
      if (!address || !bgpId || !as) continue;
      identities.push({ address, bgpId, as: Number(as) });
    }
    return identities;
  }

  async events(filter: EventFilter): Promise<HistoryEvent[]> {
    const scopes: string[] = [];
    for (const pair of filter.identities) scopes.push(`(${id(TAGS.peerBgpId)} = ${lit(pair.bgpId)} AND ${id(TAGS.peerAs)} = ${lit(String(pair.as))})`);
    for (const address of filter.routerAddresses ?? []) scopes.push(`(${id(TAGS.peer)} = '' AND ${id(FIELDS.events.routerAddress)} = ${lit(address)})`);
    if (scopes.length === 0) return [];
    let where = `${anyOf(scopes)} AND ${timeClause(filter)}`;
    if (filter.types && filter.types.length > 0) where += ` AND ${anyOf(filter.types.map((type) => `${id(TAGS.type)} = ${lit(type)}`))}`;
    if (filter.router !== undefined) where += ` AND (${id(TAGS.router)} = ${lit(filter.router)} OR ${id(FIELDS.events.routerAddress)} = ${lit(filter.router)})`;
    const series = await this.raw(`SELECT * FROM ${measurement} WHERE ${where} ORDER BY time ASC LIMIT ${Math.max(1, Math.floor(filter.limit))}`);
    const events: HistoryEvent[] = [];
    for (const entry of series) {
      const timeIndex = entry.columns.indexOf('time');
      for (const values of entry.values ?? []) {
        const row: Record<string, unknown> = {};
        entry.columns.forEach((column, index) => {
          row[column] = values[index];
        });
        const timeNs = BigInt(String(values[timeIndex]));
        events.push(eventFromRow(row, Number(timeNs / 1_000_000n)));
      }
    }
    return events;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
