/**
 * Alert latency bench: from a BMP message that makes an alert fire to the webhook request for it at a receiver,
 * while the collector ingests a background churn stream. Everything on loopback; `bmpwatch serve` is a child
 * process (dist/src/main.js) with the embedded store on (history, alert state and the durable delivery queue in
 * SQLite, as deployed), log level info to a file.
 *
 * Two route-server connections:
 *   churn   from 127.0.0.3: scripts/generate-stream.ts's stream (bench/service-bench.ts's builder). Its initial
 *           tables are sent first, flat out, and ingested before measuring; then its churn messages (single-prefix
 *           updates, stats reports, a few Peer Down/Up flaps) are paced at `churnRate` messages/s for the whole
 *           measurement. Its peers are known non-appliance peers (rules.unexpectedPeer.allowedPeers): the rules
 *           see every event, history records every route event, nothing alerts.
 *   alerts  from 127.0.0.2: one appliance (group "firewalls", IBGP) whose route server reports, every
 *           `intervalMs`, one new prefix outside the group's range: each fires one unexpected-prefix alert, whose
 *           notification goes to the webhook (Standard Webhooks signed) at a receiver in this process.
 *
 * Per alert, two latencies:
 *   sender    from this process's socket.write() of the Route Monitoring message to the webhook request at the
 *             receiver (same process, monotonic clock): everything, loopback TCP both ways included;
 *   collector from the collector's receive of the message (the alert's `firstSeen`: the event's arrival time,
 *             read from the collector's wall clock when it decoded the message, ms) to the webhook request (this
 *             process's wall clock, same machine). Split at the alert's `startsAt` (when the rule fired) into
 *             rules (receive → fired) and delivery (fired → request at the receiver).
 * The first `warmup` alerts are sent but not counted (JIT, first connection to the receiver).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { encodeOpen, encodeUpdate, type Capability } from '../src/encode/bgp-encode.js';
import { encodeInitiation, encodePeerUp, encodeRouteMonitoring, tlv, type PeerHeader } from '../src/encode/bmp-encode.js';
import { generateStream } from '../scripts/generate-stream.js';
import { readCpuTimes } from './child-stats.js';
import { freePort, parsePrometheus, type StreamSpec } from './service-bench.js';

/** dist/src/main.js, from dist/bench/alert-latency-bench.js. */
const MAIN_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');
const BMP_TERMINATION = 5;
const APPLIANCE = '100.65.0.11';
const ALERT_ROUTER = '127.0.0.2';
const CHURN_ROUTER = '127.0.0.3';
const PACE_TICK_MS = 5;
/** After the initial tables: wait until two 500 ms windows in a row show no event-loop delay above this (ms)... */
const SETTLE_LOOP_DELAY_MS = 50;
/** ...or this long at most. */
const SETTLE_MAX_MS = 15_000;

export interface AlertLatencyOptions {
  /** Alerts measured (after the warm-up ones). */
  readonly alerts: number;
  readonly warmup: number;
  /** Milliseconds between two alert-triggering messages. */
  readonly intervalMs: number;
  /** Background churn, messages per second, during the measurement. */
  readonly churnRate: number;
  /** The churn stream's peers and initial tables (its churn length is derived from the rate and duration). */
  readonly churnPeers: number;
  readonly churnPrefixesPerPeer: number;
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface AlertLatencyResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly measured: number;
  readonly missing: number;
  /** Sender's write → webhook request at the receiver (ms). */
  readonly sender: Percentiles;
  /** Collector's receive (firstSeen) → webhook request (ms, 1 ms resolution). */
  readonly collector: Percentiles;
  readonly rules: Percentiles;
  readonly delivery: Percentiles;
  readonly churn: {
    readonly initialMessages: number;
    readonly initialPrefixes: number;
    readonly initialSeconds: number;
    /** Waited after the initial tables until the collector's event loop was quiet. */
    readonly settleSeconds: number;
    readonly targetRate: number;
    /** Churn messages the collector counted during the measurement, per second. */
    readonly ingestedRate: number;
    readonly sentMessages: number;
  };
  /** Collector CPU seconds per wall second during the measurement (1 = one core). */
  readonly collectorCpu: number;
  /** The collector's event-loop delay during the measurement (its /metrics, reset when read), ms. */
  readonly collectorLoopDelay: { readonly p99: number; readonly max: number };
  /** This process's event-loop delay during the measurement (sender, receiver and pacer share it), ms. */
  readonly benchLoopDelay: { readonly p99: number; readonly max: number };
  readonly loadAverage: { readonly before: number; readonly after: number };
  /** Linux CPU pressure at the end (/proc/pressure/cpu "some avg10": % of time a task waited for a CPU). */
  readonly cpuPressure: number;
  readonly seconds: number;
}

