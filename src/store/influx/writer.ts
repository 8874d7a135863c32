/**
 * InfluxDB 1.x writer: the transport under the history store. Schema-agnostic: it takes points (measurement,
 * tags, fields, timestamp), serialises them to line protocol at once, keeps them in a bounded in-memory buffer and
 * sends them in batches over HTTP (`POST /write`), surviving InfluxDB outages without ever blocking ingestion.
 *
 * Options (InfluxWriterOptions; defaults in brackets):
 *   url                   `http(s)://[user:pass@]host:port[/prefix]`; overrides host/port/protocol [unset]
 *   host / port / protocol                                              [127.0.0.1 / 8086 / http]
 *   database                                                             [bmpwatch]
 *   username / password   Basic auth; the password is never logged (nor the URL's user info)   [unset]
 *   retentionPolicy       {name, duration, replication, default}: created if missing, altered if it differs
 *                         (duration: an InfluxQL literal such as 30d, 12h, 2w, or INF; at least 1h)
 *                                                                      [{bmpwatch, 30d, 1, true}]
 *   createDatabase        run CREATE DATABASE / RETENTION POLICY at start; false: assume they exist   [true]
 *   precision             n | u | ms | s | m | h: unit of the timestamps given (passed through unchanged) [n]
 *   batchSize             points per request                                                  [5000]
 *   flushIntervalMs       longest a point waits for a fuller batch                             [1000]
 *   maxBufferedPoints     bound on points held (queued + in flight); >= batchSize               [100000]
 *   retryBackoffMinMs / retryBackoffMaxMs   exponential backoff between failed attempts        [500 / 30000]
 *   requestTimeoutMs      per HTTP request                                                     [10000]
 *   stopTimeoutMs         stop() flushes for at most this long, then gives up                   [5000]
 *
 * Behaviour:
 * - write(points) is synchronous and never throws. A point that cannot be written as line protocol (no fields, a
 *   non-finite number, a newline or a trailing backslash in a measurement, tag or field key or tag value, in a
 *   measurement or field key a backslash before `"`, `=`, `,` or space, a measurement starting with '#', a key
 *   named "time", a bad timestamp; see identifierProblem) is refused there, counted as rejected
 *   (and `invalid`) and logged (rate-limited, with a sample). InfluxDB 1.x cannot store those: a newline in a tag
 *   would even split the line into a second, forged point. Empty or null tag values are omitted (InfluxDB reads an
 *   absent tag as ""); null fields are omitted. Integers: pass a bigint (written as `123i`); a number is a float.
 * - Points without a timestamp are stamped when write() is called (never by the server at delivery time, which
 *   would misdate points sent after an outage and duplicate retried ones); at precision n or u, points stamped in
 *   the same millisecond get consecutive sub-millisecond offsets so they stay distinct.
 * - Bounded buffer, drop OLDEST: when a write would exceed maxBufferedPoints the oldest queued points (never the
 *   batch in flight) are discarded and counted in `dropped`. Like Telegraf's metric buffer: during a long outage
 *   the newest data (the current state of the route servers, what alerts and dashboards need first) survives,
 *   and the gap is one contiguous interval at the start of the outage that `dropped` and the timestamps describe.
 * - Flush: a batch goes out as soon as batchSize points are queued, and everything queued goes out at least every
 *   flushIntervalMs. One request at a time, in order.
 * - Failures: no response (refused, reset, timeout), 5xx, 408, 429, 401 and 403 are transient: the batch goes back
 *   to the head of the queue and is retried after min*2^k ms (capped at max), with jitter (half the delay random).
 *   Retries are safe: points with the same series and timestamp overwrite each other in InfluxDB. HTTP 400 (and
 *   other 4xx) are permanent: the points InfluxDB refused are counted as rejected (for a "partial write" the
 *   count it reports, the rest counted as written), logged rate-limited with a sample, and the writer moves on.
 *   "database not found" / "retention policy not found" re-run the database setup, then retry.
 * - start() returns at once; database and retention policy are created in the background, retried with backoff
 *   while InfluxDB is unreachable; points are buffered meanwhile. `ready` resolves once that is done.
 * - stop(timeoutMs) flushes what it can until the deadline (retrying at the minimum backoff), then aborts, counts
 *   what is left as `abandoned` and resolves with a report. Points written after stop() count as dropped.
 * - Every point is accounted for: submitted = written + dropped + rejected + abandoned + buffered. (A request
 *   aborted by stop()'s deadline may still have reached InfluxDB; its points count as abandoned.)
 * - Metrics: pass a prom-client Registry to get bmpwatch_influx_* counters and gauges (one writer per registry).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InfluxDB, type IPoint } from 'influx';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../observability/logger.js';
import { systemClock, type Clock } from '../../util/clock.js';

// ---------------------------------------------------------------------------------------------------------------
// Options and public types

export type InfluxPrecision = 'n' | 'u' | 'ms' | 's' | 'm' | 'h';

export interface RetentionPolicyOptions {
  readonly name: string;
  /** InfluxQL duration literal: 30d, 12h, 2w, … or INF (keep forever). At least 1h. */
  readonly duration: string;
  readonly replication?: number;
  /** Make it the database's default retention policy (what queries without an RP read). */
  readonly default?: boolean;
}

