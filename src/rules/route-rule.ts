/**
 * Shared machinery of the per-route rules (unexpected-prefix, filter-gap, next-hop, as-path): each evaluates
 * every entry of one (appliance, prefix) pair, over every route server and table, and returns the alerts that
 * hold now. The helper turns that into fire/resolve transitions: keys that held before and no longer do resolve.
 *
 * Alert storms: while an appliance announces more than its group's maxPrefixes (a leaked table), new per-prefix
 * alerts for it are held back; too-many-prefixes explains them. Held-back pairs are evaluated again once the
 * appliance is under its limit (at the next evaluation tick), so nothing that still holds is lost.
 */
import type { RibTable } from '../bmp/types.js';
import type { Appliance } from './appliances.js';
import { isAcceptedTable, type ApplianceTable, type RouteEntry, type RoutingView } from './routing-state.js';
import { attributeSummary, fire, peerSummary, resolve, type AlertSpec, type Rule, type RuleContext, type RuleId, type Transition } from './types.js';

export interface RouteRuleDefinition {
  readonly id: RuleId;
  readonly tables: ReadonlySet<ApplianceTable>;
  /** Alerts that hold for this (appliance, prefix), given its entries (never empty, all of one appliance). */
  evaluate(entries: readonly RouteEntry[], appliance: Appliance, ctx: RuleContext): readonly AlertSpec[];
}

/** Pairs remembered for re-evaluation while an appliance is over its limit (bounded: a leak can be 1M routes). */
const MAX_HELD_BACK_PER_APPLIANCE = 100_000;

export function routeRule(definition: RouteRuleDefinition): Rule {
  /** "applianceId|prefix" → keys currently fired. */
  const active = new Map<string, Set<string>>();
  const heldBack = new Map<string, Set<string>>();

  const evaluatePair = (applianceId: string, prefix: string, ctx: RuleContext): Transition[] => {
    const entries = [...ctx.view.entries(prefix)].filter((entry) => entry.appliance.id === applianceId && definition.tables.has(entry.table));
    const pair = `${applianceId}|${prefix}`;
    const before = active.get(pair) ?? new Set<string>();
    let specs: readonly AlertSpec[] = [];
    if (entries.length > 0) {
      const appliance = entries[0].appliance;
      if (ctx.settings.enabled(definition.id, appliance.group)) specs = definition.evaluate(entries, appliance, ctx);
      if (specs.some((spec) => !before.has(spec.key)) && overLimit(ctx.view, appliance)) {
        let held = heldBack.get(applianceId);
        if (held === undefined) {
          held = new Set();
          heldBack.set(applianceId, held);
        }
        if (held.size < MAX_HELD_BACK_PER_APPLIANCE) held.add(prefix);
        specs = specs.filter((spec) => before.has(spec.key));
      }
    }
    const transitions: Transition[] = [];
    const now = new Set<string>();
    for (const spec of specs) {
      now.add(spec.key);
      transitions.push(fire(spec));
    }
    for (const key of before) {
      if (!now.has(key)) transitions.push(resolve(definition.id, key, entries.length === 0 ? 'the route is gone' : 'the route no longer violates the rule'));
    }
    if (now.size === 0) active.delete(pair);
    else active.set(pair, now);
    return transitions;
  };

  return {
    id: definition.id,
    onEvent(_event, ctx, touch) {
      if (touch === undefined) return [];
      return touch.applianceIds.flatMap((applianceId) => evaluatePair(applianceId, touch.prefix, ctx));
    },
    onTick(ctx) {
      const transitions: Transition[] = [];
      for (const [applianceId, prefixes] of heldBack) {
        const count = ctx.view.applianceRouteCount(applianceId).count;
        const limit = limitOf(ctx.view, applianceId, prefixes);
        if (limit !== undefined && count > limit) continue;
        heldBack.delete(applianceId);
        for (const prefix of prefixes) transitions.push(...evaluatePair(applianceId, prefix, ctx));
      }
      return transitions;
    },
    reconfigured(ctx) {
      const pairs = new Map<string, { applianceId: string; prefix: string }>();
      for (const pair of active.keys()) {
        const bar = pair.lastIndexOf('|');
        pairs.set(pair, { applianceId: pair.slice(0, bar), prefix: pair.slice(bar + 1) });
      }
      for (const prefix of ctx.view.prefixes()) {
        for (const entry of ctx.view.entries(prefix)) pairs.set(`${entry.appliance.id}|${prefix}`, { applianceId: entry.appliance.id, prefix });
      }
      heldBack.clear();
      return [...pairs.values()].flatMap(({ applianceId, prefix }) => evaluatePair(applianceId, prefix, ctx));
    },
  };
}

