import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HISTORY_EVENT_TYPES } from '../../../src/store/history-event.js';
import { FIELDS, MEASUREMENTS, TAGS } from '../../../src/store/schema.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`## ${title}`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README documents the stored schema', () => {
  const schema = section('InfluxDB schema');
  it.each(Object.values(MEASUREMENTS))('measurement %s', (name) => expect(schema).toContain(`\`${name}\``));
  it.each(Object.values(TAGS))('tag %s', (name) => expect(schema).toContain(`\`${name}\``));
  it.each(Object.values(FIELDS).flatMap((group) => Object.values(group)))('field %s', (name) => expect(schema).toContain(`\`${name}\``));
  it.each(HISTORY_EVENT_TYPES)('history event type %s', (type) => expect(section('History')).toContain(`\`${type}\``));
});
