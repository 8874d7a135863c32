/**
 * TCP stream reassembly for offline captures: segments in capture order → one byte stream per direction.
 *
 * Each direction (src ip, src port → dst ip, dst port) is rebuilt by sequence number, never by arrival order:
 *   - the SYN consumes one sequence number, so payload starts at ISN + 1;
 *   - out-of-order segments are slotted in where they belong;
 *   - retransmissions and overlaps keep the FIRST copy of every byte (what the receiver most likely accepted,
 *     and what tshark shows by default);
 *   - sequence numbers are compared modulo 2^32, so a stream may wrap (and may even exceed 4 GiB);
 *   - missing bytes are counted in gapBytes and simply left out: a later BMP framer reports the damage.
 * A new SYN (with a different ISN) on a 4-tuple whose connection we already know starts a new stream: the router
 * reconnected from the same port.
 *
 * Pure: no I/O, no logging, and nothing here can throw on any segment sequence.
 */

export interface TcpStream {
  /** e.g. "127.0.0.1:60806->127.0.0.1:11019#1"; the suffix counts connections on this 4-tuple direction. */
  id: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** The reassembled payload of this direction, in sequence order (gaps left out, not filled). */
  bytes: Buffer;
  /** Seconds since the epoch of the first packet of this direction (SYN included). */
  firstPacketTime: number;
  /** Packets seen in this direction, pure ACKs and retransmissions included. */
  packets: number;
  /** Bytes missing from the sequence space (0 for a complete capture). */
  gapBytes: number;
}

/** One decoded TCP segment, as the capture reader hands it over. */
export interface TcpSegment {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** Raw 32-bit sequence and acknowledgement numbers. */
  readonly seq: number;
  readonly ack: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10). */
  readonly flags: number;
  /** The captured payload; may be shorter than what was sent if the capture truncated it. */
  readonly payload: Uint8Array;
  /** Seconds since the epoch. */
  readonly time: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

const SEQ_SPACE = 2 ** 32;
/**
 * RFC 7323 caps a TCP window at 2^30 bytes, so a sender can never be further than that ahead of (or behind) what
 * we have already seen. Segments outside that band belong to another connection (or are corrupt) and are ignored,
 * which stops one stray packet from inventing gigabytes of "gap".
 */
const MAX_WINDOW = 2 ** 30;

/** Signed distance a − b in 32-bit sequence space (RFC 1982 serial arithmetic). */
function seqDistance(a: number, b: number): number {
  return (a - b) | 0;
}

function mod32(value: number): number {
  return ((value % SEQ_SPACE) + SEQ_SPACE) % SEQ_SPACE;
}

/** A run of payload at relative offsets [start, end); data is a view into the capture, never copied. */
interface Chunk {
  start: number;
  end: number;
  data: Uint8Array;
}

/** A segment's payload as received; order is its arrival rank, which decides who owns overlapping bytes. */
interface Received {
  start: number;
  end: number;
  readonly data: Uint8Array;
  readonly order: number;
}

/** Minimal binary min-heap on arrival order: the earliest-arrived segment covering a byte supplies it. */
class EarliestFirst {
  private readonly items: Received[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Received {
    return this.items[0];
  }

  push(item: Received): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].order <= items[i].order) break;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && items[left].order < items[least].order) least = left;
      if (right < items.length && items[right].order < items[least].order) least = right;
      if (least === i) return;
      [items[least], items[i]] = [items[i], items[least]];
      i = least;
    }
  }
}

/**
 * Resolve received segments into sorted, disjoint chunks where every byte comes from the earliest-arrived segment
 * that carried it ("keep the first copy"). A sweep over positions with a heap of the segments covering the
 * current position: O(n log n) however hostile the order, where inserting into a sorted array would be O(n²).
 */
function resolveOverlaps(received: readonly Received[]): Chunk[] {
  const byStart = [...received].sort((a, b) => a.start - b.start || a.order - b.order);
  const active = new EarliestFirst();
  const chunks: Chunk[] = [];
  const owners: Received[] = []; // owners[i] supplied chunks[i]
  let next = 0; // index into byStart of the next segment to become active
  let pos = -Infinity;
  while (next < byStart.length || active.size > 0) {
    if (active.size === 0) pos = Math.max(pos, byStart[next].start); // jump over a hole
    while (next < byStart.length && byStart[next].start <= pos) active.push(byStart[next++]);
    while (active.size > 0 && active.peek().end <= pos) active.pop(); // lazily drop segments we moved past
    if (active.size === 0) continue;
    const owner = active.peek();
    const until = Math.min(owner.end, next < byStart.length ? byStart[next].start : Infinity);
    appendChunk(chunks, owners, pos, until, owner);
    pos = until;
  }
  return chunks;
}

