/**
 * RFC 2439 figure of merit in "test mode" (RFC 7196 §1: compute the penalty, never suppress): a penalty decays
 * exponentially with a half-life, each bad event adds to it, and thresholds with hysteresis turn it into alert
 * levels. Pure arithmetic; time is passed in.
 *
 *   value(t) = value(t0) × 2^(-(t - t0) / halfLife),   capped at maxPenalty (RFC 2439 §4.2 "ceiling").
 *
 * Levels: warning at warningThreshold, critical at criticalThreshold; once raised, the level stays until the
 * value decays below clearThreshold (the vendors' "reuse" threshold), so an alert does not flap with its penalty.
 */

export interface Merit {
  readonly value: number;
  /** When `value` was computed (ms). */
  readonly at: number;
}

export interface MeritScale {
  readonly halfLifeMs: number;
  readonly maxPenalty: number;
}

export const ZERO_MERIT: Merit = { value: 0, at: 0 };

export function decayed(merit: Merit, now: number, scale: MeritScale): number {
  if (merit.value === 0 || now <= merit.at) return merit.value;
  return merit.value * Math.pow(2, -(now - merit.at) / scale.halfLifeMs);
}

export function addPenalty(merit: Merit, penalty: number, now: number, scale: MeritScale): Merit {
  return { value: Math.min(scale.maxPenalty, decayed(merit, now, scale) + penalty), at: now };
}

/** How long until `value` decays below `threshold` (ms; 0 if it already is). */
export function timeToDecay(value: number, threshold: number, scale: MeritScale): number {
  if (value < threshold || threshold <= 0) return 0;
  return Math.ceil(scale.halfLifeMs * Math.log2(value / threshold));
}

/**
 * Counting one event once although several route servers (and the pre- and post-policy views of one) report it:
 * an event of the same kind within `windowMs` of the last counted one, from a source that has not reported since
 * then, is the same event seen again. A source reporting twice counts twice: that is a real repeat.
 */
export class EventDeduper {
  private readonly last = new Map<string, { at: number; sources: Set<string> }>();

  /** True when this (kind, source) report should be counted. */
  count(kind: string, source: string, now: number, windowMs: number): boolean {
    const last = this.last.get(kind);
    if (last !== undefined && now - last.at <= windowMs && !last.sources.has(source)) {
      last.sources.add(source);
      return false;
    }
    this.last.set(kind, { at: now, sources: new Set([source]) });
    return true;
  }
}
