/**
 * One router's BMP connection: socket → framer → decoder → RIB → events, strictly in order (one message at a
 * time, never fanned out). Closes only on a framing error, a Termination, a limit breach, or shutdown; every
 * other problem is a counted, rate-limited log line with the router and the stream offset.
 *
 * Back-pressure: each chunk is processed synchronously before the next is read, so we never read faster than we
 * process. Asynchronous sinks downstream signal through `pause()`/`resume()`; a paused session stops reading its
 * socket and TCP flow control pushes back to the router. Nothing is ever dropped.
 */
import type { Socket } from 'node:net';
import { BmpSessionDecoder, type BmpScan } from '../bmp/decode.js';
import { BmpFramer } from '../bmp/framer.js';
import type { BmpMessage } from '../bmp/types.js';
import type { Logger } from '../observability/logger.js';
import type { CollectorMetrics } from '../observability/metrics.js';
import type { AttributeStore } from '../rib/attribute-store.js';
import type { EventSink, RouterDownReason, RouterRef } from '../rib/events.js';
import { RouterRib } from '../rib/router-rib.js';
import type { Clock } from '../util/clock.js';
import type { DecodeError } from '../wire/decode-error.js';
import type { Result } from '../wire/result.js';

/**
 * Initiation sysName as a router name, safe wherever names go: control characters (a newline would forge log and
 * line-protocol lines) become spaces, a trailing backslash (which InfluxDB tags cannot end with) becomes U+FF3C,
 * at most 255 characters.
 */
export function displayName(text: string): string {
  // eslint-disable-next-line no-control-regex
  const name = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 255);
  return name.endsWith('\\') ? `${name.slice(0, -1)}\uFF3C` : name;
}

/**
 * Closing a session withdraws all of its router's routes, one event each: a million of them take most of a second.
 * The flush runs in slices of at most FLUSH_SLICE_MS (checked every FLUSH_BATCH_ROUTES routes), yielding to the
 * event loop (setImmediate) between slices so other routers' sockets and the API keep being served.
 */
const FLUSH_SLICE_MS = 8;
const FLUSH_BATCH_ROUTES = 512;

/**
 * Sessions whose routes are still being withdrawn after close, per event stream and router address. A router
 * that reconnects mid-flush first has the old session's flush finished (synchronously), so that on that event
 * stream every withdrawal of the old connection comes before the new connection's router-up: consumers keyed by
 * router address never see an old withdrawal after a new announcement.
 */
const flushing = new WeakMap<EventSink, Map<string, Set<RouterSession>>>();

function addFlushing(emit: EventSink, session: RouterSession): void {
  let byAddress = flushing.get(emit);
  if (byAddress === undefined) {
    byAddress = new Map();
    flushing.set(emit, byAddress);
  }
  let sessions = byAddress.get(session.router.address);
  if (sessions === undefined) {
    sessions = new Set();
    byAddress.set(session.router.address, sessions);
  }
  sessions.add(session);
}

function flushingOf(emit: EventSink, address: string): RouterSession[] {
  const sessions = flushing.get(emit)?.get(address);
  return sessions === undefined ? [] : [...sessions];
}

function forgetFlushing(emit: EventSink, session: RouterSession): void {
  const byAddress = flushing.get(emit);
  const sessions = byAddress?.get(session.router.address);
  if (sessions === undefined) return;
  sessions.delete(session);
  if (sessions.size === 0) byAddress?.delete(session.router.address);
}

export interface RouterSessionLimits {
  readonly maxMessageBytes: number;
  readonly maxRoutesPerRouter: number;
  readonly initialDumpTimeoutMs: number;
  readonly maxDecodeErrorLogsPerMinute: number;
}

export interface RouterSessionDeps {
  readonly limits: RouterSessionLimits;
  readonly attributes: AttributeStore;
  readonly emit: EventSink;
  readonly logger: Logger;
  readonly metrics: CollectorMetrics;
  readonly clock: Clock;
}

export interface RouterSessionStats {
  readonly connectedAt: number;
  messages: number;
  bytes: number;
  decodeErrors: number;
  addPathFallbacks: number;
  sysName?: string;
  sysDescr?: string;
}

