/**
 * The rules' EventConsumer: collector events → rule engine → alert manager → webhooks. The one module under
 * src/rules with side effects (a timer, the logger, the stores it is given); the engine and the rules it runs
 * stay pure.
 *
 * Wiring (src/cli/serve.ts / src/app.ts):
 *   const rules = new RulesConsumer({ config, clock, logger, alertStore, deliveryQueue });
 *   rules.start();                 // loads alert state, starts the evaluation timer and webhook delivery
 *   app.addConsumer(rules);        // before app.start(), so it sees every event
 *   app.reload(next); rules.reload(next);   // on SIGHUP
 *   // app.stop() calls rules.stop(): timer stopped, requests in flight finished, state saved.
 *
 * Order per event: engine (routing view, then every rule) → alert manager (lifecycle, silences, persistence) →
 * webhook deliveries queued (sent asynchronously, never inside the event's call stack). Every evaluation interval:
 * the rules' time-based checks, then hold-downs, repeats and silence expiry.
 */
import type { EventConsumer } from '../app.js';
import { AlertManager, type AlertTimings } from '../alerts/alert-manager.js';
import { InMemoryAlertStateStore, type AlertStateStore } from '../alerts/state-store.js';
import type { AlertChange, AlertNotification } from '../alerts/types.js';
import { InMemoryDeliveryQueue, type Delivery, type DeliveryQueue } from '../alerts/webhook/delivery-queue.js';
import { WebhookDispatcher, type WebhookSettings } from '../alerts/webhook/dispatcher.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { CollectorEvent } from '../rib/events.js';
import type { Clock } from '../util/clock.js';
import { RuleEngine } from './engine.js';
import { fire, resolve, type Rule, type RuleNote, type Transition } from './types.js';

export interface RulesConsumerOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Alert and silence persistence; in memory when omitted (state is then lost on restart). */
  readonly alertStore?: AlertStateStore;
  /** Webhook delivery queue; in memory when omitted (pending deliveries are then lost on restart). */
  readonly deliveryQueue?: DeliveryQueue;
  /** Where the alerts can be looked at, for Alertmanager's externalURL; default: the API address from the config. */
  readonly externalUrl?: string;
  /** Every alert lifecycle change (history store, InfluxDB annotations). Logged here already. */
  readonly onAlertChange?: (change: AlertChange) => void;
  /** Rule notes that are not alerts (prefix moves, Peer Downs explained by an incident). Logged here already. */
  readonly onNote?: (note: RuleNote) => void;
  /**
   * The collector's current routes as route-announced events (initialSync true), used on reload to index routes of
   * peers that a new configuration turns into appliances. Optional: without it they are indexed at their next change.
   */
  readonly snapshot?: () => Iterable<CollectorEvent>;
  /** Tests: HTTP client, jitter source, rule set. */
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  readonly rules?: readonly Rule[];
}

function timingsOf(config: Config): AlertTimings {
  const alerts = config.alerts;
  return {
    holdDownMs: alerts.holdDownSeconds * 1000,
    repeatIntervalMs: alerts.repeatIntervalSeconds * 1000,
    restoreGraceMs: alerts.restoreGraceSeconds * 1000,
    resolvedRetentionMs: alerts.resolvedRetentionSeconds * 1000,
  };
}

function webhookSettingsOf(config: Config, externalUrl: string | undefined): WebhookSettings {
  const api = config.listen.api;
  const host = api.host.includes(':') ? `[${api.host}]` : api.host;
  return { webhooks: config.alerts.webhooks.filter((webhook) => webhook.enabled), delivery: config.alerts.delivery, externalUrl: externalUrl ?? `http://${host}:${api.port}/` };
}

