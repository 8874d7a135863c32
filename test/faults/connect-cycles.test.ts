/**
 * No growth across connect/disconnect cycles (the short version of the soak, bench/soak.ts): `bmpwatch serve`
 * (child process, --expose-gc with a SIGUSR2 → gc() hook) takes CYCLES route-server sessions one after the other,
 * each from the next of 20 loopback addresses, each replaying a real capture (FRR initial dump: 6 peers, ~70
 * routes, stats) and disconnecting (half of them with FIN, half with RST). After WARMUP cycles the heap (used +
 * external, after a full GC) and the number of Prometheus series are read; after the rest they must not have
 * grown beyond a generous margin (the machine is loaded; one cycle's leak of a few kB would add up to MBs here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterView } from '../../src/api/views.js';
import { closedByPeer } from '../helpers/collector.js';
import { readCapture } from '../helpers/fixtures.js';
import { connectRouter, messageBounds, waitMessages } from './raw-router.js';
import { cleanupFaultDirs, faultDir, killAllServeChildren, ServeChild, sleep, until } from './serve-child.js';

const WARMUP = 50;
const CYCLES = Number(process.env.BMPWATCH_CYCLES ?? 200);
/** Heap + external growth allowed from warm-up to the end. */
const HEAP_MARGIN_BYTES = 4_000_000;
const GC_ON_SIGUSR2 = "data:text/javascript,process.on('SIGUSR2',()=>{globalThis.gc();});";

const CAPTURE = readCapture('frr-late-collector/both');
const MESSAGES = messageBounds(CAPTURE).length;

let serve: ServeChild;

beforeAll(async () => {
  serve = await ServeChild.start({
    dir: faultDir('cycles'),
    nodeArgs: ['--expose-gc', `--import=${GC_ON_SIGUSR2}`],
    config: (_ports, dir) => ['routers: { allowedSources: [127.0.0.0/8] }', 'log: { level: info }', `storage: { dataDir: ${JSON.stringify(dir)} }`].join('\n'),
  });
}, 60_000);

afterAll(async () => {
  await killAllServeChildren();
  cleanupFaultDirs();
});

const get = <T>(path: string): Promise<T> => serve.get<T>(path);

async function sample(): Promise<{ heap: number; series: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    serve.child.kill('SIGUSR2');
    await sleep(300);
  }
  const m = await serve.metrics();
  return {
    heap: m.sum('bmpwatch_process_nodejs_heap_size_used_bytes') + m.sum('bmpwatch_process_nodejs_external_memory_bytes'),
    series: m.samples.filter((s) => !s.name.startsWith('bmpwatch_process_')).length,
    rss: m.sum('bmpwatch_process_process_resident_memory_bytes'),
  };
}

async function cycle(i: number): Promise<void> {
  const socket = await connectRouter(serve.ports.bmp, `127.0.97.${1 + (i % 20)}`);
  socket.on('error', () => {});
  const id = `${socket.localAddress}:${socket.localPort}`;
  socket.write(CAPTURE);
  await waitMessages(get, id, MESSAGES);
  const closed = closedByPeer(socket);
  if (i % 2 === 0) socket.end();
  else socket.resetAndDestroy();
  await closed;
  await until(async () => !(await get<RouterView[]>('/api/routers')).some((r) => r.id === id), `session ${i} flushed`, 10_000, () => serve.output());
}

describe('connect/disconnect cycles', () => {
  it(`${CYCLES} cycles after ${WARMUP} warm-up: heap and metric series flat`, async () => {
    const started = Date.now();
    for (let i = 0; i < WARMUP; i++) await cycle(i);
    const warm = await sample();
    for (let i = WARMUP; i < WARMUP + CYCLES; i++) await cycle(i);
    const end = await sample();
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `connect/disconnect: ${WARMUP} warm-up + ${CYCLES} cycles in ${seconds.toFixed(1)} s; heap+external after GC ${(warm.heap / 1e6).toFixed(2)} -> ${(end.heap / 1e6).toFixed(2)} MB ` +
        `(${((end.heap - warm.heap) / CYCLES).toFixed(0)} B/cycle), RSS ${(warm.rss / 1e6).toFixed(1)} -> ${(end.rss / 1e6).toFixed(1)} MB, metric series ${warm.series} -> ${end.series}`,
    );
    expect(await get<RouterView[]>('/api/routers')).toEqual([]);
    expect(end.heap - warm.heap).toBeLessThan(HEAP_MARGIN_BYTES);
    expect(end.series).toBe(warm.series);
    expect(serve.alive).toBe(true);
  }, 240_000);
});
