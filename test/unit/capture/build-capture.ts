/**
 * Test-only builders for synthetic captures: TCP/IP packets, link-layer headers, and pcap / pcapng files in
 * either byte order. Deliberately independent of src/capture so the reader is checked against a second opinion.
 */

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** Growable byte writer with explicit byte order per call. */
class Writer {
  private readonly parts: number[] = [];

  u8(value: number): this {
    this.parts.push(value & 0xff);
    return this;
  }

  u16(value: number, littleEndian = false): this {
    const bytes = [(value >>> 8) & 0xff, value & 0xff];
    for (const b of littleEndian ? bytes.reverse() : bytes) this.parts.push(b);
    return this;
  }

  u32(value: number, littleEndian = false): this {
    const v = value >>> 0;
    const bytes = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    for (const b of littleEndian ? bytes.reverse() : bytes) this.parts.push(b);
    return this;
  }

  bytes(data: Uint8Array | readonly number[]): this {
    for (const b of data) this.parts.push(b);
    return this;
  }

  padTo4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }

  get length(): number {
    return this.parts.length;
  }

  build(): Buffer {
    return Buffer.from(this.parts);
  }
}

export function text(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

export function ipv4Bytes(address: string): number[] {
  return address.split('.').map((part) => Number(part));
}

export function ipv6Bytes(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const headGroups = parse(head);
  const tailGroups = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeros, ...tailGroups].flatMap((g) => [g >> 8, g & 0xff]);
}

// ---------------------------------------------------------------------------------------------------------------
// TCP / IP

export interface TcpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags?: number;
  payload?: Uint8Array | string;
  /** Raw TCP options, padded to a multiple of 4 by the builder. */
  options?: readonly number[];
}

export function tcpSegmentBytes(spec: TcpSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? text(spec.payload) : (spec.payload ?? new Uint8Array());
  const options = new Writer().bytes(spec.options ?? []).padTo4().build();
  const headerLength = 20 + options.length;
  const flags = spec.flags ?? (payload.length > 0 ? ACK | PSH : ACK);
  return new Writer()
    .u16(spec.srcPort)
    .u16(spec.dstPort)
    .u32(spec.seq)
    .u32(spec.ack ?? 0)
    .u8((headerLength / 4) << 4)
    .u8(flags)
    .u16(65535) // window
    .u16(0) // checksum: never verified by the reader (loopback captures carry offloaded, wrong checksums)
    .u16(0) // urgent pointer
    .bytes(options)
    .bytes(payload)
    .build();
}

export interface Ipv4Options {
  /** Raw IP options (padded to 4); they make IHL > 5. */
  options?: readonly number[];
  fragmentOffset?: number; // in 8-byte units
  moreFragments?: boolean;
  /** Override the total-length field (e.g. 0 as segmentation offload leaves it). */
  totalLength?: number;
  protocol?: number;
}

export function ipv4Packet(src: string, dst: string, payload: Uint8Array, opts: Ipv4Options = {}): Buffer {
  const options = new Writer().bytes(opts.options ?? []).padTo4().build();
  const headerLength = 20 + options.length;
  const fragmented = opts.fragmentOffset !== undefined || opts.moreFragments === true;
  // Unfragmented packets carry DF, as Linux sends them; fragments carry MF (except the last) and their offset.
  const flagsFragment = fragmented ? (opts.moreFragments === true ? 0x2000 : 0) | (opts.fragmentOffset ?? 0) : 0x4000;
  return new Writer()
    .u8(0x40 | (headerLength / 4))
    .u8(0)
    .u16(opts.totalLength ?? headerLength + payload.length)
    .u16(0x1234)
    .u16(flagsFragment)
    .u8(64)
    .u8(opts.protocol ?? 6)
    .u16(0)
    .bytes(ipv4Bytes(src))
    .bytes(ipv4Bytes(dst))
    .bytes(options)
    .bytes(payload)
    .build();
}

