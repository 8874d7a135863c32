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
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExabgpEvent, RouteAttributes } from './exabgp.js';
import { defaultRegistry, findExecutable, makeTempDir, spawnDaemon, waitFor, type CleanupRegistry, type DaemonProcess } from './process.js';

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

function attributesText(prefix: string, localAddress: string, attrs: RouteAttributes): string {
  const v6 = prefix.includes(':');
  const nextHop = attrs.nextHop ?? (v6 && !localAddress.includes(':') ? `::ffff:${localAddress}` : localAddress);
  const parts = [`next-hop ${nextHop}`];
  if (attrs.origin) parts.push(`origin ${attrs.origin}`);
  if (attrs.asPath) parts.push(`as-path [ ${attrs.asPath.join(' ')} ]`);
  if (attrs.med !== undefined) parts.push(`med ${attrs.med}`);
  if (attrs.localPreference !== undefined) parts.push(`local-preference ${attrs.localPreference}`);
  if (attrs.communities && attrs.communities.length > 0) parts.push(`community [ ${attrs.communities.join(' ')} ]`);
  return parts.join(' ');
}

export async function startMultiAppliance(options: MultiApplianceOptions): Promise<MultiAppliance> {
  const registry = options.registry ?? defaultRegistry;
  const name = options.name;
  const routerId = options.routerId ?? options.localAddress;
  const families = options.families ?? ['ipv4', 'ipv6'];
  const dir = makeTempDir('exabgp-multi', registry);
  const fifoPath = join(dir, 'control.fifo');
  const eventsPath = join(dir, 'events.log');
  const helperPidPath = join(dir, 'api.pid');
  const helperPath = join(dir, 'api.py');
  const configPath = join(dir, 'exabgp.conf');
  const helperPython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findExecutable('python3');
  execFileSync(findExecutable('mkfifo'), [fifoPath]);
  writeFileSync(helperPath, API_HELPER);
  writeFileSync(eventsPath, '');

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
  writeFileSync(
    configPath,
    [
      'process bmpw-control {',
      `  run ${helperPython} ${helperPath} ${fifoPath} ${eventsPath} ${helperPidPath};`,
      '  encoder json;',
      '}',
      '',
      ...options.sessions.flatMap(neighbor),
    ].join('\n'),
  );

  const fifoFd = openSync(fifoPath, 'r+');
  let fifoOpen = true;
  const closeFifo = (): void => {
    if (fifoOpen) {
      fifoOpen = false;
      closeSync(fifoFd);
    }
  };
  const stopHelper = (): void => {
    try {
      const pid = Number(readFileSync(helperPidPath, 'utf8').trim());
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
  const command = async (line: string): Promise<void> => {
    if (!fifoOpen || !proc.running()) throw new Error(`${name} is not running; cannot send '${line}'`);
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
      throw new Error(`${name} rejected an API command ('${line}' or one sent concurrently)\n${proc.logTail(10)}`);
    }
  };
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
    stop: async () => {
      await proc.stop();
      stopHelper();
      closeFifo();
    },
    logTail: (lines) => proc.logTail(lines),
  };
}
