/**
 * ExaBGP 4.2 as a virtual appliance (or core router) peering with a route server under test.
 *
 * One exabgp process per appliance, one neighbour each, in a temp dir of its own. Settings per shared/EXPORTERS.md:
 * exabgp.daemon.user=root, exabgp.daemon.drop=false, exabgp.api.cli=false (no control FIFOs in /run), and
 * exabgp.tcp.bind='' (no listening: the appliance always connects out, to peerPort, from localAddress).
 *
 * Control channel: exabgp runs a small python3 helper as its API `process`. The helper copies lines written to
 * DIR/control.fifo to its stdout (= exabgp API commands) and exabgp's messages to it (JSON state events, and one
 * "done"/"error" per command) to DIR/events.log. The helper opens the FIFO read-write so it never sees EOF, exits
 * when exabgp closes its stdin or dies, and writes its PID to DIR/api.pid (it runs in a process group of its own,
 * created by exabgp, so it is stopped explicitly).
 *
 * Routes are all announced through the API (also the initial ones, written before the session is up: exabgp keeps
 * them in its Adj-RIB-Out and sends them once established). Static IPv6 routes in the config file break the 4.2
 * parser for some lengths, the API does not.
 *
 * Next hops: IPv4 routes default to localAddress; IPv6 routes over an IPv4 session default to ::ffff:localAddress
 * (FRR rejects ::1 even with allow-martian-nexthop).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry, findExecutable, makeTempDir, spawnDaemon, waitFor, type CleanupRegistry, type DaemonProcess } from './process.js';

export type ApplianceFamily = 'ipv4' | 'ipv6';

export interface RouteAttributes {
  /** Default: localAddress (IPv4 prefixes) or ::ffff:localAddress (IPv6 prefixes over IPv4). */
  readonly nextHop?: string;
  readonly localPreference?: number;
  readonly med?: number;
  /** AS_PATH as a sequence; ExaBGP prepends nothing itself for IBGP. */
  readonly asPath?: readonly number[];
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
  readonly origin?: 'igp' | 'egp' | 'incomplete';
  /** ADD-PATH path identifier (only when add-path send was negotiated). */
  readonly pathId?: number;
}

export interface InitialRoute extends RouteAttributes {
  readonly prefix: string;
}

export interface ExabgpApplianceOptions {
  /** The appliance's own address (127.x on the host, or e.g. 100.64.1.x inside a namespace). */
  readonly localAddress: string;
  /** The route server's address. */
  readonly peerAddress: string;
  /** The route server's BGP port. Default 179. */
  readonly peerPort?: number;
  readonly localAs: number;
  /** Default: localAs (IBGP). */
  readonly peerAs?: number;
  /** Default: localAddress (must be an IPv4 address). */
  readonly routerId?: string;
  readonly md5Password?: string;
  /** Address families in the OPEN. Default both. */
  readonly families?: readonly ApplianceFamily[];
  /** Routes announced at start. Strings are prefixes with default attributes. */
  readonly routes?: readonly (string | InitialRoute)[];
  /** ADD-PATH capability to advertise, per family in `families`. */
  readonly addPath?: 'send' | 'receive' | 'send/receive';
  readonly holdTime?: number;
  /** Run inside this network namespace (created by the caller, e.g. startGobgpRouteServer). */
  readonly netns?: string;
  readonly name?: string;
  readonly registry?: CleanupRegistry;
  /** Extra lines inside the neighbour block. */
  readonly extraNeighborConfig?: readonly string[];
}

/** One JSON line exabgp sent to the API process (state changes, notifications, …). */
export interface ExabgpEvent {
  readonly type: string;
  readonly neighbor?: { readonly state?: string; readonly reason?: string; readonly address?: { readonly local: string; readonly peer: string } };
  readonly notification?: string;
  readonly [key: string]: unknown;
}

