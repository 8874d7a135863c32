/**
 * Fault: InfluxDB goes away while routes keep flowing. `bmpwatch serve` (child process) writes its history to a
 * real influxd 1.6 (test/helpers/influxd.ts: stopped and started again on the same port and directory) with
 * storage.influx.maxBufferedPoints = BOUND. A fake route server (raw BMP) announces routes of one appliance in
 * messages of 100 prefixes: every route is one history event, one point in `bmp_events`. Nothing else writes
 * points during the test (metricsIntervalSeconds 3600, no Statistics Reports, and the appliance's group allows
 * everything it announces, so no alert fires): every point submitted is known.
 *
 * 1. Within the bound: influxd stopped for OUTAGE_MS (60 s; BMPWATCH_INFLUX_OUTAGE_MS overrides it) while
 *    WITHIN routes (< BOUND) arrive spread over the outage. influxd started again: after the writer's next retry
 *    (its backoff reaches 30 s), every one of them is stored (counted in InfluxDB), nothing dropped.
 * 2. Beyond the bound: influxd stopped again (OVERFLOW_OUTAGE_MS, 15 s) while BEYOND routes (> BOUND) arrive.
 *    After the restart: bmpwatch_influx_points_dropped_total = BEYOND - BOUND exactly; the points stored are
 *    exactly the newest BOUND (drop-oldest: the stored prefixes of that outage are the last BOUND sent); stored +
 *    dropped = submitted, and InfluxDB holds exactly bmpwatch_influx_points_written_total points.
 * The figures are printed at the end.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initiation, peer, peerUp, routes } from '../helpers/bmp-builders.js';
import { createRegistry } from '../helpers/daemons/process.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { connectRouter, waitMessages } from './raw-router.js';
import { cleanupFaultDirs, faultDir, killAllServeChildren, ServeChild, sleep, until } from './serve-child.js';

const OUTAGE_MS = Number(process.env.BMPWATCH_INFLUX_OUTAGE_MS ?? 60_000);
const OVERFLOW_OUTAGE_MS = 15_000;
const BOUND = 5_000;
const WITHIN = 4_000;
const BEYOND = 12_000;
const PER_MESSAGE = 100;
const DB = 'faults';
/** The writer's retry backoff is capped at 30 s (not configurable): the first retry after a long outage may take that long. */
const DRAIN_TIMEOUT_MS = 60_000;

const registry = createRegistry();
let influx: Influxd;
let serve: ServeChild;
let rs: Socket;
let rsId = '';
let sentRoutes = 0;
let sentMessages = 0;
const APPLIANCE = peer('100.64.0.11', { as: 64496 });

const prefixOf = (i: number): string => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;

