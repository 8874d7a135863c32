/**
 * Fault: a BMP session reset in the middle of a message. A real FRR capture (test/fixtures/frr-late-collector: the
 * initial dump of five IPv4 peers and one IPv6 peer, stats, two Peer Downs) is replayed to `bmpwatch serve` (child
 * process) over a socket we control, cut at a byte offset inside a message, then the route server reconnects from
 * the same address and sends its whole table again (in random chunks, as TCP may deliver it).
 *
 * Three cuts, each in a Route Monitoring message announcing 10.128.2.16/32 for appliance 127.0.1.12: inside the
 * BMP common header (3 of 6 bytes), inside the per-peer header, and 2 bytes short of the message's end (inside the
 * NLRI); the first two close with FIN, the last with a TCP RST. For each, it proves:
 * - no half message applied: while the cut connection is still open with the partial message buffered, its state
 *   equals that of a reference connection fed exactly the whole messages before the cut (same peers, routes and
 *   attributes; the prefix of the partial message nowhere), and its message count is the number of whole messages;
 * - the cut ends the session and flushes its routes (no ghosts: the connection is gone from /api/routers and no
 *   route of it is served);
 * - decode errors: none counted. A stream that ends inside a message is a closed connection (router-down reason
 *   "closed" after a FIN, "socket-error" after an RST, counted in bmpwatch_connections_closed_total{reason}),
 *   not a decode error: the bytes were never malformed, only incomplete (the live collector never calls
 *   BmpFramer.finish(); only `bmpwatch decode` reports a trailing partial message as "truncated");
 * - state rebuilt after the reconnect: equal to a reference connection fed the whole capture at once.
 * Every connection comes from its own loopback address (127.0.91.x), so the cut router's reconnect has the same
 * address, like a real route server.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterView } from '../../src/api/views.js';
import { readCapture } from '../helpers/fixtures.js';
import { closedByPeer } from '../helpers/collector.js';
import { connectRouter, flushed, messageBounds, randomChunks, rng, routerById, routerState, waitMessages, writeChunks } from './raw-router.js';
import { cleanupFaultDirs, faultDir, killAllServeChildren, ServeChild, until } from './serve-child.js';

const CAPTURE = readCapture('frr-late-collector/both');
const BOUNDS = messageBounds(CAPTURE);
/** The Route Monitoring message (post-policy, 127.0.1.12, 10.128.2.16/32) the cuts fall into: index in BOUNDS. */
const CUT_MESSAGE = BOUNDS.findIndex((b) => b.offset === 3321);
const CUT_PREFIX = '10.128.2.16/32';

let serve: ServeChild;
const sockets: Socket[] = [];

beforeAll(async () => {
  expect(CUT_MESSAGE).toBeGreaterThan(0);
  serve = await ServeChild.start({
    dir: faultDir('reset'),
    config: (_ports, dir) => ['routers: { allowedSources: [127.0.0.0/8] }', 'log: { level: info }', `storage: { dataDir: ${JSON.stringify(dir)} }`].join('\n'),
  });
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await killAllServeChildren();
  cleanupFaultDirs();
});

const get = <T>(path: string): Promise<T> => serve.get<T>(path);

async function open(address: string): Promise<Socket> {
  const socket = await connectRouter(serve.ports.bmp, address);
  socket.on('error', () => {});
  sockets.push(socket);
  return socket;
}

const idOf = (socket: Socket): string => `${socket.localAddress}:${socket.localPort}`;

/** A reference connection fed `bytes` (whole messages only), waited for, and its state. */
async function reference(address: string, bytes: Buffer, messages: number): Promise<{ socket: Socket; state: string[] }> {
  const socket = await open(address);
  socket.write(bytes);
  await waitMessages(get, idOf(socket), messages);
  return { socket, state: await routerState(get, idOf(socket)) };
}

async function decodeErrors(): Promise<number> {
  return (await serve.metrics()).sum('bmpwatch_decode_errors_total');
}