export interface InfluxWriterOptions {
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  readonly database?: string;
  readonly username?: string;
  readonly password?: string;
  readonly retentionPolicy?: RetentionPolicyOptions;
  readonly createDatabase?: boolean;
  readonly precision?: InfluxPrecision;
  readonly batchSize?: number;
  readonly flushIntervalMs?: number;
  readonly maxBufferedPoints?: number;
  readonly retryBackoffMinMs?: number;
  readonly retryBackoffMaxMs?: number;
  readonly requestTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
}

export const INFLUX_WRITER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8086,
  protocol: 'http',
  database: 'bmpwatch',
  retentionPolicy: { name: 'bmpwatch', duration: '30d', replication: 1, default: true },
  createDatabase: true,
  precision: 'n',
  batchSize: 5000,
  flushIntervalMs: 1000,
  maxBufferedPoints: 100_000,
  retryBackoffMinMs: 500,
  retryBackoffMaxMs: 30_000,
  requestTimeoutMs: 10_000,
  stopTimeoutMs: 5_000,
} as const;

/** A point as node-influx defines it, plus bigint integer fields and bigint timestamps. */
export interface InfluxPoint extends Omit<IPoint, 'timestamp'> {
  readonly measurement?: string;
  readonly timestamp?: Date | string | number | bigint;
}

export interface InfluxWriterStats {
  /** Points passed to write(). */
  submitted: number;
  /** Points InfluxDB acknowledged. */
  written: number;
  /** Points discarded because the buffer was full (oldest first), or written after stop(). */
  dropped: number;
  /** Points refused for good: by InfluxDB (HTTP 4xx) or, before sending, as not representable (`invalid`). */
  rejected: number;
  /** The part of `rejected` refused by write() itself. */
  invalid: number;
  /** Points still buffered when stop() gave up. */
  abandoned: number;
  /** Failed write attempts that were retried (one per failed request). */
  retries: number;
  /** Points queued or in flight right now. */
  buffered: number;
  /** Successful write requests. */
  batches: number;
  /** Database and retention policy are in place. */
  ready: boolean;
  lastError: string | undefined;
  lastErrorTime: number | undefined;
  lastSuccessTime: number | undefined;
}

export interface StopReport {
  /** Everything buffered at the deadline was written. */
  readonly flushed: boolean;
  readonly durationMs: number;
  readonly stats: InfluxWriterStats;
}

// ---------------------------------------------------------------------------------------------------------------
// Transport (injectable, so the buffer and retry logic can be tested without a server)

export type WriteOutcome =
  | { readonly kind: 'ok' }
  /** Permanent: `rejected` of the batch's points were refused (the others, if any, were written). */
  | { readonly kind: 'rejected'; readonly rejected: number; readonly status: number; readonly message: string }
  /** Transient: nothing (known to be) written; send the batch again later. */
  | { readonly kind: 'retry'; readonly status?: number; readonly message: string }
  /** The database or retention policy is gone: set them up again, then retry. */
  | { readonly kind: 'missing'; readonly status: number; readonly message: string };

export type SetupOutcome =
  | { readonly kind: 'ok' }
  /** Not allowed to create them (no admin rights): assume they exist and start writing. */
  | { readonly kind: 'forbidden'; readonly message: string }
  | { readonly kind: 'retry'; readonly message: string };

export interface InfluxTransport {
  /** POSTs one batch (line protocol, lines joined by \n). Never rejects. */
  write(body: string, points: number, signal: AbortSignal): Promise<WriteOutcome>;
  /** Creates the database and retention policy (idempotent). Never rejects. */
  setup(): Promise<SetupOutcome>;
  /** Releases sockets. */
  close(): void;
}

export interface InfluxWriterDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Uniform [0, 1), for the backoff jitter. Default Math.random. */
  readonly random?: () => number;
  /** Default: HTTP to the configured server. */
  readonly transport?: InfluxTransport;
  /** Registers bmpwatch_influx_* metrics here. */
  readonly registry?: Registry;
}

// ---------------------------------------------------------------------------------------------------------------
// Line protocol (InfluxDB 1.x)

export class InvalidPointError extends Error {}

