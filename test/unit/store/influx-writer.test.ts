/**
 * InfluxWriter without a server: line protocol, response classification, durations, backoff, and the buffer,
 * batching, retry, rejection, setup and stop logic against a fake transport on fake timers.
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { toNanoDate } from 'influx';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import {
  backoffDelay,
  classifyWriteResponse,
  identifierProblem,
  InfluxWriter,
  InvalidPointError,
  parseInfluxDuration,
  sanitizeTagValue,
  toLineProtocol,
  type InfluxPoint,
  type InfluxTransport,
  type InfluxWriterOptions,
  type SetupOutcome,
  type WriteOutcome,
} from '../../../src/store/influx/writer.js';

const T = (): string => '1000';
const line = (p: InfluxPoint, precision: 'n' | 'ms' = 'n'): string => toLineProtocol(p, precision, T);

describe('toLineProtocol', () => {
  it('escapes measurement, tag keys and values, field keys and string fields; sorts tags', () => {
    expect(line({ measurement: 'my m,x=1', tags: { z: 'a b', 'k,=': 'v=,x' }, fields: { 'f k': 'say "hi" \\ ok', n: 1.5 } })).toBe(
      'my\\ m\\,x=1,k\\,\\==v\\=\\,x,z=a\\ b f\\ k="say \\"hi\\" \\\\ ok",n=1.5 1000',
    );
  });

  it('writes bigint as integer, booleans, floats; omits empty tags and null fields', () => {
    expect(line({ measurement: 'm', tags: { a: '', b: undefined as unknown as string, c: 'x' }, fields: { i: 42n, b: false, f: -0.25, e: 1e21, z: null, u: undefined } })).toBe(
      'm,c=x i=42i,b=false,f=-0.25,e=1e+21 1000',
    );
    expect(line({ measurement: 'm', fields: { big: 2n ** 63n - 1n, small: -(2n ** 63n) } })).toBe('m big=9223372036854775807i,small=-9223372036854775808i 1000');
  });

  it('passes timestamps through unchanged and converts Dates to the precision', () => {
    expect(line({ measurement: 'm', fields: { f: 1 }, timestamp: '1700000000123456789' })).toBe('m f=1 1700000000123456789');
    expect(line({ measurement: 'm', fields: { f: 1 }, timestamp: 1_700_000_000_123_456_789n })).toBe('m f=1 1700000000123456789');
    expect(line({ measurement: 'm', fields: { f: 1 }, timestamp: 1_700_000_000_123 }, 'ms')).toBe('m f=1 1700000000123');
    expect(line({ measurement: 'm', fields: { f: 1 }, timestamp: new Date(1_700_000_000_123) })).toBe('m f=1 1700000000123000000');
    expect(line({ measurement: 'm', fields: { f: 1 }, timestamp: new Date(1_700_000_000_123) }, 'ms')).toBe('m f=1 1700000000123');
    expect(toLineProtocol({ measurement: 'm', fields: { f: 1 }, timestamp: new Date(1_700_000_000_999) }, 's', T)).toBe('m f=1 1700000000');
    expect(line({ measurement: 'm', fields: { f: 1 }, timestamp: toNanoDate('1700000000123456789') })).toBe('m f=1 1700000000123456789');
  });

  it.each<[string, InfluxPoint]>([
    ['no fields', { measurement: 'm', fields: {} }],
    ['only null fields', { measurement: 'm', fields: { a: null } }],
    ['no measurement', { fields: { f: 1 } }],
    ['NaN', { measurement: 'm', fields: { f: Number.NaN } }],
    ['Infinity', { measurement: 'm', fields: { f: Number.POSITIVE_INFINITY } }],
    ['int64 overflow', { measurement: 'm', fields: { f: 2n ** 63n } }],
    ['object field', { measurement: 'm', fields: { f: { x: 1 } } }],
    ['newline in tag value', { measurement: 'm', tags: { t: 'a\nb' }, fields: { f: 1 } }],
    ['trailing backslash in tag value', { measurement: 'm', tags: { t: 'a\\' }, fields: { f: 1 } }],
    ['newline in tag key', { measurement: 'm', tags: { 'a\nb': 'x' }, fields: { f: 1 } }],
    ['newline in field key', { measurement: 'm', fields: { 'a\nb': 1 } }],
    ['backslash-comma in field key', { measurement: 'm', fields: { 'a\\,b': 1 } }],
    ['backslash-quote in measurement', { measurement: 'a\\"b', fields: { f: 1 } }],
    ['comment measurement', { measurement: '#m', fields: { f: 1 } }],
    ['empty measurement', { measurement: '', fields: { f: 1 } }],
    ['time field', { measurement: 'm', fields: { time: 1 } }],
    ['time tag', { measurement: 'm', tags: { time: 'x' }, fields: { f: 1 } }],
    ['fractional timestamp', { measurement: 'm', fields: { f: 1 }, timestamp: 1.5 }],
    ['non-numeric timestamp', { measurement: 'm', fields: { f: 1 }, timestamp: '2024-01-01' }],
    ['invalid Date', { measurement: 'm', fields: { f: 1 }, timestamp: new Date(Number.NaN) }],
  ])('refuses %s', (_what, point) => {
    expect(() => line(point)).toThrow(InvalidPointError);
  });

  it('identifierProblem and sanitizeTagValue', () => {
    expect(identifierProblem('a\\,b', 'tag value')).toBeUndefined();
    expect(identifierProblem('a\\,b', 'field key')).toMatch(/backslash/);
    expect(identifierProblem('x\\')).toMatch(/ends with a backslash/);
    const clean = sanitizeTagValue('line1\r\nline2\\');
    expect(identifierProblem(clean)).toBeUndefined();
    expect(clean).toBe('line1 line2\uFF3C');
  });
});

describe('classifyWriteResponse', () => {
  it.each<[number, string, number, WriteOutcome['kind'], number?]>([
    [204, '', 10, 'ok'],
    [400, '{"error":"partial write: field type conflict: input field \\"f\\" on measurement \\"m\\" is type string, already exists as type float dropped=2"}', 10, 'rejected', 2],
    [400, '{"error":"partial write: unable to parse \'a\': x\\nunable to parse \'b\': y dropped=0"}', 10, 'rejected', 2],
    [400, '{"error":"partial write: points beyond retention policy dropped=7"}', 5, 'rejected', 5],
    [400, '{"error":"unable to parse \'m f=\': missing field value"}', 10, 'rejected', 10],
    [413, 'too large', 10, 'rejected', 10],
    [404, '{"error":"database not found: \\"x\\""}', 10, 'missing'],
    [500, '{"error":"retention policy not found: rp"}', 10, 'missing'],
    [500, '{"error":"timeout"}', 10, 'retry'],
    [503, '', 10, 'retry'],
    [429, '', 10, 'retry'],
    [401, '{"error":"authorization failed"}', 10, 'retry'],
    [403, '', 10, 'retry'],
    [0, '', 10, 'retry'],
  ])('HTTP %i %s', (status, body, points, kind, rejected) => {
    const outcome = classifyWriteResponse(status, body, points);
    expect(outcome.kind).toBe(kind);
    if (rejected !== undefined && outcome.kind === 'rejected') expect(outcome.rejected).toBe(rejected);
  });
});

describe('durations and backoff', () => {
  it('parses InfluxDB durations', () => {
    expect(parseInfluxDuration('30d')).toBe(parseInfluxDuration('720h0m0s'));
    expect(parseInfluxDuration('2w')).toBe(14n * 86_400_000_000_000n);
    expect(parseInfluxDuration('INF')).toBe(0n);
    expect(parseInfluxDuration('0s')).toBe(0n);
    expect(parseInfluxDuration('30 days')).toBeUndefined();
    expect(parseInfluxDuration('')).toBeUndefined();
  });

  it('grows exponentially with jitter in [base/2, base], capped', () => {
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 1000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.999999)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 0.999999)).toBe(1000);
    expect(backoffDelay(10_000, 100, 1000, () => 0)).toBe(500);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, 200, 30_000, () => r);
        const base = Math.min(30_000, 200 * 2 ** (attempt - 1));
        return d >= base / 2 - 1 && d <= base + 1;
      }),
    );
  });

  it('validates options', () => {
    const logger = createLogger('silent');
    const mk = (o: InfluxWriterOptions) => () => new InfluxWriter(o, { logger, transport: new FakeTransport() });
    expect(mk({ batchSize: 100, maxBufferedPoints: 10 })).toThrow(/maxBufferedPoints/);
    expect(mk({ retentionPolicy: { name: 'x', duration: '30 days' } })).toThrow(/duration/);
    expect(mk({ retentionPolicy: { name: 'x', duration: '30m' } })).toThrow(/at least 1h/);
    expect(mk({ retentionPolicy: { name: 'x', duration: '1d; DROP DATABASE x' } })).toThrow(/duration/);
    expect(mk({ batchSize: 0 })).toThrow(/batchSize/);
    expect(mk({ precision: 'x' as 'n' })).toThrow(/precision/);
    expect(mk({ url: 'ftp://host' })).toThrow(/protocol/);
    expect(mk({ retentionPolicy: { name: 'x', duration: 'INF' } })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------------

type Mode = 'ok' | 'fail' | 'hang' | 'missing';

class FakeTransport implements InfluxTransport {
  mode: Mode = 'ok';
  /** Lines delivered, in order. */
  readonly delivered: string[] = [];
  readonly attempts: { at: number; points: number }[] = [];
  readonly setupResults: SetupOutcome[] = [];
  setupCalls = 0;
  closed = false;
  aborted = 0;
  respond: ((lines: string[]) => WriteOutcome | undefined) | undefined;

  write(body: string, points: number, signal: AbortSignal): Promise<WriteOutcome> {
    this.attempts.push({ at: Date.now(), points });
    const lines = body.split('\n');
    expect(lines).toHaveLength(points);
    if (this.mode === 'hang') {
      return new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          this.aborted++;
          resolve({ kind: 'retry', message: 'aborted' });
        });
      });
    }
    if (this.mode === 'fail') return Promise.resolve({ kind: 'retry', message: 'connect ECONNREFUSED 127.0.0.1:1' });
    if (this.mode === 'missing') return Promise.resolve({ kind: 'missing', status: 404, message: 'HTTP 404: database not found: "x"' });
    const custom = this.respond?.(lines);
    if (custom) return Promise.resolve(custom);
    this.delivered.push(...lines);
    return Promise.resolve({ kind: 'ok' });
  }

  setup(): Promise<SetupOutcome> {
    this.setupCalls++;
    return Promise.resolve(this.setupResults.shift() ?? { kind: 'ok' });
  }

  close(): void {
    this.closed = true;
  }
}

