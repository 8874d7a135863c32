/**
 * `bmpwatch alerts` and `bmpwatch silence add|list|expire`: the running collector's alerts and silences, through
 * its API (--api, else $BMPWATCH_API, else 127.0.0.1:11080). Alert state itself lives in the embedded store and
 * survives restarts; the API is the one writer, so silences apply at once.
 */
import type { AlertView, SilenceView } from '../api/alert-views.js';
import { formatTable } from './format.js';
import { apiBase, getJson, type LiveIo } from './live.js';
import { parseTimeArg } from './time-arg.js';

export interface AlertsIo extends LiveIo {
  readonly now: () => number;
}

function fail(io: LiveIo, error: unknown, code = 1): number {
  io.stderr.write(`bmpwatch: ${error instanceof Error ? error.message : String(error)}\n`);
  return code;
}

export async function runAlerts(options: { api?: string; state?: string; since?: string; json?: boolean }, io: AlertsIo): Promise<number> {
  if (options.state !== undefined && options.state !== 'firing' && options.state !== 'resolved') return fail(io, '--state is firing or resolved', 2);
  const query = new URLSearchParams();
  if (options.state) query.set('state', options.state);
  if (options.since !== undefined) {
    const since = parseTimeArg(options.since, io.now());
    if (typeof since === 'string') return fail(io, `--since: ${since}`, 2);
    query.set('since', String(since));
  }
  try {
    const alerts = await getJson<AlertView[]>(apiBase(options.api, io.env), `/api/alerts${query.size > 0 ? `?${query.toString()}` : ''}`);
    if (options.json) {
      for (const alert of alerts) io.stdout.write(`${JSON.stringify(alert)}\n`);
      return 0;
    }
    if (alerts.length === 0) {
      io.stdout.write('no alerts\n');
      return 0;
    }
    const rows = alerts.map((a) => [
      a.state === 'firing' ? (a.silencedBy ? 'silenced' : 'FIRING') : 'resolved',
      a.severity,
      a.rule,
      a.router ?? '',
      a.peer ?? '',
      a.prefix ?? '',
      a.startsAt,
      a.endsAt ?? '',
      a.summary,
    ]);
    io.stdout.write(formatTable(['STATE', 'SEVERITY', 'RULE', 'ROUTER', 'PEER', 'PREFIX', 'STARTS', 'ENDS', 'SUMMARY'], rows));
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}

export async function runSilenceAdd(
  matchers: readonly string[],
  options: { api?: string; duration: string; reason?: string; by?: string; json?: boolean },
  io: AlertsIo,
): Promise<number> {
  const now = io.now();
  const start = parseTimeArg(options.duration, now);
  if (typeof start === 'string' || start >= now) return fail(io, `--duration: "${options.duration}" is not a duration (30m, 2h, 1d)`, 2);
  if (!options.reason) return fail(io, '--reason is required: say why (it is shown with every muted alert)', 2);
  try {
    const silence = await getJson<SilenceView>(apiBase(options.api, io.env), '/api/silences', {
      method: 'POST',
      body: { matchers, reason: options.reason, createdBy: options.by ?? io.env.USER ?? 'cli', durationSeconds: (now - start) / 1000 },
    });
    io.stdout.write(options.json ? `${JSON.stringify(silence)}\n` : `silence ${silence.id} until ${silence.endsAt}: ${silence.matchers.join(', ')}\n`);
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}

export async function runSilenceList(options: { api?: string; json?: boolean }, io: AlertsIo): Promise<number> {
  try {
    const silences = await getJson<SilenceView[]>(apiBase(options.api, io.env), '/api/silences');
    if (options.json) io.stdout.write(`${JSON.stringify(silences, null, 2)}\n`);
    else if (silences.length === 0) io.stdout.write('no silences\n');
    else io.stdout.write(formatTable(['ID', 'MATCHERS', 'UNTIL', 'BY', 'REASON'], silences.map((s) => [s.id, s.matchers.join(', '), s.endsAt, s.createdBy, s.reason])));
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}

export async function runSilenceExpire(id: string, options: { api?: string }, io: AlertsIo): Promise<number> {
  try {
    await getJson(apiBase(options.api, io.env), `/api/silences/${encodeURIComponent(id)}`, { method: 'DELETE' });
    io.stdout.write(`silence ${id} ended\n`);
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}
