/**
 * Address text for the hot path. The decoder formats millions of prefixes, so this avoids allocating an
 * ip-address object per prefix; test/unit/model/address.test.ts checks it against ip-address's canonical form.
 * IPv6 follows RFC 5952: lower-case hex, no leading zeros, the longest run (first if tied) of two or more zero
 * groups as "::", and IPv4-mapped addresses (::ffff:a.b.c.d) in mixed notation (§5).
 */

export function formatIPv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

const groups = new Uint16Array(8);

export function formatIPv6(bytes: Uint8Array, offset: number): string {
  for (let i = 0; i < 8; i++) groups[i] = (bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1];
  // RFC 5952 §5: IPv4-mapped addresses are written with the IPv4 part dotted.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed (§4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) {
    let text = groups[0].toString(16);
    for (let i = 1; i < 8; i++) text += `:${groups[i].toString(16)}`;
    return text;
  }
  let text = '';
  for (let i = 0; i < bestStart; i++) text += i === 0 ? groups[i].toString(16) : `:${groups[i].toString(16)}`;
  text += '::';
  const tailStart = bestStart + bestLength;
  for (let i = tailStart; i < 8; i++) text += i === tailStart ? groups[i].toString(16) : `:${groups[i].toString(16)}`;
  return text;
}

/** BMP stores IPv4 addresses in the last 4 bytes of a 16-byte field (RFC 7854 §4.2). */
export function formatAddress16(bytes: Uint8Array, offset: number, isIPv6: boolean): string {
  return isIPv6 ? formatIPv6(bytes, offset) : formatIPv4(bytes, offset + 12);
}

export function isAllZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
