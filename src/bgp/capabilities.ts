/**
 * OPEN capabilities (RFC 5492 Optional Parameter type 2; RFC 9072 extended optional parameters length).
 * Each capability: code (1 byte), length (1 byte), value. Codes from the IANA "Capability Codes" registry.
 */
import type { AddPathFamily, Capability, GracefulRestartFamily } from './types.js';

/** Decode the capabilities inside one Optional Parameter value. Malformed lengths stop the walk (returns false). */
export function decodeCapabilities(buf: Buffer, start: number, end: number, out: Capability[]): boolean {
  let pos = start;
  while (pos < end) {
    if (end - pos < 2) return false;
    const code = buf[pos];
    const length = buf[pos + 1];
    pos += 2;
    if (end - pos < length) return false;
    out.push(decodeCapability(code, buf.subarray(pos, pos + length)));
    pos += length;
  }
  return true;
}

function decodeCapability(code: number, value: Buffer): Capability {
  const unknown = (): Capability => ({ type: 'unknown', code, hex: value.toString('hex') });
  switch (code) {
    case 1: // RFC 4760 §8: AFI (2), reserved (1), SAFI (1)
      return value.length === 4 ? { type: 'multiprotocol', code: 1, afi: value.readUInt16BE(0), safi: value[3] } : unknown();
    case 2:
    case 128: // 128 is the pre-standard Cisco route refresh code, still sent by FRR
      return { type: 'route-refresh', code };
    case 6: // RFC 8654
      return { type: 'extended-message', code: 6 };
    case 64:
      return decodeGracefulRestart(value) ?? unknown();
    case 65: // RFC 6793 §3
      return value.length === 4 ? { type: 'four-octet-as', code: 65, as: value.readUInt32BE(0) } : unknown();
    case 69:
      return decodeAddPath(value) ?? unknown();
    case 70:
      return { type: 'enhanced-route-refresh', code: 70 };
    case 71:
      return { type: 'long-lived-graceful-restart', code: 71, hex: value.toString('hex') };
    case 73:
      return decodeFqdn(value) ?? unknown();
    default:
      return unknown();
  }
}

/** RFC 4724 §3: restart flags (4 bits) + time (12 bits), then (AFI 2, SAFI 1, flags 1) per family. */
function decodeGracefulRestart(value: Buffer): Capability | null {
  if (value.length < 2 || (value.length - 2) % 4 !== 0) return null;
  const head = value.readUInt16BE(0);
  const families: GracefulRestartFamily[] = [];
  for (let pos = 2; pos < value.length; pos += 4) {
    families.push({ afi: value.readUInt16BE(pos), safi: value[pos + 2], forwardingState: (value[pos + 3] & 0x80) !== 0 });
  }
  return { type: 'graceful-restart', code: 64, restartFlags: head >> 12, restartTime: head & 0x0fff, families };
}

/** RFC 7911 §4: (AFI 2, SAFI 1, Send/Receive 1) per family. */
function decodeAddPath(value: Buffer): Capability | null {
  if (value.length % 4 !== 0) return null;
  const families: AddPathFamily[] = [];
  for (let pos = 0; pos < value.length; pos += 4) {
    families.push({ afi: value.readUInt16BE(pos), safi: value[pos + 2], sendReceive: value[pos + 3] });
  }
  return { type: 'add-path', code: 69, families };
}

/** draft-walton-bgp-hostname-capability: hostname length + hostname, domain length + domain. */
function decodeFqdn(value: Buffer): Capability | null {
  if (value.length < 1) return null;
  const hostLength = value[0];
  if (value.length < 1 + hostLength + 1) return null;
  const domainLength = value[1 + hostLength];
  if (value.length < 2 + hostLength + domainLength) return null;
  return {
    type: 'fqdn',
    code: 73,
    hostname: value.toString('utf8', 1, 1 + hostLength),
    domain: value.toString('utf8', 2 + hostLength, 2 + hostLength + domainLength),
  };
}
