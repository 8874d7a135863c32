/**
 * BGP NOTIFICATION (RFC 4271 §4.5): Error code (1) | Error subcode (1) | Data (variable).
 * A Cease with subcode 2 (Administrative Shutdown) or 4 (Administrative Reset) may carry a shutdown
 * communication (RFC 9003): length (1) + UTF-8 text.
 */
import { notificationCodeName, notificationSubcodeName } from './notification-names.js';
import type { BgpNotification } from './types.js';
import { truncated } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

export function decodeNotification(buf: Buffer, start: number, end: number): Result<BgpNotification> {
  if (end - start < 2) return err(truncated('bgp', start, 'NOTIFICATION', 2, end - start));
  const code = buf[start];
  const subcode = buf[start + 1];
  const data = buf.subarray(start + 2, end);
  const notification: BgpNotification = {
    type: 'notification',
    code,
    subcode,
    codeName: notificationCodeName(code),
    subcodeName: notificationSubcodeName(code, subcode),
    dataHex: data.toString('hex'),
  };
  if (code === 6 && (subcode === 2 || subcode === 4) && data.length >= 1 && data[0] > 0 && data[0] + 1 <= data.length) {
    return ok({ ...notification, shutdownMessage: data.toString('utf8', 1, 1 + data[0]) });
  }
  return ok(notification);
}
