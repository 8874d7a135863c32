import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryAlertStateStore } from '../../../src/alerts/state-store.js';
import { InMemoryDeliveryQueue } from '../../../src/alerts/webhook/delivery-queue.js';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { AttributeStore } from '../../../src/rib/attribute-store.js';
import { RouterRib } from '../../../src/rib/router-rib.js';
import { RulesConsumer } from '../../../src/rules/consumer.js';
import { defaultRules } from '../../../src/rules/engine.js';
import type { Rule } from '../../../src/rules/types.js';
import { endOfRib, peer, peerUp, routes, withdraw } from '../../helpers/bmp-builders.js';
import { BASE_CONFIG } from '../rules/support.js';
import { Receiver, signatureValid, type Received } from './receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const receivers: Receiver[] = [];
const consumers: RulesConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop();
  for (const r of receivers.splice(0)) await r.stop();
});

function config(urls: { ops: string; noc?: string }, extra: { maxAttempts?: number } = {}): Config {
  return configSchema.parse({
    ...BASE_CONFIG,
    alerts: {
      holdDownSeconds: 60,
      delivery: { initialBackoffMs: 20, maxBackoffMs: 50 },
      webhooks: [
        { name: 'ops', url: urls.ops, secret: SECRET, maxAttempts: extra.maxAttempts ?? 8, timeoutMs: 500 },
        ...(urls.noc ? [{ name: 'noc', url: urls.noc, format: 'slack' as const, filters: { severities: ['critical' as const] } }] : []),
      ],
    },
  });
}

function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

/** A route server feeding real BMP messages through the RIB into the consumer, on a fake clock. */
function setup(cfg: Config, stores = { alertStore: new InMemoryAlertStateStore(), deliveryQueue: new InMemoryDeliveryQueue() }, rules?: readonly Rule[]) {
  // Real time plus whatever the test skips ahead: timers (retries) keep working, hold-downs can be jumped over.
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const { logger, lines } = logSink();
  const consumer = new RulesConsumer({ config: cfg, clock, logger, ...stores, ...(rules && { rules }) });
  consumers.push(consumer);
  const rib = new RouterRib({ id: '192.0.2.1:40000', address: '192.0.2.1', port: 40000, name: 'rs1' }, { initialDumpTimeoutMs: 60_000, maxRoutes: 1e6, attributes: new AttributeStore() }, (event) => consumer.consume(event));
  const decoder = new BmpSessionDecoder();
  return {
    consumer,
    lines,
    stores,
    rib,
    clock,
    feed(...frames: Buffer[]) {
      for (const frame of frames) {
        const result = decoder.decode(frame);
        if (!result.ok) throw new Error(result.error.code);
        rib.apply(result.value, clock.now());
      }
    },
    advance(ms: number) {
      offset += ms;
      consumer.evaluate();
    },
  };
}

const bodies = (requests: readonly Received[]) => requests.map((r) => JSON.parse(r.body) as { notification: string; alert: { rule: string; key: string; state: string } });

