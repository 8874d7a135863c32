/**
 * Streaming BMP framer: bytes in arbitrary chunks → whole BMP messages (RFC 7854 §4.1 common header).
 *
 *   0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    Version    |                 Message Length                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  (continued)  |   Msg. Type   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The length includes the 6-byte header. The framer is the only place that may declare a stream unrecoverable:
 * a wrong version or an impossible length means we no longer know where the next message starts.
 */
import { decodeError, type DecodeError } from '../wire/decode-error.js';

export const BMP_VERSION = 3;
export const BMP_COMMON_HEADER_BYTES = 6;

/**
 * Default cap on one BMP message. The largest legitimate message is a Route Monitoring carrying an RFC 8654
 * extended BGP UPDATE (65,535 bytes) plus headers, or a Peer Up with two extended OPENs; 1 MiB leaves ample room
 * while stopping a hostile length field from making us buffer gigabytes.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface BmpFrame {
  /** The whole message, common header included. A view into the framer's memory: copy it to keep it past the next push. */
  readonly bytes: Buffer;
  /** Offset of the message's first byte in the stream, for error reports. */
  readonly streamOffset: number;
}

/** A run of consecutive whole messages: data[start, end), the first at stream offset `streamOffset`. */
export type FrameRunHandler = (data: Buffer, start: number, end: number, streamOffset: number) => void;

export interface FramerOptions {
  readonly maxMessageBytes?: number;
  /**
   * Offline use only (`bmpwatch decode`): after a framing error, skip ahead to the next plausible common header
   * instead of stopping. A live collector must not guess; it closes the connection.
   */
  readonly resynchronize?: boolean;
}

/** Highest message type we treat as plausible when resynchronizing (RFC 7854 defines 0-6). */
const MAX_KNOWN_TYPE = 6;

export class BmpFramer {
  private readonly maxMessageBytes: number;
  /** Received bytes not yet framed, in arrival order (while `partial` is unset). */
  private pieces: Buffer[] = [];
  /**
   * A message whose header has been read, being assembled: its first `pendingBytes` bytes (then `pieces` is
   * empty). One buffer grown by doubling up to the message length, so a sender dripping one byte per TCP segment
   * costs the bytes it sent, not a Buffer object (~100 bytes of heap) per byte.
   */
  private partial: Buffer | undefined;
  private pendingBytes = 0;
  /** Bytes needed before a frame can complete: the header, then the whole message once its length is known. */
  private needed = BMP_COMMON_HEADER_BYTES;
  private consumed = 0; // stream offset of the first pending byte
  private failure: DecodeError | null = null;
  private readonly resynchronize: boolean;
  private resyncing = false;
  /** Bytes skipped while resynchronizing (offline mode only). */
  skippedBytes = 0;

  constructor(options: FramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.resynchronize = options.resynchronize ?? false;
  }

  /** The framing error that stopped this stream, if any. Once set, nothing more is emitted. */
  get error(): DecodeError | null {
    return this.failure;
  }

  /** Bytes received but not yet part of a whole message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Total stream offset consumed so far (start of the next message). */
  get offset(): number {
    return this.consumed;
  }

  /**
   * Feed one chunk; calls onFrame for each complete message in order. Returns the framing error if the stream
   * became unrecoverable (then no further frames are ever emitted).
   */
  push(chunk: Uint8Array, onFrame: (frame: BmpFrame) => void, onResyncError?: (error: DecodeError) => void): DecodeError | null {
    return this.frame(chunk, onFrame, undefined, onResyncError);
  }

  /**
   * Like push, but hands over each run of consecutive whole messages at once: data[start, end), the first at
   * stream offset `streamOffset` (valid only during the call). For a decoder that scans many messages per call
   * (BmpSessionDecoder.scanFrames).
   */
  pushRuns(chunk: Uint8Array, onRun: FrameRunHandler, onResyncError?: (error: DecodeError) => void): DecodeError | null {
    return this.frame(chunk, undefined, onRun, onResyncError);
  }