describe('BMP session reset mid-message (real FRR capture replayed, cut inside a message, reconnect)', () => {
  const cutStart = BOUNDS[CUT_MESSAGE].offset;
  const cutLength = BOUNDS[CUT_MESSAGE].length;
  const cases = [
    { name: 'inside the common header, FIN', cutAt: cutStart + 3, rst: false, source: '127.0.91.11' },
    { name: 'inside the per-peer header, FIN', cutAt: cutStart + 6 + 20, rst: false, source: '127.0.91.12' },
    { name: '2 bytes before the end of the message (NLRI), RST', cutAt: cutStart + cutLength - 2, rst: true, source: '127.0.91.13' },
  ];
  let before: { socket: Socket; state: string[] };
  let whole: { socket: Socket; state: string[] };

  beforeAll(async () => {
    before = await reference('127.0.91.2', CAPTURE.subarray(0, cutStart), CUT_MESSAGE);
    whole = await reference('127.0.91.3', CAPTURE, BOUNDS.length);
    expect(before.state.some((l) => l.includes(CUT_PREFIX) && l.includes('127.0.1.12'))).toBe(false);
    expect(whole.state.filter((l) => l.includes(CUT_PREFIX) && l.includes('127.0.1.12'))).toHaveLength(2); // pre and post
    expect(await decodeErrors()).toBe(0);
  }, 60_000);

  for (const [i, c] of cases.entries()) {
    it(`cut ${c.name}: nothing of the partial message applied, no decode error, flushed, rebuilt after reconnect`, async () => {
      const closedBefore = (await serve.metrics()).sum('bmpwatch_connections_closed_total', { reason: 'closed' });
      const socket = await open(c.source);
      const id = idOf(socket);
      await writeChunks(socket, randomChunks(CAPTURE.subarray(0, c.cutAt), rng(100 + i), 700));
      await flushed(socket);

      // The partial message sits in the collector's framer: the state is exactly the whole messages before it.
      const view = await waitMessages(get, id, CUT_MESSAGE);
      await new Promise((done) => setTimeout(done, 300)); // any late effect of the partial bytes would show now
      const partialState = await routerState(get, id);
      expect(partialState).toEqual(before.state);
      expect((await routerById(get, id))?.messages).toBe(CUT_MESSAGE);
      expect(view.bytes).toBe(c.cutAt);

      // The cut.
      const mark = serve.logs.length;
      const closed = closedByPeer(socket);
      if (c.rst) socket.resetAndDestroy();
      else socket.end();
      await closed;
      const down = await serve.waitForLog((l) => l.event === 'router-disconnected' && l.router === id, `the collector to close ${id}`, 10_000, mark);
      expect(down).toMatchObject({ reason: c.rst ? 'socket-error' : 'closed', messages: CUT_MESSAGE });
      await until(async () => (await routerById(get, id)) === undefined, `${id} gone from /api/routers`, 10_000, () => serve.output());
      expect(await routerState(get, id)).toEqual([]); // no ghosts of the cut session
      expect(serve.logs.slice(mark).filter((l) => l.event === 'decode-error')).toEqual([]);
      expect(await decodeErrors()).toBe(0);
      const closedAfter = (await serve.metrics()).sum('bmpwatch_connections_closed_total', { reason: 'closed' });
      expect(closedAfter).toBe(closedBefore + (c.rst ? 0 : 1));
      if (c.rst) expect((await serve.metrics()).sum('bmpwatch_connections_closed_total', { reason: 'socket-error' })).toBe(1);

      // The route server reconnects from the same address and sends its table again.
      const again = await open(c.source);
      await writeChunks(again, randomChunks(CAPTURE, rng(200 + i), 1500));
      await waitMessages(get, idOf(again), BOUNDS.length);
      expect(await routerState(get, idOf(again))).toEqual(whole.state);
      const routers = await get<RouterView[]>('/api/routers');
      expect(routers.filter((r) => r.address === c.source).map((r) => r.id)).toEqual([idOf(again)]);
      expect(await decodeErrors()).toBe(0);
      again.end();
      await until(async () => (await routerById(get, idOf(again))) === undefined, 'the reconnected session to end', 10_000, () => serve.output());
    }, 60_000);
  }

  it('the reference sessions were untouched by the cuts', async () => {
    expect(await routerState(get, idOf(before.socket))).toEqual(before.state);
    expect(await routerState(get, idOf(whole.socket))).toEqual(whole.state);
    expect(serve.alive).toBe(true);
  });
});