const NS_PER_UNIT: Record<InfluxPrecision, bigint> = { n: 1n, u: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export type IdentifierKind = 'measurement' | 'tag key' | 'tag value' | 'field key';

/**
 * Why InfluxDB 1.6 cannot store this measurement, tag key, tag value or field key exactly (undefined: it can).
 * Found against influxd 1.6.7: a newline ends the line, a trailing backslash escapes the separator after it, and
 * in measurements and field keys a backslash before `"`, `=`, `,` or a space is either dropped or a parse error.
 */
export function identifierProblem(value: string, kind: IdentifierKind = 'tag value'): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.includes('\n')) return 'contains a newline';
  if (value.endsWith('\\')) return 'ends with a backslash';
  if ((kind === 'measurement' || kind === 'field key') && /\\["=, ]/.test(value)) return 'has a backslash before one of " = , or space';
  return undefined;
}

/**
 * Makes a tag value storable (for callers that prefer a close value to a refused point): newlines become spaces
 * and a trailing backslash becomes U+FF3C (fullwidth reverse solidus).
 */
export function sanitizeTagValue(value: string): string {
  let out = value.replace(/\r?\n/g, ' ');
  if (out.endsWith('\\')) out = `${out.slice(0, -1)}\uFF3C`;
  return out;
}

function invalidIdentifier(kind: IdentifierKind, value: string, problem: string, key?: string): InvalidPointError {
  const what = key === undefined ? kind : `tag ${JSON.stringify(key)} value`;
  return new InvalidPointError(`${what} ${JSON.stringify(value.slice(0, 80))} ${problem}`);
}

/** Checks a tag value (most vary per point) and escapes it; the regex tests keep the common case cheap. */
function tagValue(value: string, key: string): string {
  if (value.includes('\n') || value.endsWith('\\')) throw invalidIdentifier('tag value', value, identifierProblem(value, 'tag value') ?? 'is invalid', key);
  return /[,= ]/.test(value) ? value.replace(/[,= ]/g, '\\$&') : value;
}

/**
 * Measurements, tag keys and field keys repeat from point to point: checked and escaped once, then cached (the
 * cache is cleared when it grows past IDENTIFIER_CACHE_MAX, so arbitrary keys cannot grow it without bound).
 */
const IDENTIFIER_CACHE_MAX = 10_000;
const identifierCaches: Record<Exclude<IdentifierKind, 'tag value'>, Map<string, string>> = { measurement: new Map(), 'tag key': new Map(), 'field key': new Map() };

function identifier(kind: Exclude<IdentifierKind, 'tag value'>, value: string): string {
  const cache = identifierCaches[kind];
  const hit = cache.get(value);
  if (hit !== undefined) return hit;
  const problem = identifierProblem(value, kind) ?? (kind === 'measurement' && value.startsWith('#') ? 'starts with # (a comment line to InfluxDB)' : undefined) ?? (kind !== 'measurement' && value === 'time' ? 'is reserved' : undefined);
  if (problem !== undefined) throw invalidIdentifier(kind, value, problem);
  const escaped = kind === 'measurement' ? value.replace(/[, ]/g, '\\$&') : value.replace(/[,= ]/g, '\\$&');
  if (cache.size >= IDENTIFIER_CACHE_MAX) cache.clear();
  cache.set(value, escaped);
  return escaped;
}

const escapeString = (s: string): string => (/["\\]/.test(s) ? s.replace(/["\\]/g, '\\$&') : s);

function formatField(key: string, value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidPointError(`field ${JSON.stringify(key)} is ${value}`);
      return String(value);
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new InvalidPointError(`field ${JSON.stringify(key)} is out of the int64 range`);
      return `${value}i`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return `"${escapeString(value)}"`;
    case 'undefined':
      return undefined;
    default:
      if (value === null) return undefined;
      throw new InvalidPointError(`field ${JSON.stringify(key)} has unsupported type ${typeof value}`);
  }
}

function formatTimestamp(ts: Date | string | number | bigint, precision: InfluxPrecision): string {
  if (typeof ts === 'bigint') return String(ts);
  if (typeof ts === 'string') {
    if (!/^-?\d+$/.test(ts)) throw new InvalidPointError(`timestamp ${JSON.stringify(ts.slice(0, 40))} is not an integer`);
    return ts;
  }
  if (typeof ts === 'number') {
    const text = String(ts);
    if (!Number.isInteger(ts) || !/^-?\d+$/.test(text)) throw new InvalidPointError(`timestamp ${text} is not an integer`);
    return text;
  }
  if (ts instanceof Date) {
    const ms = ts.getTime();
    if (Number.isNaN(ms)) throw new InvalidPointError('timestamp is an invalid Date');
    // node-influx's INanoDate carries the nanoseconds as a string.
    const nano = (ts as { getNanoTime?: () => string }).getNanoTime;
    const ns = typeof nano === 'function' ? BigInt(nano.call(ts)) : BigInt(ms) * 1_000_000n;
    return String(ns / NS_PER_UNIT[precision]);
  }
  throw new InvalidPointError(`timestamp has unsupported type ${typeof ts}`);
}

/**
 * One point as a line of InfluxDB 1.x line protocol; `timestamp` (already in `precision` units) is used when the
 * point has none. Throws InvalidPointError for points InfluxDB could not store exactly.
 */
export function toLineProtocol(point: InfluxPoint, precision: InfluxPrecision, timestamp: () => string): string {
  const measurement = point.measurement;
  if (typeof measurement !== 'string') throw new InvalidPointError('measurement is missing');
  let line = identifier('measurement', measurement);
  const tags = point.tags;
  if (tags !== undefined && tags !== null) {
    const tagKeys = Object.keys(tags);
    if (tagKeys.length > 1) tagKeys.sort(); // InfluxDB's recommendation: tags sorted by key
    for (const key of tagKeys) {
      const raw: unknown = tags[key];
      if (raw === undefined || raw === null || raw === '') continue;
      let value: string;
      if (typeof raw === 'string') value = raw;
      else if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') value = String(raw);
      else throw new InvalidPointError(`tag ${JSON.stringify(key)} has unsupported type ${typeof raw}`);
      line += `,${identifier('tag key', key)}=${tagValue(value, key)}`;
    }
  }
  let fieldCount = 0;
  const fields = (point.fields ?? {}) as Record<string, unknown>;
  for (const key in fields) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
    const value = formatField(key, fields[key]);
    if (value === undefined) continue;
    line += `${fieldCount === 0 ? ' ' : ','}${identifier('field key', key)}=${value}`;
    fieldCount++;
  }
  if (fieldCount === 0) throw new InvalidPointError('point has no fields');
  const ts = point.timestamp;
  line += ` ${ts === undefined || ts === null ? timestamp() : formatTimestamp(ts, precision)}`;
  return line;
}

