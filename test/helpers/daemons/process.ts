/**
 * Child processes for integration tests that run real daemons (FRR bgpd, GoBGP, ExaBGP, socat relays).
 *
 * - spawnDaemon() starts one program with stdout and stderr going to log files in a directory of its own, in a
 *   process group of its own (so a daemon's forked children go with it), optionally inside a network namespace
 *   (`ip netns exec NS …`, which execs the program: the PID we track is the daemon's).
 * - stop() sends SIGTERM to that process group only, then SIGKILL after a timeout; nothing else is ever signalled.
 * - A CleanupRegistry collects every process and every other undo step (namespaces, temp dirs) a test started, so
 *   one `afterAll(() => cleanup.runAll())` undoes everything, in reverse order, even after a failure. On worker exit
 *   whatever is left is killed synchronously as a last resort.
 * - waitFor() polls a condition and, on timeout, throws an error that says what it waited for, the last failure
 *   of the condition and the tail of every tracked daemon's logs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnDaemonOptions {
  /** Short name for logs and error messages ("bgpd", "exabgp 127.0.1.11"). */
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  /** Directory for the log files (and the default cwd). Default: a new temp dir (removed by the registry). */
  readonly dir?: string;
  readonly cwd?: string;
  /** Added to (and overriding) the test process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run inside this network namespace (`ip netns exec NS command …`). */
  readonly netns?: string;
  /** Milliseconds between SIGTERM and SIGKILL in stop(). Default 5000. */
  readonly stopTimeoutMs?: number;
  /** Where the process is tracked for cleanup. Default: defaultRegistry. */
  readonly registry?: CleanupRegistry;
  /** Log file base name inside dir: NAME.stdout.log and NAME.stderr.log. Default: derived from name. */
  readonly logName?: string;
}

export interface DaemonProcess {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  exitInfo(): ExitInfo | undefined;
  /** stdout and stderr as written so far. */
  logs(): string;
  /** The last lines of stdout and stderr, labelled, for error messages. */
  logTail(lines?: number): string;
  /** Sends a signal to the process group (no-op once it exited). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after timeoutMs if still running; resolves once the process exited. Idempotent. */
  stop(timeoutMs?: number): Promise<ExitInfo>;
  /** SIGKILL now; resolves once the process exited. */
  kill(): Promise<ExitInfo>;
}

type CleanupStep = { readonly what: string; readonly run: () => Promise<void> | void; readonly sync?: () => void };

/**
 * Undo steps registered by launchers. runAll() runs them last-registered first, waits for each, keeps going after
 * a failing step and throws one error naming every step that failed.
 */
export class CleanupRegistry {
  private steps: CleanupStep[] = [];
  private readonly processes = new Set<DaemonProcess>();

  /** Registers an undo step; returns a function that unregisters it (for launchers whose own stop() ran it). */
  defer(what: string, run: () => Promise<void> | void, sync?: () => void): () => void {
    const step: CleanupStep = { what, run, sync };
    this.steps.push(step);
    ensureExitHook();
    return () => {
      this.steps = this.steps.filter((s) => s !== step);
    };
  }

  track(proc: DaemonProcess): void {
    this.processes.add(proc);
    const untrack = this.defer(`stop ${proc.name} (pid ${proc.pid})`, async () => {
      await proc.stop();
    }, () => {
      if (proc.running()) signalGroup(proc.pid, 'SIGKILL');
    });
    void proc.exited.then(() => {
      // Keep exited processes listed for log tails, but drop their undo step.
      untrack();
    });
  }

  /** Every process tracked so far, running or not (for log tails). */
  trackedProcesses(): DaemonProcess[] {
    return [...this.processes];
  }

  /** Log tails of every tracked process, for error messages. */
  logTails(lines = 15): string {
    return this.trackedProcesses()
      .map((p) => p.logTail(lines))
      .join('\n');
  }

  async runAll(): Promise<void> {
    const failures: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop() as CleanupStep;
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.processes.clear();
    if (failures.length > 0) throw new Error(`cleanup failed:\n  ${failures.join('\n  ')}`);
  }

