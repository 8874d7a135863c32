/**
 * Closing a router session: the flush of its routes runs in slices (the event loop keeps turning), every route is
 * still withdrawn, and a reconnect or a shutdown mid-flush finishes the old flush at once.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RouterSession } from '../../../src/collector/router-session.js';
import { createLogger } from '../../../src/observability/logger.js';
import { CollectorMetrics } from '../../../src/observability/metrics.js';
import { AttributeStore } from '../../../src/rib/attribute-store.js';
import type { CollectorEvent, EventSink } from '../../../src/rib/events.js';
import { initiation, peer, peerUp, routes } from '../../helpers/bmp-builders.js';

/** Enough routes that withdrawing them takes many slices on any machine. */
const ROUTES = 200_000;

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {}
  resume(): void {}
}

function bigTable(): Buffer {
  const appliance = peer('100.64.1.11');
  const frames = [initiation('rs1'), peerUp(appliance)];
  for (let start = 0; start < ROUTES; start += 250) {
    const prefixes: string[] = [];
    for (let i = start; i < start + 250; i++) prefixes.push(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32`);
    frames.push(routes(appliance, prefixes, { asPath: [65001, 65000 + ((start / 250) % 100)] }));
  }
  return Buffer.concat(frames);
}

const table = bigTable();

function newSession(emit: EventSink, attributes: AttributeStore, port: number): { session: RouterSession; socket: FakeSocket; closed: () => boolean } {
  const socket = new FakeSocket();
  const session = new RouterSession(socket as unknown as Socket, Object.freeze({ id: `192.0.2.1:${port}`, address: '192.0.2.1', port, name: 'rs1' }), {
    limits: { maxMessageBytes: 1 << 20, maxRoutesPerRouter: 10_000_000, initialDumpTimeoutMs: 60_000, maxDecodeErrorLogsPerMinute: 5 },
    attributes,
    emit,
    logger: createLogger('silent'),
    metrics: new CollectorMetrics(),
    clock: { now: () => 1_000_000 },
  });
  let wasClosed = false;
  session.start(() => {
    wasClosed = true;
  });
  return { session, socket, closed: () => wasClosed };
}

const withdrawals = (events: CollectorEvent[], port: number): number =>
  events.filter((e) => e.type === 'route-withdrawn' && e.cause === 'router-down' && e.router.port === port).length;

describe('RouterSession close', () => {
  it('withdraws every route in slices, letting the event loop run, and reports closed only at the end', async () => {
    const events: CollectorEvent[] = [];
    const attributes = new AttributeStore();
    const { session, socket, closed } = newSession((e) => events.push(e), attributes, 4000);
    socket.emit('data', table);
    expect(session.rib.routeCount).toBe(ROUTES);

    let turns = 0;
    const turner = setInterval(() => turns++, 0);
    socket.emit('end');
    expect(session.isClosed).toBe(true);
    expect(socket.destroyed).toBe(true);
    expect(session.isFlushing).toBe(true);
    expect(closed()).toBe(false);
    expect(events.filter((e) => e.type === 'router-down')).toHaveLength(1);
    const afterFirstSlice = session.rib.routeCount;
    expect(afterFirstSlice).toBeGreaterThan(0);
    expect(withdrawals(events, 4000)).toBe(ROUTES - afterFirstSlice); // what is withdrawn is gone from the RIB

    while (!closed()) await new Promise((resolve) => setTimeout(resolve, 5));
    clearInterval(turner);
    expect(turns).toBeGreaterThan(0);
    expect(withdrawals(events, 4000)).toBe(ROUTES);
    expect(session.isFlushing).toBe(false);
    expect(session.rib.routeCount).toBe(0);
    expect([...session.rib.peers()]).toHaveLength(0);
    expect(attributes.size).toBe(0);
    socket.emit('close'); // the socket's own close event later: nothing more happens
    expect(events.filter((e) => e.type === 'router-down')).toHaveLength(1);
  });

  it('finishes the old flush before a reconnecting router (same address, new port) says router-up', () => {
    const events: CollectorEvent[] = [];
    const attributes = new AttributeStore();
    const sink: EventSink = (e) => events.push(e); // one collector: one event stream for all its sessions
    const old = newSession(sink, attributes, 4001);
    old.socket.emit('data', table);
    old.socket.emit('end');
    expect(old.session.isFlushing).toBe(true);

    const fresh = newSession(sink, attributes, 4002);
    expect(old.closed()).toBe(true);
    expect(old.session.rib.routeCount).toBe(0);
    const up = events.findIndex((e) => e.type === 'router-up' && e.router.port === 4002);
    expect(withdrawals(events.slice(0, up), 4001)).toBe(ROUTES);
    expect(withdrawals(events.slice(up), 4001)).toBe(0);
    fresh.socket.emit('data', table);
    expect(fresh.session.rib.routeCount).toBe(ROUTES);
    expect(attributes.size).toBe(100);
  });

  it('withdraws everything at once on shutdown, and a shutdown finishes a flush under way', () => {
    const events: CollectorEvent[] = [];
    const attributes = new AttributeStore();
    const a = newSession((e) => events.push(e), attributes, 4003);
    a.socket.emit('data', table);
    a.session.close('shutdown', 'collector shutting down');
    expect(a.closed()).toBe(true);
    expect(withdrawals(events, 4003)).toBe(ROUTES);

    const b = newSession((e) => events.push(e), attributes, 4004);
    b.socket.emit('data', table);
    b.socket.emit('end');
    expect(b.closed()).toBe(false);
    b.session.close('shutdown', 'collector shutting down');
    expect(b.closed()).toBe(true);
    expect(withdrawals(events, 4004)).toBe(ROUTES);
    expect(events.filter((e) => e.type === 'router-down' && e.router.port === 4004)).toHaveLength(1);
    expect(attributes.size).toBe(0);
  });
});
