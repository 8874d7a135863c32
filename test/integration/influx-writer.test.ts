/**
 * InfluxWriter against a real influxd 1.6.7 on loopback (test/helpers/influxd.ts): database and retention policy
 * setup, hostile tag and field values read back exactly, outages within and beyond the buffer bound (every point
 * accounted for), permanent errors, database loss, authentication, and stop().
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { InfluxWriter, type InfluxPoint, type InfluxWriterOptions } from '../../src/store/influx/writer.js';
import { createRegistry, waitFor } from '../helpers/daemons/process.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';

const registry = createRegistry();
let influx: Influxd;
const writers: InfluxWriter[] = [];

beforeAll(async () => {
  influx = await startInfluxd({ registry });
}, 60_000);

afterAll(async () => {
  await Promise.all(writers.map((w) => w.stop(1_000)));
  await registry.runAll();
});

interface LogCapture {
  readonly lines: Record<string, unknown>[];
  readonly text: () => string;
}

function makeWriter(options: InfluxWriterOptions): { writer: InfluxWriter; logs: LogCapture } {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const writer = new InfluxWriter({ url: influx.url, flushIntervalMs: 20, retryBackoffMinMs: 50, retryBackoffMaxMs: 400, requestTimeoutMs: 5_000, ...options }, { logger });
  writers.push(writer);
  const logs: LogCapture = {
    get lines() {
      return raw
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
  return { writer, logs };
}

/** Nanosecond timestamps near now (inside any retention policy), distinct per seq. */
const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const ts = (seq: number): string => String(NOW_NS + BigInt(seq));

function seqPoints(measurement: string, from: number, count: number, tags: Record<string, string> = {}): InfluxPoint[] {
  return Array.from({ length: count }, (_, i) => ({ measurement, tags: { run: 'r1', ...tags }, fields: { seq: from + i }, timestamp: ts(from + i) }));
}

async function count(db: string, measurement: string, where = ''): Promise<number> {
  const rows = await influx.rows(`SELECT count(seq) FROM "${measurement}"${where ? ` WHERE ${where}` : ''}`, { db });
  return rows.length === 0 ? 0 : Number(rows[0].count);
}

/** submitted = written + dropped + rejected + abandoned + buffered, always. */
function expectAccounted(writer: InfluxWriter): void {
  const s = writer.stats();
  expect(s.written + s.dropped + s.rejected + s.abandoned + s.buffered).toBe(s.submitted);
}

