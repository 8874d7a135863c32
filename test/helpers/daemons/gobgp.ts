/**
 * GoBGP 3.10 (gobgpd) as a BMP-exporting route server, inside a network namespace of its own.
 *
 * Why a namespace (shared/EXPORTERS.md): GoBGP treats an IPv4 NEXT_HOP in 127/8 as a withdraw, so appliances
 * cannot peer from 127.x. The launcher creates `bmpw-XXXXXX` (`ip netns add`), brings its `lo` up and puts the
 * route server's address (default 100.64.0.1/24) and the appliance gateway (default 100.64.1.1/24) on it. On a
 * loopback device a /24 makes the whole subnet local, so appliances (ExaBGP with `netns: rs.namespace`) can use any
 * 100.64.1.x without further setup. Nothing outside the namespace is touched.
 *
 * BMP relay, per target: gobgpd connects to ADDRESS:RELAYPORT inside the namespace, where a socat listens and
 * forwards each connection to a UNIX socket in the launcher's temp dir (filesystem sockets cross namespaces); a
 * second socat on the host accepts on that socket and connects to the collector (e.g. 127.0.0.1:PORT, optionally
 * from sourceAddress). Collector-side close → both socats close → gobgpd sees its BMP session end and reconnects
 * (GoBGP's BMP client retries with a back-off of several seconds).
 *
 * CLI: gobgp(args) runs `ip netns exec NS gobgp -u 127.0.0.1 -p APIPORT ARGS…`; gobgpJson() adds `--json`.
 * destroy() (also run by the registry) stops gobgpd and the relays, SIGKILLs whatever else is still inside the
 * namespace (only processes started in it by these helpers can be there), and deletes the namespace.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPLIANCE_IMPORT_POLICY, type AddressFamily, type ImportPolicy } from './frr.js';
import {
  defaultRegistry,
  findExecutable,
  makeTempDir,
  randomTag,
  run,
  runSync,
  sleep,
  spawnDaemon,
  waitFor,
  type CleanupRegistry,
  type DaemonProcess,
} from './process.js';

export type RouteMonitoringPolicy = 'pre-policy' | 'post-policy' | 'both' | 'local-rib' | 'all';

export interface GobgpBmpTarget {
  /** Collector address as seen from the host (loopback), e.g. 127.0.0.1. */
  readonly host: string;
  readonly port: number;
  /** Source address of the relayed connection on the host (e.g. 127.0.0.2 for allow-list tests). */
  readonly sourceAddress?: string;
  /** Default "all": pre-policy, post-policy and Loc-RIB. */
  readonly routeMonitoringPolicy?: RouteMonitoringPolicy;
  /** Seconds; must be 0 (off) or >= 15 (GoBGP rejects less). Default 0. */
  readonly statisticsTimeout?: number;
  readonly sysName?: string;
  readonly sysDescr?: string;
}

