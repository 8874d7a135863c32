/**
 * Smoke test of the real-daemon launchers (test/helpers/daemons): FRR bgpd on loopback and GoBGP in a network
 * namespace export BMP to a plain TCP sink, with ExaBGP appliances announcing routes; the recorded bytes are
 * decoded with our own decoder. This proves the launchers work; the collector's own integration tests build on
 * them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { BmpSessionDecoder } from '../../src/bmp/decode.js';
import { BmpFramer } from '../../src/bmp/framer.js';
import type { BmpMessage, RibTable } from '../../src/bmp/types.js';
import { startExabgpAppliance } from '../helpers/daemons/exabgp.js';
import { frrPrefixes, startFrrRouteServer } from '../helpers/daemons/frr.js';
import { startGobgpRouteServer } from '../helpers/daemons/gobgp.js';
import { defaultRegistry, findExecutable, run, waitFor } from '../helpers/daemons/process.js';

/** A BMP "collector" that only records what each connection sent. */
interface BmpSink {
  readonly port: number;
  readonly connections: { readonly remote: string; readonly chunks: Buffer[] }[];
  /** Every connection's bytes decoded (fresh framer and decoder per connection), in order. */
  messages(): BmpMessage[];
  close(): Promise<void>;
}

function startSink(): Promise<BmpSink> {
  const connections: { remote: string; chunks: Buffer[] }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const record = { remote: `${socket.remoteAddress}:${socket.remotePort}`, chunks: [] as Buffer[] };
    connections.push(record);
    socket.on('data', (chunk: Buffer) => record.chunks.push(Buffer.from(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      const sink: BmpSink = {
        port: address.port,
        connections,
        messages: () => {
          const out: BmpMessage[] = [];
          for (const connection of connections) {
            const framer = new BmpFramer();
            const decoder = new BmpSessionDecoder();
            const problem = framer.push(Buffer.concat(connection.chunks), (frame) => {
              const result = decoder.decode(frame.bytes);
              if (!result.ok) throw new Error(`decode error from ${connection.remote}: ${JSON.stringify(result.error)}`);
              out.push(result.value);
            });
            if (problem) throw new Error(`framing error from ${connection.remote}: ${JSON.stringify(problem)}`);
          }
          return out;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      };
      defaultRegistry.defer(`close the BMP sink on port ${address.port}`, () => sink.close());
      resolve(sink);
    });
  });
}

interface Seen {
  readonly peerUps: Set<string>;
  /** `${table} ${peer address} ${prefix}` for announcements and withdrawals. */
  readonly announced: Set<string>;
  readonly withdrawn: Set<string>;
  readonly types: Map<string, number>;
}

function summarize(messages: readonly BmpMessage[]): Seen {
  const seen: Seen = { peerUps: new Set(), announced: new Set(), withdrawn: new Set(), types: new Map() };
  for (const m of messages) {
    seen.types.set(m.type, (seen.types.get(m.type) ?? 0) + 1);
    if (m.type === 'peer-up') seen.peerUps.add(m.peer.address);
    if (m.type === 'route-monitoring') {
      for (const n of m.update.announced) seen.announced.add(`${m.peer.table} ${m.peer.address} ${n.prefix}`);
      for (const n of m.update.withdrawn) seen.withdrawn.add(`${m.peer.table} ${m.peer.address} ${n.prefix}`);
    }
  }
  return seen;
}

function has(seen: Set<string>, table: RibTable, peer: string, prefix: string): boolean {
  return seen.has(`${table} ${peer} ${prefix}`);
}

function describeSeen(sink: BmpSink): string {
  try {
    const seen = summarize(sink.messages());
    return `BMP so far: ${JSON.stringify({ connections: sink.connections.length, types: [...seen.types], peerUps: [...seen.peerUps], announced: [...seen.announced], withdrawn: [...seen.withdrawn] })}`;
  } catch (error) {
    return `BMP so far: undecodable (${String(error)})`;
  }
}

const namespaces: string[] = [];

afterAll(async () => {
  const pids = defaultRegistry.trackedProcesses().map((p) => p.pid);
  await defaultRegistry.runAll();
  // The launchers' cleanup really ends every process they started and removes the namespaces.
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  expect(alive).toEqual([]);
  const { stdout } = await run(findExecutable('ip'), ['netns', 'list']);
  for (const ns of namespaces) expect(stdout).not.toContain(ns);
}, 60_000);

