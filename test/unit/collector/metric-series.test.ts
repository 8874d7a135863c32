/**
 * A route server that reconnects keeps its Prometheus series: the `router` label is its address, not the
 * connection's address:port. Before the fix every connection added ~6 series that stayed forever (found by
 * test/faults/connect-cycles.test.ts: 1,200 new series over 200 reconnects; a flapping BMP session would have
 * grown /metrics and the heap without bound).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { initiation, peer, peerUp, routes } from '../../helpers/bmp-builders.js';
import { closedByPeer, connectRouter, startTestCollector, waitFor, type TestCollector } from '../../helpers/collector.js';

let collector: TestCollector | undefined;

afterEach(async () => {
  await collector?.stop();
  collector = undefined;
});

async function seriesCount(c: TestCollector): Promise<number> {
  const metrics = await c.metrics.registry.getMetricsAsJSON();
  return metrics.filter((m) => !m.name.startsWith('bmpwatch_process_')).reduce((n, m) => n + m.values.length, 0);
}

async function session(c: TestCollector, address: string): Promise<void> {
  const socket = await connectRouter(c.port, address);
  const header = peer('192.0.2.11');
  const broken = routes(header, ['10.128.2.0/29']);
  broken.writeUInt16BE(0xffff, 6 + 42 + 19); // a decode error, so decode-error series exist too
  socket.write(Buffer.concat([initiation('rs'), peerUp(header), routes(header, ['10.128.1.0/29']), broken]));
  await waitFor(() => c.collector.routers().some((s) => s.stats.messages === 3 && s.stats.decodeErrors === 1), 'the session to be decoded');
  const closed = closedByPeer(socket);
  socket.end();
  await closed;
  await waitFor(() => c.collector.routers().length === 0, 'the session to be flushed');
}

describe('Prometheus series per route server', () => {
  it('stay the same across reconnects of the same route server', async () => {
    collector = await startTestCollector();
    await session(collector, '127.0.0.1');
    const first = await seriesCount(collector);
    for (let i = 0; i < 20; i++) await session(collector, '127.0.0.1');
    expect(await seriesCount(collector)).toBe(first);
    const messages = (await collector.metrics.messages.get()).values;
    expect(new Set(messages.map((v) => v.labels.router))).toEqual(new Set(['127.0.0.1']));
    expect(messages.reduce((n, v) => n + v.value, 0)).toBe(21 * 3);
    const errors = (await collector.metrics.decodeErrors.get()).values;
    expect(errors).toEqual([expect.objectContaining({ labels: { router: '127.0.0.1', layer: 'bgp', code: 'length-mismatch' }, value: 21 })]);
  });

  it('are per route server address', async () => {
    collector = await startTestCollector();
    await session(collector, '127.0.0.1');
    await session(collector, '127.0.0.2');
    const bytes = (await collector.metrics.bytes.get()).values;
    expect(bytes.map((v) => v.labels.router).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
  });
});