function cpuPressure(): number {
  try {
    const match = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Streams

/** The generated stream split into its initial tables (sent flat out) and its churn messages (paced). */
function churnStream(spec: StreamSpec): { initial: Buffer; initialMessages: number; initialPrefixes: number; churn: Buffer[] } {
  const all: Buffer[] = [];
  generateStream(spec, (message) => {
    if (message[5] !== BMP_TERMINATION) all.push(message);
  });
  // The same options without churn give exactly the initial part (the generator draws the churn afterwards).
  let initialCount = 0;
  const summary = generateStream({ ...spec, churn: 0 }, (message) => {
    if (message[5] === BMP_TERMINATION) return;
    if (!message.equals(all[initialCount])) throw new Error('generate-stream: the stream without churn is not a prefix of the one with churn');
    initialCount++;
  });
  return { initial: Buffer.concat(all.slice(0, initialCount)), initialMessages: initialCount, initialPrefixes: summary.prefixes, churn: all.slice(initialCount) };
}

const CAPABILITIES: Capability[] = [
  { type: 'multiprotocol', afi: 1, safi: 1 },
  { type: 'four-octet-as', as: 64496 },
  { type: 'route-refresh' },
];

function applianceHeader(): PeerHeader {
  return { peerType: 0, flags: 0, address: APPLIANCE, as: 64496, bgpId: APPLIANCE, timestampSec: 1_700_000_000, timestampUsec: 0 };
}

function alertRouterHello(): Buffer {
  const header = applianceHeader();
  const sentOpen = encodeOpen({ myAs: 64496, holdTime: 90, bgpId: '192.0.2.1', capabilities: CAPABILITIES });
  const receivedOpen = encodeOpen({ myAs: 64496, holdTime: 90, bgpId: APPLIANCE, capabilities: CAPABILITIES });
  return Buffer.concat([
    encodeInitiation([tlv(2, 'rs-alerts'), tlv(1, 'bmpwatch alert latency bench')]),
    encodePeerUp(header, { localAddress: '192.0.2.1', localPort: 179, remotePort: 40000, sentOpen, receivedOpen }),
    announcement('10.128.1.0/29'), // a good route: no alert
  ]);
}

/** One Route Monitoring message: the appliance (IBGP, empty AS path, next hop itself) announces `prefix`. */
function announcement(prefix: string): Buffer {
  return encodeRouteMonitoring(
    applianceHeader(),
    encodeUpdate({
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [], fourOctet: true },
        { type: 'next-hop', address: APPLIANCE },
        { type: 'local-pref', value: 100 },
      ],
      nlri: [{ prefix }],
    }),
  );
}

/** The i-th bad prefix: a /32 in 10.200.0.0/16, outside the group's 10.128.0.0/17. */
function badPrefix(i: number): string {
  return `10.200.${(i >> 8) & 255}.${i & 255}/32`;
}