export interface Ipv6Extension {
  type: number; // 0 hop-by-hop, 43 routing, 60 destination options, 44 fragment, 51 AH
  /** For fragment headers: the fragment offset in 8-byte units. */
  fragmentOffset?: number;
  /** Extra 8-byte units of option padding for hop-by-hop/routing/destination headers. */
  extraUnits?: number;
}

export function ipv6Packet(src: string, dst: string, payload: Uint8Array, extensions: readonly Ipv6Extension[] = [], nextHeader = 6): Buffer {
  const chain = new Writer();
  extensions.forEach((ext, i) => {
    const next = i + 1 < extensions.length ? extensions[i + 1].type : nextHeader;
    if (ext.type === 44) {
      chain.u8(next).u8(0).u16(((ext.fragmentOffset ?? 0) << 3) | 1).u32(0xabcd);
    } else if (ext.type === 51) {
      chain.u8(next).u8(4).u16(0).bytes(new Array<number>(20).fill(0xaa)); // (4 + 2) * 4 = 24 bytes
    } else {
      const units = ext.extraUnits ?? 0;
      chain.u8(next).u8(units).bytes([1, 4, 0, 0, 0, 0]).bytes(new Array<number>(units * 8).fill(0)); // PadN option
    }
  });
  const body = new Writer().bytes(chain.build()).bytes(payload).build();
  return new Writer()
    .u32(0x60000000)
    .u16(body.length)
    .u8(extensions.length > 0 ? extensions[0].type : nextHeader)
    .u8(64)
    .bytes(ipv6Bytes(src))
    .bytes(ipv6Bytes(dst))
    .bytes(body)
    .build();
}

/** TCP in IPv4 or IPv6, chosen by the address syntax. */
export function tcpIp(spec: TcpSpec, extensions: readonly Ipv6Extension[] = []): Buffer {
  const segment = tcpSegmentBytes(spec);
  return spec.src.includes(':') ? ipv6Packet(spec.src, spec.dst, segment, extensions) : ipv4Packet(spec.src, spec.dst, segment);
}

// ---------------------------------------------------------------------------------------------------------------
// Link layers

function etherTypeFor(ip: Uint8Array): number {
  return ip[0] >> 4 === 6 ? 0x86dd : 0x0800;
}

export function ethernet(ip: Uint8Array, vlanTags: readonly { tpid: number; vid: number }[] = [], etherType = etherTypeFor(ip)): Buffer {
  const w = new Writer().bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  for (const tag of vlanTags) w.u16(tag.tpid).u16(tag.vid);
  return w.u16(etherType).bytes(ip).build();
}

export function sll(ip: Uint8Array, protocol = etherTypeFor(ip)): Buffer {
  return new Writer().u16(0).u16(772).u16(6).bytes([0, 0, 0, 0, 0, 0, 0, 0]).u16(protocol).bytes(ip).build();
}

export function sll2(ip: Uint8Array, protocol = etherTypeFor(ip)): Buffer {
  return new Writer().u16(protocol).u16(0).u32(1).u16(772).u8(0).u8(6).bytes([0, 0, 0, 0, 0, 0, 0, 0]).bytes(ip).build();
}

/** BSD null (host byte order) or OpenBSD loop (network byte order) header with an address family. */
export function loopback(ip: Uint8Array, family: number, littleEndian: boolean): Buffer {
  return new Writer().u32(family, littleEndian).bytes(ip).build();
}

// ---------------------------------------------------------------------------------------------------------------
// Files

export interface PacketRecord {
  /** Seconds since the epoch. */
  time: number;
  data: Uint8Array;
  /** Length on the wire; defaults to data.length. */
  origLen?: number;
}

export interface PcapOptions {
  linkType: number;
  littleEndian?: boolean;
  nanoseconds?: boolean;
  snapLen?: number;
}

