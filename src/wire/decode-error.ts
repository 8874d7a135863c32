/**
 * Decode errors are values, never exceptions: every decoder returns a DecodeError instead of throwing,
 * so a hostile byte stream can only produce counted, logged errors.
 */

/** Which layer found the problem. `framing` errors are the only unrecoverable ones (the stream is lost). */
export type DecodeLayer = 'framing' | 'bmp' | 'bgp' | 'capture';

/** Closed set of error codes; counters and logs key on these. */
export type DecodeErrorCode =
  | 'truncated' // fewer bytes than a length field promised
  | 'bad-version' // BMP version other than 3 (framing)
  | 'length-too-small' // BMP length below the 6-byte common header (framing)
  | 'length-too-large' // BMP length above the configured maximum (framing)
  | 'length-mismatch' // an inner length disagrees with its container
  | 'bad-peer-type'
  | 'bad-marker' // BGP marker not all ones
  | 'bad-bgp-length'
  | 'bad-bgp-type'
  | 'bad-message' // structurally invalid content (reason in detail)
  | 'bad-prefix-length'
  | 'bad-attribute' // malformed path attribute that RFC 7606 says discards the whole UPDATE ("session reset")
  | 'bad-capture'; // pcap/pcapng container problem

export interface DecodeError {
  readonly layer: DecodeLayer;
  readonly code: DecodeErrorCode;
  /** Byte offset of the problem, relative to the start of the decoded buffer (the BMP frame, or the stream for framing). */
  readonly offset: number;
  readonly detail: string;
}

export function decodeError(layer: DecodeLayer, code: DecodeErrorCode, offset: number, detail: string): DecodeError {
  return { layer, code, offset, detail };
}

/** Bounds failures all read the same way: "need N, have M". */
export function truncated(layer: DecodeLayer, offset: number, what: string, need: number, have: number): DecodeError {
  return { layer, code: 'truncated', offset, detail: `${what}: need ${need} bytes, have ${have}` };
}

export function isDecodeError(value: unknown): value is DecodeError {
  return (
    typeof value === 'object' &&
    value !== null &&
    'layer' in value &&
    'code' in value &&
    'offset' in value &&
    'detail' in value
  );
}