describe('InfluxWriter against influxd 1.6.7', () => {
  it('creates the database and retention policy, and aligns a changed policy', async () => {
    const { writer } = makeWriter({ database: 'setup_db', retentionPolicy: { name: 'hist', duration: '30d', replication: 1, default: true } });
    writer.start();
    expect(await writer.ready).toBe(true);
    const rps = await influx.rows('SHOW RETENTION POLICIES ON setup_db');
    expect(rps.find((r) => r.name === 'hist')).toMatchObject({ duration: '720h0m0s', replicaN: 1, default: true });
    expect((await influx.rows('SHOW DATABASES')).map((r) => r.name)).toContain('setup_db');
    await writer.stop();

    const { writer: second } = makeWriter({ database: 'setup_db', retentionPolicy: { name: 'hist', duration: '8w', replication: 1, default: true } });
    second.start();
    expect(await second.ready).toBe(true);
    const after = await influx.rows('SHOW RETENTION POLICIES ON setup_db');
    expect(after.find((r) => r.name === 'hist')).toMatchObject({ duration: '1344h0m0s', default: true });
    await second.stop();
  });

  it('writes hostile tag values, keys, measurement names and field strings that read back exactly', async () => {
    const { writer } = makeWriter({ database: 'hostile_db', retentionPolicy: { name: 'forever', duration: 'INF' }, precision: 'n' });
    writer.start();
    const hostileTags = [
      'plain',
      'with space',
      'comma,inside',
      'equals=inside',
      'quote " inside',
      "single ' quote",
      'back\\slash inside',
      'back\\,slash-comma',
      'back\\ slash-space',
      'back\\"slash-quote',
      'back\\=slash-equals',
      'double\\\\backslash',
      'tab\there',
      'carriage\rreturn',
      '#hash at start',
      'ünïcødé € 😀 日本',
      ' leading and trailing ',
      '=,= ,',
    ];
    const hostileStrings = [
      '',
      'quote " inside',
      '""',
      'backslash \\ inside',
      'trailing backslash \\',
      '\\"escaped-looking\\"',
      'newline\ninside\r\nand crlf',
      'comma, space = equals',
      "single ' quote",
      'ünïcødé € 😀 日本',
      '\\\\double\\\\',
      'm,t=forged f=1 1',
    ];
    const points: InfluxPoint[] = [];
    hostileTags.forEach((value, i) => {
      points.push({
        measurement: 'hostile m,1',
        tags: { 'tag key, =x': value, idx: String(i) },
        fields: { 'field key, =s': hostileStrings[i % hostileStrings.length], n: i + 0.5, big: 9_007_199_254_740_993n, ok: i % 2 === 0 },
        timestamp: String(1_700_000_000_123_456_001n + 2n * BigInt(i)), // odd: no trailing zeros in RFC 3339
      });
    });
    writer.write(points);
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ written: hostileTags.length, rejected: 0, dropped: 0 });

    const series = (await influx.query('SELECT * FROM "hostile m,1" GROUP BY *', { db: 'hostile_db' }))[0];
    const byIdx = new Map(series.map((s) => [s.tags?.idx, s]));
    expect(byIdx.size).toBe(hostileTags.length);
    hostileTags.forEach((value, i) => {
      const s = byIdx.get(String(i));
      expect(s, `series idx=${i}`).toBeDefined();
      expect(s?.tags?.['tag key, =x']).toBe(value);
      const row = Object.fromEntries((s?.columns ?? []).map((c, j) => [c, s?.values[0][j]]));
      expect(row['field key, =s']).toBe(hostileStrings[i % hostileStrings.length]);
      expect(row.n).toBe(i + 0.5);
      expect(row.ok).toBe(i % 2 === 0);
      // Timestamps passed through unchanged, to the nanosecond.
      expect(row.time).toBe(`2023-11-14T22:13:20.123456${String(1 + 2 * i).padStart(3, '0')}Z`);
    });
    // The 64-bit integer field is stored as an integer (exactly; JSON numbers cannot show it, a string cast can).
    const big = await influx.rows('SELECT big FROM "hostile m,1" WHERE idx = \'0\'', { db: 'hostile_db' });
    expect(big[0].big).toBe(9_007_199_254_740_992); // JSON's nearest double of 9007199254740993
    const types = await influx.rows('SHOW FIELD KEYS FROM "hostile m,1"', { db: 'hostile_db' });
    expect(types.find((r) => r.fieldKey === 'big')?.fieldType).toBe('integer');
    // The string field that looks like line protocol did not become a point of its own.
    const measurements = (await influx.rows('SHOW MEASUREMENTS', { db: 'hostile_db' })).map((r) => r.name);
    expect(measurements).toEqual(['hostile m,1']);
    await writer.stop();
  });

  it('refuses (and counts) points InfluxDB 1.x cannot represent, without forging points', async () => {
    const { writer, logs } = makeWriter({ database: 'invalid_db' });
    writer.start();
    writer.write([
      { measurement: 'inv', tags: { t: 'line\nforged,t=x f=1' }, fields: { seq: 1 } },
      { measurement: 'inv', tags: { t: 'trailing backslash\\' }, fields: { seq: 2 } },
      { measurement: 'inv', fields: { seq: Number.NaN } },
      { measurement: 'inv', fields: {} },
      { measurement: '#comment', fields: { seq: 3 } },
      { measurement: 'back\\,slash', fields: { seq: 5 } },
      { measurement: 'inv', fields: { 'back\\=slash': 6 } },
      { measurement: 'inv', tags: { t: 'fine' }, fields: { seq: 4 } },
    ]);
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ submitted: 8, written: 1, rejected: 7, invalid: 7 });
    expectAccounted(writer);
    expect((await influx.rows('SHOW MEASUREMENTS', { db: 'invalid_db' })).map((r) => r.name)).toEqual(['inv']);
    expect(await count('invalid_db', 'inv')).toBe(1);
    // Logged once (rate-limited), with the reason.
    const warnings = logs.lines.filter((l) => String(l.msg).includes('not representable'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].reason)).toContain('newline');
    await writer.stop();
  });

  it('survives an outage: every point written within the buffer bound arrives after influxd restarts', async () => {
    const db = 'outage_db';
    const { writer, logs } = makeWriter({ database: db, batchSize: 50, maxBufferedPoints: 5_000 });
    writer.start();
    await writer.ready;
    writer.write(seqPoints('ev', 0, 200));
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats().written).toBe(200);

    await influx.stop();
    // Points keep coming while InfluxDB is down.
    let seq = 200;
    for (let round = 0; round < 20; round++) {
      writer.write(seqPoints('ev', seq, 100));
      seq += 100;
      await new Promise((r) => setTimeout(r, 25));
    }
    await waitFor(() => writer.stats().retries > 0, { what: 'the writer to notice the outage', timeoutMs: 10_000, logsFrom: registry });
    expect(writer.stats().buffered).toBe(2_000);
    expect(writer.stats().lastError).toMatch(/ECONNREFUSED|socket hang up|ECONNRESET/);

    await influx.start();
    expect(await writer.flush(30_000)).toBe(true);
    const s = writer.stats();
    expect(s).toMatchObject({ submitted: 2_200, written: 2_200, dropped: 0, rejected: 0, buffered: 0 });
    expect(await count(db, 'ev')).toBe(2_200);
    expect(logs.lines.some((l) => l.msg === 'InfluxDB writes succeed again')).toBe(true);
    await writer.stop();
  });

  it('beyond the buffer bound drops the oldest points and counts them exactly', async () => {
    const db = 'overflow_db';
    const { writer } = makeWriter({ database: db, batchSize: 100, maxBufferedPoints: 1_000 });
    writer.start();
    await writer.ready;
    writer.write(seqPoints('warmup', 0, 10));
    expect(await writer.flush(10_000)).toBe(true);

    await influx.stop();
    for (let round = 0; round < 30; round++) {
      writer.write(seqPoints('ovf', round * 100, 100));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(writer.stats().dropped).toBe(2_000);
    expect(writer.stats().buffered).toBe(1_000);
    expectAccounted(writer);

    await influx.start();
    expect(await writer.flush(30_000)).toBe(true);
    const s = writer.stats();
    expect(s.written + s.dropped).toBe(s.submitted);
    expect(s.written).toBe(1_010);
    expect(await count(db, 'ovf')).toBe(1_000);
    // Oldest first: all but at most one batch (the one in flight when the drops happened) are the newest points.
    expect(await count(db, 'ovf', 'seq >= 2100')).toBe(900);
    expect(await count(db, 'warmup')).toBe(10);
    await writer.stop();
  });

  it('drops and counts a batch InfluxDB refuses (field type conflict) without wedging', async () => {
    const db = 'conflict_db';
    const { writer, logs } = makeWriter({ database: db, batchSize: 1_000 });
    writer.start();
    await writer.ready;
    writer.write([{ measurement: 'c', fields: { v: 1.5 }, timestamp: ts(1) }]);
    expect(await writer.flush(10_000)).toBe(true);

    // One batch: two good points around a conflicting one → partial write.
    writer.write([
      { measurement: 'c', fields: { v: 2.5 }, timestamp: ts(2) },
      { measurement: 'c', fields: { v: 'not a float' }, timestamp: ts(3) },
      { measurement: 'c', fields: { v: 3.5 }, timestamp: ts(4) },
    ]);
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ written: 3, rejected: 1, retries: 0 });

    // A batch of conflicting points only.
    writer.write([
      { measurement: 'c', fields: { v: true }, timestamp: ts(5) },
      { measurement: 'c', fields: { v: 'x' }, timestamp: ts(6) },
    ]);
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ written: 3, rejected: 3 });

    // Not wedged: later points are written.
    writer.write([{ measurement: 'c', fields: { v: 4.5 }, timestamp: ts(7) }]);
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ written: 4, rejected: 3, buffered: 0 });
    expect((await influx.rows('SELECT v FROM c', { db })).map((r) => r.v)).toEqual([1.5, 2.5, 3.5, 4.5]);
    const refused = logs.lines.filter((l) => String(l.msg).startsWith('InfluxDB refused points'));
    expect(refused).toHaveLength(1); // rate-limited
    expect(String(refused[0].error)).toContain('field type conflict');
    expect(String(refused[0].sample)).toContain('c ');
    expectAccounted(writer);
    await writer.stop();
  });

  it('recreates a database dropped under it, then writes', async () => {
    const db = 'dropped_db';
    const { writer } = makeWriter({ database: db, retentionPolicy: { name: 'rp1', duration: '1d' } });
    writer.start();
    await writer.ready;
    writer.write(seqPoints('d', 0, 5));
    expect(await writer.flush(10_000)).toBe(true);
    await influx.query(`DROP DATABASE ${db}`);
    writer.write(seqPoints('d', 5, 5));
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ written: 10, rejected: 0 });
    expect(writer.stats().retries).toBeGreaterThanOrEqual(1);
    expect(await count(db, 'd')).toBe(5);
    expect((await influx.rows(`SHOW RETENTION POLICIES ON ${db}`)).find((r) => r.name === 'rp1')).toMatchObject({ duration: '24h0m0s', default: true });
    await writer.stop();
  });

  it('stop() flushes what is buffered', async () => {
    const db = 'stop_db';
    const { writer } = makeWriter({ database: db, batchSize: 10_000, maxBufferedPoints: 10_000, flushIntervalMs: 600_000 });
    writer.start();
    await writer.ready;
    writer.write(seqPoints('s', 0, 1_234));
    expect(writer.stats().buffered).toBe(1_234);
    const report = await writer.stop(10_000);
    expect(report.flushed).toBe(true);
    expect(report.stats).toMatchObject({ written: 1_234, buffered: 0, abandoned: 0 });
    expect(await count(db, 's')).toBe(1_234);
    // Points after stop() are counted, not sent.
    writer.write(seqPoints('s', 2_000, 3));
    expect(writer.stats()).toMatchObject({ submitted: 1_237, dropped: 3 });
  });

  it('stop() gives up at its deadline when InfluxDB is unreachable, and reports what it abandoned', async () => {
    const port = await freePort();
    const { writer } = makeWriter({ url: `http://127.0.0.1:${port}`, database: 'nowhere' });
    writer.start();
    writer.write(seqPoints('x', 0, 500));
    const started = Date.now();
    const report = await writer.stop(800);
    const elapsed = Date.now() - started;
    expect(report.flushed).toBe(false);
    expect(report.stats).toMatchObject({ submitted: 500, written: 0, abandoned: 500, buffered: 0, ready: false });
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(5_000);
    expect(await writer.ready).toBe(false);
  });
});

