/**
 * Mutation fuzzing of the LIVE listener: `bmpwatch serve` (child process) is fed the real captures
 * (test/fixtures: FRR 8.4 and GoBGP 3.10, every BMP message type they send) with bytes flipped, set, inserted,
 * deleted and duplicated, header lengths overwritten, whole messages dropped or repeated, each stream written in
 * random chunks (1..2,048 bytes), FUZZ_WORKERS connections at a time from changing loopback addresses, for a
 * bounded time (FUZZ_MS, default 20 s; BMPWATCH_FUZZ_MS overrides it). Two kinds of case, mixed:
 * - message-level (70%): mutations inside some messages, whose common-header length is then fixed up, so the
 *   framing holds and the BMP and BGP decoders get the damage (the session must carry on);
 * - stream-level (30%): mutations of the raw byte stream, which usually breaks the framing (the connection must be
 *   closed, and only that one).
 * Meanwhile another route server (127.0.92.1) keeps announcing a route every 100 ms on one long session.
 *
 * It proves:
 * - no crash: the child is alive, /healthz answers, nothing on stderr, every fuzz connection ended and is gone;
 * - errors counted exactly: every case is replayed offline through the same pure framer and decoder
 *   (BmpFramer + BmpSessionDecoder per connection, stopping at a framing error or a Termination as the collector
 *   does), and the collector's bmpwatch_decode_errors_total grew by exactly the offline sums per layer and code,
 *   and each connection's decoded messages (its router-disconnected log line, bmpwatch_messages_total) equal the
 *   offline count;
 * - the other router's session is unaffected: same connection throughout, every announced route held, its
 *   decode-error count 0, and each route visible within a bound while the fuzzing runs.
 * The figures (cases, bytes, errors per layer/code, framing closes) are printed at the end.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterView } from '../../src/api/views.js';
import { BmpSessionDecoder } from '../../src/bmp/decode.js';
import { BmpFramer } from '../../src/bmp/framer.js';
import { closedByPeer } from '../helpers/collector.js';
import { CAPTURES, readCapture } from '../helpers/fixtures.js';
import { connectRouter, messageBounds, randomChunks, randomInt, rng, routerById, startGoodRouter, writeChunks } from './raw-router.js';
import { cleanupFaultDirs, faultDir, killAllServeChildren, ServeChild, until } from './serve-child.js';

const FUZZ_MS = Number(process.env.BMPWATCH_FUZZ_MS ?? 20_000);
const FUZZ_WORKERS = 4;
const SEED = Number(process.env.BMPWATCH_FUZZ_SEED ?? 7);
const MAX_MESSAGE_BYTES = 1024 * 1024; // the default limits.maxMessageBytes
/** A good router's route must show in the API within this long, fuzzing or not (generous: the machine is loaded). */
const GOOD_ROUTE_LATENCY_MS = 5_000;

const captures = CAPTURES.map((c) => {
  const data = readCapture(c.file);
  return { name: c.name, data, bounds: messageBounds(data) };
});

type Random = () => number;

/** One raw-stream mutation. */
function mutateStream(data: Buffer, random: Random): Buffer {
  const at = randomInt(random, data.length);
  switch (randomInt(random, 6)) {
    case 0: {
      const out = Buffer.from(data);
      out[at] ^= 1 << randomInt(random, 8);
      return out;
    }
    case 1: {
      const out = Buffer.from(data);
      out[at] = randomInt(random, 256);
      return out;
    }
    case 2:
      return Buffer.concat([data.subarray(0, at), Buffer.from(Array.from({ length: 1 + randomInt(random, 16) }, () => randomInt(random, 256))), data.subarray(at)]);
    case 3:
      return Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + 1 + randomInt(random, 16)))]);
    case 4: {
      const length = 1 + randomInt(random, 64);
      return Buffer.concat([data.subarray(0, at), data.subarray(at, at + length), data.subarray(at)]);
    }
    default: {
      // A length field anywhere: 4 random bytes, or a big-endian value near a boundary.
      const out = Buffer.from(data);
      if (at + 4 <= out.length) out.writeUInt32BE([0, 5, 6, 0xffff, MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES + 1, randomInt(random, 2 ** 32)][randomInt(random, 7)], at);
      return out;
    }
  }
}

