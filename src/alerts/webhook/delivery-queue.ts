/**
 * The webhook delivery queue: what is still to be sent, to whom, and when to try next.
 *
 * A delivery is one rendered message for one target. Its id is the Standard Webhooks `webhook-id`: fixed when the
 * delivery is created and the same on every retry, so an idempotent receiver processes it once however often it
 * arrives. The body is stored rendered (retries send the same bytes); the target's URL and secret are not stored
 * (looked up by name at send time: secrets stay in the configuration, and a reload applies to queued messages).
 *
 * The interface is synchronous like the alert state store (better-sqlite3). A durable implementation must keep
 * pending deliveries across restarts; one that is being attempted when the process dies stays pending and is sent
 * again with the same id (at-least-once delivery).
 *
 * InMemoryDeliveryQueue: bounded, for tests and until the SQLite queue is wired in.
 */

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface NewDelivery {
  readonly id: string;
  /** alerts.webhooks[].name */
  readonly target: string;
  readonly fingerprint: string;
  /** Notification kind (firing, repeat, escalated, resolved). */
  readonly kind: string;
  readonly body: string;
  readonly createdAt: number;
}

export interface Delivery extends NewDelivery {
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError?: string;
  readonly finishedAt?: number;
}

export type EnqueueResult = 'queued' | 'duplicate' | 'full';

export interface DeliveryQueue {
  /** Adds a pending delivery due now. 'duplicate' if the id is already known; 'full' beyond the queue's bound. */
  enqueue(delivery: NewDelivery): EnqueueResult;
  /** Pending deliveries with nextAttemptAt <= now, oldest first, at most `limit`, skipping ids in `exclude`. */
  due(now: number, limit: number, exclude: ReadonlySet<string>): Delivery[];
  /** Earliest nextAttemptAt of the pending deliveries. */
  nextDueAt(): number | undefined;
  markDelivered(id: string, now: number): void;
  /** Another attempt failed: count it and set the time of the next one. */
  reschedule(id: string, attempts: number, nextAttemptAt: number, error: string): void;
  /** Given up (retries exhausted, 410 Gone, target removed): kept as failed for inspection. */
  markFailed(id: string, attempts: number, now: number, error: string): void;
  /** Pending deliveries. */
  pendingCount(): number;
  /** One delivery by id (any state), for tests and the API. */
  get(id: string): Delivery | undefined;
  /** Forget finished (delivered or failed) deliveries older than `before`. */
  prune(before: number): void;
  /**
   * Runs `fn` as one transaction: its writes to this queue, and to whatever shares the queue's store (the alert
   * state, in the embedded store), are all kept or none is. Optional (nothing to make atomic in memory).
   */
  atomically?<T>(fn: () => T): T;
}

export class InMemoryDeliveryQueue implements DeliveryQueue {
  private readonly deliveries = new Map<string, Delivery>();

  constructor(private readonly maxPending = 10_000) {}

  enqueue(delivery: NewDelivery): EnqueueResult {
    if (this.deliveries.has(delivery.id)) return 'duplicate';
    if (this.pendingCount() >= this.maxPending) return 'full';
    this.deliveries.set(delivery.id, { ...delivery, state: 'pending', attempts: 0, nextAttemptAt: delivery.createdAt });
    return 'queued';
  }

  due(now: number, limit: number, exclude: ReadonlySet<string>): Delivery[] {
    const out: Delivery[] = [];
    for (const delivery of this.deliveries.values()) {
      if (delivery.state === 'pending' && delivery.nextAttemptAt <= now && !exclude.has(delivery.id)) out.push(delivery);
    }
    return out.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt).slice(0, limit);
  }

  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const delivery of this.deliveries.values()) {
      if (delivery.state === 'pending' && (next === undefined || delivery.nextAttemptAt < next)) next = delivery.nextAttemptAt;
    }
    return next;
  }

  markDelivered(id: string, now: number): void {
    this.update(id, (d) => ({ ...d, state: 'delivered', attempts: d.attempts + 1, finishedAt: now }));
  }

  reschedule(id: string, attempts: number, nextAttemptAt: number, error: string): void {
    this.update(id, (d) => ({ ...d, attempts, nextAttemptAt, lastError: error }));
  }

  markFailed(id: string, attempts: number, now: number, error: string): void {
    this.update(id, (d) => ({ ...d, state: 'failed', attempts, lastError: error, finishedAt: now }));
  }

  pendingCount(): number {
    let count = 0;
    for (const delivery of this.deliveries.values()) if (delivery.state === 'pending') count++;
    return count;
  }

  get(id: string): Delivery | undefined {
    return this.deliveries.get(id);
  }

  all(): Delivery[] {
    return [...this.deliveries.values()];
  }

  prune(before: number): void {
    for (const [id, delivery] of this.deliveries) if (delivery.finishedAt !== undefined && delivery.finishedAt < before) this.deliveries.delete(id);
  }

  private update(id: string, change: (delivery: Delivery) => Delivery): void {
    const delivery = this.deliveries.get(id);
    if (delivery !== undefined) this.deliveries.set(id, change(delivery));
  }
}
