/** An in-process BmpCollector on 127.0.0.1:0 with a recording event sink, for collector tests. */
import { connect, type Socket } from 'node:net';
import { BmpCollector, type CollectorSettings } from '../../src/collector/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { CollectorMetrics } from '../../src/observability/metrics.js';
import { AttributeStore } from '../../src/rib/attribute-store.js';
import type { CollectorEvent } from '../../src/rib/events.js';
import { systemClock } from '../../src/util/clock.js';

export interface TestCollector {
  readonly collector: BmpCollector;
  readonly metrics: CollectorMetrics;
  readonly events: CollectorEvent[];
  readonly port: number;
  stop(): Promise<void>;
}

export async function startTestCollector(overrides: Partial<CollectorSettings> = {}): Promise<TestCollector> {
  const events: CollectorEvent[] = [];
  const metrics = new CollectorMetrics();
  const settings: CollectorSettings = {
    host: '127.0.0.1',
    port: 0,
    maxConnections: 16,
    maxMessageBytes: 1024 * 1024,
    maxRoutesPerRouter: 1_000_000,
    initialDumpTimeoutMs: 60_000,
    maxDecodeErrorLogsPerMinute: 5,
    isAllowedSource: () => true,
    routerName: () => undefined,
    ...overrides,
  };
  const collector = new BmpCollector(settings, {
    attributes: new AttributeStore(),
    emit: (event) => events.push(event),
    logger: createLogger('silent'),
    metrics,
    clock: systemClock,
  });
  const bound = await collector.start();
  return { collector, metrics, events, port: bound.port, stop: () => collector.stop() };
}

/** A fake route server: a TCP client to the collector that we write raw bytes to. */
export function connectRouter(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function closedByPeer(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
  });
}
