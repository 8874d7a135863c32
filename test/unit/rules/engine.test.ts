import { describe, expect, it } from 'vitest';
import { RuleEngine, defaultRules } from '../../../src/rules/engine.js';
import type { Rule } from '../../../src/rules/types.js';
import { attrs, FW1, harness, T0, testConfig } from './support.js';

function throwingRule(): Rule {
  return {
    id: 'route-flap',
    onEvent(event) {
      if (event.type === 'route-announced') throw new Error('boom');
      return [];
    },
  };
}

describe('rule engine', () => {
  it('isolates a throwing rule: counted, reported as rule-error, the other rules still run', () => {
    const engine = new RuleEngine(testConfig(), [throwingRule(), ...defaultRules().filter((r) => r.id !== 'route-flap')]);
    const router = { id: '192.0.2.1:1', address: '192.0.2.1', port: 1, name: 'rs1' };
    const event = { type: 'route-announced' as const, router, time: T0, peer: FW1, table: 'adj-rib-in-pre' as const, prefix: '10.200.0.0/29', bmpTimestamp: 0, initialSync: false, attributes: attrs({ nextHop: FW1.address }) };
    const first = engine.handle(event, T0);
    expect(first.filter((t) => t.action === 'fire').map((t) => (t.action === 'fire' ? t.alert.rule : ''))).toEqual(['rule-error', 'unexpected-prefix']);
    const second = engine.handle({ ...event, prefix: '10.200.0.8/29' }, T0 + 1);
    // The meta-alert fires once; further failures are counted.
    expect(second.filter((t) => t.action === 'fire' && t.alert.rule === 'rule-error')).toHaveLength(0);
    expect(engine.ruleFailures()).toEqual([{ rule: 'route-flap', count: 2, lastError: 'boom', lastAt: T0 + 1 }]);
    expect(engine.takeErrors()).toHaveLength(2);
    expect(engine.takeErrors()).toHaveLength(0);
    // Quiet for ruleErrorClearSeconds: the meta-alert resolves.
    expect(engine.tick(T0 + 599_000).some((t) => t.action === 'resolve')).toBe(false);
    expect(engine.tick(T0 + 601_000)).toContainEqual({ action: 'resolve', rule: 'rule-error', key: 'route-flap', reason: 'no error for 600 s' });
  });

  it('stays quiet when every rule runs cleanly', () => {
    const h = harness();
    h.routerUp();
    h.peerUp(FW1);
    h.announce(FW1, '10.128.1.0/29');
    h.run(60_000);
    expect(h.engine.ruleFailures()).toEqual([]);
    expect(h.firing.size).toBe(0);
  });

  it('re-evaluates on reload: alerts the new config no longer supports resolve, new ones fire', () => {
    const h = harness();
    h.announce(FW1, '10.129.0.0/29');
    h.announce(FW1, '10.128.5.0/29');
    expect([...h.alertsOf('unexpected-prefix').keys()]).toEqual(['fw-01|10.129.0.0/29']);
    const config = testConfig();
    config.applianceGroups[0].prefixes.ipv4 = [{ prefix: '10.129.0.0/16', minLength: 29, maxLength: 32 }];
    const transitions = h.engine.reconfigure(config, h.now());
    expect(transitions).toContainEqual({ action: 'resolve', rule: 'unexpected-prefix', key: 'fw-01|10.129.0.0/29', reason: 'the route no longer violates the rule' });
    expect(transitions.some((t) => t.action === 'fire' && t.alert.key === 'fw-01|10.128.5.0/29')).toBe(true);
  });

  it('re-resolves appliance names on reload (an unnamed appliance gets its configured name)', () => {
    const h = harness();
    const fw9 = { ...FW1, key: '0|0:0|100.64.0.9', address: '100.64.0.9', bgpId: '100.64.0.9' };
    h.announce(fw9, '10.200.0.0/29', { attributes: attrs({ nextHop: '100.64.0.9' }) });
    expect([...h.alertsOf('unexpected-prefix').keys()]).toEqual(['100.64.0.9|10.200.0.0/29']);
    const config = testConfig();
    config.appliances?.push({ name: 'fw-09', group: 'firewalls', addresses: ['100.64.0.9'] });
    const transitions = h.engine.reconfigure(config, h.now());
    expect(transitions.map((t) => (t.action === 'fire' ? `fire ${t.alert.key}` : t.action === 'resolve' ? `resolve ${t.key}` : 'note')).sort()).toEqual(['fire fw-09|10.200.0.0/29', 'resolve 100.64.0.9|10.200.0.0/29']);
  });

  it('disables rules globally', () => {
    const h = harness(testConfig({ unexpectedPrefix: { enabled: false }, filterGap: { enabled: false } }));
    h.announce(FW1, '10.200.0.0/29', { table: 'adj-rib-in-post' });
    expect(h.firing.size).toBe(0);
  });
});

describe('reload with a snapshot of the collector\'s routes', () => {
  it('indexes routes of peers that only the new configuration makes appliances', () => {
    const h = harness();
    const stranger = { ...FW1, key: '0|0:0|100.65.0.5', address: '100.65.0.5', bgpId: '100.65.0.5' };
    h.peerUp(stranger);
    h.announce(stranger, '10.200.0.0/29', { attributes: attrs({ nextHop: '100.65.0.5' }) });
    expect(h.alertsOf('unexpected-prefix').size).toBe(0);
    const config = testConfig();
    config.applianceGroups[0].sessionRanges.push('100.65.0.0/24');
    const router = { id: '192.0.2.1:40000', address: '192.0.2.1', port: 40000, name: 'rs1' };
    const snapshot = [{ type: 'route-announced' as const, router, time: T0, peer: stranger, table: 'adj-rib-in-pre' as const, prefix: '10.200.0.0/29', bmpTimestamp: 0, initialSync: true, attributes: attrs({ nextHop: '100.65.0.5' }) }];
    const transitions = h.engine.reconfigure(config, h.now(), snapshot);
    expect(transitions.some((t) => t.action === 'fire' && t.alert.key === '100.65.0.5|10.200.0.0/29')).toBe(true);
    expect(h.engine.view.applianceRouteCount('100.65.0.5').count).toBe(1);
  });
});
