import { describe, expect, it } from 'vitest';
import { FW1, FW2, FW3, harness, rejected, router, testConfig } from './support.js';

describe('feed-lost (grace 60 s)', () => {
  it('fires when a route server\'s BMP session is gone longer than the grace time', () => {
    const h = harness();
    h.routerUp();
    h.routerDown(router(), 'termination');
    h.run(55_000);
    expect(h.alertsOf('feed-lost').size).toBe(0);
    h.run(10_000);
    const alert = h.alertsOf('feed-lost').get('rs1');
    expect(alert?.severity).toBe('critical');
    expect(alert?.summary).toContain('terminated');
  });

  it('stays quiet for a quick reconnect (a note) and for a collector shutdown', () => {
    const h = harness();
    h.routerUp();
    h.routerDown();
    h.advance(20_000);
    h.routerUp(router('rs1', 40001));
    h.routerDown(router('rs1', 40001), 'shutdown');
    h.run(300_000);
    expect(h.alertsOf('feed-lost').size).toBe(0);
    expect(h.notes.map((n) => n.kind)).toContain('feed-reconnected');
  });

  it('is not fooled by the withdrawals the lost session itself emits', () => {
    const h = harness();
    h.routerUp();
    h.announce(FW1, '10.128.1.0/29');
    h.routerDown();
    h.withdraw(FW1, '10.128.1.0/29', { cause: 'router-down' });
    h.run(65_000);
    expect(h.alertsOf('feed-lost').size).toBe(1);
  });

  it('resolves when the route server streams again (new connection, same name)', () => {
    const h = harness();
    h.routerUp();
    h.routerDown();
    h.run(120_000);
    h.routerUp(router('rs1', 40002));
    expect(h.alertsOf('feed-lost').size).toBe(0);
  });

  it('keeps a restored alert firing until the route server returns', () => {
    const h = harness();
    // Taken over: the alert manager stops waiting for it to be asserted again, so it outlives the restore grace.
    expect(h.engine.adopt([{ rule: 'feed-lost', key: 'rs1', startsAt: h.now() - 3_600_000 }], h.now()).adopted).toEqual(['feed-lost/rs1']);
    h.run(30_000);
    expect(h.transitions.filter((t) => t.action === 'resolve')).toHaveLength(0);
    h.routerUp();
    expect(h.transitions.at(-1)).toMatchObject({ action: 'resolve', rule: 'feed-lost', key: 'rs1' });
  });
});

describe('stats-missing (2x the learned interval)', () => {
  it('fires when no statistics arrive for twice the interval while peers are up, and resolves at the next report', () => {
    const h = harness();
    h.routerUp();
    h.peerUp(FW1);
    for (let i = 0; i < 4; i++) {
      h.stats(FW1, [rejected(0)]);
      h.advance(30_000);
    }
    h.run(25_000);
    expect(h.alertsOf('stats-missing').size).toBe(0);
    h.run(10_000);
    const alert = h.alertsOf('stats-missing').get('rs1');
    expect(alert?.details?.intervalSeconds).toBe(30);
    h.stats(FW1, [rejected(0)]);
    expect(h.alertsOf('stats-missing').size).toBe(0);
  });

  it('stays quiet while reports keep coming, before the interval is known, and with no peer up', () => {
    const h = harness();
    h.routerUp();
    h.peerUp(FW1);
    h.stats(FW1, [rejected(0)]);
    h.run(600_000);
    expect(h.alertsOf('stats-missing').size).toBe(0);
    const idle = harness(testConfig({ feedHealth: { statsIntervalSeconds: 10 } }));
    idle.routerUp();
    idle.peerUp(FW1);
    idle.stats(FW1, [rejected(0)]);
    idle.peerDown(FW1);
    idle.run(600_000);
    expect(idle.alertsOf('stats-missing').size).toBe(0);
    const steady = harness(testConfig({ feedHealth: { statsIntervalSeconds: 10 } }));
    steady.routerUp();
    steady.peerUp(FW1);
    for (let i = 0; i < 30; i++) {
      steady.stats(FW1, [rejected(0)]);
      steady.advance(10_000);
    }
    expect(steady.alertsOf('stats-missing').size).toBe(0);
  });
});

describe('rejected-spike (>= 1 more rejected prefix in 5 min)', () => {
  it('fires when the rejected-prefix counter jumps, and resolves after a quiet window', () => {
    const h = harness();
    h.peerUp(FW1);
    h.stats(FW1, [rejected(5)]);
    h.advance(15_000);
    h.stats(FW1, [rejected(8)]);
    const alert = h.alertsOf('rejected-spike').get('rs1|100.64.0.11');
    expect(alert?.details).toMatchObject({ rejected: 8, previous: 5, increase: 3 });
    expect(alert?.appliance).toBe('fw-01');
    for (let i = 0; i < 25; i++) {
      h.advance(15_000);
      h.stats(FW1, [rejected(8)]);
    }
    h.advance(5_000);
    expect(h.alertsOf('rejected-spike').size).toBe(0);
  });

  it('stays quiet for a steady counter, the first report (baseline) and a counter reset', () => {
    const h = harness(testConfig({ feedHealth: { rejectedPrefixesThreshold: 5 } }));
    h.peerUp(FW1);
    h.stats(FW1, [rejected(1000)]);
    h.advance(15_000);
    h.stats(FW1, [rejected(1000)]);
    h.stats(FW1, [rejected(2)]); // new session: counter restarted, 2 is below the threshold
    expect(h.firing.size).toBe(0);
  });
});

describe('rs-incident (every peer down within 10 s)', () => {
  it('fires once for the route server and resolves when half the peers are back', () => {
    const h = harness();
    for (const p of [FW1, FW2, FW3]) h.peerUp(p);
    h.peerDown(FW1);
    h.advance(2_000);
    h.peerDown(FW2);
    h.peerDown(FW3);
    const alert = h.alertsOf('rs-incident').get('rs1');
    expect(alert?.severity).toBe('critical');
    expect(alert?.details?.peers).toBe(3);
    h.peerUp(FW1);
    expect(h.alertsOf('rs-incident').size).toBe(1);
    h.peerUp(FW2);
    expect(h.alertsOf('rs-incident').size).toBe(0);
  });

  it('stays quiet when peers go down one by one, or a single peer goes', () => {
    const h = harness();
    for (const p of [FW1, FW2, FW3]) h.peerUp(p);
    h.peerDown(FW1);
    h.advance(30_000);
    h.peerDown(FW2);
    h.advance(30_000);
    h.peerDown(FW3);
    expect(h.alertsOf('rs-incident').size).toBe(0);
    const single = harness();
    single.peerUp(FW1);
    single.peerDown(FW1);
    expect(single.alertsOf('rs-incident').size).toBe(0);
  });
});
