import { describe, expect, it } from 'vitest';
import type { AlertNotification, AlertRecord } from '../../../src/alerts/types.js';
import { alertmanagerFingerprint, renderPayload } from '../../../src/alerts/webhook/payload.js';

const START = Date.UTC(2025, 0, 1, 12, 0, 0);
const ALERT: AlertRecord = {
  fingerprint: 'next-hop/fw-01|10.128.1.0/29',
  rule: 'next-hop',
  key: 'fw-01|10.128.1.0/29',
  severity: 'critical',
  state: 'firing',
  summary: 'fw-01 announces 10.128.1.0/29 with next hop 100.64.0.99, not its session address 100.64.0.11',
  explanation: 'Routes <must> point at the appliance & nowhere else.',
  suggestedAction: 'next-hop self',
  router: 'rs1',
  routers: ['rs1', 'rs2'],
  peer: { address: '100.64.0.11', as: 64496, bgpId: '100.64.0.11' },
  appliance: 'fw-01',
  group: 'firewalls',
  prefix: '10.128.1.0/29',
  table: 'adj-rib-in-post',
  attributes: { nextHop: '100.64.0.99', asPath: '' },
  details: { status: 'mismatch' },
  startsAt: START,
  updatedAt: START,
  notifications: 1,
};
const firing: AlertNotification = { kind: 'firing', alert: ALERT, sequence: 1, time: START };
const resolved: AlertNotification = { kind: 'resolved', alert: { ...ALERT, state: 'resolved', endsAt: START + 60_000, resolveReason: 'fixed' }, sequence: 2, time: START + 180_000 };

describe('webhook payloads', () => {
  it('bmpwatch.alert/v1 carries the whole alert with ISO times', () => {
    const body = JSON.parse(renderPayload('bmpwatch', firing, 'msg_1', 'ops', 'http://127.0.0.1:11080/'));
    expect(body).toMatchObject({ schema: 'bmpwatch.alert/v1', id: 'msg_1', notification: 'firing', sequence: 1, time: '2025-01-01T12:00:00.000Z' });
    expect(body.alert).toMatchObject({
      fingerprint: 'next-hop/fw-01|10.128.1.0/29',
      rule: 'next-hop',
      severity: 'critical',
      state: 'firing',
      router: 'rs1',
      routers: ['rs1', 'rs2'],
      peer: { address: '100.64.0.11', as: 64496 },
      appliance: 'fw-01',
      prefix: '10.128.1.0/29',
      table: 'adj-rib-in-post',
      attributes: { nextHop: '100.64.0.99' },
      startsAt: '2025-01-01T12:00:00.000Z',
      endsAt: null,
      resolveReason: null,
      silenced: false,
    });
    const done = JSON.parse(renderPayload('bmpwatch', resolved, 'msg_2', 'ops', 'http://127.0.0.1:11080/'));
    expect(done.alert).toMatchObject({ state: 'resolved', endsAt: '2025-01-01T12:01:00.000Z', resolveReason: 'fixed' });
  });

  it('alertmanager: webhook version 4, one alert, zero endsAt while firing', () => {
    const body = JSON.parse(renderPayload('alertmanager', firing, 'msg_1', 'ops', 'http://127.0.0.1:11080/'));
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'ops', truncatedAlerts: 0, externalURL: 'http://127.0.0.1:11080/' });
    expect(body.alerts).toHaveLength(1);
    expect(body.alerts[0]).toMatchObject({
      status: 'firing',
      labels: { alertname: 'next-hop', severity: 'critical', router: 'rs1', appliance: 'fw-01', group: 'firewalls', prefix: '10.128.1.0/29', peer: '100.64.0.11' },
      annotations: { summary: ALERT.summary, description: ALERT.explanation, suggested_action: 'next-hop self' },
      startsAt: '2025-01-01T12:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: alertmanagerFingerprint(ALERT.fingerprint),
    });
    expect(body.alerts[0].fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const done = JSON.parse(renderPayload('alertmanager', resolved, 'msg_2', 'ops', ''));
    expect(done.status).toBe('resolved');
    expect(done.alerts[0].endsAt).toBe('2025-01-01T12:01:00.000Z');
    expect(done.alerts[0].annotations.resolve_reason).toBe('fixed');
    expect(body.alerts[0].annotations.resolve_reason).toBeUndefined();
  });

  it('slack: text fallback plus blocks, mrkdwn escaped', () => {
    const body = JSON.parse(renderPayload('slack', firing, 'msg_1', 'noc', ''));
    expect(body.text).toBe(':red_circle: [CRITICAL] fw-01 announces 10.128.1.0/29 with next hop 100.64.0.99, not its session address 100.64.0.11');
    expect(JSON.stringify(body.blocks)).toContain('Routes &lt;must&gt; point at the appliance &amp; nowhere else.');
    const done = JSON.parse(renderPayload('slack', resolved, 'msg_2', 'noc', ''));
    expect(done.text).toMatch(/^:white_check_mark: \[RESOLVED\]/);
    expect(JSON.stringify(done.blocks)).toContain('Resolved: fixed');
  });
});