// ---------------------------------------------------------------------------------------------------------------
// Durations (InfluxQL) — validated because node-influx interpolates them into the query as is

const DURATION_NS: Record<string, bigint> = { ns: 1n, u: 1_000n, µ: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n };
const ONE_HOUR_NS = 3_600_000_000_000n;

/** Nanoseconds of an InfluxDB duration ("30d", "720h0m0s", "INF", "0s"); 0n = infinite; undefined if malformed. */
export function parseInfluxDuration(text: string): bigint | undefined {
  if (/^inf$/i.test(text) || text === '0') return 0n;
  const re = /(\d+)(ns|u|µ|ms|s|m|h|d|w)/gy;
  let total = 0n;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += BigInt(m[1]) * DURATION_NS[m[2]];
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP transport

/** Classifies the answer to POST /write. Exported for tests. */
export function classifyWriteResponse(status: number, body: string, points: number): WriteOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status < 100) return { kind: 'retry', message: `no valid HTTP status (${status})` };
  const message = errorMessage(status, body);
  if (/database not found|retention policy not found/i.test(message)) return { kind: 'missing', status, message };
  if (status >= 500 || status === 408 || status === 429 || status === 401 || status === 403) return { kind: 'retry', status, message };
  let rejected = points;
  if (/partial write/i.test(message)) {
    // "partial write: field type conflict: … dropped=N"; unparsable lines are listed ("unable to parse '…'") and
    // reported as dropped=0. The other points of the batch were written.
    const dropped = /dropped=(\d+)\s*$/.exec(message);
    const unparsable = message.split("unable to parse '").length - 1;
    rejected = Math.min(points, Math.max(1, (dropped ? Number(dropped[1]) : 0) + unparsable));
  }
  return { kind: 'rejected', rejected, status, message };
}

function errorMessage(status: number, body: string): string {
  let text = body.trim();
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') text = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  return `HTTP ${status}${text ? `: ${text.slice(0, 500)}` : ''}`;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

interface Endpoint {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Path prefix without a trailing slash ('' for none). */
  readonly path: string;
  readonly username?: string;
  readonly password?: string;
}

/** host/port/protocol or url (user info moved to username/password). */
function resolveEndpoint(options: InfluxWriterOptions): Endpoint {
  let username = options.username;
  let password = options.password;
  if (options.url !== undefined) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`influx url: unsupported protocol ${url.protocol}`);
    if (url.username) username ??= decodeURIComponent(url.username);
    if (url.password) password ??= decodeURIComponent(url.password);
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return {
      protocol,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : protocol === 'https' ? 443 : INFLUX_WRITER_DEFAULTS.port,
      path: url.pathname.replace(/\/+$/, ''),
      username,
      password,
    };
  }
  return {
    protocol: options.protocol ?? INFLUX_WRITER_DEFAULTS.protocol,
    host: options.host ?? INFLUX_WRITER_DEFAULTS.host,
    port: options.port ?? INFLUX_WRITER_DEFAULTS.port,
    path: '',
    username,
    password,
  };
}

function endpointLabel(e: Endpoint): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `${e.protocol}://${host}:${e.port}${e.path}`;
}

/** node-influx's pool disables a host after a failure when the delay is > 0; the writer does its own backoff. */
const NO_BACKOFF = {
  getDelay: () => 0,
  next() {
    return this;
  },
  reset() {
    return this;
  },
};