  /** Last resort on process exit: SIGKILL what is left and run synchronous undo steps. */
  runAllSync(): void {
    for (const step of [...this.steps].reverse()) {
      try {
        step.sync?.();
      } catch {
        // best effort: the worker is exiting
      }
    }
    this.steps = [];
  }
}

/** The registry launchers use unless given another. Call `defaultRegistry.runAll()` in afterAll. */
export const defaultRegistry = new CleanupRegistry();
const registries = new Set<CleanupRegistry>([defaultRegistry]);
let exitHookInstalled = false;

function sweepAll(): void {
  for (const registry of registries) registry.runAllSync();
}

/**
 * Daemons run in process groups of their own, so a Ctrl-C or a killed test worker would not reach them: on exit
 * and on SIGINT/SIGTERM/SIGHUP, kill what is left, then let the signal take its normal course.
 */
function ensureExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', sweepAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      sweepAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Creates a registry of its own (e.g. per describe block); it is also swept on worker exit. */
export function createRegistry(): CleanupRegistry {
  const registry = new CleanupRegistry();
  registries.add(registry);
  return registry;
}

/** Signals a process group we created (detached: true makes pid == pgid); falls back to the pid alone. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A fresh temp directory `bmpw-PREFIX-XXXXXX`, removed by the registry unless BMPWATCH_KEEP_DAEMON_DIRS is set. */
export function makeTempDir(prefix: string, registry: CleanupRegistry = defaultRegistry): string {
  const dir = mkdtempSync(join(tmpdir(), `bmpw-${prefix}-`));
  if (!process.env.BMPWATCH_KEEP_DAEMON_DIRS) {
    registry.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }), () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}

/** Finds an executable on PATH or in the sbin/lib directories Debian packages use; throws a helpful error. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraDirs, '/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/lib/frr'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${name} not found (looked in ${dirs.join(':')}); run scripts/install-deps.sh as root`);
}

function readTail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-lines).join('\n');
}

export function spawnDaemon(options: SpawnDaemonOptions): DaemonProcess {
  const registry = options.registry ?? defaultRegistry;
  registries.add(registry);
  const dir = options.dir ?? makeTempDir(options.name.replace(/[^A-Za-z0-9.-]+/g, '_'), registry);
  const base = options.logName ?? options.name.replace(/[^A-Za-z0-9.-]+/g, '_');
  const stdoutPath = join(dir, `${base}.stdout.log`);
  const stderrPath = join(dir, `${base}.stderr.log`);
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;

  let command = options.command;
  let args = [...(options.args ?? [])];
  if (options.netns) {
    args = ['netns', 'exec', options.netns, command, ...args];
    command = findExecutable('ip');
  }

  const out = openSync(stdoutPath, 'a');
  const err = openSync(stderrPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd ?? dir,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', out, err],
      detached: true, // own process group: stop() reaches the daemon's children and nothing else
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  let exit: ExitInfo | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (error) => {
      // spawn failures (ENOENT, EACCES): no 'exit' follows
      spawnError = error;
      exit ??= { code: null, signal: null };
      resolve(exit);
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not start ${options.name} (${command} ${args.join(' ')}): no pid`);
  }
  // Do not let a forgotten daemon keep the test worker alive; the exit hook kills it then.
  child.unref();

  let stopping: Promise<ExitInfo> | undefined;
  const proc: DaemonProcess = {
    name: options.name,
    pid,
    dir,
    stdoutPath,
    stderrPath,
    exited,
    running: () => exit === undefined,
    exitInfo: () => exit,
    logs: () => {
      const o = existsSync(stdoutPath) ? readFileSync(stdoutPath, 'utf8') : '';
      const e = existsSync(stderrPath) ? readFileSync(stderrPath, 'utf8') : '';
      return e ? `${o}${o && !o.endsWith('\n') ? '\n' : ''}${e}` : o;
    },
    logTail: (lines = 20) => {
      const state = exit ? `exited code=${exit.code} signal=${exit.signal}` : 'running';
      const o = readTail(stdoutPath, lines);
      const e = readTail(stderrPath, lines);
      const spawnProblem = spawnError ? `\n  spawn error: ${spawnError.message}` : '';
      return `--- ${options.name} (pid ${pid}, ${state}) ${dir}${spawnProblem}\n[stdout]\n${o}\n[stderr]\n${e}`;
    },
    signal: (signal) => {
      if (exit === undefined) signalGroup(pid, signal);
    },
    stop: (timeoutMs = stopTimeoutMs) => {
      stopping ??= (async () => {
        if (exit === undefined) {
          signalGroup(pid, 'SIGTERM');
          const timer = new Promise<'timeout'>((resolve) => {
            const t = setTimeout(() => resolve('timeout'), timeoutMs);
            void exited.then(() => clearTimeout(t));
          });
          if ((await Promise.race([exited, timer])) === 'timeout') signalGroup(pid, 'SIGKILL');
        }
        const info = await exited;
        // The leader is gone; give its children (still in our group) a moment, then make sure.
        for (let i = 0; i < 20 && groupAlive(pid); i++) await sleep(50);
        if (groupAlive(pid)) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        return info;
      })();
      return stopping;
    },
    kill: () => {
      if (exit === undefined) signalGroup(pid, 'SIGKILL');
      return proc.stop(0);
    },
  };
  registry.track(proc);
  return proc;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitForOptions {
  /** What we are waiting for, in words: "bgpd to list 10.128.1.0/29". */
  readonly what: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Whose log tails go into the timeout error. Default: every process in defaultRegistry. */
  readonly logsFrom?: readonly (DaemonProcess | { logTail(lines?: number): string })[] | CleanupRegistry;
  /** Log lines per process in the error. Default 15. */
  readonly logLines?: number;
  /** Extra diagnostics for the error message (e.g. what was seen so far). */
  readonly describe?: () => string;
}

