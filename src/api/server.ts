/**
 * The live HTTP API (JSON), on loopback by default:
 *   GET /healthz                      liveness and a one-line summary
 *   GET /metrics                      Prometheus text
 *   GET /api/routers                  connected route servers
 *   GET /api/peers                    one object per peer per router
 *   GET /api/routes?peer=ADDR[&router=R][&table=T][&limit=N]   a peer's current routes ("local": own routes)
 *   GET /api/alerts[?state=firing|resolved][&since=ISO|ms]       alerts (firing, and resolved ones still kept)
 *   GET /api/silences                 silences not yet expired
 *   POST /api/silences                {matchers: ["rule=route-flap", …], reason, createdBy, durationSeconds | endsAt}
 *   DELETE /api/silences/ID           ends a silence now
 * Only the silence endpoints change anything, and only alert muting; request bodies are capped at 64 KiB.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { peerViews, routeViews, toRouterView } from './views.js';
import type { RibTable } from '../bmp/types.js';
import type { RouterSession } from '../collector/router-session.js';
import type { Logger } from '../observability/logger.js';
import type { CollectorMetrics } from '../observability/metrics.js';
import { RIB_TABLES } from '../rib/router-rib.js';
import type { Clock } from '../util/clock.js';
import { toAlertView, toSilenceView } from './alert-views.js';
import type { AlertManager } from '../alerts/alert-manager.js';
import { parseMatcher } from '../alerts/silences.js';
import type { SilenceMatcher } from '../alerts/types.js';

export interface ApiDeps {
  readonly routers: () => RouterSession[];
  readonly metrics: CollectorMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly startedAt: number;
  /** The alert manager, when rules run. */
  readonly alerts?: () => AlertManager | undefined;
}

const MAX_BODY_BYTES = 64 * 1024;
/** A silence longer than 30 days is a disabled rule, which belongs in the config. */
const MAX_SILENCE_SECONDS = 30 * 86_400;

class BadRequest extends Error {}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new BadRequest('request body is not JSON');
  }
}

function silenceRequest(body: unknown, now: number): { matchers: SilenceMatcher[]; reason: string; createdBy: string; endsAt: number } {
  if (typeof body !== 'object' || body === null) throw new BadRequest('expected a JSON object');
  const input = body as Record<string, unknown>;
  if (!Array.isArray(input.matchers) || input.matchers.length === 0) throw new BadRequest('"matchers": give at least one, e.g. ["rule=route-flap", "peer=10.0.0.5"]');
  const matchers = input.matchers.map((text) => {
    const parsed = typeof text === 'string' ? parseMatcher(text) : 'matchers are strings';
    if (typeof parsed === 'string') throw new BadRequest(parsed);
    return parsed;
  });
  if (typeof input.reason !== 'string' || input.reason.trim() === '') throw new BadRequest('"reason": say why (it is shown with every muted alert)');
  const createdBy = typeof input.createdBy === 'string' && input.createdBy !== '' ? input.createdBy : 'api';
  let endsAt: number;
  if (typeof input.durationSeconds === 'number') endsAt = now + input.durationSeconds * 1000;
  else if (typeof input.endsAt === 'string') endsAt = Date.parse(input.endsAt);
  else throw new BadRequest('give "durationSeconds" or "endsAt" (ISO 8601)');
  if (!Number.isFinite(endsAt) || endsAt <= now) throw new BadRequest('the silence must end in the future');
  if (endsAt - now > MAX_SILENCE_SECONDS * 1000) throw new BadRequest(`a silence lasts at most ${MAX_SILENCE_SECONDS / 86_400} days; disable the rule in the config instead`);
  return { matchers, reason: input.reason, createdBy, endsAt };
}

const MAX_ROUTES_PER_RESPONSE = 1_000_000;

export class ApiServer {
  private server: Server | undefined;

  constructor(private readonly deps: ApiDeps) {}

