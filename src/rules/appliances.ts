/**
 * Which appliance a BGP peer is.
 *
 * - The group comes from the session address: the applianceGroups[].sessionRanges entry that contains it (the
 *   schema guarantees ranges of different groups do not overlap).
 * - The name comes from `appliances[]`: first by session address (unambiguous), then by BGP identifier. The
 *   address wins because cloned virtual appliances often share a router ID.
 * - An appliance not listed in `appliances[]` is known by its session address; that is its id and its name.
 *
 * The id is what rules key on (flap state, prefix counts, conflicts): the configured name, or the address.
 */
import { addressInCidr, formatAddress, parseAddress } from '../config/cidr.js';
import type { ApplianceConfig } from '../config/schema.js';
import type { PeerRef } from '../rib/events.js';
import type { GroupSettings, RuleSettings } from './settings.js';

export interface Appliance {
  /** Configured name, else the session address. */
  readonly id: string;
  readonly name: string;
  readonly group: GroupSettings;
  /** Listed in appliances[] (by address or BGP identifier). */
  readonly named: boolean;
  /** Its own addresses: the configured ones (if named) plus the session address it was resolved from. */
  readonly addresses: readonly string[];
  /** The configured group of a named appliance when it differs from the session range's group. */
  readonly configuredGroup?: string;
}

/** Canonical text of an address (RFC 5952), so "2001:DB8::1" and "2001:db8::1" compare equal; unparsable stays. */
export function canonicalAddress(text: string): string {
  const parsed = parseAddress(text);
  return typeof parsed === 'string' ? text : formatAddress(parsed);
}

export class ApplianceDirectory {
  private readonly byAddress = new Map<string, ApplianceConfig>();
  private readonly byBgpId = new Map<string, ApplianceConfig>();
  private readonly cache = new Map<string, Appliance | null>();
  /** Session addresses of appliances named by BGP identifier, learned from their sessions (for Loc-RIB next hops). */
  private readonly learned = new Map<string, ApplianceConfig>();

  constructor(private readonly settings: RuleSettings) {
    for (const appliance of settings.appliances) {
      for (const address of appliance.addresses ?? []) this.byAddress.set(canonicalAddress(address), appliance);
      if (appliance.bgpId !== undefined) this.byBgpId.set(appliance.bgpId, appliance);
    }
  }

  /** The group whose session ranges contain `address`. */
  groupOf(address: string): GroupSettings | undefined {
    for (const group of this.settings.groups.values()) {
      if (group.sessionRanges.some((range) => addressInCidr(address, range))) return group;
    }
    return undefined;
  }

  /** The appliance behind a peer, or undefined for a peer outside every appliance range (and the RS itself). */
  resolve(peer: PeerRef): Appliance | undefined {
    if (peer.isLocal) return undefined;
    return this.lookup(peer.address, peer.bgpId);
  }

  /** The appliance behind a session address and BGP identifier (an alert's peer, restored after a restart). */
  resolveAddress(address: string, bgpId: string): Appliance | undefined {
    return this.lookup(address, bgpId);
  }

  /**
   * The appliance whose address is `address`: used to attribute Loc-RIB routes (which carry no peer) by next hop.
   * Only named appliances' configured addresses and addresses inside a group's session ranges qualify; an
   * appliance named by BGP identifier is recognised by the session addresses it has been seen on.
   */
  byNextHop(address: string): Appliance | undefined {
    return this.lookup(address, undefined);
  }

  private lookup(address: string, bgpId: string | undefined): Appliance | undefined {
    const canonical = canonicalAddress(address);
    const cacheKey = `${canonical}|${bgpId ?? ''}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached ?? undefined;
    const group = this.groupOf(canonical);
    let result: Appliance | undefined;
    if (group !== undefined) {
      const byId = bgpId === undefined ? undefined : this.byBgpId.get(bgpId);
      const named = this.byAddress.get(canonical) ?? byId ?? (bgpId === undefined ? this.learned.get(canonical) : undefined);
      if (byId !== undefined && named === byId && this.learned.get(canonical) !== byId) {
        if (this.learned.size >= MAX_CACHED_LOOKUPS) this.learned.clear();
        this.learned.set(canonical, byId);
        this.cache.clear();
      }
      if (named !== undefined) {
        const addresses = [...new Set([...(named.addresses ?? []).map(canonicalAddress), canonical])];
        result = {
          id: named.name,
          name: named.name,
          group,
          named: true,
          addresses,
          ...(named.group !== group.name && { configuredGroup: named.group }),
        };
      } else {
        result = { id: canonical, name: canonical, group, named: false, addresses: [canonical] };
      }
    }
    // Bounded: a hostile stream of distinct next hops must not grow this without limit.
    if (this.cache.size >= MAX_CACHED_LOOKUPS) this.cache.clear();
    this.cache.set(cacheKey, result ?? null);
    return result;
  }
}

/** Distinct (address, BGP id) pairs remembered; appliance fleets are hundreds, Loc-RIB next hops a few more. */
const MAX_CACHED_LOOKUPS = 65_536;
