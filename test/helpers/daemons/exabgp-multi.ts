/**
 * One ExaBGP 4.2 process as a virtual appliance that peers with several route servers at once (an anycast pair):
 * one `neighbor` block per route server, one router ID and one local address, as a real appliance would. The
 * single-neighbour launcher (exabgp.ts) explains the settings and the API channel; this one shares them.
 *
 * Routes go to every session (`announce route …`) unless a route server is named (`neighbor ADDR announce …`).
 * teardown(subcode, peer?) sends NOTIFICATION Cease on every session, or one; ExaBGP then reconnects at once (its
 * back-off is reset by a teardown and grows 1, 2, 3, 4, 5, 7 … s while connecting fails).
 * Per-session state comes from ExaBGP's JSON `state` events (neighbor.address.peer).
 */
import { attributesText, launchExabgp, type ExabgpEvent, type RouteAttributes } from './exabgp.js';
import { defaultRegistry, waitFor, type CleanupRegistry, type DaemonProcess } from './process.js';

export interface ApplianceSession {
  readonly peerAddress: string;
  readonly peerAs: number;
  readonly peerPort?: number;
  /** TCP-MD5 key for this session (route servers that support it on dynamic neighbours: FRR). */
  readonly md5Password?: string;
}

export interface MultiApplianceOptions {
  readonly name: string;
  readonly localAddress: string;
  readonly localAs: number;
  /** Default: localAddress. */
  readonly routerId?: string;
  readonly sessions: readonly ApplianceSession[];
  readonly families?: readonly ('ipv4' | 'ipv6')[];
  readonly holdTime?: number;
  readonly netns?: string;
  readonly registry?: CleanupRegistry;
}

export interface MultiAppliance {
  readonly name: string;
  readonly localAddress: string;
  readonly routerId: string;
  readonly dir: string;
  readonly process: DaemonProcess;
  /** Announces to every session (or only to `peer`); attributes as in exabgp.ts. */
  announce(prefix: string, attrs?: RouteAttributes, peer?: string): Promise<void>;
  withdraw(prefix: string, peer?: string): Promise<void>;
  command(line: string): Promise<void>;
  /** NOTIFICATION Cease (default subcode 2, Administrative Shutdown) on every session, or on the one to `peer`. */
  teardown(subcode?: number, peer?: string): Promise<void>;
  events(): ExabgpEvent[];
  /** Last state ExaBGP reported for the session to `peer`. */
  state(peer: string): string | undefined;
  /** How many times the session to `peer` came up so far. */
  upCount(peer: string): number;
  /** Waits until every session (or the one to `peer`) is up. */
  waitEstablished(peer?: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM: ExaBGP closes its sessions without a NOTIFICATION. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}


export async function startMultiAppliance(options: MultiApplianceOptions): Promise<MultiAppliance> {
  const registry = options.registry ?? defaultRegistry;
  const name = options.name;
  const routerId = options.routerId ?? options.localAddress;
  const families = options.families ?? ['ipv4', 'ipv6'];
  const neighbor = (session: ApplianceSession): string[] => [
    `neighbor ${session.peerAddress} {`,
    `  description "${name} to ${session.peerAddress}";`,
    `  router-id ${routerId};`,
    `  local-address ${options.localAddress};`,
    `  local-as ${options.localAs};`,
    `  peer-as ${session.peerAs};`,
    ...(session.peerPort !== undefined && session.peerPort !== 179 ? [`  connect ${session.peerPort};`] : []),
    ...(options.holdTime !== undefined ? [`  hold-time ${options.holdTime};`] : []),
    ...(session.md5Password ? [`  md5-password "${session.md5Password}";`] : []),
    '  family {',
    ...families.map((f) => `    ${f} unicast;`),
    '  }',
    '  api {',
    '    processes [ bmpw-control ];',
    '    neighbor-changes;',
    '  }',
    '}',
    '',
  ];
  const exabgp = launchExabgp({ name, dirPrefix: 'exabgp-multi', registry, netns: options.netns, neighbors: options.sessions.flatMap(neighbor) });
  const { process: proc, events, command, dir } = exabgp;
  const statesOf = (peer: string): string[] =>
    events()
      .filter((e) => e.type === 'state' && e.neighbor?.address?.peer === peer && e.neighbor.state !== undefined)
      .map((e) => String(e.neighbor?.state));
  const target = (peer: string | undefined): string => (peer === undefined ? '' : `neighbor ${peer} `);

  return {
    name,
    localAddress: options.localAddress,
    routerId,
    dir,
    process: proc,
    announce: (prefix, attrs = {}, peer) => command(`${target(peer)}announce route ${prefix} ${attributesText(prefix, options.localAddress, attrs)}`),
    withdraw: (prefix, peer) => command(`${target(peer)}withdraw route ${prefix}`),
    command,
    // ExaBGP 4.2's `teardown` acts only on the neighbours it names (a bare `teardown N` matches none).
    teardown: async (subcode = 2, peer) => {
      for (const address of peer === undefined ? options.sessions.map((s) => s.peerAddress) : [peer]) await command(`neighbor ${address} teardown ${subcode}`);
    },
    events,
    state: (peer) => statesOf(peer).at(-1),
    upCount: (peer) => statesOf(peer).filter((s) => s === 'up').length,
    waitEstablished: async (peer, timeoutMs = 60_000) => {
      const peers = peer === undefined ? options.sessions.map((s) => s.peerAddress) : [peer];
      await waitFor(() => {
        if (!proc.running()) throw new Error(`${name} exited: ${JSON.stringify(proc.exitInfo())}`);
        return peers.every((p) => statesOf(p).at(-1) === 'up');
      }, { what: `${name} to establish its sessions to ${peers.join(', ')}`, timeoutMs, intervalMs: 100, logsFrom: [proc] });
    },
    stop: exabgp.stop,
    logTail: (lines) => proc.logTail(lines),
  };
}
