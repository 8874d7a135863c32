import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheckConfig } from '../../../src/cli/check-config.js';

const EXAMPLE = fileURLToPath(new URL('../../../config/bmpwatch.example.yaml', import.meta.url));

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function check(file: string, env: Record<string, string | undefined> = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = runCheckConfig(file, { stdout: stdout.stream, stderr: stderr.stream, env });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('bmpwatch check-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-check-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the example and summarises it', () => {
    expect(check(EXAMPLE)).toEqual({
      code: 0,
      stdout: `${EXAMPLE}: ok\n2 appliance groups, 3 appliances, 4 allowed router sources (3 named routers), BMP on 0.0.0.0:11019, API on 127.0.0.1:11080\n`,
      stderr: '',
    });
  });

  it('summarises an empty file with the defaults', () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, '');
    expect(check(file).stdout).toBe(`${file}: ok\n0 appliance groups, 0 appliances, 2 allowed router sources (0 named routers), BMP on 0.0.0.0:11019, API on 127.0.0.1:11080\n`);
  });

  it('brackets IPv6 listen addresses', () => {
    const file = join(dir, 'v6.yaml');
    writeFileSync(file, 'listen:\n  bmp: {host: "::"}\n  api: {host: "::1", port: 8080}\n');
    expect(check(file).stdout).toContain('BMP on [::]:11019, API on [::1]:8080');
  });

  it('prints every problem as PATH: MESSAGE and fails', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'listen:',
        '  bmp:',
        '    prot: 11019',
        'applianceGroups:',
        '  - name: fw',
        '    sessionRanges: [100.64.0.0/24]',
        '    sessionType: ibgp',
        '    asns: [64496]',
        '    prefixes:',
        '      ipv4: [{prefix: 10.128.0.0/17, minLength: 30, maxLength: 29}]',
        'storage:',
        '  dataDir: ${DATA_DIR}',
        '',
      ].join('\n'),
    );
    expect(check(file)).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        'storage.dataDir: environment variable DATA_DIR is not set',
        'listen.bmp.prot: unknown option; did you mean "port"?',
        'applianceGroups[0].prefixes.ipv4[0].maxLength: must be at least minLength (30)',
        '',
      ].join('\n'),
    });
  });

  it('uses the env it is given', () => {
    const file = join(dir, 'env.yaml');
    writeFileSync(file, 'storage:\n  dataDir: ${DATA_DIR}\n');
    expect(check(file, { DATA_DIR: '/var/lib/bmpwatch' }).code).toBe(0);
  });

  it('reports YAML syntax errors with their position', () => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, 'log:\n  level: info\n  level: debug\n');
    expect(check(file)).toEqual({ code: 1, stdout: '', stderr: '(root): YAML syntax error at line 3, column 3: Map keys must be unique\n' });
  });

  it('reports a missing file', () => {
    const file = join(dir, 'missing.yaml');
    expect(check(file)).toEqual({ code: 1, stdout: '', stderr: `(root): cannot read ${file}: no such file\n` });
  });
});
