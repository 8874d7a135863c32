import { describe, expect, it } from 'vitest';
import { FW1, FW2, harness, LB1, LOCAL_PEER, peer, rejected, router, testConfig } from './support.js';

describe('unexpected-peer', () => {
  it('fires for a session from outside every appliance range', () => {
    const h = harness();
    h.peerUp(peer('198.51.100.7', 65001));
    const alert = h.alertsOf('unexpected-peer').get('198.51.100.7');
    expect(alert?.severity).toBe('warning');
    expect(alert?.details?.reason).toBe('outside-ranges');
    expect(alert?.peer).toEqual({ address: '198.51.100.7', as: 65001, bgpId: '198.51.100.7' });
  });

  it('fires for an AS the group does not allow', () => {
    const h = harness();
    h.peerUp(peer('100.64.4.20', 65099));
    const alert = h.alertsOf('unexpected-peer').get('100.64.4.20|AS65099');
    expect(alert?.details?.reason).toBe('as-not-allowed');
    expect(alert?.group).toBe('lbs');
  });

  it('stays quiet for appliances, the route server itself and allowed non-appliance peers', () => {
    const h = harness(testConfig({ unexpectedPeer: { allowedPeers: ['198.51.100.0/29'] } }));
    h.peerUp(FW1);
    h.peerUp(LB1);
    h.peerUp(LOCAL_PEER);
    h.peerUp(peer('198.51.100.7', 65001));
    expect(h.firing.size).toBe(0);
  });

  it('is one alert over route servers and resolves when the session is gone from all', () => {
    const stranger = peer('198.51.100.7', 65001);
    const h = harness();
    h.peerUp(stranger, router('rs1'));
    h.peerUp(stranger, router('rs2'));
    expect(h.alertsOf('unexpected-peer').get('198.51.100.7')?.routers).toEqual(['rs1', 'rs2']);
    h.peerDown(stranger, router('rs1'));
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
    h.routerDown(router('rs2'));
    expect(h.alertsOf('unexpected-peer').size).toBe(0);
  });

  it('resolves when the session stops appearing in the Statistics Reports (FRR: no Peer Down for dynamic neighbours)', () => {
    const stranger = peer('198.51.100.7', 65001);
    const h = harness();
    const round = (peers: typeof FW1[]): void => {
      for (const p of peers) h.stats(p, [rejected(0)]);
      h.advance(1_000);
    };
    h.peerUp(FW1);
    h.peerUp(FW2);
    round([FW1, FW2]);
    h.peerUp(stranger);
    round([FW1, FW2, stranger]);
    round([FW1, FW2, stranger]);
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
    // The session ends: FRR sends nothing, its reports just stop. One missed round is not enough...
    round([FW1, FW2]);
    round([FW1, FW2]);
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
    // ...two complete rounds without it are.
    round([FW1, FW2]);
    expect(h.alertsOf('unexpected-peer').size).toBe(0);
    const resolved = h.transitions.find((t) => t.action === 'resolve' && t.rule === 'unexpected-peer');
    expect(resolved).toMatchObject({ key: '198.51.100.7', reason: expect.stringContaining('no Statistics Report') });
    // It comes back (FRR: another Peer Up): a new alert, which a late first report does not resolve.
    h.peerUp(stranger, router(), true);
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
    round([FW1, FW2]);
    round([FW1, FW2, stranger]);
    round([FW1, FW2, stranger]);
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
  });

  it('keeps firing without Statistics Reports, and for a session still in every round', () => {
    const stranger = peer('198.51.100.7', 65001);
    const h = harness();
    h.peerUp(FW1);
    h.peerUp(stranger);
    h.run(60_000);
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
    for (let i = 0; i < 10; i++) {
      h.stats(FW1, [rejected(0)]);
      h.stats(stranger, [rejected(0)]);
      h.advance(1_000);
    }
    expect(h.alertsOf('unexpected-peer').size).toBe(1);
  });
});
