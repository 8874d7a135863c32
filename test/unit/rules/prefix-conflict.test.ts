import { describe, expect, it } from 'vitest';
import { attrs, FW1, FW2, FW3, harness, LB1, peer } from './support.js';

const at = (p: { address: string }) => ({ attributes: attrs({ nextHop: p.address }) });

describe('prefix-conflict (moveWindowSeconds 60)', () => {
  it('fires when two appliances announce one prefix for longer than the move window', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', at(FW1));
    h.announce(FW2, '10.128.1.0/29', at(FW2));
    expect(h.alertsOf('prefix-conflict').size).toBe(0);
    h.run(60_000);
    const alert = h.alertsOf('prefix-conflict').get('10.128.1.0/29');
    expect(alert?.severity).toBe('warning');
    expect(alert?.details?.appliances).toEqual(['fw-01', 'fw-02']);
    expect(alert?.suggestedAction).toContain('anycastPrefixes');
  });

  it('fires across groups too', () => {
    const h = harness();
    h.announce(FW1, '10.128.128.0/29', at(FW1));
    h.announce(LB1, '10.128.128.0/29', { attributes: attrs({ nextHop: LB1.address, asPath: [64512] }) });
    h.run(60_000);
    expect(h.alertsOf('prefix-conflict').get('10.128.128.0/29')?.group).toBe('firewalls, lbs');
  });

  it('stays quiet for anycast prefixes and for one appliance on several route servers and sessions', () => {
    const h = harness();
    h.announce(FW1, '10.128.100.0/29', at(FW1));
    h.announce(FW2, '10.128.100.0/29', at(FW2));
    h.announce(FW1, '10.128.1.0/29', at(FW1));
    h.announce(peer('2001:db8:64::11', 64496, '100.64.0.11'), '10.128.1.0/29', at(FW1));
    h.run(120_000);
    expect(h.alertsOf('prefix-conflict').size).toBe(0);
  });

  it('a make-before-break move within the window is a note, not an alert', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', at(FW1));
    h.announce(FW2, '10.128.1.0/29', at(FW2));
    h.advance(20_000);
    h.withdraw(FW1, '10.128.1.0/29');
    h.run(120_000);
    expect(h.alertsOf('prefix-conflict').size).toBe(0);
    expect(h.notes.map((n) => n.message)).toContain('10.128.1.0/29 moved from fw-01 to fw-02 (make-before-break)');
  });

  it('a break-before-make move within the window is a note', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', at(FW1));
    h.withdraw(FW1, '10.128.1.0/29');
    h.advance(10_000);
    h.announce(FW3, '10.128.1.0/29', at(FW3));
    expect(h.notes.map((n) => n.message)).toContain('10.128.1.0/29 moved from fw-01 to 100.64.0.13 (break-before-make)');
    expect(h.firing.size).toBe(0);
  });

  it('resolves when only one appliance is left', () => {
    const h = harness();
    h.announce(FW1, '10.128.1.0/29', at(FW1));
    h.announce(FW2, '10.128.1.0/29', at(FW2));
    h.run(65_000);
    expect(h.alertsOf('prefix-conflict').size).toBe(1);
    h.withdraw(FW2, '10.128.1.0/29');
    expect(h.alertsOf('prefix-conflict').size).toBe(0);
    expect(h.transitions.at(-1)).toMatchObject({ action: 'resolve', reason: 'only fw-01 announces it now' });
  });
});
