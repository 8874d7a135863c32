/**
 * Information TLVs (RFC 7854 §4.4): Type (2) | Length (2) | Value. Used by Initiation, Termination, Peer Up
 * (§4.10) and Peer Down reason 6 (RFC 9069). Unknown types are kept (as hex) and skipped by their length.
 */
import type { InformationTlv } from './types.js';
import { truncated, type DecodeError } from '../wire/decode-error.js';

/** `textTypes`: types whose value is UTF-8 text; everything else is shown as hex. */
export function decodeInformationTlvs(
  buf: Buffer,
  start: number,
  end: number,
  names: Record<number, string>,
  textTypes: ReadonlySet<number>,
): InformationTlv[] | DecodeError {
  const tlvs: InformationTlv[] = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < 4) return truncated('bmp', pos, 'information TLV header', 4, end - pos);
    const type = buf.readUInt16BE(pos);
    const length = buf.readUInt16BE(pos + 2);
    pos += 4;
    if (end - pos < length) return truncated('bmp', pos - 4, `information TLV ${type}`, length, end - pos);
    const value = textTypes.has(type) ? buf.toString('utf8', pos, pos + length) : buf.toString('hex', pos, pos + length);
    tlvs.push({ type, name: names[type] ?? `type-${type}`, value });
    pos += length;
  }
  return tlvs;
}