export interface ExabgpAppliance {
  readonly name: string;
  readonly localAddress: string;
  readonly peerAddress: string;
  readonly routerId: string;
  readonly dir: string;
  readonly configPath: string;
  readonly process: DaemonProcess;
  /** Announces (or re-announces with new attributes) one prefix; resolves when exabgp acknowledged the command. */
  announce(prefix: string, attrs?: RouteAttributes): Promise<void>;
  /** Withdraws one prefix; resolves when exabgp acknowledged the command. */
  withdraw(prefix: string, attrs?: Pick<RouteAttributes, 'pathId'>): Promise<void>;
  /** Any ExaBGP API command ("teardown 2", "announce eor ipv4 unicast", …); resolves on its "done". */
  command(line: string): Promise<void>;
  /** Sends a NOTIFICATION Cease with this subcode (default 2, Administrative Shutdown) and closes the session. */
  teardown(subcode?: number): Promise<void>;
  /** JSON events received from exabgp so far. */
  events(): ExabgpEvent[];
  /** Last BGP state exabgp reported for the session ("up", "down", "connected"), or undefined. */
  state(): string | undefined;
  /** Waits until exabgp reports the session up. */
  waitEstablished(timeoutMs?: number): Promise<void>;
  /** SIGTERM (exabgp closes the TCP session without a NOTIFICATION); waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL; waits for exit. */
  kill(): Promise<void>;
  logs(): string;
  logTail(lines?: number): string;
}

const API_HELPER = `import os, select, sys, threading
fifo, events, pidfile = sys.argv[1], sys.argv[2], sys.argv[3]
with open(pidfile, 'w') as f:
    f.write(str(os.getpid()))
parent = os.getppid()

def from_exabgp():
    with open(events, 'a', buffering=1) as out:
        for line in sys.stdin:
            out.write(line)
    os._exit(0)

threading.Thread(target=from_exabgp, daemon=True).start()
fd = os.open(fifo, os.O_RDWR)
pending = b''
while True:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if os.getppid() != parent:
        os._exit(0)
    if ready:
        pending += os.read(fd, 65536)
        while b'\\n' in pending:
            line, pending = pending.split(b'\\n', 1)
            sys.stdout.write(line.decode() + '\\n')
            sys.stdout.flush()
`;

function isIpv6(prefix: string): boolean {
  return prefix.includes(':');
}

/** ExaBGP's text for a route's attributes; the next hop defaults to the appliance's own address. */
export function attributesText(prefix: string, localAddress: string, attrs: RouteAttributes): string {
  const nextHop = attrs.nextHop ?? (isIpv6(prefix) && !isIpv6(localAddress) ? `::ffff:${localAddress}` : localAddress);
  const parts = [`next-hop ${nextHop}`];
  if (attrs.pathId !== undefined) parts.push(`path-information ${attrs.pathId}`);
  if (attrs.origin) parts.push(`origin ${attrs.origin}`);
  if (attrs.asPath) parts.push(`as-path [ ${attrs.asPath.join(' ')} ]`);
  if (attrs.med !== undefined) parts.push(`med ${attrs.med}`);
  if (attrs.localPreference !== undefined) parts.push(`local-preference ${attrs.localPreference}`);
  if (attrs.communities && attrs.communities.length > 0) parts.push(`community [ ${attrs.communities.join(' ')} ]`);
  if (attrs.largeCommunities && attrs.largeCommunities.length > 0) parts.push(`large-community [ ${attrs.largeCommunities.join(' ')} ]`);
  return parts.join(' ');
}