/**
 * Polls `predicate` until it returns a truthy value (returned) or the timeout passes (throws). A predicate that
 * throws counts as "not yet"; its last error is quoted in the timeout error, with the tails of the daemons' logs.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const started = Date.now();
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastValue = value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started >= timeoutMs) break;
    await sleep(intervalMs);
  }
  const lines = options.logLines ?? 15;
  const source = options.logsFrom ?? defaultRegistry;
  const tails = source instanceof CleanupRegistry ? source.logTails(lines) : source.map((p) => p.logTail(lines)).join('\n');
  const last = lastError !== undefined
    ? `last attempt threw: ${lastError instanceof Error ? lastError.message : String(lastError)}`
    : `last value: ${JSON.stringify(lastValue)}`;
  let extra = '';
  if (options.describe) {
    try {
      extra = `\n${options.describe()}`;
    } catch (error) {
      extra = `\n(describe() threw: ${String(error)})`;
    }
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}; ${last}${extra}\n${tails}`);
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/**
 * Runs a short command to completion (vtysh, gobgp, ip) with a timeout; never through a shell. Rejects with
 * stdout/stderr in the message when it exits non-zero (unless allowFailure) or times out.
 */
export function run(command: string, args: readonly string[], options: { timeoutMs?: number; allowFailure?: boolean; netns?: string; input?: string } = {}): Promise<RunResult> {
  let cmd = command;
  let argv = [...args];
  if (options.netns) {
    argv = ['netns', 'exec', options.netns, cmd, ...argv];
    cmd = findExecutable('ip');
  }
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => errs.push(b));
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${argv.join(' ')}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8'), code };
      if (signal === 'SIGKILL') {
        reject(new Error(`${cmd} ${argv.join(' ')} timed out after ${timeoutMs} ms\n${result.stdout}${result.stderr}`));
      } else if (code !== 0 && !options.allowFailure) {
        reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}\n${result.stdout}${result.stderr}`.trimEnd()));
      } else {
        resolve(result);
      }
    });
  });
}

/** Synchronous variant for exit-time cleanup only. */
export function runSync(command: string, args: readonly string[]): void {
  spawnSync(command, [...args], { stdio: 'ignore', timeout: 5_000 });
}

/** A short random hex tag for names (namespaces, peer groups) that must not collide across parallel test files. */
export function randomTag(bytes = 3): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}
