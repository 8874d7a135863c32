/**
 * pmacct's stand-alone BMP collector, pmbmpd (Debian package pmacct), as the reference the service benchmark
 * compares against. Everything here talks to 127.0.0.1 only.
 *
 * Configuration (keys from /usr/share/doc/pmacct/CONFIG-KEYS; the same in `pmbmpd -h`):
 *   daemonize: false             we own the process and read its /proc entries
 *   bmp_daemon_ip / _port        loopback listener
 *   bmp_daemon_max_peers         default 10: raised so the 100-connection run is not refused
 *   bmp_daemon_msglog_file       streamed JSON log: one line per prefix of every Route Monitoring message, plus one
 *                                per Peer Up/Down, Initiation, Termination, Stats. `$bmp_router` makes one file per
 *                                router address (pmbmpd writes 127.0.0.5 as 127_0_0_5).
 *   bmp_daemon_msglog_output     json (the default; stated for clarity)
 *   logfile                      pmbmpd's own log, kept in the temp dir
 *
 * Fairness: pmbmpd always keeps its RIB in memory; its output is optional. A user runs it with an output (a msglog
 * file, or Kafka/AMQP, which are not available on a bench machine), so "pmbmpd + msglog file" is the primary
 * reference. Writing ~500 bytes of JSON per prefix is most of its work, so the bench also runs pmbmpd with no
 * output at all, which is the stricter (and less realistic) comparison. Both are reported.
 *
 * Shutdown: pmbmpd blocks SIGTERM; SIGINT is its graceful stop (docs/SIGNALS) and flushes the msglog. It can take
 * a few seconds to notice the signal, so we wait, then SIGKILL.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCpuTimes } from './child-stats.js';

export const PMBMPD_CANDIDATES = ['/usr/sbin/pmbmpd', '/usr/bin/pmbmpd'] as const;

export type PmbmpdAvailability = { readonly ok: true; readonly path: string; readonly version: string } | { readonly ok: false; readonly reason: string };

export function findPmbmpd(): string | undefined {
  return PMBMPD_CANDIDATES.find((path) => existsSync(path));
}

function pmbmpdVersion(path: string): string {
  try {
    // `pmbmpd -V` prints e.g. "pmacct BMP Collector Daemon, pmbmpd 1.7.7-git [RELEASE]" first.
    const out = execFileSync(path, ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return out.split('\n')[0]?.trim() ?? 'unknown version';
  } catch {
    return 'unknown version';
  }
}

/**
 * pmbmpd's path, installing the Debian package when it is missing and we are root. Without root, the reason says
 * which command to run.
 */
export function ensurePmbmpd(log: (line: string) => void = () => {}): PmbmpdAvailability {
  let path = findPmbmpd();
  if (path === undefined) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot) return { ok: false, reason: 'pmbmpd not found; install it with: sudo apt-get install -y pmacct' };
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): boolean => {
      try {
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'pmacct'], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 300_000 });
        return true;
      } catch {
        return false;
      }
    };
    log('pmbmpd not found: apt-get install -y pmacct');
    if (!install()) {
      log('apt-get install failed: apt-get update, then retrying');
      try {
        execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 300_000 });
      } catch {
        // reported by the retry below
      }
      if (!install()) return { ok: false, reason: 'pmbmpd not found and `apt-get install -y pmacct` failed' };
    }
    path = findPmbmpd();
    if (path === undefined) return { ok: false, reason: 'pmacct installed but no pmbmpd binary in /usr/sbin or /usr/bin' };
  }
  return { ok: true, path, version: pmbmpdVersion(path) };
}

// ---------------------------------------------------------------------------------------------------------------
// Loopback TCP queues, from /proc/net/tcp (IPv4; proc(5)): "sl local rem st tx_queue:rx_queue ...", hex fields.

interface TcpEntry {
  readonly localPort: number;
  readonly remotePort: number;
  readonly state: number;
  readonly txQueue: number;
  readonly rxQueue: number;
}

const TCP_ESTABLISHED = 0x01;
const TCP_LISTEN = 0x0a;

function readTcpTable(): TcpEntry[] {
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return [];
  }
  const entries: TcpEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [txHex, rxHex] = f[4].split(':');
    entries.push({
      localPort: parseInt(f[1].split(':')[1], 16),
      remotePort: parseInt(f[2].split(':')[1], 16),
      state: parseInt(f[3], 16),
      txQueue: parseInt(txHex, 16),
      rxQueue: parseInt(rxHex, 16),
    });
  }
  return entries;
}

export function isListening(port: number): boolean {
  return readTcpTable().some((e) => e.state === TCP_LISTEN && e.localPort === port);
}

/**
 * Bytes still in flight to the collector on `port`: what it has not read yet (Recv-Q of its sockets) plus what
 * the senders' kernels hold (Send-Q of sockets whose remote port is `port`). Same numbers as `ss -tn`.
 */
