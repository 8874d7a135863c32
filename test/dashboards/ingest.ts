/**
 * The data the dashboard queries run against: a real influxd (1.6.7, Debian package) holding what bmpwatch itself
 * wrote while ingesting the real captures of test/fixtures. Nothing is written to InfluxDB by hand except the alert
 * transitions (see ALERTS below).
 *
 * 1. influxd on a free loopback port; the App (src/app.ts) with storage.influx enabled, metrics every second.
 * 2. Each capture is replayed over TCP from its own loopback address, so each is a route server of its own with a
 *    configured name. Frames are paced over REPLAY_MS: the route server's initial dump ends after
 *    limits.initialDumpTimeoutSeconds (1 s here, as FRR sends no End-of-RIB), so the later messages count as
 *    announcements, changes and withdrawals in bmp_peer, as they would on a live route server.
 * 3. The FRR connections stay open (routers up); GoBGP's capture ends with a Termination (a router-down event).
 * 4. Alert transitions go through the App's history recorder, the path the alert manager's transitions take
 *    (HistoryRecorder.record → InfluxReporter.append → bmp_events).
 * 5. Wait until every measurement the dashboards read has points, and a few metrics snapshots after the replay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app.js';
import { BMP_COMMON_HEADER_BYTES } from '../../src/bmp/framer.js';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import type { HistoryEvent } from '../../src/store/history-event.js';
import { MEASUREMENTS } from '../../src/store/schema.js';
import { systemClock } from '../../src/util/clock.js';
import { connectRouter } from '../helpers/collector.js';
import { defaultRegistry, sleep, waitFor } from '../helpers/daemons/process.js';
import { readCapture } from '../helpers/fixtures.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';

export const DATABASE = 'bmpwatch_dashboards';
/** metricsIntervalSeconds in the test config: also the datasource's minimum interval in the substitution. */
export const METRICS_INTERVAL_SECONDS = 1;
const REPLAY_MS = 3_000;

/** Route servers: a capture each, replayed from its own loopback address under a configured name. */
export const ROUTE_SERVERS = [
  { name: 'rs-frr-baseline', address: '127.0.40.1', capture: 'frr-baseline/both', stayConnected: true },
  { name: 'rs-frr-addpath', address: '127.0.40.2', capture: 'frr-addpath/both', stayConnected: true },
  { name: 'rs-frr-late', address: '127.0.40.3', capture: 'frr-late-collector/both', stayConnected: true },
  { name: 'rs-gobgp', address: '127.0.40.4', capture: 'gobgp-addpath/all', stayConnected: false },
] as const;

/**
 * The appliance the Appliance dashboard is tested with: an IBGP appliance of the GoBGP capture, which comes up,
 * announces, changes and withdraws prefixes, is reported on by Statistics Reports, and goes down.
 */
export const APPLIANCE = { router: 'rs-gobgp', peer: '100.64.1.11' } as const;

/**
 * Alert transitions. The rules are being wired into the App by another change; until then the test records the
 * transitions the alert manager will record, through the same recorder (HistoryRecorder.record, which hands them
 * to InfluxReporter.append). Once the App raises alerts on these captures itself, enable the rules in
 * configText(), drop this list and keep the wait for alert events below.
 */
function alerts(now: number): HistoryEvent[] {
  const rs = ROUTE_SERVERS.find((r) => r.name === APPLIANCE.router);
  if (!rs) throw new Error(`no route server ${APPLIANCE.router}`);
  const on = (peer: string) => ({ router: rs.name, routerAddress: rs.address, peer, peerAs: 65000, peerBgpId: peer });
  const a = on(APPLIANCE.peer);
  return [
    { ...a, time: now - 5_000, type: 'alert-firing', rule: 'unexpected-prefix', severity: 'warning', fingerprint: `unexpected-prefix/${APPLIANCE.peer}/10.0.0.0/8`, detail: '10.0.0.0/8 is outside the group' },
    { ...a, time: now - 4_000, type: 'alert-firing', rule: 'route-flap', severity: 'critical', fingerprint: `route-flap/${APPLIANCE.peer}/10.128.1.16/32`, detail: 'figure of merit 6500' },
    { ...a, time: now - 3_000, type: 'alert-resolved', rule: 'unexpected-prefix', severity: 'warning', fingerprint: `unexpected-prefix/${APPLIANCE.peer}/10.0.0.0/8`, detail: 'withdrawn' },
    { ...a, time: now - 2_500, type: 'alert-firing', rule: 'as-path', severity: 'info', fingerprint: `as-path/${APPLIANCE.peer}/10.128.1.0/29`, detail: 'AS path prepended 3 times' },
    { ...on('100.64.1.12'), time: now - 2_000, type: 'alert-firing', rule: 'unexpected-prefix', severity: 'warning', fingerprint: 'unexpected-prefix/100.64.1.12/192.0.2.0/24', detail: '192.0.2.0/24 is infrastructure' },
    { ...on('100.64.1.12'), time: now - 1_000, type: 'alert-firing', rule: 'session-down', severity: 'critical', fingerprint: 'session-down/100.64.1.12', detail: 'down for 90 s' },
  ];
}