describe('RulesConsumer: BMP events → rules → alerts → signed webhooks', () => {
  const fw1 = peer('100.64.0.11', { as: 64496 });
  const fw1Post = peer('100.64.0.11', { as: 64496, postPolicy: true });
  const fw2 = peer('100.64.0.12', { as: 64496 });

  it('delivers the alert for a bad announcement, nothing for good ones, then the resolve', async () => {
    const receiver = new Receiver();
    receivers.push(receiver);
    const h = setup(config({ ops: await receiver.start() }));
    h.consumer.start();
    h.feed(peerUp(fw1), peerUp(fw2), routes(fw1, ['10.128.1.0/29']), routes(fw2, ['10.128.2.0/29']), endOfRib(fw1), endOfRib(fw2));
    // FRR's order: post-policy first, then pre-policy.
    h.feed(routes(fw1Post, ['10.200.0.0/29']), routes(fw1, ['10.200.0.0/29']));
    await receiver.waitFor(2);
    const received = bodies(receiver.requests);
    expect(received.map((b) => `${b.notification} ${b.alert.rule}/${b.alert.key}`).sort()).toEqual(['firing filter-gap/rs1|fw-01|10.200.0.0/29', 'firing unexpected-prefix/fw-01|10.200.0.0/29']);
    expect(receiver.requests.every((r) => signatureValid(SECRET, r))).toBe(true);
    expect(JSON.parse(receiver.requests[0].body).schema).toBe('bmpwatch.alert/v1');

    h.feed(withdraw(fw1Post, ['10.200.0.0/29']), withdraw(fw1, ['10.200.0.0/29']));
    h.advance(30_000);
    expect(receiver.requests).toHaveLength(2); // still in the hold-down
    h.advance(35_000);
    await receiver.waitFor(4);
    expect(bodies(receiver.requests.slice(2)).map((b) => `${b.notification} ${b.alert.state}`)).toEqual(['resolved resolved', 'resolved resolved']);
  });

  it('after a restart with the same stores, the initial dump re-pages nothing', async () => {
    const receiver = new Receiver();
    receivers.push(receiver);
    const cfg = config({ ops: await receiver.start() });
    const first = setup(cfg);
    first.consumer.start();
    first.feed(peerUp(fw1), routes(fw1, ['10.200.0.0/29']));
    await receiver.waitFor(1);
    await first.consumer.stop();

    const second = setup(cfg, first.stores);
    second.consumer.start();
    second.feed(peerUp(fw1), routes(fw1, ['10.200.0.0/29']), endOfRib(fw1));
    second.advance(700_000); // past the restore grace: the alert was confirmed, so it neither resolves nor repeats
    await second.consumer.webhooks.idle();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.requests).toHaveLength(1);
    expect(second.consumer.alerts.alerts({ state: 'firing' }).map((a) => a.fingerprint)).toEqual(['unexpected-prefix/fw-01|10.200.0.0/29']);
  });

  it('after a restart, a route-flap alert stays firing past the restore grace (the rule took it over) and resolves as its figure of merit decays', async () => {
    const receiver = new Receiver();
    receivers.push(receiver);
    const cfg = config({ ops: await receiver.start() });
    const first = setup(cfg);
    first.consumer.start();
    first.feed(peerUp(fw1), routes(fw1, ['10.128.1.0/29']), endOfRib(fw1));
    for (let i = 0; i < 4; i++) first.feed(withdraw(fw1, ['10.128.1.0/29']), routes(fw1, ['10.128.1.0/29']));
    await receiver.waitFor(1);
    expect(bodies(receiver.requests).map((b) => `${b.notification} ${b.alert.rule}`)).toEqual(['firing route-flap']);
    await first.consumer.stop();

    const second = setup(cfg, first.stores);
    second.consumer.start();
    expect(second.lines.some((line) => line.includes('alerts-adopted'))).toBe(true);
    second.feed(peerUp(fw1), routes(fw1, ['10.128.1.0/29']), endOfRib(fw1)); // the route server's dump: no flap
    second.advance(700_000); // past the 600 s restore grace
    await second.consumer.webhooks.idle();
    expect(receiver.requests).toHaveLength(1); // nothing re-paged, nothing resolved
    expect(second.consumer.alerts.alerts({ state: 'firing' }).map((a) => a.fingerprint)).toEqual(['route-flap/fw-01|10.128.1.0/29']);
    // ~4,000 decays below 750 after about 2.4 half-lives (36 min), then the 60 s hold-down.
    for (let i = 0; i < 40; i++) second.advance(60_000);
    await receiver.waitFor(2);
    expect(bodies(receiver.requests.slice(1)).map((b) => `${b.notification} ${b.alert.rule}`)).toEqual(['resolved route-flap']);
    const [resolved] = second.consumer.alerts.alerts({ state: 'resolved' });
    expect(resolved.resolveReason).toMatch(/figure of merit decayed to \d+, below 750/);
  });

  it('after a restart, a feed-lost alert stays firing while the route server stays away, and resolves when it streams again', async () => {
    const receiver = new Receiver();
    receivers.push(receiver);
    const cfg = config({ ops: await receiver.start() });
    const first = setup(cfg);
    first.consumer.start();
    first.feed(peerUp(fw1), routes(fw1, ['10.128.1.0/29']), endOfRib(fw1));
    first.rib.close('closed', 'connection reset', first.clock.now());
    first.advance(cfg.rules.feedHealth.lostGraceSeconds * 1000 + 10_000);
    await receiver.waitFor(1);
    expect(bodies(receiver.requests).map((b) => `${b.notification} ${b.alert.rule}/${b.alert.key}`)).toEqual(['firing feed-lost/rs1']);
    await first.consumer.stop();

    const second = setup(cfg, first.stores);
    second.consumer.start();
    second.advance(700_000); // past the 600 s restore grace, route server still away
    await second.consumer.webhooks.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(second.consumer.alerts.alerts({ state: 'firing' }).map((a) => a.fingerprint)).toEqual(['feed-lost/rs1']);
    second.feed(peerUp(fw1)); // the route server streams again: a new connection's events
    second.advance(cfg.alerts.holdDownSeconds * 1000 + 5_000);
    await receiver.waitFor(2);
    expect(bodies(receiver.requests.slice(1)).map((b) => `${b.notification} ${b.alert.rule}`)).toEqual(['resolved feed-lost']);
  });

  it('raises a meta-alert when a target exhausts its retries; it goes to the other target, never to the failing one', async () => {
    const noc = new Receiver();
    receivers.push(noc);
    const nocUrl = await noc.start();
    const dead = new Receiver();
    receivers.push(dead);
    const deadUrl = await dead.start();
    dead.fallback = { status: 500 };
    const h = setup(config({ ops: deadUrl, noc: nocUrl }, { maxAttempts: 2 }));
    h.consumer.start();
    h.feed(peerUp(fw1), routes(fw1, ['10.200.0.0/29'])); // a warning: noc (critical only) does not get it
    await dead.waitFor(2);
    await noc.waitFor(1);
    await h.consumer.webhooks.idle();
    const slack = JSON.parse(noc.requests[0].body) as { text: string };
    expect(slack.text).toContain('Webhook ops failed');
    expect(h.consumer.alerts.alert('webhook-delivery/ops')?.state).toBe('firing');
    expect(dead.requests).toHaveLength(2);
    const log = h.lines.join('');
    expect(log).toContain('"event":"webhook"');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(deadUrl);
  });

  it('logs and isolates a failing rule; the other rules keep alerting', async () => {
    const receiver = new Receiver();
    receivers.push(receiver);
    const broken: Rule = {
      id: 'as-path',
      onEvent() {
        throw new Error('bug in as-path');
      },
    };
    const h = setup(config({ ops: await receiver.start() }), undefined, [broken, ...defaultRules().filter((r) => r.id !== 'as-path')]);
    h.consumer.start();
    h.feed(peerUp(fw1), routes(fw1, ['10.200.0.0/29']));
    await receiver.waitFor(2);
    expect(bodies(receiver.requests).map((b) => b.alert.rule).sort()).toEqual(['rule-error', 'unexpected-prefix']);
    expect(h.lines.join('')).toContain('"event":"rule-error","rule":"as-path","error":"bug in as-path","trigger":"peer-up"');
  });
});
