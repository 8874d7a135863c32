import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The real captures in test/fixtures (provenance in test/fixtures/README.md). */
export const CAPTURES = [
  { name: 'frr-baseline', file: 'frr-baseline/both' },
  { name: 'frr-addpath', file: 'frr-addpath/both' },
  { name: 'frr-late-collector', file: 'frr-late-collector/both' },
  { name: 'gobgp-addpath', file: 'gobgp-addpath/all' },
] as const;

export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));
}

export function readFixture(relative: string): Buffer {
  return readFileSync(fixturePath(relative));
}

export function readCapture(file: string): Buffer {
  return readFixture(`${file}.bmp`);
}
