import { describe, expect, it } from 'vitest';
import { attrs, FW1, harness, router, testConfig } from './support.js';

const PREFIX = '10.128.1.0/29';

function flap(h: ReturnType<typeof harness>, times: number, gapMs: number, rss = [router('rs1')]): void {
  for (let i = 0; i < times; i++) {
    for (const rs of rss) {
      h.withdraw(FW1, PREFIX, { rs });
      h.withdraw(FW1, PREFIX, { rs, table: 'adj-rib-in-post' });
    }
    h.advance(gapMs / 2);
    for (const rs of rss) {
      h.announce(FW1, PREFIX, { rs });
      h.announce(FW1, PREFIX, { rs, table: 'adj-rib-in-post' });
    }
    h.advance(gapMs / 2);
  }
}

describe('route-flap (test-mode RFC 2439: +1000 per withdrawal, +500 per change, half-life 15 min)', () => {
  it('warns at 3000 and goes critical at 6000 (with decay: the 4th and 7th quick withdrawal)', () => {
    const h = harness();
    h.announce(FW1, PREFIX);
    flap(h, 3, 20_000);
    // 3 withdrawals 20 s apart have decayed to ~2970: just under the warning threshold, as in any RFD router.
    expect(h.alertsOf('route-flap').size).toBe(0);
    flap(h, 1, 20_000);
    expect(h.alertsOf('route-flap').get(`fw-01|${PREFIX}`)?.severity).toBe('warning');
    flap(h, 2, 20_000);
    expect(h.alertsOf('route-flap').get(`fw-01|${PREFIX}`)?.severity).toBe('warning');
    flap(h, 1, 20_000);
    const alert = h.alertsOf('route-flap').get(`fw-01|${PREFIX}`);
    expect(alert?.severity).toBe('critical');
    expect(alert?.details?.withdrawals).toBe(7);
    expect(Number(alert?.details?.figureOfMerit)).toBeGreaterThanOrEqual(6000);
  });

  it('exposes the highest decayed figure of merit per appliance session (the dashboards\' flap_merit)', () => {
    const h = harness();
    h.announce(FW1, PREFIX);
    expect(h.engine.gauges(h.now()).get('route-flap')?.get(FW1.address) ?? 0).toBe(0);
    flap(h, 2, 2_000);
    const merit = h.engine.gauges(h.now()).get('route-flap')?.get(FW1.address) ?? 0;
    expect(merit).toBeGreaterThan(1_990);
    expect(merit).toBeLessThanOrEqual(2_000);
    // One half-life later it has halved.
    const later = h.engine.gauges(h.now() + 900_000).get('route-flap')?.get(FW1.address) ?? 0;
    expect(later).toBeCloseTo(merit / 2, 5);
  });

  it('counts attribute changes at 500', () => {
    const h = harness();
    let previous = attrs({ nextHop: FW1.address, med: 0 });
    for (let i = 1; i <= 7; i++) {
      const next = attrs({ nextHop: FW1.address, med: i });
      h.change(FW1, PREFIX, next, previous);
      previous = next;
      h.advance(1_000);
    }
    expect(h.alertsOf('route-flap').get(`fw-01|${PREFIX}`)?.details?.attributeChanges).toBe(7);
  });

  it('counts a withdrawal seen on several route servers (and pre- and post-policy) once', () => {
    const h = harness();
    flap(h, 3, 20_000, [router('rs1'), router('rs2'), router('rs3')]);
    expect(h.alertsOf('route-flap').size).toBe(0);
    flap(h, 1, 20_000, [router('rs1'), router('rs2'), router('rs3')]);
    const alert = h.alertsOf('route-flap').get(`fw-01|${PREFIX}`);
    expect(alert?.details?.withdrawals).toBe(4);
    expect(alert?.routers).toEqual(['rs1', 'rs2', 'rs3']);
  });

  it('never counts the initial dump, Peer Down flushes or a lost BMP session', () => {
    const h = harness();
    for (let i = 0; i < 5; i++) {
      h.peerUp(FW1);
      h.announce(FW1, PREFIX, { initialSync: true });
      h.withdraw(FW1, PREFIX, { cause: 'peer-down' });
      h.withdraw(FW1, PREFIX, { cause: 'peer-reset' });
      h.withdraw(FW1, PREFIX, { cause: 'router-down' });
      h.advance(10_000);
    }
    expect(h.alertsOf('route-flap').size).toBe(0);
  });

  it('counts withdrawals inside the initial-sync window of a live session (FRR sends no End-of-RIB for it)', () => {
    // FRR 8.4: an appliance session that comes up while the BMP session is up gets a Peer Up and its routes, but no
    // End-of-RIB, so every event of the next limits.initialDumpTimeoutSeconds carries initialSync: true.
    const h = harness();
    h.peerUp(FW1);
    h.announce(FW1, PREFIX, { initialSync: true });
    h.announce(FW1, PREFIX, { table: 'adj-rib-in-post', initialSync: true });
    for (let i = 0; i < 4; i++) {
      h.withdraw(FW1, PREFIX, { initialSync: true });
      h.withdraw(FW1, PREFIX, { table: 'adj-rib-in-post', initialSync: true });
      h.advance(500);
      h.announce(FW1, PREFIX, { initialSync: true });
      h.announce(FW1, PREFIX, { table: 'adj-rib-in-post', initialSync: true });
      h.advance(500);
    }
    const alert = h.alertsOf('route-flap').get(`fw-01|${PREFIX}`);
    expect(alert?.severity).toBe('warning');
    expect(alert?.details?.withdrawals).toBe(4);
  });

  it('stays quiet for slow flaps: the figure of merit decays (4 withdrawals 30 min apart)', () => {
    const h = harness();
    flap(h, 4, 30 * 60_000);
    expect(h.alertsOf('route-flap').size).toBe(0);
  });

  it('resolves once the figure of merit decays below 750', () => {
    const h = harness();
    flap(h, 4, 10_000);
    expect(h.alertsOf('route-flap').size).toBe(1);
    // ~3900 now; below 750 after about 2.4 half-lives (36 min).
    h.run(33 * 60_000);
    expect(h.alertsOf('route-flap').size).toBe(1);
    h.run(5 * 60_000);
    expect(h.alertsOf('route-flap').size).toBe(0);
  });

  it('takes per-group parameters', () => {
    const h = harness(testConfig({ groups: [{ group: 'firewalls', routeFlap: { warningThreshold: 1500, criticalThreshold: 1900, clearThreshold: 100 } }] }));
    flap(h, 2, 10_000);
    expect(h.alertsOf('route-flap').get(`fw-01|${PREFIX}`)?.severity).toBe('critical');
  });
});