/** Messages only: node-influx's errors carry the request (with its Authorization header) and must not be logged whole. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message || error.name;
  }
  return String(error);
}

export class HttpInfluxTransport implements InfluxTransport {
  private readonly agent: HttpAgent;
  private readonly admin: InfluxDB;
  private readonly auth: string | undefined;
  private readonly writePath: string;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly database: string,
    private readonly rp: Required<RetentionPolicyOptions>,
    private readonly precision: InfluxPrecision,
    private readonly requestTimeoutMs: number,
  ) {
    this.agent = endpoint.protocol === 'https' ? new HttpsAgent({ keepAlive: true, maxSockets: 4 }) : new HttpAgent({ keepAlive: true, maxSockets: 4 });
    this.auth = endpoint.username !== undefined ? `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password ?? ''}`).toString('base64')}` : undefined;
    const query = new URLSearchParams({ db: database, rp: rp.name, precision });
    this.writePath = `${endpoint.path}/write?${query.toString()}`;
    this.admin = new InfluxDB({
      host: endpoint.host,
      port: endpoint.port,
      protocol: endpoint.protocol,
      path: endpoint.path,
      database,
      username: endpoint.username,
      password: endpoint.password,
      options: { agent: this.agent },
      pool: { maxRetries: 0, requestTimeout: requestTimeoutMs, backoff: NO_BACKOFF },
    });
  }

  write(body: string, points: number, signal: AbortSignal): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (outcome: WriteOutcome): void => {
        if (!settled) {
          settled = true;
          resolve(outcome);
        }
      };
      const payload = Buffer.from(body, 'utf8');
      const headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': payload.length };
      if (this.auth) headers.authorization = this.auth;
      const send = this.endpoint.protocol === 'https' ? httpsRequest : httpRequest;
      const req = send(
        { hostname: this.endpoint.host, port: this.endpoint.port, method: 'POST', path: this.writePath, headers, agent: this.agent, signal },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => done(classifyWriteResponse(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), points)));
          res.on('error', (error) => done({ kind: 'retry', message: describeError(error) }));
        },
      );
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)));
      req.on('error', (error) => done({ kind: 'retry', message: describeError(error) }));
      req.end(payload);
    });
  }

  async setup(): Promise<SetupOutcome> {
    try {
      await this.admin.createDatabase(this.database);
      const policies = await this.admin.showRetentionPolicies(this.database);
      const wanted = { duration: this.rp.duration, replication: this.rp.replication, isDefault: this.rp.default, database: this.database };
      const existing = policies.find((p) => p.name === this.rp.name);
      if (!existing) {
        await this.admin.createRetentionPolicy(this.rp.name, wanted);
      } else if (
        parseInfluxDuration(existing.duration) !== parseInfluxDuration(this.rp.duration) ||
        existing.replicaN !== this.rp.replication ||
        (this.rp.default && !existing.default)
      ) {
        await this.admin.alterRetentionPolicy(this.rp.name, wanted);
      }
      return { kind: 'ok' };
    } catch (error) {
      const message = describeError(error);
      const status = (error as { res?: { statusCode?: number } }).res?.statusCode;
      if (status === 401 || status === 403 || /authoriz|privilege/i.test(message)) return { kind: 'forbidden', message };
      // Unreachable, 5xx, timeouts, and anything unexpected: try again later (the options were validated).
      return { kind: 'retry', message };
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The writer

interface Resolved {
  readonly database: string;
  readonly retentionPolicy: Required<RetentionPolicyOptions>;
  readonly createDatabase: boolean;
  readonly precision: InfluxPrecision;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxBufferedPoints: number;
  readonly retryBackoffMinMs: number;
  readonly retryBackoffMaxMs: number;
  readonly requestTimeoutMs: number;
  readonly stopTimeoutMs: number;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`influx writer: ${name} must be a positive integer (got ${value})`);
  return value;
}

function resolveOptions(o: InfluxWriterOptions): Resolved {
  const d = INFLUX_WRITER_DEFAULTS;
  const rp = { ...d.retentionPolicy, ...o.retentionPolicy };
  const duration = parseInfluxDuration(rp.duration);
  if (!/^(\d+(ns|u|µ|ms|s|m|h|d|w)|INF)$/i.test(rp.duration) || duration === undefined) {
    throw new Error(`influx writer: retentionPolicy.duration ${JSON.stringify(rp.duration)} is not an InfluxQL duration (e.g. 30d, 12h, INF)`);
  }
  if (duration !== 0n && duration < ONE_HOUR_NS) throw new Error('influx writer: retentionPolicy.duration must be at least 1h (or INF)');
  if (!rp.name) throw new Error('influx writer: retentionPolicy.name is empty');
  const resolved: Resolved = {
    database: o.database ?? d.database,
    retentionPolicy: { name: rp.name, duration: rp.duration, replication: positiveInt('retentionPolicy.replication', rp.replication ?? 1), default: rp.default ?? true },
    createDatabase: o.createDatabase ?? d.createDatabase,
    precision: o.precision ?? d.precision,
    batchSize: positiveInt('batchSize', o.batchSize ?? d.batchSize),
    flushIntervalMs: positiveInt('flushIntervalMs', o.flushIntervalMs ?? d.flushIntervalMs),
    maxBufferedPoints: positiveInt('maxBufferedPoints', o.maxBufferedPoints ?? d.maxBufferedPoints),
    retryBackoffMinMs: positiveInt('retryBackoffMinMs', o.retryBackoffMinMs ?? d.retryBackoffMinMs),
    retryBackoffMaxMs: positiveInt('retryBackoffMaxMs', o.retryBackoffMaxMs ?? d.retryBackoffMaxMs),
    requestTimeoutMs: positiveInt('requestTimeoutMs', o.requestTimeoutMs ?? d.requestTimeoutMs),
    stopTimeoutMs: positiveInt('stopTimeoutMs', o.stopTimeoutMs ?? d.stopTimeoutMs),
  };
  if (!resolved.database) throw new Error('influx writer: database is empty');
  if (!(resolved.precision in NS_PER_UNIT)) throw new Error(`influx writer: precision must be one of ${Object.keys(NS_PER_UNIT).join(', ')}`);
  if (resolved.maxBufferedPoints < resolved.batchSize) throw new Error('influx writer: maxBufferedPoints must be >= batchSize');
  if (resolved.retryBackoffMaxMs < resolved.retryBackoffMinMs) throw new Error('influx writer: retryBackoffMaxMs must be >= retryBackoffMinMs');
  return resolved;
}

/** Exponential backoff with jitter: attempt k (1-based) waits between half and all of min*2^(k-1), capped at max. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * Makes V8 flatten a string built by += (a rope of a dozen pieces) into one object, through ToNumber (the
 * result is unused; `| 0` in a function of its own is the form V8 was seen not to optimise away). Buffered lines
 * live long enough to be copied by the garbage collector several times; flat, they cost it far less: this halved
 * the writer's CPU time per point in a bench/influx-bench.ts-like loop.
 */
function flatten(s: string): string {
  void ((s as unknown as number) | 0);
  return s;
}

/** FIFO of serialised points with O(1) amortised push, take and drop-oldest. */
class LineQueue {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(line: string): void {
    this.items.push(line);
  }

