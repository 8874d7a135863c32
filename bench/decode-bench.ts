/**
 * Decoder throughput on a large generated route-server stream (scripts/generate-stream.ts), each step through the
 * same framer in 64 KiB chunks:
 * - framing alone: the ceiling (every message is delimited, nothing else);
 * - walk floor (walk-floor.ts): stepping over every attribute and prefix with no checks and no output, the least
 *   any complete decoder must do;
 * - full decode (BmpSessionDecoder.scan): every field checked and decoded, RFC 7606, ADD-PATH and AS-width
 *   checks, prefixes kept in compact form (bytes + length);
 * - decode to values (BmpSessionDecoder.decode): the scan plus JSON-safe objects with prefixes and addresses as
 *   text, which the collector and `bmpwatch decode` use.
 * Target: full decode at no less than half the framing-only rate, in MB/s.
 */
import { BmpSessionDecoder, SCAN_ERROR, SCAN_ROUTE_MONITORING } from '../src/bmp/decode.js';
import { BmpFramer } from '../src/bmp/framer.js';
import { generateStream, type GenerateStreamOptions } from '../scripts/generate-stream.js';
import { walkRouteMonitoring } from './walk-floor.js';

const CHUNK_BYTES = 64 * 1024; // what a TCP socket typically hands us

export interface Rate {
  readonly seconds: number;
  readonly MBps: number;
  readonly messagesPerSec: number;
}

export interface DecodeBenchResult {
  readonly streamBytes: number;
  readonly messages: number;
  readonly prefixes: number;
  readonly framing: Rate;
  readonly walkFloor: Rate;
  readonly scan: Rate;
  readonly values: Rate;
  readonly decodeErrors: number;
  /** Full decode (scan) against framing alone, the target's ratio. */
  readonly ratio: number;
  readonly floorRatio: number;
  readonly valuesRatio: number;
}

export function buildStream(options: GenerateStreamOptions): Buffer {
  const chunks: Buffer[] = [];
  generateStream(options, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}

function seconds(work: () => void): number {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function frameAll(stream: Buffer, onFrame: (frame: Buffer) => void): void {
  const framer = new BmpFramer();
  for (let pos = 0; pos < stream.length; pos += CHUNK_BYTES) {
    framer.push(stream.subarray(pos, pos + CHUNK_BYTES), (frame) => onFrame(frame.bytes));
  }
}

/** Each step is timed `runs` times, interleaved, and the best time is kept (the machine is shared). */
export function runDecodeBench(stream: Buffer, runs = 3): DecodeBenchResult {
  let messages = 0;
  let prefixes = 0;
  let valuePrefixes = 0;
  let errors = 0;
  let walked = 0;
  const best = { framing: Infinity, walkFloor: Infinity, scan: Infinity, values: Infinity };
  for (let run = 0; run < runs; run++) {
    best.framing = Math.min(
      best.framing,
      seconds(() => {
        messages = 0;
        frameAll(stream, () => messages++);
      }),
    );
    best.walkFloor = Math.min(
      best.walkFloor,
      seconds(() => {
        walked = 0;
        frameAll(stream, (frame) => {
          walked += walkRouteMonitoring(frame);
        });
      }),
    );
    best.scan = Math.min(
      best.scan,
      seconds(() => {
        const decoder = new BmpSessionDecoder();
        prefixes = 0;
        errors = 0;
        frameAll(stream, (frame) => {
          const scan = decoder.scan(frame);
          if (scan.kind === SCAN_ROUTE_MONITORING) prefixes += scan.update.announcedCount + scan.update.withdrawnCount;
          else if (scan.kind === SCAN_ERROR) errors++;
        });
      }),
    );
    best.values = Math.min(
      best.values,
      seconds(() => {
        const decoder = new BmpSessionDecoder();
        valuePrefixes = 0;
        frameAll(stream, (frame) => {
          const result = decoder.decode(frame);
          if (result.ok && result.value.type === 'route-monitoring') valuePrefixes += result.value.update.announced.length + result.value.update.withdrawn.length;
        });
      }),
    );
  }
  if (valuePrefixes !== prefixes) throw new Error(`scan counted ${prefixes} prefixes, decode ${valuePrefixes}`);
  if (walked === 0) throw new Error('the walk floor saw no prefixes');
  const rate = (seconds: number): Rate => ({ seconds, MBps: stream.length / 1e6 / seconds, messagesPerSec: messages / seconds });
  return {
    streamBytes: stream.length,
    messages,
    prefixes,
    framing: rate(best.framing),
    walkFloor: rate(best.walkFloor),
    scan: rate(best.scan),
    values: rate(best.values),
    decodeErrors: errors,
    ratio: best.framing / best.scan,
    floorRatio: best.framing / best.walkFloor,
    valuesRatio: best.framing / best.values,
  };
}
