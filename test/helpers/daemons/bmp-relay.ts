/**
 * A TCP relay from inside a network namespace to a collector on the host's loopback, for route servers that run
 * in a namespace of their own (gobgp.ts builds the same relay for gobgpd; this one serves any daemon, e.g. FRR in
 * the same namespace, see frr-netns.ts).
 *
 *   daemon ──TCP──▶ socat in NS (LISTEN ADDRESS:PORT, fork) ──UNIX socket in DIR──▶ socat on the host ──TCP──▶
 *   HOST:PORT (optionally from sourceAddress, so the collector tells route servers apart by address)
 *
 * A filesystem UNIX socket crosses namespaces, so nothing outside the namespace is reconfigured. A close on either
 * side closes the other (socat ends that forked pair). Both socats are tracked by the registry (stopped by PID).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry, findExecutable, spawnDaemon, waitFor, type CleanupRegistry, type DaemonProcess } from './process.js';

export interface NetnsRelayOptions {
  readonly namespace: string;
  /** Where the daemon inside the namespace connects to. */
  readonly listenAddress: string;
  readonly listenPort: number;
  /** The collector on the host. */
  readonly host: string;
  readonly port: number;
  /** Source address of the host-side connection (a 127.x address). */
  readonly sourceAddress?: string;
  /** Directory for the UNIX socket and the logs. */
  readonly dir: string;
  /** Distinguishes several relays in one dir. */
  readonly name: string;
  readonly registry?: CleanupRegistry;
}

export interface NetnsRelay {
  readonly processes: readonly DaemonProcess[];
  stop(): Promise<void>;
}

export async function startNetnsRelay(options: NetnsRelayOptions): Promise<NetnsRelay> {
  const registry = options.registry ?? defaultRegistry;
  const socat = findExecutable('socat');
  const socket = join(options.dir, `${options.name}.sock`);
  const connectTo = `TCP:${options.host}:${options.port}${options.sourceAddress ? `,bind=${options.sourceAddress}` : ''}`;
  const hostSide = spawnDaemon({
    name: `relay ${options.name} host side → ${options.host}:${options.port}`,
    command: socat,
    args: ['-d', '-d', `UNIX-LISTEN:${socket},fork,unlink-early`, connectTo],
    dir: options.dir,
    registry,
    logName: `${options.name}-host`,
    stopTimeoutMs: 2_000,
  });
  await waitFor(() => {
    if (!hostSide.running()) throw new Error('socat exited');
    return existsSync(socket);
  }, { what: `${hostSide.name} to listen on ${socket}`, timeoutMs: 10_000, intervalMs: 50, logsFrom: [hostSide] });
  const nsSide = spawnDaemon({
    name: `relay ${options.name} in ${options.namespace} ${options.listenAddress}:${options.listenPort}`,
    command: socat,
    args: ['-d', '-d', `TCP-LISTEN:${options.listenPort},bind=${options.listenAddress},reuseaddr,fork`, `UNIX-CONNECT:${socket}`],
    dir: options.dir,
    registry,
    netns: options.namespace,
    logName: `${options.name}-ns`,
    stopTimeoutMs: 2_000,
  });
  await waitFor(() => {
    if (!nsSide.running()) throw new Error('socat exited');
    return nsSide.logs().includes('listening on');
  }, { what: `${nsSide.name} to listen`, timeoutMs: 10_000, intervalMs: 50, logsFrom: [nsSide] });
  return {
    processes: [hostSide, nsSide],
    stop: async () => {
      await nsSide.stop();
      await hostSide.stop();
    },
  };
}