export class RulesConsumer implements EventConsumer {
  readonly name = 'rules';
  readonly engine: RuleEngine;
  readonly alerts: AlertManager;
  readonly webhooks: WebhookDispatcher;
  readonly queue: DeliveryQueue;
  private config: Config;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly options: RulesConsumerOptions) {
    this.config = options.config;
    this.log = options.logger.child({ component: 'rules' });
    this.engine = new RuleEngine(options.config, options.rules);
    this.queue = options.deliveryQueue ?? new InMemoryDeliveryQueue(options.config.alerts.delivery.maxQueued);
    this.alerts = new AlertManager({
      ...timingsOf(options.config),
      store: options.alertStore ?? new InMemoryAlertStateStore(),
      onChange: (change) => this.logChange(change),
      onNote: (note) => this.logNote(note),
    });
    this.webhooks = new WebhookDispatcher({
      queue: this.queue,
      clock: options.clock,
      logger: this.log,
      settings: webhookSettingsOf(options.config, options.externalUrl),
      ...(options.fetch && { fetch: options.fetch }),
      ...(options.random && { random: options.random }),
      onExhausted: (delivery, reason) => this.deliveryFailed(delivery, reason),
      onDelivered: (delivery) => this.deliverySucceeded(delivery),
    });
  }

  /** Loads alert state (restored firing alerts wait for their rules), starts the timer and webhook delivery. */
  start(): void {
    const now = this.options.clock.now();
    const restored = this.alerts.load(now);
    if (restored.length > 0) this.log.info({ event: 'alerts-restored', firing: restored.length }, 'restored firing alerts; waiting for the rules to confirm them');
    const { transitions, adopted } = this.engine.adopt(
      restored.map((alert) => ({
        rule: alert.rule,
        key: alert.key,
        startsAt: alert.startsAt,
        severity: alert.severity,
        ...(alert.router !== undefined && { router: alert.router }),
        ...(alert.routers !== undefined && { routers: alert.routers }),
        ...(alert.peer !== undefined && { peer: alert.peer }),
        ...(alert.appliance !== undefined && { appliance: alert.appliance }),
        ...(alert.prefix !== undefined && { prefix: alert.prefix }),
        ...(alert.firstSeen !== undefined && { firstSeen: alert.firstSeen }),
        ...(alert.lastSeen !== undefined && { lastSeen: alert.lastSeen }),
        ...(alert.details !== undefined && { details: alert.details }),
      })),
      now,
    );
    for (const fingerprint of adopted) this.alerts.confirmRestored(fingerprint, now);
    if (adopted.length > 0) this.log.info({ event: 'alerts-adopted', alerts: adopted.length }, 'rules took over restored alerts');
    this.apply(transitions, now);
    this.webhooks.start();
    this.startTimer();
  }

  consume(event: CollectorEvent): void {
    const now = this.options.clock.now();
    const transitions = this.engine.handle(event, now);
    this.logRuleErrors(event);
    if (transitions.length > 0) this.apply(transitions, now);
  }

  /** The periodic evaluation (the timer calls it; tests call it after moving a fake clock). */
  evaluate(): void {
    const now = this.options.clock.now();
    const transitions = this.engine.tick(now);
    this.logRuleErrors(undefined);
    this.apply(transitions, now);
    this.atomically(() => this.deliver(this.alerts.tick(now)));
    this.queue.prune(now - this.config.alerts.resolvedRetentionSeconds * 1000);
  }

  reload(config: Config): void {
    this.config = config;
    this.alerts.setTimings(timingsOf(config));
    this.webhooks.update(webhookSettingsOf(config, this.options.externalUrl));
    const now = this.options.clock.now();
    this.apply(this.engine.reconfigure(config, now, this.options.snapshot?.()), now);
    if (this.timer) this.startTimer();
  }

  /** Stops the timer, finishes requests in flight (pending ones stay queued), writes unsaved alert evidence. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.webhooks.stop();
    this.alerts.flush();
  }

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      try {
        this.evaluate();
      } catch (error) {
        this.log.error({ event: 'rules-evaluation-failed', err: error }, 'periodic rule evaluation failed');
      }
    }, this.config.alerts.evaluationIntervalSeconds * 1000);
    this.timer.unref();
  }

  private apply(transitions: readonly Transition[], now: number): void {
    if (transitions.length === 0) return;
    this.atomically(() => this.deliver(this.alerts.apply(transitions, now)));
  }

  /**
   * An alert recorded as notified and the deliveries of that notification are stored in one transaction (when the
   * queue shares the alert state's store): killed between the two, a collector would restart with an alert it
   * believes it sent, re-asserted by the route server's table without a new notification, and never delivered.
   */
  private atomically(fn: () => void): void {
    if (this.queue.atomically) this.queue.atomically(fn);
    else fn();
  }

  private deliver(notifications: readonly AlertNotification[]): void {
    for (const notification of notifications) {
      const alert = notification.alert;
      // A meta-alert about a failing target is not sent to that target.
      const except = alert.rule === 'webhook-delivery' ? alert.key : undefined;
      const queued = this.webhooks.enqueue(notification, except);
      this.log.info({ event: 'alert-notification', kind: notification.kind, fingerprint: alert.fingerprint, severity: alert.severity, sequence: notification.sequence, deliveries: queued }, alert.summary);
    }
  }

  private deliveryFailed(delivery: Delivery, reason: string): void {
    const now = this.options.clock.now();
    this.apply(
      [
        fire({
          rule: 'webhook-delivery',
          key: delivery.target,
          severity: 'critical',
          summary: `Webhook ${delivery.target} failed: a notification could not be delivered (${reason})`,
          explanation: `bmpwatch gave up delivering message ${delivery.id} (${delivery.kind} of ${delivery.fingerprint}) to webhook target "${delivery.target}": ${reason}. Alerts are not reaching that receiver.`,
          suggestedAction: `Check the receiver behind webhook "${delivery.target}" (reachable, answering 2xx within its timeout, accepting the signature); failed messages are kept in the delivery queue.`,
          details: { target: delivery.target, id: delivery.id, fingerprint: delivery.fingerprint, attempts: delivery.attempts, reason },
        }),
      ],
      now,
    );
  }

  private deliverySucceeded(delivery: Delivery): void {
    const meta = this.alerts.alert(`webhook-delivery/${delivery.target}`);
    if (meta?.state !== 'firing' || meta.clearedAt !== undefined) return;
    this.apply([resolve('webhook-delivery', delivery.target, `a later message (${delivery.id}) was delivered`)], this.options.clock.now());
  }

  private logChange(change: AlertChange): void {
    const level = change.change === 'firing' || change.change === 'escalated' ? (change.severity === 'critical' ? 'error' : change.severity === 'warning' ? 'warn' : 'info') : 'info';
    this.log[level]({ event: 'alert', ...change }, change.summary);
    try {
      this.options.onAlertChange?.(change);
    } catch (error) {
      this.log.error({ event: 'alert-change-sink-failed', err: error }, 'alert change listener failed');
    }
  }

  private logNote(note: RuleNote): void {
    this.log.info({ event: 'rule-note', rule: note.rule, kind: note.kind, details: note.details }, note.message);
    try {
      this.options.onNote?.(note);
    } catch (error) {
      this.log.error({ event: 'rule-note-sink-failed', err: error }, 'rule note listener failed');
    }
  }

  private logRuleErrors(event: CollectorEvent | undefined): void {
    for (const failure of this.engine.takeErrors()) {
      this.log.error(
        { event: 'rule-error', rule: failure.rule, error: failure.error, trigger: event === undefined ? 'tick' : event.type, router: event?.router.name, peer: event && 'peer' in event ? event.peer.address : undefined },
        'rule failed; isolated',
      );
    }
  }
}
