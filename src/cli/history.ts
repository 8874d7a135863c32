/**
 * `bmpwatch history APPLIANCE` and `bmpwatch prefixes APPLIANCE`: what an appliance did, from the history store
 * the configuration names (InfluxDB, or the embedded store). APPLIANCE is a session address, a BGP identifier or
 * a configured appliance name; the history follows the appliance across addresses (same BGP identifier and AS).
 *
 * Exit codes: 0 answered (even with no events in the range), 1 unknown appliance or unreachable store,
 * 2 bad arguments or configuration.
 */
import { formatTable } from './format.js';
import { parseTimeArg, parseTimeRange } from './time-arg.js';
import { loadConfigFile, loadConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { HistoryEvent } from '../store/history-event.js';
import { applianceHistory, prefixesAt, resolveAppliance, UnknownApplianceError, type HistoryBackend, type ResolvedAppliance } from '../store/history.js';
import { openHistoryBackend, type InfluxBackendFactory } from '../store/open-history.js';

export interface HistoryIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Record<string, string | undefined>;
  readonly now: () => number;
  readonly influx?: InfluxBackendFactory;
}

export interface HistoryOptions {
  readonly config?: string;
  readonly since?: string;
  readonly until?: string;
  readonly router?: string;
  readonly json?: boolean;
  readonly limit?: number;
}

export const DEFAULT_HISTORY_LIMIT = 10_000;

class UsageError extends Error {}

