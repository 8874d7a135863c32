/**
 * Whether an appliance may announce a prefix: the policy the route servers' import filters should implement,
 * evaluated independently of them (so bmpwatch can tell when their filters let something through).
 *
 * Checks, in order of precedence (all that apply are reported):
 * 1. default route (0.0.0.0/0, ::/0): never, unless rules.unexpectedPrefix.allowDefaultRoute;
 * 2. infrastructure: equal to or inside an infrastructurePrefixes entry (these carve holes into allowed ranges);
 * 3. out of range: inside none of the group's `prefixes` ranges of its family;
 * 4. bad length: inside a range, but of a length that no containing range allows (e.g. a /24 where /29-/32 is
 *    allowed);
 * 5. bogon (not for the default route, reported as such): inside the bogon list (arouteserver's config.d/bogons.yml, plus rules.unexpectedPrefix.extraBogons),
 *    unless the group's ranges allow the prefix explicitly: a group that announces RFC 1918 service addresses has
 *    said so in its ranges, and the bogon check is defence in depth for everything else.
 */
import { cidrContains, formatCidr, parseCidr, type Cidr } from '../config/cidr.js';
import type { GroupSettings, RuleSettings } from './settings.js';

export type PrefixProblem = 'default-route' | 'infrastructure' | 'out-of-range' | 'bad-length' | 'bogon';

/** arouteserver config.d/bogons.yml (RFC 6890 special-purpose space and unallocated IPv6). */
export const BOGONS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/8',
  '0100::/64',
  '2001:2::/48',
  '2001:10::/28',
  '2001:db8::/32',
  '2002::/16',
  '3ffe::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

/** IPv6 global unicast (RFC 4291): anything outside 2000::/3 is not routable on the Internet. */
const IPV6_GLOBAL_UNICAST = '2000::/3';

function parsed(texts: readonly string[]): Cidr[] {
  return texts.flatMap((text) => {
    const cidr = parseCidr(text);
    return typeof cidr === 'string' ? [] : [cidr];
  });
}

const BOGON_CIDRS = parsed(BOGONS);
const GLOBAL_UNICAST = parsed([IPV6_GLOBAL_UNICAST])[0];

export interface PrefixVerdict {
  readonly problems: readonly PrefixProblem[];
  /** One sentence per problem, naming the configuration that decides it. */
  readonly reasons: readonly string[];
}

export function isBogon(cidr: Cidr, extra: readonly Cidr[]): boolean {
  if (cidr.family === 6 && !cidrContains(GLOBAL_UNICAST, cidr)) return true;
  return BOGON_CIDRS.some((bogon) => cidrContains(bogon, cidr)) || extra.some((bogon) => cidrContains(bogon, cidr));
}

/** Checks one prefix against a group's policy. `extraBogons` are rules.unexpectedPrefix.extraBogons, parsed. */
export function checkPrefix(prefix: string, group: GroupSettings, settings: RuleSettings, extraBogons: readonly Cidr[]): PrefixVerdict {
  const cidr = parseCidr(prefix);
  if (typeof cidr === 'string') return { problems: ['out-of-range'], reasons: [`${prefix} is not a valid prefix`] };
  const params = group.params.unexpectedPrefix;
  const problems: PrefixProblem[] = [];
  const reasons: string[] = [];
  if (cidr.length === 0 && !params.allowDefaultRoute) {
    problems.push('default-route');
    reasons.push('it is a default route, which appliances must never announce');
  }
  const infrastructure = settings.infrastructure.find((infra) => cidrContains(infra, cidr));
  if (infrastructure !== undefined) {
    problems.push('infrastructure');
    reasons.push(`it is inside the infrastructure prefix ${formatted(infrastructure)} (infrastructurePrefixes)`);
  }
  const family = group.ranges.filter((range) => range.cidr.family === cidr.family);
  const containing = family.filter((range) => cidrContains(range.cidr, cidr));
  if (containing.length === 0) {
    if (cidr.length !== 0 || !params.allowDefaultRoute) {
      problems.push('out-of-range');
      const allowed = family.map((range) => formatted(range.cidr));
      reasons.push(
        allowed.length === 0
          ? `group "${group.name}" may announce no IPv${cidr.family} prefixes at all`
          : `it is outside the ranges group "${group.name}" may announce (${allowed.join(', ')})`,
      );
    }
  } else if (!containing.some((range) => cidr.length >= range.minLength && cidr.length <= range.maxLength)) {
    problems.push('bad-length');
    const lengths = containing.map((range) => `/${range.minLength}-/${range.maxLength} in ${formatted(range.cidr)}`);
    reasons.push(`its length /${cidr.length} is not allowed (${lengths.join(', ')})`);
  }
  if (params.checkBogons && cidr.length > 0 && containing.length === 0 && isBogon(cidr, extraBogons)) {
    problems.push('bogon');
    reasons.push('it is a bogon (special-purpose or unallocated address space)');
  }
  return { problems, reasons };
}

/** Anycast: every group involved lists the prefix (or a covering prefix) in anycastPrefixes. */
export function isAnycast(prefix: string, groups: readonly GroupSettings[]): boolean {
  const cidr = parseCidr(prefix);
  if (typeof cidr === 'string' || groups.length === 0) return false;
  return groups.every((group) => group.anycast.some((anycast) => cidrContains(anycast, cidr)));
}

function formatted(cidr: Cidr): string {
  return formatCidr(cidr);
}
