/**
 * `bmpwatch serve` as operators run it: the built CLI (dist/src/main.js, `npm run build` first) as a child process
 * tracked by a CleanupRegistry (own process group, stopped by PID), its JSON log lines read from its stdout file.
 * The config should ask for port 0 (BMP and API): the ports bound come from the "started" log line.
 *
 *   const serve = await startBmpwatchServe({ configPath, dir });
 *   serve.bmpPort, serve.api                      where route servers connect, the live API base URL
 *   await serve.cli(['history', 'fw-01', '--json', '--config', configPath])   any bmpwatch command, to completion
 *   serve.logLines()                             parsed log lines so far
 *   await serve.stop()                           SIGTERM (graceful: sinks drained), waits for exit
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultRegistry, run, spawnDaemon, waitFor, type CleanupRegistry, type DaemonProcess, type RunResult } from './daemons/process.js';

export const BMPWATCH_MAIN = resolve('dist/src/main.js');

export interface LogLine {
  readonly level: number;
  readonly time?: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface BmpwatchServe {
  readonly process: DaemonProcess;
  readonly bmpPort: number;
  /** http://127.0.0.1:PORT */
  readonly api: string;
  logLines(): LogLine[];
  /** GET API PATH, parsed JSON. */
  get<T>(path: string): Promise<T>;
  /** Runs `node dist/src/main.js ARGS` to completion (allowFailure: the exit code is in the result). */
  cli(args: readonly string[], options?: { allowFailure?: boolean; timeoutMs?: number }): Promise<RunResult>;
  stop(): Promise<void>;
}

export interface BmpwatchServeOptions {
  readonly configPath: string;
  /** Working directory and log directory. */
  readonly dir: string;
  readonly registry?: CleanupRegistry;
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

export function parseLogLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line being written
    }
  }
  return lines;
}

export async function startBmpwatchServe(options: BmpwatchServeOptions): Promise<BmpwatchServe> {
  if (!existsSync(BMPWATCH_MAIN)) throw new Error(`${BMPWATCH_MAIN} is missing: run \`npm run build\` first`);
  const proc = spawnDaemon({
    name: 'bmpwatch serve',
    command: process.execPath,
    args: [BMPWATCH_MAIN, 'serve', '--config', options.configPath],
    dir: options.dir,
    registry: options.registry ?? defaultRegistry,
    logName: 'bmpwatch',
    stopTimeoutMs: 15_000,
    ...(options.env && { env: options.env }),
  });
  const logLines = (): LogLine[] => parseLogLines(proc.logs());
  const started = await waitFor(() => {
    if (!proc.running()) throw new Error(`bmpwatch serve exited: ${JSON.stringify(proc.exitInfo())}`);
    return logLines().find((l) => l.event === 'started');
  }, { what: 'bmpwatch serve to log "started"', timeoutMs: options.startTimeoutMs ?? 30_000, intervalMs: 100, logsFrom: [proc] });
  const bound = started as unknown as { bmp: { port: number }; api: { port: number } };
  const api = `http://127.0.0.1:${bound.api.port}`;
  return {
    process: proc,
    bmpPort: bound.bmp.port,
    api,
    logLines,
    get: async <T>(path: string): Promise<T> => {
      const response = await fetch(`${api}${path}`);
      if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
      return (await response.json()) as T;
    },
    cli: (args, o = {}) => run(process.execPath, [BMPWATCH_MAIN, ...args], { timeoutMs: o.timeoutMs ?? 60_000, allowFailure: o.allowFailure }),
    stop: async () => {
      await proc.stop();
    },
  };
}
