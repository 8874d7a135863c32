/**
 * FRR 8.4 bgpd as a route server inside an existing network namespace (e.g. the one startGobgpRouteServer made),
 * so FRR and GoBGP serve the same appliances from one address space: an appliance at 100.64.1.x peers with both.
 *
 * The config comes from frr.ts (buildFrrConfig: peer groups, listen ranges with TCP-MD5, import policies,
 * soft-reconfiguration inbound, BMP targets); bgpd runs as `ip netns exec NS bgpd -Z -S -M bmp … -l ADDRESS`, and
 * its BMP sessions reach collectors on the host through a relay per target (bmp-relay.ts) listening on
 * ADDRESS:11119+i inside the namespace, connecting from `sourceAddress` on the host. vtysh works from the host: it
 * talks to bgpd over the UNIX sockets in the launcher's temp dir.
 *
 * restart() stops bgpd (SIGTERM: it sends Cease to its peers and closes its BMP sessions, no Termination) and
 * starts it again with the same config; the relays stay.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFrrConfig, type FrrRouteServerOptions } from './frr.js';
import { startNetnsRelay, type NetnsRelay } from './bmp-relay.js';
import { defaultRegistry, findExecutable, makeTempDir, run, spawnDaemon, waitFor, type DaemonProcess } from './process.js';

export interface FrrNetnsBmpTarget {
  /** The collector on the host. */
  readonly host: string;
  readonly port: number;
  /** Source address of the relayed connection on the host. */
  readonly sourceAddress?: string;
  readonly statsIntervalMs?: number;
  readonly minRetryMs?: number;
  readonly maxRetryMs?: number;
}

export interface FrrNetnsOptions extends Omit<FrrRouteServerOptions, 'listenAddresses' | 'port' | 'bmp'> {
  readonly namespace: string;
  /** Address bgpd listens on inside the namespace (must be local there). */
  readonly address: string;
  /** BGP port. Default 179 (the namespace is the test's own). */
  readonly port?: number;
  readonly bmp?: readonly FrrNetnsBmpTarget[];
}

export interface FrrNetns {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly dir: string;
  readonly config: string;
  readonly process: DaemonProcess;
  vtysh(command: string | readonly string[]): Promise<string>;
  vtyshJson<T>(command: string): Promise<T>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
  logTail(lines?: number): string;
}

const BGPD = '/usr/lib/frr/bgpd';
/** Relay ports inside the namespace (gobgp.ts uses 11019+). */
const RELAY_BASE_PORT = 11119;

export async function startFrrInNamespace(options: FrrNetnsOptions): Promise<FrrNetns> {
  const registry = options.registry ?? defaultRegistry;
  const port = options.port ?? 179;
  const name = `bgpd ${options.routerId} in ${options.namespace}`;
  const dir = makeTempDir('frr-netns', registry);
  const relays: NetnsRelay[] = [];
  const targets = options.bmp ?? [];
  for (const [i, target] of targets.entries()) {
    relays.push(
      await startNetnsRelay({
        namespace: options.namespace,
        listenAddress: options.address,
        listenPort: RELAY_BASE_PORT + i,
        host: target.host,
        port: target.port,
        ...(target.sourceAddress !== undefined && { sourceAddress: target.sourceAddress }),
        dir,
        name: `frr-bmp-${i}`,
        registry,
      }),
    );
  }
  const { config } = buildFrrConfig({
    ...options,
    listenAddresses: [options.address],
    port,
    bmp: targets.map((target, i) => ({
      host: options.address,
      port: RELAY_BASE_PORT + i,
      ...(target.statsIntervalMs !== undefined && { statsIntervalMs: target.statsIntervalMs }),
      minRetryMs: target.minRetryMs ?? 100,
      maxRetryMs: target.maxRetryMs ?? 1000,
    })),
  });
  const configPath = join(dir, 'bgpd.conf');
  writeFileSync(configPath, config);
  const vtyshPath = findExecutable('vtysh');
  const args = ['-Z', '-S', '-M', 'bmp', '-f', configPath, '-i', join(dir, 'bgpd.pid'), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-P', '0', '-p', String(port), '-l', options.address];

  const vtysh = async (command: string | readonly string[]): Promise<string> => {
    const commands = typeof command === 'string' ? [command] : command;
    return (await run(vtyshPath, ['--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])], { timeoutMs: 15_000 })).stdout;
  };
  const launch = async (): Promise<DaemonProcess> => {
    const proc = spawnDaemon({ name, command: BGPD, args, dir, registry, netns: options.namespace, logName: 'bgpd' });
    await waitFor(async () => {
      if (!proc.running()) throw new Error(`bgpd exited: ${JSON.stringify(proc.exitInfo())}`);
      await vtysh('show bgp summary json');
      return true;
    }, { what: `${name} to answer vtysh on ${dir}`, timeoutMs: options.startTimeoutMs ?? 30_000, intervalMs: 100, logsFrom: [proc] }).catch(async (error: unknown) => {
      await proc.stop();
      throw error;
    });
    return proc;
  };

  let current = await launch();
  return {
    name,
    namespace: options.namespace,
    address: options.address,
    dir,
    config,
    get process() {
      return current;
    },
    vtysh,
    vtyshJson: async <T>(command: string): Promise<T> => JSON.parse(await vtysh(command)) as T,
    restart: async () => {
      await current.stop();
      current = await launch();
    },
    stop: async () => {
      await current.stop();
      for (const relay of relays) await relay.stop();
    },
    logs: () => current.logs(),
    logTail: (lines) => current.logTail(lines),
  };
}
