/**
 * The `bmpwatch` command line. Each subcommand is a function returning an exit code; only main.ts exits.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runAlerts, runSilenceAdd, runSilenceExpire, runSilenceList } from './alerts.js';
import { runCheckConfig } from './check-config.js';
import { runDecode } from './decode.js';
import { DEFAULT_DEMO_APPLIANCE, runDemo } from './demo.js';
import { DEFAULT_HISTORY_LIMIT, runHistory, runPrefixes } from './history.js';
import { runPeers, runRoutes } from './live.js';
import { runServe } from './serve.js';

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
    .command('demo')
    .description("replay BMP recorded from a real FRR route server with misbehaving appliances into a temporary collector; print the alerts and one appliance's history")
    .option('--appliance <name>', 'whose history to print (fw-good, fw-leak, fw-nexthop, fw-flap, fw-churn, 127.0.52.200)', DEFAULT_DEMO_APPLIANCE)
    .action(async (opts: { appliance: string }) => {
      setExitCode(await runDemo({ appliance: opts.appliance }, { stdout: process.stdout, stderr: process.stderr, env: process.env, now: () => Date.now() }));
    });

  program
    .command('decode')
    .description('decode a raw BMP stream or a pcap/pcapng capture of BMP over TCP into NDJSON (one object per message)')
    .argument('<file>', "BMP byte stream, pcap or pcapng file; '-' for standard input")
    .option('--max-message-bytes <n>', 'largest BMP message accepted', positiveInt)
    .option('--port <port>', 'capture input: only the TCP streams sent to this port', positiveInt)
    .option('--no-progress', 'never print progress to stderr')
    .option('--check', 'decode and check every message but print only errors and the summary (much faster; exit 1 on any error)')
    .action(async (file: string, opts: { maxMessageBytes?: number; port?: number; progress: boolean; check?: boolean }) => {
      const code = await runDecode(
        file,
        { maxMessageBytes: opts.maxMessageBytes, port: opts.port, progress: opts.progress ? undefined : false, check: opts.check === true },
        { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
      );
      setExitCode(code);
    });

  program
    .command('serve')
    .description('run the collector: accept BMP sessions from route servers, keep their routing state, serve the live API')
    .option('-c, --config <file>', 'YAML configuration (see config/bmpwatch.example.yaml); defaults apply without one')
    .option('--listen <host:port>', 'BMP listen address, overriding listen.bmp (default 0.0.0.0:11019)')
    .option('--api <host:port>', 'HTTP API address, overriding listen.api (default 127.0.0.1:11080)')
    .action(async (opts: { config?: string; listen?: string; api?: string }) => {
      setExitCode(await runServe(opts, { stderr: process.stderr, env: process.env, signals: process }));
    });

  program
    .command('check-config')
    .description('validate a configuration file and print every problem with its path')
    .argument('<file>', 'YAML configuration file')
    .action((file: string) => {
      setExitCode(runCheckConfig(file, { stdout: process.stdout, stderr: process.stderr, env: process.env }));
    });

  program
    .command('peers')
    .description("list the peers of every connected route server (from a running collector's API)")
    .option('--api <host:port>', 'collector API address (default $BMPWATCH_API or 127.0.0.1:11080)')
    .option('--json', 'print a JSON array, one object per peer per router')
    .action(async (opts: { api?: string; json?: boolean }) => {
      setExitCode(await runPeers(opts, { stdout: process.stdout, stderr: process.stderr, env: process.env }));
    });

  program
    .command('routes')
    .description("list a peer's current routes (from a running collector's API)")
    .argument('<peer>', "peer address or BGP identifier; 'local' for the route server's own routes")
    .option('--api <host:port>', 'collector API address (default $BMPWATCH_API or 127.0.0.1:11080)')
    .option('--router <name>', 'only this route server (name, id or address)')
    .option('--table <table>', 'adj-rib-in-pre, adj-rib-in-post, loc-rib, adj-rib-out-pre or adj-rib-out-post')
    .option('--json', 'print a JSON array of routes')
    .action(async (peer: string, opts: { api?: string; json?: boolean; router?: string; table?: string }) => {
      setExitCode(await runRoutes(peer, opts, { stdout: process.stdout, stderr: process.stderr, env: process.env }));
    });

  const historyIo = () => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, now: () => Date.now() });

  program
    .command('history')
    .description("an appliance's timeline: sessions up and down, prefixes announced, changed and withdrawn, alerts, on every route server")
    .argument('<appliance>', 'session address, BGP identifier or configured appliance name')
    .option('-c, --config <file>', 'configuration naming the store (storage.dataDir or storage.influx)')
    .option('--since <time>', 'start: a duration back from now (24h, 7d) or an ISO 8601 time', '24h')
    .option('--until <time>', "end: 'now', a duration back from now or an ISO 8601 time", 'now')
    .option('--router <name>', 'only this route server (name or address)')
    .option('--limit <n>', 'at most this many events', positiveInt, DEFAULT_HISTORY_LIMIT)
    .option('--json', 'one JSON object per event per line')
    .action(async (appliance: string, opts: { config?: string; since: string; until: string; router?: string; limit: number; json?: boolean }) => {
      setExitCode(await runHistory(appliance, opts, historyIo()));
    });

  program
    .command('prefixes')
    .description('the routes an appliance announced at a moment, on every route server (from the history)')
    .argument('<appliance>', 'session address, BGP identifier or configured appliance name')
    .option('-c, --config <file>', 'configuration naming the store (storage.dataDir or storage.influx)')
    .option('--at <time>', "'now', a duration back from now (2h) or an ISO 8601 time", 'now')
    .option('--router <name>', 'only this route server (name or address)')
    .option('--json', 'print a JSON array of routes')
    .action(async (appliance: string, opts: { config?: string; at: string; router?: string; json?: boolean }) => {
      setExitCode(await runPrefixes(appliance, opts, historyIo()));
    });

  const alertsIo = () => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, now: () => Date.now() });
  const apiOption = '--api <host:port>';
  const apiHelp = 'collector API address (default $BMPWATCH_API or 127.0.0.1:11080)';

  program
    .command('alerts')
    .description("the running collector's alerts (firing, and resolved ones still kept)")
    .option(apiOption, apiHelp)
    .option('--state <state>', 'firing or resolved')
    .option('--since <time>', 'changed since: a duration back from now (24h) or an ISO 8601 time')
    .option('--json', 'one JSON object per alert per line')
    .action(async (opts: { api?: string; state?: string; since?: string; json?: boolean }) => {
      setExitCode(await runAlerts(opts, alertsIo()));
    });

  const silence = program.command('silence').description('mute alerts for a while (matchers on rule, severity, router, peer, appliance, group, prefix)');
  silence
    .command('add')
    .description('add a silence, e.g. bmpwatch silence add rule=route-flap peer=10.0.0.5 --duration 2h --reason "maintenance"')
    .argument('<matchers...>', 'NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX')
    .requiredOption('--duration <duration>', 'how long: 30m, 2h, 1d')
    .requiredOption('--reason <text>', 'why (shown with every muted alert)')
    .option('--by <name>', 'who (default $USER)')
    .option(apiOption, apiHelp)
    .option('--json', 'print the silence as JSON')
    .action(async (matchers: string[], opts: { api?: string; duration: string; reason?: string; by?: string; json?: boolean }) => {
      setExitCode(await runSilenceAdd(matchers, opts, alertsIo()));
    });
  silence
    .command('list')
    .description('silences not yet expired')
    .option(apiOption, apiHelp)
    .option('--json', 'print a JSON array')
    .action(async (opts: { api?: string; json?: boolean }) => {
      setExitCode(await runSilenceList(opts, alertsIo()));
    });
  silence
    .command('expire')
    .description('end a silence now')
    .argument('<id>', 'silence id (from silence list)')
    .option(apiOption, apiHelp)
    .action(async (id: string, opts: { api?: string }) => {
      setExitCode(await runSilenceExpire(id, opts, alertsIo()));
    });

  return program;
}
