/**
 * `bmpwatch serve` as operators run it, for the fault tests: the built CLI (dist/src/main.js) as a child process
 * with a config file in a temporary directory, on fixed loopback ports (chosen free once, kept across restarts so
 * route servers reconnect to the same place), JSON log lines parsed from stdout, the live API and /metrics.
 *
 *   const dir = faultDir('kill');                    temp dir, removed by cleanupFaultDirs()
 *   const serve = await ServeChild.start({ dir, config: (ports) => yaml });
 *   await serve.get('/api/routers'); await serve.metrics();
 *   await serve.kill('SIGKILL');                     then ServeChild.start() again with the same dir: same ports
 *
 * Only processes started here are ever signalled, by PID. BMPWATCH_FAULTS_MAIN runs another build's main.js (e.g.
 * a copy of dist/ with one module from before a fix, to check that a test catches the bug).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../helpers/ports.js';

export const MAIN = process.env.BMPWATCH_FAULTS_MAIN ?? resolve('dist/src/main.js');

export interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface Ports {
  readonly bmp: number;
  readonly api: number;
}

export interface ServeStartOptions {
  /** Working directory, config file and (by default) data directory. */
  readonly dir: string;
  /** The config text; `listen` is prepended (127.0.0.1 on `ports`). */
  readonly config: (ports: Ports, dir: string) => string;
  /** Fixed ports (a restart passes the previous child's). Default: free ports now. */
  readonly ports?: Ports;
  /** Extra node flags (e.g. --expose-gc). */
  readonly nodeArgs?: readonly string[];
  readonly startTimeoutMs?: number;
}

/** A Prometheus sample: name, labels, value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Metrics {
  constructor(readonly samples: readonly Sample[]) {}

  static parse(text: string): Metrics {
    const samples: Sample[] = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
      if (!match) continue;
      const labels: Record<string, string> = {};
      for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
      samples.push({ name: match[1], labels, value: Number(match[4]) });
    }
    return new Metrics(samples);
  }

  /** Sum of a metric over the label sets matching `labels` (0 when absent). */
  sum(name: string, labels: Readonly<Record<string, string>> = {}): number {
    let total = 0;
    for (const s of this.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }
}

const dirs: string[] = [];

/** A fresh temp directory `bmpw-fault-NAME-XXXXXX`. */
export function faultDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bmpw-fault-${name}-`));
  dirs.push(dir);
  return dir;
}

export function cleanupFaultDirs(): void {
  if (process.env.BMPWATCH_KEEP_DAEMON_DIRS) return;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const running = new Set<ServeChild>();

/** SIGKILLs every serve child still running (afterAll). */
export async function killAllServeChildren(): Promise<void> {
  for (const child of [...running]) await child.kill('SIGKILL');
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls `check` until it returns something other than undefined/false; throws with `context()` on timeout. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs: number, context: () => string = () => '', intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : `; last attempt threw: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}\n${context()}`);
    }
    await sleep(intervalMs);
  }
}

export class ServeChild {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly api: string;

  private constructor(
    readonly child: ChildProcess,
    readonly ports: Ports,
    readonly dir: string,
  ) {
    this.api = `http://127.0.0.1:${ports.api}`;
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    let pending = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.stderr += `(unparsed stdout) ${line}\n`;
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  static async start(options: ServeStartOptions): Promise<ServeChild> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the fault tests`);
    const ports = options.ports ?? { bmp: await freePort(), api: await freePort() };
    const configPath = join(options.dir, 'bmpwatch.yaml');
    const listen = ['listen:', `  bmp: { host: 127.0.0.1, port: ${ports.bmp} }`, `  api: { host: 127.0.0.1, port: ${ports.api} }`, ''].join('\n');
    writeFileSync(configPath, `${listen}${options.config(ports, options.dir)}\n`);
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN, 'serve', '--config', configPath], { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const serve = new ServeChild(child, ports, options.dir);
    running.add(serve);
    void serve.exited.then(() => running.delete(serve));
    try {
      await serve.waitForLog((l) => l.event === 'started', 'serve to log that it started', options.startTimeoutMs ?? 30_000);
    } catch (error) {
      await serve.kill('SIGKILL');
      throw error;
    }
    return serve;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(lines = 60): string {
    return `collector log (last ${lines}):\n${this.logs.slice(-lines).map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr}`;
  }

  async waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs = 15_000, from = 0): Promise<LogLine> {
    await until(() => this.logs.slice(from).some(predicate) || !this.alive, what, timeoutMs, () => this.output());
    const line = this.logs.slice(from).find(predicate);
    if (line === undefined) throw new Error(`collector exited while waiting for ${what}\n${this.output()}`);
    return line;
  }

  async get<T>(path: string, timeoutMs = 20_000): Promise<T> {
    const response = await fetch(`${this.api}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async metrics(timeoutMs = 20_000): Promise<Metrics> {
    const response = await fetch(`${this.api}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
    return Metrics.parse(await response.text());
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}
