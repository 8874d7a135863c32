/**
 * The alert lifecycle: rule transitions in, notifications out.
 *
 *   (none) --fire--> firing --resolve--> firing+clearing --holdDown, no fire--> resolved
 *                      ^                       |
 *                      +--------fire-----------+   (back within the hold-down: nothing is sent)
 *
 * - firing: a new alert (or one resolved earlier) is notified at once unless a silence matches it.
 * - escalation: a fire with a higher severity than last notified is notified ("escalated"). Severity never drops
 *   within a firing episode (so the resolve goes to everyone who got the worst news).
 * - repeat: a firing alert is notified again every repeatIntervalSeconds while it fires and is not silenced.
 * - resolve: after the condition has been gone for holdDownSeconds, notified ("resolved") if its firing was.
 * - silences mute notifications, not state. When a silence ends while a never-notified alert still fires, the
 *   alert is notified then.
 * - restart: alerts are loaded from the AlertStateStore. Firing ones wait restoreGraceSeconds for a rule to
 *   assert them again (the initial dumps bring the routes back); a re-asserted alert sends nothing new, one not
 *   seen again resolves (and that resolve is notified). Nothing re-pages, nothing is missed.
 * - resolved alerts are kept for resolvedRetentionSeconds, then deleted.
 *
 * State goes to the store on every lifecycle change; evidence-only updates (a route seen again) are written at
 * the next tick, so a busy stream is not a write per event.
 */
import { randomUUID } from 'node:crypto';
import { fingerprintOf, type AlertSpec, type RuleNote, type Severity, type Transition } from '../rules/types.js';
import { silenceActive, silenceMatches } from './silences.js';
import type { AlertStateStore } from './state-store.js';
import type { AlertChange, AlertNotification, AlertRecord, NotificationKind, Silence, SilenceMatcher } from './types.js';

export interface AlertTimings {
  readonly holdDownMs: number;
  readonly repeatIntervalMs: number;
  readonly restoreGraceMs: number;
  readonly resolvedRetentionMs: number;
}

export interface AlertManagerOptions extends AlertTimings {
  readonly store: AlertStateStore;
  /** Every lifecycle change (for the log, history and annotations). Must not throw. */
  readonly onChange?: (change: AlertChange) => void;
  /** Rule notes (not alerts: a prefix moved, a Peer Down explained by an incident). */
  readonly onNote?: (note: RuleNote) => void;
  /** Silence ids; random UUIDs by default. */
  readonly newId?: () => string;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface SilenceInput {
  readonly matchers: readonly SilenceMatcher[];
  readonly reason: string;
  readonly createdBy: string;
  readonly startsAt?: number;
  readonly endsAt: number;
}

export class AlertManager {
  private readonly alertMap = new Map<string, AlertRecord>();
  private readonly silenceMap = new Map<string, Silence>();
  private readonly dirty = new Set<string>();
  private timings: AlertTimings;

  constructor(private readonly options: AlertManagerOptions) {
    this.timings = options;
  }

  setTimings(timings: AlertTimings): void {
    this.timings = timings;
  }

  /** Loads stored state. Returns the firing alerts (for rules that adopt them). */
  load(now: number): AlertRecord[] {
    for (const silence of this.options.store.loadSilences()) this.silenceMap.set(silence.id, silence);
    const firing: AlertRecord[] = [];
    for (const stored of this.options.store.loadAlerts()) {
      let alert = stored;
      if (alert.state === 'firing') {
        alert = { ...alert, awaitingSince: now, updatedAt: now };
        this.save(alert);
        firing.push(alert);
      }
      this.alertMap.set(alert.fingerprint, alert);
    }
    return firing;
  }

  /** A rule took over a restored alert: it stays firing (nothing is sent) until the rule resolves it. */
  confirmRestored(fingerprint: string, now: number): void {
    const alert = this.alertMap.get(fingerprint);
    if (alert === undefined || alert.awaitingSince === undefined) return;
    const next: Mutable<AlertRecord> = { ...alert, updatedAt: now };
    delete next.awaitingSince;
    this.save(next);
  }

  alert(fingerprint: string): AlertRecord | undefined {
    return this.alertMap.get(fingerprint);
  }

