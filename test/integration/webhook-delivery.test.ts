/**
 * Webhook delivery through the real `bmpwatch serve` (dist/src/main.js as a child process, embedded SQLite store):
 * a fake route server (raw BMP from test/helpers/bmp-builders) reports an appliance announcing prefixes outside its
 * group's range, which fires unexpected-prefix alerts; the webhook goes to a real receiver on 127.0.0.1 that checks
 * every Standard Webhooks signature and processes each webhook-id once (an idempotent receiver: duplicates are
 * counted, not processed again).
 *
 * One collector, one alert per case, retry timing shortened in the config (backoff 200 ms doubling to 800 ms):
 * - receiver down (connection refused), then up: the alert arrives once it is up;
 * - 500 then 200: retried after the backoff, same id and same bytes;
 * - 429 with Retry-After in seconds, 503 with Retry-After as an HTTP date: the retry waits that long (the gap
 *   between the two requests is measured; the backoff alone would be at most 800 ms).
 * A second collector with its own data dir, killed with SIGKILL while deliveries are pending:
 * - before the kill: two requests in flight (the receiver processed them and never answered: a lost
 *   acknowledgement), two more queued behind `concurrency: 2`;
 * - after the restart (same data dir, the route server reconnects and sends its table again plus one new bad
 *   prefix), the receiver still down: the stored deliveries are retried with their original ids; then the receiver
 *   comes up: every alert arrives, the set of processed ids is exactly the expected one (the ids derived from each
 *   alert's fingerprint and episode start before the kill, plus the new alert's), the two in-flight ones arrive
 *   again (at-least-once) and are processed once, and nothing is re-paged (no new notification for the restored
 *   alerts, same startsAt).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertNotification } from '../../src/alerts/types.js';
import { deliveryId } from '../../src/alerts/webhook/dispatcher.js';
import { initiation, peer, peerUp, routes } from '../helpers/bmp-builders.js';
import { connectRouter } from '../helpers/collector.js';
import { freePort } from '../helpers/ports.js';
import { Receiver, signatureValid, type Received, type Reply } from '../unit/alerts/receiver.js';

const MAIN = resolve('dist/src/main.js');
const APPLIANCE = '100.64.0.11';
const TARGET = 'hook';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const MAX_BACKOFF_MS = 800;

// ---------------------------------------------------------------------------------------------------------------
// The collector as a child process

interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

function configText(dataDir: string, receiverPort: number, webhook: { concurrency: number; timeoutMs: number }): string {
  return `
listen:
  bmp: { host: 127.0.0.1, port: 0 }
  api: { host: 127.0.0.1, port: 0 }
routers:
  allowedSources: [127.0.0.0/8]
log: { level: info }
storage:
  dataDir: ${JSON.stringify(dataDir)}
  history: { flushIntervalMs: 20 }
applianceGroups:
  - name: firewalls
    sessionRanges: [100.64.0.0/22]
    sessionType: ibgp
    asns: [64496]
    allowPrivateAsns: false
    prefixes:
      ipv4: [{ prefix: 10.128.0.0/17, minLength: 29, maxLength: 32 }]
alerts:
  evaluationIntervalSeconds: 1
  delivery: { initialBackoffMs: 200, maxBackoffMs: ${MAX_BACKOFF_MS}, maxRetryAfterSeconds: 10, concurrency: ${webhook.concurrency} }
  webhooks:
    - name: ${TARGET}
      url: http://127.0.0.1:${receiverPort}/hook
      secret: ${SECRET}
      filters: { rules: [unexpected-prefix] }
      timeoutMs: ${webhook.timeoutMs}
      maxAttempts: 100
`;
}

class Serve {
  readonly logs: LogLine[] = [];
  stderr = '';
  bmpPort = 0;
  api = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    let pending = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.logs.push(JSON.parse(line) as LogLine);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  static async start(configPath: string, cwd: string): Promise<Serve> {
    const serve = new Serve(spawn(process.execPath, [MAIN, 'serve', '--config', configPath], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
    running.add(serve);
    const started = (await serve.waitForLog((l) => l.event === 'started', 'serve to log that it started', 20_000)) as unknown as { bmp: { port: number }; api: { port: number } };
    serve.bmpPort = started.bmp.port;
    serve.api = `http://127.0.0.1:${started.api.port}`;
    return serve;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return `collector log:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr}`;
  }

  async waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    await until(() => this.logs.some(predicate) || !this.alive, what, timeoutMs, () => this.output());
    const line = this.logs.find(predicate);
    if (line === undefined) throw new Error(`collector exited while waiting for ${what}\n${this.output()}`);
    return line;
  }

  /** Webhook attempt log lines (dispatcher: event "webhook") for one delivery id. */
  attempts(id: string, outcome?: string): LogLine[] {
    return this.logs.filter((l) => l.event === 'webhook' && l.id === id && (outcome === undefined || l.outcome === outcome));
  }

  async alerts(): Promise<AlertView[]> {
    const response = await fetch(`${this.api}/api/alerts`);
    if (!response.ok) throw new Error(`GET /api/alerts: HTTP ${response.status}`);
    return (await response.json()) as AlertView[];
  }

  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    const result = await this.exited;
    running.delete(this);
    return result;
  }
}