/** An exabgp process with our API helper: a FIFO for commands in, a file of JSON events and acks out. */
export interface ExabgpApiProcess {
  readonly process: DaemonProcess;
  /** JSON events received from exabgp so far. */
  events(): ExabgpEvent[];
  /** One API command; resolves when exabgp acknowledged it, rejects when it refused it. */
  command(line: string): Promise<void>;
  /** Stops (SIGTERM) or kills exabgp, then its helper and the FIFO. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/**
 * Starts exabgp with the API helper. `neighbors` are the config's neighbour blocks; each must list
 * `processes [ bmpw-control ];` in its api section.
 */
export function launchExabgp(options: {
  readonly name: string;
  readonly dirPrefix: string;
  readonly neighbors: readonly string[];
  readonly registry: CleanupRegistry;
  readonly netns?: string;
}): ExabgpApiProcess & { readonly dir: string; readonly configPath: string } {
  const { name, registry } = options;
  const dir = makeTempDir(options.dirPrefix, registry);
  const fifoPath = join(dir, 'control.fifo');
  const eventsPath = join(dir, 'events.log');
  const helperPidPath = join(dir, 'api.pid');
  const helperPath = join(dir, 'api.py');
  const configPath = join(dir, 'exabgp.conf');
  // exabgp's own interpreter is Debian's /usr/bin/python3; prefer it over a pyenv shim on PATH.
  const helperPython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findExecutable('python3');

  execFileSync(findExecutable('mkfifo'), [fifoPath]);
  writeFileSync(helperPath, API_HELPER);
  writeFileSync(eventsPath, '');
  writeFileSync(
    configPath,
    [
      'process bmpw-control {',
      `  run ${helperPython} ${helperPath} ${fifoPath} ${eventsPath} ${helperPidPath};`,
      '  encoder json;',
      '}',
      '',
      ...options.neighbors,
    ].join('\n'),
  );

  // Held open read-write for the appliance's lifetime: writes never block on a missing reader, and commands
  // written before the helper starts wait in the pipe.
  const fifoFd = openSync(fifoPath, 'r+');
  let fifoOpen = true;
  const closeFifo = (): void => {
    if (fifoOpen) {
      fifoOpen = false;
      closeSync(fifoFd);
    }
  };
  const stopHelper = (): void => {
    // The helper exits by itself when exabgp goes; this covers SIGKILL races.
    try {
      const pid = Number(readFileSync(helperPidPath, 'utf8').trim());
      // Only if that PID is still our helper (not a reused PID).
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(helperPath)) process.kill(pid, 'SIGTERM');
    } catch {
      // no pid file or already gone
    }
  };
  registry.defer(`stop the API helper of ${name}`, () => {
    stopHelper();
    closeFifo();
  }, stopHelper);

  const proc = spawnDaemon({
    name,
    command: findExecutable('exabgp'),
    args: [configPath],
    dir,
    registry,
    netns: options.netns,
    logName: 'exabgp',
    env: {
      'exabgp.daemon.user': 'root',
      'exabgp.daemon.drop': 'false',
      'exabgp.daemon.daemonize': 'false',
      'exabgp.api.cli': 'false',
      'exabgp.api.ack': 'true',
      'exabgp.tcp.bind': '',
      'exabgp.log.destination': 'stdout',
      'exabgp.log.level': 'INFO',
    },
  });

  const readLines = (): string[] => {
    try {
      return readFileSync(eventsPath, 'utf8').split('\n').filter((l) => l.length > 0);
    } catch {
      return [];
    }
  };
  const events = (): ExabgpEvent[] =>
    readLines()
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as ExabgpEvent];
        } catch {
          return [];
        }
      });
  const acks = (): { done: number; error: number } => {
    let done = 0;
    let error = 0;
    for (const l of readLines()) {
      if (l === 'done') done++;
      else if (l === 'error') error++;
    }
    return { done, error };
  };

  let sent = 0;
  let expectedErrors = 0;
  // Commands are acknowledged one "done"/"error" each, but not always in order (a parse error is answered at
  // once, a route change when applied): wait until all commands so far are answered, then check the error count.
  const command = async (line: string): Promise<void> => {
    if (!fifoOpen || !proc.running()) throw new Error(`${name} is not running; cannot send '${line}'`);
    if (line.includes('\n')) throw new Error('one command per call');
    writeSync(fifoFd, `${line}\n`);
    sent++;
    const mine = sent;
    await waitFor(() => {
      const a = acks();
      return a.done + a.error >= mine;
    }, { what: `${name} to acknowledge '${line}'`, timeoutMs: 20_000, intervalMs: 50, logsFrom: [proc] });
    const { error } = acks();
    if (error > expectedErrors) {
      expectedErrors = error;
      const complaint = proc.logs().split('\n').filter((l) => l.includes('not understood') || l.includes('error')).slice(-3).join('\n');
      throw new Error(`${name} rejected an API command ('${line}' or one sent concurrently)\n${complaint}`);
    }
  };

  return {
    process: proc,
    dir,
    configPath,
    events,
    command,
    stop: async () => {
      await proc.stop();
      stopHelper();
      closeFifo();
    },
    kill: async () => {
      await proc.kill();
      stopHelper();
      closeFifo();
    },
  };
}

