/**
 * The BMP listener: accepts router connections, enforces the allow-list and the connection limit, and runs one
 * RouterSession per connection. Routers are independent: one session's failure never touches another.
 *
 * Shutdown, in order: 1. stop accepting; 2. close every session (each flushes its router's state and emits
 * router-down); 3. close the listening socket.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { RouterSession, type RouterSessionDeps, type RouterSessionLimits } from './router-session.js';
import { fastScanModule } from '../bmp/fast-scan.js';
import type { Logger } from '../observability/logger.js';
import type { CollectorMetrics } from '../observability/metrics.js';
import type { AttributeStore } from '../rib/attribute-store.js';
import type { EventSink, RouterRef } from '../rib/events.js';
import type { Clock } from '../util/clock.js';

export interface CollectorSettings extends RouterSessionLimits {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  /** True when a router may connect from this address. */
  readonly isAllowedSource: (address: string) => boolean;
  /** Configured name for a router address, if any. */
  readonly routerName: (address: string) => string | undefined;
}

export interface CollectorDeps {
  readonly attributes: AttributeStore;
  readonly emit: EventSink;
  readonly logger: Logger;
  readonly metrics: CollectorMetrics;
  readonly clock: Clock;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; operators (and the allow-list) think in IPv4. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Refused connections logged per minute (all are counted). */
const REFUSAL_LOGS_PER_MINUTE = 60;

export class BmpCollector {
  private refusalWindowStart = 0;
  private refusalLogs = 0;
  private refusalsNotLogged = 0;
  private server: Server | undefined;
  private readonly sessions = new Set<RouterSession>();
  private settings: CollectorSettings;
  private paused = false;

  constructor(
    settings: CollectorSettings,
    private readonly deps: CollectorDeps,
  ) {
    this.settings = settings;
  }

  /** Live sessions, in connection order. */
  routers(): RouterSession[] {
    return [...this.sessions];
  }

  /**
   * SIGHUP: new limits and allow-list apply to new connections; existing sessions keep running. Configured router
   * names apply to connected routers at once (a route server's session may last for months); a router whose
   * configured name was removed is shown by its address again.
   */
  updateSettings(settings: CollectorSettings): void {
    const moved = settings.host !== this.settings.host || settings.port !== this.settings.port;
    if (moved) this.deps.logger.warn({ event: 'config-reload' }, 'listen address changes need a restart; keeping the old one');
    const previous = this.settings;
    this.settings = { ...settings, host: this.settings.host, port: this.settings.port };
    for (const session of this.sessions) {
      const { address, name } = session.router;
      const configured = settings.routerName(address);
      if (configured !== undefined) {
        if (configured !== name) session.rib.rename(configured);
      } else if (previous.routerName(address) === name) {
        session.rib.rename(address);
      }
    }
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer({ pauseOnConnect: false, noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.settings.host, port: this.settings.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.deps.logger.error({ event: 'listener-error', err: error }, 'BMP listener error'));
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? { host: address.address, port: address.port } : { host: this.settings.host, port: this.settings.port };
    // Which decoder runs: the WebAssembly fast path, or TypeScript alone (BMPWATCH_DECODER=typescript, or a runtime
    // that refused the module): both decode alike, the fast path about three times faster.
    this.deps.logger.info({ event: 'listening', ...bound, decoder: fastScanModule() ? 'webassembly-fast-path' : 'typescript' }, 'BMP listener ready');
    return bound;
  }

  /** Back-pressure from slow sinks: stop reading every router socket until resumed. */
  pauseAll(): void {
    if (this.paused) return;
    this.paused = true;
    for (const session of this.sessions) session.pause();
  }

  resumeAll(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const session of this.sessions) session.resume();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const session of [...this.sessions]) session.close('shutdown', 'collector shutting down');
    await closed;
  }

  /**
   * Refusals are always counted (bmpwatch_connections_refused_total) but logged at most REFUSAL_LOGS_PER_MINUTE
   * times a minute: a connection flood must not become a log flood. The next line logged says how many were not.
   */
  private refusalLogAllowed(): boolean {
    const now = this.deps.clock.now();
    if (now - this.refusalWindowStart >= 60_000) {
      this.refusalWindowStart = now;
      this.refusalLogs = 0;
    }
    if (this.refusalLogs < REFUSAL_LOGS_PER_MINUTE) {
      this.refusalLogs++;
      return true;
    }
    this.refusalsNotLogged++;
    return false;
  }

  private suppressedRefusals(): { notLogged?: number } {
    const notLogged = this.refusalsNotLogged;
    this.refusalsNotLogged = 0;
    return notLogged > 0 ? { notLogged } : {};
  }

  private accept(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    const { metrics, logger } = this.deps;
    if (!address || !this.settings.isAllowedSource(address)) {
      metrics.connectionsRefused.inc({ reason: 'source-not-allowed' });
      if (this.refusalLogAllowed()) logger.warn({ event: 'connection-refused', reason: 'source-not-allowed', address, port, ...this.suppressedRefusals() }, 'BMP connection from a source outside routers.allowedSources');
      socket.destroy();
      return;
    }
    if (this.sessions.size >= this.settings.maxConnections) {
      metrics.connectionsRefused.inc({ reason: 'connection-limit' });
      if (this.refusalLogAllowed()) logger.warn({ event: 'connection-refused', reason: 'connection-limit', address, port, limit: this.settings.maxConnections, ...this.suppressedRefusals() }, 'BMP connection over limits.maxConnections');
      socket.destroy();
      return;
    }
    socket.setKeepAlive(true, 30_000);
    const router: RouterRef = Object.freeze({ id: `${address}:${port}`, address, port, name: this.settings.routerName(address) ?? address });
    const sessionDeps: RouterSessionDeps = { ...this.deps, limits: this.settings };
    const session = new RouterSession(socket, router, sessionDeps);
    this.sessions.add(session);
    metrics.connectionsAccepted.inc();
    metrics.routers.set(this.sessions.size);
    if (this.paused) session.pause();
    session.start((ended) => {
      this.sessions.delete(ended);
      metrics.routers.set(this.sessions.size);
    });
  }
}