interface AlertView {
  readonly fingerprint: string;
  readonly rule: string;
  readonly state: string;
  readonly prefix: string | null;
  readonly startsAt: string;
}

const running = new Set<Serve>();

async function until(check: () => boolean, what: string, timeoutMs: number, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await sleep(20);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------------------------
// The idempotent receiver

/** Body of a bmpwatch-format webhook (docs/WEBHOOKS.md), the fields checked here. */
interface Payload {
  readonly schema: string;
  readonly id: string;
  readonly notification: string;
  readonly sequence: number;
  readonly alert: { readonly fingerprint: string; readonly rule: string; readonly prefix: string | null; readonly startsAt: string };
}

/**
 * The test's webhook receiver (test/unit/alerts/receiver.ts) made idempotent: each request is verified (Standard
 * Webhooks signature and timestamp), a request answered 2xx or never answered ('hang': processed, acknowledgement
 * lost) is processed, and a webhook-id is processed once; later arrivals of a processed id are counted as
 * duplicates. `respond` decides each reply from the request and the attempt number of its id.
 */
class IdempotentReceiver {
  readonly http = new Receiver();
  readonly processed = new Map<string, Received>();
  readonly duplicates = new Map<string, number>();
  readonly invalid: Received[] = [];
  respond: (request: Received, attempt: number) => Reply = () => ({ status: 200 });

  constructor() {
    // Receiver answers each request with `replies.shift() ?? fallback`, right after recording it in `requests`:
    // with no scripted replies, a getter on `fallback` is the hook where this receiver verifies and decides.
    Object.defineProperty(this.http, 'fallback', { configurable: true, get: () => this.onRequest() });
  }

  get requests(): readonly Received[] {
    return this.http.requests;
  }

  requestsFor(id: string): Received[] {
    return this.http.requests.filter((r) => r.headers['webhook-id'] === id);
  }

  async up(port: number): Promise<void> {
    await this.http.start(port);
  }

  async down(): Promise<void> {
    await this.http.stop();
  }

  waitProcessed(ids: readonly string[], what: string, timeoutMs = 15_000, context?: () => string): Promise<void> {
    return until(() => ids.every((id) => this.processed.has(id)), what, timeoutMs, context);
  }

  private onRequest(): Reply {
    const request = this.http.requests[this.http.requests.length - 1];
    if (!signatureValid(SECRET, request)) {
      this.invalid.push(request);
      return { status: 401 };
    }
    const id = String(request.headers['webhook-id']);
    const reply = this.respond(request, this.requestsFor(id).length);
    if (reply === 'hang' || (reply.status >= 200 && reply.status < 300)) {
      if (this.processed.has(id)) this.duplicates.set(id, (this.duplicates.get(id) ?? 0) + 1);
      else this.processed.set(id, request);
    }
    return reply;
  }
}

function payload(request: Received): Payload {
  return JSON.parse(request.body) as Payload;
}

// ---------------------------------------------------------------------------------------------------------------
// The route server

const HEADER = peer(APPLIANCE, { as: 64496 });

/** A route server session: Initiation, the appliance's Peer Up, then `table` (one Route Monitoring per prefix). */
async function routeServer(port: number, table: readonly string[]): Promise<Socket> {
  const socket = await connectRouter(port);
  socket.on('error', () => {}); // the collector may die under it (SIGKILL)
  socket.write(Buffer.concat([initiation('rs1'), peerUp(HEADER), ...table.map((prefix) => routes(HEADER, [prefix], { nextHop: APPLIANCE }))]));
  return socket;
}

function announce(socket: Socket, prefix: string): void {
  socket.write(routes(HEADER, [prefix], { nextHop: APPLIANCE }));
}

const fingerprintOf = (prefix: string): string => `unexpected-prefix/${APPLIANCE}|${prefix}`;

/** The webhook-id the collector derives for the first notification of an alert episode (docs/WEBHOOKS.md). */
function expectedId(alert: AlertView): string {
  return deliveryId(TARGET, { alert: { fingerprint: alert.fingerprint, startsAt: Date.parse(alert.startsAt) }, sequence: 1 } as AlertNotification);
}

// ---------------------------------------------------------------------------------------------------------------

const dirs: string[] = [];
const sockets: Socket[] = [];
const receivers: IdempotentReceiver[] = [];

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the integration tests`);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const serve of running) await serve.stop('SIGKILL');
  for (const receiver of receivers) await receiver.down();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bmpw-webhooks-'));
  dirs.push(dir);
  return dir;
}

describe('webhook delivery from bmpwatch serve: retries', () => {
  const receiver = new IdempotentReceiver();
  receivers.push(receiver);
  let serve: Serve;
  let rs: Socket;
  let receiverPort = 0;

  beforeAll(async () => {
    const dir = tempDir();
    receiverPort = await freePort();
    const configPath = join(dir, 'bmpwatch.yaml');
    writeFileSync(configPath, configText(dir, receiverPort, { concurrency: 4, timeoutMs: 2_000 }));
    serve = await Serve.start(configPath, dir);
    rs = await routeServer(serve.bmpPort, ['10.128.1.0/29']);
    sockets.push(rs);
  }, 30_000);

  /** Announces a bad prefix and returns the webhook-id of its alert's first notification (from the API). */
  async function fire(prefix: string): Promise<string> {
    announce(rs, prefix);
    let alert: AlertView | undefined;
    await until(() => serve.logs.some((l) => l.event === 'alert-notification' && l.fingerprint === fingerprintOf(prefix)), `the alert for ${prefix}`, 10_000, () => serve.output());
    for (const a of await serve.alerts()) if (a.fingerprint === fingerprintOf(prefix)) alert = a;
    expect(alert).toMatchObject({ rule: 'unexpected-prefix', state: 'firing', prefix });
    return expectedId(alert as AlertView);
  }

  it('receiver down, then up: the alert is retried until it arrives', async () => {
    const id = await fire('192.0.2.0/24');
    // Connection refused, retried with backoff while nothing listens.
    await until(() => serve.attempts(id, 'retry').length >= 3, 'three refused attempts', 10_000, () => serve.output());
    expect(serve.attempts(id, 'retry').every((l) => String(l.error).includes('ECONNREFUSED'))).toBe(true);
    expect(receiver.requests).toEqual([]);

    await receiver.up(receiverPort);
    await receiver.waitProcessed([id], 'the alert at the receiver once it is up', 10_000, () => serve.output());
    const received = payload(receiver.processed.get(id) as Received);
    expect(received).toMatchObject({ schema: 'bmpwatch.alert/v1', id, notification: 'firing', sequence: 1, alert: { fingerprint: fingerprintOf('192.0.2.0/24'), prefix: '192.0.2.0/24' } });
    await until(() => serve.attempts(id, 'delivered').length === 1, 'the delivery logged', 5_000, () => serve.output());
    expect(receiver.requestsFor(id)).toHaveLength(1);
    // The good prefix raised nothing.
    expect(receiver.requests.map((r) => payload(r).alert.prefix)).toEqual(['192.0.2.0/24']);
  });

  it('500 then 200: retried after the backoff with the same id and the same bytes', async () => {
    receiver.respond = (_request, attempt) => (attempt === 1 ? { status: 500 } : { status: 200 });
    const id = await fire('198.51.100.0/24');
    await receiver.waitProcessed([id], 'the alert after a 500', 10_000, () => serve.output());
    const [first, second, ...rest] = receiver.requestsFor(id);
    expect(rest).toEqual([]);
    expect(second.body).toBe(first.body);
    const gap = second.at - first.at;
    // Attempt 1 failed: wait min(800, 200 × 2^0) × [0.5, 1) = 100..200 ms.
    expect(gap).toBeGreaterThanOrEqual(95);
    expect(gap).toBeLessThan(1_500);
    expect(serve.attempts(id, 'retry')).toEqual([expect.objectContaining({ error: 'HTTP 500', retryAfter: false })]);
  });

  it('429 with Retry-After: 2 (seconds): the retry waits 2 s', async () => {
    receiver.respond = (_request, attempt) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
    const id = await fire('203.0.113.0/24');
    await receiver.waitProcessed([id], 'the alert after a 429', 10_000, () => serve.output());
    const [first, second, ...rest] = receiver.requestsFor(id);
    expect(rest).toEqual([]);
    const gap = second.at - first.at;
    expect(gap).toBeGreaterThanOrEqual(1_995); // the backoff alone would be 100..200 ms (at most 800)
    expect(gap).toBeLessThan(3_500);
    expect(serve.attempts(id, 'retry')).toEqual([expect.objectContaining({ error: 'HTTP 429', retryAfter: true, retryInMs: 2_000 })]);
  });

  it('503 with Retry-After as an HTTP date: the retry waits until then', async () => {
    let retryAt = 0;
    receiver.respond = (_request, attempt) => {
      if (attempt > 1) return { status: 200 };
      const date = new Date(Date.now() + 2_600).toUTCString(); // whole seconds: 1.6..2.6 s from now
      retryAt = Date.parse(date);
      return { status: 503, headers: { 'retry-after': date } };
    };
    const id = await fire('10.200.0.0/29');
    await receiver.waitProcessed([id], 'the alert after a 503', 10_000, () => serve.output());
    const [first, second, ...rest] = receiver.requestsFor(id);
    expect(rest).toEqual([]);
    expect(retryAt - first.at).toBeGreaterThan(MAX_BACKOFF_MS + 500);
    expect(second.at).toBeGreaterThanOrEqual(retryAt - 5);
    expect(second.at).toBeLessThan(retryAt + 1_500);
    expect(serve.attempts(id, 'retry')).toEqual([expect.objectContaining({ error: 'HTTP 503', retryAfter: true })]);
  });

  it('every request carried a valid signature; each id was processed once', async () => {
    expect(receiver.requests.length).toBeGreaterThanOrEqual(7);
    expect(receiver.invalid).toEqual([]);
    for (const request of receiver.requests) {
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(signatureValid(SECRET, request)).toBe(true);
      expect(signatureValid(`whsec_${randomBytes(32).toString('base64')}`, request)).toBe(false); // the check is real
      expect(payload(request).id).toBe(request.headers['webhook-id']);
    }
    expect(receiver.processed.size).toBe(4);
    expect(receiver.duplicates.size).toBe(0);
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(serve.stderr).toBe('');
  });
});

describe('webhook delivery from bmpwatch serve: SIGKILL with deliveries pending, restart on the same data dir', () => {
  const receiver = new IdempotentReceiver();
  receivers.push(receiver);

  it('every alert arrives, each id processed once, nothing re-paged', async () => {
    const dir = tempDir();
    const receiverPort = await freePort();
    const configPath = join(dir, 'bmpwatch.yaml');
    writeFileSync(configPath, configText(dir, receiverPort, { concurrency: 2, timeoutMs: 30_000 }));
    const before = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '10.200.0.0/29'];
    const [a, b, c, d] = before;
    const added = '10.201.0.0/29';

    // Run 1: the receiver takes A and B and never answers (processed; the acknowledgement is lost). C and D wait
    // behind concurrency 2, never attempted.
    receiver.respond = () => 'hang';
    await receiver.up(receiverPort);
    const first = await Serve.start(configPath, dir);
    const rs1 = await routeServer(first.bmpPort, ['10.128.1.0/29', a, b]);
    sockets.push(rs1);
    await until(() => receiver.processed.size === 2, 'A and B in flight at the receiver', 10_000, () => first.output());
    announce(rs1, c);
    announce(rs1, d);
    for (const prefix of [c, d]) {
      await first.waitForLog((l) => l.event === 'alert-notification' && l.fingerprint === fingerprintOf(prefix) && l.deliveries === 1, `the delivery of ${prefix} queued`);
    }
    const firingBefore = (await first.alerts()).filter((alert) => alert.state === 'firing');
    const alertsBefore = firingBefore.filter((alert) => alert.rule === 'unexpected-prefix');
    expect(alertsBefore.map((alert) => alert.prefix).sort()).toEqual([...before].sort());
    const idsBefore = new Map(alertsBefore.map((alert) => [alert.prefix as string, expectedId(alert)]));
    expect(new Set(receiver.processed.keys())).toEqual(new Set([idsBefore.get(a), idsBefore.get(b)]));
    await sleep(300); // let C and D sit in the queue a moment
    expect(receiver.requests).toHaveLength(2);

    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    rs1.destroy();
    await receiver.down();

    // Run 2, the receiver down: the stored deliveries are retried with their original ids.
    receiver.respond = () => ({ status: 200 });
    const second = await Serve.start(configPath, dir);
    await second.waitForLog((l) => l.event === 'alerts-restored', 'the alerts restored');
    expect(second.logs.find((l) => l.event === 'alerts-restored')).toMatchObject({ firing: 4 });
    const rs2 = await routeServer(second.bmpPort, ['10.128.1.0/29', ...before, added]);
    sockets.push(rs2);
    for (const [prefix, id] of idsBefore) {
      await until(() => second.attempts(id, 'retry').some((l) => String(l.error).includes('ECONNREFUSED')), `a refused retry of ${prefix} after the restart`, 10_000, () => second.output());
    }
    await second.waitForLog((l) => l.event === 'alert-notification' && l.fingerprint === fingerprintOf(added), 'the new alert');

    const alertsAfter = (await second.alerts()).filter((alert) => alert.rule === 'unexpected-prefix');
    const addedAlert = alertsAfter.find((alert) => alert.prefix === added) as AlertView;
    expect(addedAlert).toMatchObject({ state: 'firing' });
    const expected = new Set([...idsBefore.values(), expectedId(addedAlert)]);

    // The receiver comes up: every alert arrives.
    await receiver.up(receiverPort);
    await receiver.waitProcessed([...expected], 'every alert at the receiver', 15_000, () => second.output());
    await sleep(2_500); // two more evaluation ticks: anything re-paged would arrive now
    expect(new Set(receiver.processed.keys())).toEqual(expected);
    expect(new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])))).toEqual(expected);
    // At-least-once: A and B, in flight at the kill, arrived again with the same id and were processed once.
    expect(new Set(receiver.duplicates.keys())).toEqual(new Set([idsBefore.get(a), idsBefore.get(b)]));
    for (const request of receiver.requests) expect(payload(request)).toMatchObject({ notification: 'firing', sequence: 1 });
    for (const [prefix, id] of idsBefore) expect(payload(receiver.processed.get(id) as Received).alert.fingerprint).toBe(fingerprintOf(prefix));

    // Nothing re-paged: the restored alerts keep their episode, only the new one was notified after the restart.
    for (const alert of alertsBefore) expect(alertsAfter.find((x) => x.fingerprint === alert.fingerprint)).toMatchObject({ state: 'firing', startsAt: alert.startsAt });
    const notified = second.logs.filter((l) => l.event === 'alert-notification').map((l) => l.fingerprint);
    for (const alert of firingBefore) expect(notified).not.toContain(alert.fingerprint);
    expect(notified.filter((fingerprint) => fingerprint === fingerprintOf(added))).toHaveLength(1);
    expect(receiver.invalid).toEqual([]);
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);
});