interface Harness {
  writer: InfluxWriter;
  transport: FakeTransport;
  logs: () => Record<string, unknown>[];
  logText: () => string;
}

function harness(options: InfluxWriterOptions = {}, extra: { registry?: Registry; random?: () => number } = {}): Harness {
  const transport = new FakeTransport();
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  const writer = new InfluxWriter(
    { batchSize: 10, flushIntervalMs: 1_000, maxBufferedPoints: 100, retryBackoffMinMs: 100, retryBackoffMaxMs: 1_600, stopTimeoutMs: 5_000, ...options },
    { logger: createLogger('debug', sink), transport, random: extra.random ?? (() => 0.999999), registry: extra.registry },
  );
  return {
    writer,
    transport,
    logs: () =>
      raw
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    logText: () => raw.join(''),
  };
}

const pts = (from: number, count: number): InfluxPoint[] => Array.from({ length: count }, (_, i) => ({ measurement: 'm', fields: { seq: from + i }, timestamp: String(1_000 + from + i) }));
const seqOf = (l: string): number => Number(/seq=(\d+)/.exec(l)?.[1]);
const tick = (ms: number): Promise<void> => vi.advanceTimersByTimeAsync(ms).then(() => undefined);

function expectAccounted(writer: InfluxWriter): void {
  const s = writer.stats();
  expect(s.written + s.dropped + s.rejected + s.abandoned + s.buffered).toBe(s.submitted);
}

