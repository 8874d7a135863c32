import { describe, expect, it } from 'vitest';
import { attrs, FW1, harness, peer, testConfig } from './support.js';

const FW1_V6 = peer('2001:db8:64::11', 64496, '100.64.0.11');
const UNNAMED_V6 = peer('2001:db8:64::77', 64496, '100.64.0.77');

describe('next-hop', () => {
  it('fires when the next hop is not the session address (warning pre-policy, critical once accepted)', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', { attributes: attrs({ nextHop: '100.64.0.99' }) });
    let alert = h.alertsOf('next-hop').get('fw-01|10.128.1.0/29');
    expect(alert?.severity).toBe('warning');
    expect(alert?.summary).toContain('next hop 100.64.0.99, not its session address 100.64.0.11');
    expect(alert?.attributes?.nextHop).toBe('100.64.0.99');
    h.announce(FW1, '10.128.1.0/29', { table: 'adj-rib-in-post', attributes: attrs({ nextHop: '100.64.0.99' }) });
    alert = h.alertsOf('next-hop').get('fw-01|10.128.1.0/29');
    expect(alert?.severity).toBe('critical');
  });

  it('fires for a route without a next hop', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', { attributes: attrs({ nextHop: null }) });
    expect(h.alertsOf('next-hop').get('fw-01|10.128.1.0/29')?.details?.status).toBe('missing');
  });

  it('stays quiet for the session address, another own address of the appliance, and IPv4-mapped forms', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29');
    h.announce(FW1_V6, '2001:db8:100:1::/64', { attributes: attrs({ nextHop: '2001:DB8:64::11', linkLocal: 'fe80::1' }) });
    h.announce(FW1_V6, '2001:db8:100:2::/64', { attributes: attrs({ nextHop: '100.64.0.11' }) });
    h.announce(FW1, '2001:db8:100:3::/64', { attributes: attrs({ nextHop: '::ffff:100.64.0.11' }) });
    expect(h.alertsOf('next-hop').size).toBe(0);
  });

  it('reports a link-local-only IPv6 next hop as unverifiable (info), never as good', () => {
    const h = harness();
    h.announce(UNNAMED_V6, '2001:db8:100:1::/64', { attributes: attrs({ nextHop: null, linkLocal: 'fe80::77' }) });
    h.announce(UNNAMED_V6, '2001:db8:100:2::/64', { attributes: attrs({ nextHop: 'fe80::77' }) });
    const alerts = h.alertsOf('next-hop');
    expect(alerts.get('2001:db8:64::77|2001:db8:100:1::/64')?.severity).toBe('info');
    expect(alerts.get('2001:db8:64::77|2001:db8:100:1::/64')?.summary).toContain('unverifiable');
    expect(alerts.get('2001:db8:64::77|2001:db8:100:2::/64')?.details?.status).toBe('unverifiable');
  });

  it('can leave unverifiable next hops unreported, and skips groups without nextHopMustMatchSession', () => {
    const quiet = harness(testConfig({ nextHop: { reportUnverifiable: false } }));
    quiet.announce(UNNAMED_V6, '2001:db8:100:1::/64', { attributes: attrs({ nextHop: null, linkLocal: 'fe80::77' }) });
    expect(quiet.firing.size).toBe(0);
    const config = testConfig();
    const lbs = config.applianceGroups.find((g) => g.name === 'lbs');
    if (lbs) lbs.nextHopMustMatchSession = false;
    const h = harness(config);
    h.announce(peer('100.64.4.10', 64512), '10.128.128.0/29', { attributes: attrs({ nextHop: '100.64.4.200', asPath: [64512] }) });
    expect(h.firing.size).toBe(0);
  });

  it('resolves when the appliance fixes the next hop', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', { attributes: attrs({ nextHop: '100.64.0.99' }) });
    h.change(FW1, '10.128.1.0/29', attrs({ nextHop: '100.64.0.11' }), attrs({ nextHop: '100.64.0.99' }));
    expect(h.alertsOf('next-hop').size).toBe(0);
    expect(h.transitions.at(-1)).toMatchObject({ action: 'resolve', rule: 'next-hop', key: 'fw-01|10.128.1.0/29' });
  });
});
