import { describe, expect, it } from 'vitest';
import { displayName } from '../../../src/collector/router-session.js';

describe('displayName (router names from Initiation sysName)', () => {
  it.each([
    ['rs1.fra', 'rs1.fra'],
    ['rs1\nfake log line', 'rs1 fake log line'],
    ['\u0000\trs\r\n', 'rs'],
    ['rs\\', 'rs\uFF3C'],
    ['rs "quoted", a=b \\ x', 'rs "quoted", a=b \\ x'],
    ['x'.repeat(300), 'x'.repeat(255)],
  ])('%j → %j', (input, expected) => expect(displayName(input)).toBe(expected));
});