function loadConfig(path: string | undefined, env: Record<string, string | undefined>): Config {
  const result = path === undefined ? loadConfigText('', env) : loadConfigFile(path, env);
  if (!result.ok) {
    throw new UsageError(`invalid configuration${path ? ` in ${path}` : ''}:\n${result.problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
  }
  return result.config;
}

async function withBackend(options: { config?: string }, io: HistoryIo, body: (backend: HistoryBackend, config: Config) => Promise<void>): Promise<number> {
  let backend: HistoryBackend | undefined;
  try {
    const config = loadConfig(options.config, io.env);
    backend = await openHistoryBackend(config, io.influx);
    await body(backend, config);
    return 0;
  } catch (error) {
    io.stderr.write(`bmpwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await backend?.close().catch(() => undefined);
  }
}

function describeAppliance(appliance: ResolvedAppliance): string {
  const identities = appliance.identities.map((identity) => `${identity.address} AS${identity.as} id ${identity.bgpId}`);
  return `${appliance.label}: ${identities.join(', ')}`;
}

/** The JSON form of one event: stable field names, ISO 8601 time, absent fields left out. */
export function eventJson(event: HistoryEvent): Record<string, unknown> {
  const { time, ...rest } = event;
  return { time: new Date(time).toISOString(), ...rest };
}

function shortTable(table: string | undefined): string {
  switch (table) {
    case 'adj-rib-in-pre':
      return 'pre';
    case 'adj-rib-in-post':
      return 'post';
    default:
      return table ?? '';
  }
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}

function eventDetail(event: HistoryEvent): string {
  const parts: string[] = [];
  if (event.nextHop !== undefined) parts.push(`next hop ${event.nextHop}`);
  if (event.asPath !== undefined) parts.push(`AS path ${event.asPath === '' ? '(empty)' : event.asPath}`);
  if (event.rule !== undefined) parts.push(`${event.severity ?? ''} ${event.rule}`.trim());
  if (event.detail !== undefined) parts.push(event.detail);
  if (event.durationMs !== undefined) parts.push(`was up ${formatDuration(event.durationMs)}`);
  return parts.join('; ');
}

/**
 * Table rows; a run of initial-sync announcements of one session and table (a route server re-sending its table)
 * is one row, since the prefixes themselves are no change.
 */
export function timelineRows(events: readonly HistoryEvent[]): string[][] {
  const rows: string[][] = [];
  let i = 0;
  while (i < events.length) {
    const event = events[i]!;
    if (event.type === 'route-announced' && event.sync) {
      let j = i + 1;
      while (j < events.length) {
        const next = events[j]!;
        if (!(next.type === 'route-announced' && next.sync && next.routerAddress === event.routerAddress && next.peer === event.peer && next.table === event.table)) break;
        j++;
      }
      const count = j - i;
      rows.push([new Date(event.time).toISOString(), event.router, 'initial-sync', event.peer ?? '', shortTable(event.table), count === 1 ? (event.prefix ?? '') : `${count} prefixes`, count === 1 ? eventDetail(event) : 'table re-sent after (re)connect']);
      i = j;
      continue;
    }
    rows.push([new Date(event.time).toISOString(), event.router, event.type, event.peer ?? '', shortTable(event.table), event.prefix ?? '', eventDetail(event)]);
    i++;
  }
  return rows;
}

export async function runHistory(query: string, options: HistoryOptions, io: HistoryIo): Promise<number> {
  const range = parseTimeRange(options, io.now());
  if (typeof range === 'string') {
    io.stderr.write(`bmpwatch: ${range}\n`);
    return 2;
  }
  const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
  return withBackend(options, io, async (backend, config) => {
    const appliance = await resolveApplianceOrExplain(backend, query, range, config);
    const events = await applianceHistory(backend, appliance, { ...range, limit, ...(options.router === undefined ? {} : { router: options.router }) });
    if (options.json) {
      for (const event of events) io.stdout.write(`${JSON.stringify(eventJson(event))}\n`);
      return;
    }
    io.stdout.write(`${describeAppliance(appliance)}\n${new Date(range.from).toISOString()} to ${new Date(range.to).toISOString()}: ${events.length} event${events.length === 1 ? '' : 's'} (${backend.name})\n\n`);
    if (events.length > 0) io.stdout.write(formatTable(['TIME', 'ROUTER', 'EVENT', 'PEER', 'TABLE', 'PREFIX', 'DETAIL'], timelineRows(events)));
    if (events.length >= limit) io.stderr.write(`bmpwatch: showing the first ${limit} events; narrow --since/--until or raise --limit\n`);
  });
}

export async function runPrefixes(query: string, options: { config?: string; at?: string; router?: string; json?: boolean }, io: HistoryIo): Promise<number> {
  const at = parseTimeArg(options.at ?? 'now', io.now());
  if (typeof at === 'string') {
    io.stderr.write(`bmpwatch: --at: ${at}\n`);
    return 2;
  }
  return withBackend(options, io, async (backend, config) => {
    const appliance = await resolveApplianceOrExplain(backend, query, { from: 0, to: at }, config);
    const prefixes = await prefixesAt(backend, appliance, at, options.router);
    if (options.json) {
      io.stdout.write(`${JSON.stringify(prefixes.map((p) => ({ ...p, since: new Date(p.since).toISOString() })), null, 2)}\n`);
      return;
    }
    io.stdout.write(`${describeAppliance(appliance)}\nannounced at ${new Date(at).toISOString()}: ${prefixes.length} route${prefixes.length === 1 ? '' : 's'}\n\n`);
    if (prefixes.length > 0) {
      io.stdout.write(
        formatTable(
          ['ROUTER', 'PEER', 'TABLE', 'PREFIX', 'NEXT HOP', 'AS PATH', 'SINCE'],
          prefixes.map((p) => [p.router, p.peer, shortTable(p.table), p.pathId === undefined ? p.prefix : `${p.prefix} (path ${p.pathId})`, p.nextHop ?? '', p.asPath ?? '', new Date(p.since).toISOString()]),
        ),
      );
    }
  });
}

async function resolveApplianceOrExplain(backend: HistoryBackend, query: string, range: { from: number; to: number }, config: Config): Promise<ResolvedAppliance> {
  try {
    return await resolveAppliance(backend, query, range, config.appliances ?? []);
  } catch (error) {
    if (error instanceof UnknownApplianceError && !error.configured) {
      const known = (config.appliances ?? []).map((appliance) => appliance.name);
      throw new Error(`${error.message}${known.length > 0 ? `; configured appliances: ${known.join(', ')}` : ''}`, { cause: error });
    }
    throw error;
  }
}
