/**
 * The WebAssembly fast path (src/bmp/wasm/scan.c through BmpSessionDecoder.scanFrames) against the TypeScript
 * decoder: on the captures, generated streams and mutated streams, in any chunking, every message must decode to
 * the same value or the same error, and the fast path must really take the clean Route Monitoring. The generated
 * module must also be the build of the committed source.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BmpSessionDecoder, SCAN_ROUTE_MONITORING } from '../../../src/bmp/decode.js';
import { FAST_INPUT_BYTES, fastScanModule } from '../../../src/bmp/fast-scan.js';
import { BmpFramer } from '../../../src/bmp/framer.js';
import { SCAN_SOURCE_SHA256, SCAN_WASM_BASE64 } from '../../../src/bmp/wasm/scan-wasm.js';
import { generateStream } from '../../../scripts/generate-stream.js';
import { encodeRouteMonitoring } from '../../../src/encode/bmp-encode.js';
import type { Capability } from '../../../src/encode/bgp-encode.js';
import { CAPTURES, readCapture } from '../../helpers/fixtures.js';
import { attribute, DEFAULT_CAPABILITIES, header, peerUpFrame, rawAttribute, rawUpdate } from '../bgp/support.js';

interface Decoded {
  readonly offset: number;
  readonly value: string;
}

/** The reference: the TypeScript decoder, one frame at a time. */
function decodeEach(stream: Buffer, maxMessageBytes?: number): { decoded: Decoded[]; framing: string | null } {
  const decoder = new BmpSessionDecoder({ fastPath: false });
  const decoded: Decoded[] = [];
  const framer = new BmpFramer({ maxMessageBytes });
  const error = framer.push(stream, (frame) => decoded.push({ offset: frame.streamOffset, value: JSON.stringify(decoder.decode(frame.bytes)) })) ?? framer.finish();
  return { decoded, framing: error === null ? null : JSON.stringify(error) };
}

/** The fast path: runs of frames, in the given chunk sizes (cycled). */
function decodeRuns(stream: Buffer, chunkSizes: readonly number[], maxMessageBytes?: number): { decoded: Decoded[]; framing: string | null; decoder: BmpSessionDecoder; routeMonitoring: number } {
  const decoder = new BmpSessionDecoder();
  const decoded: Decoded[] = [];
  const framer = new BmpFramer({ maxMessageBytes });
  let routeMonitoring = 0;
  let error = null;
  for (let pos = 0, k = 0; pos < stream.length && error === null; k++) {
    const size = Math.max(1, chunkSizes[k % chunkSizes.length]);
    error = framer.pushRuns(stream.subarray(pos, pos + size), (data, start, end, streamOffset) =>
      decoder.scanFrames(data, start, end, (scan, frameStart) => {
        if (scan.kind === SCAN_ROUTE_MONITORING) routeMonitoring++;
        decoded.push({ offset: streamOffset + frameStart - start, value: JSON.stringify(decoder.valueOf(scan)) });
      }),
    );
    pos += size;
  }
  error ??= framer.finish();
  return { decoded, framing: error === null ? null : JSON.stringify(error), decoder, routeMonitoring };
}

function expectSame(stream: Buffer, chunkSizes: readonly number[], maxMessageBytes?: number): ReturnType<typeof decodeRuns> {
  const reference = decodeEach(stream, maxMessageBytes);
  const fast = decodeRuns(stream, chunkSizes, maxMessageBytes);
  expect(fast.decoded.length).toBe(reference.decoded.length);
  for (let i = 0; i < reference.decoded.length; i++) {
    if (fast.decoded[i].value !== reference.decoded[i].value || fast.decoded[i].offset !== reference.decoded[i].offset) {
      expect({ message: i, ...fast.decoded[i] }).toEqual({ message: i, ...reference.decoded[i] });
    }
  }
  expect(fast.framing).toBe(reference.framing);
  return fast;
}

function generated(options: Parameters<typeof generateStream>[0]): Buffer {
  const chunks: Buffer[] = [];
  generateStream(options, (chunk) => chunks.push(Buffer.from(chunk)));
  return Buffer.concat(chunks);
}