export interface GobgpRouteServerOptions {
  readonly localAs: number;
  /** Default: address. */
  readonly routerId?: string;
  /** Route server address inside the namespace. Default 100.64.0.1 (on lo as /24). */
  readonly address?: string;
  /** Dynamic-neighbour prefix for appliances. Default 100.64.1.0/24 (its .1 goes on lo, making it local). */
  readonly applianceSubnet?: string;
  /** AS of the appliance peer group. Default localAs (IBGP). */
  readonly peerAs?: number;
  /** BGP port inside the namespace. Default 179 (the namespace is ours alone). */
  readonly port?: number;
  /** Global import policy; null: accept everything. Default APPLIANCE_IMPORT_POLICY. */
  readonly importPolicy?: ImportPolicy | null;
  readonly families?: readonly AddressFamily[];
  readonly bmp?: GobgpBmpTarget | readonly GobgpBmpTarget[];
  /** Appended to the TOML config as is. */
  readonly extraToml?: string;
  /** Namespace name. Default bmpw-<random>. */
  readonly namespace?: string;
  readonly registry?: CleanupRegistry;
  readonly startTimeoutMs?: number;
  /** gobgpd log level. Default info. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface GobgpRouteServer {
  readonly namespace: string;
  readonly address: string;
  readonly routerId: string;
  readonly localAs: number;
  readonly port: number;
  readonly apiPort: number;
  readonly applianceSubnet: string;
  readonly dir: string;
  readonly configPath: string;
  readonly config: string;
  readonly process: DaemonProcess;
  /** An appliance address in applianceSubnet: host number n (2..254). */
  applianceAddress(n: number): string;
  /** `gobgp -u 127.0.0.1 -p APIPORT …args` inside the namespace; stdout. */
  gobgp(args: readonly string[]): Promise<string>;
  /** Same with `--json`, parsed. */
  gobgpJson<T>(args: readonly string[]): Promise<T>;
  /** Runs any short command inside the namespace. */
  exec(command: string, args: readonly string[]): Promise<string>;
  /**
   * Makes gobgpd open a new BMP session now: `gobgp bmp del` (GoBGP sends a Termination) and `gobgp bmp add` with
   * the same policy and statistics timeout. Use it instead of waiting out GoBGP's reconnect back-off (about 30 s
   * after a collector-side close). The re-added station loses the configured sys-name/sys-descr (GoBGP defaults).
   */
  resetBmp(index?: number): Promise<void>;
  /** `gobgp bmp del` only (all stations by default): GoBGP sends a Termination and stays away until connectBmp(). */
  disconnectBmp(index?: number): Promise<void>;
  /** `gobgp bmp add` again (all stations by default) with the configured policy and statistics timeout. */
  connectBmp(index?: number): Promise<void>;
  /**
   * Stops gobgpd and starts it again in the same namespace with the same config file (runtime changes are lost);
   * the relays stay, so the new gobgpd's BMP session reaches the same collector. Waits until it answers its API.
   */
  restart(): Promise<void>;
  /** Stops gobgpd (SIGTERM, SIGKILL after 5 s); the namespace and relays stay. */
  stop(): Promise<void>;
  /** Stops everything the launcher started and deletes the namespace. Idempotent. */
  destroy(): Promise<void>;
  logs(): string;
  logTail(lines?: number): string;
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

function masklengthRange(rule: { prefix: string; ge?: number; le?: number }): string | undefined {
  const length = Number(rule.prefix.split('/')[1]);
  if (rule.ge === undefined && rule.le === undefined) return undefined;
  const max = rule.prefix.includes(':') ? 128 : 32;
  return `${rule.ge ?? length}..${rule.le ?? max}`;
}

function policyToml(policy: ImportPolicy): string {
  const lines: string[] = [];
  const statements: { name: string; set: string }[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const rules = policy[family] ?? [];
    if (rules.length === 0) continue;
    const set = `rs-import-${family}`;
    statements.push({ name: `accept-${family}`, set });
    lines.push('[[defined-sets.prefix-sets]]', `  prefix-set-name = ${tomlString(set)}`);
    for (const rule of rules) {
      lines.push('  [[defined-sets.prefix-sets.prefix-list]]', `    ip-prefix = ${tomlString(rule.prefix)}`);
      const range = masklengthRange(rule);
      if (range) lines.push(`    masklength-range = ${tomlString(range)}`);
    }
  }
  lines.push('', '[[policy-definitions]]', '  name = "rs-import"');
  for (const st of statements) {
    lines.push(
      '  [[policy-definitions.statements]]',
      `    name = ${tomlString(st.name)}`,
      '    [policy-definitions.statements.conditions.match-prefix-set]',
      `      prefix-set = ${tomlString(st.set)}`,
      '    [policy-definitions.statements.actions]',
      '      route-disposition = "accept-route"',
    );
    if (policy.localPreference !== undefined || (policy.communities && policy.communities.length > 0)) {
      lines.push('    [policy-definitions.statements.actions.bgp-actions]');
      if (policy.localPreference !== undefined) lines.push(`      set-local-pref = ${policy.localPreference}`);
      if (policy.communities && policy.communities.length > 0) {
        lines.push(
          '    [policy-definitions.statements.actions.bgp-actions.set-community]',
          '      options = "add"',
          '      [policy-definitions.statements.actions.bgp-actions.set-community.set-community-method]',
          `        communities-list = [${policy.communities.map(tomlString).join(', ')}]`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** Builds gobgpd.toml. BMP addresses are the relay listeners inside the namespace. */
export function buildGobgpConfig(
  options: GobgpRouteServerOptions,
  resolved: { address: string; routerId: string; port: number; applianceSubnet: string; relays: { port: number; target: GobgpBmpTarget }[] },
): string {
  const policy = options.importPolicy === undefined ? APPLIANCE_IMPORT_POLICY : options.importPolicy;
  const families = options.families ?? ['ipv4', 'ipv6'];
  const lines: string[] = [
    '[global.config]',
    `  as = ${options.localAs}`,
    `  router-id = ${tomlString(resolved.routerId)}`,
    `  port = ${resolved.port}`,
    `  local-address-list = [${tomlString(resolved.address)}]`,
  ];
  if (policy) {
    lines.push('[global.apply-policy.config]', '  import-policy-list = ["rs-import"]', '  default-import-policy = "reject-route"');
  }
  lines.push(
    '',
    '[[peer-groups]]',
    '  [peer-groups.config]',
    '    peer-group-name = "appliances"',
    `    peer-as = ${options.peerAs ?? options.localAs}`,
  );
  for (const family of families) {
    lines.push('  [[peer-groups.afi-safis]]', '    [peer-groups.afi-safis.config]', `      afi-safi-name = "${family}-unicast"`);
  }
  lines.push(
    '',
    '[[dynamic-neighbors]]',
    '  [dynamic-neighbors.config]',
    `    prefix = ${tomlString(resolved.applianceSubnet)}`,
    '    peer-group = "appliances"',
  );
  for (const { port, target } of resolved.relays) {
    const timeout = target.statisticsTimeout ?? 0;
    if (timeout !== 0 && timeout < 15) throw new Error(`GoBGP statistics-timeout must be 0 or >= 15, not ${timeout}`);
    lines.push(
      '',
      '[[bmp-servers]]',
      '  [bmp-servers.config]',
      `    address = ${tomlString(resolved.address)}`,
      `    port = ${port}`,
      `    route-monitoring-policy = ${tomlString(target.routeMonitoringPolicy ?? 'all')}`,
      `    statistics-timeout = ${timeout}`,
      `    sys-name = ${tomlString(target.sysName ?? 'bmpw-gobgp')}`,
      `    sys-descr = ${tomlString(target.sysDescr ?? 'GoBGP route server under test')}`,
    );
  }
  if (policy) lines.push('', policyToml(policy));
  if (options.extraToml) lines.push('', options.extraToml);
  lines.push('');
  return lines.join('\n');
}

function hostAddress(subnet: string, n: number): string {
  const [base] = subnet.split('/');
  const parts = base.split('.').map(Number);
  if (parts.length !== 4) throw new Error(`applianceSubnet must be an IPv4 /24, not ${subnet}`);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${n}`;
}

/** `gobgp bmp add` spells the route-monitoring policies differently from the TOML config. */
const CLI_POLICY: Record<RouteMonitoringPolicy, string> = { 'pre-policy': 'pre', 'post-policy': 'post', both: 'both', 'local-rib': 'local-rib', all: 'all' };

/** First relay port inside the namespace; the namespace is ours, so any fixed port is free. */
const RELAY_BASE_PORT = 11019;
const API_PORT = 50051;

export async function startGobgpRouteServer(options: GobgpRouteServerOptions): Promise<GobgpRouteServer> {
  const registry = options.registry ?? defaultRegistry;
  const ip = findExecutable('ip');
  const socat = findExecutable('socat');
  const gobgpd = findExecutable('gobgpd');
  const gobgpCli = findExecutable('gobgp');
  const namespace = options.namespace ?? `bmpw-${randomTag()}`;
  const address = options.address ?? '100.64.0.1';
  const routerId = options.routerId ?? address;
  const applianceSubnet = options.applianceSubnet ?? '100.64.1.0/24';
  const port = options.port ?? 179;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const dir = makeTempDir('gobgp', registry);
  const targets = options.bmp === undefined ? [] : Array.isArray(options.bmp) ? (options.bmp as readonly GobgpBmpTarget[]) : [options.bmp as GobgpBmpTarget];
  const relays = targets.map((target, i) => ({ port: RELAY_BASE_PORT + i, target, socket: join(dir, `bmp-relay-${i}.sock`) }));

  // The namespace first, and its deletion registered first: the registry runs undo steps in reverse, so every
  // process started in it below (and appliances started later) is stopped before the namespace goes.
  await run(ip, ['netns', 'add', namespace]);
  const processes: DaemonProcess[] = [];
  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      for (const p of [...processes].reverse()) await p.stop();
      // Anything still inside our namespace was started there by these helpers (appliances not yet stopped).
      const pids = await run(ip, ['netns', 'pids', namespace], { allowFailure: true });
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      if (pids.stdout.trim()) await sleep(200);
      await run(ip, ['netns', 'del', namespace], { allowFailure: true });
    })();
    return destroyed;
  };
  registry.defer(`delete network namespace ${namespace}`, destroy, () => runSync(ip, ['netns', 'del', namespace]));

  try {
    const inNs = (args: readonly string[]): Promise<unknown> => run(ip, ['-n', namespace, ...args]);
    await inNs(['link', 'set', 'lo', 'up']);
    await inNs(['addr', 'add', `${address}/24`, 'dev', 'lo']);
    const gateway = hostAddress(applianceSubnet, 1);
    if (gateway !== address) await inNs(['addr', 'add', `${gateway}/${applianceSubnet.split('/')[1] ?? '24'}`, 'dev', 'lo']);

    // BMP relays: host side first (UNIX socket → collector), then the namespace side (TCP → UNIX socket).
    for (const [i, relay] of relays.entries()) {
      const connectTo = `TCP:${relay.target.host}:${relay.target.port}${relay.target.sourceAddress ? `,bind=${relay.target.sourceAddress}` : ''}`;
      const hostSide = spawnDaemon({
        name: `bmp relay ${i} host side → ${relay.target.host}:${relay.target.port}`,
        command: socat,
        args: ['-d', '-d', `UNIX-LISTEN:${relay.socket},fork,unlink-early`, connectTo],
        dir,
        registry,
        logName: `relay-${i}-host`,
        stopTimeoutMs: 2_000,
      });
      processes.push(hostSide);
      await waitFor(() => {
        if (!hostSide.running()) throw new Error('socat exited');
        return existsSync(relay.socket);
      }, { what: `${hostSide.name} to listen on ${relay.socket}`, timeoutMs: 10_000, intervalMs: 50, logsFrom: [hostSide] });
      const nsSide = spawnDaemon({
        name: `bmp relay ${i} in ${namespace} ${address}:${relay.port}`,
        command: socat,
        args: ['-d', '-d', `TCP-LISTEN:${relay.port},bind=${address},reuseaddr,fork`, `UNIX-CONNECT:${relay.socket}`],
        dir,
        registry,
        netns: namespace,
        logName: `relay-${i}-ns`,
        stopTimeoutMs: 2_000,
      });
      processes.push(nsSide);
      await waitFor(() => {
        if (!nsSide.running()) throw new Error('socat exited');
        return nsSide.logs().includes('listening on');
      }, { what: `${nsSide.name} to listen`, timeoutMs: 10_000, intervalMs: 50, logsFrom: [nsSide] });
    }

    const config = buildGobgpConfig(options, { address, routerId, port, applianceSubnet, relays });
    const configPath = join(dir, 'gobgpd.toml');
    writeFileSync(configPath, config);
    const gobgp = async (args: readonly string[]): Promise<string> =>
      (await run(gobgpCli, ['-u', '127.0.0.1', '-p', String(API_PORT), ...args], { netns: namespace, timeoutMs: 15_000 })).stdout;

    const launch = async (): Promise<DaemonProcess> => {
      const started = spawnDaemon({
        name: `gobgpd ${routerId} in ${namespace}`,
        command: gobgpd,
        args: ['-f', configPath, '-t', 'toml', '--api-hosts', `127.0.0.1:${API_PORT}`, '--pprof-disable', '-l', options.logLevel ?? 'info'],
        dir,
        registry,
        netns: namespace,
        logName: 'gobgpd',
      });
      processes.push(started);
      await waitFor(async () => {
        if (!started.running()) throw new Error(`gobgpd exited: ${JSON.stringify(started.exitInfo())}`);
        await gobgp(['global']);
        return true;
      }, { what: `${started.name} to answer its API`, timeoutMs: startTimeoutMs, intervalMs: 100, logsFrom: [started] });
      return started;
    };
    let proc = await launch();

    const stations = (index: number | undefined): typeof relays => {
      const chosen = relays.filter((_, i) => index === undefined || index === i);
      if (index !== undefined && chosen.length === 0) throw new Error(`no BMP station ${index} configured`);
      return chosen;
    };
    const bmpDel = async (relay: (typeof relays)[number]): Promise<void> => {
      await gobgp(['bmp', 'del', `${address}:${relay.port}`]);
    };
    const bmpAdd = async (relay: (typeof relays)[number]): Promise<void> => {
      await gobgp(['bmp', 'add', `${address}:${relay.port}`, CLI_POLICY[relay.target.routeMonitoringPolicy ?? 'all'], '-s', String(relay.target.statisticsTimeout ?? 0)]);
    };

    return {
      namespace,
      address,
      routerId,
      localAs: options.localAs,
      port,
      apiPort: API_PORT,
      applianceSubnet,
      dir,
      configPath,
      config,
      get process() {
        return proc;
      },
      applianceAddress: (n) => hostAddress(applianceSubnet, n),
      gobgp,
      gobgpJson: async <T>(args: readonly string[]): Promise<T> => {
        const text = await gobgp([...args, '--json']);
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new Error(`gobgp ${args.join(' ')} --json did not print JSON:\n${text.slice(0, 2000)}`);
        }
      },
      exec: async (command, args) => (await run(command, args, { netns: namespace })).stdout,
      resetBmp: async (index) => {
        for (const relay of stations(index)) {
          await bmpDel(relay);
          await bmpAdd(relay);
        }
      },
      disconnectBmp: async (index) => {
        for (const relay of stations(index)) await bmpDel(relay);
      },
      connectBmp: async (index) => {
        for (const relay of stations(index)) await bmpAdd(relay);
      },
      restart: async () => {
        await proc.stop();
        proc = await launch();
      },
      stop: async () => {
        await proc.stop();
      },
      destroy,
      logs: () => proc.logs(),
      logTail: (lines) => proc.logTail(lines),
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}
