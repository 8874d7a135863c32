import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertNotification, AlertRecord } from '../../../src/alerts/types.js';
import { parseRetryAfter, backoffDelay } from '../../../src/alerts/webhook/backoff.js';
import { InMemoryDeliveryQueue } from '../../../src/alerts/webhook/delivery-queue.js';
import { WebhookDispatcher, acceptsNotification, deliveryId } from '../../../src/alerts/webhook/dispatcher.js';
import { configSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { Receiver, signatureValid } from './receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const ALERT: AlertRecord = {
  fingerprint: 'unexpected-prefix/fw-01|10.200.0.0/29',
  rule: 'unexpected-prefix',
  key: 'fw-01|10.200.0.0/29',
  severity: 'critical',
  state: 'firing',
  summary: 'fw-01 (firewalls) announces 10.200.0.0/29: out-of-range',
  explanation: 'outside the ranges',
  suggestedAction: 'stop announcing it',
  router: 'rs1',
  appliance: 'fw-01',
  group: 'firewalls',
  prefix: '10.200.0.0/29',
  peer: { address: '100.64.0.11', as: 64496, bgpId: '100.64.0.11' },
  startsAt: Date.UTC(2025, 0, 1),
  updatedAt: Date.UTC(2025, 0, 1),
  notifications: 1,
};

function notification(overrides: Partial<AlertRecord> = {}, kind: AlertNotification['kind'] = 'firing', sequence = 1): AlertNotification {
  return { kind, alert: { ...ALERT, ...overrides }, sequence, time: Date.UTC(2025, 0, 1) };
}

function webhooks(url: string, extra: Record<string, unknown> = {}) {
  return configSchema.parse({
    alerts: {
      delivery: { initialBackoffMs: 40, maxBackoffMs: 200, maxRetryAfterSeconds: 5 },
      webhooks: [{ name: 'ops', url, secret: SECRET, timeoutMs: 300, maxAttempts: 4, ...extra }],
    },
  }).alerts;
}

const receivers: Receiver[] = [];
const dispatchers: WebhookDispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop();
  for (const r of receivers.splice(0)) await r.stop();
});

async function setup(extra: Record<string, unknown> = {}) {
  const receiver = new Receiver();
  receivers.push(receiver);
  const url = await receiver.start();
  const alerts = webhooks(url, extra);
  const queue = new InMemoryDeliveryQueue();
  const exhausted: string[] = [];
  const dispatcher = new WebhookDispatcher({
    queue,
    clock: systemClock,
    logger: createLogger('silent'),
    settings: { webhooks: alerts.webhooks, delivery: alerts.delivery, externalUrl: 'http://127.0.0.1:11080/' },
    random: () => 0,
    onExhausted: (_, reason) => exhausted.push(reason),
  });
  dispatchers.push(dispatcher);
  dispatcher.start();
  return { receiver, queue, dispatcher, exhausted, url };
}

