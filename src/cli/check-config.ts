/**
 * `bmpwatch check-config FILE`: validate a configuration file without starting anything.
 *
 * Exit code 0 and "FILE: ok" plus a one-line summary on stdout; or exit code 1 and one "PATH: MESSAGE" line per
 * problem on stderr ("(root)" for problems with the whole file, such as YAML syntax errors).
 */
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface CheckConfigIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Record<string, string | undefined>;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function hostPort(endpoint: { host: string; port: number }): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/** One line: what the collector would do with this configuration. */
export function summarizeConfig(config: Config): string {
  const appliances = config.appliances?.length ?? 0;
  const names = config.routers.names?.length ?? 0;
  return [
    plural(config.applianceGroups.length, 'appliance group'),
    plural(appliances, 'appliance'),
    `${plural(config.routers.allowedSources.length, 'allowed router source')} (${plural(names, 'named router')})`,
    `BMP on ${hostPort(config.listen.bmp)}`,
    `API on ${hostPort(config.listen.api)}`,
  ].join(', ');
}

export function runCheckConfig(file: string, io: CheckConfigIo): number {
  const result = loadConfigFile(file, io.env);
  if (!result.ok) {
    io.stderr.write(result.problems.map((problem) => `${problem.path || '(root)'}: ${problem.message}\n`).join(''));
    return 1;
  }
  io.stdout.write(`${file}: ok\n${summarizeConfig(result.config)}\n`);
  return 0;
}