describe('real route servers export BMP (launcher smoke test)', () => {
  it('FRR: Peer Up per appliance, pre-policy for every prefix, post-policy only for accepted ones', async () => {
    const sink = await startSink();
    const rs = await startFrrRouteServer({
      routerId: '192.0.2.1',
      localAs: 65000,
      listenRange: '127.0.1.0/24',
      bmp: { host: '127.0.0.1', port: sink.port, statsIntervalMs: 1000 },
    });
    const good = await startExabgpAppliance({
      localAddress: '127.0.1.11',
      peerAddress: '127.0.0.1',
      peerPort: rs.port,
      localAs: 65000,
      routes: ['10.128.1.0/29', '2001:db8:100:1::/64'],
    });
    const bad = await startExabgpAppliance({
      localAddress: '127.0.1.12',
      peerAddress: '127.0.0.1',
      peerPort: rs.port,
      localAs: 65000,
      families: ['ipv4'],
      routes: ['10.200.0.0/24'],
    });
    await Promise.all([good.waitEstablished(), bad.waitEstablished()]);

    await waitFor(async () => {
      const v4 = await frrPrefixes(rs, 'ipv4');
      const v6 = await frrPrefixes(rs, 'ipv6');
      return v4.includes('10.128.1.0/29') && v6.includes('2001:db8:100:1::/64');
    }, { what: 'bgpd to hold the accepted appliance prefixes' });
    expect(await frrPrefixes(rs, 'ipv4')).not.toContain('10.200.0.0/24');
    // soft-reconfiguration inbound keeps the rejected route in the Adj-RIB-In
    const received = await rs.vtysh('show bgp ipv4 unicast neighbors 127.0.1.12 received-routes');
    expect(received).toContain('10.200.0.0/24');

    const seen = await waitFor(() => {
      const s = summarize(sink.messages());
      const ok = s.peerUps.has('127.0.1.11') && s.peerUps.has('127.0.1.12')
        && has(s.announced, 'adj-rib-in-pre', '127.0.1.11', '10.128.1.0/29')
        && has(s.announced, 'adj-rib-in-pre', '127.0.1.11', '2001:db8:100:1::/64')
        && has(s.announced, 'adj-rib-in-post', '127.0.1.11', '10.128.1.0/29')
        && has(s.announced, 'adj-rib-in-post', '127.0.1.11', '2001:db8:100:1::/64')
        && (has(s.announced, 'adj-rib-in-pre', '127.0.1.12', '10.200.0.0/24') || has(s.withdrawn, 'adj-rib-in-pre', '127.0.1.12', '10.200.0.0/24'));
      return ok ? s : undefined;
    }, { what: 'FRR BMP: Peer Ups and the appliance routes', timeoutMs: 30_000, describe: () => describeSeen(sink) });

    expect(seen.types.get('initiation')).toBe(1);
    // The rejected prefix shows up pre-policy only (FRR may report it as a pre-policy withdraw, see EXPORTERS.md).
    expect(has(seen.announced, 'adj-rib-in-post', '127.0.1.12', '10.200.0.0/24')).toBe(false);
    for (const entry of seen.announced) expect(entry.startsWith('adj-rib-in-post') && entry.endsWith(' 10.200.0.0/24')).toBe(false);

    // Runtime control: a new in-range route reaches post-policy; a withdraw reaches bgpd.
    await good.announce('10.128.1.8/29', { localPreference: 50, communities: ['65011:1'] });
    await waitFor(() => has(summarize(sink.messages()).announced, 'adj-rib-in-post', '127.0.1.11', '10.128.1.8/29'), {
      what: 'the runtime announcement post-policy',
      describe: () => describeSeen(sink),
    });
    await good.withdraw('10.128.1.8/29');
    await waitFor(async () => !(await frrPrefixes(rs, 'ipv4')).includes('10.128.1.8/29'), { what: 'bgpd to drop the withdrawn route' });
    await waitFor(() => has(summarize(sink.messages()).withdrawn, 'adj-rib-in-post', '127.0.1.11', '10.128.1.8/29'), {
      what: 'the runtime withdraw post-policy',
      describe: () => describeSeen(sink),
    });

    // resetBmp: FRR drops the BMP session and opens a new one with a full dump.
    const before = sink.connections.length;
    await rs.resetBmp();
    await waitFor(() => sink.connections.length > before && summarize(sink.messages()).types.get('initiation') === 2, {
      what: 'a second BMP session after resetBmp()',
      describe: () => describeSeen(sink),
    });

    // restart(): same config, address and port; the appliances reconnect and FRR opens a new BMP session.
    const sessions = sink.connections.length;
    const oldPid = rs.process.pid;
    await rs.restart();
    expect(rs.process.pid).not.toBe(oldPid);
    await waitFor(async () => (await frrPrefixes(rs, 'ipv4')).includes('10.128.1.0/29'), { what: 'the appliance route back after restart()' });
    await waitFor(() => sink.connections.length > sessions, { what: 'a BMP session from the restarted bgpd', describe: () => describeSeen(sink) });

    await Promise.all([good.stop(), bad.stop()]);
    await rs.stop();
    expect(rs.process.running()).toBe(false);
  }, 120_000);

  it('GoBGP in a namespace: Peer Up per appliance, Loc-RIB routes, relayed to 127.0.0.1', async () => {
    const sink = await startSink();
    const rs = await startGobgpRouteServer({ localAs: 65000, bmp: { host: '127.0.0.1', port: sink.port } });
    namespaces.push(rs.namespace);
    const goodAddress = rs.applianceAddress(11);
    const badAddress = rs.applianceAddress(12);
    const good = await startExabgpAppliance({
      netns: rs.namespace,
      localAddress: goodAddress,
      peerAddress: rs.address,
      localAs: 65000,
      routes: ['10.128.1.0/29', '2001:db8:100:1::/64'],
    });
    const bad = await startExabgpAppliance({
      netns: rs.namespace,
      localAddress: badAddress,
      peerAddress: rs.address,
      localAs: 65000,
      families: ['ipv4'],
      routes: ['10.200.0.0/24'],
    });
    await Promise.all([good.waitEstablished(), bad.waitEstablished()]);

    await waitFor(async () => {
      const v4 = await rs.gobgpJson<Record<string, unknown>>(['global', 'rib', '-a', 'ipv4']);
      const v6 = await rs.gobgpJson<Record<string, unknown>>(['global', 'rib', '-a', 'ipv6']);
      return '10.128.1.0/29' in v4 && '2001:db8:100:1::/64' in v6;
    }, { what: 'gobgpd to hold the accepted appliance prefixes' });
    expect(Object.keys(await rs.gobgpJson<Record<string, unknown>>(['global', 'rib', '-a', 'ipv4']))).not.toContain('10.200.0.0/24');

    const seen = await waitFor(() => {
      const s = summarize(sink.messages());
      const ok = s.peerUps.has(goodAddress) && s.peerUps.has(badAddress)
        && has(s.announced, 'loc-rib', '0.0.0.0', '10.128.1.0/29')
        && has(s.announced, 'loc-rib', '0.0.0.0', '2001:db8:100:1::/64')
        && has(s.announced, 'adj-rib-in-pre', badAddress, '10.200.0.0/24')
        && has(s.announced, 'adj-rib-in-post', goodAddress, '10.128.1.0/29');
      return ok ? s : undefined;
    }, { what: 'GoBGP BMP: Peer Ups and Loc-RIB routes', timeoutMs: 30_000, describe: () => describeSeen(sink) });

    expect(seen.types.get('initiation')).toBe(1);
    expect(sink.connections[0].remote.startsWith('127.0.0.1:')).toBe(true);
    expect([...seen.announced].filter((e) => e.endsWith(' 10.200.0.0/24') && !e.startsWith('adj-rib-in-pre'))).toEqual([]);

    await good.announce('10.128.1.8/29');
    await waitFor(() => has(summarize(sink.messages()).announced, 'loc-rib', '0.0.0.0', '10.128.1.8/29'), {
      what: 'the runtime announcement in the Loc-RIB',
      describe: () => describeSeen(sink),
    });

    // resetBmp(): Termination on the old session, a new session with a full dump (no 30 s reconnect back-off).
    await rs.resetBmp();
    await waitFor(() => sink.connections.length === 2 && summarize(sink.messages()).types.get('initiation') === 2, {
      what: 'a second GoBGP BMP session after resetBmp()',
      describe: () => describeSeen(sink),
    });
    expect(summarize(sink.messages()).types.get('termination')).toBe(1);

    await Promise.all([good.stop(), bad.stop()]);
    await rs.destroy();
  }, 120_000);
});
