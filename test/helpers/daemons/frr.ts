/**
 * FRR 8.4 bgpd as a BMP-exporting route server, run standalone on loopback (see shared/EXPORTERS.md):
 *
 *   /usr/lib/frr/bgpd -Z -S -M bmp -f DIR/bgpd.conf -i DIR/bgpd.pid -z DIR/zserv.api --vty_socket DIR -P 0
 *                     -p PORT -l ADDR [-l ADDR…]
 *
 * -Z: no zebra (every next hop resolves; "zclient_send_message() failed" lines are harmless), -S: no run-as user
 * (needed as root), -P 0: no TCP vty. The BGP port is a free port on the first listen address by default, so
 * several route servers (parallel test files) never fight over 179; ExaBGP appliances reach it with `connect PORT`
 * (startExabgpAppliance's peerPort). State is read and changed through `vtysh --vty_socket DIR`.
 *
 * Resetting the BMP session: FRR 8.4 has no `clear bmp`. resetBmp() removes the target (`no bmp targets NAME`,
 * which closes its TCP session at once) and configures it again; FRR reconnects after min-retry and sends a new
 * Initiation and a full dump (Peer Up per peer, routes, End-of-RIB). Closing the socket on the collector side has
 * the same effect.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../ports.js';
import { defaultRegistry, findExecutable, makeTempDir, run, spawnDaemon, waitFor, type CleanupRegistry, type DaemonProcess } from './process.js';

export type AddressFamily = 'ipv4' | 'ipv6';

export interface PrefixRule {
  readonly prefix: string;
  readonly ge?: number;
  readonly le?: number;
}

/** An import policy: permit only these prefixes, and set attributes so pre- and post-policy differ. */
export interface ImportPolicy {
  readonly ipv4?: readonly PrefixRule[];
  readonly ipv6?: readonly PrefixRule[];
  readonly localPreference?: number;
  /** Added (additive) to the route's communities, "asn:value". */
  readonly communities?: readonly string[];
}

/** The appliance policy of the fixtures: 10.128.0.0/16 ge 29 le 32, 2001:db8:100::/48 ge 64 le 64, LP 200, 65000:100. */
export const APPLIANCE_IMPORT_POLICY: ImportPolicy = {
  ipv4: [{ prefix: '10.128.0.0/16', ge: 29, le: 32 }],
  ipv6: [{ prefix: '2001:db8:100::/48', ge: 64, le: 64 }],
  localPreference: 200,
  communities: ['65000:100'],
};

export type RemoteAs = number | 'internal' | 'external';

export interface FrrPeerGroup {
  readonly name: string;
  readonly remoteAs: RemoteAs;
  /** Dynamic neighbours: `bgp listen range PREFIX peer-group NAME` (FRR accepts sessions from these sources). */
  readonly listenRanges?: readonly string[];
  /** TCP-MD5 key for the group (and its listen ranges). */
  readonly password?: string;
  /** Import route-map built from this policy; null or absent: accept everything. */
  readonly importPolicy?: ImportPolicy | null;
  /** Address families to activate. Default both. */
  readonly families?: readonly AddressFamily[];
  /** `soft-reconfiguration inbound` (needed for real pre-policy Route Monitoring). Default true. */
  readonly softReconfiguration?: boolean;
  /** `route-reflector-client` for IBGP groups, so IBGP routes are passed on between appliances. Default true for internal. */
  readonly routeReflectorClient?: boolean;
  /** Extra `neighbor NAME …` lines inside each activated address family, without the prefix (e.g. "addpath-tx-all-paths"). */
  readonly afExtra?: readonly string[];
  /** Extra `neighbor NAME …` lines in the router block, without the prefix (e.g. "timers 3 9"). */
  readonly extra?: readonly string[];
}

export interface FrrNeighbor {
  readonly address: string;
  /** Remote AS, unless the neighbour belongs to peerGroup (then the group's remote-as applies). */
  readonly remoteAs?: RemoteAs;
  readonly peerGroup?: string;
  /** Port FRR connects to (the peer usually connects in first; ExaBGP here does not listen). */
  readonly port?: number;
  readonly password?: string;
  readonly description?: string;
  readonly importPolicy?: ImportPolicy | null;
  readonly families?: readonly AddressFamily[];
  readonly softReconfiguration?: boolean;
  readonly routeReflectorClient?: boolean;
  readonly extra?: readonly string[];
}

