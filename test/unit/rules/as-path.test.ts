import { describe, expect, it } from 'vitest';
import { attrs, FW1, harness, LB1, peer, testConfig } from './support.js';

describe('as-path', () => {
  it('fires for an IBGP appliance that sends a non-empty AS path', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', { attributes: attrs({ nextHop: '100.64.0.11', asPath: [64496] }) });
    const alert = h.alertsOf('as-path').get('fw-01|10.128.1.0/29');
    expect(alert?.severity).toBe('warning');
    expect(alert?.explanation).toContain('IBGP appliances must send an empty AS_PATH');
  });

  it.each([
    ['a foreign first AS', [64513], 'the first AS must be the session\'s AS 64512'],
    ['prepending', [64512, 64512], 'at most 1 allowed'],
    ['transit', [64512, 3356], 'AS 3356 is not among the group\'s asns'],
    ['an empty path', [], 'it is empty'],
  ])('fires for an EBGP appliance with %s', (_, path, text) => {
    const h = harness();
    h.announce(LB1, '10.128.128.0/29', { attributes: attrs({ nextHop: '100.64.4.10', asPath: path }) });
    expect(h.alertsOf('as-path').get('100.64.4.10|10.128.128.0/29')?.explanation).toContain(text);
  });

  it('fires for AS_SETs and for private ASNs in groups that do not allow them', () => {
    const h = harness(testConfig({ asPath: { ebgpMaxLength: 3, extraAllowedAsns: [65010] } }));
    h.announce(LB1, '10.128.128.0/29', { attributes: attrs({ nextHop: '100.64.4.10', segments: [{ type: 'AS_SEQUENCE', asns: [64512] }, { type: 'AS_SET', asns: [64513] }] }) });
    expect(h.alertsOf('as-path').get('100.64.4.10|10.128.128.0/29')?.explanation).toContain('AS_SET');
    const config = testConfig({ asPath: { extraAllowedAsns: [65010], ebgpMaxLength: 2 } });
    const lbs = config.applianceGroups.find((g) => g.name === 'lbs');
    if (lbs) lbs.allowPrivateAsns = false;
    const strict = harness(config);
    strict.announce(LB1, '10.128.128.8/29', { attributes: attrs({ nextHop: '100.64.4.10', asPath: [64512, 65010] }) });
    expect(strict.alertsOf('as-path').get('100.64.4.10|10.128.128.8/29')?.explanation).toContain('private AS 64512, 65010');
  });

  it('is critical when the route server accepted the bad path', () => {
    const h = harness();
    h.announce(LB1, '10.128.128.0/29', { table: 'adj-rib-in-post', attributes: attrs({ nextHop: '100.64.4.10', asPath: [64513] }) });
    expect(h.alertsOf('as-path').get('100.64.4.10|10.128.128.0/29')?.severity).toBe('critical');
  });

  it('stays quiet for correct paths, and for configured prepending', () => {
    const h = harness(testConfig({ groups: [{ group: 'lbs', asPath: { ebgpMaxLength: 3 } }] }));
    h.announce(FW1, '10.128.1.0/29');
    h.announce(LB1, '10.128.128.0/29', { attributes: attrs({ nextHop: '100.64.4.10', asPath: [64512] }) });
    h.announce(LB1, '10.128.128.8/29', { attributes: attrs({ nextHop: '100.64.4.10', asPath: [64512, 64512, 64512] }) });
    h.announce(peer('100.64.4.11', 64513), '10.128.128.16/29', { attributes: attrs({ nextHop: '100.64.4.11', asPath: [64513] }) });
    expect(h.firing.size).toBe(0);
  });

  it('resolves when the path is fixed or the route withdrawn', () => {
    const h = harness();
    const bad = attrs({ nextHop: '100.64.4.10', asPath: [64512, 174] });
    h.announce(LB1, '10.128.128.0/29', { attributes: bad });
    h.announce(LB1, '10.128.128.8/29', { attributes: bad });
    expect(h.alertsOf('as-path').size).toBe(2);
    h.change(LB1, '10.128.128.0/29', attrs({ nextHop: '100.64.4.10', asPath: [64512] }), bad);
    h.withdraw(LB1, '10.128.128.8/29', { previous: bad });
    expect(h.alertsOf('as-path').size).toBe(0);
  });
});
