import { describe, expect, it } from 'vitest';
import { checkPrefix } from '../../../src/rules/prefix-policy.js';
import { buildRuleSettings } from '../../../src/rules/settings.js';
import { attrs, FW1, FW2, harness, LOCAL_PEER, router, testConfig } from './support.js';

describe('prefix policy (what unexpected-prefix and filter-gap check)', () => {
  const settings = buildRuleSettings(testConfig());
  const firewalls = settings.groups.get('firewalls');
  if (!firewalls) throw new Error('no group');
  it.each([
    ['10.128.1.0/29', []],
    ['10.128.1.8/32', []],
    ['2001:db8:100:1::/64', []],
    ['10.128.100.0/29', []],
    ['0.0.0.0/0', ['default-route', 'out-of-range']],
    ['::/0', ['default-route', 'out-of-range']],
    ['10.128.1.0/24', ['bad-length']],
    ['2001:db8:100::/48', ['bad-length']],
    ['10.200.0.0/29', ['out-of-range', 'bogon']],
    ['203.0.113.0/29', ['out-of-range', 'bogon']],
    ['198.18.0.0/29', ['out-of-range', 'bogon']],
    ['8.8.8.0/29', ['out-of-range']],
    ['10.128.0.8/29', ['infrastructure']],
    ['2001:db8:200::/64', ['out-of-range', 'bogon']],
  ])('%s → %j', (prefix, problems) => {
    expect(checkPrefix(prefix, firewalls, settings, []).problems).toEqual(problems);
  });

  it('explains each problem with the configuration that decides it', () => {
    const verdict = checkPrefix('10.128.1.0/24', firewalls, settings, []);
    expect(verdict.reasons[0]).toContain('/29-/32 in 10.128.0.0/17');
  });

  it('takes extra bogons and can skip bogons or allow a default route per group', () => {
    const custom = buildRuleSettings(testConfig({ unexpectedPrefix: { extraBogons: ['8.8.8.0/24'] }, groups: [{ group: 'firewalls', unexpectedPrefix: { allowDefaultRoute: true, checkBogons: false } }] }));
    const group = custom.groups.get('firewalls');
    if (!group) throw new Error('no group');
    expect(checkPrefix('0.0.0.0/0', group, custom, custom.extraBogons).problems).toEqual([]);
    expect(checkPrefix('10.200.0.0/29', group, custom, custom.extraBogons).problems).toEqual(['out-of-range']);
    const lbs = custom.groups.get('lbs');
    if (!lbs) throw new Error('no group');
    expect(checkPrefix('8.8.8.0/29', lbs, custom, custom.extraBogons).problems).toEqual(['out-of-range', 'bogon']);
  });
});