  alerts(filter: { state?: 'firing' | 'resolved'; since?: number } = {}): AlertRecord[] {
    return [...this.alertMap.values()]
      .filter((alert) => (filter.state === undefined || alert.state === filter.state) && (filter.since === undefined || alert.updatedAt >= filter.since))
      .sort((a, b) => a.startsAt - b.startsAt || a.fingerprint.localeCompare(b.fingerprint));
  }

  silences(now?: number): Silence[] {
    return [...this.silenceMap.values()].filter((silence) => now === undefined || now < silence.endsAt).sort((a, b) => a.startsAt - b.startsAt);
  }

  addSilence(input: SilenceInput, now: number): Silence {
    const silence: Silence = {
      id: this.options.newId?.() ?? randomUUID(),
      matchers: input.matchers,
      reason: input.reason,
      createdBy: input.createdBy,
      createdAt: now,
      startsAt: input.startsAt ?? now,
      endsAt: input.endsAt,
    };
    this.silenceMap.set(silence.id, silence);
    this.options.store.saveSilence(silence);
    for (const alert of this.alertMap.values()) this.refreshSilence(alert, now);
    return silence;
  }

  /** Ends a silence now. Alerts it muted that still fire are notified at the next tick. */
  expireSilence(id: string, now: number): boolean {
    const silence = this.silenceMap.get(id);
    if (silence === undefined || silence.endsAt <= now) return false;
    const ended = { ...silence, endsAt: now };
    this.silenceMap.set(id, ended);
    this.options.store.saveSilence(ended);
    return true;
  }

  apply(transitions: readonly Transition[], now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    for (const transition of transitions) {
      switch (transition.action) {
        case 'fire':
          this.fire(transition.alert, now, out);
          break;
        case 'resolve':
          this.clear(fingerprintOf(transition.rule, transition.key), transition.reason, now);
          break;
        case 'note':
          this.options.onNote?.(transition.note);
          break;
        default: {
          const exhaustive: never = transition;
          return exhaustive;
        }
      }
    }
    return out;
  }

  /** Hold-downs, restore grace, repeats, ended silences, retention. Call every evaluation interval. */
  tick(now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    const { holdDownMs, repeatIntervalMs, restoreGraceMs, resolvedRetentionMs } = this.timings;
    for (const alert of [...this.alertMap.values()]) {
      if (alert.state === 'resolved') {
        if (alert.endsAt !== undefined && now - alert.endsAt >= resolvedRetentionMs) {
          this.alertMap.delete(alert.fingerprint);
          this.dirty.delete(alert.fingerprint);
          this.options.store.deleteAlert(alert.fingerprint);
        }
        continue;
      }
      if (alert.awaitingSince !== undefined && now - alert.awaitingSince >= restoreGraceMs) {
        this.resolveNow(alert, alert.awaitingSince, 'not seen again after a restart of bmpwatch', now, out);
        continue;
      }
      if (alert.clearedAt !== undefined) {
        if (now - alert.clearedAt >= holdDownMs) this.resolveNow(alert, alert.clearedAt, alert.resolveReason ?? 'condition cleared', now, out);
        continue;
      }
      const current = this.refreshSilence(alert, now);
      if (current.silencedBy !== undefined || current.awaitingSince !== undefined) continue;
      if (current.lastNotifiedAt === undefined) this.notify(current, 'firing', now, out);
      else if (now - current.lastNotifiedAt >= repeatIntervalMs) this.notify(current, 'repeat', now, out);
    }
    for (const silence of [...this.silenceMap.values()]) {
      if (now - silence.endsAt >= resolvedRetentionMs) {
        this.silenceMap.delete(silence.id);
        this.options.store.deleteSilence(silence.id);
      }
    }
    this.flush();
    return out;
  }

  /** Writes evidence-only updates not yet stored (done every tick, and on stop). */
  flush(): void {
    for (const fingerprint of this.dirty) {
      const alert = this.alertMap.get(fingerprint);
      if (alert) this.options.store.saveAlert(alert);
    }
    this.dirty.clear();
  }

