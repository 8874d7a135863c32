import { describe, expect, it } from 'vitest';
import type { BgpNotification } from '../../../src/bgp/types.js';
import { FW1, FW2, FW3, harness, router, testConfig } from './support.js';

const HOLD_TIMER_EXPIRED: BgpNotification = { type: 'notification', code: 4, subcode: 0, codeName: 'Hold Timer Expired', subcodeName: 'unspecific', dataHex: '' };

describe('session-churn (+1000 per Peer Down, warning 3000 / 3 in 10 min, critical 6000)', () => {
  it('fires after three resets within the count window, with reason codes and NOTIFICATION', () => {
    const h = harness();
    h.peerUp(FW1);
    h.peerUp(FW2);
    for (let i = 0; i < 3; i++) {
      h.peerDown(FW1, router(), { notification: HOLD_TIMER_EXPIRED });
      h.advance(30_000);
      h.peerUp(FW1);
      h.advance(30_000);
    }
    const alert = h.alertsOf('session-churn').get('fw-01');
    expect(alert?.severity).toBe('warning');
    expect(alert?.explanation).toContain('NOTIFICATION 4/0 (Hold Timer Expired / unspecific)');
    expect(alert?.details?.downsInWindow).toBe(3);
  });

  it('counts FRR\'s implied resets (Peer Up while up) and goes critical at 6000', () => {
    const h = harness();
    h.peerUp(FW1);
    for (let i = 0; i < 7; i++) {
      h.peerDown(FW1, router(), { reason: 0, implied: true });
      h.peerUp(FW1, router(), true);
      h.advance(15_000);
    }
    expect(h.alertsOf('session-churn').get('fw-01')?.severity).toBe('critical');
  });

  it('counts an appliance restart seen on several route servers once', () => {
    const h = harness();
    for (const rs of ['rs1', 'rs2', 'rs3']) h.peerUp(FW1, router(rs));
    for (let i = 0; i < 2; i++) {
      for (const rs of ['rs1', 'rs2', 'rs3']) h.peerDown(FW1, router(rs));
      h.advance(60_000);
      for (const rs of ['rs1', 'rs2', 'rs3']) h.peerUp(FW1, router(rs));
      h.advance(60_000);
    }
    expect(h.alertsOf('session-churn').size).toBe(0);
  });

  it('stays quiet for occasional resets and for Peer Downs of sessions never up', () => {
    const h = harness();
    h.peerDown(FW1, router(), { reason: 2, wasUp: false });
    h.peerDown(FW1, router(), { reason: 2, wasUp: false });
    h.peerUp(FW1);
    for (let i = 0; i < 3; i++) {
      h.peerDown(FW1);
      h.run(20 * 60_000);
      h.peerUp(FW1);
    }
    expect(h.alertsOf('session-churn').size).toBe(0);
  });

  it('resolves when the figure of merit decays and the window empties', () => {
    const h = harness();
    h.peerUp(FW1);
    for (let i = 0; i < 3; i++) {
      h.peerDown(FW1);
      h.advance(10_000);
      h.peerUp(FW1);
    }
    h.advance(15_000);
    expect(h.alertsOf('session-churn').size).toBe(1);
    h.run(30 * 60_000);
    expect(h.alertsOf('session-churn').size).toBe(0);
  });

  it('does not count Peer Downs explained by a route-server incident', () => {
    const h = harness();
    for (let round = 0; round < 3; round++) {
      for (const p of [FW1, FW2, FW3]) h.peerUp(p);
      h.advance(1_000);
      for (const p of [FW1, FW2, FW3]) h.peerDown(p);
      h.run(20_000);
    }
    expect(h.alertsOf('session-churn').size).toBe(0);
    expect(h.notes.filter((n) => n.kind === 'explained-by-incident').length).toBe(9);
  });
});