export function bytesInFlight(port: number): number {
  let bytes = 0;
  for (const e of readTcpTable()) {
    if (e.state !== TCP_ESTABLISHED) continue;
    if (e.localPort === port) bytes += e.rxQueue;
    else if (e.remotePort === port) bytes += e.txQueue;
  }
  return bytes;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface IdleWaitOptions {
  /** True once every byte of the stream(s) has been handed to the kernel. */
  readonly sendDone: () => boolean;
  readonly pollMs?: number;
  /** How long CPU time must stay flat, with nothing in flight, before the collector counts as done. */
  readonly quietMs?: number;
  readonly timeoutMs: number;
}

export interface IdleWaitResult {
  /** performance.now() of the last poll at which the collector was still working. */
  readonly lastBusyAt: number;
  readonly timedOut: boolean;
}

/**
 * When has a collector that tells us nothing finished ingesting? pmbmpd has no counter we can poll cheaply, and
 * counting msglog lines while it runs would steal CPU from it on a 2-core machine. So: poll every `pollMs`
 *   1. the senders have written everything (sendDone),
 *   2. no byte is left in the loopback sockets (Recv-Q on pmbmpd's side, Send-Q on ours: bytesInFlight), and
 *   3. pmbmpd's CPU time (utime + stime, 10 ms ticks) has not grown since the previous poll.
 * Once all three have held for `quietMs`, the work ended at the last poll that saw it busy: `lastBusyAt` (so the
 * measured wall time is at most one poll interval late). Completeness is checked afterwards, from the msglog.
 */
export async function waitUntilIdle(pid: number, port: number, options: IdleWaitOptions): Promise<IdleWaitResult> {
  const pollMs = options.pollMs ?? 50;
  const quietMs = options.quietMs ?? 600;
  const deadline = performance.now() + options.timeoutMs;
  let lastCpu = readCpuTimes(pid)?.cpuSeconds ?? 0;
  let lastBusyAt = performance.now();
  for (;;) {
    await sleep(pollMs);
    const now = performance.now();
    const cpu = readCpuTimes(pid)?.cpuSeconds;
    if (cpu === undefined) return { lastBusyAt, timedOut: true }; // the process died
    const busy = cpu !== lastCpu || !options.sendDone() || bytesInFlight(port) > 0;
    lastCpu = cpu;
    if (busy) lastBusyAt = now;
    else if (now - lastBusyAt >= quietMs) return { lastBusyAt, timedOut: false };
    if (now > deadline) return { lastBusyAt, timedOut: true };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The daemon

export interface PmbmpdOptions {
  readonly path: string;
  readonly port: number;
  /** Write the JSON msglog (one file per router address); false runs pmbmpd with no output. */
  readonly msglog: boolean;
  readonly maxPeers: number;
}

export class PmbmpdProcess {
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  static async start(options: PmbmpdOptions): Promise<PmbmpdProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-bench-pmbmpd-'));
    const lines = [
      'daemonize: false',
      'bmp_daemon_ip: 127.0.0.1',
      `bmp_daemon_port: ${options.port}`,
      `bmp_daemon_max_peers: ${options.maxPeers}`,
      `logfile: ${join(dir, 'pmbmpd.log')}`,
    ];
    if (options.msglog) lines.push(`bmp_daemon_msglog_file: ${join(dir, 'msglog-$bmp_router.json')}`, 'bmp_daemon_msglog_output: json');
    const config = join(dir, 'pmbmpd.conf');
    writeFileSync(config, `${lines.join('\n')}\n`);
    const out = openSync(join(dir, 'stdout.log'), 'w');
    const child = spawn(options.path, ['-f', config], { cwd: dir, stdio: ['ignore', out, out] });
    closeSync(out);
    const daemon = new PmbmpdProcess(child, dir, options.port);
    const deadline = performance.now() + 15_000;
    while (!isListening(options.port)) {
      if (daemon.exited || performance.now() > deadline) {
        await daemon.stop();
        throw new Error(`pmbmpd did not start listening on 127.0.0.1:${options.port}; its log:\n${daemon.logTail()}`);
      }
      await sleep(50);
    }
    return daemon;
  }

  logTail(lines = 20): string {
    for (const name of ['pmbmpd.log', 'stdout.log']) {
      try {
        const text = readFileSync(join(this.dir, name), 'utf8').trim();
        if (text) return text.split('\n').slice(-lines).join('\n');
      } catch {
        // try the next one
      }
    }
    return '(no log)';
  }

  /** Graceful stop (SIGINT, which also flushes the msglog), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGINT');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([this.exitPromise, timer])) === 'timeout' && !this.exited) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  /** Msglog files by router address ("127.0.0.5"). */
  msglogFiles(): Map<string, string> {
    const files = new Map<string, string>();
    for (const name of readdirSync(this.dir)) {
      const match = /^msglog-(\d+)_(\d+)_(\d+)_(\d+)\.json$/.exec(name);
      if (match) files.set(match.slice(1, 5).join('.'), join(this.dir, name));
    }
    return files;
  }

  /** Removes the temp dir (msglogs are hundreds of MB). Call after stop(). */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The line pmbmpd writes for each prefix (announced or withdrawn) of a Route Monitoring message. */
const ROUTE_MONITOR_MARK = Buffer.from('"bmp_msg_type": "route_monitor"');

/** Number of per-prefix Route Monitoring lines in a msglog file, read in blocks so memory stays flat. */
export function countRouteMonitorLines(file: string): number {
  const fd = openSync(file, 'r');
  const block = Buffer.allocUnsafe(4 << 20);
  const keep = ROUTE_MONITOR_MARK.length - 1;
  let count = 0;
  let carried = 0; // bytes at the start of `block` left over from the previous read
  try {
    for (;;) {
      const read = readSync(fd, block, carried, block.length - carried, null);
      if (read === 0) break;
      const end = carried + read;
      const view = block.subarray(0, end);
      for (let at = view.indexOf(ROUTE_MONITOR_MARK); at >= 0; at = view.indexOf(ROUTE_MONITOR_MARK, at + ROUTE_MONITOR_MARK.length)) count++;
      // Keep the tail that could be the start of a mark split across reads (it cannot contain a whole mark).
      carried = Math.min(keep, end);
      block.copy(block, 0, end - carried, end);
    }
  } finally {
    closeSync(fd);
  }
  return count;
}
