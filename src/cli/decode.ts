/**
 * `bmpwatch decode FILE|-`: raw BMP bytes (what a router sends) or a pcap/pcapng capture of BMP over TCP →
 * one JSON object per message on stdout (NDJSON), a summary of counts on stderr.
 *
 * Decode errors are printed as {"type":"decode-error", ...} objects in the stream (so scripts see them in order)
 * and as a line on stderr naming the offset. `--check` decodes and checks everything the same way but prints
 * only the errors and the summary: it uses the decoder's scan, which builds no values, so it is many times faster
 * on a large capture. Offline we may guess: after a framing error the framer skips to the
 * next plausible BMP header and goes on.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { detectCaptureFormat, extractTcpStreams } from '../capture/index.js';
import { BmpSessionDecoder, SCAN_ERROR, SCAN_ROUTE_MONITORING, type BmpScan } from '../bmp/decode.js';
import { BmpFramer, DEFAULT_MAX_MESSAGE_BYTES } from '../bmp/framer.js';
import type { BmpMessage } from '../bmp/types.js';
import type { DecodeError } from '../wire/decode-error.js';
import type { Result } from '../wire/result.js';

export interface DecodeCommandOptions {
  readonly maxMessageBytes?: number;
  /** Only decode TCP streams to this port (pcap input). */
  readonly port?: number;
  /** Print progress to stderr (defaults to stderr being a terminal). */
  readonly progress?: boolean;
  /** Check only: errors and the summary, no NDJSON. */
  readonly check?: boolean;
}

export interface DecodeIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
}

export interface DecodeSummary {
  bytes: number;
  messages: number;
  byType: Record<string, number>;
  announced: number;
  withdrawn: number;
  endOfRib: number;
  treatAsWithdraw: number;
  addPathFallbacks: number;
  asWidthFallbacks: number;
  errors: number;
  errorsByCode: Record<string, number>;
  skippedBytes: number;
  streams: number;
}

function emptySummary(): DecodeSummary {
  return {
    bytes: 0,
    messages: 0,
    byType: {},
    announced: 0,
    withdrawn: 0,
    endOfRib: 0,
    treatAsWithdraw: 0,
    addPathFallbacks: 0,
    asWidthFallbacks: 0,
    errors: 0,
    errorsByCode: {},
    skippedBytes: 0,
    streams: 0,
  };
}

/** Decodes one router's byte stream; the same code path for a raw file, stdin, or one TCP stream of a capture. */
class StreamPrinter {
  private readonly framer: BmpFramer;
  private readonly decoder = new BmpSessionDecoder();
  private lines: string[] = [];

  constructor(
    private readonly summary: DecodeSummary,
    private readonly io: DecodeIo,
    private readonly streamId: string | undefined,
    maxMessageBytes: number,
    private readonly checkOnly = false,
  ) {
    this.framer = new BmpFramer({ maxMessageBytes, resynchronize: true });
  }

  push(chunk: Buffer): void {
    this.summary.bytes += chunk.length;
    this.framer.pushRuns(chunk, this.onRun, (error) => this.onError(error, 0));
    this.flush();
  }

  /** Stream offset of data[0] in the run being decoded. */
  private runOffset = 0;

  private readonly onRun = (data: Buffer, start: number, end: number, streamOffset: number): void => {
    this.runOffset = streamOffset - start;
    this.decoder.scanFrames(data, start, end, this.onScanned);
  };

  private readonly onScanned = (scan: BmpScan, frameStart: number): void => {
    const streamOffset = this.runOffset + frameStart;
    if (this.checkOnly) this.checkScan(scan, streamOffset);
    else this.print(this.decoder.valueOf(scan), streamOffset);
  };

  finish(): void {
    const error = this.framer.finish();
    if (error) this.onError(error, 0);
    this.summary.skippedBytes += this.framer.skippedBytes;
    this.decoder.dispose();
    this.flush();
  }

  private print(result: Result<BmpMessage>, streamOffset: number): void {
    if (!result.ok) {
      this.onError(result.error, streamOffset);
      return;
    }
    this.count(result.value);
    const head = this.streamId === undefined ? { offset: streamOffset } : { stream: this.streamId, offset: streamOffset };
    this.lines.push(JSON.stringify({ ...head, ...result.value }, omitInternal));
  }

  private checkScan(scan: BmpScan, streamOffset: number): void {
    if (scan.kind === SCAN_ERROR) {
      this.onError(scan.error as DecodeError, streamOffset);
      return;
    }
    if (scan.kind !== SCAN_ROUTE_MONITORING) {
      this.count(scan.message as BmpMessage);
      return;
    }
    const summary = this.summary;
    const update = scan.update;
    summary.messages++;
    summary.byType['route-monitoring'] = (summary.byType['route-monitoring'] ?? 0) + 1;
    summary.announced += update.announcedCount;
    summary.withdrawn += update.withdrawnCount;
    if (update.endOfRibAfi !== 0) summary.endOfRib++;
    if (update.treatAsWithdraw) summary.treatAsWithdraw++;
    summary.addPathFallbacks += update.addPathFallbacks;
    summary.asWidthFallbacks += update.asWidthFallbacks;
  }