describe('session-down (hold 90 s on at least 1 route server)', () => {
  it('fires after the hold time, with the Peer Down reason', () => {
    const h = harness();
    h.peerUp(FW1);
    h.peerUp(FW2);
    h.peerDown(FW1, router(), { notification: HOLD_TIMER_EXPIRED });
    h.run(85_000);
    expect(h.alertsOf('session-down').size).toBe(0);
    h.run(10_000);
    const alert = h.alertsOf('session-down').get('fw-01');
    expect(alert?.severity).toBe('critical');
    expect(alert?.explanation).toContain('Hold Timer Expired');
  });

  it('stays quiet for a session that comes back within the hold time, and for implied resets', () => {
    const h = harness();
    h.peerUp(FW1);
    h.peerUp(FW2);
    h.peerDown(FW1);
    h.run(60_000);
    h.peerUp(FW1);
    h.peerDown(FW1, router(), { reason: 0, implied: true });
    h.peerUp(FW1, router(), true);
    h.run(120_000);
    expect(h.alertsOf('session-down').size).toBe(0);
  });

  it('needs minRouteServers route servers', () => {
    const h = harness(testConfig({ sessionDown: { minRouteServers: 2 } }));
    for (const rs of ['rs1', 'rs2']) {
      h.peerUp(FW1, router(rs));
      h.peerUp(FW2, router(rs));
    }
    h.peerDown(FW1, router('rs1'));
    h.run(120_000);
    expect(h.alertsOf('session-down').size).toBe(0);
    h.peerDown(FW1, router('rs2'));
    h.run(120_000);
    expect(h.alertsOf('session-down').get('fw-01')?.routers).toEqual(['rs1', 'rs2']);
  });

  it('resolves when the appliance is back up', () => {
    const h = harness();
    h.peerUp(FW1);
    h.peerUp(FW2);
    h.peerDown(FW1);
    h.run(100_000);
    expect(h.alertsOf('session-down').size).toBe(1);
    h.peerUp(FW1);
    h.advance(5_000);
    expect(h.alertsOf('session-down').size).toBe(0);
  });

  it('holds back appliance alerts explained by a route-server incident (one rs-incident instead)', () => {
    const h = harness();
    for (const p of [FW1, FW2, FW3]) h.peerUp(p);
    for (const p of [FW1, FW2, FW3]) h.peerDown(p);
    h.run(300_000);
    expect(h.alertsOf('session-down').size).toBe(0);
    expect([...h.alertsOf('rs-incident').keys()]).toEqual(['rs1']);
  });
});

describe('session-churn across a restart of bmpwatch', () => {
  function churned() {
    const h = harness();
    h.peerUp(FW1);
    for (let i = 0; i < 4; i++) {
      h.peerDown(FW1, router(), { notification: HOLD_TIMER_EXPIRED });
      h.advance(20_000);
      h.peerUp(FW1);
    }
    h.advance(15_000);
    const alert = h.alertsOf('session-churn').get('fw-01');
    if (alert === undefined) throw new Error('no session-churn alert');
    return { h, alert: { ...alert, startsAt: alert.firstSeen ?? h.now() } };
  }

  it('takes over the stored alert with its Peer Downs: asserts it again, resolves once the window empties and the merit decays', () => {
    const { h: before, alert } = churned();
    const after = harness();
    after.advance(before.now() - after.now() + 30_000);
    after.transitions.length = 0;
    expect(after.engine.adopt([alert], after.now()).adopted).toEqual(['session-churn/fw-01']);
    after.advance(5_000);
    const fired = after.transitions.filter((t) => t.action === 'fire');
    expect(fired).toHaveLength(1);
    // The Peer Downs listed in the stored alert are in the count window again.
    expect(fired[0]).toMatchObject({ alert: { key: 'fw-01', details: { downsInWindow: alert.details?.downsInWindow } } });
    // Still firing while the figure of merit holds (about 3,000: two half-lives to 750), resolved after.
    after.run(20 * 60_000);
    expect(after.transitions.filter((t) => t.action === 'resolve')).toHaveLength(0);
    after.run(40 * 60_000);
    expect(after.transitions.filter((t) => t.action === 'resolve').map((t) => (t.action === 'resolve' ? t.key : ''))).toEqual(['fw-01']);
  });

  it('does not adopt an alert without the Peer Downs it was raised for', () => {
    const { h: before, alert } = churned();
    const after = harness();
    after.advance(before.now() - after.now());
    expect(after.engine.adopt([{ ...alert, details: { ...alert.details, downs: [] } }], after.now()).adopted).toEqual([]);
  });
});
