/**
 * Decoder throughput on a large generated route-server stream (scripts/generate-stream.ts), each step through the
 * same framer in 64 KiB chunks:
 * - framing alone: the ceiling, the framer handing over every message (a view of its bytes and its offset) and
 *   nothing else;
 * - the framer's header walk (pushRuns with nothing to receive the runs): it checks every header but hands over
 *   only runs of messages, which the decoder then walks again; shown for what it is, not the ceiling;
 * - walk floor (walk-floor.ts): stepping over every attribute and prefix with no checks and no output, the least
 *   any complete decoder must do;
 * - full decode (BmpSessionDecoder.scanFrames, what the collector runs): every field checked and decoded, RFC 7606,
 *   ADD-PATH and AS-width checks, prefixes kept in compact form (bytes + length); Route Monitoring of known peers
 *   in the WebAssembly fast path, everything else in TypeScript;
 * - the same in TypeScript alone (BmpSessionDecoder.scan per frame), for comparison;
 * - decode to values: the full decode plus JSON-safe objects with prefixes and addresses as text, which the
 *   collector and `bmpwatch decode` use.
 * Target: full decode at no less than half the framing-only rate, in MB/s.
 */
import { BmpSessionDecoder, SCAN_ERROR, SCAN_ROUTE_MONITORING, type BmpScan } from '../src/bmp/decode.js';
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
  /** The ceiling: the framer handing over every message. */
  readonly framing: Rate;
  /** The framer's header walk in run mode (no message handed over). */
  readonly headerWalk: Rate;
  readonly walkFloor: Rate;
  readonly scan: Rate;
  readonly scanTypeScript: Rate;
  readonly values: Rate;
  readonly decodeErrors: number;
  /** Share of the messages the fast path decoded. */
  readonly fastShare: number;
  /** Full decode against framing alone, the target's ratio. */
  readonly ratio: number;
  /** Full decode against the header walk. */
  readonly headerWalkRatio: number;
  readonly typeScriptRatio: number;
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

function frameRuns(stream: Buffer, onRun: (data: Buffer, start: number, end: number) => void): void {
  const framer = new BmpFramer();
  for (let pos = 0; pos < stream.length; pos += CHUNK_BYTES) framer.pushRuns(stream.subarray(pos, pos + CHUNK_BYTES), onRun);
}

/** Each step is timed `runs` times, interleaved, and the best time is kept (the machine is shared). */
export function runDecodeBench(stream: Buffer, runs = 3): DecodeBenchResult {
  let messages = 0;
  let runMessages = 0;
  let scanned = { messages: 0, fastMessages: 0, prefixes: 0, errors: 0 };
  let typeScriptPrefixes = 0;
  let valuePrefixes = 0;
  let walked = 0;
  const best = { framing: Infinity, headerWalk: Infinity, walkFloor: Infinity, scan: Infinity, scanTypeScript: Infinity, values: Infinity };
  for (let run = 0; run < runs; run++) {
    best.framing = Math.min(
      best.framing,
      seconds(() => {
        messages = 0;
        frameAll(stream, () => messages++);
      }),
    );
    best.headerWalk = Math.min(
      best.headerWalk,
      seconds(() => {
        runMessages = 0;
        frameRuns(stream, () => runMessages++);
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
        frameRuns(stream, (data, start, end) => decoder.scanFrames(data, start, end));
        scanned = { ...decoder.scanned };
        decoder.dispose();
      }),
    );
    best.scanTypeScript = Math.min(
      best.scanTypeScript,
      seconds(() => {
        const decoder = new BmpSessionDecoder({ fastPath: false });
        typeScriptPrefixes = 0;
        frameAll(stream, (frame) => {
          const scan = decoder.scan(frame);
          if (scan.kind === SCAN_ROUTE_MONITORING) typeScriptPrefixes += scan.update.announcedCount + scan.update.withdrawnCount;
        });
      }),
    );
    best.values = Math.min(
      best.values,
      seconds(() => {
        const decoder = new BmpSessionDecoder();
        valuePrefixes = 0;
        const visit = (scan: BmpScan): void => {
          if (scan.kind === SCAN_ERROR) return;
          const result = decoder.valueOf(scan);
          if (result.ok && result.value.type === 'route-monitoring') valuePrefixes += result.value.update.announced.length + result.value.update.withdrawn.length;
        };
        frameRuns(stream, (data, start, end) => decoder.scanFrames(data, start, end, visit));
        decoder.dispose();
      }),
    );
  }
  if (scanned.messages !== messages) throw new Error(`full decode saw ${scanned.messages} messages, framing ${messages}`);
  if (valuePrefixes !== scanned.prefixes || typeScriptPrefixes !== scanned.prefixes) {
    throw new Error(`full decode counted ${scanned.prefixes} prefixes, TypeScript scan ${typeScriptPrefixes}, decode to values ${valuePrefixes}`);
  }
  if (walked === 0 || runMessages === 0) throw new Error('the walk floor or the run framing saw nothing');
  const rate = (seconds: number): Rate => ({ seconds, MBps: stream.length / 1e6 / seconds, messagesPerSec: messages / seconds });
  const framing = best.framing;
  return {
    streamBytes: stream.length,
    messages,
    prefixes: scanned.prefixes,
    framing: rate(framing),
    headerWalk: rate(best.headerWalk),
    walkFloor: rate(best.walkFloor),
    scan: rate(best.scan),
    scanTypeScript: rate(best.scanTypeScript),
    values: rate(best.values),
    decodeErrors: scanned.errors,
    fastShare: scanned.fastMessages / scanned.messages,
    ratio: framing / best.scan,
    headerWalkRatio: best.headerWalk / best.scan,
    typeScriptRatio: framing / best.scanTypeScript,
    floorRatio: framing / best.walkFloor,
    valuesRatio: framing / best.values,
  };
}