function overLimit(view: RoutingView, appliance: Appliance): boolean {
  return view.applianceRouteCount(appliance.id).count > appliance.group.config.maxPrefixes;
}

/** The limit of an appliance, found through any of its remaining entries (undefined once they are all gone). */
function limitOf(view: RoutingView, applianceId: string, prefixes: ReadonlySet<string>): number | undefined {
  for (const prefix of prefixes) {
    for (const entry of view.entries(prefix)) if (entry.appliance.id === applianceId) return entry.appliance.group.config.maxPrefixes;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Evidence helpers
// ---------------------------------------------------------------------------------------------------------------

export const TABLE_NAMES: Record<RibTable, string> = {
  'adj-rib-in-pre': 'pre-policy Adj-RIB-In',
  'adj-rib-in-post': 'post-policy Adj-RIB-In',
  'loc-rib': 'Loc-RIB',
  'adj-rib-out-pre': 'pre-policy Adj-RIB-Out',
  'adj-rib-out-post': 'post-policy Adj-RIB-Out',
};

/** "rs1 (post-policy Adj-RIB-In, Loc-RIB), rs2 (pre-policy Adj-RIB-In)". */
export function describeWhere(entries: readonly RouteEntry[]): string {
  const byRouter = new Map<string, Set<string>>();
  for (const entry of entries) {
    let tables = byRouter.get(entry.routerName);
    if (tables === undefined) {
      tables = new Set();
      byRouter.set(entry.routerName, tables);
    }
    tables.add(TABLE_NAMES[entry.table]);
  }
  return [...byRouter].map(([router, tables]) => `${router} (${[...tables].join(', ')})`).join(', ');
}

export function routerNames(entries: readonly RouteEntry[]): string[] {
  return [...new Set(entries.map((entry) => entry.routerName))].sort();
}

/** The entry to show as the alert's main evidence: an accepted one if any (that is the worse news). */
export function representative(entries: readonly RouteEntry[]): RouteEntry {
  return entries.find((entry) => isAcceptedTable(entry.table)) ?? entries[0];
}

export function firstSeen(entries: readonly RouteEntry[]): number {
  return Math.min(...entries.map((entry) => entry.since));
}

export function lastSeen(entries: readonly RouteEntry[]): number {
  return Math.max(...entries.map((entry) => entry.updatedAt));
}

/** The appliance's own session entries (pre/post) come from the appliance; Loc-RIB entries from the RS. */
export function appliancePeer(entries: readonly RouteEntry[]): RouteEntry | undefined {
  return entries.find((entry) => entry.table !== 'loc-rib');
}

/**
 * The evidence fields of a route alert: the main entry's route server, table and attributes, every route server in
 * `entries`, the session of `peerEntry` (none for Loc-RIB-only evidence), and when the entries were seen.
 */
export function routeEvidence(
  appliance: Appliance,
  prefix: string,
  main: RouteEntry,
  entries: readonly RouteEntry[],
  peerEntry: RouteEntry | undefined = main,
): Pick<AlertSpec, 'router' | 'routers' | 'peer' | 'appliance' | 'group' | 'prefix' | 'table' | 'attributes' | 'firstSeen' | 'lastSeen'> {
  return {
    router: main.routerName,
    routers: routerNames(entries),
    ...(peerEntry && { peer: peerSummary(peerEntry.peer) }),
    appliance: appliance.name,
    group: appliance.group.name,
    prefix,
    table: main.table,
    attributes: attributeSummary(main.attributes),
    firstSeen: firstSeen(entries),
    lastSeen: lastSeen(entries),
  };
}
