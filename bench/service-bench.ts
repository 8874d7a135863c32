/**
 * Whole-service benchmark over loopback TCP: `bmpwatch serve` and pmacct's pmbmpd, each a child process, fed the
 * same generated route-server BMP stream (scripts/generate-stream.ts), one collector at a time so neither competes
 * with the other for the machine's cores. Only 127.0.0.0/8 is used.
 *
 * Per collector:
 *   ingest       one connection, the whole stream written with socket back-pressure; wall seconds from connect to
 *                "everything processed", prefixes/s, CPU seconds (utime + stime of the child during ingest), peak
 *                RSS (VmHWM).
 *                - bmpwatch: done when GET /api/routers shows our connection's `messages` equal to what we sent.
 *                - pmbmpd: it exposes no counter, so done when its CPU time stops growing and the loopback socket
 *                  queues are empty (see pmbmpd.ts, waitUntilIdle); completeness checked afterwards by counting
 *                  per-prefix lines in its msglog.
 *   memory       (bmpwatch) the stream has no Termination, so the session stays up with ~1M routes held; the child
 *                runs with --expose-gc and a SIGUSR2 handler that calls gc() (injected with --import, nothing in
 *                src/ changes), and /metrics gives heap used and external memory. Bytes per stored route =
 *                (heap after GC with the routes − heap after GC before connecting) / routes. RSS growth per route
 *                is reported too, and the heap after the session is closed (leak check).
 *   concurrent   N connections from N loopback addresses (127.0.0.10, .11, ...), each with its own smaller stream
 *                (different seeds), all started at once; total wall time and, per connection, whether the
 *                collector saw every message (bmpwatch: /api/routers; pmbmpd: its msglog file for that address).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readChildStats, readCpuTimes, readMemory, type ChildStats } from './child-stats.js';
import { PmbmpdProcess, countRouteMonitorLines, waitUntilIdle } from './pmbmpd.js';
import { generateStream, type GenerateStreamOptions } from '../scripts/generate-stream.js';

const SEND_CHUNK_BYTES = 64 * 1024;
const POLL_MS = 50;
/** App refreshes the bmpwatch_routes gauge every 5 s. */
const GAUGE_REFRESH_WAIT_MS = 6_000;
/** dist/src/main.js, from dist/bench/service-bench.js. */
const MAIN_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');
/** Preloaded into the bmpwatch child: SIGUSR2 → full GC, so memory can be read without garbage in it. */
const GC_ON_SIGUSR2 = "data:text/javascript,process.on('SIGUSR2',()=>{globalThis.gc();});";
const BMP_TERMINATION = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// Streams

export interface StreamSpec {
  readonly peers: number;
  readonly prefixesPerPeer: number;
  readonly churn: number;
  readonly seed: number;
}

export interface BenchStream {
  readonly spec: StreamSpec;
  readonly data: Buffer;
  readonly messages: number;
  readonly prefixes: number;
}

/**
 * The generated stream in memory, without its final Termination (BMP type 5, byte 5 of the common header): a
 * Termination makes the collector close the session and flush its routes, and we want them held when measuring.
 */
export function buildBenchStream(spec: StreamSpec): BenchStream {
  const chunks: Buffer[] = [];
  let messages = 0;
  const options: GenerateStreamOptions = spec;
  const summary = generateStream(options, (chunk) => {
    if (chunk[5] === BMP_TERMINATION) return;
    chunks.push(chunk);
    messages++;
  });
  return { spec, data: Buffer.concat(chunks), messages, prefixes: summary.prefixes };
}

// ---------------------------------------------------------------------------------------------------------------
// Loopback plumbing

/** A port the kernel just handed out on 127.0.0.1 (closed again; the tiny race is fine on a bench machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function connectTo(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function waitDrain(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('connection closed by the collector while sending'));
    const onError = (error: Error): void => done(error);
    socket.on('drain', onDrain);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/** Writes `data` in 64 KiB chunks, waiting for 'drain' whenever the socket says its buffer is full. */
