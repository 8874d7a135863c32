// Experiment (see README.md): the WebAssembly scan against the framer and BmpSessionDecoder.scan on the decode
// bench's stream. Needs `npm run build` and clang + lld (Debian: apt-get install clang lld).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const dist = (name) => new URL(`../../dist/${name}`, import.meta.url).href;
const { buildStream } = await import(dist('bench/decode-bench.js'));
const { BmpFramer } = await import(dist('src/bmp/framer.js'));
const { BmpSessionDecoder, SCAN_ROUTE_MONITORING } = await import(dist('src/bmp/decode.js'));

const wasmFile = here('scan.wasm');
if (!existsSync(wasmFile)) {
  const exports = ['scan_chunk', 'errors', 'prefixes', 'messages', '__heap_base'].map((name) => `-Wl,--export=${name}`);
  execFileSync('clang', ['--target=wasm32', '-O3', '-nostdlib', '-Wl,--no-entry', ...exports, '-Wl,--initial-memory=8388608', '-o', wasmFile, here('scan.c')], { stdio: 'inherit' });
}
const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), {});
const ex = instance.exports;
const memory = new Uint8Array(ex.memory.buffer);
const counter = (global) => new Uint32Array(ex.memory.buffer, global.value, 1)[0]; // C globals export their address
const base = (ex.__heap_base.value + 15) & ~15;

const stream = buildStream({ peers: 50, prefixesPerPeer: 10_000, churn: 200_000, seed: 1 });
const CHUNK = 64 * 1024;

function wasmScan() {
  let carry = 0; // an incomplete message stays at `base` for the next chunk
  for (let pos = 0; pos < stream.length; pos += CHUNK) {
    const chunk = stream.subarray(pos, pos + CHUNK);
    memory.set(chunk, base + carry);
    const length = carry + chunk.length;
    const used = ex.scan_chunk(base, length);
    if (used < 0) throw new Error('framing error');
    memory.copyWithin(base, base + used, base + length);
    carry = length - used;
  }
}
function framing() {
  const framer = new BmpFramer();
  for (let pos = 0; pos < stream.length; pos += CHUNK) framer.push(stream.subarray(pos, pos + CHUNK), () => {});
}
function jsScan() {
  const framer = new BmpFramer();
  const decoder = new BmpSessionDecoder();
  for (let pos = 0; pos < stream.length; pos += CHUNK) framer.push(stream.subarray(pos, pos + CHUNK), (frame) => decoder.scan(frame.bytes));
}
const time = (work) => {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const RUNS = 8;
const best = { framing: Infinity, wasm: Infinity, js: Infinity };
for (let i = 0; i < RUNS; i++) {
  best.framing = Math.min(best.framing, time(framing));
  best.wasm = Math.min(best.wasm, time(wasmScan));
  best.js = Math.min(best.js, time(jsScan));
}
let jsPrefixes = 0;
const decoder = new BmpSessionDecoder();
new BmpFramer().push(stream, (frame) => {
  const scan = decoder.scan(frame.bytes);
  if (scan.kind === SCAN_ROUTE_MONITORING) jsPrefixes += scan.update.announcedCount + scan.update.withdrawnCount;
});
const mb = stream.length / 1e6;
const rate = (ms) => `${((mb / ms) * 1000).toFixed(0)} MB/s`;
console.log(`stream ${mb.toFixed(1)} MB; best of ${RUNS}`);
console.log(`framing only (JS)        ${rate(best.framing)}`);
console.log(`scan (JS, BmpSessionDecoder.scan) ${rate(best.js)}  ${((best.framing / best.js) * 100).toFixed(0)}% of framing`);
console.log(`frame + scan (WebAssembly) ${rate(best.wasm)}  ${((best.framing / best.wasm) * 100).toFixed(0)}% of framing`);
console.log(`per run: WebAssembly ${counter(ex.messages) / RUNS} messages, ${counter(ex.prefixes) / RUNS} prefixes, ${counter(ex.errors) / RUNS} errors; JS scan ${jsPrefixes} prefixes`);
