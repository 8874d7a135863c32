/**
 * next-hop: the BGP next hop of an appliance route is not the appliance's own session address.
 *
 * Appliances route traffic to themselves, so every route they announce must carry their own address as next hop
 * (arouteserver's `next_hop.policy: strict`, RFC 7948 §4.8). A different next hop sends traffic elsewhere: to a
 * neighbour, a stale address, or a black hole.
 *
 * Per route (pre- and post-policy Adj-RIB-In of the appliance's sessions):
 * - ok: the global next hop (IPv4 NEXT_HOP, or the MP_REACH global address for IPv6 and RFC 8950) is the
 *   session address, an IPv4-mapped form of it, or another configured address of the same appliance;
 * - mismatch: any other address, or no next hop at all;
 * - unverifiable: the route carries only a link-local IPv6 next hop (the global one is absent, "::", or itself
 *   link-local). A link-local address cannot be compared with the session address, so it is reported as
 *   unverifiable (severity info), never as good (BIRD and arouteserver silently skip the check there).
 *
 * Key: appliance + prefix. Severity: critical when a mismatching route was accepted (post-policy), warning when
 * only pre-policy; info for unverifiable only. Skipped for groups with nextHopMustMatchSession: false.
 * Parameters (rules.nextHop, per group rules.groups[].nextHop): enabled (true), reportUnverifiable (true).
 */
import { parseAddress } from '../config/cidr.js';
import { canonicalAddress } from './appliances.js';
import { describeWhere, routeEvidence, routeRule } from './route-rule.js';
import type { RouteEntry } from './routing-state.js';
import type { Rule, Severity } from './types.js';

export type NextHopStatus = 'ok' | 'mismatch' | 'missing' | 'unverifiable';

const TABLES = new Set(['adj-rib-in-pre', 'adj-rib-in-post'] as const);

function isUnspecified(text: string): boolean {
  return text === '::' || text === '0.0.0.0';
}

function isLinkLocal(text: string): boolean {
  const parsed = parseAddress(text);
  return typeof parsed !== 'string' && parsed.family === 6 && parsed.bytes[0] === 0xfe && (parsed.bytes[1] & 0xc0) === 0x80;
}

/** "::ffff:a.b.c.d" → "a.b.c.d" (how an IPv4 session's next hop looks in an IPv6 route). */
function unmapped(text: string): string | undefined {
  const parsed = parseAddress(text);
  if (typeof parsed === 'string' || parsed.family !== 6) return undefined;
  for (let i = 0; i < 10; i++) if (parsed.bytes[i] !== 0) return undefined;
  if (parsed.bytes[10] !== 0xff || parsed.bytes[11] !== 0xff) return undefined;
  return [...parsed.bytes.subarray(12)].join('.');
}

export function nextHopStatus(entry: RouteEntry): NextHopStatus {
  const attributes = entry.attributes;
  const own = new Set([...entry.appliance.addresses, canonicalAddress(entry.peer.address)]);
  const global = attributes.nextHop === null ? null : canonicalAddress(attributes.nextHop);
  if (global === null || isUnspecified(global) || isLinkLocal(global)) {
    return attributes.linkLocalNextHop !== undefined || (global !== null && isLinkLocal(global)) ? 'unverifiable' : 'missing';
  }
  if (own.has(global)) return 'ok';
  const v4 = unmapped(global);
  return v4 !== undefined && own.has(v4) ? 'ok' : 'mismatch';
}

export function nextHopRule(): Rule {
  return routeRule({
    id: 'next-hop',
    tables: TABLES,
    evaluate(entries, appliance) {
      const group = appliance.group;
      if (!group.config.nextHopMustMatchSession) return [];
      const params = group.params.nextHop;
      const statuses = entries.map((entry) => ({ entry, status: nextHopStatus(entry) }));
      const wrong = statuses.filter((s) => s.status === 'mismatch' || s.status === 'missing');
      const unverifiable = statuses.filter((s) => s.status === 'unverifiable');
      const bad = wrong.length > 0 ? wrong : params.reportUnverifiable ? unverifiable : [];
      if (bad.length === 0) return [];
      const badEntries = bad.map((s) => s.entry);
      const main = bad.find((s) => s.entry.table === 'adj-rib-in-post') ?? bad[0];
      const prefix = main.entry.prefix;
      const nextHop = main.entry.attributes.nextHop;
      const session = main.entry.peer.address;
      let severity: Severity;
      let summary: string;
      let explanation: string;
      let action: string;
      if (wrong.length > 0) {
        severity = wrong.some((s) => s.entry.table === 'adj-rib-in-post') ? 'critical' : 'warning';
        summary =
          main.status === 'missing'
            ? `${appliance.name} announces ${prefix} without a next hop`
            : `${appliance.name} announces ${prefix} with next hop ${nextHop}, not its session address ${session}`;
        explanation = `Routes from appliances must point at the appliance itself (its session address ${session}${appliance.addresses.length > 1 ? ` or ${appliance.addresses.join(', ')}` : ''}); traffic for ${prefix} would go to ${nextHop ?? 'nowhere'} instead. Seen in ${describeWhere(badEntries)}${severity === 'critical' ? ', and the route server accepted it' : ' (pre-policy only: the route servers filtered it)'}.`;
        action = `Set the next hop of ${prefix} on ${appliance.name} to its own address (${session}), e.g. "next-hop self"; or set nextHopMustMatchSession: false for group "${group.name}" if its appliances legitimately announce third-party next hops.`;
      } else {
        severity = 'info';
        summary = `${appliance.name} announces ${prefix} with only a link-local next hop: unverifiable`;
        explanation = `The route carries the link-local next hop ${main.entry.attributes.linkLocalNextHop ?? nextHop ?? '(none)'} and no global one, so bmpwatch cannot check that it is ${appliance.name}'s own address. This is not a confirmation that the next hop is right.`;
        action = `Have ${appliance.name} send a global IPv6 next hop (its session address) with ${prefix}, or set rules.nextHop.reportUnverifiable: false for group "${group.name}".`;
      }
      return [
        {
          rule: 'next-hop',
          key: `${appliance.id}|${prefix}`,
          severity,
          summary,
          explanation,
          suggestedAction: action,
          ...routeEvidence(appliance, prefix, main.entry, badEntries),
          details: { status: main.status, sessionAddress: session, nextHop: nextHop ?? null },
        },
      ];
    },
  });
}
