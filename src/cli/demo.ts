/**
 * `bmpwatch demo`: what bmpwatch does, without a route server. Starts a collector (the whole App: rules, alerts,
 * the embedded store) in a temporary directory on 127.0.0.1 with ephemeral ports, replays the BMP captures bundled
 * in demo/captures (recorded from a real FRR route server with misbehaving appliances, see demo/README.md) over
 * TCP to it, waits until it processed every byte, prints the alerts raised (the `bmpwatch alerts` table) and one
 * misbehaving appliance's history (the `bmpwatch history` table), stops and removes the directory.
 *
 * The demo files are found relative to this module (src/cli or dist/src/cli inside the package), never relative to
 * the working directory. Exit codes: 0 shown, 1 the demo could not run (missing or corrupt capture, collector not
 * starting), 2 bad arguments.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouterView } from '../api/views.js';
import { App } from '../app.js';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { systemClock } from '../util/clock.js';
import { runAlerts } from './alerts.js';
import { runHistory } from './history.js';
import { getJson } from './live.js';

export interface DemoIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Record<string, string | undefined>;
  readonly now: () => number;
}

export interface DemoOptions {
  /** Whose history to print (an appliance name from the demo config, or an address). */
  readonly appliance?: string;
  /** The demo directory (tests); default: demo/ of the installed package. */
  readonly demoDir?: string;
}

/** The appliance whose history is shown by default: it leaked three prefixes. */
export const DEFAULT_DEMO_APPLIANCE = 'fw-leak';
export const DEMO_CONFIG = 'bmpwatch.demo.yaml';
/** Environment variable the demo config takes its data directory from. */
export const DEMO_DATA_DIR_ENV = 'BMPWATCH_DEMO_DATA_DIR';
/** How long the collector may take to process the captures (they are a few tens of kB). */
const REPLAY_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

export interface CaptureMeta {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly recordedAt?: string;
  readonly durationSeconds?: number;
  readonly exporter?: { readonly sysDescr?: string; readonly sysName?: string };
  readonly appliances?: string;
  readonly scenario?: readonly { readonly at: number; readonly step: string }[];
}

interface Capture {
  readonly meta: CaptureMeta;
  readonly bytes: Buffer;
}

class DemoError extends Error {}

