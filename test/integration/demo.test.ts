/**
 * `bmpwatch demo`: replays demo/captures (BMP recorded from FRR 8.4 with misbehaving ExaBGP appliances by
 * test/integration/rules-frr.test.ts) into a temporary collector and prints the alerts and one appliance's history.
 *
 * - In-process (runDemo): exit 0; exactly the six alerts of the recorded scenario (demo/README.md), in the states a
 *   full-speed replay leaves them (what the stream removed is resolved, what must age away still fires), nothing
 *   for fw-good; fw-leak's history with its session, the pre-policy route, both alerts firing, the session reset and
 *   the resolve; an unknown appliance is exit 1 with the configured names.
 * - As installed: `node dist/src/main.js demo` from another working directory (demo/ is found next to the package,
 *   not in the cwd), exit 0, nothing left behind in the temporary directory. Needs the build (`npm test` builds first).
 * - The capture is the one demo/README.md describes (size and SHA-256 there and in its meta file).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findDemoDir, loadCaptures, runDemo, type CaptureMeta } from '../../src/cli/demo.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEMO = join(ROOT, 'demo');
const MAIN = join(ROOT, 'dist/src/main.js');

/** The alert rows of the `bmpwatch alerts` table the demo must print (STATE SEVERITY RULE ROUTER PEER PREFIX …). */
const EXPECTED_ROWS: readonly RegExp[] = [
  /^resolved\s+critical\s+next-hop\s+rs1\s+127\.0\.52\.13\s+10\.128\.3\.0\/29\s.*next hop 127\.0\.52\.99/m,
  /^resolved\s+warning\s+unexpected-prefix\s+rs1\s+127\.0\.52\.12\s+10\.200\.0\.0\/24\s.*out-of-range/m,
  /^resolved\s+warning\s+unexpected-peer\s+rs1\s+127\.0\.52\.200\s.*outside every appliance range/m,
  /^FIRING\s+warning\s+route-flap\s+rs1\s+127\.0\.52\.14\s+10\.128\.4\.0\/29\s.*flapping/m,
  /^FIRING\s+warning\s+rejected-spike\s+rs1\s+127\.0\.52\.12\s.*rejected \d+ more prefixes from fw-leak/m,
  /^FIRING\s+warning\s+session-churn\s+rs1\s+127\.0\.52\.15\s.*3 Peer Downs/m,
];

/** fw-leak's history table (TIME ROUTER EVENT PEER TABLE PREFIX DETAIL), in this order. */
const LEAK_HISTORY: readonly RegExp[] = [
  /^\S+\s+rs1\s+peer-up\s+127\.0\.52\.12\s/m,
  /^\S+\s+rs1\s+\S+\s+127\.0\.52\.12\s+pre\s+10\.200\.0\.0\/24\s+next hop 127\.0\.52\.12/m,
  /^\S+\s+rs1\s+alert-firing\s+127\.0\.52\.12\s+10\.200\.0\.0\/24\s+warning unexpected-prefix/m,
  /^\S+\s+rs1\s+alert-firing\s+127\.0\.52\.12\s+warning rejected-spike/m,
  /^\S+\s+rs1\s+peer-down\s+127\.0\.52\.12\s+session reset/m,
  /^\S+\s+rs1\s+alert-resolved\s+127\.0\.52\.12\s+10\.200\.0\.0\/24\s+warning unexpected-prefix.*the route is gone/m,
];

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    }),
    text: () => chunks.join(''),
  };
}

async function demo(appliance?: string): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runDemo(appliance === undefined ? {} : { appliance }, { stdout: out.stream, stderr: err.stream, env: {}, now: () => Date.now() });
  return { code, out: out.text(), err: err.text() };
}

/** Lines of the alerts table (between its header and the history heading). */
function alertRows(out: string): string[] {
  const start = out.indexOf('STATE ');
  const end = out.indexOf('\nHistory of ');
  return out.slice(start, end).trim().split('\n').slice(1);
}

function expectInOrder(text: string, patterns: readonly RegExp[]): void {
  let offset = 0;
  for (const pattern of patterns) {
    const match = pattern.exec(text.slice(offset));
    expect(match, `${pattern} after offset ${offset} in\n${text}`).not.toBeNull();
    offset += (match?.index ?? 0) + (match?.[0].length ?? 0);
  }
}

