/**
 * BGP OPEN (RFC 4271 §4.2), after the 19-byte message header:
 *
 *   Version (1) | My Autonomous System (2) | Hold Time (2) | BGP Identifier (4) | Opt Parm Len (1) | Opt Parms
 *
 * Optional parameters are (type 1, length 1, value); type 2 holds capabilities (RFC 5492). RFC 9072 extends the
 * lengths: Opt Parm Len 255 followed by a parameter type 255 means a 2-byte total length and 2-byte parameter
 * lengths follow.
 */
import { decodeCapabilities } from './capabilities.js';
import type { BgpOpen, Capability } from './types.js';
import { formatIPv4 } from '../model/address.js';
import { decodeError, truncated } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

const OPEN_FIXED_BYTES = 10;
const OPT_PARAM_CAPABILITIES = 2;

export function decodeOpen(buf: Buffer, start: number, end: number): Result<BgpOpen> {
  if (end - start < OPEN_FIXED_BYTES) return err(truncated('bgp', start, 'OPEN', OPEN_FIXED_BYTES, end - start));
  const version = buf[start];
  const myAs = buf.readUInt16BE(start + 1);
  const holdTime = buf.readUInt16BE(start + 3);
  const bgpId = formatIPv4(buf, start + 5);
  let paramsLength = buf[start + 9];
  let pos = start + 10;
  let extended = false;
  if (paramsLength === 255 && end - pos >= 3 && buf[pos] === 255) {
    extended = true;
    paramsLength = buf.readUInt16BE(pos + 1);
    pos += 3;
  }
  if (end - pos !== paramsLength) {
    return err(decodeError('bgp', 'length-mismatch', start + 9, `OPEN optional parameters length ${paramsLength}, ${end - pos} bytes present`));
  }
  const capabilities: Capability[] = [];
  const headerBytes = extended ? 3 : 2;
  while (pos < end) {
    if (end - pos < headerBytes) return err(truncated('bgp', pos, 'OPEN optional parameter', headerBytes, end - pos));
    const type = buf[pos];
    const length = extended ? buf.readUInt16BE(pos + 1) : buf[pos + 1];
    pos += headerBytes;
    if (end - pos < length) return err(truncated('bgp', pos, 'OPEN optional parameter value', length, end - pos));
    if (type === OPT_PARAM_CAPABILITIES && !decodeCapabilities(buf, pos, pos + length, capabilities)) {
      return err(decodeError('bgp', 'bad-message', pos, 'capability length overruns its optional parameter'));
    }
    pos += length;
  }
  let as = myAs;
  for (const capability of capabilities) if (capability.type === 'four-octet-as') as = capability.as;
  return ok({ type: 'open', version, myAs, as, holdTime, bgpId, capabilities });
}
