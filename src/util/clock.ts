/** Injectable time, so rules, sinks and tests can run on fake time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
