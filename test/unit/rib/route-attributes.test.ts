import { describe, expect, it } from 'vitest';
import type { PathAttributes } from '../../../src/bgp/types.js';
import { toRouteAttributes } from '../../../src/rib/route-attributes.js';

describe('toRouteAttributes', () => {
  it('reduces an UPDATE to one family: next hop per family, texts as decoded', () => {
    const attributes: PathAttributes = {
      origin: 'igp',
      asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 4200000001] }, { type: 'AS_SET', asns: [65003, 65004] }],
      nextHop: '100.64.1.11',
      communities: ['65000:1', '65000:2'],
      largeCommunities: ['4200000001:1:2'],
      extendedCommunities: [{ type: 0, subtype: 2, text: 'rt:65000:100' }],
      mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::11', linkLocalNextHop: 'fe80::11', nlri: [] },
    };
    const v4 = toRouteAttributes(attributes, 'ipv4');
    const v6 = toRouteAttributes(attributes, 'ipv6');
    expect(v4).toEqual({
      origin: 'igp',
      asPath: attributes.asPath,
      asPathText: '65001 4200000001 {65003,65004}',
      asPathMissing: false,
      nextHop: '100.64.1.11',
      communities: ['65000:1', '65000:2'],
      largeCommunities: ['4200000001:1:2'],
      extendedCommunities: ['rt:65000:100'],
    });
    expect(v6).toMatchObject({ nextHop: '2001:db8::11', linkLocalNextHop: 'fe80::11' });
    expect(Object.isFrozen(v4)).toBe(true);
  });

  it('shares an AS path between attribute sets only when the segments are the same, not just the text', () => {
    const one = toRouteAttributes({ asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 65002] }], nextHop: '192.0.2.1' }, 'ipv4');
    const same = toRouteAttributes({ asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 65002] }], nextHop: '192.0.2.2' }, 'ipv4');
    const split = toRouteAttributes({ asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }, { type: 'AS_SEQUENCE', asns: [65002] }], nextHop: '192.0.2.1' }, 'ipv4');
    expect(same.asPath).toBe(one.asPath);
    expect(split.asPathText).toBe(one.asPathText);
    expect(split.asPath).toHaveLength(2); // as received, not the pooled one-segment path
    const emptySegment = toRouteAttributes({ asPath: [{ type: 'AS_SEQUENCE', asns: [] }], nextHop: '192.0.2.1' }, 'ipv4');
    const noPath = toRouteAttributes({ nextHop: '192.0.2.1' }, 'ipv4');
    expect(emptySegment.asPath).toHaveLength(1);
    expect(noPath.asPath).toEqual([]);
    expect(noPath.asPathMissing).toBe(true);
  });
});
