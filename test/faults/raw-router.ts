/**
 * Fake route servers for the fault tests: raw bytes (real captures or builders) written over TCP sockets we
 * control, from chosen loopback source addresses; plus the per-router state read back from the collector's API,
 * as sorted lines that compare across connections.
 */
import type { Socket } from 'node:net';
import type { PeerView, RouteView, RouterView } from '../../src/api/views.js';
import { BmpFramer } from '../../src/bmp/framer.js';
import { initiation, peer, peerUp, routes } from '../helpers/bmp-builders.js';
import { connectRouter } from '../helpers/collector.js';

export { connectRouter };

/** Deterministic PRNG (mulberry32): the same seed gives the same mutations and chunkings. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randomInt = (random: () => number, below: number): number => Math.floor(random() * below);

/** Start offset and length of every whole BMP message in a clean stream. */
export function messageBounds(data: Buffer): { offset: number; length: number }[] {
  const bounds: { offset: number; length: number }[] = [];
  const error = new BmpFramer({ maxMessageBytes: 16 * 1024 * 1024 }).push(data, (frame) => bounds.push({ offset: frame.streamOffset, length: frame.bytes.length }));
  if (error) throw new Error(`not a clean BMP stream: ${error.code} at ${error.offset}`);
  return bounds;
}

/** Splits `data` into chunks of 1..maxChunk bytes. */
export function randomChunks(data: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const size = 1 + randomInt(random, maxChunk);
    chunks.push(data.subarray(pos, pos + size));
    pos += size;
  }
  return chunks;
}

/** Writes each chunk as its own write(), yielding to the event loop between them (so they leave as separate segments). */
export async function writeChunks(socket: Socket, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (socket.destroyed) return;
    if (!socket.write(chunk)) await new Promise<void>((done) => socket.once('drain', () => done()).once('close', () => done()));
    await new Promise<void>((done) => setImmediate(done));
  }
}

/** Resolves once everything written has been handed to the kernel. */
export function flushed(socket: Socket): Promise<void> {
  return new Promise((done) => {
    if (socket.writableLength === 0 || socket.destroyed) done();
    else socket.once('drain', () => done()).once('close', () => done());
  });
}

type Get = <T>(path: string) => Promise<T>;

export async function routerById(get: Get, id: string): Promise<RouterView | undefined> {
  return (await get<RouterView[]>('/api/routers')).find((r) => r.id === id);
}

/** Waits until the collector has decoded `messages` messages on connection `id` (address:port). */
export async function waitMessages(get: Get, id: string, messages: number, timeoutMs = 20_000): Promise<RouterView> {
  const deadline = Date.now() + timeoutMs;
  let last: RouterView | undefined;
  for (;;) {
    last = await routerById(get, id);
    if (last !== undefined && last.messages >= messages) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${messages} messages on ${id}; last: ${JSON.stringify(last)}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/**
 * One router connection's state as sorted lines: every peer (address, AS, BGP id, type, state, resets, prefix
 * counts) and every route in every table with its attributes. Connection-specific fields (router name and id,
 * times) are left out, so two connections fed the same bytes give the same lines.
 */
export async function routerState(get: Get, routerId: string): Promise<string[]> {
  const peers = (await get<PeerView[]>('/api/peers')).filter((p) => p.routerId === routerId);
  const lines: string[] = [];
  for (const p of peers) {
    lines.push(`peer ${p.address} AS${p.as} id ${p.bgpId} ${p.peerType} ${p.isLocal ? 'local ' : ''}${p.state} resets ${p.resets} ${JSON.stringify(p.prefixes)}`);
  }
  const queries = new Set(peers.map((p) => (p.isLocal ? 'local' : p.address)));
  for (const query of queries) {
    for (const r of await get<RouteView[]>(`/api/routes?peer=${encodeURIComponent(query)}&router=${encodeURIComponent(routerId)}`)) {
      lines.push(`route ${query} ${JSON.stringify({ ...r, router: undefined })}`);
    }
  }
  return lines.sort();
}

export interface GoodRouterReport {
  readonly id: string;
  /** Route Monitoring messages sent (one new route each). */
  readonly announced: number;
  /** Longest time from writing a route to seeing it in /api/routers. */
  readonly worstLatencyMs: number;
  readonly failure: Error | undefined;
}

export interface GoodRouter {
  readonly id: string;
  readonly socket: Socket;
  /** Stops announcing; resolves with what happened. */
  stop(): Promise<GoodRouterReport>;
}

/**
 * A well-behaved route server on one long session: Initiation and a Peer Up, then a new route every `intervalMs`,
 * each of which must show in /api/routers within `latencyMs` (else `failure` is set and it stops). Resolves once
 * the session is up and before the first route.
 */
export async function startGoodRouter(options: { readonly port: number; readonly source: string; readonly get: Get; readonly intervalMs?: number; readonly latencyMs: number }): Promise<GoodRouter> {
  const goodPeer = peer('100.64.92.11', { as: 64496 });
  const socket = await connectRouter(options.port, options.source);
  socket.on('error', () => {});
  const id = `${socket.localAddress}:${socket.localPort}`;
  socket.write(Buffer.concat([initiation('good-rs'), peerUp(goodPeer)]));
  const up = Date.now();
  while ((await routerById(options.get, id))?.messages !== 2) {
    if (Date.now() - up > 10_000) throw new Error(`good router ${id} did not come up`);
    await new Promise((done) => setTimeout(done, 20));
  }
  let announced = 0;
  let worstLatencyMs = 0;
  let failure: Error | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const prefix = `10.${128 + Math.floor(announced / 256)}.${announced % 256}.0/29`;
      socket.write(routes(goodPeer, [prefix], { nextHop: '100.64.92.11' }));
      announced++;
      const sent = Date.now();
      for (;;) {
        const view = await routerById(options.get, id).catch(() => undefined);
        if ((view?.routes ?? 0) >= announced) break;
        if (Date.now() - sent > options.latencyMs || socket.destroyed) {
          failure = new Error(`good router ${id}: route ${announced} not seen within ${options.latencyMs} ms (session ${socket.destroyed ? 'closed' : 'open'}; last view ${JSON.stringify(view)})`);
          return;
        }
        await new Promise((done) => setTimeout(done, 20));
      }
      worstLatencyMs = Math.max(worstLatencyMs, Date.now() - sent);
      await new Promise((done) => setTimeout(done, options.intervalMs ?? 100));
    }
  })();
  return {
    id,
    socket,
    stop: async () => {
      running = false;
      await loop;
      return { id, announced, worstLatencyMs, failure };
    },
  };
}