export interface IngestedData {
  readonly influxd: Influxd;
  /** Time range for the dashboards' $timeFilter: covers everything written. */
  readonly from: number;
  readonly to: number;
  stop(): Promise<void>;
}

function configText(dataDir: string, influxUrl: string): string {
  return [
    'listen:',
    '  bmp: { host: 127.0.0.1, port: 0 }',
    '  api: { host: 127.0.0.1, port: 0 }',
    'limits: { initialDumpTimeoutSeconds: 1 }',
    'routers:',
    '  allowedSources: [127.0.0.0/8]',
    '  names:',
    ...ROUTE_SERVERS.map((rs) => `    - { name: ${rs.name}, address: ${rs.address} }`),
    'log: { level: warn }',
    'storage:',
    `  dataDir: ${JSON.stringify(dataDir)}`,
    '  history: { flushIntervalMs: 50 }',
    '  influx:',
    `    url: ${influxUrl}`,
    `    database: ${DATABASE}`,
    '    flushIntervalMs: 50',
    `    metricsIntervalSeconds: ${METRICS_INTERVAL_SECONDS}`,
    '',
  ].join('\n');
}

/** A capture cut into whole BMP messages (common header: version, 4-byte length, type). */
function frames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset + BMP_COMMON_HEADER_BYTES <= bytes.length; ) {
    const length = bytes.readUInt32BE(offset + 1);
    out.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}

async function replay(socket: Socket, capture: string): Promise<void> {
  const messages = frames(readCapture(capture));
  const pause = REPLAY_MS / messages.length;
  for (const message of messages) {
    socket.write(message);
    await sleep(pause);
  }
}

export async function ingestCaptures(): Promise<IngestedData> {
  const influxd = await startInfluxd();
  defaultRegistry.defer('stop influxd', () => influxd.destroy());
  const dataDir = mkdtempSync(join(tmpdir(), 'bmpwatch-dashboards-'));
  defaultRegistry.defer('remove the data directory', () => rmSync(dataDir, { recursive: true, force: true }));
  const loaded = loadConfigText(configText(dataDir, influxd.url), {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const app = new App({ config: loaded.config, logger: createLogger('silent'), clock: systemClock });
  const from = Date.now() - 60_000;
  const bound = await app.start();
  defaultRegistry.defer('stop the collector', () => app.stop());

  const sockets = await Promise.all(ROUTE_SERVERS.map((rs) => connectRouter(bound.bmp.port, rs.address)));
  for (const socket of sockets) socket.on('error', () => undefined);
  await Promise.all(ROUTE_SERVERS.map((rs, i) => replay(sockets[i], rs.capture)));
  ROUTE_SERVERS.forEach((rs, i) => {
    if (!rs.stayConnected) sockets[i].end();
  });
  defaultRegistry.defer('close the route servers', () => sockets.forEach((socket) => socket.destroy()));

  const recorder = app.storage?.recorder;
  if (!recorder) throw new Error('the App has no history recorder');
  for (const event of alerts(Date.now())) recorder.record(event);

  const query = (q: string) => influxd.rows(q, { db: DATABASE });
  for (const measurement of Object.values(MEASUREMENTS)) {
    await waitFor(async () => (await query(`SELECT count(*) FROM "${measurement}"`)).length > 0, { what: `points in ${measurement}`, timeoutMs: 20_000 });
  }
  await waitFor(async () => (await query(`SELECT count(*) FROM "${MEASUREMENTS.events}" WHERE "type" = 'alert-resolved'`)).length > 0, { what: 'the alert events', timeoutMs: 20_000 });
  // A few snapshots after the replay, so rates (differences between snapshots) have several points.
  await sleep(3_500 * METRICS_INTERVAL_SECONDS);

  return {
    influxd,
    from,
    to: Date.now() + 1_000,
    async stop() {
      await defaultRegistry.runAll();
    },
  };
}