export interface FrrBmpTarget {
  /** `bmp targets NAME`. Default "COLLECTOR", then "COLLECTOR2", … */
  readonly name?: string;
  readonly host: string;
  readonly port: number;
  readonly minRetryMs?: number;
  readonly maxRetryMs?: number;
  /** Which tables to monitor. Default: pre- and post-policy for both families. */
  readonly monitor?: readonly { readonly family: AddressFamily; readonly policy: 'pre-policy' | 'post-policy' }[];
  /** `bmp stats interval MS`; absent: no Statistics Reports. */
  readonly statsIntervalMs?: number;
  /** `bmp mirror` (Route Mirroring). */
  readonly mirror?: boolean;
}

export interface FrrRouteServerOptions {
  readonly routerId: string;
  readonly localAs: number;
  /** Addresses bgpd listens on (`-l`). Default ["127.0.0.1"]. */
  readonly listenAddresses?: readonly string[];
  /** BGP port. Default: a free port on the first listen address. 179 works too on a 127.x address no one else uses. */
  readonly port?: number;
  /**
   * Shorthand for the usual appliance group: peer group "APPLIANCES", IBGP (remote-as internal), this listen
   * range, APPLIANCE_IMPORT_POLICY unless listenRangePolicy says otherwise, and listenRangePassword as MD5 key.
   */
  readonly listenRange?: string;
  readonly listenRangePassword?: string;
  readonly listenRangePolicy?: ImportPolicy | null;
  readonly peerGroups?: readonly FrrPeerGroup[];
  readonly neighbors?: readonly FrrNeighbor[];
  /** BMP targets; absent or empty: no BMP. */
  readonly bmp?: FrrBmpTarget | readonly FrrBmpTarget[];
  /** The route server's own routes (`network` statements; reported with an all-zero peer header). */
  readonly networks?: readonly string[];
  /** Extra lines inside `router bgp`, before the address families. */
  readonly extraRouterConfig?: readonly string[];
  /** Extra lines at the top level (after the route-maps). */
  readonly extraConfig?: readonly string[];
  readonly hostname?: string;
  /** FRR log level on stdout. Default "informational". */
  readonly logLevel?: 'debugging' | 'informational' | 'notifications' | 'warnings' | 'errors';
  readonly registry?: CleanupRegistry;
  /** How long to wait for bgpd to answer vtysh. Default 20 s. */
  readonly startTimeoutMs?: number;
}

export interface FrrRouteServer {
  readonly name: string;
  readonly dir: string;
  readonly configPath: string;
  /** The generated bgpd.conf text. */
  readonly config: string;
  readonly routerId: string;
  readonly localAs: number;
  readonly listenAddresses: readonly string[];
  readonly port: number;
  /** The bgpd process now running (a new one after restart()). */
  readonly process: DaemonProcess;
  /** The BMP targets as configured (names filled in). */
  readonly bmpTargets: readonly (FrrBmpTarget & { readonly name: string })[];
  /** Runs one or more vtysh commands (`-c` each, in order, same session); rejects when vtysh exits non-zero. */
  vtysh(command: string | readonly string[]): Promise<string>;
  /** Runs one `… json` command and parses its output. */
  vtyshJson<T>(command: string): Promise<T>;
  /** `configure terminal` + `router bgp AS` + lines. */
  configureBgp(lines: readonly string[]): Promise<string>;
  /** Drops and re-adds a BMP target (all targets by default) so FRR opens a new BMP session. */
  resetBmp(targetName?: string): Promise<void>;
  /**
   * Removes a BMP target (all by default; `no bmp targets NAME`): its session closes at once and stays down until
   * connectBmp(). For "what changed while the collector was not listening" tests. Runtime only: restart() brings
   * back the configured targets.
   */
  disconnectBmp(targetName?: string): Promise<void>;
  /** Configures a BMP target again (all by default) after disconnectBmp(); FRR connects after min-retry. */
  connectBmp(targetName?: string): Promise<void>;
  /** Alias of resetBmp(). */
  clearBmp(targetName?: string): Promise<void>;
  /** `clear bgp WHAT` (default `*`): resets BGP sessions (FRR reports Peer Down reason 2 for static peers). */
  clearBgp(what?: string): Promise<string>;
  /** SIGTERM (SIGKILL after 5 s); waits for exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL; waits for exit. */
  kill(): Promise<void>;
  /** Stops bgpd and starts it again with the same config file, addresses and port (runtime vtysh changes are lost). */
  restart(): Promise<void>;
  logs(): string;
  logTail(lines?: number): string;
}

const BGPD = '/usr/lib/frr/bgpd';

function remoteAsText(remoteAs: RemoteAs): string {
  return typeof remoteAs === 'number' ? String(remoteAs) : remoteAs;
}

