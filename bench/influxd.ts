/**
 * A throw-away InfluxDB 1.x server (Debian's influxdb package, influxd 1.6.7) on loopback, for the InfluxDB
 * writer's benchmark; test/helpers/influxd.ts builds the integration tests' harness from the same pieces
 * (config, readiness probe, queries) with the tests' process registry.
 *
 * The config binds HTTP and the RPC (backup) port to 127.0.0.1 on ports chosen by the caller, keeps meta, data and
 * WAL in one temporary directory, and turns off everything a test does not need: usage reporting, the _internal
 * monitor database, subscribers, continuous queries, shard precreation, HTTP request logs, pprof, and every UDP,
 * Graphite, collectd or OpenTSDB listener (all off by default, stated anyway). The process runs in a process group
 * of its own and is stopped by PID: SIGTERM, then SIGKILL after a timeout (influxd 1.6 takes ~1.5 s to stop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INFLUXD_CANDIDATES = ['/usr/bin/influxd', '/usr/sbin/influxd', '/usr/local/bin/influxd'] as const;
export const INFLUXD_INSTALL_HINT = 'influxd (InfluxDB 1.x) is not installed: run `sudo bash scripts/install-deps.sh` (Debian package influxdb)';

/** The influxd binary (PATH first, then the usual places); throws with the install command when missing. */
export function findInfluxd(): string {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const candidate of [...dirs.map((d) => join(d, 'influxd')), ...INFLUXD_CANDIDATES]) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(INFLUXD_INSTALL_HINT);
}

