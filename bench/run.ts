/**
 * `npm run bench`: prints the numbers behind BENCHMARKS.md. Targets are checked and reported here, never in tests.
 * Options: --peers N --prefixes-per-peer N --churn N (the generated stream), --runs N.
 */
import { Command } from 'commander';
import { buildStream, runDecodeBench } from './decode-bench.js';

const program = new Command('bench')
  .option('--peers <n>', 'peers in the generated stream', Number, 50)
  .option('--prefixes-per-peer <n>', 'initial-table prefixes per peer', Number, 10_000)
  .option('--churn <n>', 'single-prefix updates after the initial tables', Number, 200_000)
  .option('--runs <n>', 'repetitions; the best is reported', Number, 3)
  .parse();
const options = program.opts<{ peers: number; prefixesPerPeer: number; churn: number; runs: number }>();

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

const stream = buildStream({ peers: options.peers, prefixesPerPeer: options.prefixesPerPeer, churn: options.churn, seed: 1 });
const decode = runDecodeBench(stream, options.runs);
console.log(`# decoder (node ${process.version}, stream ${fmt(decode.streamBytes / 1e6)} MB, ${fmt(decode.messages, 0)} messages, ${fmt(decode.prefixes, 0)} prefixes)`);
console.log(`framing only : ${fmt(decode.framingMBps)} MB/s  ${fmt(decode.framingMessagesPerSec, 0)} msg/s`);
console.log(`full decode  : ${fmt(decode.decodeMBps)} MB/s  ${fmt(decode.decodeMessagesPerSec, 0)} msg/s  ${fmt(decode.decodePrefixesPerSec, 0)} prefixes/s  (${decode.decodeErrors} decode errors)`);
console.log(`decode/framing: ${fmt(decode.ratio * 100)}% of the framing-only rate (target >= 50%): ${decode.ratio >= 0.5 ? 'MET' : 'MISSED'}`);
