import { describe, expect, it } from 'vitest';
import { FW1, harness, LB1, LOCAL_PEER, peer, router, testConfig } from './support.js';

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
});
