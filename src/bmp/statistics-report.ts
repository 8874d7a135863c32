/**
 * Statistics Report (RFC 7854 §4.8): per-peer header, Stats Count (4), then (Stat Type (2) | Stat Len (2) | Data).
 * Counters are 4 bytes, gauges 8; per-AFI/SAFI gauges (types 9, 10, 16, 17, 19, 21) are AFI (2) | SAFI (1) |
 * gauge (8) = 11 bytes. Values are decoded by their length, so future and private types (FRR's 65531) still read.
 */
import { STAT_NAMES } from './constants.js';
import type { Statistic } from './types.js';
import { decodeError, truncated, type DecodeError } from '../wire/decode-error.js';

const TWO_POW_32 = 0x1_0000_0000;

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

export function decodeStatistics(buf: Buffer, start: number, end: number): Statistic[] | DecodeError {
  if (end - start < 4) return truncated('bmp', start, 'statistics count', 4, end - start);
  const count = buf.readUInt32BE(start);
  const stats: Statistic[] = [];
  let pos = start + 4;
  for (let i = 0; i < count; i++) {
    if (end - pos < 4) return truncated('bmp', pos, `statistic ${i + 1} of ${count}`, 4, end - pos);
    const type = buf.readUInt16BE(pos);
    const length = buf.readUInt16BE(pos + 2);
    pos += 4;
    if (end - pos < length) return truncated('bmp', pos - 4, `statistic type ${type}`, length, end - pos);
    stats.push(decodeStatistic(buf, pos, type, length));
    pos += length;
  }
  if (pos !== end) return decodeError('bmp', 'length-mismatch', pos, `${end - pos} bytes follow the ${count} statistics`);
  return stats;
}

function decodeStatistic(buf: Buffer, at: number, type: number, length: number): Statistic {
  const name = STAT_NAMES[type] ?? `type ${type}`;
  switch (length) {
    case 4:
      return { type, name, kind: 'counter', value: buf.readUInt32BE(at) };
    case 8:
      return { type, name, kind: 'gauge', value: readU64(buf, at) };
    case 11:
      return { type, name, kind: 'gauge', afi: buf.readUInt16BE(at), safi: buf[at + 2], value: readU64(buf, at + 3) };
    default:
      return { type, name, kind: 'unknown', value: 0, hex: buf.toString('hex', at, at + length) };
  }
}
