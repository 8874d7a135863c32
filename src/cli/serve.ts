/**
 * `bmpwatch serve [--config FILE] [--listen HOST:PORT] [--api HOST:PORT]`: the main job. Runs until SIGTERM or
 * SIGINT (graceful: sessions closed, state flushed, sinks drained). SIGHUP reloads the config file; a bad new
 * config is logged with every problem and the running one is kept.
 */
import { parseHostPort } from './host-port.js';
import { App } from '../app.js';
import { loadConfigFile, loadConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { systemClock } from '../util/clock.js';

export interface ServeOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly api?: string;
}

export interface ServeIo {
  readonly stderr: NodeJS.WritableStream;
  readonly env: Record<string, string | undefined>;
  /** Where signals come from (process in production; an EventEmitter in tests). */
  readonly signals: NodeJS.EventEmitter;
}

function load(path: string | undefined, env: Record<string, string | undefined>): { config: Config } | { problems: string[] } {
  const result = path === undefined ? loadConfigText('', env) : loadConfigFile(path, env);
  if (result.ok) return { config: result.config };
  return { problems: result.problems.map((problem) => `${problem.path || '(root)'}: ${problem.message}`) };
}

export async function runServe(options: ServeOptions, io: ServeIo): Promise<number> {
  const loaded = load(options.config, io.env);
  if ('problems' in loaded) {
    io.stderr.write(`bmpwatch: invalid configuration${options.config ? ` in ${options.config}` : ''}:\n${loaded.problems.map((p) => `  ${p}\n`).join('')}`);
    return 2;
  }
  const listen = options.listen === undefined ? undefined : parseHostPort(options.listen);
  const api = options.api === undefined ? undefined : parseHostPort(options.api, '127.0.0.1');
  for (const parsed of [listen, api]) {
    if (typeof parsed === 'string') {
      io.stderr.write(`bmpwatch: ${parsed}\n`);
      return 2;
    }
  }
  const logger = createLogger(loaded.config.log.level);
  const app = new App({
    config: loaded.config,
    logger,
    clock: systemClock,
    ...(listen !== undefined && typeof listen !== 'string' && { listen }),
    ...(api !== undefined && typeof api !== 'string' && { api }),
  });
  try {
    const bound = await app.start();
    logger.info({ event: 'started', bmp: bound.bmp, api: bound.api, config: options.config ?? null }, 'bmpwatch running');
  } catch (error) {
    io.stderr.write(`bmpwatch: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    await app.stop();
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'stopping', signal }, 'shutting down');
      app.stop().then(
        () => {
          logger.info({ event: 'stopped' }, 'stopped');
          io.signals.off('SIGHUP', reload);
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ event: 'stop-failed', err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    const reload = (): void => {
      const next = load(options.config, io.env);
      if ('problems' in next) {
        logger.error({ event: 'config-rejected', problems: next.problems }, 'new configuration rejected; keeping the running one');
        return;
      }
      app.reload(next.config);
    };
    io.signals.once('SIGTERM', () => stop('SIGTERM'));
    io.signals.once('SIGINT', () => stop('SIGINT'));
    io.signals.on('SIGHUP', reload);
  });
}
