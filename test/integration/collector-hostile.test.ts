/**
 * Hostile input against the live listener: garbage, an oversized length, a truncated frame and a disallowed
 * source each get the documented behaviour, while another router's session carries on untouched.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { initiation, peer, peerUp, routes } from '../helpers/bmp-builders.js';
import { closedByPeer, connectRouter, startTestCollector, waitFor, type TestCollector } from '../helpers/collector.js';
import { addressIsLoopbackAllowed } from '../helpers/loopback.js';

describe('collector under hostile input', () => {
  let collector: TestCollector;
  let good: Socket;
  const goodPeer = peer('100.64.1.11');

  const goodRoutes = (): number => collector.collector.routers().find((s) => s.router.address === '127.0.0.1' && s.router.port === good.localPort)?.rib.routeCount ?? -1;

  beforeEach(async () => {
    collector = await startTestCollector({ isAllowedSource: addressIsLoopbackAllowed, maxMessageBytes: 65_600 });
    good = await connectRouter(collector.port);
    good.write(Buffer.concat([initiation('good'), peerUp(goodPeer), routes(goodPeer, ['10.128.1.0/29', '10.128.1.8/29'])]));
    await waitFor(() => goodRoutes() === 2, 'the good router to hold 2 routes');
  });

  afterEach(async () => {
    good.destroy();
    await collector.stop();
  });

  async function expectGoodRouterUnaffected(): Promise<void> {
    good.write(routes(goodPeer, ['10.128.1.16/29']));
    await waitFor(() => goodRoutes() === 3, 'the good router to keep working');
    expect(good.destroyed).toBe(false);
  }

  it('closes a connection that sends garbage (bad version) and counts a framing error', async () => {
    const bad = await connectRouter(collector.port);
    const closed = closedByPeer(bad);
    bad.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closed;
    expect(await collector.metrics.decodeErrors.get()).toMatchObject({ values: [expect.objectContaining({ labels: expect.objectContaining({ code: 'bad-version', layer: 'framing' }), value: 1 })] });
    await expectGoodRouterUnaffected();
  });

  it('closes a connection announcing a message larger than limits.maxMessageBytes without buffering it', async () => {
    const bad = await connectRouter(collector.port);
    const badPort = bad.localPort;
    const closed = closedByPeer(bad);
    const header = Buffer.from([3, 0, 0, 0, 0, 0]);
    header.writeUInt32BE(70_000, 1);
    bad.write(header);
    await closed;
    const down = collector.events.find((e) => e.type === 'router-down' && e.router.port === badPort);
    expect(down).toMatchObject({ reason: 'framing-error' });
    expect(down?.type === 'router-down' && down.detail).toContain('length-too-large');
    await expectGoodRouterUnaffected();
  });

  it('keeps a session whose message body is malformed, counting the error, and decodes the next message', async () => {
    const bad = await connectRouter(collector.port);
    const badPeer = peer('100.64.1.12');
    const broken = routes(badPeer, ['10.128.2.0/29']);
    broken.writeUInt16BE(0xffff, 6 + 42 + 19); // withdrawn routes length overruns the UPDATE
    bad.write(Buffer.concat([peerUp(badPeer), broken, routes(badPeer, ['10.128.2.8/29'])]));
    await waitFor(() => collector.events.some((e) => e.type === 'route-announced' && e.prefix === '10.128.2.8/29'), 'the message after the bad one');
    const error = collector.events.find((e) => e.type === 'decode-error');
    expect(error).toMatchObject({ type: 'decode-error', error: { layer: 'bgp', code: 'length-mismatch' } });
    expect(bad.destroyed).toBe(false);
    bad.destroy();
    await expectGoodRouterUnaffected();
  });

  it('flushes the routes of a session that ends inside a frame (truncated), leaving no ghosts', async () => {
    const bad = await connectRouter(collector.port);
    const badPort = bad.localPort;
    const badPeer = peer('100.64.1.13');
    const complete = Buffer.concat([peerUp(badPeer), routes(badPeer, ['10.128.3.0/29'])]);
    const partial = routes(badPeer, ['10.128.3.8/29']).subarray(0, 30);
    bad.write(Buffer.concat([complete, partial]));
    await waitFor(() => collector.events.some((e) => e.type === 'route-announced' && e.prefix === '10.128.3.0/29'), 'the complete route');
    bad.end();
    await waitFor(() => collector.events.some((e) => e.type === 'route-withdrawn' && e.prefix === '10.128.3.0/29' && e.cause === 'router-down'), 'the flush');
    expect(collector.collector.routers().every((s) => s.router.port !== badPort)).toBe(true);
    await expectGoodRouterUnaffected();
  });

  it('refuses a connection from a source outside routers.allowedSources and logs nothing into the RIB', async () => {
    const refused = await connectRouter(collector.port, '127.0.0.66');
    await closedByPeer(refused);
    const refusals = await collector.metrics.connectionsRefused.get();
    expect(refusals.values).toEqual([expect.objectContaining({ labels: { reason: 'source-not-allowed' }, value: 1 })]);
    expect(collector.collector.routers()).toHaveLength(1);
    await expectGoodRouterUnaffected();
  });

  it('refuses connections over limits.maxConnections', async () => {
    await collector.stop();
    collector = await startTestCollector({ maxConnections: 1 });
    const first = await connectRouter(collector.port);
    first.write(initiation('first'));
    await waitFor(() => collector.collector.routers().length === 1, 'the first router');
    const second = await connectRouter(collector.port);
    await closedByPeer(second);
    expect((await collector.metrics.connectionsRefused.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'connection-limit' }, value: 1 })]);
    first.destroy();
  });
});
