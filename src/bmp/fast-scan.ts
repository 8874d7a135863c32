/**
 * The decoder's WebAssembly fast path (src/bmp/wasm/scan.c): runs of whole BMP frames are copied into the module's
 * memory once and scanned there, one call for many messages, because a call per message costs as much as the
 * scan itself. It accepts only Route Monitoring of known peers that decodes cleanly and leaves a record per
 * message (layout REC_* below); everything else is handed back and decoded by the TypeScript decoder, which stays
 * the one definition of errors, warnings and unusual cases (see BmpSessionDecoder.scanFrames).
 *
 * One module instance serves the process; each BmpSessionDecoder owns a peer table in its memory.
 * Set BMPWATCH_DECODER=typescript to turn the fast path off (troubleshooting, or to compare).
 */
import { SCAN_WASM_BASE64 } from './wasm/scan-wasm.js';

/** Record header offsets, in ints (scan.c R_*). */
export const REC_FRAME = 0;
export const REC_LENGTH = 1;
export const REC_PEER = 2;
export const REC_SIZE = 3;
export const REC_UPDATE_START = 4;
export const REC_UPDATE_END = 5;
export const REC_ATTRS_START = 6;
export const REC_ATTRS_END = 7;
export const REC_ORIGIN = 8;
export const REC_MED = 9;
export const REC_LOCAL_PREF = 10;
export const REC_WIDTHS = 11;
export const REC_REACH = 12;
export const REC_UNREACH = 18;
export const REC_EOR = 22;
export const REC_ADDPATH_FALLBACKS = 24;
export const REC_ASWIDTH_FALLBACKS = 25;
export const REC_SECTIONS = 26;
export const REC_ATTR_COUNT = 38;
export const REC_PREFIX_COUNT = 39;
/** Where the record's prefix entries (offset, path id) start in the module's `prefixes` array. */
export const REC_PREFIX_AT = 40;
/** Attribute entries (code, header, value start, value end) follow the header. */
export const REC_HEADER = 41;

export const STOP_END = 0;
export const STOP_PARTIAL = 1;
export const STOP_DEFER = 2;
export const STOP_FULL = 3;

/** Option bits of a peer table slot (scan.c OPT_*). */
export const OPT_FOUR_OCTET_AS = 1;
export const OPT_TO_PEER = 2;
export const OPT_EXPECTED_SHIFT = 4;
export const OPT_KNOWN_SHIFT = 8;
export const OPT_PREVIOUS_SHIFT = 12;

/** The families the fast path indexes, in scan.c's family_bit order. */
export const FAST_FAMILIES: readonly (readonly [afi: number, safi: number])[] = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
];

// The WebAssembly API as used here (this project compiles without the DOM library, which declares it).
interface WasmGlobal {
  readonly value: unknown;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface ScanExports {
  readonly memory: WasmMemory;
  readonly scan_frames: (table: number, from: number, length: number) => number;
  readonly register_peer: (table: number, slot: number, at: number, peer: number, bits: number) => void;
  readonly slot_of: (table: number, at: number) => number;
  readonly clear_table: (table: number) => void;
  readonly table_bytes: () => number;
  readonly input: WasmGlobal;
  readonly records: WasmGlobal;
  readonly prefixes: WasmGlobal;
  readonly stop_pos: WasmGlobal;
  readonly stop_reason: WasmGlobal;
  readonly stop_slot: WasmGlobal;
  readonly __heap_base: WasmGlobal;
}

/** Bytes of frames one call can scan (scan.c INPUT_BYTES); a larger frame is decoded in TypeScript. */
export const FAST_INPUT_BYTES = 1 << 20;

const PAGE = 65_536;

export class FastScanModule {
  readonly exports: ScanExports;
  /** Addresses of scan.c's globals. */
  readonly inputAt: number;
  readonly recordsAt: number;
  readonly prefixesAt: number;
  private readonly stopPosAt: number;
  private readonly stopReasonAt: number;
  private readonly stopSlotAt: number;
  private readonly tableBytes: number;
  /** Set while a decoder scans: its input and records are in use. */
  busy = false;
  /** Set after a trap: every decoder goes on in TypeScript (see BmpSessionDecoder.scanFrames). */
  broken = false;
  private nextTable: number;
  private readonly freeTables: number[] = [];
  private buffer: ArrayBuffer | undefined;
  private u8view = new Uint8Array(0);
  private i32view = new Int32Array(0);
  private u32view = new Uint32Array(0);

  constructor(api: WasmApi, bytes: Uint8Array) {
    const instance = new api.Instance(new api.Module(bytes), {});
    this.exports = instance.exports as unknown as ScanExports;
    const address = (global: WasmGlobal): number => global.value as number;
    this.inputAt = address(this.exports.input);
    this.recordsAt = address(this.exports.records);
    this.prefixesAt = address(this.exports.prefixes);
    this.stopPosAt = address(this.exports.stop_pos) >> 2;
    this.stopReasonAt = address(this.exports.stop_reason) >> 2;
    this.stopSlotAt = address(this.exports.stop_slot) >> 2;
    this.tableBytes = this.exports.table_bytes();
    this.nextTable = (address(this.exports.__heap_base) + 15) & ~15;
  }

  /** Views of the module's memory (re-made when the memory grew). */
  get u8(): Uint8Array {
    this.refresh();
    return this.u8view;
  }

  get i32(): Int32Array {
    this.refresh();
    return this.i32view;
  }

  get u32(): Uint32Array {
    this.refresh();
    return this.u32view;
  }

  get stopPos(): number {
    return this.i32[this.stopPosAt];
  }

  get stopReason(): number {
    return this.i32[this.stopReasonAt];
  }

  get stopSlot(): number {
    return this.i32[this.stopSlotAt];
  }

  /** A cleared peer table for one decoder (its address). */
  allocateTable(): number {
    let table = this.freeTables.pop();
    if (table === undefined) {
      table = this.nextTable;
      this.nextTable += this.tableBytes;
      const missing = this.nextTable - this.exports.memory.buffer.byteLength;
      // Grow by a quarter at least: growing may copy the whole memory.
      if (missing > 0) this.exports.memory.grow(Math.max(Math.ceil(missing / PAGE), Math.ceil(this.exports.memory.buffer.byteLength / 4 / PAGE)));
    }
    this.exports.clear_table(table);
    return table;
  }

  releaseTable(table: number): void {
    this.freeTables.push(table);
  }

  private refresh(): void {
    const buffer = this.exports.memory.buffer;
    if (buffer === this.buffer) return;
    this.buffer = buffer;
    this.u8view = new Uint8Array(buffer);
    this.i32view = new Int32Array(buffer);
    this.u32view = new Uint32Array(buffer);
  }
}

let shared: FastScanModule | null | undefined;

/** The process's fast-path module, or null when it is turned off or WebAssembly is unavailable. */
export function fastScanModule(): FastScanModule | null {
  if (shared !== undefined) return shared;
  if (process.env.BMPWATCH_DECODER === 'typescript' || wasmApi === undefined) {
    shared = null;
    return shared;
  }
  try {
    shared = new FastScanModule(wasmApi, Buffer.from(SCAN_WASM_BASE64, 'base64'));
  } catch {
    // A runtime that refuses the module decodes in TypeScript, as correctly; the bench's fast-path share shows it.
    shared = null;
  }
  return shared;
}