export class RouterSession {
  readonly rib: RouterRib;
  readonly stats: RouterSessionStats;
  private readonly framer: BmpFramer;
  private readonly decoder = new BmpSessionDecoder();
  private readonly log: Logger;
  private closed = false;
  /** The router's state is flushed and onClosed has run (set at the end of close, sliced or not). */
  private flushed = false;
  private pauseReasons = 0;
  private errorLogWindowStart = 0;
  private errorLogsInWindow = 0;
  private suppressedErrorLogs = 0;
  private onClosed: ((session: RouterSession) => void) | undefined;
  /**
   * The `router` label of this session's Prometheus series: the router's address, not its connection id
   * (address:port), so that a route server reconnecting keeps its series instead of adding new ones on every
   * connection (each reconnect used to leave ~6 series behind for good).
   */
  private readonly metricRouter: string;

  constructor(
    private readonly socket: Socket,
    router: RouterRef,
    private readonly deps: RouterSessionDeps,
  ) {
    this.framer = new BmpFramer({ maxMessageBytes: deps.limits.maxMessageBytes });
    this.log = deps.logger.child({ router: router.id, routerName: router.name });
    this.metricRouter = router.address;
    this.stats = { connectedAt: deps.clock.now(), messages: 0, bytes: 0, decodeErrors: 0, addPathFallbacks: 0 };
    this.rib = new RouterRib(router, { initialDumpTimeoutMs: deps.limits.initialDumpTimeoutMs, maxRoutes: deps.limits.maxRoutesPerRouter, attributes: deps.attributes }, deps.emit);
  }

  get router(): RouterRef {
    return this.rib.ref;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closed, and still withdrawing the router's routes (see FLUSH_SLICE_MS). */
  get isFlushing(): boolean {
    return this.closed && !this.flushed;
  }

  get isPaused(): boolean {
    return this.pauseReasons > 0;
  }

  /** Starts reading. `onClosed` runs once, after the router's state has been flushed. */
  start(onClosed: (session: RouterSession) => void): void {
    this.onClosed = onClosed;
    for (const previous of flushingOf(this.deps.emit, this.router.address)) previous.finishFlush();
    this.log.info({ event: 'router-connected' }, 'BMP session opened');
    this.deps.emit({ type: 'router-up', router: this.router, time: this.deps.clock.now() });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.close('closed', 'router closed the connection'));
    this.socket.on('close', () => this.close('closed', 'connection closed'));
    this.socket.on('error', (error) => this.close('socket-error', error.message));
  }

  pause(): void {
    if (this.pauseReasons++ === 0) {
      this.socket.pause();
      this.deps.metrics.pausedSockets.inc();
    }
  }

  resume(): void {
    if (this.pauseReasons === 0) return;
    if (--this.pauseReasons === 0) {
      this.deps.metrics.pausedSockets.dec();
      if (!this.closed) this.socket.resume();
    }
  }

  /**
   * Ends the session: the socket is destroyed, router-down emitted and the router's routes withdrawn. The
   * withdrawals run in slices (FLUSH_SLICE_MS) unless the collector is shutting down, when they all go at once so
   * that they reach the sinks before these stop; a shutdown also finishes a sliced flush still under way. The
   * session stays listed (its route count going down) until the flush is done; then `onClosed` runs.
   * Back-pressure (pause) does not hold the flush back.
   */
  close(reason: RouterDownReason, detail: string): void {
    if (this.closed) {
      if (reason === 'shutdown') this.finishFlush();
      return;
    }
    this.closed = true;
    if (this.pauseReasons > 0) this.deps.metrics.pausedSockets.dec();
    this.pauseReasons = 0;
    const level = reason === 'closed' || reason === 'shutdown' || reason === 'termination' ? 'info' : 'warn';
    this.log[level]({ event: 'router-disconnected', reason, detail, routes: this.rib.routeCount, messages: this.stats.messages }, 'BMP session closed');
    this.socket.destroy();
    this.decoder.dispose();
    this.rib.beginClose(reason, detail, this.deps.clock.now());
    this.deps.metrics.connectionsClosed.inc({ reason });
    if (reason === 'shutdown') {
      this.finishFlush();
      return;
    }
    addFlushing(this.deps.emit, this);
    this.flushSlice();
  }

  /** One slice of the flush; schedules the next one if routes remain. The first slice runs inside close(). */
  private flushSlice(): void {
    if (this.flushed) return;
    const deadline = performance.now() + FLUSH_SLICE_MS;
    while (!this.rib.continueClose(FLUSH_BATCH_ROUTES)) {
      if (performance.now() >= deadline) {
        setImmediate(() => this.flushSlice());
        return;
      }
    }
    this.flushDone();
  }

  /** Withdraws whatever is left now, without yielding. */
  private finishFlush(): void {
    if (this.flushed || !this.closed) return;
    this.rib.continueClose();
    this.flushDone();
  }

