/**
 * unexpected-prefix: an appliance announces a prefix its group may not announce.
 *
 * Checked (src/rules/prefix-policy.ts): default route, inside infrastructurePrefixes, outside the group's
 * `prefixes` ranges, a length outside the ranges' minLength..maxLength, a bogon (unless the group's ranges allow
 * it explicitly).
 *
 * Key: appliance + prefix (one alert however many route servers see it). Evidence from every route server and
 * table: pre- and post-policy Adj-RIB-In of the appliance's sessions, and Loc-RIB routes whose next hop is the
 * appliance. Severity follows what the route servers did with it (the filter-gap verdict):
 * - critical when any route server accepted it (post-policy Adj-RIB-In or Loc-RIB): "route server accepted it";
 * - warning when it was seen only pre-policy: "filtered as it should be" (the appliance is still wrong).
 * The per-route-server verdict is a separate rule (filter-gap) because its owner and fix differ.
 *
 * Parameters (rules.unexpectedPrefix, per group in rules.groups[].unexpectedPrefix):
 * - enabled (true); allowDefaultRoute (false); checkBogons (true); extraBogons ([], top level only).
 * The initial table dump after Peer Up is evaluated like any other announcement.
 * Resolves when the appliance's route for the prefix is gone from every route server (or allowed by a new config).
 */
import { isAcceptedTable } from './routing-state.js';
import { checkPrefix } from './prefix-policy.js';
import { appliancePeer, describeWhere, representative, routeEvidence, routeRule, routerNames } from './route-rule.js';
import type { Rule } from './types.js';

const TABLES = new Set(['adj-rib-in-pre', 'adj-rib-in-post', 'loc-rib'] as const);

export function unexpectedPrefixRule(): Rule {
  return routeRule({
    id: 'unexpected-prefix',
    tables: TABLES,
    evaluate(entries, appliance, ctx) {
      const group = appliance.group;
      const prefix = entries[0].prefix;
      const verdict = checkPrefix(prefix, group, ctx.settings, ctx.settings.extraBogons);
      if (verdict.problems.length === 0) return [];
      const accepted = entries.filter((entry) => isAcceptedTable(entry.table));
      const main = representative(entries);
      const sessionEntry = appliancePeer(entries);
      const outcome =
        accepted.length > 0
          ? `The route server accepted it: ${describeWhere(accepted)} (its import filter has a gap; see filter-gap).`
          : `Seen only pre-policy on ${describeWhere(entries)}: the route servers filtered it as they should.`;
      return [
        {
          rule: 'unexpected-prefix',
          key: `${appliance.id}|${prefix}`,
          severity: accepted.length > 0 ? 'critical' : 'warning',
          summary: `${appliance.name} (${group.name}) announces ${prefix}: ${verdict.problems.join(', ')}`,
          explanation: `${prefix} is not a prefix appliances of group "${group.name}" may announce: ${verdict.reasons.join('; ')}. ${outcome}`,
          suggestedAction: verdict.problems.includes('infrastructure') || verdict.problems.includes('default-route') || verdict.problems.includes('bogon')
            ? `Stop announcing ${prefix} on ${appliance.name}; it must never come from an appliance.`
            : `Stop announcing ${prefix} on ${appliance.name}, or, if it is legitimate, add a range allowing it to applianceGroups "${group.name}" prefixes.`,
          ...routeEvidence(appliance, prefix, main, entries, sessionEntry),
          details: {
            problems: verdict.problems,
            acceptedBy: routerNames(accepted),
            seenBy: routerNames(entries),
            initialSync: entries.every((entry) => entry.initialSync),
          },
        },
      ];
    },
  });
}