  private frame(chunk: Uint8Array, onFrame: ((frame: BmpFrame) => void) | undefined, onRun: FrameRunHandler | undefined, onResyncError?: (error: DecodeError) => void): DecodeError | null {
    if (this.failure) return this.failure;
    // While a large message trickles in, keep its bytes and join them once, instead of on every chunk.
    if (this.pendingBytes + chunk.byteLength < this.needed) {
      this.hold(chunk);
      return null;
    }
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const held = this.partial === undefined ? this.pieces : [this.partial.subarray(0, this.pendingBytes)];
    const data = held.length === 0 ? view : Buffer.concat([...held, view]);
    this.partial = undefined;
    let pos = 0;
    let runStart = 0;
    this.needed = BMP_COMMON_HEADER_BYTES;
    while (data.length - pos >= BMP_COMMON_HEADER_BYTES) {
      const version = data[pos];
      const length = data.readUInt32BE(pos + 1);
      if (this.resyncing) {
        if (version !== BMP_VERSION || data[pos + 5] > MAX_KNOWN_TYPE || this.checkHeader(version, length, 0)) {
          pos++;
          runStart = pos;
          this.skippedBytes++;
          continue;
        }
        this.resyncing = false;
      }
      const problem = this.checkHeader(version, length, this.consumed + pos);
      if (problem) {
        if (onRun !== undefined && runStart < pos) onRun(data, runStart, pos, this.consumed + runStart);
        if (this.resynchronize) {
          onResyncError?.(problem);
          this.resyncing = true;
          pos++;
          runStart = pos;
          this.skippedBytes++;
          continue;
        }
        this.failure = problem;
        this.pieces = [];
        this.pendingBytes = 0;
        return problem;
      }
      if (data.length - pos < length) {
        this.needed = length;
        break;
      }
      if (onFrame !== undefined) onFrame({ bytes: data.subarray(pos, pos + length), streamOffset: this.consumed + pos });
      pos += length;
    }
    if (onRun !== undefined && runStart < pos) onRun(data, runStart, pos, this.consumed + runStart);
    // Copy the remainder so we never pin a large caller chunk for the sake of a few bytes.
    this.pieces = pos === data.length ? [] : [Buffer.from(data.subarray(pos))];
    this.pendingBytes = data.length - pos;
    this.consumed += pos;
    return null;
  }

  /** At end of stream: a partial message left over is a truncation (reported, not thrown). */
  finish(): DecodeError | null {
    if (this.failure) return this.failure;
    if (this.pendingBytes === 0) return null;
    const have = this.pendingBytes;
    this.failure = decodeError('framing', 'truncated', this.consumed, `stream ended inside a message: need ${this.needed} bytes, have ${have}`);
    this.pieces = [];
    this.partial = undefined;
    this.pendingBytes = 0;
    return this.failure;
  }

  /** Keeps a chunk that does not complete the message (copied: the caller may reuse its buffer). */
  private hold(chunk: Uint8Array): void {
    const size = this.pendingBytes + chunk.byteLength;
    if (this.needed === BMP_COMMON_HEADER_BYTES) {
      // The common header is not complete: fewer than 6 bytes, in a few pieces.
      this.pieces.push(Buffer.from(chunk));
    } else {
      if (this.partial === undefined || this.partial.length < size) {
        const grown = Buffer.allocUnsafe(Math.min(this.needed, Math.max(size, 2 * (this.partial?.length ?? 0), 4096)));
        if (this.partial === undefined) {
          let at = 0;
          for (const piece of this.pieces) at += piece.copy(grown, at);
          this.pieces = [];
        } else {
          this.partial.copy(grown, 0, 0, this.pendingBytes);
        }
        this.partial = grown;
      }
      this.partial.set(chunk, this.pendingBytes);
    }
    this.pendingBytes = size;
  }

  private checkHeader(version: number, length: number, offset: number): DecodeError | null {
    if (version !== BMP_VERSION) {
      return decodeError('framing', 'bad-version', offset, `BMP version ${version}, expected ${BMP_VERSION}`);
    }
    if (length < BMP_COMMON_HEADER_BYTES) {
      return decodeError('framing', 'length-too-small', offset, `BMP length ${length} is below the ${BMP_COMMON_HEADER_BYTES}-byte common header`);
    }
    if (length > this.maxMessageBytes) {
      return decodeError('framing', 'length-too-large', offset, `BMP length ${length} exceeds the limit of ${this.maxMessageBytes} bytes`);
    }
    return null;
  }
}
