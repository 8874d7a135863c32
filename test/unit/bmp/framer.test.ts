import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BmpFramer, DEFAULT_MAX_MESSAGE_BYTES } from '../../../src/bmp/framer.js';
import { CAPTURES, readCapture } from '../../helpers/fixtures.js';

interface Collected {
  frames: { offset: number; hex: string }[];
  error: string | null;
}

function frameAll(chunks: Buffer[], maxMessageBytes?: number): Collected {
  const framer = new BmpFramer({ maxMessageBytes });
  const frames: Collected['frames'] = [];
  let error: string | null = null;
  for (const chunk of chunks) {
    const problem = framer.push(chunk, (frame) => frames.push({ offset: frame.streamOffset, hex: frame.bytes.toString('hex') }));
    if (problem) error = `${problem.code}@${problem.offset}`;
  }
  const end = framer.finish();
  if (end && !error) error = `${end.code}@${end.offset}`;
  return { frames, error };
}

function header(version: number, length: number, type: number): Buffer {
  const bytes = Buffer.alloc(6);
  bytes[0] = version;
  bytes.writeUInt32BE(length, 1);
  bytes[5] = type;
  return bytes;
}

describe('BmpFramer', () => {
  for (const capture of CAPTURES) {
    const stream = readCapture(capture.file);
    const whole = frameAll([stream]);

    it(`${capture.name}: frames the whole capture with nothing left over`, () => {
      expect(whole.error).toBeNull();
      expect(whole.frames.length).toBeGreaterThan(50);
      const total = whole.frames.reduce((sum, frame) => sum + frame.hex.length / 2, 0);
      expect(total).toBe(stream.length);
    });

    it(`${capture.name}: identical frames when split at every byte offset`, () => {
      for (let split = 0; split <= stream.length; split++) {
        const parts = frameAll([stream.subarray(0, split), stream.subarray(split)]);
        if (parts.error !== null || parts.frames.length !== whole.frames.length) {
          throw new Error(`split at ${split}: ${parts.frames.length} frames, error ${parts.error}`);
        }
        expect(parts.frames).toEqual(whole.frames);
      }
    });

    it(`${capture.name}: identical frames in random chunks`, () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 200 }), (sizes) => {
          const chunks: Buffer[] = [];
          let pos = 0;
          for (let i = 0; pos < stream.length; i++) {
            const size = sizes[i % sizes.length];
            chunks.push(stream.subarray(pos, pos + size));
            pos += size;
          }
          expect(frameAll(chunks)).toEqual(whole);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('emits frames one byte at a time', () => {
    const stream = readCapture(CAPTURES[0].file);
    const bytes = [...stream].map((byte) => Buffer.from([byte]));
    expect(frameAll(bytes)).toEqual(frameAll([stream]));
  });

  it('rejects a version other than 3 and emits nothing after it', () => {
    const good = Buffer.concat([header(3, 6, 4)]);
    const result = frameAll([Buffer.concat([good, header(1, 6, 4), good])]);
    expect(result.frames).toHaveLength(1);
    expect(result.error).toBe('bad-version@6');
  });

  it('rejects a length below the common header', () => {
    expect(frameAll([header(3, 5, 0)]).error).toBe('length-too-small@0');
  });

  it('rejects a length above the configured maximum before buffering it', () => {
    const framer = new BmpFramer({ maxMessageBytes: 1000 });
    const error = framer.push(header(3, 1001, 0), () => undefined);
    expect(error?.code).toBe('length-too-large');
    expect(framer.bufferedBytes).toBe(0);
    // Once failed, a framer stays failed: the stream position is lost.
    expect(framer.push(header(3, 6, 4), () => expect.fail('no frame after a framing error'))).toBe(error);
  });

  it('defaults to a 1 MiB limit', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(1_048_576);
    const exactly = frameAll([Buffer.concat([header(3, DEFAULT_MAX_MESSAGE_BYTES, 0), Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES - 6)])]);
    expect(exactly.frames).toHaveLength(1);
    expect(frameAll([header(3, DEFAULT_MAX_MESSAGE_BYTES + 1, 0)]).error).toBe('length-too-large@0');
  });

  it('reports a stream that ends inside a message as truncated', () => {
    const result = frameAll([Buffer.concat([header(3, 6, 4), header(3, 20, 4)])]);
    expect(result.frames).toHaveLength(1);
    expect(result.error).toBe('truncated@6');
  });

  it('resynchronizes at the next plausible header when asked to (offline decoding)', () => {
    const framer = new BmpFramer({ resynchronize: true });
    const frames: number[] = [];
    const errors: string[] = [];
    const garbage = Buffer.from('deadbeefcafe00', 'hex');
    const stream = Buffer.concat([header(3, 6, 4), garbage, header(3, 6, 5)]);
    framer.push(stream, (frame) => frames.push(frame.streamOffset), (error) => errors.push(`${error.code}@${error.offset}`));
    expect(framer.finish()).toBeNull();
    expect(frames).toEqual([0, 6 + garbage.length]);
    expect(errors).toEqual(['bad-version@6']);
    expect(framer.skippedBytes).toBe(garbage.length);
  });
});
