/**
 * An alert's notified state and the webhook deliveries it makes are stored together (embedded store).
 *
 * The alert manager records an alert as notified (sequence 1, lastNotifiedAt) and the consumer then queues its
 * deliveries: two writes. A process killed between them used to leave an alert stored as already notified with
 * no delivery queued; after the restart the route server's table re-asserts the restored alert, which (rightly)
 * sends nothing new: the firing webhook was never sent by anyone. The kill is simulated by a queue whose enqueue
 * throws (a write that never happens); then the database is reopened as a restarted collector would, the route
 * server sends its table again, and the alert must reach the webhook.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryQueue } from '../../../src/alerts/webhook/delivery-queue.js';
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import { configSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { AttributeStore } from '../../../src/rib/attribute-store.js';
import { RouterRib } from '../../../src/rib/router-rib.js';
import { RulesConsumer } from '../../../src/rules/consumer.js';
import { SqliteAlertStateStore, SqliteDeliveryQueue } from '../../../src/store/sqlite/alert-store.js';
import { databasePath, openDatabase, type SqliteDatabase } from '../../../src/store/sqlite/database.js';
import { peer, peerUp, routes } from '../../helpers/bmp-builders.js';
import { BASE_CONFIG } from '../rules/support.js';

const CONFIG = configSchema.parse({
  ...BASE_CONFIG,
  alerts: { webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/hook', filters: { rules: ['unexpected-prefix'] } }] },
});
const FINGERPRINT = 'unexpected-prefix/fw-01|192.0.2.0/24';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The collector's rules on the embedded store in `dir`; `queue` may wrap the store's delivery queue. */
function collector(db: SqliteDatabase, wrap: (queue: DeliveryQueue) => DeliveryQueue, sent: string[]) {
  const consumer = new RulesConsumer({
    config: CONFIG,
    clock: { now: () => Date.now() },
    logger: createLogger('silent'),
    alertStore: new SqliteAlertStateStore(db),
    deliveryQueue: wrap(new SqliteDeliveryQueue(db)),
    fetch: (_url, init) => {
      sent.push(String(init?.body));
      return Promise.resolve(new Response(null, { status: 204 }));
    },
  });
  const rib = new RouterRib({ id: '127.0.0.1:40000', address: '127.0.0.1', port: 40000, name: 'rs1' }, { initialDumpTimeoutMs: 60_000, maxRoutes: 1e6, attributes: new AttributeStore() }, (event) => consumer.consume(event));
  const decoder = new BmpSessionDecoder();
  return {
    consumer,
    /** The route server's table: the appliance's session and one prefix outside its group's range. */
    sendTable(): void {
      const header = peer('100.64.0.11', { as: 64496 });
      for (const frame of [peerUp(header), routes(header, ['192.0.2.0/24'], { nextHop: '100.64.0.11' })]) {
        const decoded = decoder.decode(frame);
        if (!decoded.ok) throw new Error(decoded.error.code);
        rib.apply(decoded.value, Date.now());
      }
    },
  };
}

/** The process dies when the delivery is about to be written: enqueue never happens. */
function killedAtEnqueue(queue: DeliveryQueue): DeliveryQueue {
  return new Proxy(queue, {
    get(target, property) {
      if (property === 'enqueue') {
        return () => {
          throw new Error('killed');
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('alert state and webhook deliveries are written together', () => {
  it('a collector killed between the two loses nothing: after the restart the alert is sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-notify-atomic-'));
    dirs.push(dir);

    const first = openDatabase(databasePath(dir));
    const sentBefore: string[] = [];
    const dying = collector(first, killedAtEnqueue, sentBefore);
    expect(() => dying.sendTable()).toThrow('killed');
    first.close();

    // What a restarted collector finds: either the alert and its delivery, or neither.
    const db = openDatabase(databasePath(dir));
    cleanups.push(() => db.close());
    const stored = new SqliteAlertStateStore(db).loadAlerts().find((alert) => alert.fingerprint === FINGERPRINT);
    const queued = db.prepare('SELECT count(*) AS n FROM deliveries WHERE fingerprint = ?').get(FINGERPRINT) as { n: number };
    expect(stored?.notifications ?? 0).toBe(queued.n);

    const sent: string[] = [];
    const restarted = collector(db, (queue) => queue, sent);
    restarted.consumer.start();
    cleanups.push(() => restarted.consumer.stop());
    restarted.sendTable();
    await restarted.consumer.webhooks.idle();
    expect(sent.map((body) => JSON.parse(body) as { notification: string; alert: { fingerprint: string } })).toEqual([
      expect.objectContaining({ notification: 'firing', alert: expect.objectContaining({ fingerprint: FINGERPRINT }) }),
    ]);
    expect(sentBefore).toEqual([]);
  });
});