describe('the WebAssembly fast path decodes exactly as the TypeScript decoder', () => {
  it('is on by default', () => {
    expect(new BmpSessionDecoder().fastPath).toBe(true);
    expect(new BmpSessionDecoder({ fastPath: false }).fastPath).toBe(false);
  });

  for (const capture of CAPTURES) {
    it(`${capture.name}: every message, whole and in small chunks`, () => {
      const stream = readCapture(capture.file);
      const whole = expectSame(stream, [stream.length]);
      // Clean Route Monitoring goes through the fast path; the exceptions are the first message that shows a peer
      // breaking its ADD-PATH negotiation (FRR), which TypeScript remembers, and messages with warnings.
      expect(whole.decoder.scanned.fastMessages / whole.routeMonitoring).toBeGreaterThan(0.9);
      expect(whole.decoder.scanned.messages).toBe(whole.decoded.length);
      expectSame(stream, [1, 7, 64, 300, 4096]);
    });
  }

  it('a generated stream with 2-octet AS, ADD-PATH and IPv6 peers, in socket-sized chunks; most messages go fast', () => {
    const stream = generated({ peers: 12, prefixesPerPeer: 400, churn: 4000, seed: 7 });
    const fast = expectSame(stream, [65_536, 1460, 9000]);
    expect(fast.decoder.scanned.fastMessages / fast.routeMonitoring).toBeGreaterThan(0.9);
  });

  it('a run larger than the module input and with more records than fit at once', () => {
    const stream = generated({ peers: 30, prefixesPerPeer: 3000, churn: 30_000, seed: 3 });
    expect(stream.length).toBeGreaterThan(2 * FAST_INPUT_BYTES);
    const fast = expectSame(stream, [stream.length]);
    expect(fast.decoder.scanned.fastMessages / fast.routeMonitoring).toBeGreaterThan(0.9);
  });

  it('large frames: Route Monitoring longer than any UPDATE, one filling the module input, one larger than it', () => {
    const frame = (length: number, type: number, fill: number): Buffer => {
      const bytes = Buffer.alloc(length, fill);
      bytes[0] = 3;
      bytes.writeUInt32BE(length, 1);
      bytes[5] = type;
      return bytes;
    };
    const capture = readCapture(CAPTURES[0].file);
    const stream = Buffer.concat([capture, frame(200_000, 0, 0xff), frame(FAST_INPUT_BYTES, 0, 0x01), frame(FAST_INPUT_BYTES + 5000, 0, 0xff), capture]);
    const fast = expectSame(stream, [stream.length, 65_536], 4 * FAST_INPUT_BYTES);
    const frames = decodeEach(capture).decoded.length;
    expect(fast.decoded.length).toBe(2 * frames + 3);
    expect(fast.decoded.filter((d) => d.value.includes('"ok":false'))).toHaveLength(3);
  });

  it('a trap in the module (which cannot happen by construction) loses no message: TypeScript takes over', () => {
    const fast = fastScanModule();
    if (fast === null) throw new Error('the fast path is off');
    const exports = fast.exports;
    let calls = 0;
    const trapping = {
      ...exports,
      scan_frames: (table: number, from: number, length: number): number => {
        if (++calls === 30) throw new Error('simulated trap');
        return exports.scan_frames(table, from, length);
      },
    };
    const mutable = fast as unknown as { exports: typeof exports };
    mutable.exports = trapping;
    try {
      const stream = generated({ peers: 4, prefixesPerPeer: 200, churn: 1000, seed: 9 });
      const fastRun = expectSame(stream, [4096]);
      expect(calls).toBe(30);
      expect(fast.broken).toBe(true);
      expect(fastRun.decoder.scanned.fastMessages).toBeGreaterThan(0);
      expect(fastRun.decoder.scanned.fastMessages).toBeLessThan(fastRun.routeMonitoring);
    } finally {
      mutable.exports = exports;
      fast.broken = false;
    }
  });

  it('without a visitor it counts the same messages and prefixes', () => {
    const stream = generated({ peers: 8, prefixesPerPeer: 300, churn: 2000, seed: 11 });
    const fast = new BmpSessionDecoder();
    const slow = new BmpSessionDecoder({ fastPath: false });
    for (const decoder of [fast, slow]) new BmpFramer().pushRuns(stream, (data, start, end) => decoder.scanFrames(data, start, end));
    expect(fast.scanned.fastMessages).toBeGreaterThan(0);
    expect(slow.scanned.fastMessages).toBe(0);
    expect({ messages: fast.scanned.messages, prefixes: fast.scanned.prefixes }).toEqual({ messages: slow.scanned.messages, prefixes: slow.scanned.prefixes });
  });

  it('mutated streams (bytes flipped, inserted, removed) decode alike, message by message', () => {
    const sources = [...CAPTURES.map((capture) => readCapture(capture.file)), generated({ peers: 4, prefixesPerPeer: 100, churn: 300, seed: 5 })];
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.nat(sources.length - 1), fc.array(edit, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 4 }), (which, edits, chunks) => {
        let bytes = Buffer.from(sources[which]);
        for (const e of edits) {
          const at = e.at % Math.max(1, bytes.length);
          if (e.kind === 'flip') bytes[at] = e.value;
          else if (e.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(e.bytes), bytes.subarray(at)]);
          else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + e.count)]);
        }
        expectSame(bytes, chunks);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 20000) / 20 },
    );
  });
});