  take(n: number): string[] {
    const batch = this.items.slice(this.head, this.head + n);
    this.head += batch.length;
    this.compact();
    return batch;
  }

  /** Puts a batch back at the head (a failed send). */
  unshift(batch: readonly string[]): void {
    if (this.head >= batch.length) {
      this.head -= batch.length;
      for (let i = 0; i < batch.length; i++) this.items[this.head + i] = batch[i];
    } else {
      this.items = [...batch, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }

  dropOldest(n: number): number {
    const dropped = Math.min(n, this.length);
    this.head += dropped;
    this.compact();
    return dropped;
  }

  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    return n;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

interface Metrics {
  readonly written: Counter;
  readonly dropped: Counter;
  readonly rejected: Counter<'reason'>;
  readonly retries: Counter;
  readonly requestSeconds: Histogram;
}

const THROTTLE_MS = 60_000;

export class InfluxWriter {
  readonly options: Readonly<Resolved>;
  /** Resolves true once the database and retention policy are in place, false if stopped before. */
  readonly ready: Promise<boolean>;

  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly transport: InfluxTransport;
  private readonly metrics: Metrics | undefined;
  private readonly queue = new LineQueue();
  private readonly counters: Omit<InfluxWriterStats, 'buffered' | 'ready'> = {
    submitted: 0,
    written: 0,
    dropped: 0,
    rejected: 0,
    invalid: 0,
    abandoned: 0,
    retries: 0,
    batches: 0,
    lastError: undefined,
    lastErrorTime: undefined,
    lastSuccessTime: undefined,
  };

  private resolveReady!: (ok: boolean) => void;
  private isReady = false;
  private started = false;
  private stopping = false;
  private closed = false;
  private stopPromise: Promise<StopReport> | undefined;
  private inflight: string[] | undefined;
  private inflightAbort: AbortController | undefined;
  private draining = false;
  private pumpQueued = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private setupTimer: NodeJS.Timeout | undefined;
  private setupRunning = false;
  private writeFailures = 0;
  private setupFailures = 0;
  private outageStart: number | undefined;
  private drainWaiters: (() => void)[] = [];
  private readonly throttle = new Map<string, { last: number; suppressed: number }>();
  private stampMs = -1;
  private stampSeq = 0;
  private readonly stampFn = (): string => this.stamp();

  constructor(options: InfluxWriterOptions, deps: InfluxWriterDeps) {
    this.options = resolveOptions(options);
    const endpoint = resolveEndpoint(options);
    this.log = deps.logger.child({ component: 'influx-writer' });
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    const o = this.options;
    this.transport = deps.transport ?? new HttpInfluxTransport(endpoint, o.database, o.retentionPolicy, o.precision, o.requestTimeoutMs);
    this.ready = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.metrics = deps.registry ? this.registerMetrics(deps.registry) : undefined;
    this.log.debug({ url: endpointLabel(endpoint), database: o.database, retentionPolicy: o.retentionPolicy.name, user: endpoint.username }, 'influx writer configured');
  }

  /** Sets up the database in the background and starts the flush timer. Returns at once. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.flushTimer = setInterval(() => this.requestDrain(), this.options.flushIntervalMs);
    this.flushTimer.unref();
    if (this.options.createDatabase) {
      void this.runSetup();
    } else {
      this.markReady();
    }
  }

  /** Queues points; synchronous, never throws. */
  write(points: readonly InfluxPoint[]): void {
    try {
      if (!Array.isArray(points)) throw new TypeError(`write() takes an array of points, not ${points === null ? 'null' : typeof points}`);
      const count = points.length;
      this.counters.submitted += count;
      if (this.stopping) {
        this.drop(count, 'writer stopped');
        return;
      }
      for (const point of points) {
        let line: string;
        try {
          line = toLineProtocol(point, this.options.precision, this.stampFn);
        } catch (error) {
          this.counters.rejected++;
          this.counters.invalid++;
          this.metrics?.rejected.inc({ reason: 'invalid' });
          const message = error instanceof Error ? error.message : String(error);
          this.warnThrottled('invalid', { reason: message, measurement: typeof point?.measurement === 'string' ? point.measurement.slice(0, 100) : undefined }, 'point refused: not representable in InfluxDB line protocol');
          continue;
        }
        this.queue.push(flatten(line));
      }
      const excess = this.buffered() - this.options.maxBufferedPoints;
      if (excess > 0) this.drop(this.queue.dropOldest(excess), 'buffer full');
      if (this.queue.length >= this.options.batchSize) this.schedulePump();
    } catch (error) {
      // write() must never throw into the event pipeline (e.g. points is not an array).
      this.warnThrottled('write-error', { error: error instanceof Error ? error.message : String(error) }, 'influx writer: write() failed');
    }
  }

  /** Sends everything buffered now; resolves true when the buffer is empty, false after timeoutMs. */
  flush(timeoutMs = this.options.stopTimeoutMs): Promise<boolean> {
    this.requestDrain();
    return this.waitDrained(timeoutMs);
  }

  stats(): InfluxWriterStats {
    return { ...this.counters, buffered: this.buffered(), ready: this.isReady };
  }

  /** Flushes for at most timeoutMs, then abandons what is left; closes the connections. Idempotent. */
  stop(timeoutMs = this.options.stopTimeoutMs): Promise<StopReport> {
    this.stopPromise ??= this.doStop(timeoutMs);
    return this.stopPromise;
  }

  // -------------------------------------------------------------------------------------------------------------

  private async doStop(timeoutMs: number): Promise<StopReport> {
    const started = this.clock.now();
    this.stopping = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    // Retry at once, then at the minimum backoff (see scheduleRetry) until the deadline.
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = undefined;
      void this.runSetup();
    }
    if (!this.started && this.options.createDatabase && this.buffered() > 0) void this.runSetup();
    if (!this.started && !this.options.createDatabase) this.markReady();
    const flushed = await this.flush(timeoutMs);
    this.closed = true;
    for (const timer of [this.retryTimer, this.setupTimer]) if (timer) clearTimeout(timer);
    this.retryTimer = this.setupTimer = undefined;
    let abandoned = this.queue.clear();
    if (this.inflight) {
      abandoned += this.inflight.length;
      this.inflight = undefined;
      this.inflightAbort?.abort();
    }
    this.counters.abandoned += abandoned;
    this.transport.close();
    this.resolveReady(false);
    this.flushDrainWaiters();
    const report: StopReport = { flushed, durationMs: this.clock.now() - started, stats: this.stats() };
    const s = report.stats;
    const summary = { written: s.written, dropped: s.dropped, rejected: s.rejected, abandoned: s.abandoned, retries: s.retries, durationMs: report.durationMs };
    if (flushed) this.log.info(summary, 'influx writer stopped, buffer flushed');
    else this.log.warn({ ...summary, lastError: s.lastError }, 'influx writer stopped before the buffer was flushed: points abandoned');
    return report;
  }

  private buffered(): number {
    return this.queue.length + (this.inflight?.length ?? 0);
  }

  /** A timestamp for a point without one, in precision units; unique per point at n and u. */
  private stamp(): string {
    const ms = Math.floor(this.clock.now());
    const p = this.options.precision;
    if (p !== 'n' && p !== 'u') return String((BigInt(ms) * 1_000_000n) / NS_PER_UNIT[p]);
    const perMs = 1_000_000n / NS_PER_UNIT[p];
    if (ms > this.stampMs) {
      this.stampMs = ms;
      this.stampSeq = 0;
    } else if (BigInt(this.stampSeq + 1) >= perMs) {
      // More points in one millisecond than sub-ms slots (or the clock went back): borrow from the next ms.
      this.stampMs++;
      this.stampSeq = 0;
    } else {
      this.stampSeq++;
    }
    return String(BigInt(this.stampMs) * perMs + BigInt(this.stampSeq));
  }

  private drop(count: number, reason: string): void {
    if (count <= 0) return;
    this.counters.dropped += count;
    this.metrics?.dropped.inc(count);
    this.warnThrottled(`drop:${reason}`, { dropped: count, totalDropped: this.counters.dropped, maxBufferedPoints: this.options.maxBufferedPoints }, `influx writer dropped points: ${reason}`);
  }

  private requestDrain(): void {
    if (this.queue.length === 0) return;
    this.draining = true;
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed || this.inflight || this.retryTimer || !this.isReady) return;
    const queued = this.queue.length;
    if (queued === 0) {
      this.draining = false;
      this.flushDrainWaiters();
      return;
    }
    if (queued < this.options.batchSize && !this.draining && !this.stopping) return;
    const batch = this.queue.take(this.options.batchSize);
    void this.send(batch);
  }

  private async send(batch: string[]): Promise<void> {
    const abort = new AbortController();
    this.inflight = batch;
    this.inflightAbort = abort;
    const started = performance.now();
    let outcome: WriteOutcome;
    try {
      outcome = await this.transport.write(batch.join('\n'), batch.length, abort.signal);
    } catch (error) {
      outcome = { kind: 'retry', message: describeError(error) };
    }
    this.metrics?.requestSeconds.observe((performance.now() - started) / 1000);
    if (this.inflight !== batch) return; // stop() gave up on it and counted it as abandoned
    this.inflight = undefined;
    this.inflightAbort = undefined;
    switch (outcome.kind) {
      case 'ok':
        this.succeeded(batch.length);
        break;
      case 'rejected': {
        const rejected = Math.min(outcome.rejected, batch.length);
        this.succeeded(batch.length - rejected);
        this.counters.rejected += rejected;
        this.metrics?.rejected.inc({ reason: 'server' }, rejected);
        this.warnThrottled('rejected', { rejected, batch: batch.length, status: outcome.status, error: outcome.message, sample: batch[0].slice(0, 300) }, 'InfluxDB refused points (permanent error): dropped');
        break;
      }
      case 'retry':
      case 'missing':
        this.queue.unshift(batch);
        this.counters.retries++;
        this.metrics?.retries.inc();
        this.failed(outcome.message, 'write');
        if (outcome.kind === 'missing' && this.options.createDatabase) {
          // Set up again after the backoff (not at once: a server that keeps answering "not found" must not
          // turn this into a busy loop).
          this.isReady = false;
          this.scheduleSetup(this.retryDelay(this.writeFailures));
        } else {
          this.scheduleRetry();
        }
        return;
    }
    this.schedulePump();
  }

  private succeeded(points: number): void {
    const now = this.clock.now();
    this.counters.written += points;
    this.counters.batches++;
    this.counters.lastSuccessTime = now;
    this.metrics?.written.inc(points);
    if (this.writeFailures > 0) {
      this.log.info({ failedAttempts: this.writeFailures, outageMs: this.outageStart === undefined ? undefined : now - this.outageStart, buffered: this.buffered(), dropped: this.counters.dropped }, 'InfluxDB writes succeed again');
    }
    this.writeFailures = 0;
    this.outageStart = undefined;
  }

  private failed(message: string, what: 'write' | 'setup'): void {
    const now = this.clock.now();
    const changed = message !== this.counters.lastError;
    this.counters.lastError = message;
    this.counters.lastErrorTime = now;
    const failures = what === 'write' ? ++this.writeFailures : ++this.setupFailures;
    this.outageStart ??= now;
    const context = { error: message, attempt: failures, buffered: this.buffered() };
    if (failures === 1 || changed) this.log.warn(context, what === 'write' ? 'InfluxDB write failed, will retry' : 'InfluxDB database setup failed, will retry');
    else this.log.debug(context, `InfluxDB ${what} failed again`);
  }

  private retryDelay(attempt: number): number {
    const { retryBackoffMinMs: min, retryBackoffMaxMs: max } = this.options;
    return this.stopping ? min : backoffDelay(attempt, min, max, this.random);
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.draining = true;
      this.pump();
    }, this.retryDelay(this.writeFailures));
    this.retryTimer.unref();
  }

  private scheduleSetup(delayMs: number): void {
    if (this.closed || this.setupTimer) return;
    this.setupTimer = setTimeout(() => {
      this.setupTimer = undefined;
      void this.runSetup();
    }, delayMs);
    this.setupTimer.unref();
  }

  private async runSetup(): Promise<void> {
    if (this.setupRunning || this.closed || this.setupTimer) return;
    this.setupRunning = true;
    let outcome: SetupOutcome;
    try {
      outcome = await this.transport.setup();
    } catch (error) {
      outcome = { kind: 'retry', message: describeError(error) };
    }
    this.setupRunning = false;
    if (this.closed) return;
    if (outcome.kind === 'retry') {
      this.failed(outcome.message, 'setup');
      this.scheduleSetup(this.retryDelay(this.setupFailures));
      return;
    }
    if (outcome.kind === 'forbidden') {
      this.log.warn({ error: outcome.message }, 'not allowed to create the InfluxDB database or retention policy: assuming they exist');
    } else {
      const rp = this.options.retentionPolicy;
      this.log.info({ database: this.options.database, retentionPolicy: rp.name, duration: rp.duration, afterAttempts: this.setupFailures + 1 }, 'InfluxDB database and retention policy ready');
    }
    this.setupFailures = 0;
    this.markReady();
  }

  private markReady(): void {
    this.isReady = true;
    this.resolveReady(true);
    this.draining = true;
    this.schedulePump();
  }

  private waitDrained(timeoutMs: number): Promise<boolean> {
    if (this.buffered() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiter: () => void = () => undefined;
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        resolve(this.buffered() === 0);
      }, timeoutMs);
      waiter = () => {
        clearTimeout(timer);
        resolve(this.buffered() === 0);
      };
      this.drainWaiters.push(waiter);
    });
  }

  private flushDrainWaiters(): void {
    if (this.buffered() > 0 && !this.closed) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Logs the first occurrence of a kind at warn, then at most once a minute with how many were suppressed. */
  private warnThrottled(key: string, context: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    const entry = this.throttle.get(key);
    if (entry && now - entry.last < THROTTLE_MS) {
      entry.suppressed++;
      return;
    }
    this.log.warn({ ...context, suppressedSinceLastLog: entry?.suppressed ?? 0 }, message);
    this.throttle.set(key, { last: now, suppressed: 0 });
  }

  private registerMetrics(registry: Registry): Metrics {
    const p = 'bmpwatch_influx_';
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const writer = this;
    new Gauge({
      name: `${p}points_buffered`,
      help: 'Points waiting to be written to InfluxDB (queued and in flight)',
      registers: [registry],
      collect() {
        this.set(writer.buffered());
      },
    });
    new Gauge({
      name: `${p}last_success_timestamp_seconds`,
      help: 'Unix time of the last successful write to InfluxDB (0: none yet)',
      registers: [registry],
      collect() {
        this.set((writer.counters.lastSuccessTime ?? 0) / 1000);
      },
    });
    new Gauge({
      name: `${p}ready`,
      help: '1 once the InfluxDB database and retention policy are in place',
      registers: [registry],
      collect() {
        this.set(writer.isReady ? 1 : 0);
      },
    });
    return {
      written: new Counter({ name: `${p}points_written_total`, help: 'Points written to InfluxDB', registers: [registry] }),
      dropped: new Counter({ name: `${p}points_dropped_total`, help: 'Points discarded because the InfluxDB buffer was full (oldest first)', registers: [registry] }),
      rejected: new Counter({
        name: `${p}points_rejected_total`,
        help: 'Points refused for good: by InfluxDB (reason="server") or as not representable (reason="invalid")',
        labelNames: ['reason'] as const,
        registers: [registry],
      }),
      retries: new Counter({ name: `${p}write_retries_total`, help: 'Failed InfluxDB write requests that were retried', registers: [registry] }),
      requestSeconds: new Histogram({
        name: `${p}write_request_duration_seconds`,
        help: 'Duration of InfluxDB write requests',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    };
  }
}
