/**
 * InfluxWriter throughput against a real influxd 1.6.7 on loopback (bench/influxd.ts starts a throw-away one).
 *
 * Points look like the history store's event points: measurement `bench_event`, tags router/peer/table/afi/type
 * (a few hundred series), fields prefix, as_path and next_hop (strings), seq (integer), local_pref (float), and
 * unique nanosecond timestamps. They are offered in chunks of `chunk` points as fast as the writer drains them:
 * the producer waits while two batches are buffered (one in flight, one filling), so nothing is dropped and the
 * figure is what InfluxDB + the writer sustain. Reported:
 *   pointsPerSecond         points acknowledged by InfluxDB per wall second, first write() to last acknowledgement
 *   enqueuePointsPerSecond  what write() alone accepts (serialisation to line protocol), in process, warmed up
 *   benchCpuSeconds / influxdCpuSeconds   CPU used during the timed run by this process (producing the points,
 *                           the writer, HTTP) and by influxd: which side is the bottleneck
 * The row count is checked with a query afterwards.
 *
 *   import { runInfluxBench } from './influx-bench.js';
 *   const r = await runInfluxBench({ points: 200_000 });   // r.pointsPerSecond
 * or, after `npm run build`: node dist/bench/influx-bench.js [points] [batchSize]
 */
import { pathToFileURL } from 'node:url';
import { createLogger } from '../src/observability/logger.js';
import { InfluxWriter, type InfluxPoint, type InfluxTransport } from '../src/store/influx/writer.js';
import { readCpuTimes } from './child-stats.js';
import { startStandaloneInfluxd } from './influxd.js';

export interface InfluxBenchOptions {
  /** Points to write. Default 200000. */
  readonly points?: number;
  /** Writer batch size. Default the writer's (5000). */
  readonly batchSize?: number;
  /** Points per write() call. Default 500. */
  readonly chunk?: number;
  /** Writer buffer bound. Default 100000. */
  readonly maxBufferedPoints?: number;
  /** Give up after this long. Default 300000 ms. */
  readonly timeoutMs?: number;
}

export interface InfluxBenchResult {
  readonly points: number;
  readonly batchSize: number;
  readonly seconds: number;
  readonly pointsPerSecond: number;
  readonly enqueuePointsPerSecond: number;
  readonly batches: number;
  readonly retries: number;
  readonly dropped: number;
  readonly rejected: number;
  readonly benchCpuSeconds: number;
  readonly influxdCpuSeconds: number;
  /** count(seq) in InfluxDB afterwards; equals points when nothing was lost. */
  readonly rowsInInflux: number;
  readonly influxdVersion: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function makeBenchPoints(from: number, count: number, baseNs: bigint): InfluxPoint[] {
  const out: InfluxPoint[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const i = from + k;
    const router = `rs${i % 4}`;
    const peer = `100.64.${(i >> 2) % 50}.${(i % 200) + 1}`;
    out[k] = {
      measurement: 'bench_event',
      tags: { router, peer, table: i % 3 === 0 ? 'adj-rib-in-post' : 'adj-rib-in-pre', afi: i % 5 === 0 ? 'ipv6' : 'ipv4', type: i % 7 === 0 ? 'withdraw' : 'announce' },
      fields: {
        prefix: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
        as_path: `64512 ${65000 + (i % 100)} ${i % 65000}`,
        next_hop: peer,
        seq: BigInt(i),
        local_pref: 100 + (i % 3),
      },
      timestamp: String(baseNs + BigInt(i)),
    };
  }
  return out;
}

export async function runInfluxBench(options: InfluxBenchOptions = {}): Promise<InfluxBenchResult> {
  const total = options.points ?? 200_000;
  const chunk = options.chunk ?? 500;
  const maxBufferedPoints = options.maxBufferedPoints ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const influx = await startStandaloneInfluxd();
  try {
    const ping = await fetch(`${influx.url}/ping`);
    const influxdVersion = ping.headers.get('x-influxdb-version') ?? 'unknown';
    const writer = new InfluxWriter(
      { url: influx.url, database: 'bench', retentionPolicy: { name: 'bench', duration: '1d' }, precision: 'n', batchSize: options.batchSize, maxBufferedPoints },
      { logger: createLogger('warn') },
    );
    const batchSize = writer.options.batchSize;
    writer.start();
    if (!(await writer.ready)) throw new Error('influx bench: writer never became ready');

    // In-process cost of write() (serialisation and queueing), measured on a writer that never sends.
    const baseNs = BigInt(Date.now()) * 1_000_000n;
    const enqueueSample = Math.min(total, 50_000);
    const sample = makeBenchPoints(0, enqueueSample, baseNs);
    const nullTransport: InfluxTransport = { write: () => Promise.resolve({ kind: 'ok' }), setup: () => Promise.resolve({ kind: 'ok' }), close: () => undefined };
    const probe = new InfluxWriter({ maxBufferedPoints: enqueueSample, batchSize: Math.min(5_000, enqueueSample) }, { logger: createLogger('silent'), transport: nullTransport });
    const enqueueOnce = (): number => {
      const e0 = performance.now();
      for (let i = 0; i < sample.length; i += chunk) probe.write(sample.slice(i, i + chunk));
      return (performance.now() - e0) / 1000;
    };
    enqueueOnce(); // warm-up (JIT); the buffer bound drops the first round's points in the second
    const enqueueSeconds = enqueueOnce();
    await probe.stop(1_000); // never started, so nothing was sent during the measurement

    const deadline = Date.now() + timeoutMs;
    const cpu0 = process.cpuUsage();
    const influxCpu0 = readCpuTimes(influx.pid)?.cpuSeconds ?? 0;
    const started = performance.now();
    for (let sent = 0; sent < total; ) {
      while (writer.stats().buffered >= 2 * batchSize) {
        if (Date.now() > deadline) throw new Error('influx bench: timed out feeding the writer');
        await sleep(1);
      }
      const n = Math.min(chunk, total - sent);
      writer.write(makeBenchPoints(sent, n, baseNs));
      sent += n;
      if (sent % (chunk * 20) === 0) await sleep(0); // let the writer's I/O run
    }
    while (writer.stats().written + writer.stats().rejected + writer.stats().dropped < total) {
      if (Date.now() > deadline) throw new Error(`influx bench: timed out; ${JSON.stringify(writer.stats())}`);
      await sleep(2);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const influxdCpuSeconds = (readCpuTimes(influx.pid)?.cpuSeconds ?? 0) - influxCpu0;
    const stats = writer.stats();
    await writer.stop(10_000);
    const rows = await influx.query('SELECT count(seq) FROM bench_event', { db: 'bench' });
    const rowsInInflux = Number(rows[0]?.[0]?.values?.[0]?.[1] ?? 0);
    return {
      points: total,
      batchSize,
      seconds,
      pointsPerSecond: Math.round(stats.written / seconds),
      enqueuePointsPerSecond: Math.round(enqueueSample / enqueueSeconds),
      batches: stats.batches,
      retries: stats.retries,
      dropped: stats.dropped,
      rejected: stats.rejected,
      benchCpuSeconds: Math.round((cpu.user + cpu.system) / 10_000) / 100,
      influxdCpuSeconds: Math.round(influxdCpuSeconds * 100) / 100,
      rowsInInflux,
      influxdVersion,
    };
  } finally {
    await influx.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const points = process.argv[2] ? Number(process.argv[2]) : undefined;
  const batchSize = process.argv[3] ? Number(process.argv[3]) : undefined;
  runInfluxBench({ points, batchSize }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
