/**
 * The least work any complete decoder must do, as a yardstick for the decode target: for each Route Monitoring
 * message, step over the per-peer and BGP headers, every path attribute header and every NLRI entry (withdrawn,
 * announced, and inside MP_REACH/MP_UNREACH) by their lengths, and count the prefixes. No check, no ADD-PATH,
 * no output. It is not a decoder: it does not know the peer, so ADD-PATH path ids are read as prefix lengths
 * (a similar amount of stepping, a wrong count for those peers). It shows how cheap walking the bytes is in
 * JavaScript on this machine, against which the scan's checks and bookkeeping can be weighed.
 */

const PER_PEER_END = 6 + 42;
const BGP_HEADER_BYTES = 19;

/** Walk one NLRI block without path ids; returns the entries (or stops at the end when lengths overrun). */
function walkNlri(frame: Buffer, start: number, end: number): number {
  let pos = start;
  let entries = 0;
  while (pos < end) {
    pos += 1 + ((frame[pos] + 7) >> 3);
    entries++;
  }
  return entries;
}

/** Prefixes in a Route Monitoring frame (0 for other message types). */
export function walkRouteMonitoring(frame: Buffer): number {
  if (frame[5] !== 0 || frame.length < PER_PEER_END + BGP_HEADER_BYTES + 4) return 0;
  const end = frame.length;
  let pos = PER_PEER_END + BGP_HEADER_BYTES;
  const withdrawnEnd = pos + 2 + ((frame[pos] << 8) | frame[pos + 1]);
  let prefixes = walkNlri(frame, pos + 2, Math.min(withdrawnEnd, end));
  pos = withdrawnEnd;
  const attributesEnd = Math.min(end, pos + 2 + ((frame[pos] << 8) | frame[pos + 1]));
  pos += 2;
  while (pos + 3 <= attributesEnd) {
    const extended = (frame[pos] & 0x10) !== 0;
    const code = frame[pos + 1];
    const length = extended ? (frame[pos + 2] << 8) | frame[pos + 3] : frame[pos + 2];
    const value = pos + (extended ? 4 : 3);
    const valueEnd = Math.min(value + length, attributesEnd);
    if (code === 14) prefixes += walkNlri(frame, value + 5 + frame[value + 3], valueEnd);
    else if (code === 15) prefixes += walkNlri(frame, value + 3, valueEnd);
    pos = value + length;
  }
  return prefixes + walkNlri(frame, attributesEnd, end);
}