describe('unexpected-prefix', () => {
  it('fires (warning: filtered as it should be) for an out-of-range prefix seen only pre-policy', () => {
    const h = harness();
    h.peerUp(FW1);
    h.announce(FW1, '10.200.0.0/29');
    const alert = h.alertsOf('unexpected-prefix').get('fw-01|10.200.0.0/29');
    expect(alert?.severity).toBe('warning');
    expect(alert?.explanation).toContain('filtered it as they should');
    expect(alert?.appliance).toBe('fw-01');
    expect(alert?.group).toBe('firewalls');
    expect(alert?.peer?.address).toBe('100.64.0.11');
    expect(alert?.table).toBe('adj-rib-in-pre');
    expect(alert?.suggestedAction).toContain('10.200.0.0/29');
    expect(h.alertsOf('filter-gap').size).toBe(0);
  });

  it('fires critical when the route server accepted it (post-policy), naming where', () => {
    const h = harness();
    h.announce(FW1, '0.0.0.0/0');
    h.announce(FW1, '0.0.0.0/0', { table: 'adj-rib-in-post' });
    const alert = h.alertsOf('unexpected-prefix').get('fw-01|0.0.0.0/0');
    expect(alert?.severity).toBe('critical');
    expect(alert?.summary).toContain('default-route');
    expect(alert?.explanation).toContain('rs1 (post-policy Adj-RIB-In)');
    expect(alert?.details?.acceptedBy).toEqual(['rs1']);
  });

  it('flags too-short prefixes, infrastructure more-specifics and bogons', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/24');
    h.announce(FW1, '10.128.0.16/29');
    h.announce(FW1, '192.168.1.0/29');
    expect([...h.alertsOf('unexpected-prefix').keys()].sort()).toEqual(['fw-01|10.128.0.16/29', 'fw-01|10.128.1.0/24', 'fw-01|192.168.1.0/29']);
    expect(h.alertsOf('unexpected-prefix').get('fw-01|10.128.0.16/29')?.details?.problems).toEqual(['infrastructure']);
  });

  it('stays quiet for allowed prefixes, including the initial dump', () => {
    const h = harness();
    h.peerUp(FW1);
    h.announce(FW1, '10.128.1.0/29', { initialSync: true });
    h.announce(FW1, '10.128.1.0/29', { table: 'adj-rib-in-post', initialSync: true });
    h.announce(FW1, '2001:db8:100:1::/64', { attributes: attrs({ nextHop: '2001:db8:64::11' }) });
    expect(h.firing.size).toBe(0);
  });

  it('evaluates the initial dump after Peer Up like any announcement', () => {
    const h = harness();
    h.peerUp(FW1);
    h.announce(FW1, '10.200.0.0/29', { initialSync: true });
    expect(h.alertsOf('unexpected-prefix').size).toBe(1);
  });

  it('is one alert over several route servers, and resolves only when every one has dropped it', () => {
    const h = harness();
    h.announce(FW1, '10.200.0.0/29', { rs: router('rs1') });
    h.announce(FW1, '10.200.0.0/29', { rs: router('rs2') });
    expect(h.alertsOf('unexpected-prefix').get('fw-01|10.200.0.0/29')?.routers).toEqual(['rs1', 'rs2']);
    h.withdraw(FW1, '10.200.0.0/29', { rs: router('rs1') });
    expect(h.alertsOf('unexpected-prefix').size).toBe(1);
    h.withdraw(FW1, '10.200.0.0/29', { rs: router('rs2') });
    expect(h.alertsOf('unexpected-prefix').size).toBe(0);
    expect(h.transitions.filter((t) => t.action === 'resolve')).toHaveLength(1);
  });

  it('resolves when a peer goes down and its routes are flushed', () => {
    const h = harness();
    h.announce(FW1, '10.200.0.0/29');
    h.peerDown(FW1);
    h.withdraw(FW1, '10.200.0.0/29', { cause: 'peer-down' });
    expect(h.firing.size).toBe(0);
  });

  it('attributes Loc-RIB routes to the appliance by next hop', () => {
    const h = harness();
    h.peerUp(FW2); // fw-02 is configured by BGP identifier only: its session teaches its address
    h.announce(LOCAL_PEER, '10.200.0.0/29', { table: 'loc-rib', attributes: attrs({ nextHop: '100.64.0.12' }) });
    const alert = h.alertsOf('unexpected-prefix').get('fw-02|10.200.0.0/29');
    expect(alert?.severity).toBe('critical');
    expect(alert?.table).toBe('loc-rib');
    expect(h.alertsOf('filter-gap').get('rs1|fw-02|10.200.0.0/29')?.table).toBe('loc-rib');
    h.withdraw(LOCAL_PEER, '10.200.0.0/29', { table: 'loc-rib', previous: attrs({ nextHop: '100.64.0.12' }) });
    expect(h.firing.size).toBe(0);
    // An unnamed appliance address in a session range is an appliance too, known by its address.
    h.announce(LOCAL_PEER, '10.200.0.8/29', { table: 'loc-rib', attributes: attrs({ nextHop: '100.64.0.77' }) });
    expect(h.alertsOf('unexpected-prefix').get('100.64.0.77|10.200.0.8/29')?.appliance).toBe('100.64.0.77');
  });

  it('ignores Loc-RIB routes of non-appliance next hops and routes of non-appliance peers', () => {
    const h = harness();
    h.announce(LOCAL_PEER, '0.0.0.0/0', { table: 'loc-rib', attributes: attrs({ nextHop: '198.51.100.1' }) });
    const upstream = { ...FW2, key: '0|0:0|198.51.100.1', address: '198.51.100.1', bgpId: '198.51.100.1', as: 64999 };
    h.announce(upstream, '0.0.0.0/0', { attributes: attrs({ nextHop: '198.51.100.1', asPath: [64999] }) });
    expect(h.firing.size).toBe(0);
  });
});

describe('filter-gap', () => {
  it('fires critical per route server that accepted an unexpected prefix', () => {
    const h = harness();
    h.announce(FW1, '10.200.0.0/29', { rs: router('rs1') });
    h.announce(FW1, '10.200.0.0/29', { rs: router('rs1'), table: 'adj-rib-in-post' });
    h.announce(FW1, '10.200.0.0/29', { rs: router('rs2') });
    const gaps = h.alertsOf('filter-gap');
    expect([...gaps.keys()]).toEqual(['rs1|fw-01|10.200.0.0/29']);
    expect(gaps.get('rs1|fw-01|10.200.0.0/29')?.severity).toBe('critical');
    expect(gaps.get('rs1|fw-01|10.200.0.0/29')?.summary).toContain('rs1 accepted 10.200.0.0/29');
  });

  it('stays quiet when the unexpected prefix is only pre-policy (filtered as it should be), or is allowed', () => {
    const h = harness();
    h.announce(FW1, '10.200.0.0/29');
    h.announce(FW1, '10.128.1.0/29', { table: 'adj-rib-in-post' });
    expect(h.alertsOf('filter-gap').size).toBe(0);
  });

  it('resolves when the route server drops it (filter fixed) while the appliance still announces', () => {
    const h = harness();
    h.announce(FW1, '10.200.0.0/29');
    h.announce(FW1, '10.200.0.0/29', { table: 'adj-rib-in-post' });
    h.withdraw(FW1, '10.200.0.0/29', { table: 'adj-rib-in-post' });
    expect(h.alertsOf('filter-gap').size).toBe(0);
    expect(h.alertsOf('unexpected-prefix').get('fw-01|10.200.0.0/29')?.severity).toBe('warning');
  });

  it('can be disabled per group', () => {
    const h = harness(testConfig({ groups: [{ group: 'firewalls', disable: ['filter-gap'] }] }));
    h.announce(FW1, '10.200.0.0/29', { table: 'adj-rib-in-post' });
    expect(h.alertsOf('filter-gap').size).toBe(0);
    expect(h.alertsOf('unexpected-prefix').size).toBe(1);
  });
});
