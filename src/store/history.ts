/**
 * History queries behind one interface, shared by both back-ends: a back-end answers two primitive questions
 * (which peer identities match, which events match) and this module turns them into an appliance's timeline and
 * into the prefixes it announced at a moment. Keeping the logic here is what makes both back-ends answer the same.
 *
 * An appliance is found by session address, BGP identifier or configured name, and followed across moves: its
 * events are those of every (BGP identifier, AS) pair seen on a matching session, whatever address the session
 * came from. (Following addresses back again would pull in another appliance that later reused an address.)
 */
import { parseAddress, formatAddress } from '../config/cidr.js';
import type { ApplianceConfig } from '../config/schema.js';
import type { HistoryEvent, HistoryEventType } from './history-event.js';

/** One (session address, BGP identifier, AS) combination seen in the history. */
export interface PeerIdentity {
  readonly address: string;
  readonly bgpId: string;
  readonly as: number;
}

export interface TimeRange {
  /** Inclusive, ms since the epoch. */
  readonly from: number;
  /** Inclusive, ms since the epoch. */
  readonly to: number;
}

export interface EventFilter extends TimeRange {
  /** Events of sessions with any of these (BGP identifier, AS) pairs. */
  readonly identities: readonly { readonly bgpId: string; readonly as: number }[];
  /** Router-level events (router-up/down) of these router addresses are included too. */
  readonly routerAddresses?: readonly string[];
  readonly types?: readonly HistoryEventType[];
  /** Route server name or address. */
  readonly router?: string;
  /** At most this many events (the earliest ones). */
  readonly limit: number;
}

/** What a storage back-end must answer. Results are sorted by time, then by write order. */
export interface HistoryBackend {
  readonly name: string;
  /** Identities seen in the range on sessions with any of these addresses or BGP identifiers. */
  identities(match: { addresses: readonly string[]; bgpIds: readonly string[] }, range: TimeRange): Promise<PeerIdentity[]>;
  events(filter: EventFilter): Promise<HistoryEvent[]>;
  close(): Promise<void>;
}

export interface ResolvedAppliance {
  /** What the user typed, or the configured name. */
  readonly label: string;
  readonly configName?: string;
  readonly identities: readonly PeerIdentity[];
  readonly addresses: readonly string[];
}

export class UnknownApplianceError extends Error {
  /**
   * `configured`: what the configuration says of an appliance that had no session in the range, so the answer
   * can say so instead of suggesting a typo.
   */
  constructor(
    readonly query: string,
    readonly configured?: { readonly identity: string; readonly range: TimeRange },
  ) {
    super(
      configured
        ? `appliance "${query}" is configured (${configured.identity}) but had no BGP session in the history between ${new Date(configured.range.from).toISOString()} and ${new Date(configured.range.to).toISOString()}`
        : `no appliance "${query}" in the history (give a session address, a BGP identifier or a configured appliance name)`,
    );
  }
}

/**
 * Resolve what the user typed into every identity and address the appliance had in the range.
 * An IPv4 literal may be a session address or a BGP identifier: both are tried.
 */
export async function resolveAppliance(
  backend: HistoryBackend,
  query: string,
  range: TimeRange,
  appliances: readonly ApplianceConfig[] = [],
): Promise<ResolvedAppliance> {
  const configured = appliances.find((appliance) => appliance.name === query);
  const addresses = new Set<string>();
  const bgpIds = new Set<string>();
  if (configured) {
    for (const address of configured.addresses ?? []) addresses.add(address);
    if (configured.bgpId) bgpIds.add(configured.bgpId);
  } else {
    const parsed = parseAddress(query);
    if (typeof parsed === 'string') throw new UnknownApplianceError(query);
    const canonical = formatAddress(parsed);
    addresses.add(canonical);
    if (parsed.family === 4) bgpIds.add(canonical);
  }

  const identities = new Map<string, PeerIdentity>();
  for (const identity of await backend.identities({ addresses: [...addresses], bgpIds: [...bgpIds] }, range)) {
    identities.set(`${identity.address}|${identity.bgpId}|${identity.as}`, identity);
  }
  if (identities.size === 0) {
    if (!configured) throw new UnknownApplianceError(query);
    const identity = [...(configured.addresses?.length ? [`addresses ${configured.addresses.join(', ')}`] : []), ...(configured.bgpId ? [`BGP identifier ${configured.bgpId}`] : [])].join('; ');
    throw new UnknownApplianceError(query, { identity: identity || 'no address or BGP identifier', range });
  }
  return {
    label: configured?.name ?? query,
    configName: configured?.name,
    identities: [...identities.values()],
    addresses: [...new Set([...identities.values()].map((identity) => identity.address))],
  };
}

