/**
 * Rules against exporter behaviour found by the topology suite (test/e2e), with the event sequences seen there:
 * - FRR 8.4 Route Monitoring (pre- and post-policy) of an EBGP appliance carries FRR's own AS in front of the path
 *   ("64500 65101" where the appliance sent "65101"; GoBGP shows "65101"): as-path must not fire for it.
 * - GoBGP 3.10 withdraws an appliance's routes post-policy (not pre-policy) right before its Peer Down and when it
 *   shuts down: route-flap must not count those as the appliance's withdrawals.
 */
import { describe, expect, it } from 'vitest';
import type { PeerRef, RouterRef } from '../../../src/rib/events.js';
import { attrs, FW1, harness, LB1, router } from './support.js';

const RS_AS = 64496;

function peerUpWithLocalAs(h: ReturnType<typeof harness>, p: PeerRef, rs: RouterRef, localAs: number): void {
  h.send({
    type: 'peer-up',
    router: rs,
    time: h.now(),
    peer: p,
    bmpTimestamp: 0,
    localAddress: '192.0.2.1',
    localPort: 179,
    remotePort: 40179,
    sentCapabilities: [{ type: 'four-octet-as', code: 65, as: localAs }],
    receivedCapabilities: [{ type: 'four-octet-as', code: 65, as: p.as }],
    holdTime: 90,
    reset: false,
  });
}

describe('as-path with FRR\'s paths of EBGP appliances', () => {
  const rs = router('rs1');

  it('leaves out the route server\'s own AS in front of the path (FRR encodes it as if sending), pre- and post-policy', () => {
    const h = harness();
    peerUpWithLocalAs(h, LB1, rs, RS_AS);
    h.announce(LB1, '10.128.128.0/29', { rs, table: 'adj-rib-in-post', attributes: attrs({ nextHop: LB1.address, asPath: [RS_AS, 64512] }) });
    h.announce(LB1, '10.128.128.0/29', { rs, attributes: attrs({ nextHop: LB1.address, asPath: [RS_AS, 64512] }) });
    h.announce(LB1, '10.128.128.8/29', { rs, attributes: attrs({ nextHop: LB1.address, asPath: [64512] }) });
    expect(h.alertsOf('as-path').size).toBe(0);
  });

  it('still fires for what follows it: prepending, or the route server\'s AS sent by the appliance', () => {
    const h = harness();
    peerUpWithLocalAs(h, LB1, rs, RS_AS);
    h.announce(LB1, '10.128.128.0/29', { rs, table: 'adj-rib-in-post', attributes: attrs({ nextHop: LB1.address, asPath: [RS_AS, 64512, 64512] }) });
    expect(h.alertsOf('as-path').get('100.64.4.10|10.128.128.0/29')?.explanation).toContain('at most 1 allowed');
    h.announce(LB1, '10.128.128.8/29', { rs, attributes: attrs({ nextHop: LB1.address, asPath: [RS_AS, RS_AS, 64512] }) });
    expect(h.alertsOf('as-path').get('100.64.4.10|10.128.128.8/29')?.explanation).toContain('the first AS must be the session\'s AS 64512');
  });

  it('keeps the path as it is without a Peer Up naming the route server\'s AS', () => {
    const h = harness();
    h.announce(LB1, '10.128.128.0/29', { rs, table: 'adj-rib-in-post', attributes: attrs({ nextHop: LB1.address, asPath: [RS_AS, 64512] }) });
    expect(h.alertsOf('as-path').size).toBe(1);
  });
});

describe('route-flap with GoBGP\'s post-policy withdrawals before a Peer Down', () => {
  const rs = router('rs2');
  const prefix = '10.128.1.0/29';

  it('does not count post-policy withdrawals while the pre-policy route is still there', () => {
    const h = harness();
    h.announce(FW1, prefix, { rs });
    h.announce(FW1, prefix, { rs, table: 'adj-rib-in-post' });
    for (let i = 0; i < 4; i++) {
      // GoBGP: post-policy withdrawal, Peer Down (the collector flushes pre-policy), new session, its dump.
      h.withdraw(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      h.peerDown(FW1, rs);
      h.withdraw(FW1, prefix, { rs, cause: 'peer-down' });
      h.advance(1_000);
      h.peerUp(FW1, rs);
      h.announce(FW1, prefix, { rs, initialSync: true });
      h.announce(FW1, prefix, { rs, table: 'adj-rib-in-post', initialSync: true });
      h.advance(1_000);
    }
    expect(h.alertsOf('route-flap').size).toBe(0);
  });

  it('counts the appliance\'s withdrawals: post-policy after pre-policy, and post-policy only without pre-policy', () => {
    const h = harness();
    for (let i = 0; i < 4; i++) {
      h.announce(FW1, prefix, { rs });
      h.announce(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      h.advance(500);
      h.withdraw(FW1, prefix, { rs });
      h.withdraw(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      h.advance(500);
    }
    expect(h.alertsOf('route-flap').get(`fw-01|${prefix}`)?.details?.withdrawals).toBe(4);

    const postOnly = harness();
    for (let i = 0; i < 4; i++) {
      postOnly.announce(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      postOnly.advance(500);
      postOnly.withdraw(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      postOnly.advance(500);
    }
    expect(postOnly.alertsOf('route-flap').get(`fw-01|${prefix}`)?.details?.withdrawals).toBe(4);
  });

  it('counts FRR\'s order (post-policy withdrawal first, then pre-policy) once per withdrawal', () => {
    const h = harness();
    for (let i = 0; i < 4; i++) {
      h.announce(FW1, prefix, { rs });
      h.announce(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      h.advance(500);
      h.withdraw(FW1, prefix, { rs, table: 'adj-rib-in-post' });
      h.withdraw(FW1, prefix, { rs });
      h.advance(500);
    }
    expect(h.alertsOf('route-flap').get(`fw-01|${prefix}`)?.details?.withdrawals).toBe(4);
  });
});