function prefixRule(rule: PrefixRule): string {
  return `${rule.prefix}${rule.ge !== undefined ? ` ge ${rule.ge}` : ''}${rule.le !== undefined ? ` le ${rule.le}` : ''}`;
}

function isIpv6(address: string): boolean {
  return address.includes(':');
}

/** Route-map and prefix-list lines for one policy, named after its owner. */
function policyConfig(name: string, policy: ImportPolicy): string[] {
  const lines: string[] = [];
  const sets: string[] = [];
  if (policy.localPreference !== undefined) sets.push(` set local-preference ${policy.localPreference}`);
  if (policy.communities && policy.communities.length > 0) sets.push(` set community ${policy.communities.join(' ')} additive`);
  let seq = 10;
  if (policy.ipv4 && policy.ipv4.length > 0) {
    policy.ipv4.forEach((rule, i) => lines.push(`ip prefix-list ${name}-V4 seq ${(i + 1) * 5} permit ${prefixRule(rule)}`));
  }
  if (policy.ipv6 && policy.ipv6.length > 0) {
    policy.ipv6.forEach((rule, i) => lines.push(`ipv6 prefix-list ${name}-V6 seq ${(i + 1) * 5} permit ${prefixRule(rule)}`));
  }
  lines.push('!');
  if (policy.ipv4 && policy.ipv4.length > 0) {
    lines.push(`route-map ${name}-IN permit ${seq}`, ` match ip address prefix-list ${name}-V4`, ...sets, 'exit');
    seq += 10;
  }
  if (policy.ipv6 && policy.ipv6.length > 0) {
    lines.push(`route-map ${name}-IN permit ${seq}`, ` match ipv6 address prefix-list ${name}-V6`, ...sets, 'exit');
  }
  // A policy with no prefixes for a family denies that family (route-maps end in an implicit deny).
  if ((!policy.ipv4 || policy.ipv4.length === 0) && (!policy.ipv6 || policy.ipv6.length === 0)) {
    lines.push(`route-map ${name}-IN deny 10`, 'exit');
  }
  lines.push('!');
  return lines;
}

function bmpTargetLines(target: FrrBmpTarget & { name: string }): string[] {
  const monitor = target.monitor ?? [
    { family: 'ipv4', policy: 'pre-policy' },
    { family: 'ipv4', policy: 'post-policy' },
    { family: 'ipv6', policy: 'pre-policy' },
    { family: 'ipv6', policy: 'post-policy' },
  ];
  return [
    `bmp targets ${target.name}`,
    ...monitor.map((m) => ` bmp monitor ${m.family} unicast ${m.policy}`),
    ...(target.statsIntervalMs !== undefined ? [` bmp stats interval ${target.statsIntervalMs}`] : []),
    ...(target.mirror ? [' bmp mirror'] : []),
    ` bmp connect ${target.host} port ${target.port} min-retry ${target.minRetryMs ?? 100} max-retry ${target.maxRetryMs ?? 1000}`,
    'exit',
  ];
}

interface Built {
  readonly config: string;
  readonly bmpTargets: (FrrBmpTarget & { readonly name: string })[];
}

