/**
 * Fuzzing the wire layer: random frames, and real frames from the captures with bytes flipped, inserted, removed
 * and lengths corrupted. The property is the one the collector relies on: decoding returns a value or a typed
 * error and never throws, and a bad message does not disturb the decoding of the next one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../src/bmp/decode.js';
import { BmpFramer } from '../../src/bmp/framer.js';
import { isDecodeError } from '../../src/wire/decode-error.js';
import { CAPTURES, readCapture } from '../helpers/fixtures.js';

function framesOf(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  new BmpFramer().push(stream, (frame) => frames.push(Buffer.from(frame.bytes)));
  return frames;
}

const realFrames = CAPTURES.flatMap((capture) => framesOf(readCapture(capture.file)));
const RUNS = Number(process.env.FUZZ_RUNS ?? 20000);

/** A decoder primed with every Peer Up of the captures, so UPDATE paths run with negotiated ADD-PATH too. */
function primedDecoder(): BmpSessionDecoder {
  const decoder = new BmpSessionDecoder();
  for (const frame of realFrames) if (frame[5] === 3) decoder.decode(frame);
  return decoder;
}

function expectValueOrTypedError(decoder: BmpSessionDecoder, frame: Buffer): void {
  const result = decoder.decode(frame);
  if (!result.ok) {
    expect(isDecodeError(result.error)).toBe(true);
    expect(result.error.offset).toBeGreaterThanOrEqual(0);
    expect(result.error.offset).toBeLessThanOrEqual(frame.length);
  } else {
    // Output must be serialisable: `bmpwatch decode` prints it.
    expect(() => JSON.stringify(result.value)).not.toThrow();
  }
}

/** Rewrites the common header length so the mutated body still forms one frame. */
function refresh(frame: Buffer): Buffer {
  if (frame.length >= 6) frame.writeUInt32BE(frame.length, 1);
  return frame;
}

const mutatedFrame = fc
  .tuple(
    fc.constantFrom(...realFrames),
    fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    fc.boolean(),
  )
  .map(([original, mutations, keepLength]) => {
    let frame = Buffer.from(original);
    for (const mutation of mutations) {
      const at = frame.length === 0 ? 0 : mutation.at % frame.length;
      if (mutation.kind === 'flip') frame[at] = mutation.value;
      else if (mutation.kind === 'insert') frame = Buffer.concat([frame.subarray(0, at), mutation.bytes, frame.subarray(at)]);
      else if (mutation.kind === 'delete') frame = Buffer.concat([frame.subarray(0, at), frame.subarray(at + mutation.count)]);
      else frame = frame.subarray(0, Math.max(at, 6));
    }
    return keepLength ? refresh(Buffer.from(frame)) : Buffer.from(frame);
  });

describe('decoder fuzzing', () => {
  it('has real frames to mutate', () => {
    expect(realFrames.length).toBeGreaterThan(300);
  });

  it('never throws on random frames with a valid common header', () => {
    const decoder = primedDecoder();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 600 }), (type, body) => {
        const frame = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, type]), body]);
        expectValueOrTypedError(decoder, refresh(frame));
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws on mutated real frames', () => {
    const decoder = primedDecoder();
    fc.assert(fc.property(mutatedFrame, (frame) => expectValueOrTypedError(decoder, frame)), { numRuns: RUNS });
  });

  it('a bad message does not change how the next one decodes', () => {
    const clean = primedDecoder();
    const exposed = primedDecoder();
    const routeMonitoring = realFrames.filter((frame) => frame[5] === 0);
    fc.assert(
      fc.property(mutatedFrame, fc.constantFrom(...routeMonitoring), (bad, good) => {
        // A mutated message that still decodes is a message like any other: a Peer Up or Peer Down changes its
        // peer's context, an UPDATE what the decoder learnt of its ADD-PATH layout. The reference decoder sees it
        // too. A message that does not decode must change nothing.
        if (exposed.decode(bad).ok) clean.decode(bad);
        expect(exposed.decode(good)).toEqual(clean.decode(good));
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('the framer never throws and emits nothing after a framing error', () => {
    const streams = CAPTURES.map((capture) => readCapture(capture.file));
    fc.assert(
      fc.property(
        fc.constantFrom(...streams),
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        fc.integer({ min: 1, max: 4096 }),
        (stream, at, noise, chunkSize) => {
          const position = at % stream.length;
          const damaged = Buffer.concat([stream.subarray(0, position), noise, stream.subarray(position)]);
          const framer = new BmpFramer({ maxMessageBytes: 65_536 });
          let failedAt: number | null = null;
          for (let pos = 0; pos < damaged.length; pos += chunkSize) {
            const error = framer.push(damaged.subarray(pos, pos + chunkSize), (frame) => {
              expect(failedAt).toBeNull();
              expect(frame.bytes[0]).toBe(3);
            });
            if (error && failedAt === null) failedAt = error.offset;
          }
          framer.finish();
        },
      ),
      { numRuns: Math.ceil(RUNS / 20) },
    );
  });
});
