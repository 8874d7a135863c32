/**
 * A BMP "collector" that only records: every connection's bytes with their arrival times, decodable with our own
 * decoder, and optionally forwarded as they arrive to a real collector (a tee), so one test can both feed bmpwatch
 * and keep the exact bytes a route server sent (test/integration/rules-frr.test.ts records demo/ this way).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BmpSessionDecoder } from '../../src/bmp/decode.js';
import { BmpFramer } from '../../src/bmp/framer.js';
import type { BmpMessage } from '../../src/bmp/types.js';
import { defaultRegistry, type CleanupRegistry } from './daemons/process.js';

export interface RecordedChunk {
  /** Arrival time, ms since the epoch. */
  readonly at: number;
  readonly bytes: Buffer;
}

export interface RecordedConnection {
  readonly remote: string;
  readonly openedAt: number;
  closedAt: number | undefined;
  readonly chunks: RecordedChunk[];
}

export interface DecodedMessage {
  /** Index of the connection it came on. */
  readonly connection: number;
  /** Arrival time of the chunk that completed it. */
  readonly at: number;
  readonly message: BmpMessage;
}

export interface BmpRecorder {
  readonly port: number;
  readonly connections: readonly RecordedConnection[];
  /** Every connection's messages, decoded (fresh framer and decoder per connection), in arrival order. Throws on a decode error. */
  messages(): DecodedMessage[];
  /** One connection's bytes. */
  bytes(connection: number): Buffer;
  close(): Promise<void>;
}

export interface BmpRecorderOptions {
  /** Forward each connection to this collector (a new upstream connection per route-server connection). */
  readonly forwardTo?: { readonly host: string; readonly port: number };
  readonly registry?: CleanupRegistry;
}

export function startBmpRecorder(options: BmpRecorderOptions = {}): Promise<BmpRecorder> {
  const connections: RecordedConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const record: RecordedConnection = { remote: `${socket.remoteAddress}:${socket.remotePort}`, openedAt: Date.now(), closedAt: undefined, chunks: [] };
    connections.push(record);
    let upstream: Socket | undefined;
    if (options.forwardTo) {
      upstream = connect({ host: options.forwardTo.host, port: options.forwardTo.port });
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream as Socket);
        socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => {
      record.chunks.push({ at: Date.now(), bytes: Buffer.from(chunk) });
      upstream?.write(chunk);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      record.closedAt = Date.now();
      sockets.delete(socket);
      upstream?.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      const recorder: BmpRecorder = {
        port: address.port,
        connections,
        bytes: (index) => Buffer.concat(connections[index].chunks.map((c) => c.bytes)),
        messages: () => {
          const out: DecodedMessage[] = [];
          connections.forEach((connection, index) => {
            const framer = new BmpFramer();
            const decoder = new BmpSessionDecoder();
            for (const chunk of connection.chunks) {
              const problem = framer.push(chunk.bytes, (frame) => {
                const result = decoder.decode(frame.bytes);
                if (!result.ok) throw new Error(`decode error from ${connection.remote}: ${JSON.stringify(result.error)}`);
                out.push({ connection: index, at: chunk.at, message: result.value });
              });
              if (problem) throw new Error(`framing error from ${connection.remote}: ${JSON.stringify(problem)}`);
            }
          });
          return out.sort((a, b) => a.at - b.at || a.connection - b.connection);
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      };
      (options.registry ?? defaultRegistry).defer(`close the BMP recorder on port ${address.port}`, () => recorder.close());
      resolve(recorder);
    });
  });
}