/** Mutations inside some messages, each message's length then fixed up so the framing survives. */
function mutateMessages(capture: (typeof captures)[number], random: Random): Buffer {
  const out: Buffer[] = [];
  for (const { offset, length } of capture.bounds) {
    let message = capture.data.subarray(offset, offset + length);
    const roll = random();
    if (roll < 0.03) continue; // dropped
    if (roll < 0.06) out.push(message); // repeated
    if (random() < 0.3) {
      const body = message.subarray(6);
      let mutated: Buffer = body.length > 0 ? body : Buffer.alloc(1);
      for (let n = 1 + randomInt(random, 4); n > 0; n--) mutated = mutateStream(mutated, random);
      const header = Buffer.from(message.subarray(0, 6));
      if (random() < 0.1) header[5] = randomInt(random, 10); // message type
      header.writeUInt32BE(6 + mutated.length, 1);
      message = Buffer.concat([header, mutated]);
    }
    out.push(message);
  }
  return Buffer.concat(out);
}

interface Expected {
  messages: number;
  errors: Map<string, number>;
  framingClosed: boolean;
}

/** What the collector must count for this stream: the same framer and decoder, stopping where it stops. */
function expectedCounts(stream: Buffer): Expected {
  const framer = new BmpFramer({ maxMessageBytes: MAX_MESSAGE_BYTES });
  const decoder = new BmpSessionDecoder();
  const expected: Expected = { messages: 0, errors: new Map(), framingClosed: false };
  const count = (layer: string, code: string): void => {
    const key = `${layer}/${code}`;
    expected.errors.set(key, (expected.errors.get(key) ?? 0) + 1);
  };
  let terminated = false;
  const error = framer.push(stream, (frame) => {
    if (terminated) return;
    const result = decoder.decode(frame.bytes);
    if (!result.ok) {
      count(result.error.layer, result.error.code);
      return;
    }
    expected.messages++;
    if (result.value.type === 'termination') terminated = true;
  });
  if (error && !terminated) {
    count(error.layer, error.code);
    expected.framingClosed = true;
  }
  return expected;
}

let serve: ServeChild;
const sockets: Socket[] = [];

beforeAll(async () => {
  serve = await ServeChild.start({
    dir: faultDir('fuzz'),
    config: (_ports, dir) => ['routers: { allowedSources: [127.0.0.0/8] }', 'log: { level: info }', `storage: { dataDir: ${JSON.stringify(dir)} }`].join('\n'),
  });
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await killAllServeChildren();
  cleanupFaultDirs();
});

function decodeErrorsByCode(metrics: Awaited<ReturnType<ServeChild['metrics']>>): Map<string, number> {
  const byCode = new Map<string, number>();
  for (const s of metrics.samples) {
    if (s.name !== 'bmpwatch_decode_errors_total') continue;
    const key = `${s.labels.layer}/${s.labels.code}`;
    byCode.set(key, (byCode.get(key) ?? 0) + s.value);
  }
  return byCode;
}

