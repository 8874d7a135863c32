/**
 * History from a real FRR route server with ExaBGP appliances, written by one collector to both back-ends at once
 * (InfluxDB 1.6.7 started by the test, and the embedded SQLite store), then read back through the real
 * `bmpwatch history` / `bmpwatch prefixes` code: both back-ends must print the same answer, and that answer must
 * hold what the appliances did (sessions, announcements, a withdrawal, an attribute change, a move to a new
 * address with the same BGP identifier).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteView } from '../../src/api/views.js';
import { App } from '../../src/app.js';
import { runHistory, runPrefixes } from '../../src/cli/history.js';
import { loadConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import type { HistoryEvent } from '../../src/store/history-event.js';
import { applianceHistory, resolveAppliance } from '../../src/store/history.js';
import { InfluxHistoryBackend, influxClient } from '../../src/store/influx/history-backend.js';
import { InfluxReporter } from '../../src/store/influx/reporter.js';
import { InfluxWriter } from '../../src/store/influx/writer.js';
import { HistoryRecorder, historyMappingOptions } from '../../src/store/recorder.js';
import { databasePath, openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteHistoryStore } from '../../src/store/sqlite/history-store.js';
import { systemClock } from '../../src/util/clock.js';
import { startExabgpAppliance, type ExabgpAppliance } from '../helpers/daemons/exabgp.js';
import { startFrrRouteServer, type FrrRouteServer } from '../helpers/daemons/frr.js';
import { defaultRegistry, waitFor } from '../helpers/daemons/process.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';

const RS_ADDRESS = '127.0.31.1';
const A = '127.0.32.11';
const A_MOVED = '127.0.32.14';
const B = '127.0.32.12';

let influxd: Influxd;
let rs: FrrRouteServer;
let app: App;
let apiBase: string;
const dirs: string[] = [];
const configs: { influx: string; sqlite: string } = { influx: '', sqlite: '' };
let startedAt = 0;
/** Fixed once the scenario ends, so both back-ends are asked about the same range. */
let until = '';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-history-it-'));
  dirs.push(dir);
  return dir;
}

function yaml(dataDir: string, influxUrl?: string): string {
  const lines = [
    'listen:',
    '  bmp: { host: 127.0.0.1, port: 0 }',
    '  api: { host: 127.0.0.1, port: 0 }',
    'log: { level: warn }',
    'storage:',
    `  dataDir: ${JSON.stringify(dataDir)}`,
    '  history: { flushIntervalMs: 50, routeEvents: all }',
  ];
  if (influxUrl) lines.push('  influx:', `    url: ${influxUrl}`, '    database: bmpwatch_it', '    flushIntervalMs: 50', '    metricsIntervalSeconds: 1');
  return `${lines.join('\n')}\n`;
}