/** Add owner's bytes [from, to), extending the last chunk when it is the same segment continuing. */
function appendChunk(chunks: Chunk[], owners: Received[], from: number, to: number, owner: Received): void {
  const last = chunks.length - 1;
  if (last >= 0 && owners[last] === owner && chunks[last].end === from) {
    chunks[last].end = to;
    chunks[last].data = owner.data.subarray(chunks[last].start - owner.start, to - owner.start);
    return;
  }
  chunks.push({ start: from, end: to, data: owner.data.subarray(from - owner.start, to - owner.start) });
  owners.push(owner);
}

function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function directionKey(src: string, srcPort: number, dst: string, dstPort: number): string {
  return `${src}|${srcPort}|${dst}|${dstPort}`;
}

/** The state of one direction of one connection while segments arrive. */
class StreamBuilder {
  packets = 0;
  /** Raw ISN once a SYN was seen; null for a connection the capture joined midway. */
  isn: number | null = null;
  /** Set by FIN or RST (either side's RST): the 4-tuple may now be reused by a new connection. */
  closed = false;
  /** Every payload-carrying segment, in arrival order; overlaps are resolved once, in build(). */
  private readonly received: Received[] = [];
  /** Raw sequence number of relative offset 0 (ISN + 1, or the first sequence number seen). */
  private baseSeq: number | null = null;
  /** Highest relative offset reached; sequence numbers are unwrapped around it so the stream may wrap. */
  private frontier = 0;
  /** Lowest relative offset holding data (Infinity while there is none). */
  private lowest = Infinity;
  private finOffset: number | null = null;
  private ackedOffset: number | null = null;

  constructor(
    readonly id: string,
    readonly first: TcpSegment,
    /** Creation order across all directions, to tell an old connection's packets from the current one's. */
    readonly serial: number,
  ) {}

  /** Opened by a client's SYN (no ACK): everything the other direction sent before belongs to an older connection. */
  get openedByClientSyn(): boolean {
    return (this.first.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
  }

  add(segment: TcpSegment): void {
    this.packets++;
    let payloadSeq = segment.seq;
    if ((segment.flags & TCP_SYN) !== 0) {
      if (this.isn === null) this.adoptSyn(segment.seq);
      payloadSeq = (segment.seq + 1) >>> 0; // SYN occupies one sequence number; data (TCP Fast Open) follows it
    }
    if (this.baseSeq === null) this.baseSeq = payloadSeq;
    if ((segment.flags & TCP_RST) !== 0) {
      this.closed = true; // an RST's payload is diagnostic text, never stream data
      return;
    }
    const offset = this.relative(payloadSeq);
    if (offset === null || !this.plausible(offset)) return;
    this.addData(offset, segment.payload);
    if ((segment.flags & TCP_FIN) !== 0) {
      this.closed = true;
      this.finOffset ??= offset + segment.payload.length;
    }
  }

  /** The other direction acknowledged up to ack: bytes below it were sent even if the capture missed them. */
  noteAck(ack: number): void {
    const offset = this.relative(ack);
    if (offset === null || !this.plausible(offset)) return;
    this.ackedOffset = Math.max(this.ackedOffset ?? offset, offset);
  }

  /**
   * Whether a SYN with this sequence number opens a new connection rather than belonging to this one.
   * A SYN repeating our ISN is a retransmission. A first SYN for a stream the capture joined midway belongs to it
   * only if it sits just before the data we have (the capture reordered it) and the connection is still open.
   */
  isNewConnection(synSeq: number): boolean {
    if (this.isn !== null) return synSeq !== this.isn;
    if (this.closed) return true;
    const shift = this.relative((synSeq + 1) >>> 0);
    return shift === null ? false : shift > this.lowestOffset() || shift < this.lowestOffset() - MAX_WINDOW;
  }

  /** The finished stream, or null if this direction carried no payload at all (e.g. pure ACKs). */
  build(): TcpStream | null {
    let chunks = resolveOverlaps(this.received);
    // Defensive: with a SYN, nothing before ISN + 1 is stream data (addData already clips; this keeps it true).
    if (this.isn !== null) chunks = clipBefore(chunks, 0);
    if (chunks.length === 0) return null;
    const dataEnd = chunks[chunks.length - 1].end;
    const start = this.isn !== null ? 0 : chunks[0].start; // without a SYN we cannot know what came before
    let gapBytes = chunks[0].start - start;
    for (let i = 1; i < chunks.length; i++) gapBytes += chunks[i].start - chunks[i - 1].end;
    gapBytes += this.expectedEnd(dataEnd) - dataEnd; // bytes sent after the last one we saw
    let total = 0;
    for (const chunk of chunks) total += chunk.data.length;
    return {
      id: this.id,
      src: this.first.src,
      srcPort: this.first.srcPort,
      dst: this.first.dst,
      dstPort: this.first.dstPort,
      bytes: Buffer.concat(
        chunks.map((c) => c.data),
        total,
      ),
      firstPacketTime: this.first.time,
      packets: this.packets,
      gapBytes,
    };
  }

  /** Where the sender's data ended: its FIN, or failing that the highest acknowledgement (capped by the FIN). */
  private expectedEnd(dataEnd: number): number {
    let end = Math.max(dataEnd, this.finOffset ?? dataEnd);
    if (this.ackedOffset !== null) {
      // An ACK of the FIN covers the FIN's own sequence number, which is not a data byte.
      end = Math.max(end, this.finOffset !== null ? Math.min(this.ackedOffset, this.finOffset) : this.ackedOffset);
    }
    return end;
  }

  /**
   * Make ISN + 1 relative offset 0. Only a reordered SYN (data seen first) moves anything, and isNewConnection
   * admitted it only if ISN + 1 lies at or before all data, so nothing ends up below 0.
   */
  private adoptSyn(synSeq: number): void {
    this.isn = synSeq;
    const newBase = (synSeq + 1) >>> 0;
    const shift = this.relative(newBase);
    this.baseSeq = newBase;
    if (shift === null || shift === 0) return;
    for (const piece of this.received) {
      piece.start -= shift;
      piece.end -= shift;
    }
    this.lowest -= shift;
    this.frontier -= shift;
    if (this.finOffset !== null) this.finOffset -= shift;
    if (this.ackedOffset !== null) this.ackedOffset -= shift;
  }

  private addData(offset: number, payload: Uint8Array): void {
    let start = offset;
    let data = payload;
    if (this.isn !== null && start < 0) {
      // Bytes before ISN + 1 are not part of this connection's stream.
      data = data.subarray(Math.min(data.length, -start));
      start = 0;
    }
    if (data.length === 0) return;
    const end = start + data.length;
    this.received.push({ start, end, data, order: this.received.length });
    this.lowest = Math.min(this.lowest, start);
    this.frontier = Math.max(this.frontier, end);
  }

  /** Unwrap a raw 32-bit sequence number to an offset relative to baseSeq, choosing the wrap nearest the frontier. */
  private relative(seq: number): number | null {
    if (this.baseSeq === null) return null;
    const frontierSeq = mod32(this.baseSeq + this.frontier);
    return this.frontier + seqDistance(seq, frontierSeq);
  }

  private lowestOffset(): number {
    return Math.min(0, this.lowest);
  }

  private plausible(offset: number): boolean {
    return offset >= this.lowestOffset() - MAX_WINDOW && offset <= this.frontier + MAX_WINDOW;
  }
}

/** Drop chunk bytes below offset. */
function clipBefore(chunks: Chunk[], offset: number): Chunk[] {
  const kept: Chunk[] = [];
  for (const chunk of chunks) {
    if (chunk.end <= offset) continue;
    if (chunk.start >= offset) kept.push(chunk);
    else kept.push({ start: offset, end: chunk.end, data: chunk.data.subarray(offset - chunk.start) });
  }
  return kept;
}

/**
 * Feed segments in capture order with add(); finish() returns the streams that carried payload, in order of
 * their first packet.
 */
export class TcpReassembler {
  private readonly current = new Map<string, StreamBuilder>();
  private readonly connectionCount = new Map<string, number>();
  private readonly opened: StreamBuilder[] = [];

