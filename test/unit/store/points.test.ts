import { describe, expect, it } from 'vitest';
import { NanoClock } from '../../../src/store/influx/points.js';

describe('NanoClock', () => {
  it('never gives two stamps the same value, even when milliseconds come back interleaved', () => {
    const clock = new NanoClock();
    const stamps = [1000, 1000, 1005, 1000, 1005, 999, 1000].map((ms) => clock.stamp(ms));
    expect(new Set(stamps).size).toBe(stamps.length);
    expect(stamps).toEqual(['1000000000', '1000000001', '1005000000', '1000000002', '1005000001', '999000000', '1000000003']);
  });

  it('keeps its memory bounded', () => {
    const clock = new NanoClock(10);
    for (let ms = 0; ms < 1000; ms++) clock.stamp(ms);
    expect(clock.stamp(999)).toBe('999000001');
  });
});
