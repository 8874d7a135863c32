/**
 * Decoder throughput on a large generated route-server stream (scripts/generate-stream.ts): framing alone (the
 * ceiling: every byte is looked at once) against framing + full BMP/BGP decode. Target: full decode at no less
 * than half the framing-only rate, measured in MB/s.
 */
import { BmpSessionDecoder } from '../src/bmp/decode.js';
import { BmpFramer } from '../src/bmp/framer.js';
import { generateStream, type GenerateStreamOptions } from '../scripts/generate-stream.js';

const CHUNK_BYTES = 64 * 1024; // what a TCP socket typically hands us

export interface DecodeBenchResult {
  readonly streamBytes: number;
  readonly messages: number;
  readonly prefixes: number;
  readonly framingMBps: number;
  readonly framingMessagesPerSec: number;
  readonly decodeMBps: number;
  readonly decodeMessagesPerSec: number;
  readonly decodePrefixesPerSec: number;
  readonly decodeErrors: number;
  readonly ratio: number;
}

export function buildStream(options: GenerateStreamOptions): Buffer {
  const chunks: Buffer[] = [];
  generateStream(options, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}

function timeBest(runs: number, work: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    work();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

export function runDecodeBench(stream: Buffer, runs = 3): DecodeBenchResult {
  let messages = 0;
  let prefixes = 0;
  let errors = 0;
  const framingSeconds = timeBest(runs, () => {
    const framer = new BmpFramer();
    messages = 0;
    for (let pos = 0; pos < stream.length; pos += CHUNK_BYTES) {
      framer.push(stream.subarray(pos, pos + CHUNK_BYTES), () => messages++);
    }
  });
  const decodeSeconds = timeBest(runs, () => {
    const framer = new BmpFramer();
    const decoder = new BmpSessionDecoder();
    prefixes = 0;
    errors = 0;
    for (let pos = 0; pos < stream.length; pos += CHUNK_BYTES) {
      framer.push(stream.subarray(pos, pos + CHUNK_BYTES), (frame) => {
        const result = decoder.decode(frame.bytes);
        if (!result.ok) errors++;
        else if (result.value.type === 'route-monitoring') prefixes += result.value.update.announced.length + result.value.update.withdrawn.length;
      });
    }
  });
  const mb = stream.length / 1e6;
  return {
    streamBytes: stream.length,
    messages,
    prefixes,
    framingMBps: mb / framingSeconds,
    framingMessagesPerSec: messages / framingSeconds,
    decodeMBps: mb / decodeSeconds,
    decodeMessagesPerSec: messages / decodeSeconds,
    decodePrefixesPerSec: prefixes / decodeSeconds,
    decodeErrors: errors,
    ratio: framingSeconds / decodeSeconds,
  };
}
