import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, verify, webhookHeaders } from '../../../src/alerts/webhook/signing.js';

/** The Standard Webhooks verification, written from the spec with node:crypto only (independent of signing.ts). */
function verifyPerSpec(secret: string, headers: Record<string, string>, body: string, nowSeconds: number): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return false; // replay window (5 min)
  const key = Buffer.from(secret.split('_')[1], 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return headers['webhook-signature'].split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    return version === 'v1' && value === expected;
  });
}

describe('Standard Webhooks signing', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const body = JSON.stringify({ schema: 'bmpwatch.alert/v1', text: 'ünïcödé' });

  it('produces webhook-id, webhook-timestamp and a v1 signature a spec verifier accepts', () => {
    const headers = webhookHeaders('msg_abc', 1_700_000_000, body, secret);
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyPerSpec(secret, headers, body, 1_700_000_010)).toBe(true);
  });

  it('a modified body, id, timestamp or key fails verification', () => {
    const headers = webhookHeaders('msg_abc', 1_700_000_000, body, secret);
    expect(verifyPerSpec(secret, headers, `${body} `, 1_700_000_000)).toBe(false);
    expect(verifyPerSpec(secret, { ...headers, 'webhook-id': 'msg_abd' }, body, 1_700_000_000)).toBe(false);
    expect(verifyPerSpec(secret, { ...headers, 'webhook-timestamp': '1700000001' }, body, 1_700_000_000)).toBe(false);
    expect(verifyPerSpec(`whsec_${randomBytes(32).toString('base64')}`, headers, body, 1_700_000_000)).toBe(false);
    expect(verifyPerSpec(secret, headers, body, 1_700_000_000 + 3600)).toBe(false);
  });

  it('matches the Standard Webhooks reference test vector', () => {
    // From the standard-webhooks libraries' tests (secret, msg id, timestamp, payload → signature).
    const vectorSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = sign(vectorSecret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(verify(vectorSecret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}', `v1,bad ${signature}`)).toBe(true);
  });

  it('sends no signature header without a secret', () => {
    expect(webhookHeaders('msg_x', 1, body, undefined)).toEqual({ 'webhook-id': 'msg_x', 'webhook-timestamp': '1' });
  });
});
