import { describe, expect, it } from 'vitest';
import { AlertManager, type AlertTimings } from '../../../src/alerts/alert-manager.js';
import { parseMatcher } from '../../../src/alerts/silences.js';
import { InMemoryAlertStateStore } from '../../../src/alerts/state-store.js';
import type { AlertChange, SilenceMatcher } from '../../../src/alerts/types.js';
import type { AlertSpec, Transition } from '../../../src/rules/types.js';

const T0 = Date.UTC(2025, 0, 1);
const TIMINGS: AlertTimings = { holdDownMs: 120_000, repeatIntervalMs: 4 * 3_600_000, restoreGraceMs: 600_000, resolvedRetentionMs: 86_400_000 };

const spec = (overrides: Partial<AlertSpec> = {}): AlertSpec => ({
  rule: 'unexpected-prefix',
  key: 'fw-01|10.200.0.0/29',
  severity: 'warning',
  summary: 'fw-01 announces 10.200.0.0/29',
  explanation: 'because',
  suggestedAction: 'stop',
  router: 'rs1',
  appliance: 'fw-01',
  group: 'firewalls',
  prefix: '10.200.0.0/29',
  ...overrides,
});
const fire = (s: AlertSpec = spec()): Transition => ({ action: 'fire', alert: s });
const resolve = (key = 'fw-01|10.200.0.0/29'): Transition => ({ action: 'resolve', rule: 'unexpected-prefix', key, reason: 'gone' });

function manager(store = new InMemoryAlertStateStore(), timings = TIMINGS) {
  const changes: AlertChange[] = [];
  let ids = 0;
  const m = new AlertManager({ ...timings, store, onChange: (c) => changes.push(c), newId: () => `s${++ids}` });
  return { m, store, changes };
}

const matchers = (...texts: string[]): SilenceMatcher[] =>
  texts.map((text) => {
    const m = parseMatcher(text);
    if (typeof m === 'string') throw new Error(m);
    return m;
  });

