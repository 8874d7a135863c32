/**
 * A sender dripping a message one byte per TCP segment (a slow or hostile route server): the framer must hold
 * what was sent, not a Buffer object per byte. Before the fix a partial message was kept as one piece per chunk,
 * about 114 bytes of memory per byte received: a 1 MiB partial message (limits.maxMessageBytes) cost ~120 MB per
 * connection. Found by the slow-sender fault test (test/faults/hostile-load.test.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BmpFramer } from '../../../src/bmp/framer.js';
import { CAPTURES, readCapture } from '../../helpers/fixtures.js';

function frames(chunks: Iterable<Buffer>): { hex: string[]; error: string | null } {
  const framer = new BmpFramer();
  const hex: string[] = [];
  let error: string | null = null;
  for (const chunk of chunks) {
    const problem = framer.push(chunk, (frame) => hex.push(frame.bytes.toString('hex')));
    if (problem) error = problem.code;
  }
  return { hex, error };
}

function* bytewise(data: Buffer): Generator<Buffer> {
  // One reused 1-byte buffer: the framer must copy what it keeps.
  const one = Buffer.alloc(1);
  for (const byte of data) {
    one[0] = byte;
    yield one;
  }
}

/** A full GC without --expose-gc on the command line. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('BmpFramer with a sender dripping one byte at a time', () => {
  for (const capture of CAPTURES) {
    it(`${capture.name}: the same frames as the whole capture`, () => {
      const stream = readCapture(capture.file);
      const whole = frames([stream]);
      expect(frames(bytewise(stream))).toEqual(whole);
      // Mixed: bytewise for a while, then large chunks that complete one message and start the next.
      const single = (part: Buffer): Buffer[] => Array.from(part, (byte) => Buffer.from([byte]));
      const mixed = [...single(stream.subarray(0, 300)), stream.subarray(300, 5000), ...single(stream.subarray(5000, 5200)), stream.subarray(5200)];
      expect(frames(mixed)).toEqual(whole);
    });
  }

  it('holds a dripped partial message in about its own size', () => {
    const framer = new BmpFramer();
    const header = Buffer.from([3, 0, 0, 0, 0, 0]);
    header.writeUInt32BE(1024 * 1024, 1);
    framer.push(header, () => undefined);
    gc();
    const before = process.memoryUsage();
    const dripped = 300_000;
    const one = Buffer.alloc(1);
    for (let i = 0; i < dripped; i++) framer.push(one, () => undefined);
    gc();
    const after = process.memoryUsage();
    const grown = after.heapUsed - before.heapUsed + (after.external - before.external);
    expect(framer.bufferedBytes).toBe(6 + dripped);
    // At most the doubling buffer (< 2x what was sent) plus slack; one piece per byte was ~114 bytes per byte.
    expect(grown).toBeLessThan(4 * dripped);
    // And the message completes intact.
    const rest = Buffer.alloc(1024 * 1024 - 6 - dripped, 7);
    const got: number[] = [];
    framer.push(rest, (frame) => got.push(frame.bytes.length, frame.bytes[6 + dripped]));
    expect(got).toEqual([1024 * 1024, 7]);
  });
});