  async start(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.deps.logger.error({ event: 'api-error', err: error }, 'API request failed');
        if (!response.headersSent) send(response, 500, { error: 'internal error' });
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? { host: address.address, port: address.port } : { host, port };
    this.deps.logger.info({ event: 'api-listening', ...bound }, 'API ready');
    return bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const now = this.deps.clock.now();
    if (url.pathname === '/api/silences' || url.pathname.startsWith('/api/silences/')) {
      try {
        this.silences(request, response, url, now);
      } catch (error) {
        if (error instanceof BadRequest) send(response, 400, { error: error.message });
        else throw error;
      }
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, { error: 'read-only endpoint: GET only' });
      return;
    }
    const routers = this.deps.routers();
    switch (url.pathname) {
      case '/healthz': {
        let routes = 0;
        for (const session of routers) routes += session.rib.routeCount;
        send(response, 200, { status: 'ok', uptimeSeconds: Math.round((now - this.deps.startedAt) / 1000), routers: routers.length, routes });
        return;
      }
      case '/metrics': {
        const body = await this.deps.metrics.registry.metrics();
        response.writeHead(200, { 'content-type': this.deps.metrics.registry.contentType });
        response.end(body);
        return;
      }
      case '/api/routers':
        send(response, 200, routers.map((session) => toRouterView(session, now)));
        return;
      case '/api/peers':
        send(response, 200, peerViews(routers, now));
        return;
      case '/api/routes': {
        const peer = url.searchParams.get('peer');
        if (!peer) {
          send(response, 400, { error: 'query parameter "peer" is required (an address, a BGP identifier, or "local")' });
          return;
        }
        const table = url.searchParams.get('table');
        if (table !== null && !RIB_TABLES.includes(table as RibTable)) {
          send(response, 400, { error: `unknown table "${table}"; one of ${RIB_TABLES.join(', ')}` });
          return;
        }
        const limitText = url.searchParams.get('limit');
        const limit = limitText === null ? MAX_ROUTES_PER_RESPONSE : Number(limitText);
        if (!Number.isInteger(limit) || limit <= 0) {
          send(response, 400, { error: '"limit" must be a positive integer' });
          return;
        }
        const router = url.searchParams.get('router') ?? undefined;
        send(response, 200, routeViews(routers, { peer, router, table: (table ?? undefined) as RibTable | undefined, limit: Math.min(limit, MAX_ROUTES_PER_RESPONSE) }));
        return;
      }
      case '/api/alerts': {
        const manager = this.deps.alerts?.();
        if (!manager) {
          send(response, 503, { error: 'rules are not running' });
          return;
        }
        const state = url.searchParams.get('state');
        if (state !== null && state !== 'firing' && state !== 'resolved') {
          send(response, 400, { error: '"state" is firing or resolved' });
          return;
        }
        const sinceText = url.searchParams.get('since');
        const since = sinceText === null ? undefined : /^\d+$/.test(sinceText) ? Number(sinceText) : Date.parse(sinceText);
        if (since !== undefined && !Number.isFinite(since)) {
          send(response, 400, { error: '"since" is an ISO 8601 time or ms since the epoch' });
          return;
        }
        send(response, 200, manager.alerts({ ...(state === null ? {} : { state }), ...(since === undefined ? {} : { since }) }).map(toAlertView));
        return;
      }
      default:
        send(response, 404, { error: `no such endpoint: ${url.pathname}` });
    }
  }

  private silences(request: IncomingMessage, response: ServerResponse, url: URL, now: number): void {
    const manager = this.deps.alerts?.();
    if (!manager) {
      send(response, 503, { error: 'rules are not running' });
      return;
    }
    const id = url.pathname.startsWith('/api/silences/') ? decodeURIComponent(url.pathname.slice('/api/silences/'.length)) : undefined;
    if (id === undefined && (request.method === 'GET' || request.method === 'HEAD')) {
      send(response, 200, manager.silences(now).map((silence) => toSilenceView(silence, now)));
      return;
    }
    if (id === undefined && request.method === 'POST') {
      readJsonBody(request).then(
        (body) => {
          try {
            const silence = manager.addSilence(silenceRequest(body, now), now);
            this.deps.logger.info({ event: 'silence-added', id: silence.id, reason: silence.reason, createdBy: silence.createdBy }, 'silence added');
            send(response, 201, toSilenceView(silence, now));
          } catch (error) {
            send(response, 400, { error: error instanceof Error ? error.message : String(error) });
          }
        },
        (error: unknown) => send(response, 400, { error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    if (id !== undefined && request.method === 'DELETE') {
      if (!manager.expireSilence(id, now)) {
        send(response, 404, { error: `no active silence "${id}"` });
        return;
      }
      this.deps.logger.info({ event: 'silence-expired', id }, 'silence ended');
      send(response, 200, { id, endsAt: new Date(now).toISOString() });
      return;
    }
    send(response, 405, { error: 'GET or POST /api/silences, DELETE /api/silences/ID' });
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