// ---------------------------------------------------------------------------------------------------------------
// Plumbing

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function connectFrom(port: number, localAddress: string): Promise<Socket> {
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

function drain(socket: Socket): Promise<void> {
  return socket.writableLength === 0 ? Promise.resolve() : new Promise((resolve) => socket.once('drain', () => resolve()));
}

async function sendAll(socket: Socket, data: Buffer): Promise<void> {
  for (let pos = 0; pos < data.length; pos += 64 * 1024) {
    if (!socket.write(data.subarray(pos, pos + 64 * 1024))) await drain(socket);
  }
}

function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { p50: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1] };
}

interface Arrival {
  readonly monotonic: number;
  readonly wall: number;
  readonly firstSeen: number;
  readonly startsAt: number;
}

/** The webhook receiver: answers 204 at once, notes when each alert's request arrived (at its headers). */
class Receiver {
  readonly arrivals = new Map<string, Arrival>();
  unexpected = 0;
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const monotonic = performance.now();
      const wall = Date.now();
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        response.writeHead(204).end();
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { notification?: string; alert?: { prefix?: string; firstSeen?: string; startsAt?: string } };
          const prefix = body.alert?.prefix;
          if (body.notification !== 'firing' || prefix == null || this.arrivals.has(prefix)) {
            this.unexpected++;
            return;
          }
          this.arrivals.set(prefix, { monotonic, wall, firstSeen: Date.parse(body.alert?.firstSeen ?? ''), startsAt: Date.parse(body.alert?.startsAt ?? '') });
        } catch {
          this.unexpected++;
        }
      });
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function configText(dir: string, bmpPort: number, apiPort: number, receiverPort: number): string {
  return `
listen:
  bmp: { host: 127.0.0.1, port: ${bmpPort} }
  api: { host: 127.0.0.1, port: ${apiPort} }
routers:
  allowedSources: [127.0.0.0/8]
log: { level: info }
storage:
  dataDir: ${JSON.stringify(join(dir, 'data'))}
applianceGroups:
  - name: firewalls
    sessionRanges: [100.65.0.0/24]
    sessionType: ibgp
    asns: [64496]
    allowPrivateAsns: false
    maxPrefixes: 100000
    prefixes:
      ipv4: [{ prefix: 10.128.0.0/17, minLength: 29, maxLength: 32 }]
rules:
  unexpectedPeer:
    allowedPeers: [100.64.0.0/16, 2001:db8:ffff::/48]
alerts:
  webhooks:
    - name: bench
      url: http://127.0.0.1:${receiverPort}/hook
      secret: whsec_${randomBytes(32).toString('base64')}
      filters: { rules: [unexpected-prefix] }
`;
}

