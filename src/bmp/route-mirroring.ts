/**
 * Route Mirroring (RFC 7854 §4.7): per-peer header, then TLVs (Type (2) | Length (2) | Value):
 *   0 BGP Message (a whole PDU, verbatim)   1 Information (2-byte code: 0 errored PDU, 1 messages lost)
 * A mirrored PDU may be the very errored message being reported, so its failure to decode is an item, not an error.
 */
import { ROUTE_MIRRORING_INFO } from './constants.js';
import type { RouteMirroringItem } from './types.js';
import { decodeBgpMessage } from '../bgp/message.js';
import type { UpdateDecodeOptions } from '../bgp/update.js';
import { truncated, type DecodeError } from '../wire/decode-error.js';

export function decodeRouteMirroringItems(buf: Buffer, start: number, end: number, options: UpdateDecodeOptions): RouteMirroringItem[] | DecodeError {
  const items: RouteMirroringItem[] = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < 4) return truncated('bmp', pos, 'route mirroring TLV header', 4, end - pos);
    const type = buf.readUInt16BE(pos);
    const length = buf.readUInt16BE(pos + 2);
    const valueStart = pos + 4;
    const valueEnd = valueStart + length;
    if (valueEnd > end) return truncated('bmp', pos, `route mirroring TLV ${type}`, length, end - valueStart);
    if (type === 0) {
      const decoded = decodeBgpMessage(buf, valueStart, valueEnd, options);
      items.push(
        decoded.ok
          ? { type: 'bgp-message', message: decoded.value.message }
          : { type: 'bgp-message-error', detail: `${decoded.error.code}: ${decoded.error.detail}`, hex: buf.toString('hex', valueStart, valueEnd) },
      );
    } else if (type === 1 && length === 2) {
      const code = buf.readUInt16BE(valueStart);
      items.push({ type: 'information', code, name: ROUTE_MIRRORING_INFO[code] ?? `unknown (${code})` });
    } else {
      items.push({ type: 'unknown', tlvType: type, hex: buf.toString('hex', valueStart, valueEnd) });
    }
    pos = valueEnd;
  }
  return items;
}