async function sendAll(socket: Socket, data: Buffer): Promise<void> {
  for (let pos = 0; pos < data.length; pos += SEND_CHUNK_BYTES) {
    if (!socket.write(data.subarray(pos, pos + SEND_CHUNK_BYTES))) await waitDrain(socket);
  }
  if (socket.writableLength > 0) await waitDrain(socket);
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    socket.once('close', () => resolve());
    socket.end();
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

function fetchText(port: number, path: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        if (response.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${path}: HTTP ${response.statusCode}: ${body.slice(0, 200)}`));
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path}: timed out`)));
    request.on('error', reject);
  });
}

/** Prometheus text → value per metric name, summed over label sets. */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const nameEnd = brace >= 0 && brace < space ? brace : space;
    if (nameEnd <= 0) continue;
    const name = line.slice(0, nameEnd);
    const rest = brace >= 0 && brace < space ? line.slice(line.lastIndexOf('}') + 1) : line.slice(space);
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) values.set(name, (values.get(name) ?? 0) + value);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------------------------
// bmpwatch as a child process

/** The fields of GET /api/routers that the bench reads. */
interface RouterInfo {
  readonly address: string;
  readonly port: number;
  readonly messages: number;
  readonly decodeErrors: number;
  readonly routes: number;
  readonly peers: number;
}

function isRouterInfoArray(value: unknown): value is RouterInfo[] {
  return (
    Array.isArray(value) &&
    value.every((r: unknown) => typeof r === 'object' && r !== null && 'address' in r && 'port' in r && 'messages' in r && 'routes' in r)
  );
}

export interface BmpwatchMemorySample {
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  readonly rssBytes: number;
}

