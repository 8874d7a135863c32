/**
 * Silences: time-bounded, matcher-based muting of notifications (alerts still change state, are listed and
 * logged; only webhooks are not sent). All matchers of a silence must match. A silence is active from startsAt
 * (inclusive) to endsAt (exclusive). When it ends while a muted alert still fires, that alert is notified then.
 */
import type { AlertRecord, Silence, SilenceLabel, SilenceMatcher } from './types.js';
import { SILENCE_LABELS } from './types.js';

/** The values of one label on an alert (router matches the main route server and any in `routers`). */
function labelValues(alert: AlertRecord, name: SilenceLabel): string[] {
  switch (name) {
    case 'rule':
      return [alert.rule];
    case 'severity':
      return [alert.severity];
    case 'router':
      return [...new Set([...(alert.router === undefined ? [] : [alert.router]), ...(alert.routers ?? [])])];
    case 'peer':
      return alert.peer === undefined ? [] : [alert.peer.address];
    case 'appliance':
      return alert.appliance === undefined ? [] : alert.appliance.split(', ');
    case 'group':
      return alert.group === undefined ? [] : alert.group.split(', ');
    case 'prefix':
      return alert.prefix === undefined ? [] : [alert.prefix];
    case 'fingerprint':
      return [alert.fingerprint];
    case 'key':
      return [alert.key];
    default: {
      const exhaustive: never = name;
      return exhaustive;
    }
  }
}

const regexCache = new Map<string, RegExp | null>();

function compile(pattern: string): RegExp | null {
  let regex = regexCache.get(pattern);
  if (regex === undefined) {
    try {
      regex = new RegExp(`^(?:${pattern})$`);
    } catch {
      regex = null;
    }
    if (regexCache.size > 1_000) regexCache.clear();
    regexCache.set(pattern, regex);
  }
  return regex;
}

export function matcherMatches(matcher: SilenceMatcher, alert: AlertRecord): boolean {
  const values = labelValues(alert, matcher.name);
  // A missing label has the empty value, as in Alertmanager.
  const candidates = values.length === 0 ? [''] : values;
  const hit = candidates.some((value) => {
    if (!matcher.isRegex) return value === matcher.value;
    return compile(matcher.value)?.test(value) ?? false;
  });
  return matcher.isEqual ? hit : !hit;
}

export function silenceActive(silence: Silence, now: number): boolean {
  return silence.startsAt <= now && now < silence.endsAt;
}

export function silenceMatches(silence: Silence, alert: AlertRecord): boolean {
  return silence.matchers.length > 0 && silence.matchers.every((matcher) => matcherMatches(matcher, alert));
}

/** "rule=route-flap", "appliance=~fw-.*", "severity!=info" → a matcher, or an error message. */
export function parseMatcher(text: string): SilenceMatcher | string {
  const match = /^([a-z]+)\s*(=~|!~|!=|=)\s*(.*)$/.exec(text.trim());
  if (!match) return `"${text}" is not a matcher (NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX)`;
  const [, name, op, rawValue] = match;
  if (!isLabel(name)) return `unknown label "${name}" (labels: ${SILENCE_LABELS.join(', ')})`;
  const value = rawValue.replace(/^"(.*)"$/, '$1');
  const isRegex = op === '=~' || op === '!~';
  if (isRegex && compile(value) === null) return `"${value}" is not a valid regular expression`;
  return { name, value, isRegex, isEqual: op === '=' || op === '=~' };
}

function isLabel(name: string): name is SilenceLabel {
  return SILENCE_LABELS.some((label) => label === name);
}

export function formatMatcher(matcher: SilenceMatcher): string {
  const op = matcher.isRegex ? (matcher.isEqual ? '=~' : '!~') : matcher.isEqual ? '=' : '!=';
  return `${matcher.name}${op}${matcher.value}`;
}
