import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryAlertStateStore } from '../../../src/alerts/state-store.js';
import type { AlertRecord, Silence } from '../../../src/alerts/types.js';
import { InMemoryDeliveryQueue, type DeliveryQueue } from '../../../src/alerts/webhook/delivery-queue.js';
import { SqliteAlertStateStore, SqliteDeliveryQueue } from '../../../src/store/sqlite/alert-store.js';
import { databasePath, openDatabase, type SqliteDatabase } from '../../../src/store/sqlite/database.js';

const alert = (fingerprint: string, state: AlertRecord['state'], updatedAt: number): AlertRecord =>
  ({
    rule: 'next-hop',
    key: fingerprint.split('/')[1] ?? fingerprint,
    fingerprint,
    severity: 'critical',
    summary: 'next hop 10.0.0.9 is not the session address 10.0.0.5',
    explanation: 'x "quoted" \\ and\nnewline',
    suggestedAction: 'fix the appliance',
    router: 'rs1',
    prefix: '10.128.1.0/29',
    details: { count: 3, nested: { ok: true } },
    state,
    startsAt: 1000,
    updatedAt,
    notifications: 1,
  }) as AlertRecord;

const silence: Silence = {
  id: 's1',
  matchers: [{ name: 'rule', value: 'route-flap', isRegex: false, isEqual: true }],
  reason: 'maintenance',
  createdBy: 'ops',
  createdAt: 1,
  startsAt: 1,
  endsAt: 99,
};

let dir: string;
let db: SqliteDatabase;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmpwatch-alert-store-'));
  db = openDatabase(databasePath(dir));
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteAlertStateStore', () => {
  it('behaves as the in-memory store and keeps everything across a reopen', () => {
    const memory = new InMemoryAlertStateStore();
    const sqlite = new SqliteAlertStateStore(db);
    for (const store of [memory, sqlite]) {
      store.saveAlert(alert('next-hop/a', 'firing', 1));
      store.saveAlert(alert('next-hop/b', 'firing', 2));
      store.saveAlert(alert('next-hop/a', 'resolved', 3));
      store.deleteAlert('next-hop/b');
      store.saveSilence(silence);
      store.saveSilence({ ...silence, id: 's2' });
      store.deleteSilence('s2');
    }
    expect(sqlite.loadAlerts()).toEqual(memory.loadAlerts());
    expect(sqlite.loadSilences()).toEqual(memory.loadSilences());
    db.close();
    db = openDatabase(databasePath(dir));
    const reopened = new SqliteAlertStateStore(db);
    expect(reopened.loadAlerts()).toEqual([alert('next-hop/a', 'resolved', 3)]);
    expect(reopened.loadSilences()).toEqual([silence]);
  });
});

describe('SqliteDeliveryQueue', () => {
  function exercise(queue: DeliveryQueue): unknown[] {
    const log: unknown[] = [];
    const add = (id: string, createdAt: number) => queue.enqueue({ id, target: 'ops', fingerprint: 'f', kind: 'firing', body: `{"id":"${id}"}`, createdAt });
    log.push(add('d1', 10), add('d2', 20), add('d3', 30), add('d1', 40), add('d4', 50));
    log.push(queue.due(25, 10, new Set()).map((d) => d.id));
    log.push(queue.due(100, 10, new Set(['d1'])).map((d) => d.id));
    log.push(queue.due(100, 1, new Set(['d1'])).map((d) => d.id));
    queue.markDelivered('d1', 60);
    queue.reschedule('d2', 1, 500, 'HTTP 503');
    queue.markFailed('d3', 5, 70, 'HTTP 410 Gone');
    log.push(queue.nextDueAt(), queue.pendingCount(), queue.get('d2'), queue.get('d3'), queue.get('d1'));
    log.push(queue.due(1000, 10, new Set()).map((d) => d.id));
    queue.prune(65);
    log.push(queue.get('d1'), queue.get('d3')?.id);
    return log;
  }

  it('behaves as the in-memory queue (dedupe, bound, due order, exclusions, retries, failures, pruning)', () => {
    const memory = exercise(new InMemoryDeliveryQueue(3));
    const sqlite = exercise(new SqliteDeliveryQueue(db, 3));
    expect(sqlite).toEqual(memory);
    expect(memory.slice(0, 5)).toEqual(['queued', 'queued', 'queued', 'duplicate', 'full']);
  });

  it('keeps pending deliveries across a restart, with the same id and body', () => {
    const queue = new SqliteDeliveryQueue(db);
    queue.enqueue({ id: 'msg_1', target: 'ops', fingerprint: 'f', kind: 'firing', body: '{"a":1}', createdAt: 5 });
    queue.reschedule('msg_1', 2, 50, 'connect ECONNREFUSED');
    db.close();
    db = openDatabase(databasePath(dir));
    const reopened = new SqliteDeliveryQueue(db);
    expect(reopened.due(100, 10, new Set())).toEqual([
      { id: 'msg_1', target: 'ops', fingerprint: 'f', kind: 'firing', body: '{"a":1}', createdAt: 5, state: 'pending', attempts: 2, nextAttemptAt: 50, lastError: 'connect ECONNREFUSED' },
    ]);
  });
});
