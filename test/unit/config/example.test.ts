import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Pair } from 'yaml';
import { z } from 'zod';
import { addressInCidr, cidrContains, parseAddress, parseCidr, type Cidr } from '../../../src/config/cidr.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';

const EXAMPLE = fileURLToPath(new URL('../../../config/bmpwatch.example.yaml', import.meta.url));
const TEXT = readFileSync(EXAMPLE, 'utf8');
const LINES = TEXT.split('\n');

/** Every key path of the schema; "[]" stands for "any element of this list". Walks the zod schema itself. */
function schemaKeyPaths(schema: z.core.$ZodType, prefix: string[] = []): string[][] {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional) return schemaKeyPaths(schema.unwrap(), prefix);
  if (schema instanceof z.ZodPipe) return schemaKeyPaths(schema.in, prefix);
  if (schema instanceof z.ZodArray) return schemaKeyPaths(schema.element, [...prefix, '[]']);
  if (schema instanceof z.ZodObject) {
    const shape: Record<string, z.core.$ZodType> = schema.shape;
    return Object.entries(shape).flatMap(([key, value]) => [[...prefix, key], ...schemaKeyPaths(value, [...prefix, key])]);
  }
  return [];
}

/** The first pair in the YAML tree at `path` (trying each element of a list in turn). */
function findKey(node: unknown, path: readonly string[]): Pair | undefined {
  const [head, ...rest] = path;
  if (head === '[]') {
    if (!isSeq(node)) return undefined;
    for (const item of node.items) {
      const found = findKey(item, rest);
      if (found) return found;
    }
    return undefined;
  }
  if (!isMap(node)) return undefined;
  const pair = node.items.find((item) => isScalar(item.key) && item.key.value === head);
  if (!pair) return undefined;
  return rest.length === 0 ? pair : findKey(pair.value, rest);
}

const ALL_KEYS = schemaKeyPaths(configSchema);

describe('config/bmpwatch.example.yaml', () => {
  it('loads without problems and without environment variables', () => {
    const result = loadConfigFile(EXAMPLE, {});
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('shows the defaults for every option that has one', () => {
    const result = loadConfigFile(EXAMPLE, {});
    if (!result.ok) throw new Error('example does not load');
    const defaults = configSchema.parse({});
    expect(result.config.listen).toEqual(defaults.listen);
    expect(result.config.limits).toEqual(defaults.limits);
    expect(result.config.log).toEqual(defaults.log);
    const { influx, ...storage } = result.config.storage;
    expect(storage).toEqual(defaults.storage);
    // The example documents InfluxDB but leaves it off, so the README's first command needs nothing else.
    expect(influx?.enabled).toBe(false);
    for (const source of defaults.routers.allowedSources) expect(result.config.routers.allowedSources).toContain(source);
  });

  it('the schema walk sees the whole schema', () => {
    const paths = ALL_KEYS.map((path) => path.join('.'));
    expect(paths).toContain('listen.bmp.host');
    expect(paths).toContain('routers.names.[].cluster');
    expect(paths).toContain('applianceGroups.[].prefixes.ipv6.[].maxLength');
    expect(paths).toContain('appliances.[].bgpId');
    expect(paths).toContain('storage.dataDir');
    expect(paths.length).toBeGreaterThanOrEqual(45);
  });

  const doc = (() => {
    const lineCounter = new LineCounter();
    const parsed = parseDocument(TEXT, { lineCounter });
    return { parsed, lineCounter };
  })();

  it.each(ALL_KEYS.map((path) => [path.join('.'), path] as const))('documents %s', (_, path) => {
    const pair = findKey(doc.parsed.contents, path);
    expect(pair, `${path.join('.')} is missing from the example`).toBeDefined();
    if (!pair || !isScalar(pair.key) || !pair.key.range) throw new Error('unreachable');
    const line = doc.lineCounter.linePos(pair.key.range[0]).line;
    const keyLine = LINES[line - 1];
    const previous = LINES[line - 2] ?? '';
    const commented = keyLine.includes(' #') || /^\s*(-\s*)?#/.test(previous);
    expect(commented, `line ${line} (${keyLine.trim()}) has no comment on it or just above it`).toBe(true);
  });

  it('uses only documentation, shared and loopback addresses', () => {
    const allowed: Cidr[] = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '100.64.0.0/10', '10.128.0.0/16', '127.0.0.0/8', '::1/128', '0.0.0.0/32'].map((text) => {
      const cidr = parseCidr(text);
      if (typeof cidr === 'string') throw new Error(cidr);
      return cidr;
    });
    const seen: string[] = [];
    visit(doc.parsed, {
      Scalar(_, node) {
        if (typeof node.value !== 'string') return;
        const cidr = parseCidr(node.value);
        const address = parseAddress(node.value);
        if (typeof cidr !== 'string') {
          seen.push(node.value);
          expect(allowed.some((range) => cidrContains(range, cidr)), node.value).toBe(true);
        } else if (typeof address !== 'string') {
          seen.push(node.value);
          expect(allowed.some((range) => addressInCidr(address, range)), node.value).toBe(true);
        }
      },
    });
    expect(seen.length).toBeGreaterThan(20);
  });

  it('has no keys the schema does not know', () => {
    const known = new Set(ALL_KEYS.map((path) => path.join('.')));
    const unknown: string[] = [];
    const walk = (node: unknown, path: string[]): void => {
      if (isSeq(node)) node.items.forEach((item) => walk(item, [...path, '[]']));
      else if (isMap(node)) {
        for (const item of node.items) {
          if (!isPair(item) || !isScalar(item.key)) continue;
          const keyPath = [...path, String(item.key.value)];
          if (!known.has(keyPath.join('.'))) unknown.push(keyPath.join('.'));
          walk(item.value, keyPath);
        }
      }
    };
    walk(doc.parsed.contents, []);
    expect(unknown).toEqual([]);
  });
});
