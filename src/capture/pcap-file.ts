/**
 * Offline capture reader: classic pcap or pcapng bytes → link layer → IPv4/IPv6 → TCP segments → streams.
 *
 * Pure and total: no I/O, no logging, and no input makes it throw. Every read is preceded by an explicit length
 * check (we never lean on Buffer's RangeError), and every problem becomes a DecodeError value with the byte offset
 * in the file. A truncated or corrupt container stops the walk at that point; whatever came before is still used.
 *
 * Classic pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html):
 *   24-byte file header (magic, version, thiszone, sigfigs, snaplen, link type), then per packet a 16-byte record
 *   header (seconds, micro- or nanoseconds, captured length, original length) and the captured bytes. The magic's
 *   byte order is the file's byte order; 0xa1b23c4d marks nanosecond timestamps.
 * pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
 *   blocks of (type, total length, body, total length). The Section Header Block's byte-order magic sets the byte
 *   order until the next section; Interface Description Blocks give each interface its link type and timestamp
 *   resolution; packets come in Enhanced, Simple or (obsolete) Packet Blocks. Every other block is skipped.
 */
import { decodeError, truncated, type DecodeError } from '../wire/decode-error.js';
import { TcpReassembler, type TcpSegment, type TcpStream } from './tcp-reassembly.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** One captured frame, before any protocol decoding. */
export interface CapturedPacket {
  /** 1-based position in the file, for error messages. */
  readonly index: number;
  readonly linkType: number;
  /** Seconds since the epoch. */
  readonly time: number;
  /** The captured bytes: a view into the file. */
  readonly data: Uint8Array;
  /** Length on the wire; larger than data.length when the capture's snap length cut the frame. */
  readonly origLen: number;
  /** File offset of data[0], so errors inside the frame can point into the file. */
  readonly fileOffset: number;
}

export interface CaptureContents {
  readonly format: CaptureFormat | null;
  readonly packets: CapturedPacket[];
  readonly errors: DecodeError[];
}

// ---------------------------------------------------------------------------------------------------------------
// Bounds-checked primitives. Callers check has() first; the readers themselves never index past the end.

function has(bytes: Uint8Array, offset: number, count: number): boolean {
  return offset >= 0 && count >= 0 && offset + count <= bytes.length;
}

function u16(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  const a = bytes[offset];
  const b = bytes[offset + 1];
  return littleEndian ? a | (b << 8) : (a << 8) | b;
}

function u32(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  const hi = u16(bytes, offset, littleEndian);
  const lo = u16(bytes, offset + 2, littleEndian);
  return littleEndian ? lo * 0x10000 + hi : hi * 0x10000 + lo;
}