  private fire(spec: AlertSpec, now: number, out: AlertNotification[]): void {
    const fingerprint = fingerprintOf(spec.rule, spec.key);
    const existing = this.alertMap.get(fingerprint);
    if (existing === undefined || existing.state === 'resolved') {
      const alert: AlertRecord = {
        ...spec,
        fingerprint,
        state: 'firing',
        startsAt: now,
        updatedAt: now,
        notifications: existing?.notifications ?? 0,
      };
      const current = this.refreshSilence(alert, now, false);
      this.save(current);
      this.change(current, 'firing', now);
      if (current.silencedBy === undefined) this.notify(current, 'firing', now, out);
      return;
    }
    // Already firing: keep the episode (startsAt, notifications), take the new evidence, never lower severity.
    const severity = RANK[spec.severity] > RANK[existing.severity] ? spec.severity : existing.severity;
    const next: Mutable<AlertRecord> = { ...existing, ...spec, severity, fingerprint, state: 'firing', startsAt: existing.startsAt, notifications: existing.notifications, updatedAt: now };
    delete next.endsAt;
    const wasClearing = existing.clearedAt !== undefined;
    const wasAwaiting = existing.awaitingSince !== undefined;
    delete next.clearedAt;
    delete next.resolveReason;
    delete next.awaitingSince;
    const current = this.refreshSilence(next, now, false);
    const material = wasClearing || wasAwaiting || severity !== existing.severity;
    if (material) this.save(current);
    else {
      this.alertMap.set(fingerprint, current);
      this.dirty.add(fingerprint);
    }
    if (wasClearing) this.change(current, 'unclearing', now);
    if (severity !== existing.severity) this.change(current, 'escalated', now);
    if (current.silencedBy !== undefined || current.lastNotifiedAt === undefined) return;
    if (current.notifiedSeverity !== undefined && RANK[severity] > RANK[current.notifiedSeverity]) this.notify(current, 'escalated', now, out);
  }

  private clear(fingerprint: string, reason: string, now: number): void {
    const alert = this.alertMap.get(fingerprint);
    if (alert === undefined || alert.state !== 'firing' || alert.clearedAt !== undefined) return;
    const next: AlertRecord = { ...alert, clearedAt: now, resolveReason: reason, updatedAt: now };
    this.save(next);
    this.change(next, 'clearing', now, reason);
  }

  private resolveNow(alert: AlertRecord, endsAt: number, reason: string, now: number, out: AlertNotification[]): void {
    const next: Mutable<AlertRecord> = { ...alert, state: 'resolved', endsAt, resolveReason: reason, updatedAt: now };
    delete next.clearedAt;
    delete next.awaitingSince;
    this.save(next);
    this.change(next, 'resolved', now, reason);
    if (next.lastNotifiedAt !== undefined) this.notify(next, 'resolved', now, out);
  }

  private notify(alert: AlertRecord, kind: NotificationKind, now: number, out: AlertNotification[]): void {
    const sequence = alert.notifications + 1;
    const next: AlertRecord = { ...alert, notifications: sequence, lastNotifiedAt: now, notifiedSeverity: alert.severity };
    this.save(next);
    out.push({ kind, alert: next, sequence, time: now });
  }

  /** The alert with `silencedBy` brought up to date (stored if it changed and `store`). */
  private refreshSilence(alert: AlertRecord, now: number, store = true): AlertRecord {
    let silencedBy: string | undefined;
    for (const silence of this.silenceMap.values()) {
      if (silenceActive(silence, now) && silenceMatches(silence, alert)) {
        silencedBy = silence.id;
        break;
      }
    }
    if (silencedBy === alert.silencedBy) return alert;
    const next: Mutable<AlertRecord> = { ...alert };
    if (silencedBy === undefined) delete next.silencedBy;
    else next.silencedBy = silencedBy;
    if (store && this.alertMap.has(alert.fingerprint)) this.save(next);
    return next;
  }

  private save(alert: AlertRecord): void {
    this.alertMap.set(alert.fingerprint, alert);
    this.dirty.delete(alert.fingerprint);
    this.options.store.saveAlert(alert);
  }

  private change(alert: AlertRecord, change: AlertChange['change'], now: number, reason?: string): void {
    this.options.onChange?.({
      time: now,
      fingerprint: alert.fingerprint,
      rule: alert.rule,
      severity: alert.severity,
      change,
      summary: alert.summary,
      silenced: alert.silencedBy !== undefined,
      ...(reason !== undefined && { reason }),
      ...(alert.router !== undefined && { router: alert.router }),
      ...(alert.appliance !== undefined && { appliance: alert.appliance }),
      ...(alert.group !== undefined && { group: alert.group }),
      ...(alert.prefix !== undefined && { prefix: alert.prefix }),
    });
  }
}
