/**
 * session-down: an appliance is down on enough route servers for longer than a hold time.
 *
 * An appliance is down on a route server from a Peer Down of its session (including a Peer Down for a configured
 * peer never seen up, which FRR sends at BMP session start) until a Peer Up. The alert fires when it has been
 * down for holdSeconds (90, RFC 4271's suggested hold time) on at least minRouteServers (1) route servers, and
 * resolves when that is no longer true (it came back up).
 *
 * Not counted: route servers in a route-server incident (every peer down at once: rs-incident explains it), and
 * implied Peer Downs (a session reset is followed at once by the new session's Peer Up).
 * Limits: FRR sends no Peer Down for dynamic (listen-range) neighbours, so an appliance that simply disappears
 * from a dynamic range is visible only through its withdrawn routes (and, when it returns, session-churn).
 * Down state is kept per route-server name, so it survives a BMP reconnect of the route server.
 * Key: appliance. Parameters (rules.sessionDown, per group rules.groups[].sessionDown): enabled (true),
 * holdSeconds (90), minRouteServers (1), severity (critical).
 */
import type { Appliance } from './appliances.js';
import { fire, peerSummary, resolve, type PeerSummary, type Rule, type Transition } from './types.js';

interface DownRecord {
  readonly since: number;
  readonly routerId: string;
  readonly reason: string;
  readonly peer: PeerSummary;
}

interface ApplianceDown {
  appliance: Appliance;
  /** Route-server name → when the appliance went down there. */
  readonly routers: Map<string, DownRecord>;
  fired: boolean;
}

export function sessionDownRule(): Rule {
  const states = new Map<string, ApplianceDown>();

  return {
    id: 'session-down',
    onEvent(event, ctx) {
      if (event.type !== 'peer-up' && event.type !== 'peer-down') return [];
      const appliance = ctx.view.directory.resolve(event.peer);
      if (appliance === undefined) return [];
      let state = states.get(appliance.id);
      if (event.type === 'peer-down') {
        if (event.implied) return [];
        if (state === undefined) {
          state = { appliance, routers: new Map(), fired: false };
          states.set(appliance.id, state);
        }
        state.appliance = appliance;
        if (!state.routers.has(event.router.name)) {
          state.routers.set(event.router.name, {
            since: ctx.now,
            routerId: event.router.id,
            reason: `${event.reasonName}${event.notification ? ` (NOTIFICATION ${event.notification.code}/${event.notification.subcode} ${event.notification.codeName} / ${event.notification.subcodeName})` : ''}`,
            peer: peerSummary(event.peer),
          });
        }
        return [];
      }
      if (state === undefined) return [];
      state.routers.delete(event.router.name);
      return [];
    },
    onTick(ctx) {
      const transitions: Transition[] = [];
      const incidentRouters = new Set([...ctx.view.activeIncidents()].map((incident) => incident.routerName));
      for (const [id, state] of states) {
        const group = state.appliance.group;
        const params = group.params.sessionDown;
        const holdMs = params.holdSeconds * 1000;
        const enabled = ctx.settings.enabled('session-down', group);
        const down = [...state.routers].filter(([router, record]) => ctx.now - record.since >= holdMs && !incidentRouters.has(router));
        if (enabled && down.length >= params.minRouteServers) {
          if (!state.fired) {
            state.fired = true;
            const [firstRouter, first] = down[0];
            transitions.push(
              fire({
                rule: 'session-down',
                key: id,
                severity: params.severity,
                summary: `${state.appliance.name} is down on ${down.length} route server${down.length === 1 ? '' : 's'} (${down.map(([r]) => r).join(', ')})`,
                explanation: `${state.appliance.name}'s BGP session has been down for more than ${params.holdSeconds} s on ${down.map(([router, record]) => `${router} (since ${new Date(record.since).toISOString()}: ${record.reason})`).join(', ')}; the threshold is ${params.minRouteServers} route server(s). Its prefixes are not reachable through ${down.length === 1 ? 'that route server' : 'those route servers'}.`,
                suggestedAction: `Check that ${state.appliance.name} is running and can reach the route servers (BGP port 179, TCP-MD5 key, listen range); its last Peer Down reason is above.`,
                router: firstRouter,
                routers: down.map(([router]) => router),
                peer: first.peer,
                appliance: state.appliance.name,
                group: group.name,
                firstSeen: Math.min(...down.map(([, record]) => record.since)),
                lastSeen: ctx.now,
                details: { downOn: down.map(([router, record]) => ({ router, since: new Date(record.since).toISOString(), reason: record.reason })) },
              }),
            );
          }
        } else if (state.fired) {
          state.fired = false;
          transitions.push(resolve('session-down', id, enabled ? `down on ${down.length} route server(s) now, below ${params.minRouteServers}` : 'rule disabled'));
        }
        if (!state.fired && state.routers.size === 0) states.delete(id);
      }
      return transitions;
    },
  };
}