export async function startExabgpAppliance(options: ExabgpApplianceOptions): Promise<ExabgpAppliance> {
  const registry = options.registry ?? defaultRegistry;
  const name = options.name ?? `exabgp ${options.localAddress}`;
  const routerId = options.routerId ?? options.localAddress;
  const peerAs = options.peerAs ?? options.localAs;
  const families = options.families ?? ['ipv4', 'ipv6'];
  const exabgp = launchExabgp({
    name,
    dirPrefix: 'exabgp',
    registry,
    netns: options.netns,
    neighbors: [
      `neighbor ${options.peerAddress} {`,
      `  description "${name}";`,
      `  router-id ${routerId};`,
      `  local-address ${options.localAddress};`,
      `  local-as ${options.localAs};`,
      `  peer-as ${peerAs};`,
      ...(options.peerPort !== undefined && options.peerPort !== 179 ? [`  connect ${options.peerPort};`] : []),
      ...(options.holdTime !== undefined ? [`  hold-time ${options.holdTime};`] : []),
      ...(options.md5Password ? [`  md5-password "${options.md5Password}";`] : []),
      `  family {`,
      ...families.map((f) => `    ${f} unicast;`),
      '  }',
      ...(options.addPath ? ['  capability {', `    add-path ${options.addPath};`, '  }'] : []),
      ...(options.extraNeighborConfig ?? []).map((l) => `  ${l}`),
      '  api {',
      '    processes [ bmpw-control ];',
      '    neighbor-changes;',
      '  }',
      '}',
      '',
    ],
  });
  const { process: proc, events, command, dir, configPath } = exabgp;

  const state = (): string | undefined => {
    const states = events().filter((e) => e.type === 'state' && e.neighbor?.state !== undefined);
    return states.length > 0 ? states[states.length - 1].neighbor?.state : undefined;
  };

  const handle: ExabgpAppliance = {
    name,
    localAddress: options.localAddress,
    peerAddress: options.peerAddress,
    routerId,
    dir,
    configPath,
    process: proc,
    announce: (prefix, attrs = {}) => command(`announce route ${prefix} ${attributesText(prefix, options.localAddress, attrs)}`),
    withdraw: (prefix, attrs = {}) => command(`withdraw route ${prefix}${attrs.pathId !== undefined ? ` path-information ${attrs.pathId}` : ''}`),
    command,
    // A bare "teardown N" applies to no neighbour in ExaBGP 4.2: name the neighbour.
    teardown: (subcode = 2) => command(`neighbor ${options.peerAddress} teardown ${subcode}`),
    events,
    state,
    waitEstablished: async (timeoutMs = 30_000) => {
      await waitFor(() => {
        if (!proc.running()) throw new Error(`${name} exited: ${JSON.stringify(proc.exitInfo())}`);
        return state() === 'up';
      }, { what: `${name} to establish its session to ${options.peerAddress}`, timeoutMs, intervalMs: 100, logsFrom: [proc] });
    },
    stop: exabgp.stop,
    kill: exabgp.kill,
    logs: () => proc.logs(),
    logTail: (lines) => proc.logTail(lines),
  };

  try {
    for (const route of options.routes ?? []) {
      const r = typeof route === 'string' ? { prefix: route } : route;
      await handle.announce(r.prefix, r);
    }
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
