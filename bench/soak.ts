/**
 * Soak: `bmpwatch serve` (child process, --expose-gc with a SIGUSR2 → gc() hook preloaded, default config) under
 * 100 route-server connections holding ~1M routes, then rolling reconnects and connect/disconnect cycles, with
 * its memory sampled after a full GC (heap used + external from /metrics; RSS from /proc). `npm run bench --
 * --only soak` (bench/run.ts prints the numbers and the verdicts); bounded to a few minutes.
 *
 * 1. load     CONNECTIONS connections (from 127.0.0.10 upwards), each its own generated stream (10 peers x 500
 *             prefixes, pre- and post-policy, churn; no Termination), all at once; done when /api/routers shows
 *             every message of every connection.
 * 2. rounds   ROUNDS rounds of rolling reconnects: each round 10% of the connections (the next ones in turn) close
 *             and reconnect, sending their whole stream again (their routes flushed and rebuilt: ~100k route
 *             events per round at 100 connections), then a GC'd sample. The first WARMUP_ROUNDS are warm-up; after
 *             them memory must be flat: the growth from the first to the last sample after warm-up below
 *             max(2% of the loaded heap, 8 MB).
 * 3. cycles   CYCLES connect/disconnect cycles of a small route server (2 peers x 50 prefixes, churn 50), 10 at a
 *             time from 127.0.1.x, half closed with FIN and half with RST, while the 1M routes stay up. Sampled
 *             after CYCLES/10 (warm-up) and at the end: growth per cycle below 2 kB, and the number of Prometheus
 *             series unchanged.
 * 4. close    everything closed: the heap after GC is back near where it started (information).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMemory } from './child-stats.js';
import { buildBenchStream, freePort, type BenchStream, type StreamSpec } from './service-bench.js';

const MAIN_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');
const GC_ON_SIGUSR2 = "data:text/javascript,process.on('SIGUSR2',()=>{globalThis.gc();});";
const SEND_CHUNK_BYTES = 64 * 1024;
const POLL_MS = 50;

export interface SoakOptions {
  readonly connections: number;
  readonly stream: Omit<StreamSpec, 'seed'>;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly cycles: number;
  readonly cycleParallel: number;
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

export const SOAK_DEFAULTS = { connections: 100, stream: { peers: 10, prefixesPerPeer: 500, churn: 1_000 }, rounds: 8, warmupRounds: 3, cycles: 1_000, cycleParallel: 10 } as const;
export const SOAK_QUICK = { connections: 20, stream: { peers: 10, prefixesPerPeer: 500, churn: 1_000 }, rounds: 5, warmupRounds: 2, cycles: 200, cycleParallel: 10 } as const;

export interface MemorySample {
  readonly label: string;
  /** Heap used + external, after a full GC. */
  readonly heapBytes: number;
  readonly rssBytes: number;
  /** bmpwatch_routes is refreshed every 5 s: routes from /api/routers instead. */
  readonly routes: number;
  /** Prometheus series, process metrics excluded. */
  readonly series: number;
  readonly atSeconds: number;
}

export interface SoakReport {
  readonly ok: boolean;
  readonly error?: string;
  readonly connections: number;
  readonly routesHeld: number;
  readonly messages: number;
  readonly loadSeconds: number;
  readonly samples: readonly MemorySample[];
  /** Growth from the first to the last sample after warm-up, and the allowance. */
  readonly flat: { readonly growthBytes: number; readonly allowedBytes: number; readonly spreadBytes: number; readonly met: boolean };
  readonly cycles: { readonly count: number; readonly seconds: number; readonly growthBytesPerCycle: number; readonly seriesBefore: number; readonly seriesAfter: number; readonly met: boolean };
  readonly peakRssBytes: number;
  readonly totalSeconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// The collector

class Serve {
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly bmpPort: number,
    readonly apiPort: number,
  ) {
    this.exit = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return !this.exited;
  }

