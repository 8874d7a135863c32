import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { PeerRef } from '../../../src/rib/events.js';
import type { HistoryEvent } from '../../../src/store/history-event.js';
import { appliancePeerMatcher, HistoryRecorder, type HistorySink } from '../../../src/store/recorder.js';

const event = (i: number): HistoryEvent => ({ time: i, type: 'router-up', router: 'rs1', routerAddress: '127.0.0.1', detail: String(i) });

class RecordingSink implements HistorySink {
  readonly name = 'test';
  readonly batches: number[] = [];
  readonly events: HistoryEvent[] = [];
  append(events: readonly HistoryEvent[]): void {
    this.batches.push(events.length);
    this.events.push(...events);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const peer = (address: string, bgpId = address): PeerRef => ({ key: address, address, as: 65000, bgpId, peerType: 0, peerTypeName: 'global', distinguisher: '0:0', isLocal: false });

describe('HistoryRecorder', () => {
  it('writes in slices across turns of the event loop, in order, and everything at stop', async () => {
    const sink = new RecordingSink();
    const recorder = new HistoryRecorder(sink, { routeEvents: 'all', isAppliancePeer: () => true }, { flushIntervalMs: 60_000, batchSize: 1_200, maxBufferedEvents: 10_000 }, createLogger('silent'));
    for (let i = 0; i < 1_300; i++) recorder.record(event(i));
    // The full batch triggered a flush: one slice now, the rest on later turns.
    expect(sink.batches).toEqual([500]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.batches).toEqual([500, 500, 200]);
    for (let i = 1_300; i < 1_400; i++) recorder.record(event(i));
    await recorder.stop();
    expect(sink.events.map((e) => e.time)).toEqual(Array.from({ length: 1_400 }, (_, i) => i));
    expect(recorder.stats()).toMatchObject({ recorded: 1_400, written: 1_400, dropped: 0, buffered: 0 });
  });

  it('drops beyond its bound and counts every drop', async () => {
    const sink = new RecordingSink();
    const recorder = new HistoryRecorder(sink, { routeEvents: 'all', isAppliancePeer: () => true }, { flushIntervalMs: 60_000, batchSize: 100_000, maxBufferedEvents: 1_000 }, createLogger('silent'));
    for (let i = 0; i < 1_250; i++) recorder.record(event(i));
    expect(recorder.stats()).toMatchObject({ recorded: 1_000, dropped: 250, buffered: 1_000 });
    await recorder.stop();
    expect(sink.events).toHaveLength(1_000);
  });
});

describe('appliancePeerMatcher', () => {
  it('matches session ranges (IPv4 and IPv6) and configured appliances, and stays right on repeated calls', () => {
    const config = configSchema.parse({
      applianceGroups: [{ name: 'fw', sessionRanges: ['100.64.0.0/22', '2001:db8:64::/64'], sessionType: 'ibgp', asns: [64496], prefixes: {} }],
      appliances: [{ name: 'lb', group: 'fw', bgpId: '192.0.2.7' }],
    });
    const isAppliance = appliancePeerMatcher(config);
    for (let round = 0; round < 2; round++) {
      expect(isAppliance(peer('100.64.3.255'))).toBe(true);
      expect(isAppliance(peer('100.64.4.0'))).toBe(false);
      expect(isAppliance(peer('2001:db8:64::9', '192.0.2.9'))).toBe(true);
      expect(isAppliance(peer('198.51.100.1', '192.0.2.7'))).toBe(true);
      expect(isAppliance(peer('198.51.100.1', '192.0.2.8'))).toBe(false);
    }
  });
});