describe('mutation fuzzing of the live listener from real captures', () => {
  it(`${FUZZ_MS / 1000} s of mutated captures in random chunks: no crash, errors counted exactly, another router unaffected`, async () => {
    // The good router: one long session announcing a route every 100 ms; each must show within the bound.
    const good = await startGoodRouter({ port: serve.ports.bmp, source: '127.0.92.1', get: serve.get.bind(serve), latencyMs: GOOD_ROUTE_LATENCY_MS });
    sockets.push(good.socket);
    const before = await serve.metrics();
    const errorsBefore = decodeErrorsByCode(before);
    const messagesBefore = before.sum('bmpwatch_messages_total');
    const expectedErrors = new Map<string, number>();
    let expectedMessages = 0;
    let cases = 0;
    let bytes = 0;
    let framingCloses = 0;
    let messageLevel = 0;
    const started = Date.now();
    const perConnection: { id: string; expected: Expected; capture: string; stream: Buffer }[] = [];

    async function worker(index: number): Promise<void> {
      const random = rng(SEED * 1000 + index);
      while (Date.now() - started < FUZZ_MS) {
        const capture = captures[randomInt(random, captures.length)];
        const messageCase = random() < 0.7;
        let stream = messageCase ? mutateMessages(capture, random) : capture.data;
        if (!messageCase) for (let n = 1 + randomInt(random, 8); n > 0; n--) stream = mutateStream(stream, random);
        const expected = expectedCounts(stream);
        // 127.0.93.1 .. 127.0.93.200: a changing source address, all inside the allow-list.
        const socket = await connectRouter(serve.ports.bmp, `127.0.93.${1 + ((cases + index) % 200)}`);
        socket.on('error', () => {});
        const id = `${socket.localAddress}:${socket.localPort}`;
        perConnection.push({ id, expected, capture: capture.name, stream });
        const closed = closedByPeer(socket);
        await writeChunks(socket, randomChunks(stream, random, 2048));
        if (!socket.destroyed) socket.end();
        await closed;
        cases++;
        bytes += stream.length;
        if (messageCase) messageLevel++;
        if (expected.framingClosed) framingCloses++;
        expectedMessages += expected.messages;
        for (const [key, n] of expected.errors) expectedErrors.set(key, (expectedErrors.get(key) ?? 0) + n);
      }
    }
    await Promise.all(Array.from({ length: FUZZ_WORKERS }, (_, i) => worker(i)));
    const goodReport = await good.stop();
    const goodId = good.id;
    const fuzzSeconds = (Date.now() - started) / 1000;

    // Every fuzz connection is gone (their flushes done); only the good router is left.
    await until(async () => {
      const routers = await serve.get<RouterView[]>('/api/routers');
      return routers.length === 1 && routers[0].id === goodId;
    }, 'every fuzz connection to be closed and flushed', 20_000, () => serve.output());

    const after = await serve.metrics();
    const errorsAfter = decodeErrorsByCode(after);
    const grown = new Map<string, number>();
    for (const [key, n] of errorsAfter) if (n - (errorsBefore.get(key) ?? 0) > 0) grown.set(key, n - (errorsBefore.get(key) ?? 0));
    const totalExpected = [...expectedErrors.values()].reduce((a, b) => a + b, 0);
    const summary = [...expectedErrors.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(
      `live fuzz: ${cases} cases (${messageLevel} message-level, ${cases - messageLevel} stream-level) in ${fuzzSeconds.toFixed(1)} s, ` +
        `${(bytes / 1e6).toFixed(2)} MB, ${framingCloses} closed on a framing error, ${expectedMessages} messages decoded, ${totalExpected} decode errors: ${summary}; ` +
        `good router: ${goodReport.announced} routes, worst latency ${goodReport.worstLatencyMs} ms`,
    );

    // No crash.
    expect(serve.alive).toBe(true);
    expect(await serve.get<{ status: string }>('/healthz')).toMatchObject({ status: 'ok' });
    expect(serve.stderr).toBe('');
    expect(cases).toBeGreaterThan(20);
    expect(framingCloses).toBeGreaterThan(0);
    expect(totalExpected).toBeGreaterThan(framingCloses); // the decoders, not only the framer, saw damage

    // Per connection: the messages the collector logged when it closed it equal the offline count.
    const logged = new Map<string, number[]>();
    for (const l of serve.logs) if (l.event === 'router-disconnected') logged.set(String(l.router), [...(logged.get(String(l.router)) ?? []), Number(l.messages)]);
    const mismatches = perConnection.filter((c) => !(logged.get(c.id) ?? []).includes(c.expected.messages));
    expect(mismatches.map((c) => `${c.id} ${c.capture}: expected ${c.expected.messages}, logged ${JSON.stringify(logged.get(c.id))} stream ${c.stream.toString('base64')}`)).toEqual([]);

    // Errors counted exactly, per layer and code, and every message decoded counted.
    expect(Object.fromEntries([...grown].sort())).toEqual(Object.fromEntries([...expectedErrors].sort()));
    // The good router sent Initiation, Peer Up and `announced` Route Monitoring messages.
    const goodMessages = after.sum('bmpwatch_messages_total', { router: good.socket.localAddress ?? '' });
    expect(goodMessages).toBe(2 + goodReport.announced);
    expect(after.sum('bmpwatch_messages_total') - messagesBefore).toBe(expectedMessages + goodMessages - before.sum('bmpwatch_messages_total', { router: good.socket.localAddress ?? '' }));

    // The good router's session was never disturbed.
    expect(goodReport.failure).toBeUndefined();
    const view = await routerById(serve.get.bind(serve), goodId);
    expect(view).toMatchObject({ routes: goodReport.announced, messages: 2 + goodReport.announced, decodeErrors: 0, peers: 1 });
    expect(good.socket.destroyed).toBe(false);
    expect(after.sum('bmpwatch_connections_closed_total', { reason: 'framing-error' })).toBe(framingCloses);
  }, FUZZ_MS + 90_000);
});