function parse(text: string): Config {
  const loaded = loadConfigText(text, {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

async function routes(peer: string): Promise<RouteView[]> {
  const response = await fetch(`${apiBase}/api/routes?peer=${peer}&table=adj-rib-in-pre`);
  return (await response.json()) as RouteView[];
}

async function waitForPrefixes(peer: string, expected: readonly string[], what: string): Promise<void> {
  await waitFor(async () => JSON.stringify((await routes(peer)).map((r) => r.prefix).sort()) === JSON.stringify([...expected].sort()), {
    what,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
}

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function cli(command: 'history' | 'prefixes', which: 'influx' | 'sqlite', query: string, extra: Record<string, unknown> = {}): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const io = { stdout: out.stream, stderr: err.stream, env: {}, now: () => Date.now() };
  const options = { config: configs[which], ...extra };
  const code = command === 'history' ? await runHistory(query, { since: new Date(startedAt - 60_000).toISOString(), until, ...options }, io) : await runPrefixes(query, options, io);
  return { code, out: out.text(), err: err.text() };
}

beforeAll(async () => {
  influxd = await startInfluxd();
  defaultRegistry.defer('stop influxd', () => influxd.destroy());
  const influxDir = tempDir();
  const sqliteDir = tempDir();
  const { writeFileSync } = await import('node:fs');
  configs.influx = join(influxDir, 'influx.yaml');
  configs.sqlite = join(sqliteDir, 'sqlite.yaml');
  writeFileSync(configs.influx, yaml(influxDir, influxd.url));
  writeFileSync(configs.sqlite, yaml(sqliteDir));

  // One collector: history to InfluxDB (storage.influx) and, through a second recorder, to the SQLite store.
  const config = parse(yaml(influxDir, influxd.url));
  const logger = createLogger('silent');
  app = new App({ config, logger, clock: systemClock });
  app.addConsumer(
    new HistoryRecorder(new SqliteHistoryStore(openDatabase(databasePath(sqliteDir))), historyMappingOptions(config), { flushIntervalMs: 50, batchSize: 1000, maxBufferedEvents: 100_000 }, logger),
  );
  startedAt = Date.now();
  const bound = await app.start();
  apiBase = `http://127.0.0.1:${bound.api.port}`;
  defaultRegistry.defer('stop the collector', () => app.stop());
  rs = await startFrrRouteServer({ routerId: '192.0.2.31', localAs: 65000, listenAddresses: [RS_ADDRESS], listenRange: '127.0.32.0/24', bmp: { host: '127.0.0.1', port: bound.bmp.port } });
}, 60_000);

afterAll(async () => {
  await defaultRegistry.runAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function appliance(address: string, routes: readonly string[], routerId = address): Promise<ExabgpAppliance> {
  return startExabgpAppliance({ localAddress: address, routerId, peerAddress: RS_ADDRESS, peerPort: rs.port, localAs: 65000, routes });
}

describe('bmpwatch history from a real route server, in InfluxDB and in the embedded store', () => {
  it('records sessions, announcements, a withdrawal, a change and a move, and both back-ends answer the same', async () => {
    const a = await appliance(A, ['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64']);
    const b = await appliance(B, ['10.128.2.0/29']);
    await Promise.all([a.waitEstablished(), b.waitEstablished()]);
    await waitForPrefixes(A, ['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64'], "A's routes");
    await waitForPrefixes(B, ['10.128.2.0/29'], "B's routes");

    await a.withdraw('10.128.1.8/29');
    await waitForPrefixes(A, ['10.128.1.0/29', '2001:db8:100:1::/64'], 'the withdrawal');
    await a.announce('10.128.1.0/29', { med: 50 });
    await waitFor(async () => (await routes(A)).some((r) => r.prefix === '10.128.1.0/29' && r.med === 50), { what: 'the change', timeoutMs: 30_000, intervalMs: 100 });

    // The appliance moves: same BGP identifier, new session address.
    await a.stop();
    const moved = await appliance(A_MOVED, ['10.128.1.0/29'], A);
    await moved.waitEstablished();
    await waitForPrefixes(A_MOVED, ['10.128.1.0/29'], 'the moved appliance');
    // Both recorders flush every 50 ms; give the InfluxDB writer its flush too, then stop to flush the rest.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const beforeStop = new Date().toISOString();
    // The stop's router-down must fall after `beforeStop`: in the same millisecond it would count as before it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await app.stop();
    until = new Date().toISOString();

    const sqlite = await cli('history', 'sqlite', A, { json: true });
    const influx = await cli('history', 'influx', A, { json: true });
    expect(sqlite.err).toBe('');
    expect(influx.err).toBe('');
    expect(sqlite.code).toBe(0);
    expect(influx.code).toBe(0);
    // The SQLite copy in this test is fed the collector's events only; alert transitions (the unexpected-peer
    // alerts of this group-less config) reach the App's own recorder, here InfluxDB. Everything else is identical.
    const withoutAlerts = (text: string): string => text.split('\n').filter((line) => !line.includes('"type":"alert-')).join('\n');
    expect(withoutAlerts(influx.out)).toBe(sqlite.out);
    expect(influx.out).toMatch(/"type":"alert-firing".*"rule":"unexpected-peer"/);

    const events = sqlite.out.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = events.filter((e) => e.type !== 'router-up' && e.type !== 'router-down').map((e) => `${String(e.type)} ${String(e.peer)} ${String(e.prefix ?? '')}`.trim());
    // The order within A's session is fixed; the moved session's events come after it.
    const sessionA = summary.filter((line) => line.includes(` ${A} `) || line.endsWith(` ${A}`));
    expect(sessionA[0]).toBe(`peer-up ${A}`);
    for (const prefix of ['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64']) expect(sessionA).toContain(`route-announced ${A} ${prefix}`);
    expect(sessionA).toContain(`route-withdrawn ${A} 10.128.1.8/29`);
    expect(sessionA).toContain(`route-changed ${A} 10.128.1.0/29`);
    expect(summary).toContain(`peer-up ${A_MOVED}`);
    expect(summary).toContain(`route-announced ${A_MOVED} 10.128.1.0/29`);
    expect(summary.findIndex((line) => line === `peer-up ${A_MOVED}`)).toBeGreaterThan(summary.findIndex((line) => line === `peer-up ${A}`));
    // Nothing of the other appliance.
    expect(summary.filter((line) => line.includes(B))).toEqual([]);
    for (const event of events) {
      expect(typeof event.time).toBe('string');
      expect(new Date(String(event.time)).toISOString()).toBe(event.time);
      expect(event.router).toBeTruthy();
    }

    // Found the same way by the new address and by the BGP identifier; the readable timeline matches too.
    for (const query of [A_MOVED]) {
      expect(withoutAlerts((await cli('history', 'influx', query, { json: true })).out)).toBe(sqlite.out);
      expect((await cli('history', 'sqlite', query, { json: true })).out).toBe(sqlite.out);
    }
    const tableSqlite = await cli('history', 'sqlite', A);
    const tableInflux = await cli('history', 'influx', A, { json: false });
    expect(tableInflux.out).toMatch(/alert-firing .*unexpected-peer/);
    expect(tableSqlite.out).toMatch(/peer-up\s+127\.0\.32\.11/);
    expect(tableSqlite.out).toMatch(/route-withdrawn\s+127\.0\.32\.11\s+pre\s+10\.128\.1\.8\/29/);

    // What the appliance announced just before the collector stopped: the moved session's route (the same from
    // both back-ends). After the stop, the route server's session ended, so nothing is known to be announced.
    const nowSqlite = await cli('prefixes', 'sqlite', A, { json: true, at: beforeStop });
    const nowInflux = await cli('prefixes', 'influx', A, { json: true, at: beforeStop });
    expect(nowInflux.out).toBe(nowSqlite.out);
    const current = JSON.parse(nowSqlite.out) as { peer: string; prefix: string; table: string; nextHop?: string }[];
    expect(current.filter((r) => r.peer === A_MOVED && r.table === 'adj-rib-in-pre').map((r) => `${r.prefix} via ${r.nextHop}`), `at ${beforeStop}:\n${sqlite.out}`).toEqual(['10.128.1.0/29 via 127.0.32.14']);

    expect(JSON.parse((await cli('prefixes', 'sqlite', A, { json: true })).out)).toEqual([]);

    // Errors: an unknown appliance, and a bad time range.
    const unknown = await cli('history', 'sqlite', '10.99.99.99');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no appliance "10\.99\.99\.99"/);
    const badRange = await cli('history', 'influx', A, { since: 'yesterday-ish' });
    expect(badRange.code).toBe(2);
    expect(badRange.err).toMatch(/--since: "yesterday-ish" is not a time/);
  }, 120_000);

  it('stores hostile names and values exactly in both back-ends (quotes, backslashes, commas, spaces, =, newlines in fields)', async () => {
    const nasty = `rs "one", two=2 \\ 'x' ✓`;
    const detail = `Cease; "shut down", by ops=1 \\ \n second line`;
    const now = Date.now();
    const events: HistoryEvent[] = [
      { time: now, type: 'peer-up', router: nasty, routerAddress: '127.0.0.9', peer: '10.0.9.9', peerAs: 65009, peerBgpId: '192.0.2.99', detail: 'session up' },
      { time: now, type: 'route-announced', router: nasty, routerAddress: '127.0.0.9', peer: '10.0.9.9', peerAs: 65009, peerBgpId: '192.0.2.99', table: 'adj-rib-in-pre', prefix: '10.128.9.0/29', nextHop: '10.0.9.9', asPath: '65009 {1,2}' },
      { time: now + 1, type: 'peer-down', router: nasty, routerAddress: '127.0.0.9', peer: '10.0.9.9', peerAs: 65009, peerBgpId: '192.0.2.99', detail, durationMs: 1234 },
    ];
    const dir = tempDir();
    const sqlite = new SqliteHistoryStore(openDatabase(databasePath(dir)));
    sqlite.append(events);
    const writer = new InfluxWriter({ url: influxd.url, database: 'bmpwatch_hostile', flushIntervalMs: 20 }, { logger: createLogger('silent') });
    const reporter = new InfluxReporter(writer, systemClock, undefined);
    writer.start();
    reporter.append(events);
    const report = await writer.stop(10_000);
    expect(report.stats.written).toBe(3);
    const influx = new InfluxHistoryBackend(influxClient({ url: influxd.url, database: 'bmpwatch_hostile' }), 'bmpwatch_hostile');
    for (const backend of [sqlite, influx]) {
      const range = { from: now - 1000, to: now + 1000 };
      const appliance = await resolveAppliance(backend, '10.0.9.9', range);
      expect(await applianceHistory(backend, appliance, { ...range, limit: 10, router: nasty }), backend.name).toEqual(events);
      // A query string built to escape the literal finds nothing, and changes nothing.
      await expect(resolveAppliance(backend, "10.0.9.9' OR '1'='1", range)).rejects.toThrow(/no appliance/);
      expect(await applianceHistory(backend, appliance, { ...range, limit: 10, router: "x' OR router =~ /.*/ OR 'a'='b" })).toEqual([]);
    }
    await sqlite.close();
  }, 30_000);

  it('says clearly when InfluxDB is unreachable', async () => {
    await influxd.stop();
    const result = await cli('history', 'influx', A);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/InfluxDB at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
  }, 30_000);
});
