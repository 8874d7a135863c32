/**
 * Webhook delivery: notifications → per-target deliveries in the DeliveryQueue → HTTP POSTs.
 *
 * Per target (alerts.webhooks[]): filters (severities, rules, groups, sendResolved), a format (payload.ts), an
 * optional Standard Webhooks secret (signing.ts), timeoutMs, maxAttempts.
 *
 * Sending: up to alerts.delivery.concurrency requests at once over all targets; a new delivery is sent at once
 * (not at the next tick: alert latency matters). Outcome of one attempt:
 * - 2xx: delivered. 3xx counts as a failure (Standard Webhooks: receivers must answer 2xx; redirects are not
 *   followed, so a signed body is never sent somewhere else).
 * - 410 Gone: stop; the delivery fails at once (the receiver says the endpoint is gone).
 * - 429 / 503 with Retry-After: retry after that long (capped at maxRetryAfterSeconds).
 * - anything else, timeout, connection error: retry with exponential backoff and jitter (backoff.ts).
 * - after maxAttempts attempts: failed. Failures (exhausted or 410) call onExhausted: the consumer raises the
 *   meta-alert webhook-delivery/<target>, which goes to the other targets.
 * Secrets and URLs are never logged (Slack URLs are secrets themselves): logs name the target.
 */
import { createHash } from 'node:crypto';
import type { AlertsConfig, WebhookConfig } from '../../config/rules-schema.js';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../util/clock.js';
import type { AlertNotification } from '../types.js';
import { backoffDelay, parseRetryAfter } from './backoff.js';
import type { Delivery, DeliveryQueue } from './delivery-queue.js';
import { renderPayload } from './payload.js';
import { webhookHeaders } from './signing.js';

export interface WebhookSettings {
  readonly webhooks: readonly WebhookConfig[];
  readonly delivery: AlertsConfig['delivery'];
  /** Where alerts can be looked at (Alertmanager's externalURL / generatorURL). */
  readonly externalUrl: string;
}

export interface WebhookDispatcherOptions {
  readonly queue: DeliveryQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: WebhookSettings;
  readonly fetch?: typeof fetch;
  /** [0, 1); Math.random by default (tests make jitter deterministic). */
  readonly random?: () => number;
  readonly onExhausted?: (delivery: Delivery, reason: string) => void;
  readonly onDelivered?: (delivery: Delivery) => void;
  readonly userAgent?: string;
}

export interface DispatcherCounters {
  queued: number;
  delivered: number;
  retried: number;
  failed: number;
  dropped: number;
}

/** The timer never sleeps longer than this, so a clock jump or an outside change to the queue is noticed. */
const MAX_SLEEP_MS = 30_000;

/** Stable delivery id (Standard Webhooks "msg_…"): the same target, alert episode and notification → the same id. */
export function deliveryId(target: string, notification: AlertNotification): string {
  const hash = createHash('sha256').update(`${target}|${notification.alert.fingerprint}|${notification.alert.startsAt}|${notification.sequence}`).digest('hex');
  return `msg_${hash.slice(0, 32)}`;
}

export function acceptsNotification(target: WebhookConfig, notification: AlertNotification): boolean {
  const alert = notification.alert;
  const filters = target.filters;
  if (notification.kind === 'resolved' && !filters.sendResolved) return false;
  if (!filters.severities.includes(alert.severity)) return false;
  if (filters.rules.length > 0 && !filters.rules.some((rule) => rule === alert.rule)) return false;
  // Alerts that concern no appliance group (feed health, unexpected peers, meta-alerts) pass group filters.
  if (filters.groups.length > 0 && alert.group !== undefined && !alert.group.split(', ').some((group) => filters.groups.includes(group))) return false;
  return true;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    const cause = error.cause;
    if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return `connection error ${cause.code}`;
    return error.name;
  }
  return 'error';
}

