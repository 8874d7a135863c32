/**
 * The data the dashboard queries run against: a real influxd (1.6.7, Debian package) holding what bmpwatch itself
 * wrote while ingesting the real captures of test/fixtures. Nothing is written to InfluxDB by the test itself.
 *
 * 1. influxd on a free loopback port; the App (src/app.ts) with storage.influx enabled, metrics every second.
 * 2. Each capture is replayed over TCP from its own loopback address, so each is a route server of its own with a
 *    configured name. Frames are paced over REPLAY_MS: the route server's initial dump ends after
 *    limits.initialDumpTimeoutSeconds (1 s here, as FRR sends no End-of-RIB), so the later messages count as
 *    announcements, changes and withdrawals in bmp_peer, as they would on a live route server.
 * 3. The FRR connections stay open (routers up); GoBGP's capture ends with a Termination (a router-down event).
 * 4. The App's rules raise alerts on what the captures contain (see rulesConfig()); their transitions reach
 *    bmp_events through the history recorder and InfluxReporter.append.
 * 5. Wait until every measurement the dashboards read has points, alerts of every severity fired and one
 *    resolved, and a few metrics snapshots after the replay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app.js';
import { BMP_COMMON_HEADER_BYTES } from '../../src/bmp/framer.js';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { SEVERITIES } from '../../src/config/rules-schema.js';
import { FIELDS, MEASUREMENTS, TAGS } from '../../src/store/schema.js';
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

export interface IngestedData {
  readonly influxd: Influxd;
  /** Time range for the dashboards' $timeFilter: covers everything written. */
  readonly from: number;
  readonly to: number;
  stop(): Promise<void>;
}

/**
 * The App's rules raise the alerts (no alert is written by the test). The appliances of the captures (IBGP,
 * AS 65000, 100.64.1.0/24 and 127.0.1.0/24) form one group that may announce /29s of 10.128.0.0/16 and /64s of
 * 2001:db8:100::/48, so:
 * - unexpected-prefix fires for the /32s they announce and resolves when they withdraw them (no hold-down here);
 * - unexpected-peer fires, as info, for the core routers the route servers also peer with;
 * - session-down (critical, no hold time here) fires for the GoBGP appliances that go down, and rs-incident when
 *   the GoBGP route server loses all its peers at once.
 * Every severity thus has a firing alert, and some alerts resolve: each dashboard query has data to return.
 */
function rulesConfig(): string[] {
  return [
    'applianceGroups:',
    '  - name: appliances',
    '    sessionRanges: [100.64.1.0/24, 127.0.1.0/24]',
    '    sessionType: ibgp',
    '    asns: [65000]',
    '    allowPrivateAsns: true',
    '    prefixes:',
    '      ipv4: [{ prefix: 10.128.0.0/16, minLength: 29, maxLength: 29 }]',
    '      ipv6: [{ prefix: 2001:db8:100::/48, minLength: 64, maxLength: 64 }]',
    '    nextHopMustMatchSession: false',
    'rules:',
    '  unexpectedPeer: { severity: info }',
    '  sessionDown: { holdSeconds: 0 }',
    'alerts: { holdDownSeconds: 0, evaluationIntervalSeconds: 1 }',
  ];
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
    ...rulesConfig(),
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

  const query = (q: string) => influxd.rows(q, { db: DATABASE });
  for (const measurement of Object.values(MEASUREMENTS)) {
    await waitFor(async () => (await query(`SELECT count(*) FROM "${measurement}"`)).length > 0, { what: `points in ${measurement}`, timeoutMs: 20_000 });
  }
  const alertEvents = `SELECT count("${FIELDS.events.fingerprint}") FROM "${MEASUREMENTS.events}" WHERE "${TAGS.type}" =~ /^alert-/ GROUP BY "${TAGS.type}", "${TAGS.severity}"`;
  // Each severity firing, and a resolution: what the alert panels show.
  const wanted = [...SEVERITIES.map((severity) => `alert-firing/${severity}`), 'alert-resolved/'];
  let seen: string[] = [];
  await waitFor(
    async () => {
      const series = (await influxd.query(alertEvents, { db: DATABASE }))[0] ?? [];
      seen = series.map((s) => `${s.tags?.[TAGS.type] ?? ''}/${s.tags?.[TAGS.severity] ?? ''}`);
      return wanted.every((w) => seen.some((s) => s.startsWith(w)));
    },
    { what: `alert events raised by the rules (${wanted.join(', ')})`, timeoutMs: 20_000, describe: () => `seen: ${seen.join(', ')}` },
  );
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
