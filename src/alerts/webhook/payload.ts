/**
 * Alert notifications → webhook bodies, one per format. Pure (no I/O, no clock): the time is the notification's.
 *
 * - `bmpwatch`: bmpwatch's own versioned JSON (schema "bmpwatch.alert/v1", documented in docs/WEBHOOKS.md).
 *   Additive changes keep the version; a removed or changed field raises it.
 * - `alertmanager`: the Prometheus Alertmanager webhook payload, version "4", one alert per message, so tools
 *   that consume Alertmanager/Grafana webhooks take bmpwatch alerts unchanged.
 * - `slack`: a Slack incoming-webhook message (`text` fallback plus mrkdwn blocks).
 */
import { createHash } from 'node:crypto';
import type { WebhookFormat } from '../../config/rules-schema.js';
import type { AlertNotification, AlertRecord } from '../types.js';

export const BMPWATCH_SCHEMA = 'bmpwatch.alert/v1';

/** Alertmanager's "zero" endsAt for alerts still firing. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** The alert's public fields, as in `bmpwatch alerts --json` and the own payload. */
export function alertJson(alert: AlertRecord): Record<string, unknown> {
  return {
    fingerprint: alert.fingerprint,
    rule: alert.rule,
    key: alert.key,
    severity: alert.severity,
    state: alert.state,
    summary: alert.summary,
    explanation: alert.explanation,
    suggestedAction: alert.suggestedAction,
    router: alert.router ?? null,
    routers: alert.routers ?? (alert.router === undefined ? [] : [alert.router]),
    peer: alert.peer ?? null,
    appliance: alert.appliance ?? null,
    group: alert.group ?? null,
    prefix: alert.prefix ?? null,
    table: alert.table ?? null,
    attributes: alert.attributes ?? null,
    details: alert.details ?? {},
    startsAt: iso(alert.startsAt),
    endsAt: iso(alert.endsAt),
    resolveReason: alert.resolveReason ?? null,
    firstSeen: iso(alert.firstSeen),
    lastSeen: iso(alert.lastSeen),
    silenced: alert.silencedBy !== undefined,
  };
}

export function toBmpwatchPayload(notification: AlertNotification, id: string): Record<string, unknown> {
  return {
    schema: BMPWATCH_SCHEMA,
    id,
    notification: notification.kind,
    sequence: notification.sequence,
    time: iso(notification.time),
    alert: alertJson(notification.alert),
  };
}

/** Alertmanager's fingerprint is a 16-hex-digit hash of the label set; ours hashes the bmpwatch fingerprint. */
export function alertmanagerFingerprint(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);
}

function labelsOf(alert: AlertRecord): Record<string, string> {
  const labels: Record<string, string> = { alertname: alert.rule, severity: alert.severity, fingerprint: alert.fingerprint, source: 'bmpwatch' };
  if (alert.router !== undefined) labels.router = alert.router;
  if (alert.peer !== undefined) labels.peer = alert.peer.address;
  if (alert.appliance !== undefined) labels.appliance = alert.appliance;
  if (alert.group !== undefined) labels.group = alert.group;
  if (alert.prefix !== undefined) labels.prefix = alert.prefix;
  return labels;
}

export function toAlertmanagerPayload(notification: AlertNotification, receiver: string, externalUrl: string): Record<string, unknown> {
  const alert = notification.alert;
  const status = alert.state;
  const labels = labelsOf(alert);
  const annotations: Record<string, string> = { summary: alert.summary, description: alert.explanation, suggested_action: alert.suggestedAction };
  if (status === 'resolved' && alert.resolveReason !== undefined) annotations.resolve_reason = alert.resolveReason;
  return {
    version: '4',
    groupKey: `{}:{fingerprint="${alert.fingerprint}"}`,
    truncatedAlerts: 0,
    status,
    receiver,
    groupLabels: { fingerprint: alert.fingerprint },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: new Date(alert.startsAt).toISOString(),
        endsAt: alert.endsAt === undefined ? ZERO_TIME : new Date(alert.endsAt).toISOString(),
        generatorURL: externalUrl,
        fingerprint: alertmanagerFingerprint(alert.fingerprint),
      },
    ],
  };
}

const SLACK_ICON: Record<string, string> = { critical: ':red_circle:', warning: ':large_orange_circle:', info: ':large_blue_circle:', resolved: ':white_check_mark:' };

/** Slack mrkdwn needs &, < and > escaped. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function toSlackPayload(notification: AlertNotification): Record<string, unknown> {
  const alert = notification.alert;
  const resolved = notification.kind === 'resolved';
  const icon = resolved ? SLACK_ICON.resolved : SLACK_ICON[alert.severity];
  const label = resolved ? 'RESOLVED' : notification.kind === 'repeat' ? `${alert.severity.toUpperCase()} (still firing)` : notification.kind === 'escalated' ? `${alert.severity.toUpperCase()} (escalated)` : alert.severity.toUpperCase();
  const text = `${icon} [${label}] ${alert.summary}`;
  const facts = [
    ['Rule', alert.rule],
    ['Route server', alert.routers?.join(', ') ?? alert.router],
    ['Appliance', alert.appliance],
    ['Group', alert.group],
    ['Prefix', alert.prefix],
    ['Peer', alert.peer === undefined ? undefined : `${alert.peer.address} (AS ${alert.peer.as})`],
    ['Since', new Date(alert.startsAt).toISOString()],
    ...(resolved ? [['Resolved', iso(alert.endsAt) ?? undefined]] : []),
  ].filter((fact): fact is [string, string] => fact[1] !== undefined);
  return {
    text: slackEscape(text),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(text)}*` } },
      { type: 'section', fields: facts.map(([name, value]) => ({ type: 'mrkdwn', text: `*${name}*\n${slackEscape(value)}` })) },
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(resolved ? `Resolved: ${alert.resolveReason ?? 'condition cleared'}` : alert.explanation) } },
      ...(resolved ? [] : [{ type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(`Suggested action: ${alert.suggestedAction}`) }] }]),
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(`bmpwatch ${alert.fingerprint}`) }] },
    ],
  };
}

/** The body to send, as text (signed and stored as is; retries send the same bytes). */
export function renderPayload(format: WebhookFormat, notification: AlertNotification, id: string, receiver: string, externalUrl: string): string {
  switch (format) {
    case 'bmpwatch':
      return JSON.stringify(toBmpwatchPayload(notification, id));
    case 'alertmanager':
      return JSON.stringify(toAlertmanagerPayload(notification, receiver, externalUrl));
    case 'slack':
      return JSON.stringify(toSlackPayload(notification));
    default: {
      const exhaustive: never = format;
      return exhaustive;
    }
  }
}
