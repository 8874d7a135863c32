/**
 * Peer Down Notification (RFC 7854 §4.9): per-peer header, Reason (1), Data.
 *   1 local close with NOTIFICATION (a whole BGP NOTIFICATION PDU follows)
 *   2 local close without NOTIFICATION (2-byte FSM event code follows)
 *   3 remote close with NOTIFICATION      4 remote close, no data      5 peer de-configured
 *   6 local close, information TLVs follow (RFC 9069 §4.4, Loc-RIB)
 * A NOTIFICATION we cannot parse is kept as hex: the peer is still down, which matters more.
 */
import { PEER_DOWN_REASONS, PEER_UP_TLV_NAMES } from './constants.js';
import { decodeInformationTlvs } from './information-tlv.js';
import type { PeerDownMessage, PeerMessageHead } from './types.js';
import { decodeBgpMessage } from '../bgp/message.js';
import { defaultSessionContext } from '../bgp/session-context.js';
import { truncated } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

const NOTIFICATION_UPDATE_OPTIONS = { session: defaultSessionContext(), direction: 'from-peer', fourOctetAs: true } as const;

export function decodePeerDown(buf: Buffer, start: number, end: number, head: PeerMessageHead): Result<PeerDownMessage> {
  if (end - start < 1) return err(truncated('bmp', start, 'peer down reason', 1, 0));
  const reason = buf[start];
  const base: PeerDownMessage = { type: 'peer-down', ...head, reason, reasonName: PEER_DOWN_REASONS[reason] ?? `unknown (${reason})` };
  const dataStart = start + 1;
  const dataHex = (): string => buf.toString('hex', dataStart, end);
  switch (reason) {
    case 1:
    case 3: {
      const decoded = decodeBgpMessage(buf, dataStart, end, NOTIFICATION_UPDATE_OPTIONS);
      if (decoded.ok && decoded.value.message.type === 'notification') return ok({ ...base, notification: decoded.value.message });
      return ok({ ...base, dataHex: dataHex() });
    }
    case 2:
      return end - dataStart >= 2 ? ok({ ...base, fsmEventCode: buf.readUInt16BE(dataStart) }) : ok({ ...base, dataHex: dataHex() });
    case 6: {
      const information = decodeInformationTlvs(buf, dataStart, end, PEER_UP_TLV_NAMES, new Set([0, 3]));
      return Array.isArray(information) ? ok({ ...base, information }) : ok({ ...base, dataHex: dataHex() });
    }
    default:
      return end > dataStart ? ok({ ...base, dataHex: dataHex() }) : ok(base);
  }
}