describe('InfluxWriter with authentication', () => {
  let secured: Influxd;
  const admin = { username: 'bmpw_admin', password: 'S3cret-"quote\'-p@ss' };

  beforeAll(async () => {
    secured = await startInfluxd({ registry, admin });
  }, 60_000);

  it('authenticates, and never logs the password', async () => {
    const { writer, logs } = makeWriter({ url: secured.url, database: 'auth_db', username: admin.username, password: admin.password });
    writer.start();
    expect(await writer.ready).toBe(true);
    writer.write(seqPoints('a', 0, 20));
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.stats().written).toBe(20);
    expect(await secured.rows('SELECT count(seq) FROM a', { db: 'auth_db' })).toMatchObject([{ count: 20 }]);
    await writer.stop();
    expect(logs.text()).not.toContain(admin.password);
    expect(logs.text()).not.toContain(Buffer.from(`${admin.username}:${admin.password}`).toString('base64'));
  });

  it('treats bad credentials as transient (retries, keeps points) and keeps them out of the logs', async () => {
    const password = 'wrong-password-123';
    const { writer, logs } = makeWriter({ url: `http://${admin.username}:${password}@127.0.0.1:${secured.port}`, database: 'auth_db', createDatabase: false });
    writer.start();
    writer.write(seqPoints('b', 0, 5));
    await waitFor(() => writer.stats().retries >= 2, { what: 'write retries with bad credentials', timeoutMs: 10_000, logsFrom: registry });
    expect(writer.stats()).toMatchObject({ written: 0, buffered: 5, rejected: 0 });
    expect(writer.stats().lastError).toMatch(/401/);
    const report = await writer.stop(300);
    expect(report.stats.abandoned).toBe(5);
    expect(logs.text()).not.toContain(password);
  });
});