/** demo/ of the package this module belongs to: the first ancestor directory holding demo/bmpwatch.demo.yaml. */
export function findDemoDir(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'demo');
    if (existsSync(join(candidate, DEMO_CONFIG))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Every capture of demo/captures (NAME.bmp with NAME.meta.json), checked against its recorded size and SHA-256. */
export function loadCaptures(demoDir: string): Capture[] {
  const dir = join(demoDir, 'captures');
  const metas = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.meta.json')).sort() : [];
  if (metas.length === 0) throw new DemoError(`no captures in ${dir}`);
  return metas.map((name) => {
    const meta = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CaptureMeta;
    const bytes = readFileSync(join(dir, meta.file));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== meta.bytes || sha256 !== meta.sha256) {
      throw new DemoError(`${join(dir, meta.file)} is not the recorded capture (${bytes.length} bytes, SHA-256 ${sha256}; ${name} says ${meta.bytes} bytes, ${meta.sha256})`);
    }
    return { meta, bytes };
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function describeCapture(capture: Capture): string {
  const meta = capture.meta;
  const exporter = [meta.exporter?.sysDescr, meta.exporter?.sysName && `"${meta.exporter.sysName}"`].filter(Boolean).join(' ');
  const recorded = meta.recordedAt ? `, recorded ${meta.recordedAt.slice(0, 10)}` : '';
  const duration = meta.durationSeconds ? ` over ${Math.round(meta.durationSeconds)} s` : '';
  return `${meta.file}: ${meta.bytes} bytes of BMP from ${exporter || 'a route server'}${duration}${recorded}${meta.appliances ? `, appliances ${meta.appliances}` : ''}`;
}

export async function runDemo(options: DemoOptions, io: DemoIo): Promise<number> {
  const demoDir = options.demoDir ?? findDemoDir();
  if (demoDir === undefined) {
    io.stderr.write('bmpwatch: the demo files (demo/bmpwatch.demo.yaml, demo/captures) are not installed with this bmpwatch\n');
    return 1;
  }
  const appliance = options.appliance ?? DEFAULT_DEMO_APPLIANCE;
  if (appliance.trim() === '') {
    io.stderr.write('bmpwatch: --appliance needs a name or an address\n');
    return 2;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bmpwatch-demo-'));
  const env = { ...io.env, [DEMO_DATA_DIR_ENV]: dataDir };
  const configPath = join(demoDir, DEMO_CONFIG);
  let app: App | undefined;
  const sockets: Socket[] = [];
  try {
    const captures = loadCaptures(demoDir);
    const loaded = loadConfigFile(configPath, env);
    if (!loaded.ok) throw new DemoError(`${configPath}: ${loaded.problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`);
    const config = loaded.config;
    app = new App({ config, logger: createLogger(config.log.level, io.stderr), clock: systemClock });
    const bound = await app.start();
    const api = `127.0.0.1:${bound.api.port}`;

    io.stdout.write(`bmpwatch demo: a collector on 127.0.0.1:${bound.bmp.port} (BMP) and ${api} (API), embedded store in ${dataDir}\n`);
    io.stdout.write(`configuration: ${configPath}\n`);
    for (const capture of captures) {
      io.stdout.write(`replaying ${describeCapture(capture)}\n`);
      for (const step of capture.meta.scenario ?? []) io.stdout.write(`  ${step.at.toFixed(1).padStart(5)} s  ${step.step}\n`);
    }

    // One TCP session per capture, as the route server sent it; kept open until the end (closing it would be the
    // route server going away, and withdraw everything it reported).
    for (const capture of captures) {
      const socket = await openSocket(bound.bmp.port);
      sockets.push(socket);
      socket.write(capture.bytes);
    }
    const total = captures.reduce((sum, capture) => sum + capture.bytes.length, 0);
    const base = `http://${api}`;
    const deadline = io.now() + REPLAY_TIMEOUT_MS;
    for (;;) {
      const routers = await getJson<RouterView[]>(base, '/api/routers');
      const received = routers.reduce((sum, router) => sum + router.bytes, 0);
      if (routers.length === captures.length && received >= total) break;
      if (io.now() > deadline) throw new DemoError(`the collector processed ${received} of ${total} bytes in ${REPLAY_TIMEOUT_MS / 1000} s`);
      await sleep(POLL_MS);
    }
    // Every message is processed by now; give the time-based parts their turn: Peer Downs are scored after the
    // incident window, resolved conditions after the hold-down, both at evaluation ticks.
    const settleSeconds = config.rules.feedHealth.incidentWindowSeconds + config.alerts.holdDownSeconds + 2 * config.alerts.evaluationIntervalSeconds;
    await sleep(settleSeconds * 1000);

    io.stdout.write(`\nAlerts (bmpwatch alerts):\n\n`);
    const alertsCode = await runAlerts({ api }, { ...io, env });
    if (alertsCode !== 0) return alertsCode;

    // Stop first: the history store is written in batches and flushed on stop.
    await app.stop();
    app = undefined;
    io.stdout.write(`\nHistory of ${appliance} (bmpwatch history ${appliance}):\n\n`);
    const historyCode = await runHistory(appliance, { config: configPath, since: '1h' }, { ...io, env });
    if (historyCode !== 0) return historyCode;
    io.stdout.write('\nThe other appliances: bmpwatch demo --appliance fw-good (well-behaved: nothing), fw-nexthop, fw-flap, fw-churn or 127.0.52.200.\n');
    io.stdout.write('What each rule checks: docs/RULES.md. On your route servers: bmpwatch serve --config FILE (config/bmpwatch.example.yaml documents every option).\n');
    return 0;
  } catch (error) {
    io.stderr.write(`bmpwatch: demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await app?.stop().catch(() => undefined);
    for (const socket of sockets) socket.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