  private flushDone(): void {
    this.flushed = true;
    forgetFlushing(this.deps.emit, this);
    this.onClosed?.(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.stats.bytes += chunk.length;
    this.deps.metrics.bytes.inc({ router: this.metricRouter }, chunk.length);
    const framingError = this.framer.pushRuns(chunk, this.onRun);
    if (framingError && !this.closed) {
      this.logDecodeError(framingError, 0);
      this.close('framing-error', `${framingError.code} at stream offset ${framingError.offset}: ${framingError.detail}`);
    }
  }

  /** Stream offset of data[0] in the run being decoded (for error reports). */
  private runOffset = 0;

  /** A run of whole frames from the framer: decoded many at a time (the decoder's fast path), each then applied. */
  private readonly onRun = (data: Buffer, start: number, end: number, streamOffset: number): void => {
    if (this.closed) return;
    this.runOffset = streamOffset - start;
    this.decoder.scanFrames(data, start, end, this.onScanned);
  };

  private readonly onScanned = (scan: BmpScan, frameStart: number): void => {
    if (this.closed) return;
    this.onDecoded(this.decoder.valueOf(scan), this.runOffset + frameStart);
  };

  private onDecoded(result: Result<BmpMessage>, streamOffset: number): void {
    const now = this.deps.clock.now();
    if (!result.ok) {
      this.logDecodeError(result.error, streamOffset);
      this.deps.emit({ type: 'decode-error', router: this.router, time: now, error: result.error, streamOffset });
      return;
    }
    const message = result.value;
    this.stats.messages++;
    this.deps.metrics.messages.inc({ router: this.metricRouter, type: message.type });
    this.observe(message);
    this.rib.apply(message, now);
    if (message.type === 'termination') {
      this.close('termination', message.reasonName ?? 'Termination message');
    } else if (this.rib.overLimit) {
      this.close('limit', `more than ${this.deps.limits.maxRoutesPerRouter} routes (limits.maxRoutesPerRouter)`);
    }
  }

  private observe(message: BmpMessage): void {
    if (message.type === 'route-monitoring') {
      const { update } = message;
      if (update.addPathFallbacks > 0) {
        this.stats.addPathFallbacks += update.addPathFallbacks;
        this.deps.metrics.addPathFallbacks.inc({ router: this.metricRouter }, update.addPathFallbacks);
      }
      for (const warning of update.warnings) this.deps.metrics.updateWarnings.inc({ router: this.metricRouter, action: warning.action });
    } else if (message.type === 'initiation') {
      if (message.sysName !== undefined) this.stats.sysName = message.sysName;
      if (message.sysDescr !== undefined) this.stats.sysDescr = message.sysDescr;
      const sysName = message.sysName === undefined ? '' : displayName(message.sysName);
      if (sysName !== '' && this.router.name === this.router.address) this.rib.rename(sysName);
      this.log.info({ event: 'router-initiation', sysName: message.sysName, sysDescr: message.sysDescr }, 'BMP initiation');
    } else if (message.type === 'peer-up' || message.type === 'peer-down') {
      this.log.debug({ event: message.type, peer: message.peer.address, as: message.peer.as }, message.type);
    }
  }

  /** Counted always; logged at most maxDecodeErrorLogsPerMinute times per router per minute. */
  private logDecodeError(error: DecodeError, frameOffset: number): void {
    this.stats.decodeErrors++;
    this.deps.metrics.decodeErrors.inc({ router: this.metricRouter, layer: error.layer, code: error.code });
    const now = this.deps.clock.now();
    if (now - this.errorLogWindowStart >= 60_000) {
      if (this.suppressedErrorLogs > 0) this.log.warn({ event: 'decode-errors-suppressed', count: this.suppressedErrorLogs }, 'decode error logs suppressed');
      this.errorLogWindowStart = now;
      this.errorLogsInWindow = 0;
      this.suppressedErrorLogs = 0;
    }
    if (this.errorLogsInWindow++ >= this.deps.limits.maxDecodeErrorLogsPerMinute) {
      this.suppressedErrorLogs++;
      return;
    }
    const streamOffset = error.layer === 'framing' ? error.offset : frameOffset;
    this.log.warn(
      { event: 'decode-error', layer: error.layer, code: error.code, streamOffset, offsetInMessage: error.layer === 'framing' ? 0 : error.offset, detail: error.detail },
      'malformed BMP message',
    );
  }
}