/** Builds bgpd.conf. Exported for tests that want to see or tweak the text. */
export function buildFrrConfig(options: FrrRouteServerOptions): Built {
  const groups: FrrPeerGroup[] = [...(options.peerGroups ?? [])];
  if (options.listenRange) {
    groups.unshift({
      name: 'APPLIANCES',
      remoteAs: 'internal',
      listenRanges: [options.listenRange],
      password: options.listenRangePassword,
      importPolicy: options.listenRangePolicy === undefined ? APPLIANCE_IMPORT_POLICY : options.listenRangePolicy,
    });
  }
  const neighbors = options.neighbors ?? [];
  const targetsIn = options.bmp === undefined ? [] : Array.isArray(options.bmp) ? (options.bmp as readonly FrrBmpTarget[]) : [options.bmp as FrrBmpTarget];
  const bmpTargets = targetsIn.map((t, i) => ({ ...t, name: t.name ?? (i === 0 ? 'COLLECTOR' : `COLLECTOR${i + 1}`) }));

  const lines: string[] = [
    'frr defaults traditional',
    `hostname ${options.hostname ?? `bmpw-frr-${options.routerId}`}`,
    `log stdout ${options.logLevel ?? 'informational'}`,
    '!',
  ];
  const policyName = new Map<string, string>(); // owner (group name or neighbor address) → route-map base name
  for (const group of groups) {
    if (group.importPolicy) {
      const name = `RS-${group.name}`;
      policyName.set(group.name, name);
      lines.push(...policyConfig(name, group.importPolicy));
    }
  }
  neighbors.forEach((n, i) => {
    if (n.importPolicy) {
      const name = `RS-N${i + 1}`;
      policyName.set(n.address, name);
      lines.push(...policyConfig(name, n.importPolicy));
    }
  });
  lines.push(...(options.extraConfig ?? []));

  lines.push(
    `router bgp ${options.localAs}`,
    ` bgp router-id ${options.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' no bgp network import-check',
    ' bgp allow-martian-nexthop',
  );
  // Peer groups first: `bgp listen range` needs the group and its remote-as to exist.
  for (const group of groups) {
    lines.push(` neighbor ${group.name} peer-group`, ` neighbor ${group.name} remote-as ${remoteAsText(group.remoteAs)}`);
    if (group.password) lines.push(` neighbor ${group.name} password ${group.password}`);
    for (const extra of group.extra ?? []) lines.push(` neighbor ${group.name} ${extra}`);
    for (const range of group.listenRanges ?? []) lines.push(` bgp listen range ${range} peer-group ${group.name}`);
  }
  for (const n of neighbors) {
    if (n.peerGroup) lines.push(` neighbor ${n.address} peer-group ${n.peerGroup}`);
    if (n.remoteAs !== undefined) lines.push(` neighbor ${n.address} remote-as ${remoteAsText(n.remoteAs)}`);
    if (n.peerGroup === undefined && n.remoteAs === undefined) throw new Error(`neighbor ${n.address}: remoteAs or peerGroup is required`);
    if (n.port !== undefined) lines.push(` neighbor ${n.address} port ${n.port}`);
    if (n.password) lines.push(` neighbor ${n.address} password ${n.password}`);
    if (n.description) lines.push(` neighbor ${n.address} description ${n.description}`);
    for (const extra of n.extra ?? []) lines.push(` neighbor ${n.address} ${extra}`);
  }
  lines.push(...(options.extraRouterConfig ?? []).map((l) => (l.startsWith(' ') ? l : ` ${l}`)));

  for (const family of ['ipv4', 'ipv6'] as const) {
    lines.push(` address-family ${family} unicast`);
    for (const network of options.networks ?? []) {
      if (isIpv6(network) === (family === 'ipv6')) lines.push(`  network ${network}`);
    }
    for (const group of groups) {
      if (!(group.families ?? ['ipv4', 'ipv6']).includes(family)) continue;
      lines.push(`  neighbor ${group.name} activate`);
      if (group.softReconfiguration ?? true) lines.push(`  neighbor ${group.name} soft-reconfiguration inbound`);
      const rm = policyName.get(group.name);
      if (rm) lines.push(`  neighbor ${group.name} route-map ${rm}-IN in`);
      if (group.routeReflectorClient ?? group.remoteAs === 'internal') lines.push(`  neighbor ${group.name} route-reflector-client`);
      for (const extra of group.afExtra ?? []) lines.push(`  neighbor ${group.name} ${extra}`);
    }
    for (const n of neighbors) {
      // Members of a peer group inherit the group's activation and policy unless they say otherwise.
      const families = n.families ?? (n.peerGroup ? [] : ['ipv4', 'ipv6']);
      if (!families.includes(family)) continue;
      lines.push(`  neighbor ${n.address} activate`);
      if (n.softReconfiguration ?? true) lines.push(`  neighbor ${n.address} soft-reconfiguration inbound`);
      const rm = policyName.get(n.address);
      if (rm) lines.push(`  neighbor ${n.address} route-map ${rm}-IN in`);
      if (n.routeReflectorClient) lines.push(`  neighbor ${n.address} route-reflector-client`);
    }
    lines.push(' exit-address-family');
  }
  for (const target of bmpTargets) lines.push(...bmpTargetLines(target).map((l) => ` ${l}`));
  lines.push('exit', '!', 'end', '');
  return { config: lines.join('\n'), bmpTargets };
}

/**
 * Starts bgpd and waits until it answers vtysh. Registered for cleanup in options.registry (default
 * defaultRegistry): call `defaultRegistry.runAll()` in afterAll.
 */
export async function startFrrRouteServer(options: FrrRouteServerOptions): Promise<FrrRouteServer> {
  const registry = options.registry ?? defaultRegistry;
  const listenAddresses = options.listenAddresses ?? ['127.0.0.1'];
  if (listenAddresses.length === 0) throw new Error('startFrrRouteServer: listenAddresses is empty');
  const port = options.port ?? (await freePort(listenAddresses[0]));
  const name = `bgpd ${options.routerId}`;
  const dir = makeTempDir('frr', registry);
  const { config, bmpTargets } = buildFrrConfig(options);
  const configPath = join(dir, 'bgpd.conf');
  writeFileSync(configPath, config);
  const vtyshPath = findExecutable('vtysh');
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;

  const args = [
    '-Z', '-S', '-M', 'bmp',
    '-f', configPath,
    '-i', join(dir, 'bgpd.pid'),
    '-z', join(dir, 'zserv.api'),
    '--vty_socket', dir,
    '-P', '0',
    '-p', String(port),
    ...listenAddresses.flatMap((a) => ['-l', a]),
  ];

  const vtysh = async (command: string | readonly string[]): Promise<string> => {
    const commands = typeof command === 'string' ? [command] : command;
    const result = await run(vtyshPath, ['--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])], { timeoutMs: 15_000 });
    return result.stdout;
  };

  const launch = async (): Promise<DaemonProcess> => {
    const proc = spawnDaemon({ name, command: BGPD, args, dir, registry, logName: 'bgpd' });
    await waitFor(
      async () => {
        if (!proc.running()) throw new Error(`bgpd exited: ${JSON.stringify(proc.exitInfo())}`);
        await vtysh('show bgp summary json');
        return true;
      },
      { what: `${name} to answer vtysh on ${dir}`, timeoutMs: startTimeoutMs, intervalMs: 100, logsFrom: [proc] },
    ).catch(async (error: unknown) => {
      await proc.stop();
      throw error;
    });
    return proc;
  };

  const targetsNamed = (targetName: string | undefined): (FrrBmpTarget & { readonly name: string })[] => {
    const targets = bmpTargets.filter((t) => targetName === undefined || t.name === targetName);
    if (targets.length === 0) throw new Error(`no BMP target ${targetName ?? ''} configured`);
    return targets;
  };

  let current = await launch();
  const handle: FrrRouteServer = {
    name,
    dir,
    configPath,
    config,
    routerId: options.routerId,
    localAs: options.localAs,
    listenAddresses,
    port,
    get process() {
      return current;
    },
    bmpTargets,
    vtysh,
    vtyshJson: async <T>(command: string): Promise<T> => {
      const text = await vtysh(command);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`vtysh '${command}' did not print JSON:\n${text.slice(0, 2000)}`);
      }
    },
    configureBgp: (lines) => vtysh(['configure terminal', `router bgp ${options.localAs}`, ...lines]),
    resetBmp: async (targetName) => {
      for (const target of targetsNamed(targetName)) {
        await handle.configureBgp([`no bmp targets ${target.name}`]);
        await handle.configureBgp(bmpTargetLines(target));
      }
    },
    disconnectBmp: async (targetName) => {
      for (const target of targetsNamed(targetName)) await handle.configureBgp([`no bmp targets ${target.name}`]);
    },
    connectBmp: async (targetName) => {
      for (const target of targetsNamed(targetName)) await handle.configureBgp(bmpTargetLines(target));
    },
    clearBmp: (targetName) => handle.resetBmp(targetName),
    clearBgp: (what = '*') => vtysh(`clear bgp ${what}`),
    stop: async () => {
      await current.stop();
    },
    kill: async () => {
      await current.kill();
    },
    restart: async () => {
      await current.stop();
      current = await launch();
    },
    logs: () => current.logs(),
    logTail: (lines) => current.logTail(lines),
  };
  return handle;
}

/** Shape of `show bgp ipv4|ipv6 unicast json` (the fields tests use). */
export interface FrrBgpTableJson {
  readonly routerId: string;
  readonly localAS: number;
  readonly routes: Record<string, readonly FrrPathJson[]>;
}

export interface FrrPathJson {
  readonly valid?: boolean;
  readonly bestpath?: boolean;
  readonly peerId?: string;
  readonly locPrf?: number;
  readonly path?: string;
  readonly nexthops?: readonly { readonly ip: string; readonly afi: string }[];
}

/** Shape of `show bgp summary json` (per family, the fields tests use). */
export interface FrrSummaryJson {
  readonly ipv4Unicast?: { readonly peers: Record<string, { readonly state: string; readonly pfxRcd?: number; readonly dynamicPeer?: boolean }> };
  readonly ipv6Unicast?: { readonly peers: Record<string, { readonly state: string; readonly pfxRcd?: number; readonly dynamicPeer?: boolean }> };
}

/** Prefixes in `show bgp FAMILY unicast json`. */
export async function frrPrefixes(rs: FrrRouteServer, family: AddressFamily): Promise<string[]> {
  const table = await rs.vtyshJson<FrrBgpTableJson>(`show bgp ${family} unicast json`);
  return Object.keys(table.routes ?? {});
}
