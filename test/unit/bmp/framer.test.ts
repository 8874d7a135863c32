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

/** The same through pushRuns: each run walked into its frames, which must be whole and contiguous. */
function frameRuns(chunks: Buffer[], options: { maxMessageBytes?: number; resynchronize?: boolean } = {}, resyncErrors: string[] = []): Collected {
  const framer = new BmpFramer(options);
  const frames: Collected['frames'] = [];
  let error: string | null = null;
  for (const chunk of chunks) {
    const problem = framer.pushRuns(
      chunk,
      (data, start, end, streamOffset) => {
        let pos = start;
        while (pos < end) {
          const length = data.readUInt32BE(pos + 1);
          expect(data[pos]).toBe(3);
          expect(pos + length).toBeLessThanOrEqual(end);
          frames.push({ offset: streamOffset + pos - start, hex: data.toString('hex', pos, pos + length) });
          pos += length;
        }
      },
      (resync) => resyncErrors.push(`${resync.code}@${resync.offset}`),
    );
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

  it('pushRuns hands over the same frames as push, in any chunking, up to a framing error', () => {
    const streams = [...CAPTURES.map((capture) => readCapture(capture.file)), Buffer.concat([readCapture(CAPTURES[0].file), header(3, 6, 4), header(2, 6, 4), header(3, 6, 4)])];
    fc.assert(
      fc.property(fc.nat(streams.length - 1), fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }), (which, sizes) => {
        const stream = streams[which];
        const chunks: Buffer[] = [];
        for (let pos = 0, i = 0; pos < stream.length; i++) {
          chunks.push(stream.subarray(pos, pos + sizes[i % sizes.length]));
          pos += sizes[i % sizes.length];
        }
        expect(frameRuns(chunks)).toEqual(frameAll(chunks));
      }),
      { numRuns: 300 },
    );
  });

  it('pushRuns resynchronizes like push, ending a run before the skipped bytes', () => {
    const garbage = Buffer.from('deadbeefcafe00', 'hex');
    const stream = Buffer.concat([header(3, 6, 4), header(3, 6, 4), garbage, header(3, 6, 5), header(3, 6, 5)]);
    const errors: string[] = [];
    const runs = frameRuns([stream], { resynchronize: true }, errors);
    expect(runs.frames.map((frame) => frame.offset)).toEqual([0, 6, 12 + garbage.length, 18 + garbage.length]);
    expect(runs.error).toBeNull();
    expect(errors).toEqual(['bad-version@12']);
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