class BmpwatchProcess {
  private exited = false;
  private readonly exitPromise: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly bmpPort: number,
    readonly apiPort: number,
  ) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(options: { readonly cpuProfile?: boolean } = {}): Promise<BmpwatchProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-bench-serve-'));
    const bmpPort = await freePort();
    const apiPort = await freePort();
    const nodeArgs = ['--expose-gc', `--import=${GC_ON_SIGUSR2}`];
    if (options.cpuProfile) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${join(dir, 'profile')}`);
    const out = openSync(join(dir, 'serve.log'), 'w');
    // cwd = the temp dir: anything the service writes relative to its cwd (data dir) stays out of the repo.
    const child = spawn(process.execPath, [...nodeArgs, MAIN_JS, 'serve', '--listen', `127.0.0.1:${bmpPort}`, '--api', `127.0.0.1:${apiPort}`], {
      cwd: dir,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    const service = new BmpwatchProcess(child, dir, bmpPort, apiPort);
    const deadline = performance.now() + 20_000;
    for (;;) {
      if (service.exited || performance.now() > deadline) {
        await service.stop();
        throw new Error(`bmpwatch serve did not become healthy; its log:\n${service.logTail()}`);
      }
      try {
        await fetchText(apiPort, '/healthz', 1_000);
        return service;
      } catch {
        await sleep(100);
      }
    }
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(join(this.dir, 'serve.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async routers(): Promise<RouterInfo[]> {
    const parsed: unknown = JSON.parse(await fetchText(this.apiPort, '/api/routers'));
    if (!isRouterInfoArray(parsed)) throw new Error('unexpected /api/routers response');
    return parsed;
  }

  async metrics(): Promise<Map<string, number>> {
    return parsePrometheus(await fetchText(this.apiPort, '/metrics'));
  }

  /** Full GC in the child (SIGUSR2 handler), then heap and external memory from /metrics and RSS from /proc. */
  async memoryAfterGc(): Promise<BmpwatchMemorySample> {
    this.child.kill('SIGUSR2');
    await sleep(500);
    this.child.kill('SIGUSR2'); // a second pass frees what the first one's finalizers released
    await sleep(500);
    const metrics = await this.metrics();
    return {
      heapUsedBytes: metrics.get('bmpwatch_process_nodejs_heap_size_used_bytes') ?? Number.NaN,
      externalBytes: metrics.get('bmpwatch_process_nodejs_external_memory_bytes') ?? Number.NaN,
      rssBytes: readMemory(this.pid)?.rssBytes ?? Number.NaN,
    };
  }

  /** SIGTERM (graceful: flushes, writes a CPU profile if enabled), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([this.exitPromise, timer])) === 'timeout' && !this.exited) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  cpuProfileFile(): string | undefined {
    try {
      const name = readdirSync(join(this.dir, 'profile')).find((n) => n.endsWith('.cpuprofile'));
      return name === undefined ? undefined : join(this.dir, 'profile', name);
    } catch {
      return undefined;
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls /api/routers until every expected connection (address:port → messages) has reached its count. */
async function waitForBmpwatch(service: BmpwatchProcess, expected: Map<string, number>, timeoutMs: number): Promise<{ doneAt: number; routers: RouterInfo[]; timedOut: boolean }> {
  const deadline = performance.now() + timeoutMs;
  let routers: RouterInfo[];
  for (;;) {
    routers = await service.routers();
    const byId = new Map(routers.map((r) => [`${r.address}:${r.port}`, r]));
    let complete = true;
    for (const [id, messages] of expected) {
      const router = byId.get(id);
      if (router === undefined || router.messages < messages) {
        complete = false;
        break;
      }
    }
    const now = performance.now();
    if (complete) return { doneAt: now, routers, timedOut: false };
    if (now > deadline) return { doneAt: now, routers, timedOut: true };
    await sleep(POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Results

export interface IngestResult {
  readonly collector: string;
  readonly ok: boolean;
  /** Why the run failed or is incomplete. */
  readonly error?: string;
  readonly connections: number;
  readonly messages: number;
  readonly prefixes: number;
  readonly bytes: number;
  readonly wallSeconds: number;
  readonly prefixesPerSec: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  /** RSS just before connecting and when ingest was complete. */
  readonly rssBeforeBytes: number;
  readonly rssEndBytes: number;
  /** Connections whose every message/prefix the collector accounted for. */
  readonly completeConnections: number;
  readonly correctness: string;
  /** bmpwatch: routes it reports holding at the end. */
  readonly routes?: number;
}

export interface MemoryResult {
  readonly routes: number;
  /** bmpwatch_routes gauge, read after its refresh. */
  readonly routesGauge: number;
  readonly attributeSets: number;
  readonly before: BmpwatchMemorySample;
  readonly withRoutes: BmpwatchMemorySample;
  readonly afterClose: BmpwatchMemorySample;
  readonly heapBytesPerRoute: number;
  readonly heapPlusExternalBytesPerRoute: number;
  readonly rssBytesPerRoute: number;
  /** From closing the connection until /api/routers no longer lists it (the 1M routes are flushed). */
  readonly closeFlushSeconds: number;
}

export interface ProfileEntry {
  readonly function: string;
  readonly location: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

export interface BmpwatchServiceResult {
  readonly ingest: IngestResult;
  readonly memory?: MemoryResult;
  readonly profile?: readonly ProfileEntry[];
  readonly profileFile?: string;
}

const failed = (collector: string, connections: number, error: string): IngestResult => ({
  collector,
  ok: false,
  error,
  connections,
  messages: 0,
  prefixes: 0,
  bytes: 0,
  wallSeconds: Number.NaN,
  prefixesPerSec: Number.NaN,
  cpuSeconds: Number.NaN,
  peakRssBytes: Number.NaN,
  rssBeforeBytes: Number.NaN,
  rssEndBytes: Number.NaN,
  completeConnections: 0,
  correctness: error,
});

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An ingest run's result from what both collectors' runs measure the same way. */
function ingestResult(run: {
  readonly collector: string;
  readonly streams: readonly BenchStream[];
  /** Why the run failed, if it did. */
  readonly problem: string | undefined;
  readonly completeConnections: number;
  readonly correctness: string;
  readonly wallSeconds: number;
  /** CPU seconds of the child when the run started, and its stats when ingest was complete. */
  readonly cpuStart: number;
  readonly stats: ChildStats | undefined;
  readonly rssBeforeBytes: number;
}): IngestResult {
  const t = totals(run.streams);
  return {
    collector: run.collector,
    ok: run.problem === undefined && run.completeConnections === run.streams.length,
    ...(run.problem !== undefined && { error: run.problem }),
    connections: run.streams.length,
    ...t,
    wallSeconds: run.wallSeconds,
    prefixesPerSec: t.prefixes / run.wallSeconds,
    cpuSeconds: (run.stats?.cpuSeconds ?? Number.NaN) - run.cpuStart,
    peakRssBytes: run.stats?.peakRssBytes ?? Number.NaN,
    rssBeforeBytes: run.rssBeforeBytes,
    rssEndBytes: run.stats?.rssBytes ?? Number.NaN,
    completeConnections: run.completeConnections,
    correctness: run.correctness,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

export interface ServiceRunOptions {
  readonly timeoutMs: number;
  /** Log progress lines (to stderr). */
  readonly log: (line: string) => void;
}

function sourceAddress(index: number): string {
  return `127.0.0.${10 + index}`;
}

const MAX_ATTEMPTS = 10;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 8_000;

/** Exponential backoff with ±25% jitter, so retries of a burst do not arrive as a burst again. */
function retryDelayMs(attempt: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
}

/**
 * One router's connection, behaving like a BMP exporter: connect, write the whole stream; if the collector resets
 * or closes the connection before we close it ourselves, reconnect after a backoff (1 s doubling to 8 s: short,
 * which favours the collector; exporters usually wait longer) and send the whole stream again as a new BMP
 * session, up to MAX_ATTEMPTS times. Needed for pmbmpd: it listens with a backlog of 1, and with a burst of
 * connections the kernel's accept queue overflows; the SYN-cookie fallback then fails and the kernel resets the
 * connection (nstat: TcpExtListenOverflows, TcpExtSyncookiesFailed, TcpEstabResets).
 */
class RouterConnection {
  socket: Socket | undefined;
  attempts = 0;
  /** Every byte of the current attempt has been handed to the kernel. */
  sent = false;
  failure: Error | undefined;
  private closing = false;
  private retryPending = false;
  private readonly settledWaiters: (() => void)[] = [];

  constructor(
    private readonly port: number,
    readonly localAddress: string,
    private readonly data: Buffer,
  ) {}

  get settled(): boolean {
    return (this.sent && !this.retryPending) || this.failure !== undefined;
  }

  /** Resolves when sent or failed (a later reset can still start another attempt). */
  whenSettled(): Promise<void> {
    return this.settled ? Promise.resolve() : new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  start(): void {
    void this.attempt();
  }

  close(): Promise<void> {
    this.closing = true;
    return this.socket ? closeSocket(this.socket) : Promise.resolve();
  }

  destroy(): void {
    this.closing = true;
    this.socket?.destroy();
  }

  private async attempt(): Promise<void> {
    if (this.closing) return; // a retry scheduled before the run ended
    this.attempts++;
    this.sent = false;
    this.retryPending = false;
    let socket: Socket;
    try {
      socket = await connectTo(this.port, this.localAddress);
    } catch (error) {
      this.retry(error);
      return;
    }
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.on('error', () => {}); // reported through 'close' / sendAll
    socket.once('close', () => {
      if (!this.closing && socket === this.socket) this.retry(new Error('connection reset or closed by the collector'));
    });
    try {
      await sendAll(socket, this.data);
      if (socket === this.socket && !this.retryPending) {
        this.sent = true;
        this.notify();
      }
    } catch (error) {
      if (socket === this.socket) this.retry(error);
    }
  }

  private retry(error: unknown): void {
    if (this.retryPending || this.closing) return;
    this.sent = false;
    this.socket?.destroy();
    if (this.attempts >= MAX_ATTEMPTS) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.notify();
      return;
    }
    this.retryPending = true;
    setTimeout(() => void this.attempt(), retryDelayMs(this.attempts));
  }

  private notify(): void {
    for (const waiter of this.settledWaiters.splice(0)) waiter();
  }
}

interface Connections {
  readonly routers: readonly RouterConnection[];
  /** Every stream handed to the kernel (or given up on). */
  readonly allSettled: () => boolean;
  readonly whenSettled: () => Promise<void>;
  readonly reconnects: () => number;
  readonly failures: () => string | undefined;
}

/**
 * One connection per stream (stream i from 127.0.0.(10+i) when there are several, else from 127.0.0.1), all
 * started at once; each starts writing as soon as it is connected, like independent routers.
 */
function connectAndSend(port: number, streams: readonly BenchStream[]): Connections {
  const routers = streams.map((stream, i) => new RouterConnection(port, streams.length === 1 ? '127.0.0.1' : sourceAddress(i), stream.data));
  for (const router of routers) router.start();
  return {
    routers,
    allSettled: () => routers.every((r) => r.settled),
    whenSettled: async () => {
      await Promise.all(routers.map((r) => r.whenSettled()));
    },
    reconnects: () => routers.reduce((n, r) => n + r.attempts - 1, 0),
    failures: () => {
      const failed = routers.filter((r) => r.failure !== undefined);
      return failed.length === 0 ? undefined : `${failed.length} connection(s) gave up after ${MAX_ATTEMPTS} attempts: ${failed[0].failure?.message ?? ''}`;
    },
  };
}

function totals(streams: readonly BenchStream[]): { messages: number; prefixes: number; bytes: number } {
  return streams.reduce((t, s) => ({ messages: t.messages + s.messages, prefixes: t.prefixes + s.prefixes, bytes: t.bytes + s.data.length }), { messages: 0, prefixes: 0, bytes: 0 });
}

/**
 * bmpwatch ingesting `streams` (one connection each). With `measureMemory` (single-stream run), the ~1M routes are
 * kept while memory is read, then the connection is closed and memory read again. With `cpuProfile`, the child runs
 * under --cpu-prof and the top self-time functions are returned (the profile file is kept in its temp dir).
 */
export async function runBmpwatch(
  streams: readonly BenchStream[],
  options: ServiceRunOptions & { readonly measureMemory: boolean; readonly cpuProfile?: boolean },
): Promise<BmpwatchServiceResult> {
  let service: BmpwatchProcess;
  try {
    service = await BmpwatchProcess.start({ cpuProfile: options.cpuProfile });
  } catch (error) {
    return { ingest: failed('bmpwatch', streams.length, errorText(error)) };
  }
  let result: BmpwatchServiceResult;
  try {
    result = await ingestIntoBmpwatch(service, streams, options);
  } catch (error) {
    result = { ingest: failed('bmpwatch', streams.length, `${errorText(error)}\n${service.logTail(5)}`) };
  } finally {
    await service.stop();
  }
  if (!options.cpuProfile) {
    service.cleanup();
    return result;
  }
  const profileFile = service.cpuProfileFile();
  if (profileFile === undefined) return result;
  return { ...result, profile: summarizeCpuProfile(profileFile, 10), profileFile };
}

async function ingestIntoBmpwatch(service: BmpwatchProcess, streams: readonly BenchStream[], options: ServiceRunOptions & { readonly measureMemory: boolean }): Promise<BmpwatchServiceResult> {
  const name = 'bmpwatch';
  const before = options.measureMemory ? await service.memoryAfterGc() : undefined;
  const rssBeforeBytes = readMemory(service.pid)?.rssBytes ?? Number.NaN;
  const cpuStart = readCpuTimes(service.pid)?.cpuSeconds ?? Number.NaN;
  const started = performance.now();
  const connection = connectAndSend(service.bmpPort, streams);
  try {
    // Each router's id in /api/routers is its socket's address:port; known once its stream is in the kernel.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connection.whenSettled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, options.timeoutMs)))]);
    clearTimeout(timer);
    const expected = new Map<string, number>();
    connection.routers.forEach((router, i) => {
      const socket = router.socket;
      if (socket?.localPort !== undefined) expected.set(`${socket.localAddress}:${socket.localPort}`, streams[i].messages);
    });
    const waited = await waitForBmpwatch(service, expected, options.timeoutMs);
    const stats = readChildStats(service.pid);
    const wallSeconds = (waited.doneAt - started) / 1000;
    const byId = new Map(waited.routers.map((r) => [`${r.address}:${r.port}`, r]));
    let complete = 0;
    let decodeErrors = 0;
    let routes = 0;
    for (const [id, messages] of expected) {
      const router = byId.get(id);
      if (router === undefined) continue;
      decodeErrors += router.decodeErrors;
      routes += router.routes;
      if (router.messages === messages && router.decodeErrors === 0) complete++;
    }
    const problem = connection.failures() ?? (waited.timedOut ? `timed out after ${options.timeoutMs / 1000} s` : undefined);
    const ingest: IngestResult = {
      ...ingestResult({
        collector: name,
        streams,
        problem,
        completeConnections: complete,
        correctness: `${complete}/${streams.length} connections: messages counted = messages sent, no decode errors (total decode errors: ${decodeErrors}); ${connection.reconnects()} reconnects`,
        wallSeconds,
        cpuStart,
        stats,
        rssBeforeBytes,
      }),
      routes,
    };
    if (!options.measureMemory || before === undefined || !ingest.ok) return { ingest };

    options.log(`bmpwatch: ${routes.toLocaleString('en-US')} routes held; waiting for the bmpwatch_routes gauge, then GC`);
    await sleep(Math.max(0, GAUGE_REFRESH_WAIT_MS - (performance.now() - waited.doneAt)));
    const withRoutes = await service.memoryAfterGc();
    const metrics = await service.metrics();
    const closeStarted = performance.now();
    await Promise.all(connection.routers.map((r) => r.close()));
    const flushDeadline = performance.now() + options.timeoutMs;
    while ((await service.routers()).length > 0 && performance.now() < flushDeadline) await sleep(POLL_MS);
    const closeFlushSeconds = (performance.now() - closeStarted) / 1000;
    const afterClose = await service.memoryAfterGc();
    const memory: MemoryResult = {
      routes,
      routesGauge: metrics.get('bmpwatch_routes') ?? Number.NaN,
      attributeSets: metrics.get('bmpwatch_attribute_sets') ?? Number.NaN,
      before,
      withRoutes,
      afterClose,
      heapBytesPerRoute: (withRoutes.heapUsedBytes - before.heapUsedBytes) / routes,
      heapPlusExternalBytesPerRoute: (withRoutes.heapUsedBytes + withRoutes.externalBytes - before.heapUsedBytes - before.externalBytes) / routes,
      rssBytesPerRoute: (withRoutes.rssBytes - before.rssBytes) / routes,
      closeFlushSeconds,
    };
    return { ingest, memory };
  } finally {
    for (const router of connection.routers) router.destroy();
  }
}

/**
 * pmbmpd ingesting `streams`. Completion by idleness (pmbmpd.ts, waitUntilIdle); with the msglog, correctness
 * by counting its per-prefix lines for each router address after pmbmpd has been stopped (which flushes them).
 */
export async function runPmbmpd(streams: readonly BenchStream[], options: ServiceRunOptions & { readonly path: string; readonly msglog: boolean }): Promise<IngestResult> {
  const name = options.msglog ? 'pmbmpd (msglog file)' : 'pmbmpd (no output)';
  let daemon: PmbmpdProcess;
  try {
    daemon = await PmbmpdProcess.start({ path: options.path, port: await freePort(), msglog: options.msglog, maxPeers: streams.length + 10 });
  } catch (error) {
    return failed(name, streams.length, errorText(error));
  }
  const rssBeforeBytes = readMemory(daemon.pid)?.rssBytes ?? Number.NaN;
  const cpuStart = readCpuTimes(daemon.pid)?.cpuSeconds ?? Number.NaN;
  const started = performance.now();
  const connection = connectAndSend(daemon.port, streams);
  try {
    const idle = await waitUntilIdle(daemon.pid, daemon.port, { sendDone: connection.allSettled, timeoutMs: options.timeoutMs });
    const stats = readChildStats(daemon.pid);
    const wallSeconds = (idle.lastBusyAt - started) / 1000;
    const t = totals(streams);
    await Promise.all(connection.routers.map((r) => r.close()));
    await daemon.stop();
    let complete = 0;
    let correctness: string;
    if (options.msglog) {
      const files = daemon.msglogFiles();
      let lines = 0;
      streams.forEach((stream, i) => {
        const file = files.get(streams.length === 1 ? '127.0.0.1' : sourceAddress(i));
        const count = file === undefined ? 0 : countRouteMonitorLines(file);
        lines += count;
        if (count === stream.prefixes) complete++;
      });
      correctness = `${complete}/${streams.length} connections: msglog per-prefix lines = prefixes sent (${lines.toLocaleString('en-US')} of ${t.prefixes.toLocaleString('en-US')})`;
    } else {
      complete = connection.routers.filter((r) => r.failure === undefined).length;
      correctness = 'not checkable without output (completion by idleness only)';
    }
    correctness += `; ${connection.reconnects()} reconnects`;
    const problem = connection.failures() ?? (idle.timedOut ? (daemon.hasExited ? 'pmbmpd exited' : `timed out after ${options.timeoutMs / 1000} s`) : undefined);
    return ingestResult({ collector: name, streams, problem, completeConnections: complete, correctness, wallSeconds, cpuStart, stats, rssBeforeBytes });
  } catch (error) {
    return failed(name, streams.length, `${errorText(error)}\n${daemon.logTail(5)}`);
  } finally {
    for (const router of connection.routers) router.destroy();
    await daemon.stop();
    daemon.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CPU profile summary (Chrome .cpuprofile written by node --cpu-prof)

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function isCpuProfile(value: unknown): value is CpuProfile {
  return typeof value === 'object' && value !== null && 'nodes' in value && 'samples' in value && 'timeDeltas' in value && Array.isArray(value.nodes) && Array.isArray(value.samples);
}

/** Self time per function (summed over its call sites), idle excluded; percentages of the busy time. */
export function summarizeCpuProfile(file: string, top: number): ProfileEntry[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isCpuProfile(parsed)) return [];
  const keyOf = new Map<number, { fn: string; location: string }>();
  for (const node of parsed.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const location = url ? `${basename(url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
    keyOf.set(node.id, { fn: functionName || '(anonymous)', location });
  }
  const selfUs = new Map<string, { fn: string; location: string; us: number }>();
  let busyUs = 0;
  parsed.samples.forEach((id, i) => {
    // timeDeltas[i] is the time since the previous sample; attribute the interval ending at the next sample.
    const delta = parsed.timeDeltas[i + 1] ?? 0;
    const key = keyOf.get(id);
    if (key === undefined || key.fn === '(idle)') return;
    busyUs += delta;
    const k = `${key.fn}@${key.location}`;
    const entry = selfUs.get(k) ?? { ...key, us: 0 };
    entry.us += delta;
    selfUs.set(k, entry);
  });
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ function: e.fn, location: e.location, selfMs: e.us / 1000, selfPercent: busyUs > 0 ? (100 * e.us) / busyUs : 0 }));
}