  private count(message: BmpMessage): void {
    const summary = this.summary;
    summary.messages++;
    summary.byType[message.type] = (summary.byType[message.type] ?? 0) + 1;
    if (message.type !== 'route-monitoring') return;
    const update = message.update;
    summary.announced += update.announced.length;
    summary.withdrawn += update.withdrawn.length;
    if (update.endOfRib) summary.endOfRib++;
    if (update.treatAsWithdraw) summary.treatAsWithdraw++;
    summary.addPathFallbacks += update.addPathFallbacks;
    summary.asWidthFallbacks += update.asWidthFallbacks;
  }

  /** `base`: stream offset of the frame the error's offset is relative to (0 for framing errors). */
  private onError(error: DecodeError, base: number): void {
    this.summary.errors++;
    const key = `${error.layer}/${error.code}`;
    this.summary.errorsByCode[key] = (this.summary.errorsByCode[key] ?? 0) + 1;
    const offset = base + error.offset;
    const where = this.streamId === undefined ? `offset ${offset}` : `${this.streamId} offset ${offset}`;
    this.io.stderr.write(`bmpwatch decode: ${error.layer} error ${error.code} at ${where}: ${error.detail}\n`);
    if (this.checkOnly) return;
    const head = this.streamId === undefined ? { offset } : { stream: this.streamId, offset };
    this.lines.push(JSON.stringify({ ...head, type: 'decode-error', layer: error.layer, code: error.code, detail: error.detail }));
  }

  private flush(): void {
    if (this.lines.length === 0) return;
    this.io.stdout.write(this.lines.join('\n') + '\n');
    this.lines = [];
  }
}

/** The attribute-set key is binary and internal to the RIB: not for people or scripts. */
function omitInternal(key: string, value: unknown): unknown {
  return key === 'attributesKey' ? undefined : value;
}

/** Returns the process exit code: 0 when everything decoded, 1 when any error was found. */
export async function runDecode(file: string, options: DecodeCommandOptions, io: DecodeIo): Promise<number> {
  const summary = emptySummary();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const input = file === '-' ? io.stdin : createReadStream(file, { highWaterMark: 256 * 1024 });
  const head = await peekHead(file, input);
  if (head.format) {
    decodeCapture(head.data ?? readFileSync(file), options, io, summary, maxMessageBytes);
  } else {
    await decodeRawStream(input, head.data, options, io, summary, maxMessageBytes, file);
  }
  io.stderr.write(`${JSON.stringify({ summary })}\n`);
  return summary.errors > 0 ? 1 : 0;
}

/** For stdin we must buffer to sniff the format; files are sniffed by reading their first bytes. */
async function peekHead(file: string, input: Readable): Promise<{ format: string | null; data?: Buffer }> {
  if (file !== '-') {
    const head = Buffer.alloc(8);
    const fd = openSync(file, 'r');
    try {
      const read = readSync(fd, head, 0, 8, 0);
      return { format: detectCaptureFormat(head.subarray(0, read)) };
    } finally {
      closeSync(fd);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  return { format: detectCaptureFormat(data.subarray(0, 8)), data };
}

async function decodeRawStream(
  input: Readable,
  buffered: Buffer | undefined,
  options: DecodeCommandOptions,
  io: DecodeIo,
  summary: DecodeSummary,
  maxMessageBytes: number,
  file: string,
): Promise<void> {
  summary.streams = 1;
  const printer = new StreamPrinter(summary, io, undefined, maxMessageBytes, options.check);
  const progress = makeProgress(options, io, file);
  if (buffered) {
    printer.push(buffered);
  } else {
    for await (const chunk of input) {
      printer.push(chunk as Buffer);
      progress?.(summary);
      await drain(io.stdout);
    }
  }
  printer.finish();
}

function decodeCapture(data: Buffer, options: DecodeCommandOptions, io: DecodeIo, summary: DecodeSummary, maxMessageBytes: number): void {
  const capture = extractTcpStreams(data);
  for (const error of capture.errors) {
    summary.errors++;
    const key = `${error.layer}/${error.code}`;
    summary.errorsByCode[key] = (summary.errorsByCode[key] ?? 0) + 1;
    io.stderr.write(`bmpwatch decode: capture error ${error.code} at file offset ${error.offset}: ${error.detail}\n`);
  }
  for (const stream of capture.streams) {
    if (options.port !== undefined && stream.dstPort !== options.port) continue;
    // Without --port, take the streams that start like BMP (version 3): the router → collector direction.
    if (options.port === undefined && stream.bytes[0] !== 3) continue;
    summary.streams++;
    if (stream.gapBytes > 0) io.stderr.write(`bmpwatch decode: ${stream.id} is missing ${stream.gapBytes} bytes (capture dropped packets)\n`);
    const printer = new StreamPrinter(summary, io, stream.id, maxMessageBytes, options.check);
    printer.push(stream.bytes);
    printer.finish();
  }
}

function makeProgress(options: DecodeCommandOptions, io: DecodeIo, file: string): ((summary: DecodeSummary) => void) | undefined {
  const enabled = options.progress ?? (io.stderr as Writable & { isTTY?: boolean }).isTTY === true;
  if (!enabled || file === '-') return undefined;
  let last = 0;
  return (summary) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    io.stderr.write(`\r${(summary.bytes / 1e6).toFixed(1)} MB, ${summary.messages} messages, ${summary.errors} errors`);
  };
}

/** Respect stdout back-pressure so a large file does not pile up in memory when piped to a slow reader. */
function drain(stream: Writable): Promise<void> {
  return stream.writableNeedDrain ? new Promise((resolve) => stream.once('drain', () => resolve())) : Promise.resolve();
}
