/**
 * too-many-prefixes: an appliance announces more prefixes than its group allows.
 *
 * Count: per route server, per session of the appliance, the larger of its pre- and post-policy Adj-RIB-In route
 * counts, summed over the appliance's sessions on that route server; the largest over route servers is the
 * appliance's count (the same announcements reach every route server, so counts are not added across them).
 *
 * Levels (per group, applianceGroups[].maxPrefixes and maxPrefixesWarningFraction):
 * - warning at ceil(maxPrefixes × maxPrefixesWarningFraction) (default 80 of 100);
 * - critical above maxPrefixes (the route server's max-prefix action, if any, would trigger).
 * Key: appliance. Resolves below the warning level. The level, not every count change, is an alert transition
 * (a leaked table would otherwise be a million updates); the count in the alert is the one at the last change.
 * While over maxPrefixes, the appliance's per-prefix alerts are held back (see route-rule.ts).
 * Parameters: rules.tooManyPrefixes.enabled (true); per group: rules.groups[].disable.
 */
import type { Appliance } from './appliances.js';
import { fire, resolve, type Rule, type RuleContext, type Transition } from './types.js';

type Level = 'none' | 'warning' | 'critical';

export function warningLevel(appliance: Appliance): number {
  const config = appliance.group.config;
  return Math.ceil(config.maxPrefixes * config.maxPrefixesWarningFraction);
}

export function tooManyPrefixesRule(): Rule {
  const levels = new Map<string, Level>();
  /** Appliances with routes or a raised level, to evaluate one whose last route for a prefix is gone. */
  const remembered = new Map<string, Appliance>();

  const evaluate = (appliance: Appliance, ctx: RuleContext): Transition[] => {
    const before = levels.get(appliance.id) ?? 'none';
    const { count, router } = ctx.view.applianceRouteCount(appliance.id);
    const limit = appliance.group.config.maxPrefixes;
    const warnAt = warningLevel(appliance);
    const enabled = ctx.settings.enabled('too-many-prefixes', appliance.group);
    const level: Level = !enabled ? 'none' : count > limit ? 'critical' : count >= warnAt ? 'warning' : 'none';
    if (level === before) return [];
    if (level === 'none') {
      levels.delete(appliance.id);
      return [resolve('too-many-prefixes', appliance.id, `${count} prefixes, below the warning level ${warnAt}`)];
    }
    levels.set(appliance.id, level);
    return [
      fire({
        rule: 'too-many-prefixes',
        key: appliance.id,
        severity: level,
        summary: `${appliance.name} announces ${count} prefixes (limit ${limit})`,
        explanation: `Group "${appliance.group.name}" allows ${limit} prefixes per appliance and warns from ${warnAt}; ${appliance.name} announces ${count}${router ? ` (on ${router})` : ''}. ${level === 'critical' ? 'That is over the limit: a leaked table or a misconfigured appliance. Its per-prefix alerts are held back while it stays over the limit.' : 'It is close to the limit.'}`,
        suggestedAction: `Check what ${appliance.name} redistributes into BGP; if the number is legitimate, raise applianceGroups "${appliance.group.name}" maxPrefixes.`,
        ...(router !== undefined && { router }),
        appliance: appliance.name,
        group: appliance.group.name,
        details: { count, limit, warningLevel: warnAt },
      }),
    ];
  };

  return {
    id: 'too-many-prefixes',
    onEvent(event, ctx, touch) {
      if (touch === undefined || event.type === 'peer-up') return [];
      const transitions: Transition[] = [];
      for (const id of touch.applianceIds) {
        const appliance = findAppliance(ctx, touch.prefix, id) ?? remembered.get(id);
        if (appliance === undefined) continue;
        remembered.set(id, appliance);
        transitions.push(...evaluate(appliance, ctx));
        if (!levels.has(id) && ctx.view.applianceRouteCount(id).count === 0) remembered.delete(id);
      }
      return transitions;
    },
    reconfigured(ctx) {
      const fresh = new Map<string, Appliance>();
      for (const prefix of ctx.view.prefixes()) for (const entry of ctx.view.entries(prefix)) fresh.set(entry.appliance.id, entry.appliance);
      const transitions: Transition[] = [];
      for (const id of levels.keys()) {
        if (fresh.has(id)) continue;
        levels.delete(id);
        transitions.push(resolve('too-many-prefixes', id, 'the appliance is no longer known under this name'));
      }
      remembered.clear();
      for (const [id, appliance] of fresh) {
        remembered.set(id, appliance);
        transitions.push(...evaluate(appliance, ctx));
      }
      return transitions;
    },
  };
}

function findAppliance(ctx: RuleContext, prefix: string, id: string): Appliance | undefined {
  for (const entry of ctx.view.entries(prefix)) if (entry.appliance.id === id) return entry.appliance;
  return undefined;
}