/** An NLRI block of entries, each with or without a path id, the prefix bytes random (host bits included). */
const nlriBlock = (maxLength: number) =>
  fc
    .array(fc.record({ pathId: fc.option(fc.integer({ min: 0, max: 0x0300_0000 }), { nil: undefined }), length: fc.integer({ min: 0, max: maxLength }), bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }) }), { minLength: 1, maxLength: 4 })
    .map((entries) =>
      Buffer.concat(
        entries.map((e) => {
          const head = e.pathId === undefined ? Buffer.alloc(0) : Buffer.from([e.pathId >>> 24, (e.pathId >>> 16) & 0xff, (e.pathId >>> 8) & 0xff, e.pathId & 0xff]);
          return Buffer.concat([head, Buffer.from([e.length]), Buffer.from(e.bytes.subarray(0, (e.length + 7) >> 3))]);
        }),
      ),
    );

describe('ADD-PATH layouts: random NLRI blocks under random negotiations', () => {
  const ORIGIN = attribute({ type: 'origin', value: 0 });
  const AS_PATH = attribute({ type: 'as-path', segments: [{ type: 2, asns: [65011] }], fourOctet: true });
  const NEXT_HOP = attribute({ type: 'next-hop', address: '192.0.2.11' });
  const mode = fc.constantFrom(undefined, 1, 2, 3);
  const caps = (ipv4: number | undefined, ipv6: number | undefined): Capability[] => {
    const entries = [...(ipv4 === undefined ? [] : [{ afi: 1, safi: 1, sendReceive: ipv4 }]), ...(ipv6 === undefined ? [] : [{ afi: 2, safi: 1, sendReceive: ipv6 }])];
    return entries.length === 0 ? [...DEFAULT_CAPABILITIES] : [...DEFAULT_CAPABILITIES, { type: 'add-path', entries } as Capability];
  };
  const message = fc.record({ v6: fc.boolean(), withdrawn: fc.boolean(), block: nlriBlock(32), block6: nlriBlock(128) });

  it('decode alike, message after message (the remembered layout evolving)', () => {
    fc.assert(
      fc.property(fc.tuple(mode, mode, mode, mode), fc.constantFrom(0x00, 0x40, 0x10, 0x50), fc.boolean(), fc.array(message, { minLength: 1, maxLength: 5 }), ([s4, s6, r4, r6], flags, peerUp, messages) => {
        const peer = header({ flags });
        const frames = [
          ...(peerUp ? [peerUpFrame(peer, caps(s4, s6), caps(r4, r6))] : []),
          ...messages.map((m) =>
            m.v6
              ? encodeRouteMonitoring(peer, rawUpdate([ORIGIN, AS_PATH, rawAttribute(0x80, m.withdrawn ? 15 : 14, m.withdrawn ? Buffer.concat([Buffer.from('000201', 'hex'), m.block6]) : Buffer.concat([Buffer.from(`00020110${'20010db8000000000000000000000011'}00`, 'hex'), m.block6]))]))
              : encodeRouteMonitoring(peer, m.withdrawn ? rawUpdate([], Buffer.alloc(0), m.block) : rawUpdate([ORIGIN, AS_PATH, NEXT_HOP], m.block)),
          ),
        ];
        expectSame(Buffer.concat(frames), [1 << 20]);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 20000) / 10 },
    );
  });
});

describe('the committed WebAssembly module', () => {
  const source = readFileSync(new URL('../../../src/bmp/wasm/scan.c', import.meta.url));

  it('was built from the committed scan.c', () => {
    expect(createHash('sha256').update(source).digest('hex')).toBe(SCAN_SOURCE_SHA256);
  });

  it('is what scripts/build-wasm.sh builds from it (clang and lld)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-wasm-'));
    try {
      const out = join(dir, 'scan-wasm.ts');
      execFileSync('bash', [new URL('../../../scripts/build-wasm.sh', import.meta.url).pathname, out], { stdio: 'pipe' });
      const rebuilt = readFileSync(out, 'utf8');
      expect(rebuilt.includes(SCAN_WASM_BASE64)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
