/**
 * filter-gap: a route server accepted a prefix its import filter should have rejected.
 *
 * bmpwatch evaluates the appliance policy itself (src/rules/prefix-policy.ts, the same checks as
 * unexpected-prefix) and compares with what each route server did: an unexpected prefix in a route server's
 * post-policy Adj-RIB-In or Loc-RIB means its filter let it through. This verifies the filters instead of
 * trusting them.
 *
 * Key: route server + appliance + prefix: each route server's filter is its own fix, and the alert resolves when
 * that route server drops the route (filter fixed, or the appliance stopped announcing), independent of others.
 * Severity: critical ("route server accepted it"). A prefix seen only pre-policy was "filtered as it should be":
 * that case raises no filter-gap alert, and the unexpected-prefix alert for it is a warning.
 *
 * Parameters (rules.filterGap): enabled (true); per group: rules.groups[].disable: [filter-gap].
 */
import { checkPrefix } from './prefix-policy.js';
import { describeWhere, firstSeen, lastSeen, routeRule } from './route-rule.js';
import type { RouteEntry } from './routing-state.js';
import { attributeSummary, peerSummary, type AlertSpec, type Rule } from './types.js';

const TABLES = new Set(['adj-rib-in-post', 'loc-rib'] as const);

export function filterGapRule(): Rule {
  return routeRule({
    id: 'filter-gap',
    tables: TABLES,
    evaluate(entries, appliance, ctx) {
      const group = appliance.group;
      const prefix = entries[0].prefix;
      const verdict = checkPrefix(prefix, group, ctx.settings, ctx.settings.extraBogons);
      if (verdict.problems.length === 0) return [];
      const byRouter = new Map<string, RouteEntry[]>();
      for (const entry of entries) byRouter.set(entry.routerName, [...(byRouter.get(entry.routerName) ?? []), entry]);
      const specs: AlertSpec[] = [];
      for (const [router, accepted] of byRouter) {
        const main = accepted.find((entry) => entry.table === 'adj-rib-in-post') ?? accepted[0];
        specs.push({
          rule: 'filter-gap',
          key: `${router}|${appliance.id}|${prefix}`,
          severity: 'critical',
          summary: `${router} accepted ${prefix} from ${appliance.name}: import filter gap`,
          explanation: `Route server ${router} has ${prefix} from ${appliance.name} (group "${group.name}") in ${describeWhere(accepted)}, but ${verdict.reasons.join('; ')}. Its import filter should have rejected it.`,
          suggestedAction: `Fix the import filter of ${router} for group "${group.name}" (allowed ranges, lengths, bogons, infrastructure) so it rejects ${prefix}; then ask the owner of ${appliance.name} to stop announcing it.`,
          router,
          ...(main.table !== 'loc-rib' && { peer: peerSummary(main.peer) }),
          appliance: appliance.name,
          group: group.name,
          prefix,
          table: main.table,
          attributes: attributeSummary(main.attributes),
          firstSeen: firstSeen(accepted),
          lastSeen: lastSeen(accepted),
          details: { problems: verdict.problems, tables: [...new Set(accepted.map((entry) => entry.table))] },
        });
      }
      return specs;
    },
  });
}
