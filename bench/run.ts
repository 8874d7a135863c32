/**
 * `npm run bench`: prints the numbers behind BENCHMARKS.md. Targets are checked and reported here, never in tests.
 *
 * Sections (all by default; --only decode,rib,service,concurrent,history,alerts,soak to pick):
 *   decode      decoder throughput, in process (bench/decode-bench.ts)
 *   rib         Peer Down of a 100k-route peer and heap per route, in process (bench/rib-bench.ts, child with --expose-gc)
 *   service     bmpwatch serve vs pmbmpd over loopback TCP, one ~1M-route stream each (bench/service-bench.ts)
 *   concurrent  the same, 100 router connections at once
 *   history     `bmpwatch history` latency with ~1M events stored, SQLite and InfluxDB; write rates (bench/history-bench.ts)
 *   alerts      alert latency, BMP message written → webhook request at a receiver, p50/p99, with background churn
 *               on a second BMP connection (bench/alert-latency-bench.ts)
 *   soak        100 route-server connections holding ~1M routes, rolling reconnects, then 1,000 connect/disconnect
 *               cycles; memory after GC sampled throughout: flat after warm-up, no growth per cycle (bench/soak.ts)
 * Options: --quick (small sizes, a minute or so), --no-pmbmpd, --profile (an extra bmpwatch run under --cpu-prof,
 * top 10 self-time functions), --peers/--prefixes-per-peer/--churn/--runs (the decoder's stream), --service-*,
 * --connections, --conn-*, --alerts-* and --timeout (see --help).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { buildStream, runDecodeBench } from './decode-bench.js';
import { runAlertLatencyBench } from './alert-latency-bench.js';
import { runHistoryBench } from './history-bench.js';
import { ensurePmbmpd } from './pmbmpd.js';
import type { RibBenchReport } from './rib-bench.js';
import { buildBenchStream, runBmpwatch, runPmbmpd, type BenchStream, type BmpwatchServiceResult, type IngestResult, type ServiceRunOptions, type StreamSpec } from './service-bench.js';
import { runSoak, SOAK_DEFAULTS, SOAK_QUICK } from './soak.js';

const SECTIONS = ['decode', 'rib', 'service', 'concurrent', 'history', 'alerts', 'soak'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  quick?: boolean;
  only?: string;
  pmbmpd: boolean;
  profile?: boolean;
  peers?: number;
  prefixesPerPeer?: number;
  churn?: number;
  runs?: number;
  servicePeers?: number;
  servicePrefixesPerPeer?: number;
  serviceChurn?: number;
  connections?: number;
  connPeers?: number;
  connPrefixesPerPeer?: number;
  connChurn?: number;
  peerDownRoutes?: number;
  historyEvents?: number;
  influx: boolean;
  alertsCount?: number;
  alertsIntervalMs?: number;
  alertsChurnRate?: number;
  timeout?: number;
}

const program = new Command('bench')
  .option('--quick', 'small sizes for a fast run (targets are still checked, at that scale)')
  .option('--only <sections>', `comma-separated subset of: ${SECTIONS.join(', ')}`)
  .option('--no-pmbmpd', 'skip the pmbmpd reference runs')
  .option('--profile', 'extra bmpwatch run under node --cpu-prof; prints the top 10 self-time functions')
  .option('--peers <n>', 'decoder bench: peers in the generated stream (default 50)', Number)
  .option('--prefixes-per-peer <n>', 'decoder bench: initial-table prefixes per peer (default 10000)', Number)
  .option('--churn <n>', 'decoder bench: single-prefix updates after the initial tables (default 200000)', Number)
  .option('--runs <n>', 'decoder bench: repetitions, the best is reported (default 7)', Number)
  .option('--service-peers <n>', 'service bench: peers (default 100: 100 x 5000 x pre+post = ~1M routes)', Number)
  .option('--service-prefixes-per-peer <n>', 'service bench: prefixes per peer (default 5000)', Number)
  .option('--service-churn <n>', 'service bench: churn updates (default 100000)', Number)
  .option('--connections <n>', 'concurrent bench: router connections (default 100)', Number)
  .option('--conn-peers <n>', 'concurrent bench: peers per connection (default 10)', Number)
  .option('--conn-prefixes-per-peer <n>', 'concurrent bench: prefixes per peer (default 500)', Number)
  .option('--conn-churn <n>', 'concurrent bench: churn updates per connection (default 2000)', Number)
  .option('--peer-down-routes <n>', 'rib bench: routes of the peer that goes down (default 100000)', Number)
  .option('--history-events <n>', 'history bench: events stored (default 1000000)', Number)
  .option('--no-influx', 'history bench: skip InfluxDB (SQLite only)')
  .option('--alerts-count <n>', 'alerts bench: alerts measured (default 500; --quick 150)', Number)
  .option('--alerts-interval-ms <n>', 'alerts bench: milliseconds between two alerts (default 40)', Number)
  .option('--alerts-churn-rate <n>', 'alerts bench: background churn, BMP messages per second (default 2000)', Number)
  .option('--timeout <seconds>', 'per collector run (default 180)', Number)
  .parse();
const options = program.opts<Options>();
const quick = options.quick === true;

const sections = new Set<Section>(
  options.only === undefined
    ? SECTIONS
    : options.only.split(',').map((s) => {
        const name = s.trim();
        if (!(SECTIONS as readonly string[]).includes(name)) program.error(`unknown section "${name}"; one of ${SECTIONS.join(', ')}`);
        return name as Section;
      }),
);

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a');
const mb = (bytes: number): string => `${fmt(bytes / 1e6)} MB`;
const verdict = (met: boolean): string => (met ? 'MET' : 'MISSED');
const log = (line: string): void => {
  process.stderr.write(`  .. ${line}\n`);
};

interface TargetLine {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly met: boolean | undefined; // undefined: not measured
}
const targets: TargetLine[] = [];

// ---------------------------------------------------------------------------------------------------------------
// decode (in process)

function decodeSection(): void {
  const spec = {
    peers: options.peers ?? (quick ? 10 : 50),
    prefixesPerPeer: options.prefixesPerPeer ?? (quick ? 2000 : 10_000),
    churn: options.churn ?? (quick ? 20_000 : 200_000),
    seed: 1,
  };
  const stream = buildStream(spec);
  // Seven runs: framing only is short (tens of ms), so its best of three moved the ratio by 20 points.
  const decode = runDecodeBench(stream, options.runs ?? (quick ? 1 : 7));
  console.log(`\n# decoder (node ${process.version}, stream ${fmt(decode.streamBytes / 1e6)} MB, ${fmt(decode.messages, 0)} messages, ${fmt(decode.prefixes, 0)} prefixes)`);
  const line = (label: string, r: typeof decode.framing, extra = ''): void =>
    console.log(`${label}: ${fmt(r.MBps)} MB/s  ${fmt(r.messagesPerSec, 0)} msg/s${extra}`);
  line('framing only          ', decode.framing, '  (the ceiling: every message handed over)');
  line('header walk (runs)    ', decode.headerWalk, `  (headers checked, runs handed over, no message; full decode is ${fmt(decode.headerWalkRatio * 100)}% of it)`);
  line('walk floor            ', decode.walkFloor, `  (${fmt(decode.floorRatio * 100)}% of framing: stepping over every attribute and prefix, no checks, no output)`);
  line('full decode           ', decode.scan, `  ${fmt((decode.prefixes / decode.scan.seconds) | 0, 0)} prefixes/s  (${fmt(decode.fastShare * 100)}% of messages in the WebAssembly fast path; ${decode.decodeErrors} decode errors)`);
  line('full decode, TS only  ', decode.scanTypeScript, `  (${fmt(decode.typeScriptRatio * 100)}% of framing: BmpSessionDecoder.scan per frame, no fast path)`);
  line('decode to values      ', decode.values, `  ${fmt((decode.prefixes / decode.values.seconds) | 0, 0)} prefixes/s  (${fmt(decode.valuesRatio * 100)}% of framing)`);
  console.log(`decode/framing: ${fmt(decode.ratio * 100)}% of the framing-only rate (target >= 50%): ${verdict(decode.ratio >= 0.5)}`);
  targets.push({ name: 'decoder: full decode vs framing only', value: `${fmt(decode.ratio * 100)}%`, target: '>= 50%', met: decode.ratio >= 0.5 });
}

// ---------------------------------------------------------------------------------------------------------------
// rib (child process with --expose-gc)

function isRibBenchReport(value: unknown): value is RibBenchReport {
  return typeof value === 'object' && value !== null && 'peerDown' in value && 'peerDownPrePost' in value && 'memory' in value;
}

function runRibChild(args: readonly string[], timeoutMs: number): Promise<RibBenchReport> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'rib-bench.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`rib-bench exited with ${code}`));
        return;
      }
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(out).toString('utf8'));
        if (isRibBenchReport(parsed)) resolve(parsed);
        else reject(new Error('rib-bench printed an unexpected report'));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

async function ribSection(spec: StreamSpec): Promise<RibBenchReport | undefined> {
  const peerDownRoutes = options.peerDownRoutes ?? 100_000;
  const args = [
    '--peer-down-prefixes', String(peerDownRoutes),
    '--runs', String(quick ? 3 : 5),
    '--peers', String(spec.peers),
    '--prefixes-per-peer', String(spec.prefixesPerPeer),
    '--churn', String(spec.churn),
  ];
  let report: RibBenchReport;
  try {
    report = await runRibChild(args, 300_000);
  } catch (error) {
    console.log(`\n# RIB (in process): FAILED: ${error instanceof Error ? error.message : String(error)}`);
    targets.push({ name: `Peer Down of ${fmt(peerDownRoutes, 0)} routes`, value: 'failed', target: '< 100 ms', met: false });
    return undefined;
  }
  const { peerDown, peerDownPrePost, memory } = report;
  console.log(`\n# RIB, in process (node ${report.node}${report.gcExposed ? ', --expose-gc' : ''})`);
  console.log(
    `Peer Down, one peer with ${fmt(peerDown.routes, 0)} routes (adj-rib-in-pre): best ${fmt(peerDown.bestMs)} ms, median ${fmt(peerDown.medianMs)} ms of ${peerDown.runsMs.length} ` +
      `(${fmt(peerDown.withdrawEvents, 0)} withdrawal events) (target < 100 ms): ${verdict(peerDown.bestMs < 100)}`,
  );
  console.log(`Peer Down, same prefixes pre+post policy, ${fmt(peerDownPrePost.routes, 0)} routes: best ${fmt(peerDownPrePost.bestMs)} ms, median ${fmt(peerDownPrePost.medianMs)} ms (information)`);
  console.log(
    `ingest, framing + decode + RIB (no TCP): ${fmt(memory.prefixesPerSec, 0)} prefixes/s (${fmt(memory.prefixes, 0)} prefixes in ${fmt(memory.ingestSeconds, 2)} s); ` +
      `${fmt(memory.routes, 0)} routes held, ${fmt(memory.attributeSets, 0)} attribute sets`,
  );
  console.log(
    `heap per stored route (RIB + attribute store, after GC): ${memory.heapBytesPerRoute === undefined ? 'n/a (no --expose-gc)' : `${fmt(memory.heapBytesPerRoute)} bytes`} (target <= 150)` +
      (memory.heapBytesPerRoute === undefined ? '' : `: ${verdict(memory.heapBytesPerRoute <= 150)}`),
  );
  targets.push({ name: `Peer Down of ${fmt(peerDown.routes, 0)} routes (in process, best of ${peerDown.runsMs.length})`, value: `${fmt(peerDown.bestMs)} ms`, target: '< 100 ms', met: peerDown.bestMs < 100 });
  return report;
}

// ---------------------------------------------------------------------------------------------------------------
// service and concurrent (child processes over loopback TCP)

function printIngest(r: IngestResult): void {
  if (!r.ok && !Number.isFinite(r.wallSeconds)) {
    console.log(`${r.collector.padEnd(22)} FAILED: ${r.error ?? r.correctness}`);
    return;
  }
  console.log(
    `${r.collector.padEnd(22)} ${fmt(r.wallSeconds, 2).padStart(7)} s  ${fmt(r.prefixesPerSec, 0).padStart(9)} prefixes/s  ` +
      `CPU ${fmt(r.cpuSeconds, 2).padStart(6)} s (${fmt(r.prefixes / r.cpuSeconds, 0)} prefixes/CPU-s)  peak RSS ${mb(r.peakRssBytes).padStart(9)}  ` +
      `${r.ok ? 'complete' : `INCOMPLETE${r.error ? `: ${r.error}` : ''}`}`,
  );
  console.log(`${''.padEnd(22)} ${r.correctness}`);
}

function header(title: string, streams: readonly BenchStream[], generatedSeconds: number): void {
  const messages = streams.reduce((n, s) => n + s.messages, 0);
  const prefixes = streams.reduce((n, s) => n + s.prefixes, 0);
  const bytes = streams.reduce((n, s) => n + s.data.length, 0);
  const s = streams[0].spec;
  console.log(`\n# ${title}`);
  console.log(
    `stream${streams.length > 1 ? ` x ${streams.length} (seeds ${s.seed}..${s.seed + streams.length - 1})` : ''}: ${s.peers} peers x ${fmt(s.prefixesPerPeer, 0)} prefixes, churn ${fmt(s.churn, 0)}, ` +
      `no Termination; ${fmt(messages, 0)} messages, ${fmt(prefixes, 0)} prefixes, ${mb(bytes)} (generated in ${fmt(generatedSeconds, 1)} s)`,
  );
}

function generate(specs: readonly StreamSpec[]): { streams: BenchStream[]; seconds: number } {
  const started = performance.now();
  const streams = specs.map((spec) => buildBenchStream(spec));
  return { streams, seconds: (performance.now() - started) / 1000 };
}

interface ServiceOutcome {
  readonly bmpwatch: BmpwatchServiceResult;
  readonly pmbmpd: IngestResult[];
}

async function serviceRuns(streams: readonly BenchStream[], pmbmpdPath: string | undefined, runOptions: ServiceRunOptions, measureMemory: boolean): Promise<ServiceOutcome> {
  log('bmpwatch serve');
  const bmpwatch = await runBmpwatch(streams, { ...runOptions, measureMemory });
  printIngest(bmpwatch.ingest);
  const pmbmpd: IngestResult[] = [];
  if (pmbmpdPath !== undefined) {
    for (const msglog of [true, false]) {
      log(`pmbmpd ${msglog ? 'with msglog file' : 'without output'}`);
      const result = await runPmbmpd(streams, { ...runOptions, path: pmbmpdPath, msglog });
      printIngest(result);
      pmbmpd.push(result);
    }
  }
  return { bmpwatch, pmbmpd };
}

function compareRates(label: string, bmpwatch: IngestResult, pmbmpd: readonly IngestResult[]): void {
  const [withLog, noOutput] = pmbmpd;
  if (withLog === undefined) {
    targets.push({ name: `${label}: ingest rate vs pmbmpd`, value: `${fmt(bmpwatch.prefixesPerSec, 0)} prefixes/s`, target: '>= pmbmpd (aim 2x)', met: undefined });
    return;
  }
  const ratio = bmpwatch.prefixesPerSec / withLog.prefixesPerSec;
  const both = bmpwatch.ok && withLog.ok;
  if (!both) {
    const who = [bmpwatch, withLog].filter((r) => !r.ok).map((r) => r.collector).join(' and ');
    console.log(`bmpwatch / pmbmpd: not comparable, ${who} did not ingest everything`);
    targets.push({ name: `${label}: ingest rate vs pmbmpd with msglog file`, value: `not comparable (${who} incomplete)`, target: '>= 1x (aim 2x)', met: false });
    return;
  }
  console.log(`bmpwatch / pmbmpd (msglog file): ${fmt(ratio, 2)}x the ingest rate (target >= 1x, aim 2x): ${verdict(ratio >= 1)}${ratio >= 1 ? `, aim ${verdict(ratio >= 2)}` : ''}`);
  targets.push({
    name: `${label}: ingest rate vs pmbmpd with msglog file`,
    value: `${fmt(ratio, 2)}x (${fmt(bmpwatch.prefixesPerSec, 0)} vs ${fmt(withLog.prefixesPerSec, 0)} prefixes/s)${ratio >= 1 ? `; aim 2x ${verdict(ratio >= 2)}` : ''}`,
    target: '>= 1x (aim 2x)',
    met: ratio >= 1,
  });
  if (noOutput !== undefined && noOutput.ok) {
    const strict = bmpwatch.prefixesPerSec / noOutput.prefixesPerSec;
    console.log(`bmpwatch / pmbmpd (no output)  : ${fmt(strict, 2)}x (stricter reference: pmbmpd doing no output work; information)`);
    targets.push({ name: `${label}: ingest rate vs pmbmpd without output (stricter, information)`, value: `${fmt(strict, 2)}x (${fmt(bmpwatch.prefixesPerSec, 0)} vs ${fmt(noOutput.prefixesPerSec, 0)} prefixes/s)`, target: '>= 1x', met: strict >= 1 });
  }
}

async function serviceSection(spec: StreamSpec, pmbmpdPath: string | undefined, runOptions: ServiceRunOptions, rib: RibBenchReport | undefined): Promise<void> {
  const { streams, seconds } = generate([spec]);
  header('service over loopback TCP: one route server, ~1M routes (collectors run one after the other)', streams, seconds);
  const { bmpwatch, pmbmpd } = await serviceRuns(streams, pmbmpdPath, runOptions, true);
  compareRates('one connection', bmpwatch.ingest, pmbmpd);

  const m = bmpwatch.memory;
  if (m === undefined) {
    targets.push({ name: 'bytes per stored route (service)', value: 'not measured', target: '<= 150', met: false });
    return;
  }
  const routesNote = rib && rib.memory.routes === m.routes ? ' (= in-process RouterRib on the same stream)' : rib ? ` (in-process RouterRib on the same stream: ${fmt(rib.memory.routes, 0)})` : '';
  console.log(`bmpwatch memory, session kept open: ${fmt(m.routes, 0)} routes${routesNote}, gauge bmpwatch_routes ${fmt(m.routesGauge, 0)}, ${fmt(m.attributeSets, 0)} attribute sets`);
  console.log(
    `  heap used after GC: ${mb(m.before.heapUsedBytes)} before connecting, ${mb(m.withRoutes.heapUsedBytes)} with the routes, ${mb(m.afterClose.heapUsedBytes)} after close (flush took ${fmt(m.closeFlushSeconds, 2)} s)`,
  );
  console.log(`  external memory   : ${mb(m.before.externalBytes)} before, ${mb(m.withRoutes.externalBytes)} with the routes`);
  console.log(`  RSS               : ${mb(m.before.rssBytes)} before, ${mb(m.withRoutes.rssBytes)} with the routes (after GC), ${mb(m.afterClose.rssBytes)} after close`);
  console.log(`  bytes per stored route: heap ${fmt(m.heapBytesPerRoute)}, heap + external ${fmt(m.heapPlusExternalBytesPerRoute)}, RSS ${fmt(m.rssBytesPerRoute)} (target <= 150, on heap + external): ${verdict(m.heapPlusExternalBytesPerRoute <= 150)}`);
  const withLog = pmbmpd[0];
  if (withLog !== undefined && Number.isFinite(withLog.rssEndBytes)) {
    console.log(
      `  pmbmpd for comparison: RSS ${mb(withLog.rssBeforeBytes)} before, ${mb(withLog.rssEndBytes)} after ingest = ${fmt((withLog.rssEndBytes - withLog.rssBeforeBytes) / m.routes)} bytes per route ` +
        `(over bmpwatch's route count; pmbmpd keeps its own RIB layout and preallocates per bmp_daemon_max_peers, here ${withLog.connections + 10}), peak ${mb(withLog.peakRssBytes)}`,
    );
  }
  targets.push({ name: `bytes per stored route at ${fmt(m.routes, 0)} routes (service, heap + external after GC)`, value: fmt(m.heapPlusExternalBytesPerRoute), target: '<= 150', met: m.heapPlusExternalBytesPerRoute <= 150 });
}

async function concurrentSection(count: number, spec: StreamSpec, pmbmpdPath: string | undefined, runOptions: ServiceRunOptions): Promise<void> {
  const specs = Array.from({ length: count }, (_, i) => ({ ...spec, seed: spec.seed + i }));
  const { streams, seconds } = generate(specs);
  header(`${count} concurrent router connections over loopback TCP (127.0.0.10 upwards), all started at once`, streams, seconds);
  const { bmpwatch, pmbmpd } = await serviceRuns(streams, pmbmpdPath, runOptions, false);
  if (pmbmpd.some((r) => !/; 0 reconnects$/.test(r.correctness))) {
    console.log(
      'note: pmbmpd listens with a backlog of 1 (`ss -ltn`: Send-Q 1), so the kernel resets the connections of a burst it cannot queue; ' +
        'the bench reconnects like a router would (backoff from 1 s), and pmbmpd\'s wall time includes those waits (compare CPU seconds too).',
    );
  }
  compareRates(`${count} connections`, bmpwatch.ingest, pmbmpd);
  const r = bmpwatch.ingest;
  targets.push({
    name: `${count} concurrent connections, every message of every connection counted`,
    value: `${r.completeConnections}/${count} in ${fmt(r.wallSeconds, 2)} s`,
    target: `${count}/${count}`,
    met: r.ok && r.completeConnections === count,
  });
}

async function profileSection(spec: StreamSpec, runOptions: ServiceRunOptions): Promise<void> {
  const { streams } = generate([spec]);
  log('bmpwatch serve under --cpu-prof');
  const result = await runBmpwatch(streams, { ...runOptions, measureMemory: false, cpuProfile: true });
  console.log(`\n# bmpwatch CPU profile (node --cpu-prof, one ${fmt(streams[0].prefixes, 0)}-prefix stream; profiling slows it: ${fmt(result.ingest.prefixesPerSec, 0)} prefixes/s)`);
  if (result.profile === undefined) {
    console.log('no profile written');
    return;
  }
  console.log('top 10 functions by self time (% of non-idle samples):');
  for (const e of result.profile) console.log(`  ${fmt(e.selfPercent).padStart(5)}%  ${fmt(e.selfMs, 0).padStart(7)} ms  ${e.function}  ${e.location}`);
  console.log(`profile: ${result.profileFile ?? ''}`);
}

async function historySection(events: number): Promise<void> {
  console.log(`\n# history: ${fmt(events, 0)} events of 1,000 appliances over 24 h; \`bmpwatch history <address>\` for the last 24 h, 50 appliances`);
  const results = await runHistoryBench({ events, appliances: 1_000, queries: 50, influx: options.influx });
  for (const r of results) {
    console.log(
      `${r.backend.padEnd(9)} stored ${fmt(r.stored, 0)}; write ${fmt(r.writeEventsPerSecond, 0)} events/s; history p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms, max ${fmt(r.latencyMs.max)} ms (${fmt(r.eventsPerAnswer, 0)} events per answer)`,
    );
    if (r.backend === 'sqlite') targets.push({ name: `history latency, embedded store, ${fmt(r.stored, 0)} events`, value: `p99 ${fmt(r.latencyMs.p99)} ms`, target: '< 200 ms', met: r.latencyMs.p99 < 200 });
    if (r.backend === 'influxdb') targets.push({ name: 'points/s written to InfluxDB (history events)', value: fmt(r.writeEventsPerSecond, 0), target: 'reported', met: undefined });
  }
}

async function alertsSection(): Promise<void> {
  const churnPeers = quick ? 10 : 20;
  const churnPrefixesPerPeer = quick ? 2000 : 5000;
  const r = await runAlertLatencyBench({
    alerts: options.alertsCount ?? (quick ? 150 : 500),
    warmup: 20,
    intervalMs: options.alertsIntervalMs ?? 40,
    churnRate: options.alertsChurnRate ?? 2000,
    churnPeers,
    churnPrefixesPerPeer,
    timeoutMs: (options.timeout ?? 180) * 1000,
    log,
  });
  const c = r.churn;
  console.log(`\n# alerts: latency from the BMP message to the webhook request (bmpwatch serve, embedded store, one signed webhook target)`);
  console.log(
    `background churn on a second connection: ${churnPeers} peers x ${fmt(churnPrefixesPerPeer, 0)} prefixes (${fmt(c.initialPrefixes, 0)} prefixes in ${fmt(c.initialSeconds, 1)} s, settled ${fmt(c.settleSeconds, 1)} s), ` +
      `then ${fmt(c.targetRate, 0)} messages/s (collector counted ${fmt(c.ingestedRate, 0)}/s)`,
  );
  if (!r.ok && r.measured === 0) {
    console.log(`FAILED: ${r.error ?? 'unknown error'}`);
    targets.push({ name: 'alert latency p99, BMP write → webhook request', value: 'failed', target: '< 50 ms', met: false });
    return;
  }
  const line = (label: string, p: { p50: number; p99: number; max: number }): void => console.log(`${label.padEnd(44)} p50 ${fmt(p.p50).padStart(6)} ms  p99 ${fmt(p.p99).padStart(7)} ms  max ${fmt(p.max).padStart(7)} ms`);
  console.log(`${fmt(r.measured, 0)} alerts measured (${r.missing} missing)${r.error ? `: ${r.error}` : ''}`);
  line('sender write → webhook request', r.sender);
  line('collector receive (firstSeen) → request', r.collector);
  line('  of which receive → alert fired (rules)', r.rules);
  line('  of which fired → request (delivery)', r.delivery);
  console.log(
    `collector CPU ${fmt(r.collectorCpu, 2)} cores; event-loop delay p99 ${fmt(r.collectorLoopDelay.p99)} ms, max ${fmt(r.collectorLoopDelay.max)} ms (bench process: p99 ${fmt(r.benchLoopDelay.p99)} ms, max ${fmt(r.benchLoopDelay.max)} ms); ` +
      `load average ${fmt(r.loadAverage.before, 2)} → ${fmt(r.loadAverage.after, 2)}, CPU pressure ${fmt(r.cpuPressure)}%`,
  );
  console.log(`alert latency p99 (sender write → webhook request) (target < 50 ms): ${verdict(r.ok && r.sender.p99 < 50)}`);
  targets.push({
    name: `alert latency p99, BMP write → webhook request, ${fmt(c.targetRate, 0)} churn messages/s in the background`,
    value: `p50 ${fmt(r.sender.p50)} ms, p99 ${fmt(r.sender.p99)} ms (load average ${fmt(r.loadAverage.after, 2)})`,
    target: '< 50 ms',
    met: r.ok && r.sender.p99 < 50,
  });
}

async function soakSection(): Promise<void> {
  const spec = quick ? SOAK_QUICK : SOAK_DEFAULTS;
  const r = await runSoak({ ...spec, timeoutMs: (options.timeout ?? 180) * 1000, log });
  console.log(
    `\n# soak: ${r.connections} route-server connections (${spec.stream.peers} peers x ${fmt(spec.stream.prefixesPerPeer, 0)} prefixes each, pre- and post-policy), ` +
      `${spec.rounds} rounds of reconnecting 10% of them (${spec.warmupRounds} warm-up), ${fmt(spec.cycles, 0)} connect/disconnect cycles; memory after a full GC`,
  );
  if (r.error) console.log(`FAILED: ${r.error}`);
  console.log(`${fmt(r.routesHeld, 0)} routes held (${fmt(r.messages, 0)} messages ingested in ${fmt(r.loadSeconds, 1)} s); peak RSS ${mb(r.peakRssBytes)}; soak time ${fmt(r.totalSeconds, 0)} s`);
  for (const s of r.samples) {
    console.log(`  ${s.label.padEnd(30)} heap+external ${mb(s.heapBytes).padStart(9)}  RSS ${mb(s.rssBytes).padStart(9)}  routes ${fmt(s.routes, 0).padStart(9)}  series ${String(s.series).padStart(4)}  at ${fmt(s.atSeconds, 0)} s`);
  }
  const f = r.flat;
  console.log(`memory after warm-up: ${mb(f.growthBytes)} growth first → last sample (spread ${mb(f.spreadBytes)}; allowed ${mb(f.allowedBytes)}): ${verdict(f.met)}`);
  const c = r.cycles;
  console.log(`${fmt(c.count, 0)} connect/disconnect cycles in ${fmt(c.seconds, 1)} s: ${fmt(c.growthBytesPerCycle, 0)} bytes of heap per cycle after warm-up (target < 2,000), Prometheus series ${c.seriesBefore} → ${c.seriesAfter}: ${verdict(c.met)}`);
  targets.push({ name: `soak: memory flat after warm-up, ${fmt(r.routesHeld, 0)} routes on ${r.connections} connections`, value: `${mb(f.growthBytes)} growth`, target: `< ${mb(f.allowedBytes)}`, met: r.ok && f.met });
  targets.push({ name: `soak: no growth across ${fmt(c.count, 0)} connect/disconnect cycles`, value: `${fmt(c.growthBytesPerCycle, 0)} B/cycle, series ${c.seriesBefore} → ${c.seriesAfter}`, target: '< 2,000 B/cycle, series flat', met: r.ok && c.met });
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const serviceSpec: StreamSpec = {
    peers: options.servicePeers ?? (quick ? 20 : 100),
    prefixesPerPeer: options.servicePrefixesPerPeer ?? (quick ? 2000 : 5000),
    churn: options.serviceChurn ?? (quick ? 10_000 : 100_000),
    seed: 1,
  };
  const connections = options.connections ?? (quick ? 20 : 100);
  const connSpec: StreamSpec = {
    peers: options.connPeers ?? (quick ? 5 : 10),
    prefixesPerPeer: options.connPrefixesPerPeer ?? (quick ? 200 : 500),
    churn: options.connChurn ?? (quick ? 500 : 2000),
    seed: 1000,
  };
  const runOptions: ServiceRunOptions = { timeoutMs: (options.timeout ?? 180) * 1000, log };
  const started = performance.now();
  console.log(`bmpwatch benchmarks${quick ? ' (--quick: small sizes)' : ''}; node ${process.version}, ${process.platform}/${process.arch}`);

  if (sections.has('decode')) decodeSection();
  const rib = sections.has('rib') ? await ribSection(serviceSpec) : undefined;

  let pmbmpdPath: string | undefined;
  if ((sections.has('service') || sections.has('concurrent')) && options.pmbmpd) {
    const available = ensurePmbmpd(log);
    if (available.ok) {
      pmbmpdPath = available.path;
      console.log(`\nreference: ${available.version} (${available.path}); measured with its JSON msglog written to a file, as a user runs it, and without output`);
    } else {
      console.log(`\nreference: pmbmpd unavailable: ${available.reason}`);
    }
  }
  if (sections.has('service')) await serviceSection(serviceSpec, pmbmpdPath, runOptions, rib);
  if (sections.has('concurrent')) await concurrentSection(connections, connSpec, pmbmpdPath, runOptions);
  if (options.profile) await profileSection(serviceSpec, runOptions);
  if (sections.has('history')) await historySection(options.historyEvents ?? (quick ? 100_000 : 1_000_000));
  if (sections.has('alerts')) await alertsSection();
  if (sections.has('soak')) await soakSection();

  console.log(`\n# targets${quick ? ' (--quick: at the small scale)' : ''}`);
  for (const t of targets) {
    console.log(`${(t.met === undefined ? 'N/A' : verdict(t.met)).padEnd(7)} ${t.name}: ${t.value} (target ${t.target})`);
  }
  console.log(`\nbench time: ${fmt((performance.now() - started) / 1000, 0)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