export function pcapFile(opts: PcapOptions, packets: readonly PacketRecord[]): Buffer {
  const le = opts.littleEndian ?? true;
  const units = opts.nanoseconds === true ? 1e9 : 1e6;
  const w = new Writer()
    .u32(opts.nanoseconds === true ? 0xa1b23c4d : 0xa1b2c3d4, le)
    .u16(2, le)
    .u16(4, le)
    .u32(0, le)
    .u32(0, le)
    .u32(opts.snapLen ?? 262144, le)
    .u32(opts.linkType, le);
  for (const p of packets) {
    const seconds = Math.floor(p.time);
    w.u32(seconds, le)
      .u32(Math.round((p.time - seconds) * units), le)
      .u32(p.data.length, le)
      .u32(p.origLen ?? p.data.length, le)
      .bytes(p.data);
  }
  return w.build();
}

export type PcapngBlock =
  | { kind: 'shb'; littleEndian: boolean; major?: number }
  | { kind: 'idb'; linkType: number; snapLen?: number; tsresol?: number; tsoffset?: number }
  | { kind: 'epb'; iface: number; time: number; data: Uint8Array; origLen?: number }
  | { kind: 'opb'; iface: number; time: number; data: Uint8Array }
  | { kind: 'spb'; data: Uint8Array; origLen?: number }
  | { kind: 'raw'; type: number; body: Uint8Array };

function timestampTicks(time: number, tsresol: number): bigint {
  const units = (tsresol & 0x80) !== 0 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  const seconds = Math.floor(time);
  return BigInt(seconds) * units + BigInt(Math.round((time - seconds) * Number(units)));
}

/**
 * Write pcapng blocks in order. Each SHB switches the byte order (and resets interfaces, as readers must);
 * EPB/OPB timestamps use the if_tsresol of the interface they name.
 */
export function pcapngFile(blocks: readonly PcapngBlock[]): Buffer {
  const out = new Writer();
  let le = true;
  let resolutions: number[] = [];
  const emit = (type: number, body: Buffer): void => {
    const length = 12 + body.length;
    out.u32(type, le).u32(length, le).bytes(body).u32(length, le);
  };
  for (const block of blocks) {
    switch (block.kind) {
      case 'shb': {
        le = block.littleEndian;
        resolutions = [];
        emit(0x0a0d0d0a, new Writer().u32(0x1a2b3c4d, le).u16(block.major ?? 1, le).u16(0, le).u32(0xffffffff, le).u32(0xffffffff, le).build());
        break;
      }
      case 'idb': {
        const body = new Writer().u16(block.linkType, le).u16(0, le).u32(block.snapLen ?? 0, le);
        body.u16(2, le).u16(2, le).bytes(text('lo')).padTo4(); // if_name, to exercise option skipping
        if (block.tsresol !== undefined) body.u16(9, le).u16(1, le).u8(block.tsresol).padTo4();
        if (block.tsoffset !== undefined) {
          const hi = Math.floor(block.tsoffset / 2 ** 32);
          const lo = block.tsoffset >>> 0;
          body.u16(14, le).u16(8, le);
          if (le) body.u32(lo, le).u32(hi, le);
          else body.u32(hi, le).u32(lo, le);
        }
        body.u16(0, le).u16(0, le);
        resolutions.push(block.tsresol ?? 6);
        emit(1, body.build());
        break;
      }
      case 'epb':
      case 'opb': {
        const ticks = timestampTicks(block.time, resolutions[block.iface] ?? 6);
        const body = new Writer();
        if (block.kind === 'epb') body.u32(block.iface, le);
        else body.u16(block.iface, le).u16(0, le);
        body
          .u32(Number(ticks >> 32n), le)
          .u32(Number(ticks & 0xffffffffn), le)
          .u32(block.data.length, le)
          .u32(block.kind === 'epb' ? (block.origLen ?? block.data.length) : block.data.length, le)
          .bytes(block.data)
          .padTo4();
        if (block.kind === 'epb') body.u16(1, le).u16(3, le).bytes(text('hi!')).padTo4().u16(0, le).u16(0, le); // opt_comment
        emit(block.kind === 'epb' ? 6 : 2, body.build());
        break;
      }
      case 'spb':
        emit(3, new Writer().u32(block.origLen ?? block.data.length, le).bytes(block.data).padTo4().build());
        break;
      case 'raw':
        emit(block.type, new Writer().bytes(block.body).padTo4().build());
        break;
    }
  }
  return out.build();
}
