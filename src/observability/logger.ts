/**
 * One pino root logger; child loggers carry `router` and `peer`. Secrets never reach the log: the redaction
 * paths cover every config field that may hold one (passwords, tokens, webhook secrets).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACTED_PATHS = ['password', '*.password', '*.*.password', 'token', '*.token', '*.*.token', 'secret', '*.secret', '*.*.secret', 'authorization', '*.authorization'];

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'bmpwatch' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
