/**
 * History bench: `bmpwatch history` latency for one appliance with about 1M events stored, in the embedded SQLite
 * store and in InfluxDB (a throwaway influxd on loopback), plus the rates at which each back-end takes events.
 *
 * The data set: `appliances` appliances, each with one session (peer-up), `prefixesPerAppliance` prefixes
 * announced and a churn of changes and withdrawals, spread over the last 24 hours, so the total is `events`.
 * The query is what an operator types: `bmpwatch history <address>` over the last 24 hours (resolve the appliance,
 * then read its timeline, through the same code as the CLI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/observability/logger.js';
import type { HistoryEvent } from '../src/store/history-event.js';
import { applianceHistory, resolveAppliance, type HistoryBackend } from '../src/store/history.js';
import { InfluxHistoryBackend, influxClient } from '../src/store/influx/history-backend.js';
import { eventPoint, NanoClock } from '../src/store/influx/points.js';
import { InfluxWriter } from '../src/store/influx/writer.js';
import { databasePath, openDatabase } from '../src/store/sqlite/database.js';
import { SqliteHistoryStore } from '../src/store/sqlite/history-store.js';
import { startStandaloneInfluxd } from './influxd.js';

export interface HistoryBenchOptions {
  readonly events: number;
  readonly appliances: number;
  readonly queries: number;
  readonly influx: boolean;
}

export interface BackendResult {
  readonly backend: string;
  readonly stored: number;
  readonly writeEventsPerSecond: number;
  /** Per query: resolve the appliance and read its timeline. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly eventsPerAnswer: number;
}

const DAY_MS = 86_400_000;

function applianceAddress(index: number): string {
  return `10.${64 + Math.floor(index / 65_536)}.${Math.floor(index / 256) % 256}.${index % 256}`;
}

/** Deterministic events, in time order, `count` in all. */
export function* benchEvents(count: number, appliances: number, now: number): Generator<HistoryEvent> {
  const step = DAY_MS / count;
  for (let i = 0; i < count; i++) {
    const index = i % appliances;
    const round = Math.floor(i / appliances);
    const address = applianceAddress(index);
    const base = { time: Math.floor(now - DAY_MS + i * step), router: `rs${(index % 2) + 1}`, routerAddress: `127.0.0.${(index % 2) + 1}`, peer: address, peerAs: 65_000, peerBgpId: address };
    if (round === 0) {
      yield { ...base, type: 'peer-up', detail: 'session up' };
      continue;
    }
    const prefix = `10.128.${index % 256}.${(round % 32) * 8}/29`;
    const type = round % 3 === 0 ? 'route-withdrawn' : round % 3 === 1 ? 'route-announced' : 'route-changed';
    yield { ...base, type, table: 'adj-rib-in-pre', prefix, ...(type === 'route-withdrawn' ? { detail: 'withdraw' } : { nextHop: address, asPath: '' }) };
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function measureQueries(backend: HistoryBackend, options: HistoryBenchOptions, now: number): Promise<{ latencyMs: BackendResult['latencyMs']; eventsPerAnswer: number }> {
  const times: number[] = [];
  let answered = 0;
  for (let q = 0; q < options.queries; q++) {
    const address = applianceAddress((q * 7919) % options.appliances);
    const range = { from: now - DAY_MS, to: now };
    const started = performance.now();
    const appliance = await resolveAppliance(backend, address, range);
    const events = await applianceHistory(backend, appliance, { ...range, limit: 10_000 });
    times.push(performance.now() - started);
    answered += events.length;
  }
  times.sort((a, b) => a - b);
  return { latencyMs: { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1) ?? NaN }, eventsPerAnswer: answered / options.queries };
}

export async function benchSqlite(options: HistoryBenchOptions): Promise<BackendResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-history-bench-'));
  try {
    const store = new SqliteHistoryStore(openDatabase(databasePath(dir)));
    const now = Date.now();
    const started = performance.now();
    let batch: HistoryEvent[] = [];
    for (const event of benchEvents(options.events, options.appliances, now)) {
      batch.push(event);
      if (batch.length === 5_000) {
        store.append(batch);
        batch = [];
      }
    }
    store.append(batch);
    const writeSeconds = (performance.now() - started) / 1000;
    const queries = await measureQueries(store, options, now);
    const stored = store.count();
    await store.close();
    return { backend: 'sqlite', stored, writeEventsPerSecond: options.events / writeSeconds, ...queries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchInflux(options: HistoryBenchOptions): Promise<BackendResult> {
  const influxd = await startStandaloneInfluxd();
  try {
    const database = 'bmpwatch_bench';
    const writer = new InfluxWriter(
      { url: influxd.url, database, precision: 'n', batchSize: 10_000, flushIntervalMs: 200, maxBufferedPoints: options.events + 10_000 },
      { logger: createLogger('warn') },
    );
    writer.start();
    const nano = new NanoClock();
    const now = Date.now();
    const started = performance.now();
    let chunk = [];
    for (const event of benchEvents(options.events, options.appliances, now)) {
      chunk.push(eventPoint(event, nano.stamp(event.time)));
      if (chunk.length === 10_000) {
        writer.write(chunk);
        chunk = [];
        // Let the writer send while we generate, as it would in the collector.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    writer.write(chunk);
    const report = await writer.stop(600_000);
    const writeSeconds = (performance.now() - started) / 1000;
    if (report.stats.written !== options.events) throw new Error(`InfluxDB took ${report.stats.written} of ${options.events} points: ${JSON.stringify(report.stats)}`);
    const backend = new InfluxHistoryBackend(influxClient({ url: influxd.url, database }), database);
    const queries = await measureQueries(backend, options, now);
    return { backend: 'influxdb', stored: report.stats.written, writeEventsPerSecond: options.events / writeSeconds, ...queries };
  } finally {
    await influxd.destroy();
  }
}

export async function runHistoryBench(options: HistoryBenchOptions): Promise<BackendResult[]> {
  const results = [await benchSqlite(options)];
  if (options.influx) results.push(await benchInflux(options));
  return results;
}