describe('webhook delivery to a real receiver on 127.0.0.1', () => {
  it('retries after a 500 and delivers on the 200, with the same id and a valid signature each time', async () => {
    const { receiver, queue, dispatcher } = await setup();
    receiver.replies = [{ status: 500 }];
    expect(dispatcher.enqueue(notification())).toBe(1);
    await receiver.waitFor(2);
    await dispatcher.idle();
    const [first, second] = receiver.requests;
    expect(first.headers['webhook-id']).toBe(second.headers['webhook-id']);
    expect(first.body).toBe(second.body);
    expect(receiver.requests.every((r) => signatureValid(SECRET, r))).toBe(true);
    expect(second.at - first.at).toBeGreaterThanOrEqual(15); // backoff, not an immediate retry
    expect(queue.get(String(first.headers['webhook-id']))).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(dispatcher.counters).toMatchObject({ delivered: 1, retried: 1, failed: 0 });
  });

  it('honours Retry-After on 429', async () => {
    const { receiver, dispatcher } = await setup();
    receiver.replies = [{ status: 429, headers: { 'retry-after': '1' } }];
    dispatcher.enqueue(notification());
    await receiver.waitFor(2);
    expect(receiver.requests[1].at - receiver.requests[0].at).toBeGreaterThanOrEqual(950);
  });

  it('honours Retry-After on 503 (HTTP date, capped at maxRetryAfterSeconds)', () => {
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter(' 7 ', now)).toBe(7_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('stops on 410 Gone after one attempt and reports it', async () => {
    const { receiver, queue, dispatcher, exhausted } = await setup();
    receiver.fallback = { status: 410 };
    dispatcher.enqueue(notification());
    await receiver.waitFor(1);
    await dispatcher.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(1);
    expect(exhausted).toEqual(['410 Gone: the receiver no longer accepts messages']);
    expect(queue.pendingCount()).toBe(0);
  });

  it('keeps retrying while the receiver is down and delivers once it is up again', async () => {
    const { receiver, dispatcher, url } = await setup({ maxAttempts: 20 });
    const port = receiver.port;
    await receiver.stop();
    dispatcher.enqueue(notification());
    await new Promise((resolve) => setTimeout(resolve, 400)); // several refused attempts
    expect(dispatcher.counters.retried).toBeGreaterThanOrEqual(2);
    const again = new Receiver();
    receivers.push(again);
    expect(await again.start(port)).toBe(url);
    await again.waitFor(1);
    await dispatcher.idle();
    expect(dispatcher.counters.delivered).toBe(1);
    expect(signatureValid(SECRET, again.requests[0])).toBe(true);
  });

  it('times out a receiver that never answers, and gives up after maxAttempts', async () => {
    const { receiver, dispatcher, exhausted } = await setup({ maxAttempts: 2 });
    receiver.fallback = 'hang';
    dispatcher.enqueue(notification());
    await receiver.waitFor(2);
    await dispatcher.idle();
    expect(exhausted).toEqual(['timeout after 2 attempts']);
  });

  it('lets an idempotent receiver process each message once although it arrives twice', async () => {
    const { receiver, dispatcher } = await setup();
    // The receiver processes the first request but its answer is lost (a 502 from a proxy): the sender retries.
    receiver.replies = [{ status: 502 }];
    const processed = new Set<string>();
    dispatcher.enqueue(notification());
    dispatcher.enqueue(notification()); // the same notification again (e.g. replayed after a restart): same id
    dispatcher.enqueue(notification({}, 'resolved', 2));
    await receiver.waitFor(3);
    await dispatcher.idle();
    for (const request of receiver.requests) processed.add(String(request.headers['webhook-id']));
    expect(receiver.requests).toHaveLength(3);
    expect(processed.size).toBe(2);
  });

  it('does not follow redirects (3xx is a failure)', async () => {
    const { receiver, dispatcher } = await setup();
    receiver.replies = [{ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }];
    dispatcher.enqueue(notification());
    await receiver.waitFor(2);
    expect(receiver.requests.every((r) => r.path === '/hook')).toBe(true);
  });
});

describe('webhook routing', () => {
  const target = (filters: Record<string, unknown>) => webhooks('http://127.0.0.1:9/', { filters }).webhooks[0];

  it('filters by severity (default warning and critical), rule, group and sendResolved', () => {
    expect(acceptsNotification(target({}), notification())).toBe(true);
    expect(acceptsNotification(target({}), notification({ severity: 'info' }))).toBe(false);
    expect(acceptsNotification(target({ rules: ['route-flap'] }), notification())).toBe(false);
    expect(acceptsNotification(target({ groups: ['lbs'] }), notification())).toBe(false);
    expect(acceptsNotification(target({ groups: ['lbs'] }), notification({ group: 'firewalls, lbs' }))).toBe(true);
    expect(acceptsNotification(target({ groups: ['lbs'] }), notification({ group: undefined }))).toBe(true);
    expect(acceptsNotification(target({ sendResolved: false }), notification({ state: 'resolved' }, 'resolved'))).toBe(false);
  });

  it('gives each (target, alert episode, notification) a stable id', () => {
    expect(deliveryId('ops', notification())).toBe(deliveryId('ops', notification()));
    expect(deliveryId('ops', notification())).not.toBe(deliveryId('ops', notification({}, 'repeat', 2)));
    expect(deliveryId('ops', notification())).not.toBe(deliveryId('noc', notification()));
    expect(deliveryId('ops', notification())).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('backs off exponentially with jitter between half and all of the step, capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 5000, () => 0))).toEqual([500, 1000, 2000, 2500]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 5000, () => 0.999999))).toEqual([1000, 2000, 4000, 5000]);
  });

  it('bounds the queue: beyond maxQueued, deliveries are dropped and counted', () => {
    const queue = new InMemoryDeliveryQueue(1);
    const alerts = webhooks('http://127.0.0.1:9/');
    const dispatcher = new WebhookDispatcher({ queue, clock: systemClock, logger: createLogger('silent'), settings: { webhooks: alerts.webhooks, delivery: alerts.delivery, externalUrl: '' } });
    dispatcher.enqueue(notification());
    dispatcher.enqueue(notification({}, 'repeat', 2));
    expect(dispatcher.counters).toMatchObject({ queued: 1, dropped: 1 });
  });
});
