/**
 * `bmpwatch serve` as operators run it: the built CLI (dist/src/main.js) as a child process, a route server (raw
 * BMP from test/helpers/bmp-builders) connected to it, then signals:
 * - SIGHUP with a changed, valid config (the router's configured name): the BMP session stays up with its routes,
 *   and the API shows the new name for the connected router;
 * - SIGHUP with an invalid config: rejected with its problems logged, the running config kept (the name stays),
 *   the session still up;
 * - SIGTERM: the collector closes the BMP session and exits 0 after logging that it stopped.
 * Ports: the config asks for port 0 (BMP and API); serve logs the ports it bound in its "started" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerView, RouterView } from '../../src/api/views.js';
import { initiation, peer, peerUp, routes } from '../helpers/bmp-builders.js';
import { closedByPeer, connectRouter, waitFor } from '../helpers/collector.js';

const MAIN = resolve('dist/src/main.js');
const ROUTER_ADDRESS = '127.0.0.1';

interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

function config(routerName: string): string {
  return [
    'listen:',
    '  bmp: { host: 127.0.0.1, port: 0 }',
    '  api: { host: 127.0.0.1, port: 0 }',
    'routers:',
    '  allowedSources: [127.0.0.0/8]',
    '  names:',
    `    - { name: ${routerName}, address: ${ROUTER_ADDRESS} }`,
    'log: { level: info }',
    '',
  ].join('\n');
}

let dir: string;
let configPath: string;
let child: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
const logs: LogLine[] = [];
let stderr = '';
let api = '';
let bmpPort = 0;
let router: Socket | undefined;

function output(): string {
  return `stdout:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`;
}

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${api}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Polls an async check until it returns a value (not undefined); throws with the collector's output on timeout. */
async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForLog(event: string, after: number, what: string): Promise<LogLine> {
  await waitFor(() => logs.slice(after).some((l) => l.event === event), `${what}\n${output()}`, 10_000);
  return logs.slice(after).find((l) => l.event === event) as LogLine;
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the integration tests`);
  dir = mkdtempSync(join(tmpdir(), 'bmpw-serve-'));
  configPath = join(dir, 'bmpwatch.yaml');
  writeFileSync(configPath, config('rs-before'));
  child = spawn(process.execPath, [MAIN, 'serve', '--config', configPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const started = await waitForLog('started', 0, 'serve to log that it started');
  const bound = started as unknown as { bmp: { port: number }; api: { host: string; port: number } };
  bmpPort = bound.bmp.port;
  api = `http://127.0.0.1:${bound.api.port}`;
  expect(bmpPort).toBeGreaterThan(0);
}, 30_000);

afterAll(async () => {
  router?.destroy();
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('bmpwatch serve: SIGHUP reloads the config, SIGTERM stops gracefully', () => {
  it('accepts a route server and shows it under its configured name', async () => {
    const socket = await connectRouter(bmpPort, ROUTER_ADDRESS);
    router = socket;
    const header = peer('192.0.2.11');
    socket.write(Buffer.concat([initiation('sysname-rs1'), peerUp(header), routes(header, ['10.128.1.0/29', '2001:db8:100:1::/64'])]));
    const routers = await until(async () => {
      const list = await get<RouterView[]>('/api/routers');
      return list.length === 1 && list[0].routes === 2 ? list : undefined;
    }, 'the route server and its routes in the API');
    expect(routers[0]).toMatchObject({ name: 'rs-before', sysName: 'sysname-rs1', peers: 1, routes: 2 });
  });

  it('SIGHUP with a changed valid config: the session stays up and the new router name shows', async () => {
    const [before] = await get<RouterView[]>('/api/routers');
    writeFileSync(configPath, config('rs-after'));
    const mark = logs.length;
    child.kill('SIGHUP');
    await waitForLog('config-reloaded', mark, 'serve to log the reload');
    const [after] = await get<RouterView[]>('/api/routers');
    expect(after).toMatchObject({ id: before.id, connectedAt: before.connectedAt, name: 'rs-after', routes: 2 });
    const peers = await get<PeerView[]>('/api/peers');
    expect(peers.map((p) => [p.router, p.address, p.state])).toEqual([['rs-after', '192.0.2.11', 'up']]);
    expect(router?.destroyed).toBe(false);
    expect(child.exitCode).toBeNull();
  });

  it('SIGHUP with an invalid config: rejected with its problems, the running config kept, the session still up', async () => {
    const [before] = await get<RouterView[]>('/api/routers');
    writeFileSync(configPath, `${config('rs-broken')}limits: { maxConnections: 0 }\n`);
    const mark = logs.length;
    child.kill('SIGHUP');
    const rejected = await waitForLog('config-rejected', mark, 'serve to reject the invalid config');
    expect(JSON.stringify(rejected.problems)).toContain('limits.maxConnections');
    expect(logs.slice(mark).some((l) => l.event === 'config-reloaded')).toBe(false);
    const [after] = await get<RouterView[]>('/api/routers');
    expect(after).toMatchObject({ id: before.id, name: 'rs-after', routes: 2 });

    // The session is not just listed but alive: a new route from the route server still arrives.
    router?.write(routes(peer('192.0.2.11'), ['10.128.1.8/29']));
    await until(async () => ((await get<RouterView[]>('/api/routers'))[0]?.routes === 3 ? true : undefined), 'the new route in the API');
    expect(child.exitCode).toBeNull();
  });

  it('SIGTERM: closes the BMP session, logs that it stopped and exits 0', async () => {
    const closed = closedByPeer(router as Socket);
    const mark = logs.length;
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    await closed;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const events = logs.slice(mark).map((l) => l.event);
    expect(events).toContain('stopping');
    expect(events).toContain('router-disconnected');
    expect(events[events.length - 1]).toBe('stopped');
    expect(stderr).not.toMatch(/error|exception/i);
  });
});