const demoDirsBefore = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('bmpwatch-demo-')));
const cwds: string[] = [];
afterAll(() => {
  for (const dir of cwds) rmSync(dir, { recursive: true, force: true });
});

describe('bmpwatch demo', () => {
  it('ships the capture its README describes', () => {
    expect(findDemoDir()).toBe(DEMO);
    const captures = loadCaptures(DEMO);
    expect(captures.map((c) => c.meta.file)).toEqual(['rs1.bmp']);
    const meta = JSON.parse(readFileSync(join(DEMO, 'captures/rs1.meta.json'), 'utf8')) as CaptureMeta;
    const bytes = readFileSync(join(DEMO, 'captures/rs1.bmp'));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect({ bytes: bytes.length, sha256 }).toEqual({ bytes: meta.bytes, sha256: meta.sha256 });
    const readme = readFileSync(join(DEMO, 'README.md'), 'utf8');
    expect(readme).toContain(sha256);
    expect(readme).toContain(`${bytes.length} bytes`);
    expect(meta.exporter?.sysDescr).toMatch(/^FRRouting 8\.4/);
  });

  it('replays the capture and prints exactly the scenario\'s alerts and fw-leak\'s history', async () => {
    const { code, out, err } = await demo();
    expect(err).toBe('');
    expect(code).toBe(0);
    const meta = loadCaptures(DEMO)[0].meta;
    expect(out).toContain(`replaying rs1.bmp: ${meta.bytes} bytes of BMP from ${meta.exporter?.sysDescr} "rs1"`);
    const rows = alertRows(out);
    expect(rows, out).toHaveLength(EXPECTED_ROWS.length);
    for (const pattern of EXPECTED_ROWS) expect(rows.filter((row) => pattern.test(row)), `${pattern}\n${rows.join('\n')}`).toHaveLength(1);
    // Nothing about the well-behaved appliance.
    expect(rows.join('\n')).not.toMatch(/127\.0\.52\.11|fw-good/);

    const history = out.slice(out.indexOf('\nHistory of fw-leak'));
    expect(history).toMatch(/^fw-leak: 127\.0\.52\.12 AS64496 id 127\.0\.52\.12$/m);
    expectInOrder(history, LEAK_HISTORY);
    // The prefixes FRR withdrew pre-policy as soon as its filter rejected them never reached the history.
    expect(history).not.toMatch(/10\.128\.2\.0\/24|0\.0\.0\.0\/0/);
  }, 30_000);

  it('shows another appliance on request, and names the configured ones for an unknown one', async () => {
    const churn = await demo('fw-churn');
    expect(churn.code).toBe(0);
    const history = churn.out.slice(churn.out.indexOf('\nHistory of fw-churn'));
    expect(history.match(/peer-down\s+127\.0\.52\.15\s+session reset/g)).toHaveLength(3);
    expect(history).toMatch(/alert-firing\s+127\.0\.52\.15\s+warning session-churn/);

    const unknown = await demo('fw-nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/fw-nosuch.*configured appliances: fw-good, fw-leak, fw-nexthop, fw-flap, fw-churn/s);
  }, 30_000);

  it('runs as installed (dist/src/main.js) from any working directory and leaves nothing behind', async () => {
    expect(existsSync(MAIN), `${MAIN} missing: run npm run build (npm test does)`).toBe(true);
    const cwd = mkdtempSync(join(tmpdir(), 'bmpw-demo-cwd-'));
    cwds.push(cwd);
    const result = await new Promise<{ code: number | null; out: string; err: string }>((done) => {
      const child = spawn(process.execPath, [MAIN, 'demo'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('close', (code) => done({ code, out, err }));
    });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(alertRows(result.out)).toHaveLength(EXPECTED_ROWS.length);
    expectInOrder(result.out.slice(result.out.indexOf('\nHistory of fw-leak')), LEAK_HISTORY);
    expect(readdirSync(cwd)).toEqual([]);
    const left = readdirSync(tmpdir()).filter((name) => name.startsWith('bmpwatch-demo-') && !demoDirsBefore.has(name));
    expect(left).toEqual([]);
  }, 30_000);
});