export interface InfluxdConfigOptions {
  /** Holds meta/, data/ and wal/. */
  readonly dir: string;
  readonly httpPort: number;
  readonly rpcPort: number;
  /** Require authentication (create the first admin user with createAdminUser). Default false. */
  readonly authEnabled?: boolean;
  /** influxd's own log level. Default warn. */
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export function influxdConfig(o: InfluxdConfigOptions): string {
  const q = (s: string): string => JSON.stringify(s);
  return `reporting-disabled = true
bind-address = ${q(`127.0.0.1:${o.rpcPort}`)}

[meta]
  dir = ${q(join(o.dir, 'meta'))}
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = ${q(join(o.dir, 'data'))}
  wal-dir = ${q(join(o.dir, 'wal'))}
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  write-timeout = "10s"

[retention]
  enabled = true
  check-interval = "30m"

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = ${q(`127.0.0.1:${o.httpPort}`)}
  auth-enabled = ${o.authEnabled ? 'true' : 'false'}
  log-enabled = false
  write-tracing = false
  pprof-enabled = false
  https-enabled = false
  unix-socket-enabled = false

[ifql]
  enabled = false

[logging]
  level = ${q(o.logLevel ?? 'warn')}
  suppress-logo = true

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false

[continuous_queries]
  enabled = false
`;
}

/** Writes DIR/influxdb.conf (and the data directories); returns the config path. */
export function writeInfluxdConfig(o: InfluxdConfigOptions): string {
  for (const sub of ['meta', 'data', 'wal']) mkdirSync(join(o.dir, sub), { recursive: true });
  const path = join(o.dir, 'influxdb.conf');
  writeFileSync(path, influxdConfig(o));
  return path;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True when GET /ping answers 204. */
export async function pingInflux(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

/**
 * Polls /ping until it answers 204; throws after timeoutMs, or at once when `exited()` says the process is gone
 * (with `describe()` — e.g. the log tail — in the message).
 */
export async function waitForInflux(url: string, opts: { timeoutMs?: number; exited?: () => boolean; describe?: () => string } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (await pingInflux(url, 500)) return;
    if (opts.exited?.()) throw new Error(`influxd exited before answering /ping at ${url}\n${opts.describe?.() ?? ''}`);
    if (Date.now() > deadline) throw new Error(`influxd did not answer /ping at ${url} within ${opts.timeoutMs ?? 20_000} ms\n${opts.describe?.() ?? ''}`);
    await sleep(50);
  }
}

export interface InfluxSeries {
  readonly name?: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

export interface InfluxQueryOptions {
  readonly db?: string;
  /** Timestamps as epoch numbers in this unit (ns loses precision in JSON numbers); default RFC 3339 strings. */
  readonly epoch?: 'ns' | 'u' | 'ms' | 's';
  readonly username?: string;
  readonly password?: string;
}

/** Runs InfluxQL (POST /query; several statements separated by ';'); returns each statement's series. */
export async function influxQuery(url: string, influxql: string, o: InfluxQueryOptions = {}): Promise<InfluxSeries[][]> {
  const params = new URLSearchParams({ q: influxql });
  if (o.db) params.set('db', o.db);
  if (o.epoch) params.set('epoch', o.epoch);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (o.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  const res = await fetch(`${url}/query`, { method: 'POST', body: params.toString(), headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: { results?: { series?: InfluxSeries[]; error?: string }[]; error?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`influx query ${JSON.stringify(influxql)}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (body.error) throw new Error(`influx query ${JSON.stringify(influxql)}: ${body.error}`);
  const results = body.results ?? [];
  const failed = results.find((r) => r.error);
  if (failed) throw new Error(`influx query ${JSON.stringify(influxql)}: ${failed.error}`);
  return results.map((r) => r.series ?? []);
}

/** Rows of the first statement's series as objects (column → value), with the series' tags merged in. */
export function rowsOf(series: readonly InfluxSeries[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const s of series) {
    for (const values of s.values) {
      const row: Record<string, unknown> = { ...s.tags };
      s.columns.forEach((column, i) => {
        row[column] = values[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

/** Creates the first user as admin (allowed without credentials while the server has no users). */
export async function createAdminUser(url: string, username: string, password: string): Promise<void> {
  const ident = JSON.stringify(username);
  const literal = `'${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  await influxQuery(url, `CREATE USER ${ident} WITH PASSWORD ${literal} WITH ALL PRIVILEGES`);
}

// ---------------------------------------------------------------------------------------------------------------
// Stand-alone launcher (benchmarks; the tests use test/helpers/influxd.ts)

export interface StandaloneInfluxd {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  query(influxql: string, o?: InfluxQueryOptions): Promise<InfluxSeries[][]>;
  /** SIGTERM, SIGKILL after timeoutMs; removes the temp dir. */
  destroy(timeoutMs?: number): Promise<void>;
}

export async function startStandaloneInfluxd(opts: { startTimeoutMs?: number } = {}): Promise<StandaloneInfluxd> {
  const binary = findInfluxd();
  const dir = mkdtempSync(join(tmpdir(), 'bmpw-influxd-bench-'));
  const [port, rpcPort] = await distinctPorts(2);
  const config = writeInfluxdConfig({ dir, httpPort: port, rpcPort });
  const logPath = join(dir, 'influxd.log');
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, ['run', '-config', config], { cwd: dir, stdio: ['ignore', log, log], detached: true });
  } finally {
    closeSync(log);
  }
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const pid = child.pid;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (exited || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = (): void => killGroup('SIGKILL');
  process.once('exit', onExit);
  const destroy = async (timeoutMs = 5_000): Promise<void> => {
    killGroup('SIGTERM');
    const timer = setTimeout(() => killGroup('SIGKILL'), timeoutMs);
    await exitPromise;
    clearTimeout(timer);
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    if (pid === undefined) throw new Error('influxd: no pid');
    await waitForInflux(url, { timeoutMs: opts.startTimeoutMs, exited: () => exited, describe: () => readFileSync(logPath, 'utf8').slice(-2000) });
  } catch (error) {
    await destroy(1_000);
    throw error;
  }
  return { url, port, dir, pid: pid as number, query: (q, o) => influxQuery(url, q, o), destroy };
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeLoopbackPort());
  return [...ports];
}