class Collector {
  private exited = false;
  readonly exit: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly dir: string,
    readonly bmpPort: number,
    readonly apiPort: number,
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return !this.exited;
  }

  logTail(lines = 10): string {
    try {
      return readFileSync(join(this.dir, 'serve.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async routers(): Promise<{ address: string; messages: number }[]> {
    const response = await fetch(`http://127.0.0.1:${this.apiPort}/api/routers`);
    return (await response.json()) as { address: string; messages: number }[];
  }

  /** Event-loop delay since the last call (prom-client resets its histogram on every scrape), ms. */
  async loopDelay(): Promise<{ p99: number; max: number }> {
    const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${this.apiPort}/metrics`)).text());
    return { p99: (metrics.get('bmpwatch_process_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000, max: (metrics.get('bmpwatch_process_nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000 };
  }

  async messagesFrom(address: string): Promise<number> {
    return (await this.routers()).find((r) => r.address === address)?.messages ?? 0;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exit;
    clearTimeout(timer);
  }
}

async function startCollector(receiverPort: number): Promise<Collector> {
  const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-bench-alerts-'));
  const bmpPort = await freePort();
  const apiPort = await freePort();
  const configPath = join(dir, 'bmpwatch.yaml');
  writeFileSync(configPath, configText(dir, bmpPort, apiPort, receiverPort));
  const out = openSync(join(dir, 'serve.log'), 'w');
  const child = spawn(process.execPath, [MAIN_JS, 'serve', '--config', configPath], { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  const collector = new Collector(child, dir, bmpPort, apiPort);
  const deadline = performance.now() + 20_000;
  for (;;) {
    if (!collector.alive || performance.now() > deadline) {
      await collector.stop();
      throw new Error(`bmpwatch serve did not start; its log:\n${collector.logTail()}`);
    }
    try {
      await collector.routers();
      return collector;
    } catch {
      await sleep(100);
    }
  }
}

/** Writes the churn messages at `rate` per second until stopped or exhausted; socket back-pressure is respected. */
class Pacer {
  sent = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly messages: readonly Buffer[],
    private readonly rate: number,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const started = performance.now();
    while (!this.stopped && this.sent < this.messages.length) {
      const due = Math.min(this.messages.length, Math.floor(((performance.now() - started) / 1000) * this.rate));
      if (due > this.sent) {
        const batch = Buffer.concat(this.messages.slice(this.sent, due));
        this.sent = due;
        if (!this.socket.write(batch)) await drain(this.socket);
      }
      await sleep(PACE_TICK_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

// ---------------------------------------------------------------------------------------------------------------

export async function runAlertLatencyBench(options: AlertLatencyOptions): Promise<AlertLatencyResult> {
  const started = performance.now();
  const total = options.warmup + options.alerts;
  const measureSeconds = (total * options.intervalMs) / 1000;
  // Enough churn for the measurement and the wait for the last webhooks, with a margin.
  const spec: StreamSpec = { peers: options.churnPeers, prefixesPerPeer: options.churnPrefixesPerPeer, churn: Math.ceil(options.churnRate * (measureSeconds + 10)), seed: 7 };
  options.log(`alerts: generating the churn stream (${spec.peers} peers x ${spec.prefixesPerPeer} prefixes, ${spec.churn.toLocaleString('en-US')} churn messages)`);
  const stream = churnStream(spec);

  const receiver = new Receiver();
  const receiverPort = await receiver.listen();
  const collector = await startCollector(receiverPort);
  const sockets: Socket[] = [];
  let pacer: Pacer | undefined;
  const failed = (error: string): AlertLatencyResult => ({
    ok: false,
    error,
    measured: 0,
    missing: options.alerts,
    sender: percentiles([]),
    collector: percentiles([]),
    rules: percentiles([]),
    delivery: percentiles([]),
    churn: { initialMessages: stream.initialMessages, initialPrefixes: stream.initialPrefixes, initialSeconds: Number.NaN, settleSeconds: Number.NaN, targetRate: options.churnRate, ingestedRate: Number.NaN, sentMessages: 0 },
    collectorCpu: Number.NaN,
    collectorLoopDelay: { p99: Number.NaN, max: Number.NaN },
    benchLoopDelay: { p99: Number.NaN, max: Number.NaN },
    loadAverage: { before: loadavg()[0], after: loadavg()[0] },
    cpuPressure: cpuPressure(),
    seconds: (performance.now() - started) / 1000,
  });
  try {
    const alertRouter = await connectFrom(collector.bmpPort, ALERT_ROUTER);
    sockets.push(alertRouter);
    alertRouter.write(alertRouterHello());

    // The churn router's initial tables, flat out, ingested before measuring.
    const churnRouter = await connectFrom(collector.bmpPort, CHURN_ROUTER);
    sockets.push(churnRouter);
    options.log(`alerts: churn router sends its initial tables (${stream.initialMessages.toLocaleString('en-US')} messages, ${stream.initialPrefixes.toLocaleString('en-US')} prefixes)`);
    const initialStarted = performance.now();
    await sendAll(churnRouter, stream.initial);
    const deadline = performance.now() + options.timeoutMs;
    while ((await collector.messagesFrom(CHURN_ROUTER)) < stream.initialMessages) {
      if (performance.now() > deadline || !collector.alive) return failed(`the initial tables were not ingested in time\n${collector.logTail()}`);
      await sleep(50);
    }
    const initialSeconds = (performance.now() - initialStarted) / 1000;
    // The dump's aftermath (history batches, SQLite checkpoints) settles before measuring the steady state.
    const settleStarted = performance.now();
    await collector.loopDelay();
    for (let quiet = 0; quiet < 2 && performance.now() - settleStarted < SETTLE_MAX_MS; ) {
      await sleep(500);
      quiet = (await collector.loopDelay()).max < SETTLE_LOOP_DELAY_MS ? quiet + 1 : 0;
    }
    const settleSeconds = (performance.now() - settleStarted) / 1000;

    // Measurement: churn paced in the background, one alert every intervalMs.
    options.log(`alerts: ${total} alerts (${options.warmup} warm-up) every ${options.intervalMs} ms with ${options.churnRate.toLocaleString('en-US')} churn messages/s in the background`);
    const loadBefore = loadavg()[0];
    await collector.loopDelay(); // resets the collector's histogram
    const churnBefore = await collector.messagesFrom(CHURN_ROUTER);
    const cpuBefore = readCpuTimes(collector.child.pid ?? -1)?.cpuSeconds ?? Number.NaN;
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const measureStarted = performance.now();
    pacer = new Pacer(churnRouter, stream.churn, options.churnRate);
    const sentAt: number[] = [];
    for (let i = 0; i < total; i++) {
      const next = measureStarted + i * options.intervalMs;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      const message = announcement(badPrefix(i));
      sentAt.push(performance.now());
      alertRouter.write(message);
    }
    const sendSeconds = (performance.now() - measureStarted) / 1000;
    const churnAfterSend = await collector.messagesFrom(CHURN_ROUTER);
    const collectorLoopDelay = await collector.loopDelay();
    const cpuAfter = readCpuTimes(collector.child.pid ?? -1)?.cpuSeconds ?? Number.NaN;
    const waitUntil = performance.now() + 10_000;
    while (receiver.arrivals.size < total && performance.now() < waitUntil) await sleep(20);
    await pacer.stop();
    loopDelay.disable();
    const loadAfter = loadavg()[0];
    const pressure = cpuPressure();

    const sender: number[] = [];
    const fromCollector: number[] = [];
    const rules: number[] = [];
    const delivery: number[] = [];
    let missing = 0;
    for (let i = options.warmup; i < total; i++) {
      const arrival = receiver.arrivals.get(badPrefix(i));
      if (arrival === undefined) {
        missing++;
        continue;
      }
      sender.push(arrival.monotonic - sentAt[i]);
      fromCollector.push(arrival.wall - arrival.firstSeen);
      rules.push(arrival.startsAt - arrival.firstSeen);
      delivery.push(arrival.wall - arrival.startsAt);
    }
    return {
      ok: missing === 0 && receiver.unexpected === 0,
      ...(missing > 0 || receiver.unexpected > 0 ? { error: `${missing} alerts did not arrive, ${receiver.unexpected} unexpected requests` } : {}),
      measured: sender.length,
      missing,
      sender: percentiles(sender),
      collector: percentiles(fromCollector),
      rules: percentiles(rules),
      delivery: percentiles(delivery),
      churn: {
        initialMessages: stream.initialMessages,
        initialPrefixes: stream.initialPrefixes,
        initialSeconds,
        settleSeconds,
        targetRate: options.churnRate,
        ingestedRate: (churnAfterSend - churnBefore) / sendSeconds,
        sentMessages: pacer.sent,
      },
      collectorCpu: (cpuAfter - cpuBefore) / sendSeconds,
      collectorLoopDelay,
      benchLoopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      loadAverage: { before: loadBefore, after: loadAfter },
      cpuPressure: pressure,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    return failed(`${error instanceof Error ? error.message : String(error)}\n${collector.logTail()}`);
  } finally {
    await pacer?.stop();
    for (const socket of sockets) socket.destroy();
    await collector.stop();
    await receiver.close();
    rmSync(collector.dir, { recursive: true, force: true });
  }
}