describe('route-flap across a restart of bmpwatch', () => {
  /** What the consumer hands a rule from a stored alert (AlertRecord fields). */
  function restoredFrom(h: ReturnType<typeof harness>, key: string) {
    const alert = h.alertsOf('route-flap').get(key);
    if (alert === undefined) throw new Error(`no route-flap alert ${key}`);
    return { ...alert, startsAt: alert.firstSeen ?? h.now() };
  }

  /** Flap until the alert fires, then a new engine (the restart) as long after as `downMs`. */
  function restart(downMs: number) {
    const before = harness();
    before.announce(FW1, PREFIX);
    flap(before, 5, 2_000);
    const alert = restoredFrom(before, `fw-01|${PREFIX}`);
    const after = harness();
    after.advance(before.now() - after.now() + downMs);
    after.transitions.length = 0;
    return { alert, after };
  }

  it('takes over the stored alert: asserts it again while the decayed figure of merit holds, then resolves it as it decays', () => {
    const { alert, after } = restart(60_000);
    // The stored figure is the one last announced (when the alert fired): a lower bound of the real one.
    const merit = Number(alert.details?.figureOfMerit);
    const at = Number(alert.details?.at);
    expect(merit).toBeGreaterThanOrEqual(3_000);
    const { adopted } = after.engine.adopt([alert], after.now());
    expect(adopted).toEqual([`route-flap/fw-01|${PREFIX}`]);
    after.advance(5_000);
    const reasserted = after.transitions.filter((t) => t.action === 'fire');
    expect(reasserted).toHaveLength(1);
    expect(reasserted[0]).toMatchObject({ alert: { key: `fw-01|${PREFIX}`, severity: 'warning', details: { withdrawals: alert.details?.withdrawals } } });
    // It decays below 750 log2(merit / 750) half-lives (15 min each) after it was announced, not before.
    const clearsAt = at + 900_000 * Math.log2(merit / 750);
    after.run(clearsAt - after.now() - 60_000);
    expect(after.transitions.filter((t) => t.action === 'resolve')).toHaveLength(0);
    after.run(2 * 60_000);
    expect(after.transitions.filter((t) => t.action === 'resolve')).toEqual([
      expect.objectContaining({ rule: 'route-flap', key: `fw-01|${PREFIX}`, reason: expect.stringContaining('below 750') }),
    ]);
  });

  it('resolves at once an alert whose figure of merit decayed below the clear threshold while bmpwatch was down', () => {
    const { alert, after } = restart(3 * 3_600_000);
    expect(after.engine.adopt([alert], after.now()).adopted).toHaveLength(1);
    after.advance(5_000);
    expect(after.transitions.filter((t) => t.action === 'fire')).toHaveLength(0);
    expect(after.transitions.filter((t) => t.action === 'resolve')).toHaveLength(1);
  });

  it('leaves alone an alert whose peer is no longer that appliance (it resolves after the restore grace instead)', () => {
    const { alert, after } = restart(60_000);
    const moved = { ...alert, peer: { ...alert.peer, address: '192.0.2.200', bgpId: '192.0.2.200', as: 65000 } };
    expect(after.engine.adopt([moved], after.now()).adopted).toEqual([]);
    expect(after.engine.adopt([{ ...alert, details: {} }], after.now()).adopted).toEqual([]);
    after.run(60_000);
    expect(after.transitions).toEqual([]);
  });
});