export class WebhookDispatcher {
  readonly counters: DispatcherCounters = { queued: 0, delivered: 0, retried: 0, failed: 0, dropped: 0 };
  private settings: WebhookSettings;
  private readonly inflight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private kickPending = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.settings = options.settings;
  }

  update(settings: WebhookSettings): void {
    this.settings = settings;
  }

  start(): void {
    this.running = true;
    this.kick();
  }

  /** Stops sending; waits for requests in flight (each bounded by its timeout). Pending ones stay queued. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** Queues the notification for every target whose filters accept it (never `exceptTarget`). */
  enqueue(notification: AlertNotification, exceptTarget?: string): number {
    let queued = 0;
    for (const target of this.settings.webhooks) {
      if (target.name === exceptTarget || !acceptsNotification(target, notification)) continue;
      const id = deliveryId(target.name, notification);
      const body = renderPayload(target.format, notification, id, target.name, this.settings.externalUrl);
      const result = this.options.queue.enqueue({ id, target: target.name, fingerprint: notification.alert.fingerprint, kind: notification.kind, body, createdAt: this.options.clock.now() });
      if (result === 'queued') {
        queued++;
        this.counters.queued++;
      } else if (result === 'full') {
        this.counters.dropped++;
        this.options.logger.warn({ event: 'webhook-dropped', target: target.name, fingerprint: notification.alert.fingerprint, pending: this.options.queue.pendingCount() }, 'delivery queue full; notification dropped');
      }
    }
    if (queued > 0) this.kick();
    return queued;
  }

  /** Sends what is due now, soon (not inside the caller's stack). */
  kick(): void {
    if (!this.running || this.kickPending) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.pump();
    });
  }

  /** Waits until nothing is in flight (tests). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.kickPending) {
      await Promise.allSettled([...this.inflight.values()]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private pump(): void {
    if (!this.running) return;
    const free = this.settings.delivery.concurrency - this.inflight.size;
    if (free > 0) {
      const now = this.options.clock.now();
      for (const delivery of this.options.queue.due(now, free, new Set(this.inflight.keys()))) {
        const promise = this.attempt(delivery).finally(() => {
          this.inflight.delete(delivery.id);
          this.pump();
        });
        this.inflight.set(delivery.id, promise);
      }
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const next = this.options.queue.nextDueAt();
    if (next === undefined) return;
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, next - this.options.clock.now()));
    // Due now but all slots busy (or the due ones in flight): completions pump again; still wake up eventually.
    this.timer = setTimeout(() => this.pump(), delay === 0 ? 250 : delay);
    this.timer.unref();
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { queue, clock, logger } = this.options;
    const target = this.settings.webhooks.find((webhook) => webhook.name === delivery.target);
    const log = { event: 'webhook', target: delivery.target, id: delivery.id, fingerprint: delivery.fingerprint, kind: delivery.kind };
    if (target === undefined) {
      queue.markFailed(delivery.id, delivery.attempts, clock.now(), 'target removed from the configuration');
      this.counters.failed++;
      logger.warn({ ...log, outcome: 'target-removed' }, 'webhook target no longer configured; delivery dropped');
      return;
    }
    const attempts = delivery.attempts + 1;
    const timestamp = Math.floor(clock.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.options.userAgent ?? 'bmpwatch',
      ...webhookHeaders(delivery.id, timestamp, delivery.body, target.secret),
    };
    let status: number | undefined;
    let retryAfter: string | null = null;
    let failure: string;
    try {
      const response = await (this.options.fetch ?? fetch)(target.url, { method: 'POST', headers, body: delivery.body, redirect: 'manual', signal: AbortSignal.timeout(target.timeoutMs) });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      await response.body?.cancel().catch(() => undefined);
      failure = `HTTP ${status}`;
    } catch (error) {
      failure = describeError(error);
    }
    const now = clock.now();
    if (status !== undefined && status >= 200 && status < 300) {
      queue.markDelivered(delivery.id, now);
      this.counters.delivered++;
      logger.info({ ...log, outcome: 'delivered', status, attempts }, 'webhook delivered');
      this.options.onDelivered?.({ ...delivery, state: 'delivered', attempts });
      return;
    }
    if (status === 410) {
      this.giveUp(delivery, attempts, now, '410 Gone: the receiver no longer accepts messages', log);
      return;
    }
    if (attempts >= target.maxAttempts) {
      this.giveUp(delivery, attempts, now, `${failure} after ${attempts} attempt${attempts === 1 ? '' : 's'}`, log);
      return;
    }
    const retry = this.settings.delivery;
    const honoured = status === 429 || status === 503 ? parseRetryAfter(retryAfter, now) : undefined;
    const delay = honoured !== undefined ? Math.min(honoured, retry.maxRetryAfterSeconds * 1000) : backoffDelay(attempts, retry.initialBackoffMs, retry.maxBackoffMs, this.options.random ?? Math.random);
    queue.reschedule(delivery.id, attempts, now + delay, failure);
    this.counters.retried++;
    logger.warn({ ...log, outcome: 'retry', error: failure, attempts, retryInMs: delay, retryAfter: honoured !== undefined }, 'webhook attempt failed; will retry');
  }

  private giveUp(delivery: Delivery, attempts: number, now: number, reason: string, log: Record<string, unknown>): void {
    this.options.queue.markFailed(delivery.id, attempts, now, reason);
    this.counters.failed++;
    this.options.logger.error({ ...log, outcome: 'failed', error: reason, attempts }, 'webhook delivery failed; giving up');
    this.options.onExhausted?.({ ...delivery, state: 'failed', attempts, lastError: reason }, reason);
  }
}
