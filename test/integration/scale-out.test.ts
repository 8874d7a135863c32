/**
 * Scale-out: two collectors, each serving its own route-server cluster, write to one InfluxDB (tagged with their
 * `instance`); `bmpwatch history` answers across both, following an appliance that moved from one cluster to the
 * other (same BGP identifier and AS, new address), and the metrics of both instances are there side by side.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { runHistory } from '../../src/cli/history.js';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { MEASUREMENTS, TAGS } from '../../src/store/schema.js';
import { systemClock } from '../../src/util/clock.js';
import { initiation, peer, peerUp, routes, withdraw } from '../helpers/bmp-builders.js';
import { connectRouter } from '../helpers/collector.js';
import { defaultRegistry } from '../helpers/daemons/process.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';

let influxd: Influxd;
const dirs: string[] = [];

function config(instance: string, dataDir: string, url: string): string {
  return `
listen:
  bmp: { host: 127.0.0.1, port: 0 }
  api: { host: 127.0.0.1, port: 0 }
log: { level: warn }
storage:
  dataDir: ${JSON.stringify(dataDir)}
  history: { flushIntervalMs: 20, routeEvents: all }
  influx:
    url: ${url}
    database: bmpwatch_scale
    instance: ${instance}
    flushIntervalMs: 20
    metricsIntervalSeconds: 1
`;
}

async function startInstance(instance: string): Promise<{ app: App; bmpPort: number; configPath: string }> {
  const dir = mkdtempSync(join(tmpdir(), `bmpwatch-${instance}-`));
  dirs.push(dir);
  const text = config(instance, dir, influxd.url);
  const configPath = join(dir, 'bmpwatch.yaml');
  writeFileSync(configPath, text);
  const loaded = loadConfigText(text, {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const app = new App({ config: loaded.config, logger: createLogger('silent'), clock: systemClock });
  const bound = await app.start();
  return { app, bmpPort: bound.bmp.port, configPath };
}

beforeAll(async () => {
  influxd = await startInfluxd();
  defaultRegistry.defer('stop influxd', () => influxd.destroy());
}, 60_000);

afterAll(async () => {
  await defaultRegistry.runAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('two collectors, one InfluxDB', () => {
  it('answers history across both clusters and keeps both instances apart in the metrics', async () => {
    const east = await startInstance('east');
    const west = await startInstance('west');
    const rsEast = await connectRouter(east.bmpPort, '127.0.0.1');
    const rsWest = await connectRouter(west.bmpPort, '127.0.0.2');
    // The appliance (BGP id 192.0.2.77) first peers with the east cluster, then moves to the west one.
    const before = peer('100.64.0.77', { as: 64496, bgpId: '192.0.2.77' });
    const after = peer('100.64.8.77', { as: 64496, bgpId: '192.0.2.77' });
    rsEast.write(Buffer.concat([initiation('rs-east-1'), peerUp(before), routes(before, ['10.128.7.0/29'], { nextHop: '100.64.0.77' })]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    rsEast.write(withdraw(before, ['10.128.7.0/29']));
    await new Promise((resolve) => setTimeout(resolve, 50));
    rsWest.write(Buffer.concat([initiation('rs-west-1'), peerUp(after), routes(after, ['10.128.7.0/29'], { nextHop: '100.64.8.77' })]));

    // Both instances' points arrive (events, and one metrics snapshot each).
    const deadline = Date.now() + 20_000;
    let instances: string[] = [];
    while (Date.now() < deadline) {
      const rows = await influxd.rows(`SHOW TAG VALUES FROM "${MEASUREMENTS.router}" WITH KEY = "${TAGS.instance}"`, { db: 'bmpwatch_scale' }).catch(() => []);
      instances = rows.map((row) => String(row.value)).sort();
      if (instances.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(instances).toEqual(['east', 'west']);
    rsEast.destroy();
    rsWest.destroy();
    await east.app.stop();
    await west.app.stop();

    // Either instance's config reads the shared database: the same answer, covering both clusters.
    const answers: string[] = [];
    for (const configPath of [east.configPath, west.configPath]) {
      const chunks: string[] = [];
      const out = new Writable({
        write(chunk: Buffer, _e, cb) {
          chunks.push(chunk.toString());
          cb();
        },
      });
      const code = await runHistory('192.0.2.77', { config: configPath, json: true, since: '1h' }, { stdout: out, stderr: out, env: {}, now: () => Date.now() });
      expect(code).toBe(0);
      answers.push(chunks.join(''));
    }
    expect(answers[1]).toBe(answers[0]);
    const lines = answers[0]!.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    // No appliance groups are configured, so each cluster's collector flags the session as an unexpected peer.
    expect(lines.filter((e) => e.type === 'alert-firing').map((e) => `${e.router} ${e.rule} ${e.peer}`)).toEqual(['rs-east-1 unexpected-peer 100.64.0.77', 'rs-west-1 unexpected-peer 100.64.8.77']);
    expect(lines.filter((e) => e.peer !== undefined && !e.type.startsWith('alert')).map((e) => `${e.router} ${e.type} ${e.peer} ${e.prefix ?? ''}`.trim())).toEqual([
      'rs-east-1 peer-up 100.64.0.77',
      'rs-east-1 route-announced 100.64.0.77 10.128.7.0/29',
      'rs-east-1 route-withdrawn 100.64.0.77 10.128.7.0/29',
      'rs-west-1 peer-up 100.64.8.77',
      'rs-west-1 route-announced 100.64.8.77 10.128.7.0/29',
    ]);
  }, 60_000);
});