describe('alert lifecycle', () => {
  it('notifies a new alert once; repeated fires are not notifications', () => {
    const { m } = manager();
    const first = m.apply([fire()], T0);
    expect(first.map((n) => [n.kind, n.sequence])).toEqual([['firing', 1]]);
    expect(first[0].alert).toMatchObject({ fingerprint: 'unexpected-prefix/fw-01|10.200.0.0/29', state: 'firing', startsAt: T0 });
    expect(m.apply([fire(), fire()], T0 + 1000)).toEqual([]);
    expect(m.tick(T0 + 60_000)).toEqual([]);
  });

  it('resolves only after the hold-down, with endsAt when the condition ended', () => {
    const { m, changes } = manager();
    m.apply([fire()], T0);
    m.apply([resolve()], T0 + 10_000);
    expect(m.tick(T0 + 100_000)).toEqual([]);
    expect(m.alert('unexpected-prefix/fw-01|10.200.0.0/29')?.state).toBe('firing');
    const out = m.tick(T0 + 130_000);
    expect(out.map((n) => n.kind)).toEqual(['resolved']);
    expect(out[0].alert).toMatchObject({ state: 'resolved', endsAt: T0 + 10_000, resolveReason: 'gone' });
    expect(changes.map((c) => c.change)).toEqual(['firing', 'clearing', 'resolved']);
  });

  it('a condition that returns within the hold-down sends nothing (no flapping alerts)', () => {
    const { m, changes } = manager();
    m.apply([fire()], T0);
    m.apply([resolve()], T0 + 10_000);
    expect(m.apply([fire()], T0 + 60_000)).toEqual([]);
    expect(m.tick(T0 + 300_000)).toEqual([]);
    expect(m.alert('unexpected-prefix/fw-01|10.200.0.0/29')).toMatchObject({ state: 'firing', startsAt: T0 });
    expect(changes.map((c) => c.change)).toEqual(['firing', 'clearing', 'unclearing']);
  });

  it('a new episode after resolution notifies again, with a new start and the next sequence number', () => {
    const { m } = manager();
    m.apply([fire()], T0);
    m.apply([resolve()], T0 + 1);
    m.tick(T0 + 200_000);
    const again = m.apply([fire()], T0 + 300_000);
    expect(again.map((n) => [n.kind, n.sequence, n.alert.startsAt])).toEqual([['firing', 3, T0 + 300_000]]);
  });

  it('repeats a long-firing alert every repeat interval', () => {
    const { m } = manager();
    m.apply([fire()], T0);
    expect(m.tick(T0 + 4 * 3_600_000 - 1)).toEqual([]);
    expect(m.tick(T0 + 4 * 3_600_000).map((n) => n.kind)).toEqual(['repeat']);
    expect(m.tick(T0 + 5 * 3_600_000)).toEqual([]);
    expect(m.tick(T0 + 8 * 3_600_000).map((n) => [n.kind, n.sequence])).toEqual([['repeat', 3]]);
  });

  it('escalation is notified, de-escalation is not, and severity never drops within an episode', () => {
    const { m } = manager();
    m.apply([fire()], T0);
    expect(m.apply([fire(spec({ severity: 'critical' }))], T0 + 1).map((n) => n.kind)).toEqual(['escalated']);
    expect(m.apply([fire(spec({ severity: 'warning' }))], T0 + 2)).toEqual([]);
    expect(m.alert('unexpected-prefix/fw-01|10.200.0.0/29')?.severity).toBe('critical');
  });

  it('a silence mutes notifications (not state); when it expires while the alert fires, the alert is notified', () => {
    const { m } = manager();
    const silence = m.addSilence({ matchers: matchers('appliance=fw-01', 'rule=~unexpected-.*'), reason: 'maintenance', createdBy: 'ops', endsAt: T0 + 3_600_000 }, T0);
    expect(m.apply([fire()], T0 + 1000)).toEqual([]);
    expect(m.alert('unexpected-prefix/fw-01|10.200.0.0/29')).toMatchObject({ state: 'firing', silencedBy: silence.id });
    expect(m.tick(T0 + 3_599_000)).toEqual([]);
    const out = m.tick(T0 + 3_600_000);
    expect(out.map((n) => n.kind)).toEqual(['firing']);
    expect(out[0].alert.silencedBy).toBeUndefined();
  });

  it('a silenced alert that resolves before the silence ends is never notified', () => {
    const { m } = manager();
    m.addSilence({ matchers: matchers('prefix=10.200.0.0/29'), reason: 'known', createdBy: 'ops', endsAt: T0 + 3_600_000 }, T0);
    m.apply([fire()], T0);
    m.apply([resolve()], T0 + 1000);
    expect(m.tick(T0 + 200_000)).toEqual([]);
    expect(m.tick(T0 + 3_700_000)).toEqual([]);
    expect(m.alert('unexpected-prefix/fw-01|10.200.0.0/29')?.state).toBe('resolved');
  });

  it('matchers: all must match; != and !~ negate; ending a silence early re-enables notifications', () => {
    const { m } = manager();
    const s = m.addSilence({ matchers: matchers('group=firewalls', 'severity!=critical'), reason: 'x', createdBy: 'ops', endsAt: T0 + 3_600_000 }, T0);
    expect(m.apply([fire()], T0)).toEqual([]);
    expect(m.apply([fire(spec({ key: 'other', severity: 'critical' }))], T0).map((n) => n.kind)).toEqual(['firing']);
    expect(m.apply([fire(spec({ key: 'lb', group: 'lbs' }))], T0).map((n) => n.kind)).toEqual(['firing']);
    expect(m.expireSilence(s.id, T0 + 10_000)).toBe(true);
    expect(m.tick(T0 + 10_000).map((n) => n.alert.key)).toEqual(['fw-01|10.200.0.0/29']);
    expect(m.silences(T0 + 10_000)).toEqual([]);
    expect(parseMatcher('colour=red')).toContain('unknown label');
    expect(parseMatcher('rule=~(')).toContain('not a valid regular expression');
  });

  it('survives a restart: nothing re-pages, a confirmed alert keeps firing, an unconfirmed one resolves (and is notified)', () => {
    const store = new InMemoryAlertStateStore();
    const before = manager(store).m;
    before.apply([fire(), fire(spec({ key: 'gone-while-down', prefix: '10.200.0.8/29' }))], T0);
    before.addSilence({ matchers: matchers('rule=route-flap'), reason: 'x', createdBy: 'ops', endsAt: T0 + 86_400_000 }, T0);

    const { m } = manager(store);
    const restored = m.load(T0 + 60_000);
    expect(restored.map((a) => a.key).sort()).toEqual(['fw-01|10.200.0.0/29', 'gone-while-down']);
    expect(m.silences()).toHaveLength(1);
    // The rules re-assert the one still true (initial dumps); nothing is sent for it.
    expect(m.apply([fire()], T0 + 70_000)).toEqual([]);
    expect(m.tick(T0 + 600_000)).toEqual([]);
    const out = m.tick(T0 + 660_000);
    expect(out.map((n) => [n.kind, n.alert.key])).toEqual([['resolved', 'gone-while-down']]);
    expect(out[0].alert.resolveReason).toBe('not seen again after a restart of bmpwatch');
    // Repeats continue from the last notification before the restart.
    expect(m.tick(T0 + 4 * 3_600_000).map((n) => [n.kind, n.sequence])).toEqual([['repeat', 2]]);
  });

  it('keeps resolved alerts for the retention time, then deletes them (memory and store)', () => {
    const { m, store } = manager();
    m.apply([fire()], T0);
    m.apply([resolve()], T0);
    m.tick(T0 + 120_000);
    expect(m.alerts({ state: 'resolved' })).toHaveLength(1);
    m.tick(T0 + 120_000 + 86_400_000);
    expect(m.alerts()).toEqual([]);
    expect(store.loadAlerts()).toEqual([]);
  });

  it('writes evidence-only updates at the next tick, lifecycle changes at once', () => {
    const { m, store } = manager();
    m.apply([fire()], T0);
    expect(store.loadAlerts()[0].lastSeen).toBeUndefined();
    m.apply([fire(spec({ lastSeen: T0 + 5 }))], T0 + 5);
    expect(store.loadAlerts()[0].lastSeen).toBeUndefined();
    m.tick(T0 + 10);
    expect(store.loadAlerts()[0].lastSeen).toBe(T0 + 5);
  });
});