export interface HistoryQuery extends TimeRange {
  readonly router?: string;
  readonly types?: readonly HistoryEventType[];
  readonly limit: number;
}

/** The appliance's events, plus the up/down events of the route servers it had sessions with. */
export async function applianceHistory(backend: HistoryBackend, appliance: ResolvedAppliance, query: HistoryQuery): Promise<HistoryEvent[]> {
  const pairs = uniquePairs(appliance.identities);
  const own = await backend.events({ ...query, identities: pairs });
  const routerAddresses = [...new Set(own.map((event) => event.routerAddress))];
  if (routerAddresses.length === 0) return own;
  const routerEvents = await backend.events({
    ...query,
    identities: [],
    routerAddresses,
    types: query.types ? query.types.filter((type) => type === 'router-up' || type === 'router-down') : ['router-up', 'router-down'],
  });
  return mergeByTime(own, routerEvents).slice(0, query.limit);
}

function uniquePairs(identities: readonly PeerIdentity[]): { bgpId: string; as: number }[] {
  const pairs = new Map<string, { bgpId: string; as: number }>();
  for (const identity of identities) pairs.set(`${identity.bgpId}|${identity.as}`, { bgpId: identity.bgpId, as: identity.as });
  return [...pairs.values()];
}

/** Stable merge of two time-sorted lists (ties keep `a` first). */
export function mergeByTime(a: readonly HistoryEvent[], b: readonly HistoryEvent[]): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.time <= b[j]!.time)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

export interface AnnouncedPrefix {
  readonly router: string;
  readonly routerAddress: string;
  readonly peer: string;
  readonly table: string;
  readonly prefix: string;
  readonly pathId?: number;
  readonly nextHop?: string;
  readonly asPath?: string;
  /** When this announcement (or its last change) arrived. */
  readonly since: number;
}

/**
 * Replays a time-ordered history into the routes present at its end. A router-up or router-down clears that
 * router's routes (a new BMP session re-sends its tables; an ended one withdrew them), a peer-down clears that
 * session's routes, and route events add, replace and remove single routes.
 */
export function replayRoutes(events: readonly HistoryEvent[]): AnnouncedPrefix[] {
  const routes = new Map<string, AnnouncedPrefix>();
  const clear = (predicate: (route: AnnouncedPrefix) => boolean) => {
    for (const [key, route] of routes) if (predicate(route)) routes.delete(key);
  };
  for (const event of events) {
    switch (event.type) {
      case 'router-up':
      case 'router-down':
        clear((route) => route.routerAddress === event.routerAddress);
        break;
      case 'peer-down':
        clear((route) => route.routerAddress === event.routerAddress && route.peer === event.peer);
        break;
      case 'route-announced':
      case 'route-changed':
      case 'route-withdrawn': {
        if (event.peer === undefined || event.table === undefined || event.prefix === undefined) break;
        const key = `${event.routerAddress}|${event.peer}|${event.table}|${event.prefix}|${event.pathId ?? ''}`;
        if (event.type === 'route-withdrawn') {
          routes.delete(key);
          break;
        }
        const route: AnnouncedPrefix = {
          router: event.router,
          routerAddress: event.routerAddress,
          peer: event.peer,
          table: event.table,
          prefix: event.prefix,
          since: event.time,
          ...(event.pathId === undefined ? {} : { pathId: event.pathId }),
          ...(event.nextHop === undefined ? {} : { nextHop: event.nextHop }),
          ...(event.asPath === undefined ? {} : { asPath: event.asPath }),
        };
        routes.set(key, route);
        break;
      }
      default:
        break;
    }
  }
  return [...routes.values()].sort(
    (a, b) => a.router.localeCompare(b.router) || a.table.localeCompare(b.table) || a.prefix.localeCompare(b.prefix, 'en', { numeric: true }),
  );
}

/**
 * How far back `prefixes --at` replays. Route servers re-send their tables on every BMP reconnect and the
 * collector writes them (sync), so a window that contains the last reconnect is enough; 30 days covers the default
 * retention.
 */
export const PREFIXES_LOOKBACK_MS = 30 * 24 * 3600 * 1000;
export const MAX_REPLAY_EVENTS = 5_000_000;

export async function prefixesAt(backend: HistoryBackend, appliance: ResolvedAppliance, at: number, router?: string): Promise<AnnouncedPrefix[]> {
  const events = await applianceHistory(backend, appliance, {
    from: at - PREFIXES_LOOKBACK_MS,
    to: at,
    limit: MAX_REPLAY_EVENTS,
    ...(router === undefined ? {} : { router }),
    types: ['router-up', 'router-down', 'peer-down', 'route-announced', 'route-changed', 'route-withdrawn'],
  });
  return replayRoutes(events);
}
