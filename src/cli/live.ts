/**
 * `bmpwatch peers` and `bmpwatch routes PEER`: read the running collector's API (--api, else $BMPWATCH_API,
 * else 127.0.0.1:11080) and print a table, or JSON with --json.
 */
import { formatTable } from './format.js';
import { parseHostPort } from './host-port.js';
import type { PeerView, RouteView } from '../api/views.js';

export const DEFAULT_API = '127.0.0.1:11080';

export interface LiveIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Record<string, string | undefined>;
}

export function apiBase(option: string | undefined, env: Record<string, string | undefined>): string {
  const text = option ?? env.BMPWATCH_API ?? DEFAULT_API;
  if (/^https?:\/\//.test(text)) return text.replace(/\/$/, '');
  const parsed = parseHostPort(text, '127.0.0.1');
  if (typeof parsed === 'string') throw new Error(parsed);
  return `http://${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}`;
}

export async function getJson<T>(base: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      signal: AbortSignal.timeout(30_000),
      ...(init.method === undefined ? {} : { method: init.method }),
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot reach the bmpwatch API at ${base} (${cause}); is 'bmpwatch serve' running? (--api or BMPWATCH_API)`, { cause: error });
  }
  const body: unknown = await response.json();
  if (!response.ok) {
    const message = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : response.statusText;
    throw new Error(`API error ${response.status}: ${message}`);
  }
  return body as T;
}

export async function runPeers(options: { api?: string; json?: boolean }, io: LiveIo): Promise<number> {
  try {
    const peers = await getJson<PeerView[]>(apiBase(options.api, io.env), '/api/peers');
    if (options.json) {
      io.stdout.write(`${JSON.stringify(peers, null, 2)}\n`);
      return 0;
    }
    const rows = peers.map((p) => [
      p.router,
      p.address,
      String(p.as),
      p.bgpId,
      p.peerType,
      p.state,
      p.uptimeSeconds === null ? '-' : formatDuration(p.uptimeSeconds),
      String(p.prefixes['adj-rib-in-pre'].total),
      String(p.prefixes['adj-rib-in-post'].total),
      String(p.prefixes['loc-rib'].total),
      p.lastDown ? `${p.lastDown.reasonName}${p.lastDown.notification ? ` (${p.lastDown.notification})` : ''}` : '',
    ]);
    io.stdout.write(formatTable(['ROUTER', 'PEER', 'AS', 'BGP ID', 'TYPE', 'STATE', 'UP', 'PRE', 'POST', 'LOC-RIB', 'LAST DOWN'], rows));
    return 0;
  } catch (error) {
    io.stderr.write(`bmpwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export async function runRoutes(peer: string, options: { api?: string; json?: boolean; router?: string; table?: string }, io: LiveIo): Promise<number> {
  try {
    const query = new URLSearchParams({ peer });
    if (options.router) query.set('router', options.router);
    if (options.table) query.set('table', options.table);
    const routes = await getJson<RouteView[]>(apiBase(options.api, io.env), `/api/routes?${query.toString()}`);
    if (options.json) {
      io.stdout.write(`${JSON.stringify(routes, null, 2)}\n`);
      return 0;
    }
    if (routes.length === 0) {
      io.stderr.write(`bmpwatch: no routes for peer ${peer}\n`);
      return 0;
    }
    const rows = routes.map((r) => [
      r.router,
      r.table,
      r.pathId === null ? r.prefix : `${r.prefix} #${r.pathId}`,
      r.nextHop ?? '-',
      r.asPath || '(empty)',
      r.localPref === null ? '' : String(r.localPref),
      [...r.communities, ...r.largeCommunities].join(' '),
    ]);
    io.stdout.write(formatTable(['ROUTER', 'TABLE', 'PREFIX', 'NEXT HOP', 'AS PATH', 'LOCPRF', 'COMMUNITIES'], rows));
    return 0;
  } catch (error) {
    io.stderr.write(`bmpwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
