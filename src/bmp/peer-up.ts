/**
 * Peer Up Notification (RFC 7854 §4.10): per-peer header, then
 *
 *   Local Address (16) | Local Port (2) | Remote Port (2) | Sent OPEN Message | Received OPEN Message |
 *   Information TLVs (0 string, 3 VRF/Table name per RFC 9069)
 *
 * The sent OPEN is the monitored router's, the received OPEN the peer's; together they decide how this peer's
 * UPDATEs are laid out (session-context.ts).
 */
import { PEER_UP_TLV_NAMES } from './constants.js';
import { decodeInformationTlvs } from './information-tlv.js';
import type { PeerMessageHead, PeerUpMessage } from './types.js';
import { BGP_TYPE, decodeBgpHeader } from '../bgp/message.js';
import { decodeOpen } from '../bgp/open.js';
import { negotiateSession, type SessionContext } from '../bgp/session-context.js';
import type { BgpOpen } from '../bgp/types.js';
import { formatAddress16 } from '../model/address.js';
import { decodeError, truncated } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

const PEER_UP_FIXED_BYTES = 20;
const TABLE_NAME_TLV = 3;
const TEXT_TLVS = new Set([0, TABLE_NAME_TLV]);

export interface DecodedPeerUp {
  readonly message: PeerUpMessage;
  readonly session: SessionContext;
}

export function decodePeerUp(buf: Buffer, start: number, end: number, head: PeerMessageHead): Result<DecodedPeerUp> {
  const peer = head.peer;
  if (end - start < PEER_UP_FIXED_BYTES) return err(truncated('bmp', start, 'peer up fields', PEER_UP_FIXED_BYTES, end - start));
  const localAddress = formatAddress16(buf, start, peer.ipv6);
  const localPort = buf.readUInt16BE(start + 16);
  const remotePort = buf.readUInt16BE(start + 18);
  const sent = decodeOpenAt(buf, start + 20, end, 'sent');
  if (!sent.ok) return sent;
  const received = decodeOpenAt(buf, sent.value.end, end, 'received');
  if (!received.ok) return received;
  const information = decodeInformationTlvs(buf, received.value.end, end, PEER_UP_TLV_NAMES, TEXT_TLVS);
  if (!Array.isArray(information)) return err(information);

  const session = negotiateSession(sent.value.open, received.value.open, peer.peerTypeName === 'loc-rib');
  const familyText = (keys: ReadonlySet<number>): string[] => [...keys].map((key) => `${key >> 8}/${key & 0xff}`);
  const tableName = information.find((tlv) => tlv.type === TABLE_NAME_TLV)?.value;
  const message: PeerUpMessage = {
    type: 'peer-up',
    ...head,
    localAddress,
    localPort,
    remotePort,
    sentOpen: sent.value.open,
    receivedOpen: received.value.open,
    information,
    ...(tableName !== undefined && { tableName }),
    negotiated: {
      fourOctetAs: session.fourOctetAs,
      extendedMessages: session.extendedMessages,
      addPathFromPeer: familyText(session.addPathFromPeer),
      addPathToPeer: familyText(session.addPathToPeer),
    },
  };
  return ok({ message, session });
}

function decodeOpenAt(buf: Buffer, start: number, limit: number, which: string): Result<{ open: BgpOpen; end: number }> {
  const header = decodeBgpHeader(buf, start, limit);
  if (!header.ok) return header;
  if (header.value.type !== BGP_TYPE.OPEN) {
    return err(decodeError('bmp', 'bad-message', start + 18, `${which} OPEN has BGP type ${header.value.type}`));
  }
  const end = start + header.value.length;
  const open = decodeOpen(buf, start + 19, end);
  return open.ok ? ok({ open: open.value, end }) : open;
}
