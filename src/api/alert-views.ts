/**
 * Alerts and silences as the API and `bmpwatch alerts --json` show them: flat, ISO 8601 times, stable names.
 */
import type { AlertRecord, Silence } from '../alerts/types.js';

export interface AlertView {
  fingerprint: string;
  rule: string;
  severity: string;
  state: 'firing' | 'resolved';
  summary: string;
  explanation: string;
  suggestedAction: string;
  router: string | null;
  routers: readonly string[];
  peer: string | null;
  peerAs: number | null;
  peerBgpId: string | null;
  appliance: string | null;
  group: string | null;
  prefix: string | null;
  table: string | null;
  startsAt: string;
  endsAt: string | null;
  /** Why it resolved (or is resolving, within the hold-down); null otherwise. */
  resolveReason: string | null;
  updatedAt: string;
  silencedBy: string | null;
  details: unknown;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function toAlertView(alert: AlertRecord): AlertView {
  return {
    fingerprint: alert.fingerprint,
    rule: alert.rule,
    severity: alert.severity,
    state: alert.state,
    summary: alert.summary,
    explanation: alert.explanation,
    suggestedAction: alert.suggestedAction,
    router: alert.router ?? null,
    routers: alert.routers ?? (alert.router === undefined ? [] : [alert.router]),
    peer: alert.peer?.address ?? null,
    peerAs: alert.peer?.as ?? null,
    peerBgpId: alert.peer?.bgpId ?? null,
    appliance: alert.appliance ?? null,
    group: alert.group ?? null,
    prefix: alert.prefix ?? null,
    table: alert.table ?? null,
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: iso(alert.endsAt),
    resolveReason: alert.resolveReason ?? null,
    updatedAt: new Date(alert.updatedAt).toISOString(),
    silencedBy: alert.silencedBy ?? null,
    details: alert.details ?? null,
  };
}

export interface SilenceView {
  id: string;
  matchers: string[];
  reason: string;
  createdBy: string;
  createdAt: string;
  startsAt: string;
  endsAt: string;
  active: boolean;
}

export function toSilenceView(silence: Silence, now: number): SilenceView {
  return {
    id: silence.id,
    matchers: silence.matchers.map((m) => `${m.name}${m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!='}${m.value}`),
    reason: silence.reason,
    createdBy: silence.createdBy,
    createdAt: new Date(silence.createdAt).toISOString(),
    startsAt: new Date(silence.startsAt).toISOString(),
    endsAt: new Date(silence.endsAt).toISOString(),
    active: silence.startsAt <= now && now < silence.endsAt,
  };
}
