/**
 * `npm run dashboards`: writes every generated dashboard to dashboards/*.json. With --check, writes nothing and
 * exits 1 listing the files that differ from what the code generates (what CI's test asserts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, renderDashboard } from './index.js';

/** Compiled, this file is dist/src/dashboards/generate.js: the repository is three levels up. */
const OUT_DIR = fileURLToPath(new URL('../../../dashboards/', import.meta.url));

function current(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const { file, build } of DASHBOARDS) {
  const path = `${OUT_DIR}${file}`;
  const text = renderDashboard(build());
  if (current(path) === text) continue;
  stale.push(file);
  if (!check) writeFileSync(path, text);
}
if (check && stale.length > 0) {
  process.stderr.write(`dashboards out of date (run npm run dashboards): ${stale.join(', ')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(stale.length === 0 ? 'dashboards up to date\n' : `wrote ${stale.map((f) => `dashboards/${f}`).join(', ')}\n`);
}
