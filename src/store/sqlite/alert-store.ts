/**
 * Alert state, silences and the webhook delivery queue in the embedded SQLite file, so a restart neither re-pages
 * nor forgets: the alert manager and the webhook dispatcher (src/alerts) write through these synchronously.
 * Alert records and silences are stored whole as JSON (their shape belongs to src/alerts); the columns beside them
 * are only what queries select on.
 */
import type { AlertStateStore } from '../../alerts/state-store.js';
import type { AlertRecord, Silence } from '../../alerts/types.js';
import type { Delivery, DeliveryQueue, DeliveryState, EnqueueResult, NewDelivery } from '../../alerts/webhook/delivery-queue.js';
import type { SqliteDatabase } from './database.js';

export class SqliteAlertStateStore implements AlertStateStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      loadAlerts: db.prepare('SELECT record FROM alerts'),
      saveAlert: db.prepare('INSERT OR REPLACE INTO alerts (fingerprint, state, updated_at, record) VALUES (?, ?, ?, ?)'),
      deleteAlert: db.prepare('DELETE FROM alerts WHERE fingerprint = ?'),
      loadSilences: db.prepare('SELECT record FROM silences'),
      saveSilence: db.prepare('INSERT OR REPLACE INTO silences (id, ends_at, record) VALUES (?, ?, ?)'),
      deleteSilence: db.prepare('DELETE FROM silences WHERE id = ?'),
    };
  }

  loadAlerts(): AlertRecord[] {
    return (this.statements.loadAlerts.all() as { record: string }[]).map((row) => JSON.parse(row.record) as AlertRecord);
  }

  saveAlert(alert: AlertRecord): void {
    this.statements.saveAlert.run(alert.fingerprint, alert.state, alert.updatedAt, JSON.stringify(alert));
  }

  deleteAlert(fingerprint: string): void {
    this.statements.deleteAlert.run(fingerprint);
  }

  loadSilences(): Silence[] {
    return (this.statements.loadSilences.all() as { record: string }[]).map((row) => JSON.parse(row.record) as Silence);
  }

  saveSilence(silence: Silence): void {
    this.statements.saveSilence.run(silence.id, silence.endsAt, JSON.stringify(silence));
  }

  deleteSilence(id: string): void {
    this.statements.deleteSilence.run(id);
  }
}

interface DeliveryRow {
  id: string;
  target: string;
  fingerprint: string;
  kind: string;
  body: string;
  created_at: number;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  finished_at: number | null;
}

function fromRow(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    target: row.target,
    fingerprint: row.fingerprint,
    kind: row.kind,
    body: row.body,
    createdAt: row.created_at,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
  };
}

/** Webhook deliveries that survive a restart: a delivery being attempted when the process died is still pending. */
export class SqliteDeliveryQueue implements DeliveryQueue {
  private readonly statements;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxPending = 10_000,
  ) {
    this.statements = {
      exists: db.prepare('SELECT 1 FROM deliveries WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO deliveries (id, target, fingerprint, kind, body, created_at, state, attempts, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)`,
      ),
      due: db.prepare(`SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?`),
      nextDue: db.prepare(`SELECT min(next_attempt_at) AS next FROM deliveries WHERE state = 'pending'`),
      delivered: db.prepare(`UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, finished_at = ? WHERE id = ?`),
      reschedule: db.prepare('UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?'),
      failed: db.prepare(`UPDATE deliveries SET state = 'failed', attempts = ?, last_error = ?, finished_at = ? WHERE id = ?`),
      pending: db.prepare(`SELECT count(*) AS n FROM deliveries WHERE state = 'pending'`),
      get: db.prepare('SELECT * FROM deliveries WHERE id = ?'),
      prune: db.prepare('DELETE FROM deliveries WHERE finished_at IS NOT NULL AND finished_at < ?'),
    };
  }

  enqueue(delivery: NewDelivery): EnqueueResult {
    if (this.statements.exists.get(delivery.id) !== undefined) return 'duplicate';
    if (this.pendingCount() >= this.maxPending) return 'full';
    this.statements.insert.run(delivery.id, delivery.target, delivery.fingerprint, delivery.kind, delivery.body, delivery.createdAt, delivery.createdAt);
    return 'queued';
  }

  due(now: number, limit: number, exclude: ReadonlySet<string>): Delivery[] {
    // Fetch enough rows to skip the excluded (in-flight) ones and still fill the limit.
    const rows = this.statements.due.all(now, limit + exclude.size) as DeliveryRow[];
    return rows.filter((row) => !exclude.has(row.id)).slice(0, limit).map(fromRow);
  }

  nextDueAt(): number | undefined {
    const row = this.statements.nextDue.get() as { next: number | null };
    return row.next ?? undefined;
  }

  markDelivered(id: string, now: number): void {
    this.statements.delivered.run(now, id);
  }

  reschedule(id: string, attempts: number, nextAttemptAt: number, error: string): void {
    this.statements.reschedule.run(attempts, nextAttemptAt, error, id);
  }

  markFailed(id: string, attempts: number, now: number, error: string): void {
    this.statements.failed.run(attempts, error, now, id);
  }

  pendingCount(): number {
    return (this.statements.pending.get() as { n: number }).n;
  }

  get(id: string): Delivery | undefined {
    const row = this.statements.get.get(id) as DeliveryRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  prune(before: number): void {
    this.statements.prune.run(before);
  }

  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
