/**
 * Alerts through the whole App: a route server (a fake one, writing BMP built in the test) reports an appliance
 * announcing a prefix outside its group's range; the alert shows in `bmpwatch alerts` (table and --json), in the
 * appliance's history, and survives a collector restart (embedded store); silences are added, listed and ended
 * with `bmpwatch silence`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { runAlerts, runSilenceAdd, runSilenceExpire, runSilenceList } from '../../src/cli/alerts.js';
import { runHistory } from '../../src/cli/history.js';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/util/clock.js';
import { initiation, peer, peerUp, routes } from '../helpers/bmp-builders.js';
import { connectRouter } from '../helpers/collector.js';

const APPLIANCE = '100.64.0.11';

function configText(dataDir: string): string {
  return `
listen:
  bmp: { host: 127.0.0.1, port: 0 }
  api: { host: 127.0.0.1, port: 0 }
log: { level: warn }
storage:
  dataDir: ${JSON.stringify(dataDir)}
  history: { flushIntervalMs: 20 }
applianceGroups:
  - name: firewalls
    sessionRanges: [100.64.0.0/22]
    sessionType: ibgp
    asns: [64496]
    allowPrivateAsns: false
    prefixes:
      ipv4: [{ prefix: 10.128.0.0/17, minLength: 29, maxLength: 32 }]
`;
}

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

const dirs: string[] = [];
const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startApp(dataDir: string): Promise<{ app: App; bmpPort: number; api: string }> {
  const loaded = loadConfigText(configText(dataDir), {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const app = new App({ config: loaded.config, logger: createLogger('silent'), clock: systemClock });
  apps.push(app);
  const bound = await app.start();
  return { app, bmpPort: bound.bmp.port, api: `127.0.0.1:${bound.api.port}` };
}

async function cli<T extends unknown[]>(run: (...args: [...T, ReturnType<typeof io>]) => Promise<number>, ...args: T): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await run(...args, io(out.stream, err.stream));
  return { code, out: out.text(), err: err.text() };
}
function io(stdout: Writable, stderr: Writable) {
  return { stdout, stderr, env: {}, now: () => Date.now() };
}

describe('alerts through the App', () => {
  it('raises, lists, records, persists and silences an alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-alerts-'));
    dirs.push(dir);
    const first = await startApp(dir);
    const rs = await connectRouter(first.bmpPort);
    const header = peer(APPLIANCE, { as: 64496 });
    rs.write(Buffer.concat([initiation('rs1'), peerUp(header), routes(header, ['10.128.1.0/29'], { nextHop: APPLIANCE }), routes(header, ['192.0.2.0/24'], { nextHop: APPLIANCE })]));

    let listed = { code: -1, out: '', err: '' };
    for (let i = 0; i < 100; i++) {
      listed = await cli(runAlerts, { api: first.api, json: true });
      if (listed.out.includes('192.0.2.0/24')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(listed.code).toBe(0);
    const alerts = listed.out.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const bad = alerts.find((a) => a.rule === 'unexpected-prefix' && a.prefix === '192.0.2.0/24');
    expect(bad).toMatchObject({ state: 'firing', router: 'rs1', peer: APPLIANCE, prefix: '192.0.2.0/24', endsAt: null });
    for (const field of ['fingerprint', 'rule', 'severity', 'state', 'router', 'peer', 'prefix', 'startsAt', 'endsAt']) expect(bad).toHaveProperty(field);
    // The good prefix raises nothing.
    expect(alerts.filter((a) => a.prefix === '10.128.1.0/29')).toEqual([]);

    const table = await cli(runAlerts, { api: first.api, state: 'firing' });
    expect(table.out).toMatch(/FIRING\s+\w+\s+unexpected-prefix\s+rs1\s+100\.64\.0\.11\s+192\.0\.2\.0\/24/);
    expect((await cli(runAlerts, { api: first.api, state: 'bogus' })).code).toBe(2);

    // Silences: add, list, end.
    const added = await cli(runSilenceAdd, ['rule=unexpected-prefix', `peer=${APPLIANCE}`], { api: first.api, duration: '2h', reason: 'maintenance window', by: 'ops', json: true });
    expect(added.err).toBe('');
    const silence = JSON.parse(added.out) as { id: string; matchers: string[]; active: boolean };
    expect(silence).toMatchObject({ matchers: ['rule=unexpected-prefix', `peer=${APPLIANCE}`], active: true });
    const muted = JSON.parse((await cli(runAlerts, { api: first.api, json: true, state: 'firing' })).out.trim().split('\n').find((l) => l.includes('192.0.2.0/24')) ?? '{}') as { silencedBy?: string };
    expect(muted.silencedBy).toBe(silence.id);
    expect((await cli(runSilenceList, { api: first.api })).out).toContain('maintenance window');
    expect((await cli(runSilenceAdd, ['nonsense'], { api: first.api, duration: '2h', reason: 'x' })).err).toMatch(/not a matcher/);
    expect((await cli(runSilenceExpire, silence.id, { api: first.api })).code).toBe(0);
    expect((await cli(runSilenceExpire, silence.id, { api: first.api })).code).toBe(1);

    // The alert is in the appliance's history.
    rs.destroy();
    await first.app.stop();
    apps.splice(apps.indexOf(first.app), 1);
    const configPath = join(dir, 'bmpwatch.yaml');
    writeFileSync(configPath, configText(dir));
    const history = await cli(runHistory, APPLIANCE, { config: configPath, json: true });
    const firing = history.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.type === 'alert-firing');
    expect(firing).toEqual([expect.objectContaining({ rule: 'unexpected-prefix', prefix: '192.0.2.0/24', peer: APPLIANCE })]);

    // Restart: the alert state is restored from the embedded store, not lost.
    const second = await startApp(dir);
    const restored = JSON.parse((await cli(runAlerts, { api: second.api, json: true })).out.trim().split('\n').find((l) => l.includes('192.0.2.0/24')) ?? '{}') as Record<string, unknown>;
    expect(restored).toMatchObject({ fingerprint: bad?.fingerprint, rule: 'unexpected-prefix', startsAt: bad?.startsAt });
  }, 30_000);
});