describe('InfluxWriter (fake transport)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends full batches at once and the rest after flushIntervalMs', async () => {
    const { writer, transport } = harness();
    writer.start();
    await tick(0);
    writer.write(pts(0, 25));
    await tick(0);
    expect(transport.attempts.map((a) => a.points)).toEqual([10, 10]);
    await tick(999);
    expect(transport.delivered).toHaveLength(20);
    await tick(1);
    expect(transport.attempts.map((a) => a.points)).toEqual([10, 10, 5]);
    expect(transport.delivered.map(seqOf)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(writer.stats()).toMatchObject({ submitted: 25, written: 25, buffered: 0, batches: 3 });
  });

  it('buffers before start() and while the database setup is retried, without blocking write()', async () => {
    const { writer, transport } = harness();
    transport.setupResults.push({ kind: 'retry', message: 'connect ECONNREFUSED' }, { kind: 'retry', message: 'connect ECONNREFUSED' });
    writer.write(pts(0, 5));
    writer.start();
    await tick(0);
    expect(transport.setupCalls).toBe(1);
    expect(writer.stats()).toMatchObject({ ready: false, buffered: 5 });
    await tick(100); // attempt 2 after 100 ms
    expect(transport.setupCalls).toBe(2);
    await tick(200); // attempt 3 after 200 ms
    expect(transport.setupCalls).toBe(3);
    expect(await writer.ready).toBe(true);
    await tick(0);
    expect(writer.stats()).toMatchObject({ ready: true, written: 5 });
  });

  it('assumes the database exists when not allowed to create it', async () => {
    const { writer, transport, logs } = harness();
    transport.setupResults.push({ kind: 'forbidden', message: 'requires admin privilege' });
    writer.start();
    writer.write(pts(0, 10));
    await tick(0);
    expect(writer.stats().written).toBe(10);
    expect(logs().some((l) => String(l.msg).includes('assuming they exist'))).toBe(true);
  });

  it('drops the oldest points when the buffer is full, counted exactly', async () => {
    const { writer, transport } = harness({ maxBufferedPoints: 100 });
    writer.start();
    await tick(0);
    transport.mode = 'fail';
    writer.write(pts(0, 250));
    expect(writer.stats()).toMatchObject({ submitted: 250, dropped: 150, buffered: 100 });
    await tick(0);
    transport.mode = 'ok';
    await tick(5_000);
    expect(transport.delivered.map(seqOf)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
    expect(writer.stats()).toMatchObject({ written: 100, dropped: 150, buffered: 0 });
    expectAccounted(writer);
  });

  it('never drops the batch in flight', async () => {
    const { writer, transport } = harness({ maxBufferedPoints: 20 });
    writer.start();
    await tick(0);
    transport.mode = 'hang';
    writer.write(pts(0, 10));
    await tick(0);
    expect(transport.attempts).toHaveLength(1); // 0..9 in flight
    writer.write(pts(10, 30)); // 10..39: only 10 fit next to the batch in flight
    expect(writer.stats()).toMatchObject({ dropped: 20, buffered: 20 });
    const stopping = writer.stop(100);
    await tick(100);
    expect((await stopping).stats).toMatchObject({ submitted: 40, dropped: 20, abandoned: 20, buffered: 0 });
  });

  it('retries with exponential backoff and jitter, keeping order, then logs the recovery', async () => {
    const { writer, transport, logs } = harness({ retryBackoffMinMs: 100, retryBackoffMaxMs: 1_600 });
    writer.start();
    await tick(0);
    transport.mode = 'fail';
    const t0 = Date.now();
    writer.write(pts(0, 10));
    await tick(0);
    await tick(10_000);
    const gaps = transport.attempts.map((a, i) => a.at - (i === 0 ? t0 : transport.attempts[i - 1].at));
    // random → ~1: the full delay: 100, 200, 400, 800, 1600, 1600, ...
    expect(gaps.slice(0, 8)).toEqual([0, 100, 200, 400, 800, 1_600, 1_600, 1_600]);
    writer.write(pts(10, 5));
    transport.mode = 'ok';
    await tick(1_600);
    expect(transport.delivered.map(seqOf)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    const s = writer.stats();
    expect(s.retries).toBe(transport.attempts.length - 2);
    expect(s).toMatchObject({ written: 15, buffered: 0, dropped: 0 });
    expect(s.lastError).toContain('ECONNREFUSED');
    expect(s.lastSuccessTime).toBe(t0 + 100 + 200 + 400 + 800 + 1_600 * 6); // the 11th attempt
    const entries = logs();
    expect(entries.filter((l) => l.msg === 'InfluxDB write failed, will retry')).toHaveLength(1);
    expect(entries.some((l) => l.msg === 'InfluxDB writes succeed again')).toBe(true);
  });

  it('uses the lower half of the delay when the jitter draws 0', async () => {
    const { writer, transport } = harness({ retryBackoffMinMs: 100, retryBackoffMaxMs: 1_600 }, { random: () => 0 });
    writer.start();
    await tick(0);
    transport.mode = 'fail';
    writer.write(pts(0, 10));
    await tick(0);
    await tick(2_000);
    const gaps = transport.attempts.slice(1).map((a, i) => a.at - transport.attempts[i].at);
    expect(gaps.slice(0, 4)).toEqual([50, 100, 200, 400]);
  });

  it('counts points InfluxDB refuses for good, logs once with a sample, and moves on', async () => {
    const { writer, transport, logs } = harness();
    transport.respond = (lines) => (lines.some((l) => l.includes('seq=3i') || l.includes('seq=3 ')) ? { kind: 'rejected', rejected: 2, status: 400, message: 'partial write: field type conflict dropped=2' } : undefined);
    writer.start();
    await tick(0);
    writer.write(pts(0, 10)); // batch with seq 3: 2 refused, 8 written
    writer.write(pts(10, 10));
    await tick(0);
    await tick(0);
    expect(writer.stats()).toMatchObject({ written: 18, rejected: 2, retries: 0, buffered: 0 });
    transport.respond = () => ({ kind: 'rejected', rejected: 10, status: 400, message: 'unable to parse' });
    writer.write(pts(20, 10));
    await tick(1_000);
    expect(writer.stats()).toMatchObject({ written: 18, rejected: 12 });
    const refused = logs().filter((l) => String(l.msg).startsWith('InfluxDB refused points'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ rejected: 2, status: 400, sample: 'm seq=0 1000' });
    transport.respond = undefined;
    writer.write(pts(30, 10));
    await tick(0);
    expect(writer.stats()).toMatchObject({ written: 28, rejected: 12 });
    expectAccounted(writer);
  });

  it('sets the database up again when it disappears', async () => {
    const { writer, transport } = harness();
    writer.start();
    await tick(0);
    expect(transport.setupCalls).toBe(1);
    transport.mode = 'missing';
    writer.write(pts(0, 10));
    await tick(0);
    expect(writer.stats().ready).toBe(false);
    transport.mode = 'ok';
    await tick(99);
    expect(transport.setupCalls).toBe(1); // after the backoff, not in a busy loop
    await tick(1);
    expect(transport.setupCalls).toBe(2);
    expect(writer.stats()).toMatchObject({ written: 10, retries: 1, ready: true });
  });

  it('refuses invalid points in write() without throwing, and never throws on garbage', async () => {
    const { writer, transport, logs } = harness();
    writer.start();
    writer.write([{ measurement: 'm', tags: { t: 'x\n' }, fields: { f: 1 } }, { measurement: 'm', fields: { f: 2 } }, null as unknown as InfluxPoint]);
    expect(() => writer.write(null as unknown as InfluxPoint[])).not.toThrow();
    expect(() => writer.write({ length: 3 } as unknown as InfluxPoint[])).not.toThrow();
    await tick(1_000);
    expect(transport.delivered).toHaveLength(1);
    expect(transport.delivered[0]).toMatch(/^m f=2 \d{19}$/);
    expect(writer.stats()).toMatchObject({ submitted: 3, written: 1, rejected: 2, invalid: 2 });
    expect(logs().filter((l) => String(l.msg).includes('not representable'))).toHaveLength(1);
  });

  it('stamps points without a timestamp at write() time, distinct within a millisecond at precision n', async () => {
    vi.setSystemTime(1_700_000_000_000);
    const { writer, transport } = harness({ batchSize: 5, maxBufferedPoints: 10 });
    writer.start();
    writer.write(Array.from({ length: 3 }, () => ({ measurement: 'm', fields: { f: 1 } })));
    vi.setSystemTime(1_700_000_000_001);
    writer.write(Array.from({ length: 2 }, () => ({ measurement: 'm', fields: { f: 1 } })));
    await tick(0);
    expect(transport.delivered.map((l) => l.split(' ')[2])).toEqual([
      '1700000000000000000',
      '1700000000000000001',
      '1700000000000000002',
      '1700000000001000000',
      '1700000000001000001',
    ]);
    const ms = harness({ precision: 'ms', batchSize: 1 });
    ms.writer.start();
    ms.writer.write([{ measurement: 'm', fields: { f: 1 } }]);
    await tick(0);
    expect(ms.transport.delivered).toEqual(['m f=1 1700000000001']);
  });

  it('stop() flushes everything, closes the transport, and counts later writes as dropped', async () => {
    const { writer, transport } = harness({ batchSize: 10, maxBufferedPoints: 100, flushIntervalMs: 60_000 });
    writer.start();
    await tick(0);
    writer.write(pts(0, 45));
    const stopping = writer.stop();
    expect(writer.stop()).toBe(stopping);
    await tick(0);
    const report = await stopping;
    expect(report.flushed).toBe(true);
    expect(report.stats).toMatchObject({ written: 45, abandoned: 0, buffered: 0 });
    expect(transport.closed).toBe(true);
    writer.write(pts(100, 2));
    expect(writer.stats()).toMatchObject({ submitted: 47, dropped: 2 });
    expectAccounted(writer);
  });

  it('stop() retries at the minimum backoff until its deadline, then abandons (in flight included)', async () => {
    const { writer, transport, logs } = harness({ retryBackoffMinMs: 100, retryBackoffMaxMs: 30_000 });
    writer.start();
    await tick(0);
    transport.mode = 'fail';
    writer.write(pts(0, 30));
    await tick(20_000); // deep in backoff
    const before = transport.attempts.length;
    const stopping = writer.stop(1_000);
    await tick(1_000);
    const report = await stopping;
    expect(transport.attempts.length - before).toBeGreaterThanOrEqual(9); // at once, then every 100 ms
    expect(report).toMatchObject({ flushed: false, stats: { abandoned: 30, buffered: 0, written: 0 } });
    expect(logs().some((l) => l.level === 40 && String(l.msg).includes('points abandoned'))).toBe(true);

    const hung = harness();
    hung.writer.start();
    await tick(0);
    hung.transport.mode = 'hang';
    hung.writer.write(pts(0, 15));
    await tick(0);
    const p = hung.writer.stop(500);
    await tick(500);
    expect((await p).stats).toMatchObject({ abandoned: 15, buffered: 0 });
    expect(hung.transport.aborted).toBe(1);
    expect(await hung.writer.ready).toBe(true);
  });

  it('exposes prom-client metrics', async () => {
    const registry = new Registry();
    const { writer, transport } = harness({ maxBufferedPoints: 20 }, { registry });
    writer.start();
    await tick(0);
    writer.write(pts(0, 10));
    await tick(0);
    transport.mode = 'fail';
    writer.write(pts(10, 30));
    writer.write([{ measurement: 'm', fields: {} }]);
    await tick(0);
    const text = await registry.metrics();
    expect(text).toMatch(/^bmpwatch_influx_points_written_total 10$/m);
    expect(text).toMatch(/^bmpwatch_influx_points_dropped_total 10$/m);
    expect(text).toMatch(/^bmpwatch_influx_points_rejected_total\{reason="invalid"\} 1$/m);
    expect(text).toMatch(/^bmpwatch_influx_points_buffered 20$/m);
    expect(text).toMatch(/^bmpwatch_influx_write_retries_total 1$/m);
    expect(text).toMatch(/^bmpwatch_influx_ready 1$/m);
    expect(text).toMatch(/^bmpwatch_influx_last_success_timestamp_seconds \d+/m);
  });

  it('never logs the password (option or URL user info)', async () => {
    const secret = 'hunter2-secret';
    const a = harness({ url: `http://user:${secret}@127.0.0.1:8086`, password: undefined });
    const b = harness({ username: 'u', password: secret });
    for (const h of [a, b]) {
      h.writer.start();
      h.transport.mode = 'fail';
      h.writer.write(pts(0, 10));
      await tick(500);
      const stopping = h.writer.stop(100);
      await tick(100);
      await stopping;
      expect(h.logText()).not.toContain(secret);
      expect(h.logText().length).toBeGreaterThan(0);
    }
  });

  it('accounts for every point under any sequence of writes, outages and recoveries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('write' as const), n: fc.integer({ min: 0, max: 60 }) }),
            fc.record({ op: fc.constant('mode' as const), mode: fc.constantFrom<Mode>('ok', 'fail', 'ok') }),
            fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
          ),
          { maxLength: 30 },
        ),
        async (ops) => {
          const { writer, transport } = harness({ batchSize: 10, maxBufferedPoints: 50, retryBackoffMinMs: 50, retryBackoffMaxMs: 400 });
          writer.start();
          let seq = 0;
          for (const o of ops) {
            if (o.op === 'write') {
              writer.write(pts(seq, o.n));
              seq += o.n;
            } else if (o.op === 'mode') {
              transport.mode = o.mode;
            } else {
              await tick(o.ms);
            }
            expectAccounted(writer);
            expect(writer.stats().buffered).toBeLessThanOrEqual(50);
          }
          transport.mode = 'ok';
          const stopping = writer.stop(5_000);
          await tick(5_000);
          const report = await stopping;
          expect(report.flushed).toBe(true);
          const s = report.stats;
          expect(s.written + s.dropped).toBe(seq);
          // Delivered exactly once each, in order.
          const delivered = transport.delivered.map(seqOf);
          expect(delivered).toHaveLength(s.written);
          for (let i = 1; i < delivered.length; i++) expect(delivered[i]).toBeGreaterThan(delivered[i - 1]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
