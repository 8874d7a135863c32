/**
 * as-path: the AS_PATH of an appliance route is not what its session type allows.
 *
 * - IBGP appliances (sessionType: ibgp) originate their routes inside the route servers' AS: the AS_PATH must be
 *   empty.
 * - EBGP appliances must send exactly their own AS: the first AS is the session's peer AS, the path has at most
 *   `ebgpMaxLength` ASes (1 by default: no prepending, no transit), every AS is one of the group's `asns` (or
 *   rules.asPath.extraAllowedAsns), no AS_SET unless allowAsSets, and private AS numbers (RFC 6996) only when the
 *   group has allowPrivateAsns.
 *
 * Exporter quirk: FRR 8.4 encodes Route Monitoring (pre- and post-policy) as if it sent the route to the peer it
 * came from, so an EBGP appliance's path starts with the route server's own AS ("64500 65101" for "65101"). One
 * leading route-server AS (the AS of the route server's OPEN in the Peer Up) in a path of an EBGP session is
 * therefore left out: the appliance cannot have sent it (the route server would drop its own AS as a loop).
 *
 * Key: appliance + prefix. Severity: critical when a violating route was accepted (post-policy Adj-RIB-In),
 * warning when seen only pre-policy. Parameters (rules.asPath, per group rules.groups[].asPath): enabled (true),
 * ebgpMaxLength (1), extraAllowedAsns ([]), allowAsSets (false).
 */
import type { AsPathSegment } from '../bgp/types.js';
import { isPrivateAsn } from '../config/schema.js';
import { describeWhere, routeEvidence, routeRule } from './route-rule.js';
import type { RouteEntry } from './routing-state.js';
import type { GroupSettings } from './settings.js';
import type { Rule } from './types.js';

const TABLES = new Set(['adj-rib-in-pre', 'adj-rib-in-post'] as const);

/** The path as the appliance sent it: without the route server's own AS that FRR puts in front (above). */
function applianceSegments(entry: RouteEntry, localAs: number | undefined): readonly AsPathSegment[] {
  const segments = entry.attributes.asPath;
  const first = segments[0];
  if (localAs === undefined || localAs === entry.peer.as || first?.type !== 'AS_SEQUENCE' || first.asns[0] !== localAs) return segments;
  return first.asns.length === 1 ? segments.slice(1) : [{ ...first, asns: first.asns.slice(1) }, ...segments.slice(1)];
}

/** What is wrong with a route's AS_PATH; empty when nothing is. `localAs`: the route server's AS on that session. */
export function asPathProblems(entry: RouteEntry, group: GroupSettings, localAs?: number): string[] {
  const segments = group.config.sessionType === 'ebgp' ? applianceSegments(entry, localAs) : entry.attributes.asPath;
  const asns = segments.flatMap((segment) => segment.asns);
  if (group.config.sessionType === 'ibgp') {
    return asns.length === 0 ? [] : [`IBGP appliances must send an empty AS_PATH, not "${entry.attributes.asPathText}"`];
  }
  const params = group.params.asPath;
  if (asns.length === 0) return ['an EBGP appliance must put its own AS in the AS_PATH; it is empty'];
  const problems: string[] = [];
  const first = segments[0];
  if (first.type !== 'AS_SEQUENCE' || first.asns[0] !== entry.peer.as) {
    problems.push(`the first AS must be the session's AS ${entry.peer.as}, not ${first.type === 'AS_SEQUENCE' ? first.asns[0] : `an ${first.type}`}`);
  }
  const length = segments.reduce((sum, segment) => sum + (segment.type === 'AS_SEQUENCE' ? segment.asns.length : segment.type === 'AS_SET' ? 1 : 0), 0);
  if (length > params.ebgpMaxLength) problems.push(`the path has ${length} ASes; at most ${params.ebgpMaxLength} allowed (rules.asPath.ebgpMaxLength)`);
  if (!params.allowAsSets && segments.some((segment) => segment.type === 'AS_SET' || segment.type === 'AS_CONFED_SET')) problems.push('it contains an AS_SET');
  const allowed = new Set([...group.asns, ...params.extraAllowedAsns]);
  const foreign = [...new Set(asns.filter((asn) => !allowed.has(asn)))];
  if (foreign.length > 0) problems.push(`AS ${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not among the group's asns`);
  if (!group.config.allowPrivateAsns) {
    const privateAsns = [...new Set(asns.filter(isPrivateAsn))];
    if (privateAsns.length > 0) problems.push(`private AS ${privateAsns.join(', ')} (allowPrivateAsns is false)`);
  }
  return problems;
}

export function asPathRule(): Rule {
  return routeRule({
    id: 'as-path',
    tables: TABLES,
    evaluate(entries, appliance, ctx) {
      const group = appliance.group;
      const localAs = (entry: RouteEntry): number | undefined => ctx.view.router(entry.routerId)?.peers.get(entry.peer.key)?.localAs;
      const bad = entries.map((entry) => ({ entry, problems: asPathProblems(entry, group, localAs(entry)) })).filter((item) => item.problems.length > 0);
      if (bad.length === 0) return [];
      const main = bad.find((item) => item.entry.table === 'adj-rib-in-post') ?? bad[0];
      const accepted = bad.some((item) => item.entry.table === 'adj-rib-in-post');
      const prefix = main.entry.prefix;
      const badEntries = bad.map((item) => item.entry);
      const path = main.entry.attributes.asPathText;
      return [
        {
          rule: 'as-path',
          key: `${appliance.id}|${prefix}`,
          severity: accepted ? 'critical' : 'warning',
          summary: `${appliance.name} announces ${prefix} with AS path "${path}": ${main.problems[0]}`,
          explanation: `Group "${group.name}" (${group.config.sessionType}) rules for the AS path: ${main.problems.join('; ')}. Seen in ${describeWhere(badEntries)}${accepted ? '; the route server accepted it' : ' (pre-policy only: the route servers filtered it)'}.`,
          suggestedAction:
            group.config.sessionType === 'ibgp'
              ? `Make ${appliance.name} originate ${prefix} without prepending or redistributing routes learned from other ASes.`
              : `Make ${appliance.name} announce ${prefix} with only its own AS (${main.entry.peer.as}); if prepending is intended, raise rules.groups[] asPath.ebgpMaxLength for "${group.name}".`,
          ...routeEvidence(appliance, prefix, main.entry, badEntries),
          details: { asPath: path, problems: main.problems, sessionType: group.config.sessionType },
        },
      ];
    },
  });
}
