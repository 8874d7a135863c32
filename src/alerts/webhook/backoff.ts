/**
 * Retry timing for webhook deliveries.
 *
 * Exponential backoff with "equal jitter": attempt n waits between half and all of min(max, initial × 2^(n-1)).
 * The jitter spreads retries of many deliveries to one recovering receiver; the floor of one half keeps the
 * exponential spacing (full jitter could retry at once). Defaults 1 s initial, 5 min cap: with 8 attempts a
 * delivery is retried for about 5-10 minutes, long enough to ride out a receiver restart.
 *
 * Retry-After (RFC 9110 §10.2.3) on 429 and 503 takes precedence: delay-seconds or an HTTP-date, capped.
 */

export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, initialMs * Math.pow(2, Math.max(0, attempt - 1)));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/** Milliseconds to wait according to a Retry-After value, or undefined if it is absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
