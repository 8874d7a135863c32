/**
 * The live HTTP API (JSON), on loopback by default:
 *   GET /healthz                      liveness and a one-line summary
 *   GET /metrics                      Prometheus text
 *   GET /api/routers                  connected route servers
 *   GET /api/peers                    one object per peer per router
 *   GET /api/routes?peer=ADDR[&router=R][&table=T][&limit=N]   a peer's current routes ("local": own routes)
 * Read-only; no request body is ever read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { peerViews, routeViews, toRouterView } from './views.js';
import type { RibTable } from '../bmp/types.js';
import type { RouterSession } from '../collector/router-session.js';
import type { Logger } from '../observability/logger.js';
import type { CollectorMetrics } from '../observability/metrics.js';
import { RIB_TABLES } from '../rib/router-rib.js';
import type { Clock } from '../util/clock.js';

export interface ApiDeps {
  readonly routers: () => RouterSession[];
  readonly metrics: CollectorMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly startedAt: number;
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
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, { error: 'read-only API: GET only' });
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const now = this.deps.clock.now();
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
      default:
        send(response, 404, { error: `no such endpoint: ${url.pathname}` });
    }
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
