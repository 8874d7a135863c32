/**
 * BGP message header (RFC 4271 §4.1): Marker (16 bytes of 0xff) | Length (2, whole message) | Type (1).
 * Length is 19..4096, or up to 65535 with extended messages (RFC 8654). Inside BMP we accept up to 65535:
 * the exporter already accepted the message, and a collector cannot re-negotiate.
 */
import { decodeNotification } from './notification.js';
import { decodeOpen } from './open.js';
import { decodeUpdate, type UpdateDecodeOptions } from './update.js';
import type { BgpMessage } from './types.js';
import { decodeError, truncated } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

export const BGP_HEADER_BYTES = 19;
export const BGP_MAX_MESSAGE_BYTES = 65535;

export const BGP_TYPE = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

export interface BgpHeader {
  readonly length: number;
  readonly type: number;
}

/** Validate the header at `start`; the message must fit in [start, limit). */
export function decodeBgpHeader(buf: Buffer, start: number, limit: number): Result<BgpHeader> {
  if (limit - start < BGP_HEADER_BYTES) return err(truncated('bgp', start, 'BGP header', BGP_HEADER_BYTES, limit - start));
  for (let i = 0; i < 16; i++) {
    if (buf[start + i] !== 0xff) return err(decodeError('bgp', 'bad-marker', start + i, 'BGP marker is not all ones'));
  }
  const length = buf.readUInt16BE(start + 16);
  if (length < BGP_HEADER_BYTES) return err(decodeError('bgp', 'bad-bgp-length', start + 16, `BGP length ${length} is below the 19-byte header`));
  if (length > limit - start) return err(truncated('bgp', start + 16, 'BGP message', length, limit - start));
  return ok({ length, type: buf[start + 18] });
}

/**
 * Decode one BGP message at `start`. `update` options are needed only for UPDATEs (session-dependent layout).
 * Returns the message and its length so callers can walk consecutive messages (BMP Peer Up holds two OPENs).
 */
export function decodeBgpMessage(
  buf: Buffer,
  start: number,
  limit: number,
  update: UpdateDecodeOptions,
): Result<{ message: BgpMessage; length: number }> {
  const header = decodeBgpHeader(buf, start, limit);
  if (!header.ok) return header;
  const { length, type } = header.value;
  const bodyStart = start + BGP_HEADER_BYTES;
  const end = start + length;
  let message: Result<BgpMessage>;
  switch (type) {
    case BGP_TYPE.OPEN:
      message = decodeOpen(buf, bodyStart, end);
      break;
    case BGP_TYPE.UPDATE:
      message = decodeUpdate(buf, bodyStart, end, update);
      break;
    case BGP_TYPE.NOTIFICATION:
      message = decodeNotification(buf, bodyStart, end);
      break;
    case BGP_TYPE.KEEPALIVE:
      message = end === bodyStart ? ok({ type: 'keepalive' }) : err(decodeError('bgp', 'bad-bgp-length', start + 16, 'KEEPALIVE with a body'));
      break;
    case BGP_TYPE.ROUTE_REFRESH:
      // RFC 2918 §3 / RFC 7313: AFI (2) | Subtype (1) | SAFI (1)
      message =
        end - bodyStart === 4
          ? ok({ type: 'route-refresh', afi: buf.readUInt16BE(bodyStart), subtype: buf[bodyStart + 2], safi: buf[bodyStart + 3] })
          : err(decodeError('bgp', 'bad-bgp-length', start + 16, 'ROUTE-REFRESH must have a 4-byte body'));
      break;
    default:
      message = ok({ type: 'unknown', messageType: type, hex: buf.toString('hex', bodyStart, end) });
  }
  return message.ok ? ok({ message: message.value, length }) : message;
}
