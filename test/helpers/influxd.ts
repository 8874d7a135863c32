/**
 * A real InfluxDB 1.x server (influxd 1.6.7, Debian package influxdb) for integration tests, on free loopback
 * ports with a temporary directory (config, meta, data, WAL, logs). Config and probes come from bench/influxd.ts;
 * the process is managed by test/helpers/daemons/process.ts (own process group, stopped by PID: SIGTERM, then
 * SIGKILL after a timeout; tracked by a CleanupRegistry, so `afterAll(() => registry.runAll())` stops it and
 * removes the directory even after a failure).
 *
 *   const influx = await startInfluxd();
 *   influx.url                  http://127.0.0.1:PORT
 *   await influx.stop()         stops the server, keeps the data (an outage)
 *   await influx.start()        starts it again on the same port and directory
 *   await influx.query('SELECT count(*) FROM m', { db: 'x' })
 *   await influx.destroy()      stops it and removes the directory (also done by the registry)
 *
 * When influxd is missing the error says how to install it (`sudo bash scripts/install-deps.sh`).
 */
import { rmSync } from 'node:fs';
import {
  createAdminUser,
  findInfluxd,
  influxQuery,
  rowsOf,
  waitForInflux,
  writeInfluxdConfig,
  type InfluxQueryOptions,
  type InfluxSeries,
} from '../../bench/influxd.js';
import { defaultRegistry, makeTempDir, spawnDaemon, type CleanupRegistry, type DaemonProcess } from './daemons/process.js';
import { freePorts } from './ports.js';

export { rowsOf, type InfluxSeries };

export interface InfluxdOptions {
  readonly registry?: CleanupRegistry;
  /** Enable authentication with this first (admin) user. */
  readonly admin?: { readonly username: string; readonly password: string };
  readonly startTimeoutMs?: number;
  /** SIGTERM → SIGKILL delay in stop(). Default 5000. */
  readonly stopTimeoutMs?: number;
}

export interface Influxd {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The running process (undefined while stopped). */
  readonly process: DaemonProcess | undefined;
  running(): boolean;
  /** (Re)starts influxd on the same port and directory; resolves when /ping answers 204. */
  start(): Promise<void>;
  /** Stops influxd (SIGTERM, SIGKILL after the timeout); keeps the directory for start(). */
  stop(): Promise<void>;
  /** SIGKILL: a crash rather than a shutdown. */
  kill(): Promise<void>;
  /** Stops influxd and removes its directory. */
  destroy(): Promise<void>;
  /** InfluxQL; as the admin user when one was configured (unless the options name another). */
  query(influxql: string, options?: InfluxQueryOptions): Promise<InfluxSeries[][]>;
  /** The first statement's rows as objects. */
  rows(influxql: string, options?: InfluxQueryOptions): Promise<Record<string, unknown>[]>;
  /** influxd's log, for error messages. */
  logTail(lines?: number): string;
}

export async function startInfluxd(options: InfluxdOptions = {}): Promise<Influxd> {
  const binary = findInfluxd();
  const registry = options.registry ?? defaultRegistry;
  const dir = makeTempDir('influxd', registry);
  const [port, rpcPort] = await freePorts(2);
  const config = writeInfluxdConfig({ dir, httpPort: port, rpcPort, authEnabled: options.admin !== undefined });
  const url = `http://127.0.0.1:${port}`;
  let proc: DaemonProcess | undefined;
  let last: DaemonProcess | undefined;
  let destroyed = false;

  const credentials = (o?: InfluxQueryOptions): InfluxQueryOptions =>
    options.admin && o?.username === undefined ? { ...o, username: options.admin.username, password: options.admin.password } : { ...o };

  const handle: Influxd = {
    url,
    port,
    dir,
    get process() {
      return proc;
    },
    running: () => proc?.running() ?? false,
    async start() {
      if (destroyed) throw new Error('influxd: start() after destroy()');
      if (proc?.running()) return;
      const started = spawnDaemon({
        name: 'influxd',
        command: binary,
        args: ['run', '-config', config],
        dir,
        registry,
        stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
      });
      proc = last = started;
      await waitForInflux(url, {
        timeoutMs: options.startTimeoutMs ?? 20_000,
        exited: () => !started.running(),
        describe: () => started.logTail(30),
      });
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (p) await p.stop();
    },
    async kill() {
      const p = proc;
      proc = undefined;
      if (p) await p.kill();
    },
    async destroy() {
      destroyed = true;
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    query: (influxql, o) => influxQuery(url, influxql, credentials(o)),
    rows: async (influxql, o) => rowsOf((await influxQuery(url, influxql, credentials(o)))[0] ?? []),
    logTail: (lines = 30) => last?.logTail(lines) ?? '(influxd never started)',
  };

  await handle.start();
  if (options.admin) await createAdminUser(url, options.admin.username, options.admin.password);
  return handle;
}
