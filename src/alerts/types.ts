/**
 * Alerts as the alert manager keeps, persists, lists and delivers them. Plain JSON-safe records (times in ms since
 * the epoch), so a store can keep them as JSON and the CLI can print them as they are.
 */
import type { AlertSpec, AlertRuleId, Severity } from '../rules/types.js';

export type AlertState = 'firing' | 'resolved';

export interface AlertRecord extends Omit<AlertSpec, 'rule'> {
  readonly rule: AlertRuleId;
  /** `${rule}/${key}`: stable across restarts; the same cause is always the same fingerprint. */
  readonly fingerprint: string;
  readonly state: AlertState;
  /** When this firing episode started, and (resolved) when its condition ended. */
  readonly startsAt: number;
  readonly endsAt?: number;
  readonly updatedAt: number;
  /** The condition stopped holding at this time; the alert resolves after the hold-down unless it returns. */
  readonly clearedAt?: number;
  /** Why it resolved (or is about to). */
  readonly resolveReason?: string;
  /** Restored after a restart and not yet seen again by a rule (resolves after alerts.restoreGraceSeconds). */
  readonly awaitingSince?: number;
  /** Last notification time and the severity it announced; absent while nothing was sent (e.g. silenced). */
  readonly lastNotifiedAt?: number;
  readonly notifiedSeverity?: Severity;
  /** Notifications sent for this alert so far (all episodes): numbers each one, for stable delivery ids. */
  readonly notifications: number;
  /** The silence that currently mutes it, if any. */
  readonly silencedBy?: string;
}

export type NotificationKind = 'firing' | 'repeat' | 'escalated' | 'resolved';

/** One message to send about one alert. */
export interface AlertNotification {
  readonly kind: NotificationKind;
  /** The alert as it is at `time`. */
  readonly alert: AlertRecord;
  /** The alert's notification number (AlertRecord.notifications after this one). */
  readonly sequence: number;
  readonly time: number;
}

/** Every state change, for the log, the history store and InfluxDB annotations. */
export interface AlertChange {
  readonly time: number;
  readonly fingerprint: string;
  readonly rule: AlertRuleId;
  readonly severity: Severity;
  /** firing: new or re-fired; escalated; clearing: hold-down started; unclearing: condition back within hold-down; resolved. */
  readonly change: 'firing' | 'escalated' | 'clearing' | 'unclearing' | 'resolved';
  readonly summary: string;
  readonly silenced: boolean;
  readonly reason?: string;
  readonly router?: string;
  readonly appliance?: string;
  readonly group?: string;
  readonly prefix?: string;
}

export const SILENCE_LABELS = ['rule', 'severity', 'router', 'peer', 'appliance', 'group', 'prefix', 'fingerprint', 'key'] as const;
export type SilenceLabel = (typeof SILENCE_LABELS)[number];

/** Alertmanager-style matcher: `name` `=` / `!=` / `=~` / `!~` `value` (regular expressions match the whole value). */
export interface SilenceMatcher {
  readonly name: SilenceLabel;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly startsAt: number;
  readonly endsAt: number;
}