/** Sends `count` new routes in messages of PER_MESSAGE, spread evenly over `spreadMs`. */
async function sendRoutes(count: number, spreadMs: number): Promise<{ first: number; last: number }> {
  const first = sentRoutes;
  const messages = Math.ceil(count / PER_MESSAGE);
  const started = Date.now();
  for (let m = 0; m < messages; m++) {
    const n = Math.min(PER_MESSAGE, first + count - sentRoutes);
    rs.write(routes(APPLIANCE, Array.from({ length: n }, (_, k) => prefixOf(sentRoutes + k)), { nextHop: '100.64.0.11' }));
    sentRoutes += n;
    sentMessages++;
    const due = started + ((m + 1) * spreadMs) / messages;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await waitMessages(serve.get.bind(serve), rsId, sentMessages, 30_000);
  return { first, last: sentRoutes - 1 };
}

async function influxCounters(): Promise<{ written: number; dropped: number; buffered: number; rejected: number; retries: number }> {
  const m = await serve.metrics();
  return {
    written: m.sum('bmpwatch_influx_points_written_total'),
    dropped: m.sum('bmpwatch_influx_points_dropped_total'),
    buffered: m.sum('bmpwatch_influx_points_buffered'),
    rejected: m.sum('bmpwatch_influx_points_rejected_total'),
    retries: m.sum('bmpwatch_influx_write_retries_total'),
  };
}

async function storedRouteEvents(where = ''): Promise<number> {
  const rows = await influx.rows(`SELECT count("prefix") FROM "bmp_events" WHERE "type" = 'route-announced'${where}`, { db: DB });
  return Number(rows[0]?.count ?? 0);
}

async function storedPoints(): Promise<number> {
  let total = 0;
  for (const measurement of ['bmp_events', 'bmp_router', 'bmp_peer', 'bmp_peer_prefixes', 'bmp_statistics', 'bmpwatch_collector']) {
    // count(*) gives one count per field; every point of a measurement here has its always-present fields: the
    // largest count is the number of points.
    const [row] = await influx.rows(`SELECT count(*) FROM "${measurement}"`, { db: DB });
    if (row === undefined) continue;
    const counts = Object.entries(row).filter(([k]) => k !== 'time').map(([, v]) => Number(v));
    total += Math.max(0, ...counts.filter((n) => Number.isFinite(n)));
  }
  return total;
}

/** Waits until the writer has nothing buffered and everything it wrote is queryable. */
async function drained(what: string): Promise<void> {
  await until(async () => (await influxCounters()).buffered === 0, `the InfluxDB buffer to drain ${what}`, DRAIN_TIMEOUT_MS, () => serve.output(20), 250);
}

beforeAll(async () => {
  influx = await startInfluxd({ registry });
  serve = await ServeChild.start({
    dir: faultDir('influx'),
    config: (_ports, dir) => `
routers: { allowedSources: [127.0.0.0/8] }
log: { level: info }
storage:
  dataDir: ${JSON.stringify(dir)}
  history: { flushIntervalMs: 50 }
  influx:
    url: ${influx.url}
    database: ${DB}
    batchSize: 1000
    flushIntervalMs: 100
    maxBufferedPoints: ${BOUND}
    metricsIntervalSeconds: 3600
applianceGroups:
  - name: appliances
    sessionRanges: [100.64.0.0/22]
    sessionType: ibgp
    asns: [64496]
    prefixes:
      ipv4: [{ prefix: 10.128.0.0/14, minLength: 14, maxLength: 32 }]
    maxPrefixes: 100000
`,
  });
  rs = await connectRouter(serve.ports.bmp, '127.0.0.1');
  rs.on('error', () => {});
  rsId = `${rs.localAddress}:${rs.localPort}`;
  rs.write(Buffer.concat([initiation('rs-influx'), peerUp(APPLIANCE)]));
  sentMessages = 2;
  await sendRoutes(1_000, 0);
  await until(async () => (await storedRouteEvents()) === 1_000, 'the first 1,000 route events in InfluxDB', 30_000, () => serve.output(20));
}, 120_000);

afterAll(async () => {
  rs?.destroy();
  await killAllServeChildren();
  await registry.runAll();
  cleanupFaultDirs();
}, 60_000);

describe(`influxd stopped while routes keep flowing (buffer bound ${BOUND} points)`, () => {
  it(`${OUTAGE_MS / 1000} s outage, ${WITHIN} routes (within the bound): every point arrives, none dropped`, async () => {
    await drained('before the outage');
    const before = await influxCounters();
    const storedBefore = await storedRouteEvents();
    await influx.stop();
    const started = Date.now();
    await sendRoutes(WITHIN, OUTAGE_MS - 2_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - started)));
    const during = await influxCounters();
    expect(during.buffered).toBe(WITHIN);
    expect(during.retries).toBeGreaterThan(before.retries);
    await influx.start();
    const restarted = Date.now();
    await drained('after the outage');
    const after = await influxCounters();
    const stored = await storedRouteEvents();
    console.log(
      `influx outage within the bound: ${((restarted - started) / 1000).toFixed(0)} s down, ${WITHIN} routes meanwhile (buffered ${during.buffered}/${BOUND}), ` +
        `${during.retries - before.retries} failed writes; drained ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart; stored ${stored - storedBefore}, dropped ${after.dropped - before.dropped}`,
    );
    expect(stored - storedBefore).toBe(WITHIN);
    expect(after.dropped).toBe(before.dropped);
    expect(after.written - before.written).toBe(WITHIN);
  }, OUTAGE_MS + DRAIN_TIMEOUT_MS + 60_000);

  it(`${OVERFLOW_OUTAGE_MS / 1000} s outage, ${BEYOND} routes (beyond the bound): the newest ${BOUND} arrive, the oldest dropped and counted exactly`, async () => {
    await drained('before the outage');
    const before = await influxCounters();
    const storedBefore = await storedRouteEvents();
    await influx.stop();
    const started = Date.now();
    const sent = await sendRoutes(BEYOND, OVERFLOW_OUTAGE_MS - 2_000);
    await sleep(Math.max(0, OVERFLOW_OUTAGE_MS - (Date.now() - started)));
    const during = await influxCounters();
    expect(during.buffered).toBe(BOUND);
    await influx.start();
    await drained('after the outage');
    const after = await influxCounters();
    const stored = (await storedRouteEvents()) - storedBefore;
    const dropped = after.dropped - before.dropped;
    // Which prefixes of this outage made it: exactly the newest BOUND (drop-oldest).
    const rows = await influx.rows(`SELECT "prefix" FROM "bmp_events" WHERE "type" = 'route-announced' AND time >= ${started}ms`, { db: DB });
    const survivors = new Set(rows.map((r) => String(r.prefix)));
    const newest = new Set(Array.from({ length: BOUND }, (_, k) => prefixOf(sent.last - k)));
    const total = await storedPoints();
    console.log(
      `influx outage beyond the bound: ${BEYOND} routes in ${OVERFLOW_OUTAGE_MS / 1000} s (buffered ${during.buffered}/${BOUND}); stored ${stored}, dropped ${dropped} ` +
        `(counter) = ${BEYOND - stored} missing; written_total ${after.written}, points in InfluxDB ${total}; submitted ${sentRoutes} routes + 2 session events = ${sentRoutes + 2}, ` +
        `stored + dropped = ${total + after.dropped}`,
    );
    expect(dropped).toBe(BEYOND - BOUND);
    expect(stored).toBe(BOUND);
    expect(BEYOND - stored).toBe(dropped);
    expect(survivors).toEqual(newest);
    expect(after.rejected).toBe(0);
    // Every point accounted for, over the whole run: in InfluxDB (= written) + dropped = every event.
    expect(total).toBe(after.written);
    expect(total + after.dropped).toBe(sentRoutes + 2); // + router-up and peer-up
  }, OVERFLOW_OUTAGE_MS + DRAIN_TIMEOUT_MS + 60_000);
});