  static async start(): Promise<Serve> {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-soak-'));
    const bmpPort = await freePort();
    const apiPort = await freePort();
    const out = openSync(join(dir, 'serve.log'), 'w');
    const child = spawn(process.execPath, ['--expose-gc', `--import=${GC_ON_SIGUSR2}`, MAIN_JS, 'serve', '--listen', `127.0.0.1:${bmpPort}`, '--api', `127.0.0.1:${apiPort}`], {
      cwd: dir,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    const serve = new Serve(child, dir, bmpPort, apiPort);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (serve.exited || Date.now() > deadline) {
        await serve.stop();
        throw new Error(`bmpwatch serve did not become healthy:\n${serve.logTail()}`);
      }
      try {
        await serve.get('/healthz');
        return serve;
      } catch {
        await sleep(100);
      }
    }
  }

  async get(path: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.apiPort}${path}`, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return response.text();
  }

  async routers(): Promise<{ id: string; messages: number; routes: number; decodeErrors: number }[]> {
    return JSON.parse(await this.get('/api/routers')) as { id: string; messages: number; routes: number; decodeErrors: number }[];
  }

  async sample(label: string, started: number): Promise<MemorySample> {
    for (let i = 0; i < 3; i++) {
      this.child.kill('SIGUSR2');
      await sleep(500);
    }
    const text = await this.get('/metrics');
    let heap = 0;
    let series = 0;
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('bmpwatch_process_nodejs_heap_size_used_bytes ') || line.startsWith('bmpwatch_process_nodejs_external_memory_bytes ')) heap += Number(line.split(' ')[1]);
      if (!line.startsWith('bmpwatch_process_')) series++;
    }
    const routes = (await this.routers()).reduce((n, r) => n + r.routes, 0);
    return { label, heapBytes: heap, rssBytes: readMemory(this.pid)?.rssBytes ?? Number.NaN, routes, series, atSeconds: (performance.now() - started) / 1000 };
  }

  peakRss(): number {
    return readMemory(this.pid)?.peakRssBytes ?? Number.NaN;
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(join(this.dir, 'serve.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = sleep(30_000).then(() => 'timeout' as const);
      if ((await Promise.race([this.exit.then(() => 'exited' as const), timer])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exit;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Route servers

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function send(socket: Socket, data: Buffer): Promise<void> {
  for (let pos = 0; pos < data.length; pos += SEND_CHUNK_BYTES) {
    if (!socket.write(data.subarray(pos, pos + SEND_CHUNK_BYTES))) {
      await new Promise<void>((resolve, reject) => {
        socket.once('drain', () => resolve());
        socket.once('close', () => reject(new Error('closed by the collector while sending')));
      });
    }
  }
}

function close(socket: Socket, reset: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    socket.once('close', () => resolve());
    if (reset) socket.resetAndDestroy();
    else socket.end();
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

const idOf = (socket: Socket): string => `${socket.localAddress}:${socket.localPort}`;

/** Waits until every connection id has at least its message count (or throws after timeoutMs). */
async function waitComplete(serve: Serve, expected: ReadonlyMap<string, number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const byId = new Map((await serve.routers()).map((r) => [r.id, r]));
    const missing = [...expected].filter(([id, messages]) => (byId.get(id)?.messages ?? -1) < messages);
    if (missing.length === 0) return;
    if (!serve.alive) throw new Error(`bmpwatch exited:\n${serve.logTail()}`);
    if (Date.now() > deadline) throw new Error(`timed out: ${missing.length} connections incomplete (e.g. ${missing[0][0]})`);
    await sleep(POLL_MS);
  }
}

async function waitGone(serve: Serve, ids: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new Set(ids);
  while ((await serve.routers()).some((r) => wanted.has(r.id))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for closed sessions to be flushed');
    await sleep(POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------------------------

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const { log } = options;
  log(`soak: generating ${options.connections} streams`);
  const streams: BenchStream[] = Array.from({ length: options.connections }, (_, i) => buildBenchStream({ ...options.stream, seed: 5000 + i }));
  const small = buildBenchStream({ peers: 2, prefixesPerPeer: 50, churn: 50, seed: 99 });
  const messages = streams.reduce((n, s) => n + s.messages, 0);
  const serve = await Serve.start();
  const samples: MemorySample[] = [];
  const sockets: (Socket | undefined)[] = new Array<Socket | undefined>(options.connections);
  const empty = { growthBytes: Number.NaN, allowedBytes: Number.NaN, spreadBytes: Number.NaN, met: false };
  const noCycles = { count: 0, seconds: Number.NaN, growthBytesPerCycle: Number.NaN, seriesBefore: Number.NaN, seriesAfter: Number.NaN, met: false };
  let loadSeconds = Number.NaN;
  let routesHeld = 0;
  try {
    samples.push(await serve.sample('idle', started));

    // 1. load
    log(`soak: ${options.connections} connections, ${messages.toLocaleString('en-US')} messages`);
    const loadStart = performance.now();
    const connectAndSend = async (i: number): Promise<string> => {
      const socket = await open(serve.bmpPort, `127.0.0.${10 + i}`);
      sockets[i] = socket;
      await send(socket, streams[i].data);
      return idOf(socket);
    };
    const ids = await Promise.all(streams.map((_, i) => connectAndSend(i)));
    await waitComplete(serve, new Map(ids.map((id, i) => [id, streams[i].messages])), options.timeoutMs);
    loadSeconds = (performance.now() - loadStart) / 1000;
    const loaded = await serve.sample('loaded', started);
    samples.push(loaded);
    routesHeld = loaded.routes;
    log(`soak: ${routesHeld.toLocaleString('en-US')} routes held after ${loadSeconds.toFixed(1)} s; heap ${mb(loaded.heapBytes)}`);

    // 2. rolling reconnects
    const perRound = Math.max(1, Math.round(options.connections / 10));
    let nextReconnect = 0;
    for (let round = 1; round <= options.rounds; round++) {
      const chosen = Array.from({ length: perRound }, () => nextReconnect++ % options.connections);
      const closing = chosen.map((i) => idOf(sockets[i] as Socket));
      await Promise.all(chosen.map((i, k) => close(sockets[i] as Socket, k % 2 === 1)));
      await waitGone(serve, closing, options.timeoutMs);
      const again = await Promise.all(chosen.map((i) => connectAndSend(i)));
      await waitComplete(serve, new Map(again.map((id, k) => [id, streams[chosen[k]].messages])), options.timeoutMs);
      const s = await serve.sample(`round ${round}${round <= options.warmupRounds ? ' (warm-up)' : ''}`, started);
      samples.push(s);
      log(`soak: ${s.label}: ${perRound} reconnected, ${s.routes.toLocaleString('en-US')} routes, heap ${mb(s.heapBytes)}, RSS ${mb(s.rssBytes)}`);
    }
    const steady = samples.filter((s) => s.label.startsWith('round ') && !s.label.includes('warm-up'));
    const heaps = steady.map((s) => s.heapBytes);
    const growthBytes = steady.length >= 2 ? heaps[heaps.length - 1] - heaps[0] : Number.NaN;
    const allowedBytes = Math.max(0.02 * loaded.heapBytes, 8e6);
    const spreadBytes = heaps.length > 0 ? Math.max(...heaps) - Math.min(...heaps) : Number.NaN;
    const flat = { growthBytes, allowedBytes, spreadBytes, met: Number.isFinite(growthBytes) && growthBytes < allowedBytes && steady.every((s) => s.routes === routesHeld) };

    // 3. connect/disconnect cycles while the routes stay up
    const cycleStart = performance.now();
    let done = 0;
    const warmCycles = Math.max(1, Math.round(options.cycles / 10));
    const runCycles = async (upto: number): Promise<void> => {
      let next = done;
      await Promise.all(
        Array.from({ length: options.cycleParallel }, async (_, lane) => {
          while (next < upto) {
            const n = next++;
            const socket = await open(serve.bmpPort, `127.0.1.${1 + lane}`);
            await send(socket, small.data);
            const id = idOf(socket);
            await waitComplete(serve, new Map([[id, small.messages]]), options.timeoutMs);
            await close(socket, n % 2 === 1);
            await waitGone(serve, [id], options.timeoutMs);
          }
        }),
      );
      done = upto;
    };
    await runCycles(warmCycles);
    const before = await serve.sample(`after ${warmCycles} cycles (warm-up)`, started);
    samples.push(before);
    await runCycles(options.cycles);
    const after = await serve.sample(`after ${options.cycles} cycles`, started);
    samples.push(after);
    const cycleSeconds = (performance.now() - cycleStart) / 1000;
    const growthBytesPerCycle = (after.heapBytes - before.heapBytes) / (options.cycles - warmCycles);
    const cycles = {
      count: options.cycles,
      seconds: cycleSeconds,
      growthBytesPerCycle,
      seriesBefore: before.series,
      seriesAfter: after.series,
      met: growthBytesPerCycle < 2_000 && after.series === before.series && after.routes === routesHeld,
    };
    log(`soak: ${options.cycles} cycles in ${cycleSeconds.toFixed(1)} s; heap ${mb(before.heapBytes)} -> ${mb(after.heapBytes)}`);

    // 4. close everything
    const allIds = sockets.map((s) => idOf(s as Socket));
    await Promise.all(sockets.map((s) => close(s as Socket, false)));
    await waitGone(serve, allIds, options.timeoutMs);
    samples.push(await serve.sample('all closed', started));
    const peakRssBytes = serve.peakRss();
    const decodeErrors = (await serve.routers()).reduce((n, r) => n + r.decodeErrors, 0);
    return {
      ok: decodeErrors === 0 && serve.alive,
      connections: options.connections,
      routesHeld,
      messages,
      loadSeconds,
      samples,
      flat,
      cycles,
      peakRssBytes,
      totalSeconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    return {
      ok: false,
      error: `${error instanceof Error ? error.message : String(error)}\n${serve.logTail(5)}`,
      connections: options.connections,
      routesHeld,
      messages,
      loadSeconds,
      samples,
      flat: empty,
      cycles: noCycles,
      peakRssBytes: serve.peakRss(),
      totalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const socket of sockets) socket?.destroy();
    await serve.stop();
  }
}
