/**
 * Standard Webhooks signatures (https://github.com/standard-webhooks/standard-webhooks, spec "Signature scheme"):
 *
 *   webhook-id:        the message id (stable across retries: receivers deduplicate on it)
 *   webhook-timestamp: seconds since the epoch, of this attempt (receivers reject stale ones, ~5 minutes)
 *   webhook-signature: "v1," + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))
 *
 * The secret is "whsec_" + base64(key); the key bytes are the base64-decoded part.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

export function sign(secret: string, id: string, timestampSeconds: number | string, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function webhookHeaders(id: string, timestampSeconds: number, body: string, secret: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds) };
  if (secret !== undefined) headers['webhook-signature'] = sign(secret, id, timestampSeconds, body);
  return headers;
}

/**
 * Receiver side (tests, and the demo's receiver): true when any "v1,…" signature in the space-separated header
 * matches, compared in constant time.
 */
export function verify(secret: string, id: string, timestampSeconds: string, body: string, header: string): boolean {
  const expected = Buffer.from(sign(secret, id, timestampSeconds, body).slice(3), 'base64');
  return header.split(' ').some((part) => {
    if (!part.startsWith('v1,')) return false;
    const given = Buffer.from(part.slice(3), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
