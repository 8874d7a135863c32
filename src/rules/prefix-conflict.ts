/**
 * prefix-conflict: the same prefix announced by two (or more) appliances at once.
 *
 * Two appliances announcing one service prefix split its traffic between them, usually by accident (a copied
 * configuration, a failover that did not withdraw). Anycast prefixes are the exception: a prefix inside
 * anycastPrefixes of every involved appliance's group is never a conflict.
 *
 * "Announced by" means present in the pre- or post-policy Adj-RIB-In of the appliance's session on any route
 * server (Loc-RIB holds only the best path and says nothing about who else announces it).
 *
 * Moves are not conflicts: during a planned move the new appliance may announce before the old one withdraws
 * (make-before-break) or just after (break-before-make). So:
 * - two owners for less than moveWindowSeconds, then one: a "prefix-moved" note (history), no alert;
 * - an owner withdraws and another announces within moveWindowSeconds: a "prefix-moved" note;
 * - two owners for moveWindowSeconds or longer: the alert fires (checked on events and every evaluation tick).
 * Key: prefix. Resolves when at most one appliance announces it.
 * Parameters (rules.prefixConflict, per group rules.groups[].prefixConflict): enabled (true),
 * moveWindowSeconds (60), severity (warning).
 */
import type { Appliance } from './appliances.js';
import { isAnycast } from './prefix-policy.js';
import { routerNames } from './route-rule.js';
import type { RouteEntry } from './routing-state.js';
import { fire, note, resolve, type Rule, type RuleContext, type Transition } from './types.js';

interface ConflictState {
  /** When the prefix got its second owner. */
  since: number;
  fired: boolean;
  owners: string[];
}

/** Remembered single owners (for break-before-make moves); bounded, oldest dropped first. */
const MAX_REMEMBERED_OWNERS = 100_000;

export function prefixConflictRule(): Rule {
  const conflicts = new Map<string, ConflictState>();
  /** prefix → the last single owner and when it stopped announcing (undefined while it still does). */
  const lastOwner = new Map<string, { id: string; name: string; goneAt?: number }>();

  const owners = (prefix: string, ctx: RuleContext): { appliances: Appliance[]; entries: RouteEntry[] } => {
    const entries = [...ctx.view.entries(prefix)].filter((entry) => entry.table !== 'loc-rib');
    const byId = new Map<string, Appliance>();
    for (const entry of entries) byId.set(entry.appliance.id, entry.appliance);
    return { appliances: [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)), entries };
  };

  const windowOf = (appliances: readonly Appliance[], ctx: RuleContext): number =>
    Math.max(ctx.settings.rules.prefixConflict.moveWindowSeconds, ...appliances.map((a) => a.group.params.prefixConflict.moveWindowSeconds)) * 1000;

  const evaluate = (prefix: string, ctx: RuleContext): Transition[] => {
    const { appliances, entries } = owners(prefix, ctx);
    const state = conflicts.get(prefix);
    const transitions: Transition[] = [];
    const relevant =
      appliances.length >= 2 &&
      appliances.every((a) => ctx.settings.enabled('prefix-conflict', a.group)) &&
      !isAnycast(
        prefix,
        appliances.map((a) => a.group),
      );
    if (relevant) {
      const current = state ?? { since: ctx.now, fired: false, owners: appliances.map((a) => a.name) };
      current.owners = appliances.map((a) => a.name);
      conflicts.set(prefix, current);
      if (ctx.now - current.since >= windowOf(appliances, ctx)) {
        current.fired = true;
        const severity = appliances.map((a) => a.group.params.prefixConflict.severity).includes('critical') ? 'critical' : appliances[0].group.params.prefixConflict.severity;
        transitions.push(
          fire({
            rule: 'prefix-conflict',
            key: prefix,
            severity,
            summary: `${prefix} is announced by ${appliances.length} appliances: ${current.owners.join(', ')}`,
            explanation: `${current.owners.join(' and ')} have announced ${prefix} at the same time since ${new Date(current.since).toISOString()} (longer than the ${windowOf(appliances, ctx) / 1000} s a move may take); traffic for it is split between them. It is not listed in anycastPrefixes of ${[...new Set(appliances.map((a) => `"${a.group.name}"`))].join(' and ')}.`,
            suggestedAction: `Withdraw ${prefix} from every appliance but the one that should serve it; if it is an anycast service, add it to anycastPrefixes of the group(s).`,
            router: entries[0].routerName,
            routers: routerNames(entries),
            appliance: current.owners.join(', '),
            group: [...new Set(appliances.map((a) => a.group.name))].sort().join(', '),
            prefix,
            firstSeen: current.since,
            lastSeen: ctx.now,
            details: { appliances: current.owners },
          }),
        );
      }
      return transitions;
    }
    if (state !== undefined) {
      conflicts.delete(prefix);
      if (state.fired) {
        transitions.push(resolve('prefix-conflict', prefix, appliances.length === 0 ? 'no appliance announces it any more' : `only ${appliances[0].name} announces it now`));
      } else if (appliances.length === 1) {
        const from = state.owners.filter((name) => name !== appliances[0].name);
        transitions.push(
          note({
            rule: 'prefix-conflict',
            kind: 'prefix-moved',
            time: ctx.now,
            message: `${prefix} moved from ${from.join(', ')} to ${appliances[0].name} (make-before-break)`,
            details: { prefix, from, to: appliances[0].name },
          }),
        );
      }
    }
    // Break-before-make: remember the single owner, and when it stopped.
    const previous = lastOwner.get(prefix);
    if (appliances.length === 1) {
      const owner = appliances[0];
      if (previous?.goneAt !== undefined && previous.id !== owner.id && ctx.now - previous.goneAt <= windowOf([owner], ctx)) {
        transitions.push(
          note({
            rule: 'prefix-conflict',
            kind: 'prefix-moved',
            time: ctx.now,
            message: `${prefix} moved from ${previous.name} to ${owner.name} (break-before-make)`,
            details: { prefix, from: [previous.name], to: owner.name },
          }),
        );
      }
      lastOwner.delete(prefix);
      if (lastOwner.size >= MAX_REMEMBERED_OWNERS) lastOwner.delete(lastOwner.keys().next().value ?? '');
      lastOwner.set(prefix, { id: owner.id, name: owner.name });
    } else if (appliances.length === 0 && previous !== undefined && previous.goneAt === undefined) {
      lastOwner.set(prefix, { ...previous, goneAt: ctx.now });
    }
    return transitions;
  };

  return {
    id: 'prefix-conflict',
    onEvent(_event, ctx, touch) {
      return touch === undefined ? [] : evaluate(touch.prefix, ctx);
    },
    onTick(ctx) {
      const transitions: Transition[] = [];
      for (const [prefix, state] of conflicts) if (!state.fired) transitions.push(...evaluate(prefix, ctx));
      // Forget owners gone for longer than any move window.
      const horizon = ctx.now - ctx.settings.rules.prefixConflict.moveWindowSeconds * 1000 * 10;
      for (const [prefix, owner] of lastOwner) if (owner.goneAt !== undefined && owner.goneAt < horizon) lastOwner.delete(prefix);
      return transitions;
    },
    reconfigured(ctx) {
      return [...conflicts.keys()].flatMap((prefix) => evaluate(prefix, ctx));
    },
  };
}
