import { describe, expect, it } from 'vitest';
import { attrs, FW1, harness, router } from './support.js';

const prefixes = (count: number, offset = 0): string[] => Array.from({ length: count }, (_, i) => `10.128.${1 + offset + i}.0/29`);

describe('too-many-prefixes (firewalls: maxPrefixes 10, warning fraction 0.8)', () => {
  it('warns at 8, goes critical above 10', () => {
    const h = harness();
    for (const prefix of prefixes(7)) h.announce(FW1, prefix);
    expect(h.alertsOf('too-many-prefixes').size).toBe(0);
    h.announce(FW1, '10.128.100.8/29');
    expect(h.alertsOf('too-many-prefixes').get('fw-01')?.severity).toBe('warning');
    for (const prefix of prefixes(3, 20)) h.announce(FW1, prefix);
    const alert = h.alertsOf('too-many-prefixes').get('fw-01');
    expect(alert?.severity).toBe('critical');
    expect(alert?.details).toMatchObject({ count: 11, limit: 10, warningLevel: 8 });
  });

  it('stays quiet under the warning level; pre and post views of one route are one prefix; route servers do not add up', () => {
    const h = harness();
    for (const prefix of prefixes(7)) {
      h.announce(FW1, prefix, { rs: router('rs1') });
      h.announce(FW1, prefix, { rs: router('rs1'), table: 'adj-rib-in-post' });
      h.announce(FW1, prefix, { rs: router('rs2') });
    }
    expect(h.alertsOf('too-many-prefixes').size).toBe(0);
  });

  it('resolves when the count falls below the warning level', () => {
    const h = harness();
    for (const prefix of prefixes(9)) h.announce(FW1, prefix);
    expect(h.alertsOf('too-many-prefixes').size).toBe(1);
    h.withdraw(FW1, prefixes(9)[0]);
    expect(h.alertsOf('too-many-prefixes').size).toBe(1);
    h.withdraw(FW1, prefixes(9)[1]);
    expect(h.alertsOf('too-many-prefixes').size).toBe(0);
  });

  it('holds back per-prefix alerts of an appliance over its limit, and evaluates them once it is under it again', () => {
    const h = harness();
    for (const prefix of prefixes(11)) h.announce(FW1, prefix);
    h.announce(FW1, '10.200.0.0/29', { attributes: attrs({ nextHop: '100.64.0.11' }) });
    expect(h.alertsOf('unexpected-prefix').size).toBe(0);
    expect(h.alertsOf('too-many-prefixes').get('fw-01')?.severity).toBe('critical');
    for (const prefix of prefixes(11).slice(0, 6)) h.withdraw(FW1, prefix);
    h.advance(5_000);
    expect([...h.alertsOf('unexpected-prefix').keys()]).toEqual(['fw-01|10.200.0.0/29']);
  });
});
