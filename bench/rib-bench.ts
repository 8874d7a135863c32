/**
 * In-process RIB benchmarks (no sockets, no HTTP):
 *
 * - Peer Down: one peer holding N routes (default 100,000, adj-rib-in-pre; optionally the same prefixes post-policy
 *   too), built from encoded Peer Up + Route Monitoring messages decoded by BmpSessionDecoder; then
 *   `rib.apply(peerDown)` is timed, including the emission of one route-withdrawn event per route into a sink that
 *   only counts. A fresh RIB for every run; best and median of the runs are reported. Target: < 100 ms for 100k.
 *
 * - Memory: the generated route-server stream (scripts/generate-stream.ts, Termination left out so nothing is
 *   flushed) framed in 64 KiB chunks, decoded and applied to a RouterRib; JS heap used plus ArrayBuffer memory
 *   (the RIB keeps attribute-set ids in typed arrays, outside the JS heap) after a full GC, minus the same before
 *   (stream already in memory), divided by the routes held. Needs `node --expose-gc`; without it the number is
 *   skipped. Also reports the in-process ingest rate (framing + decode + RIB, counting sink) as a ceiling for the
 *   service's rate over TCP.
 *
 * - Router close: the same stream sent over loopback TCP to an in-process BmpCollector (src/collector/server.ts),
 *   then the connection closed; time until the session's routes are all withdrawn (one route-withdrawn event
 *   each, counted) and the session is gone, and the longest event-loop stall meanwhile
 *   (longest gap between the ticks of a 1 ms timer). Checks that nothing is left: no routes, no attribute sets.
 *
 * Run by bench/run.ts as a child: `node --expose-gc dist/bench/rib-bench.js --json [--quick]`; by hand without
 * --json for a short summary.
 */
import { realpathSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { BmpSessionDecoder } from '../src/bmp/decode.js';
import { BmpFramer } from '../src/bmp/framer.js';
import type { BmpMessage } from '../src/bmp/types.js';
import { BmpCollector } from '../src/collector/server.js';
import { createLogger } from '../src/observability/logger.js';
import { CollectorMetrics } from '../src/observability/metrics.js';
import { systemClock } from '../src/util/clock.js';
import { encodeOpen, encodeUpdate, type Attribute, type Capability } from '../src/encode/bgp-encode.js';
import { PeerFlag, encodePeerDown, encodePeerUp, encodeRouteMonitoring, type PeerHeader } from '../src/encode/bmp-encode.js';
import { AttributeStore } from '../src/rib/attribute-store.js';
import type { CollectorEvent, RouterRef } from '../src/rib/events.js';
import { RouterRib } from '../src/rib/router-rib.js';
import { generateStream, type GenerateStreamOptions } from '../scripts/generate-stream.js';

const ROUTER: RouterRef = Object.freeze({ id: '127.0.0.1:40000', address: '127.0.0.1', port: 40000, name: 'bench' });
const RIB_OPTIONS = { initialDumpTimeoutMs: 600_000, maxRoutes: 100_000_000 } as const;
const CHUNK_BYTES = 64 * 1024;
/** Prefixes per UPDATE sharing one attribute set: a route server's packed initial table (generator: 5-300). */
const GROUP = 200;

type GcFunction = () => void;
const gc: GcFunction | undefined = (globalThis as { gc?: GcFunction }).gc;

function decodeOrThrow(decoder: BmpSessionDecoder, frame: Buffer): BmpMessage {
  const result = decoder.decode(frame);
  if (!result.ok) throw new Error(`bench input did not decode: ${result.error.code} ${result.error.detail}`);
  return result.value;
}

// ---------------------------------------------------------------------------------------------------------------
// Peer Down

export interface PeerDownBenchOptions {
  /** Distinct prefixes the peer announces. */
  readonly prefixes: number;
  /** Also announce every prefix post-policy (routes = 2 x prefixes). */
  readonly postPolicy: boolean;
  readonly runs: number;
}

export interface PeerDownBenchResult {
  readonly routes: number;
  readonly withdrawEvents: number;
  readonly runsMs: readonly number[];
  readonly bestMs: number;
  readonly medianMs: number;
}

const PEER_ADDRESS = '192.0.2.10';
const PEER_AS = 64500;

function peerHeader(post: boolean): PeerHeader {
  return { peerType: 0, flags: post ? PeerFlag.L : 0, address: PEER_ADDRESS, as: PEER_AS, bgpId: PEER_ADDRESS, timestampSec: 1_700_000_000, timestampUsec: 0 };
}

/** Peer Up, then `prefixes` distinct IPv4 /24s (10.0.0.0 upwards) in UPDATEs of GROUP with distinct attributes. */
function buildPeerMessages(options: PeerDownBenchOptions): { setup: Buffer[]; peerDown: Buffer } {
  const caps: Capability[] = [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', as: PEER_AS }, { type: 'route-refresh' }];
  const setup: Buffer[] = [
    encodePeerUp(peerHeader(false), {
      localAddress: '192.0.2.1',
      localPort: 179,
      remotePort: 40001,
      sentOpen: encodeOpen({ myAs: 64496, holdTime: 90, bgpId: '192.0.2.1', capabilities: [...caps.slice(0, 1), { type: 'four-octet-as', as: 64496 }, caps[2]] }),
      receivedOpen: encodeOpen({ myAs: PEER_AS, holdTime: 90, bgpId: PEER_ADDRESS, capabilities: caps }),
    }),
  ];
  for (const post of options.postPolicy ? [false, true] : [false]) {
    for (let start = 0, group = 0; start < options.prefixes; start += GROUP, group++) {
      const nlri = [];
      for (let i = start; i < Math.min(options.prefixes, start + GROUP); i++) {
        const a = ((10 << 24) + i * 256) >>> 0;
        nlri.push({ prefix: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24` });
      }
      const attributes: Attribute[] = [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [{ type: 2, asns: [PEER_AS, 65000 + (group % 500), 4_200_000_000 + group] }], fourOctet: true },
        { type: 'next-hop', address: PEER_ADDRESS },
        ...(post ? [{ type: 'local-pref' as const, value: 100 }] : []),
        { type: 'communities', values: [((PEER_AS << 16) | (group & 0xffff)) >>> 0] },
      ];
      setup.push(encodeRouteMonitoring(peerHeader(post), encodeUpdate({ attributes, nlri })));
    }
  }
  return { setup, peerDown: encodePeerDown(peerHeader(false), 4) };
}

export function runPeerDownBench(options: PeerDownBenchOptions): PeerDownBenchResult {
  const { setup, peerDown } = buildPeerMessages(options);
  const runsMs: number[] = [];
  let routes = 0;
  let withdrawEvents = 0;
  for (let run = 0; run < options.runs; run++) {
    let withdrawn = 0;
    const sink = (event: CollectorEvent): void => {
      if (event.type === 'route-withdrawn') withdrawn++;
    };
    const rib = new RouterRib(ROUTER, { ...RIB_OPTIONS, attributes: new AttributeStore() }, sink);
    const decoder = new BmpSessionDecoder();
    const now = Date.now();
    for (const frame of setup) rib.apply(decodeOrThrow(decoder, frame), now);
    routes = rib.routeCount;
    const down = decodeOrThrow(decoder, peerDown);
    gc?.(); // start each timed run from a clean heap; the garbage it makes is still collected inside the timing
    const started = process.hrtime.bigint();
    rib.apply(down, now + 1);
    runsMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (rib.routeCount !== 0) throw new Error(`Peer Down left ${rib.routeCount} routes`);
    withdrawEvents = withdrawn;
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { routes, withdrawEvents, runsMs, bestMs: sorted[0], medianMs: sorted[Math.floor(sorted.length / 2)] };
}

// ---------------------------------------------------------------------------------------------------------------
// Memory per route, and in-process ingest rate

export interface RibMemoryResult {
  readonly routes: number;
  readonly attributeSets: number;
  readonly messages: number;
  readonly prefixes: number;
  readonly ingestSeconds: number;
  readonly prefixesPerSec: number;
  /** JS heap + ArrayBuffers, per route; undefined without --expose-gc. */
  readonly heapBytesPerRoute: number | undefined;
  /** JS heap + ArrayBuffers. */
  readonly heapDeltaBytes: number | undefined;
  /** The ArrayBuffer part of heapDeltaBytes. */
  readonly arrayBufferDeltaBytes: number | undefined;
}

/** JS heap used plus ArrayBuffer backing stores (typed arrays live outside the JS heap). */
function memoryInUse(): { heap: number; arrayBuffers: number } {
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
}

/** The generated stream without its Termination (BMP type 5), so the RIB is still full when measured. */
function streamWithoutTermination(options: GenerateStreamOptions): { stream: Buffer; messages: number; prefixes: number } {
  const chunks: Buffer[] = [];
  let messages = 0;
  const summary = generateStream(options, (chunk) => {
    if (chunk[5] === 5) return;
    chunks.push(chunk);
    messages++;
  });
  return { stream: Buffer.concat(chunks), messages, prefixes: summary.prefixes };
}

export function runRibMemoryBench(options: GenerateStreamOptions): RibMemoryResult {
  const { stream, messages, prefixes } = streamWithoutTermination(options);
  let events = 0;
  const sink = (): void => {
    events++;
  };
  const attributes = new AttributeStore();
  gc?.();
  gc?.();
  const before = memoryInUse();
  const rib = new RouterRib(ROUTER, { ...RIB_OPTIONS, attributes }, sink);
  const decoder = new BmpSessionDecoder();
  const framer = new BmpFramer();
  let errors = 0;
  const started = process.hrtime.bigint();
  for (let pos = 0; pos < stream.length; pos += CHUNK_BYTES) {
    framer.push(stream.subarray(pos, pos + CHUNK_BYTES), (frame) => {
      const result = decoder.decode(frame.bytes);
      if (result.ok) rib.apply(result.value, Date.now());
      else errors++;
    });
  }
  const ingestSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (errors > 0) throw new Error(`${errors} decode errors in the generated stream`);
  let heapDeltaBytes: number | undefined;
  let arrayBufferDeltaBytes: number | undefined;
  if (gc) {
    gc();
    gc();
    const after = memoryInUse();
    arrayBufferDeltaBytes = after.arrayBuffers - before.arrayBuffers;
    heapDeltaBytes = after.heap - before.heap + arrayBufferDeltaBytes;
  }
  if (stream.length === 0) throw new Error('empty stream'); // (and the stream stays live until measured)
  // Read after the GC so the RIB and the decoder's per-peer state are live during it (as in the service).
  const routes = rib.routeCount;
  if (decoder.knownPeers === 0 || events === 0) throw new Error('nothing was ingested');
  return {
    routes,
    attributeSets: attributes.size,
    messages,
    prefixes,
    ingestSeconds,
    prefixesPerSec: prefixes / ingestSeconds,
    heapBytesPerRoute: heapDeltaBytes === undefined ? undefined : heapDeltaBytes / routes,
    heapDeltaBytes,
    arrayBufferDeltaBytes,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Router close: flush time and event-loop stalls

export interface RouterCloseResult {
  readonly routes: number;
  readonly withdrawEvents: number;
  /** From closing the connection until the session's last route is withdrawn and it is no longer listed. */
  readonly flushMs: number;
  /** Longest gap between two ticks of a 1 ms timer while flushing: how long the event loop was blocked at most. */
  readonly maxEventLoopDelayMs: number;
  readonly attributeSetsLeft: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate()) resolve();
      else if (performance.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 1);
    };
    check();
  });
}

async function sendAll(socket: Socket, data: Buffer): Promise<void> {
  for (let pos = 0; pos < data.length; pos += CHUNK_BYTES) {
    if (!socket.write(data.subarray(pos, pos + CHUNK_BYTES))) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

export async function runRouterCloseBench(options: GenerateStreamOptions): Promise<RouterCloseResult> {
  const { stream, messages } = streamWithoutTermination(options);
  const attributes = new AttributeStore();
  let withdrawEvents = 0;
  const collector = new BmpCollector(
    {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 4,
      maxMessageBytes: 1024 * 1024,
      maxRoutesPerRouter: RIB_OPTIONS.maxRoutes,
      initialDumpTimeoutMs: RIB_OPTIONS.initialDumpTimeoutMs,
      maxDecodeErrorLogsPerMinute: 5,
      isAllowedSource: () => true,
      routerName: () => undefined,
    },
    {
      attributes,
      emit: (event) => {
        if (event.type === 'route-withdrawn' && event.cause === 'router-down') withdrawEvents++;
      },
      logger: createLogger('silent'),
      metrics: new CollectorMetrics(),
      clock: systemClock,
    },
  );
  const { port } = await collector.start();
  try {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    await sendAll(socket, stream);
    const session = (): ReturnType<BmpCollector['routers']>[number] | undefined => collector.routers()[0];
    await waitUntil(() => session()?.stats.messages === messages, 300_000, 'the stream to be ingested');
    const routes = session()?.rib.routeCount ?? 0;
    gc?.();
    await sleep(20);
    // A 1 ms timer chain: the longest gap between two of its ticks is the longest stretch the loop was blocked.
    let lastTick = performance.now();
    let maxGap = 0;
    let ticking = true;
    const tick = (): void => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - lastTick);
      lastTick = now;
      if (ticking) setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
    const started = performance.now();
    socket.end();
    await waitUntil(() => collector.routers().length === 0, 300_000, 'the flush');
    const flushMs = performance.now() - started;
    await sleep(10); // let the timers see the end of the last stall
    ticking = false;
    if (withdrawEvents !== routes) throw new Error(`router close withdrew ${withdrawEvents} of ${routes} routes`);
    return {
      routes,
      withdrawEvents,
      flushMs,
      maxEventLoopDelayMs: maxGap,
      attributeSetsLeft: attributes.size,
    };
  } finally {
    await collector.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child entry point

export interface RibBenchReport {
  readonly node: string;
  readonly gcExposed: boolean;
  readonly peerDown: PeerDownBenchResult;
  readonly peerDownPrePost: PeerDownBenchResult;
  readonly memory: RibMemoryResult;
  readonly routerClose: RouterCloseResult;
}

export interface RibBenchOptions {
  readonly peerDownPrefixes: number;
  readonly runs: number;
  readonly stream: GenerateStreamOptions;
}

export async function runRibBench(options: RibBenchOptions): Promise<RibBenchReport> {
  const peerDown = runPeerDownBench({ prefixes: options.peerDownPrefixes, postPolicy: false, runs: options.runs });
  const peerDownPrePost = runPeerDownBench({ prefixes: options.peerDownPrefixes, postPolicy: true, runs: options.runs });
  gc?.();
  const memory = runRibMemoryBench(options.stream);
  gc?.();
  const routerClose = await runRouterCloseBench(options.stream);
  return { node: process.version, gcExposed: gc !== undefined, peerDown, peerDownPrePost, memory, routerClose };
}

async function main(): Promise<void> {
  const program = new Command('rib-bench')
    .option('--json', 'print one JSON object (for bench/run.ts)')
    .option('--quick', 'small sizes')
    .option('--peer-down-prefixes <n>', 'routes of the peer that goes down', Number)
    .option('--runs <n>', 'Peer Down repetitions', Number, 5)
    .option('--peers <n>', 'memory run: peers in the generated stream', Number)
    .option('--prefixes-per-peer <n>', 'memory run: prefixes per peer', Number)
    .option('--churn <n>', 'memory run: churn updates', Number)
    .parse();
  const opts = program.opts<{ json?: boolean; quick?: boolean; peerDownPrefixes?: number; runs: number; peers?: number; prefixesPerPeer?: number; churn?: number }>();
  const defaults = opts.quick ? { peers: 20, prefixesPerPeer: 2000, churn: 10_000 } : { peers: 100, prefixesPerPeer: 5000, churn: 100_000 };
  const stream = {
    peers: opts.peers ?? defaults.peers,
    prefixesPerPeer: opts.prefixesPerPeer ?? defaults.prefixesPerPeer,
    churn: opts.churn ?? defaults.churn,
    seed: 1,
  };
  const report = await runRibBench({ peerDownPrefixes: opts.peerDownPrefixes ?? 100_000, runs: opts.runs, stream });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const f = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d });
  console.log(`Peer Down, ${f(report.peerDown.routes, 0)} routes: best ${f(report.peerDown.bestMs)} ms, median ${f(report.peerDown.medianMs)} ms`);
  console.log(`Peer Down, ${f(report.peerDownPrePost.routes, 0)} routes (pre+post): best ${f(report.peerDownPrePost.bestMs)} ms`);
  const m = report.memory;
  console.log(`in-process ingest: ${f(m.prefixesPerSec, 0)} prefixes/s; ${f(m.routes, 0)} routes, ${f(m.attributeSets, 0)} attribute sets`);
  console.log(
    `memory per route (JS heap + ArrayBuffers, after GC): ${
      m.heapBytesPerRoute === undefined || m.arrayBufferDeltaBytes === undefined
        ? 'n/a (run with --expose-gc)'
        : `${f(m.heapBytesPerRoute)} bytes (of which ArrayBuffers ${f(m.arrayBufferDeltaBytes / m.routes)})`
    }`,
  );
  const c = report.routerClose;
  console.log(
    `router close, ${f(c.routes, 0)} routes: flushed in ${f(c.flushMs, 0)} ms (${f(c.withdrawEvents, 0)} withdrawal events), ` +
      `longest event-loop stall ${f(c.maxEventLoopDelayMs)} ms, ${c.attributeSetsLeft} attribute sets left`,
  );
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