function matches(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (!has(bytes, offset, expected.length)) return false;
  return expected.every((value, i) => bytes[offset + i] === value);
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Format detection

const PCAP_MAGICS: ReadonlyArray<{ bytes: readonly number[]; littleEndian: boolean; nanoseconds: boolean }> = [
  { bytes: [0xd4, 0xc3, 0xb2, 0xa1], littleEndian: true, nanoseconds: false },
  { bytes: [0xa1, 0xb2, 0xc3, 0xd4], littleEndian: false, nanoseconds: false },
  { bytes: [0x4d, 0x3c, 0xb2, 0xa1], littleEndian: true, nanoseconds: true },
  { bytes: [0xa1, 0xb2, 0x3c, 0x4d], littleEndian: false, nanoseconds: true },
];

/** The SHB block type is a byte palindrome on purpose, so it reads the same in either byte order. */
const PCAPNG_SHB_TYPE = [0x0a, 0x0d, 0x0d, 0x0a];

/** Identify a capture file by its first four bytes; null if it is neither pcap nor pcapng. */
export function detectCaptureFormat(head: Uint8Array): CaptureFormat | null {
  if (PCAP_MAGICS.some((m) => matches(head, 0, m.bytes))) return 'pcap';
  if (matches(head, 0, PCAPNG_SHB_TYPE)) return 'pcapng';
  return null;
}

/** Split a capture file into frames. Never throws; problems are returned in errors. */
export function readCapture(file: Uint8Array): CaptureContents {
  const errors: DecodeError[] = [];
  if (!has(file, 0, 4)) {
    errors.push(truncated('capture', 0, 'capture file magic', 4, file.length));
    return { format: null, packets: [], errors };
  }
  const format = detectCaptureFormat(file);
  if (format === 'pcap') return { format, packets: readPcap(file, errors), errors };
  if (format === 'pcapng') return { format, packets: readPcapng(file, errors), errors };
  errors.push(decodeError('capture', 'bad-capture', 0, `unknown capture magic ${hex32(u32(file, 0, false))}, expected pcap or pcapng`));
  return { format: null, packets: [], errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Classic pcap

const PCAP_FILE_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;

function readPcap(file: Uint8Array, errors: DecodeError[]): CapturedPacket[] {
  const packets: CapturedPacket[] = [];
  if (!has(file, 0, PCAP_FILE_HEADER_BYTES)) {
    errors.push(truncated('capture', 0, 'pcap file header', PCAP_FILE_HEADER_BYTES, file.length));
    return packets;
  }
  const magic = PCAP_MAGICS.find((m) => matches(file, 0, m.bytes));
  const littleEndian = magic?.littleEndian ?? true;
  const fractionUnits = magic?.nanoseconds === true ? 1e9 : 1e6;
  // The upper bits of the link-type field carry FCS information (draft-ietf-opsawg-pcap §4), not the type.
  const linkType = u32(file, 20, littleEndian) & 0xffff;
  let offset = PCAP_FILE_HEADER_BYTES;
  while (offset < file.length) {
    const index = packets.length + 1;
    if (!has(file, offset, PCAP_RECORD_HEADER_BYTES)) {
      errors.push(truncated('capture', offset, `pcap record ${index} header`, PCAP_RECORD_HEADER_BYTES, file.length - offset));
      break;
    }
    const seconds = u32(file, offset, littleEndian);
    const fraction = u32(file, offset + 4, littleEndian);
    const capLen = u32(file, offset + 8, littleEndian);
    const origLen = u32(file, offset + 12, littleEndian);
    const dataOffset = offset + PCAP_RECORD_HEADER_BYTES;
    if (!has(file, dataOffset, capLen)) {
      errors.push(truncated('capture', offset, `pcap record ${index} data`, capLen, file.length - dataOffset));
      break;
    }
    const data = file.subarray(dataOffset, dataOffset + capLen);
    packets.push({ index, linkType, time: seconds + fraction / fractionUnits, data, origLen, fileOffset: dataOffset });
    offset = dataOffset + capLen;
  }
  return packets;
}

// ---------------------------------------------------------------------------------------------------------------
// pcapng

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_OPB = 0x00000002; // obsolete Packet Block: still written by old tools, costs nothing to read
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BLOCK_MIN_BYTES = 12; // type + length + trailing length
const BYTE_ORDER_MAGIC_LE = [0x4d, 0x3c, 0x2b, 0x1a];
const BYTE_ORDER_MAGIC_BE = [0x1a, 0x2b, 0x3c, 0x4d];
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface PcapngInterface {
  readonly linkType: number;
  readonly snapLen: number;
  /** Timestamp ticks per second (10^6 unless if_tsresol says otherwise). */
  tsUnits: bigint;
  /** if_tsoffset: seconds to add to every timestamp. */
  tsOffset: number;
}

interface Section {
  readonly littleEndian: boolean;
  readonly interfaces: PcapngInterface[];
}

interface PcapngWalk {
  readonly file: Uint8Array;
  readonly errors: DecodeError[];
  readonly packets: CapturedPacket[];
  /** Simple Packet Blocks carry no timestamp: they inherit the previous packet's so ordering stays sensible. */
  lastTime: number;
}

/** A block's body as a view plus where it starts in the file. */
interface BlockBody {
  readonly bytes: Uint8Array;
  readonly fileOffset: number;
}

function readPcapng(file: Uint8Array, errors: DecodeError[]): CapturedPacket[] {
  const walk: PcapngWalk = { file, errors, packets: [], lastTime: 0 };
  let section: Section | null = null;
  let offset = 0;
  while (offset < file.length) {
    if (!has(file, offset, BLOCK_MIN_BYTES)) {
      errors.push(truncated('capture', offset, 'pcapng block header', BLOCK_MIN_BYTES, file.length - offset));
      break;
    }
    if (matches(file, offset, PCAPNG_SHB_TYPE)) {
      section = startSection(file, offset, errors);
      if (section === null) break;
    }
    if (section === null) {
      errors.push(decodeError('capture', 'bad-capture', offset, 'pcapng file does not start with a Section Header Block'));
      break;
    }
    const blockLength = checkBlockFraming(file, offset, section.littleEndian, errors);
    if (blockLength === null) break; // the framing is lost: nothing after this point can be trusted
    const type = u32(file, offset, section.littleEndian);
    const body: BlockBody = { bytes: file.subarray(offset + 8, offset + blockLength - 4), fileOffset: offset + 8 };
    if (type === BLOCK_SHB && !checkSectionVersion(body, section, errors)) break;
    if (type === BLOCK_IDB) readInterface(body, section, errors);
    if (type === BLOCK_EPB) readEnhancedPacket(body, section, walk);
    if (type === BLOCK_OPB) readObsoletePacket(body, section, walk);
    if (type === BLOCK_SPB) readSimplePacket(body, section, walk);
    offset += blockLength;
  }
  return walk.packets;
}

/** A new SHB: its byte-order magic fixes the byte order of everything up to the next SHB. */
function startSection(file: Uint8Array, offset: number, errors: DecodeError[]): Section | null {
  if (matches(file, offset + 8, BYTE_ORDER_MAGIC_LE)) return { littleEndian: true, interfaces: [] };
  if (matches(file, offset + 8, BYTE_ORDER_MAGIC_BE)) return { littleEndian: false, interfaces: [] };
  const magic = has(file, offset + 8, 4) ? hex32(u32(file, offset + 8, false)) : 'missing';
  errors.push(decodeError('capture', 'bad-capture', offset + 8, `pcapng byte-order magic ${magic}, expected 0x1a2b3c4d`));
  return null;
}

/** Validate the block's leading and trailing lengths; returns the length or null (error recorded). */
function checkBlockFraming(file: Uint8Array, offset: number, littleEndian: boolean, errors: DecodeError[]): number | null {
  const length = u32(file, offset + 4, littleEndian);
  if (length < BLOCK_MIN_BYTES || length % 4 !== 0) {
    errors.push(decodeError('capture', 'bad-capture', offset + 4, `pcapng block length ${length} is not a multiple of 4 of at least ${BLOCK_MIN_BYTES}`));
    return null;
  }
  if (!has(file, offset, length)) {
    const type = hex32(u32(file, offset, littleEndian));
    errors.push(truncated('capture', offset, `pcapng block type ${type}`, length, file.length - offset));
    return null;
  }
  const trailing = u32(file, offset + length - 4, littleEndian);
  if (trailing !== length) {
    errors.push(decodeError('capture', 'bad-capture', offset + length - 4, `pcapng trailing block length ${trailing} differs from leading length ${length}`));
    return null;
  }
  return length;
}

/** SHB body: byte-order magic, major, minor, section length (8), options. Only major version 1 exists. */
function checkSectionVersion(body: BlockBody, section: Section, errors: DecodeError[]): boolean {
  if (!has(body.bytes, 0, 16)) {
    errors.push(truncated('capture', body.fileOffset, 'pcapng Section Header Block', 16, body.bytes.length));
    return false;
  }
  const major = u16(body.bytes, 4, section.littleEndian);
  if (major !== 1) {
    const minor = u16(body.bytes, 6, section.littleEndian);
    errors.push(decodeError('capture', 'bad-capture', body.fileOffset + 4, `unsupported pcapng version ${major}.${minor}`));
    return false;
  }
  return true;
}

/** IDB body: link type (2), reserved (2), snap length (4), options. */
function readInterface(body: BlockBody, section: Section, errors: DecodeError[]): void {
  const { bytes } = body;
  if (!has(bytes, 0, 8)) {
    errors.push(truncated('capture', body.fileOffset, 'pcapng Interface Description Block', 8, bytes.length));
    // Still register it so later interface ids keep pointing at the right interfaces.
    section.interfaces.push({ linkType: -1, snapLen: 0, tsUnits: 1_000_000n, tsOffset: 0 });
    return;
  }
  const iface: PcapngInterface = {
    linkType: u16(bytes, 0, section.littleEndian),
    snapLen: u32(bytes, 4, section.littleEndian),
    tsUnits: 1_000_000n,
    tsOffset: 0,
  };
  forEachOption(body, 8, section.littleEndian, errors, (code, value) => {
    if (code === OPT_IF_TSRESOL && value.length >= 1) iface.tsUnits = timestampUnits(value[0]);
    if (code === OPT_IF_TSOFFSET && value.length >= 8) iface.tsOffset = signed64(value, section.littleEndian);
  });
  section.interfaces.push(iface);
}

/** if_tsresol: high bit clear → 10^-n seconds, set → 2^-n seconds. */
function timestampUnits(resolution: number): bigint {
  return (resolution & 0x80) !== 0 ? 1n << BigInt(resolution & 0x7f) : 10n ** BigInt(resolution);
}

function signed64(bytes: Uint8Array, littleEndian: boolean): number {
  const first = u32(bytes, 0, littleEndian);
  const second = u32(bytes, 4, littleEndian);
  const [hi, lo] = littleEndian ? [second, first] : [first, second];
  return (hi | 0) * 2 ** 32 + lo;
}

/** Walk (code, length, value padded to 4) options until opt_endofopt or the end of the body. */
function forEachOption(
  body: BlockBody,
  start: number,
  littleEndian: boolean,
  errors: DecodeError[],
  visit: (code: number, value: Uint8Array) => void,
): void {
  const { bytes } = body;
  let offset = start;
  while (offset < bytes.length) {
    if (!has(bytes, offset, 4)) {
      errors.push(truncated('capture', body.fileOffset + offset, 'pcapng option header', 4, bytes.length - offset));
      return;
    }
    const code = u16(bytes, offset, littleEndian);
    const length = u16(bytes, offset + 2, littleEndian);
    if (code === OPT_ENDOFOPT) return;
    if (!has(bytes, offset + 4, length)) {
      errors.push(truncated('capture', body.fileOffset + offset, `pcapng option ${code}`, length, bytes.length - offset - 4));
      return;
    }
    visit(code, bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + Math.ceil(length / 4) * 4;
  }
}

/** EPB body: interface id (4), timestamp high (4), low (4), captured length (4), original length (4), data. */
function readEnhancedPacket(body: BlockBody, section: Section, walk: PcapngWalk): void {
  if (!has(body.bytes, 0, 20)) {
    walk.errors.push(truncated('capture', body.fileOffset, 'pcapng Enhanced Packet Block', 20, body.bytes.length));
    return;
  }
  const interfaceId = u32(body.bytes, 0, section.littleEndian);
  addTimestampedPacket(body, section, walk, interfaceId, 4, 'Enhanced Packet Block');
}

/** Obsolete Packet Block body: interface id (2), drops (2), then as the EPB from the timestamp on. */
function readObsoletePacket(body: BlockBody, section: Section, walk: PcapngWalk): void {
  if (!has(body.bytes, 0, 20)) {
    walk.errors.push(truncated('capture', body.fileOffset, 'pcapng Packet Block', 20, body.bytes.length));
    return;
  }
  const interfaceId = u16(body.bytes, 0, section.littleEndian);
  addTimestampedPacket(body, section, walk, interfaceId, 4, 'Packet Block');
}

/** Shared tail of EPB and OPB: timestamp, lengths and data start at tsOffset (the caller checked 20 bytes). */
function addTimestampedPacket(body: BlockBody, section: Section, walk: PcapngWalk, interfaceId: number, at: number, what: string): void {
  const { bytes } = body;
  const le = section.littleEndian;
  const iface = interfaceId < section.interfaces.length ? section.interfaces[interfaceId] : undefined;
  if (iface === undefined) {
    const detail = `pcapng ${what} names interface ${interfaceId}, but the section defines ${section.interfaces.length}`;
    walk.errors.push(decodeError('capture', 'bad-capture', body.fileOffset, detail));
    return;
  }
  const capLen = u32(bytes, at + 8, le);
  const origLen = u32(bytes, at + 12, le);
  const dataAt = at + 16;
  if (!has(bytes, dataAt, capLen)) {
    walk.errors.push(truncated('capture', body.fileOffset + dataAt, `pcapng ${what} packet data`, capLen, bytes.length - dataAt));
    return;
  }
  const time = ticksToSeconds(u32(bytes, at, le), u32(bytes, at + 4, le), iface);
  pushPacket(walk, iface.linkType, time, bytes.subarray(dataAt, dataAt + capLen), origLen, body.fileOffset + dataAt);
}

/** SPB body: original length (4), data. Captured length is implied: min(original, snap length, body). */
function readSimplePacket(body: BlockBody, section: Section, walk: PcapngWalk): void {
  const { bytes } = body;
  if (!has(bytes, 0, 4)) {
    walk.errors.push(truncated('capture', body.fileOffset, 'pcapng Simple Packet Block', 4, bytes.length));
    return;
  }
  const iface = section.interfaces[0] as PcapngInterface | undefined;
  if (iface === undefined) {
    walk.errors.push(decodeError('capture', 'bad-capture', body.fileOffset, 'pcapng Simple Packet Block before any Interface Description Block'));
    return;
  }
  const origLen = u32(bytes, 0, section.littleEndian);
  let capLen = Math.min(origLen, bytes.length - 4);
  if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
  pushPacket(walk, iface.linkType, walk.lastTime, bytes.subarray(4, 4 + capLen), origLen, body.fileOffset + 4);
}

function pushPacket(walk: PcapngWalk, linkType: number, time: number, data: Uint8Array, origLen: number, fileOffset: number): void {
  walk.packets.push({ index: walk.packets.length + 1, linkType, time, data, origLen, fileOffset });
  walk.lastTime = time;
}

/** 64-bit tick count → seconds. BigInt because nanosecond ticks since 1970 exceed 2^53. */
function ticksToSeconds(high: number, low: number, iface: PcapngInterface): number {
  const ticks = (BigInt(high) << 32n) | BigInt(low);
  const whole = ticks / iface.tsUnits;
  const fraction = ticks % iface.tsUnits;
  return Number(whole) + Number(fraction) / Number(iface.tsUnits) + iface.tsOffset;
}

// ---------------------------------------------------------------------------------------------------------------
// Link layer → network layer

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW_DLT12 = 12; // DLT_RAW on most systems, written verbatim by some
const LINKTYPE_RAW_DLT14 = 14; // DLT_RAW on OpenBSD
const LINKTYPE_RAW = 101;
const LINKTYPE_LOOP = 108;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100 tag: each adds 4 bytes (TCI + inner type). */
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);
/** Address family values for IPv6 in BSD loopback headers: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30. */
const AF_INET = 2;
const AF_INET6_VALUES = new Set([10, 24, 28, 30]);

type NetworkProtocol = 'ipv4' | 'ipv6' | 'ip'; // 'ip': raw IP, version taken from the first nibble

interface NetworkLayer {
  readonly protocol: NetworkProtocol;
  readonly offset: number;
}

/** Everything the per-packet decoders need to report errors against the file. */
interface PacketContext {
  readonly packet: CapturedPacket;
  readonly errors: DecodeError[];
}

/** Record a truncation inside a packet; returns null so decoders can `return packetTruncated(...)`. */
function packetTruncated(ctx: PacketContext, at: number, what: string, need: number): null {
  const have = Math.max(0, ctx.packet.data.length - at);
  ctx.errors.push(truncated('capture', ctx.packet.fileOffset + at, `packet ${ctx.packet.index} ${what}`, need, have));
  return null;
}

/** Record a malformed header inside a packet; returns null like packetTruncated. */
function packetBad(ctx: PacketContext, at: number, detail: string): null {
  ctx.errors.push(decodeError('capture', 'bad-capture', ctx.packet.fileOffset + at, `packet ${ctx.packet.index}: ${detail}`));
  return null;
}

/** Find where the IP header starts. null: not IP (silently skipped) or broken (error recorded). */
function networkLayer(ctx: PacketContext, unsupported: Set<number>): NetworkLayer | null {
  const { data, linkType } = ctx.packet;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return ethernetLayer(ctx);
    case LINKTYPE_LINUX_SLL:
      // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
      if (!has(data, 0, 16)) return packetTruncated(ctx, 0, 'Linux cooked (SLL) header', 16);
      return afterEthertype(ctx, u16(data, 14, false), 16);
    case LINKTYPE_LINUX_SLL2:
      // protocol (2), reserved (2), interface index (4), ARPHRD (2), packet type (1), address length (1), address (8)
      if (!has(data, 0, 20)) return packetTruncated(ctx, 0, 'Linux cooked v2 (SLL2) header', 20);
      return afterEthertype(ctx, u16(data, 0, false), 20);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      return loopbackLayer(ctx);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_DLT12:
    case LINKTYPE_RAW_DLT14:
      return { protocol: 'ip', offset: 0 };
    case LINKTYPE_IPV4:
      return { protocol: 'ipv4', offset: 0 };
    case LINKTYPE_IPV6:
      return { protocol: 'ipv6', offset: 0 };
    default:
      // One error per link type, not per packet: a capture full of them would otherwise drown everything else.
      if (!unsupported.has(linkType)) {
        unsupported.add(linkType);
        packetBad(ctx, 0, `unsupported link type ${linkType}; its packets are skipped`);
      }
      return null;
  }
}

/** Ethernet II: destination (6), source (6), ethertype (2), possibly VLAN tags before the real ethertype. */
function ethernetLayer(ctx: PacketContext): NetworkLayer | null {
  if (!has(ctx.packet.data, 0, 14)) return packetTruncated(ctx, 0, 'Ethernet header', 14);
  return afterEthertype(ctx, u16(ctx.packet.data, 12, false), 14);
}

/** Step over any VLAN tags, then map the ethertype; non-IP frames (ARP, LLDP...) are skipped silently. */
function afterEthertype(ctx: PacketContext, firstType: number, firstOffset: number): NetworkLayer | null {
  const { data } = ctx.packet;
  let type = firstType;
  let offset = firstOffset;
  while (VLAN_ETHERTYPES.has(type)) {
    if (!has(data, offset, 4)) return packetTruncated(ctx, offset, 'VLAN tag', 4);
    type = u16(data, offset + 2, false);
    offset += 4;
  }
  if (type === ETHERTYPE_IPV4) return { protocol: 'ipv4', offset };
  if (type === ETHERTYPE_IPV6) return { protocol: 'ipv6', offset };
  return null;
}

/** BSD null/loop: a 4-byte address family, host byte order for NULL, network order for LOOP; accept either. */
function loopbackLayer(ctx: PacketContext): NetworkLayer | null {
  const { data } = ctx.packet;
  if (!has(data, 0, 4)) return packetTruncated(ctx, 0, 'loopback header', 4);
  const families = [u32(data, 0, true), u32(data, 0, false)];
  if (families.includes(AF_INET)) return { protocol: 'ipv4', offset: 4 };
  if (families.some((f) => AF_INET6_VALUES.has(f))) return { protocol: 'ipv6', offset: 4 };
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// IPv4 / IPv6

const IPPROTO_TCP = 6;
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AUTH = 51;
const IPV6_DEST_OPTIONS = 60;

/** The transport payload of one IP packet. */
interface IpPayload {
  readonly src: string;
  readonly dst: string;
  /** Offset of the TCP header in the packet data. */
  readonly offset: number;
  /** How many transport bytes the IP header says follow (the capture may hold fewer). */
  readonly declaredLength: number;
}

function ipLayer(ctx: PacketContext, network: NetworkLayer): IpPayload | null {
  const { data } = ctx.packet;
  let protocol = network.protocol;
  if (protocol === 'ip') {
    if (!has(data, network.offset, 1)) return packetTruncated(ctx, network.offset, 'IP header', 1);
    const version = data[network.offset] >> 4;
    if (version !== 4 && version !== 6) return packetBad(ctx, network.offset, `IP version ${version} in a raw IP packet`);
    protocol = version === 4 ? 'ipv4' : 'ipv6';
  }
  return protocol === 'ipv4' ? ipv4Layer(ctx, network.offset) : ipv6Layer(ctx, network.offset);
}

/** IPv4: honour IHL (options), skip non-TCP and non-first fragments (they carry no TCP header). */
function ipv4Layer(ctx: PacketContext, at: number): IpPayload | null {
  const { data } = ctx.packet;
  if (!has(data, at, 20)) return packetTruncated(ctx, at, 'IPv4 header', 20);
  const version = data[at] >> 4;
  if (version !== 4) return packetBad(ctx, at, `IPv4 header with version ${version}`);
  const headerLength = (data[at] & 0x0f) * 4;
  if (headerLength < 20) return packetBad(ctx, at, `IPv4 header length ${headerLength} is below 20`);
  if (!has(data, at, headerLength)) return packetTruncated(ctx, at, 'IPv4 header with options', headerLength);
  let totalLength = u16(data, at + 2, false);
  // Total length 0 is what segmentation offload leaves in captured super-frames: trust the capture instead.
  if (totalLength === 0) totalLength = data.length - at;
  if (totalLength < headerLength) return packetBad(ctx, at + 2, `IPv4 total length ${totalLength} is below its header length ${headerLength}`);
  const fragmentOffset = u16(data, at + 6, false) & 0x1fff;
  if (fragmentOffset !== 0 || data[at + 9] !== IPPROTO_TCP) return null;
  return {
    src: formatIpv4(data, at + 12),
    dst: formatIpv4(data, at + 16),
    offset: at + headerLength,
    declaredLength: totalLength - headerLength,
  };
}

/** IPv6: walk hop-by-hop, routing, destination-options and AH headers; skip non-first fragments. */
function ipv6Layer(ctx: PacketContext, at: number): IpPayload | null {
  const { data } = ctx.packet;
  if (!has(data, at, 40)) return packetTruncated(ctx, at, 'IPv6 header', 40);
  const version = data[at] >> 4;
  if (version !== 6) return packetBad(ctx, at, `IPv6 header with version ${version}`);
  const payloadLength = u16(data, at + 4, false);
  // Payload length 0 means a jumbogram or an offloaded super-frame: take what was captured.
  const end = payloadLength === 0 ? data.length : at + 40 + payloadLength;
  let next = data[at + 6];
  let offset = at + 40;
  while (next !== IPPROTO_TCP) {
    const step = extensionHeaderLength(ctx, next, offset);
    if (step === null) return null;
    next = data[offset];
    offset += step;
  }
  if (offset > end) return packetBad(ctx, at + 4, `IPv6 payload length ${payloadLength} ends inside its extension headers`);
  return { src: formatIpv6(data, at + 8), dst: formatIpv6(data, at + 24), offset, declaredLength: end - offset };
}

/** Length of the extension header at offset, or null to stop (not TCP, a later fragment, or truncated). */
function extensionHeaderLength(ctx: PacketContext, type: number, offset: number): number | null {
  const { data } = ctx.packet;
  if (type !== IPV6_HOP_BY_HOP && type !== IPV6_ROUTING && type !== IPV6_DEST_OPTIONS && type !== IPV6_AUTH && type !== IPV6_FRAGMENT) {
    return null; // UDP, ICMPv6, ESP, "no next header"...: nothing for us
  }
  if (!has(data, offset, 8)) return packetTruncated(ctx, offset, `IPv6 extension header ${type}`, 8);
  if (type === IPV6_FRAGMENT) {
    // Only the first fragment (offset 0) holds the TCP header; later ones are skipped like IPv4's.
    return u16(data, offset + 2, false) >> 3 === 0 ? 8 : null;
  }
  // AH counts 4-byte units minus 2 (RFC 4302); the others count 8-byte units beyond the first (RFC 8200).
  const length = type === IPV6_AUTH ? (data[offset + 1] + 2) * 4 : (data[offset + 1] + 1) * 8;
  if (!has(data, offset, length)) return packetTruncated(ctx, offset, `IPv6 extension header ${type}`, length);
  return length;
}

export function formatIpv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952: lowercase, no leading zeros, the longest (first on a tie) run of ≥ 2 zero groups as "::". */
export function formatIpv6(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16(bytes, offset + i * 2, false));
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad, which is how everyone recognises them.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const text = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return text(0, 8);
  return `${text(0, bestStart)}::${text(bestStart + bestLength, 8)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// TCP

/** Decode one frame down to its TCP segment; null for anything that is not TCP over IP (or is broken). */
export function decodeTcpSegment(packet: CapturedPacket, errors: DecodeError[], unsupported: Set<number> = new Set()): TcpSegment | null {
  const ctx: PacketContext = { packet, errors };
  const network = networkLayer(ctx, unsupported);
  if (network === null) return null;
  const ip = ipLayer(ctx, network);
  if (ip === null) return null;
  return tcpLayer(ctx, ip);
}

/** TCP: honour the data offset (options), and keep whatever payload the capture holds. */
function tcpLayer(ctx: PacketContext, ip: IpPayload): TcpSegment | null {
  const { data } = ctx.packet;
  const at = ip.offset;
  if (!has(data, at, 20)) return packetTruncated(ctx, at, 'TCP header', 20);
  const headerLength = (data[at + 12] >> 4) * 4;
  if (headerLength < 20) return packetBad(ctx, at + 12, `TCP data offset ${headerLength} is below 20`);
  if (!has(data, at, headerLength)) return packetTruncated(ctx, at, 'TCP header with options', headerLength);
  if (ip.declaredLength < headerLength) {
    return packetBad(ctx, at, `IP says ${ip.declaredLength} transport bytes, less than the ${headerLength}-byte TCP header`);
  }
  const payloadAt = at + headerLength;
  const declared = ip.declaredLength - headerLength;
  const captured = Math.min(declared, data.length - payloadAt);
  // A snap length shorter than the packet cuts the payload: report it; the reassembler counts the missing bytes.
  if (captured < declared) packetTruncated(ctx, payloadAt, 'TCP payload', declared);
  return {
    src: ip.src,
    dst: ip.dst,
    srcPort: u16(data, at, false),
    dstPort: u16(data, at + 2, false),
    seq: u32(data, at + 4, false),
    ack: u32(data, at + 8, false),
    flags: data[at + 13],
    payload: data.subarray(payloadAt, payloadAt + captured),
    time: ctx.packet.time,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Whole file → streams

/**
 * Read a pcap or pcapng file and reassemble every TCP direction that carried payload, in order of first packet.
 * Never throws: container and packet problems are returned in errors, and missing TCP bytes in each stream's
 * gapBytes.
 */
export function extractTcpStreams(file: Uint8Array): { format: CaptureFormat | null; streams: TcpStream[]; errors: DecodeError[] } {
  const { format, packets, errors } = readCapture(file);
  const reassembler = new TcpReassembler();
  const unsupported = new Set<number>();
  for (const packet of packets) {
    const segment = decodeTcpSegment(packet, errors, unsupported);
    if (segment !== null) reassembler.add(segment);
  }
  return { format, streams: reassembler.finish(), errors };
}
