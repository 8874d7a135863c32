/**
 * The `bmpwatch` command line. Each subcommand is a function returning an exit code; only main.ts exits.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runDecode } from './decode.js';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('bmpwatch')
    .description('BMP collector and anomaly detector for BGP route servers')
    .version('0.1.0')
    .showHelpAfterError();

  program
    .command('decode')
    .description('decode a raw BMP stream or a pcap/pcapng capture of BMP over TCP into NDJSON (one object per message)')
    .argument('<file>', "BMP byte stream, pcap or pcapng file; '-' for standard input")
    .option('--max-message-bytes <n>', 'largest BMP message accepted', positiveInt)
    .option('--port <port>', 'capture input: only the TCP streams sent to this port', positiveInt)
    .option('--no-progress', 'never print progress to stderr')
    .action(async (file: string, opts: { maxMessageBytes?: number; port?: number; progress: boolean }) => {
      const code = await runDecode(
        file,
        { maxMessageBytes: opts.maxMessageBytes, port: opts.port, progress: opts.progress ? undefined : false },
        { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
      );
      setExitCode(code);
    });

  return program;
}
