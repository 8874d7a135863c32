/**
 * Shared helpers for the decoder table tests (test/unit/bgp, test/unit/bmp/decode-*.test.ts): build input with
 * src/encode, run it through a BmpSessionDecoder, and narrow the answer to the expected message type.
 */
import { BmpSessionDecoder } from '../../../src/bmp/decode.js';
import type { BmpMessage, PeerUpMessage, RouteMonitoringMessage } from '../../../src/bmp/types.js';
import type { BgpUpdate, Nlri } from '../../../src/bgp/types.js';
import {
  encodeAttribute,
  encodeOpen,
  encodeUpdate,
  type Attribute,
  type Capability,
  type UpdateMessage,
} from '../../../src/encode/bgp-encode.js';
import { encodePeerUp, encodeRouteMonitoring, type PeerHeader } from '../../../src/encode/bmp-encode.js';
import type { DecodeError } from '../../../src/wire/decode-error.js';
import type { Result } from '../../../src/wire/result.js';

/** Common header (6) + per-peer header (42): where the payload of every per-peer message starts in the frame. */
export const PEER_PAYLOAD_AT = 48;
/** Frame offset of the first path attribute of a Route Monitoring UPDATE with no withdrawn routes. */
export const FIRST_ATTRIBUTE_AT = PEER_PAYLOAD_AT + 19 + 2 + 2;

export const PEER_V4: PeerHeader = {
  peerType: 0,
  flags: 0,
  address: '192.0.2.11',
  as: 65011,
  bgpId: '192.0.2.11',
  timestampSec: 1_700_000_000,
  timestampUsec: 0,
};

/** Same peer, 2-octet AS_PATH (A flag, RFC 7854 §4.2). */
export const PEER_V4_LEGACY: PeerHeader = { ...PEER_V4, flags: 0x20 };

export function header(overrides: Partial<PeerHeader> = {}): PeerHeader {
  return { ...PEER_V4, ...overrides };
}

/** Bytes from spaced hex ("ff ff 00"). */
export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Expected NLRI value for a prefix in text form. */
export function nlri(prefix: string, pathId?: number): Nlri {
  const length = Number(prefix.slice(prefix.indexOf('/') + 1));
  const family = prefix.includes(':') ? 'ipv6' : 'ipv4';
  return pathId === undefined ? { prefix, family, length } : { prefix, family, length, pathId };
}

export function expectOk<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.layer}/${result.error.code} at ${result.error.offset}: ${result.error.detail}`);
  return result.value;
}

export function expectError<T>(result: Result<T>): DecodeError {
  if (result.ok) throw new Error(`expected a decode error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function isType<K extends BmpMessage['type']>(message: BmpMessage, type: K): message is Extract<BmpMessage, { type: K }> {
  return message.type === type;
}

/** Decode one frame and insist on the message type. */
export function decodeAs<K extends BmpMessage['type']>(frame: Buffer, type: K, decoder = new BmpSessionDecoder()): Extract<BmpMessage, { type: K }> {
  const message = expectOk(decoder.decode(frame));
  if (!isType(message, type)) throw new Error(`expected a ${type} message, got ${message.type}`);
  return message;
}

export function decodeRouteMonitoring(frame: Buffer, decoder = new BmpSessionDecoder()): RouteMonitoringMessage {
  return decodeAs(frame, 'route-monitoring', decoder);
}

/** One UPDATE (already a whole BGP message) as Route Monitoring from `peer`, decoded. */
export function decodeUpdateFrom(update: Buffer, peer: PeerHeader = PEER_V4, decoder = new BmpSessionDecoder()): BgpUpdate {
  return decodeRouteMonitoring(encodeRouteMonitoring(peer, update), decoder).update;
}

export function decodeUpdateMessage(update: UpdateMessage, peer: PeerHeader = PEER_V4, decoder = new BmpSessionDecoder()): BgpUpdate {
  return decodeUpdateFrom(encodeUpdate(update), peer, decoder);
}

/** An UPDATE whose path attributes are given as raw bytes (possibly malformed), with IPv4 NLRI after them. */
export function rawUpdate(attributes: readonly Buffer[], nlriBytes: Buffer = Buffer.alloc(0), withdrawnBytes: Buffer = Buffer.alloc(0)): Buffer {
  const attributeBytes = Buffer.concat(attributes);
  const body = Buffer.concat([u16(withdrawnBytes.length), withdrawnBytes, u16(attributeBytes.length), attributeBytes, nlriBytes]);
  const message = Buffer.alloc(19 + body.length, 0xff);
  message.writeUInt16BE(message.length, 16);
  message[18] = 2;
  body.copy(message, 19);
  return message;
}

export function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}

/** Raw path attribute: flags, code, 1-byte length (2-byte when flags has 0x10), value. */
export function rawAttribute(flags: number, code: number, value: Buffer | string, declaredLength?: number): Buffer {
  const bytes = typeof value === 'string' ? hex(value) : value;
  const length = declaredLength ?? bytes.length;
  const head = flags & 0x10 ? Buffer.concat([Buffer.from([flags, code]), u16(length)]) : Buffer.from([flags, code, length]);
  return Buffer.concat([head, bytes]);
}

export const attribute = (attr: Attribute, addPath = false): Buffer => encodeAttribute(attr, addPath);

/** The three well-known mandatory attributes, for UPDATEs whose test is about something else. */
export const MANDATORY: readonly Attribute[] = [
  { type: 'origin', value: 0 },
  { type: 'as-path', segments: [{ type: 2, asns: [65011] }], fourOctet: true },
  { type: 'next-hop', address: '192.0.2.11' },
];

export const DEFAULT_CAPABILITIES: readonly Capability[] = [
  { type: 'multiprotocol', afi: 1, safi: 1 },
  { type: 'multiprotocol', afi: 2, safi: 1 },
  { type: 'four-octet-as', as: 65000 },
];

/** A Peer Up for `peer` whose sent OPEN (the monitored router's) and received OPEN (the peer's) carry these capabilities. */
export function peerUpFrame(peer: PeerHeader, sent: readonly Capability[], received: readonly Capability[], tlvs?: readonly Buffer[]): Buffer {
  return encodePeerUp(peer, {
    localAddress: peer.address.includes(':') ? '2001:db8::1' : '192.0.2.1',
    localPort: 179,
    remotePort: 40_001,
    sentOpen: encodeOpen({ myAs: 65000, holdTime: 90, bgpId: '192.0.2.1', capabilities: sent }),
    receivedOpen: encodeOpen({ myAs: peer.as > 0xffff ? 23456 : peer.as, holdTime: 180, bgpId: peer.bgpId, capabilities: received }),
    ...(tlvs && { tlvs }),
  });
}

export function decodePeerUp(frame: Buffer, decoder = new BmpSessionDecoder()): PeerUpMessage {
  return decodeAs(frame, 'peer-up', decoder);
}

/** An UPDATE without its binary attribute-set key (internal to the RIB), for whole-value comparisons. */
export function withoutKey(update: BgpUpdate): Omit<BgpUpdate, 'attributesKey'> {
  const { attributesKey, ...rest } = update;
  if (typeof attributesKey !== 'string') throw new Error('an UPDATE always has an attribute-set key');
  return rest;
}
