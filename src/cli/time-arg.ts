/**
 * Time arguments of the history commands: "now", a duration back from now ("90s", "30m", "24h", "7d", "2w"),
 * or an ISO 8601 time ("2026-11-25T14:00:00Z", "2026-11-25"; a time without a zone is UTC, so the same command
 * means the same thing on every machine). Returns a message for anything else.
 */
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+(?:\.\d+)?)([smhdw])$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTimeArg(text: string, now: number): number | string {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  const duration = DURATION.exec(trimmed);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  if (ISO.test(trimmed)) {
    const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) && trimmed.length > 10;
    const time = Date.parse(hasZone ? trimmed : `${trimmed.length === 10 ? `${trimmed}T00:00:00` : trimmed.replace(' ', 'T')}Z`);
    if (!Number.isNaN(time)) return time;
  }
  return `"${text}" is not a time: use now, a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO 8601 time (2026-11-25T14:00:00Z)`;
}

export interface TimeRangeArgs {
  readonly since?: string;
  readonly until?: string;
}

export const DEFAULT_SINCE = '24h';

export function parseTimeRange(args: TimeRangeArgs, now: number): { from: number; to: number } | string {
  const from = parseTimeArg(args.since ?? DEFAULT_SINCE, now);
  if (typeof from === 'string') return `--since: ${from}`;
  const to = parseTimeArg(args.until ?? 'now', now);
  if (typeof to === 'string') return `--until: ${to}`;
  if (from > to) return `--since (${new Date(from).toISOString()}) is after --until (${new Date(to).toISOString()})`;
  return { from, to };
}
