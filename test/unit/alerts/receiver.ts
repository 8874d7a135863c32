/** A webhook receiver on 127.0.0.1 for delivery tests: scripted responses, every request recorded. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export type Reply = { status: number; headers?: Record<string, string> } | 'hang';

export class Receiver {
  readonly requests: Received[] = [];
  /** Replies in order; when exhausted, `fallback`. */
  replies: Reply[] = [];
  fallback: Reply = { status: 200 };
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const reply = this.replies.shift() ?? this.fallback;
        if (reply === 'hang') return; // never answers: the sender's timeout must fire
        res.writeHead(reply.status, reply.headers);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until `count` requests have arrived (or fails after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} requests, got ${this.requests.length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

import { createHmac } from 'node:crypto';

/** Standard Webhooks verification with node:crypto only (independent of src/alerts/webhook/signing.ts). */
export function signatureValid(secret: string, request: Received): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = String(request.headers['webhook-timestamp']);
  const header = String(request.headers['webhook-signature'] ?? '');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${request.body}`).digest('base64');
  return header.split(' ').includes(`v1,${expected}`);
}