  add(segment: TcpSegment): void {
    const key = directionKey(segment.src, segment.srcPort, segment.dst, segment.dstPort);
    let stream = this.current.get(key);
    const isSyn = (segment.flags & TCP_SYN) !== 0;
    if (stream === undefined || (isSyn && stream.isNewConnection(segment.seq))) stream = this.open(key, segment);
    stream.add(segment);
    const reverse = this.current.get(directionKey(segment.dst, segment.dstPort, segment.src, segment.srcPort));
    // After a reconnect, the other direction's current stream stays the old connection's until its SYN-ACK;
    // a late ACK or RST from it says nothing about the new connection (its numbers would read as a huge gap).
    if (reverse === undefined || (reverse.openedByClientSyn && stream.serial < reverse.serial)) return;
    if ((segment.flags & TCP_ACK) !== 0) reverse.noteAck(segment.ack);
    if ((segment.flags & TCP_RST) !== 0) reverse.closed = true; // a reset kills both directions
  }

  finish(): TcpStream[] {
    const streams: TcpStream[] = [];
    for (const builder of this.opened) {
      const stream = builder.build();
      if (stream !== null) streams.push(stream);
    }
    return streams;
  }

  private open(key: string, segment: TcpSegment): StreamBuilder {
    const n = (this.connectionCount.get(key) ?? 0) + 1;
    this.connectionCount.set(key, n);
    const id = `${endpointText(segment.src, segment.srcPort)}->${endpointText(segment.dst, segment.dstPort)}#${n}`;
    const stream = new StreamBuilder(id, segment, this.opened.length);
    this.current.set(key, stream);
    this.opened.push(stream);
    return stream;
  }
}

/** Convenience: reassemble a whole list of segments (capture order). */
export function reassembleTcp(segments: Iterable<TcpSegment>): TcpStream[] {
  const reassembler = new TcpReassembler();
  for (const segment of segments) reassembler.add(segment);
  return reassembler.finish();
}
