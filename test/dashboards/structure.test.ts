/**
 * The generated dashboards' structure, without a database: the committed JSON is what the code generates; uids
 * are the pinned ones; every panel has a unique id, a place on the grid that overlaps no other, a description, a
 * unit from Grafana's unit list, thresholds, and queries on the provisioned datasource that read only
 * measurements and tags of the schema module. (queries.test.ts runs the queries; deploy.test.ts checks the
 * provisioning.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import * as grafanaUnits from '@grafana/grafana-foundation-sdk/units';
import { DASHBOARDS, renderDashboard } from '../../src/dashboards/index.js';
import { DATASOURCE } from '../../src/dashboards/influx-query.js';
import { DASHBOARD_UIDS } from '../../src/dashboards/uids.js';
import { MEASUREMENTS, TAGS } from '../../src/store/schema.js';

const DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));

/** Grafana's unit ids, as the SDK generates them from Grafana's unit registry. */
const VALID_UNITS = new Set<string>(Object.values(grafanaUnits as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));

/** Pinned: uids are in operators' bookmarks and in the links between the dashboards. */
const PINNED_UIDS = { 'overview.json': 'bmpwatch-overview', 'appliance.json': 'bmpwatch-appliance', 'alerts.json': 'bmpwatch-alerts' };

const GRID_COLUMNS = 24;

type AnyPanel = Panel | RowPanel;

function allPanels(board: Dashboard): AnyPanel[] {
  return (board.panels ?? []).flatMap((p) => (p.type === 'row' ? [p, ...((p as RowPanel).panels ?? [])] : [p]));
}

function contentPanels(board: Dashboard): Panel[] {
  return allPanels(board).filter((p): p is Panel => p.type !== 'row');
}

interface Query {
  readonly refId: string;
  readonly query: string;
  readonly datasource?: { type?: string; uid?: string };
}

function queriesOf(board: Dashboard): string[] {
  const panelQueries = contentPanels(board).flatMap((p) => ((p.targets ?? []) as unknown as Query[]).map((t) => t.query));
  const variables = (board.templating?.list ?? []).filter((v) => v.type === 'query').map((v) => String(v.query));
  const annotations = (board.annotations?.list ?? []).filter((a) => a.builtIn !== 1).map((a) => (a.target as unknown as Query).query);
  return [...panelQueries, ...variables, ...annotations];
}

function unitsOf(panel: Panel): unknown[] {
  const overrideUnits = (panel.fieldConfig?.overrides ?? []).flatMap((o) => o.properties.filter((p) => p.id === 'unit').map((p) => p.value));
  return [panel.fieldConfig?.defaults?.unit, ...overrideUnits];
}

/** The tag lists of every GROUP BY (time(...) removed), up to fill(, a closing parenthesis or the end. */
function groupByClauses(query: string): string[] {
  return query
    .split('GROUP BY ')
    .slice(1)
    .map((rest) => rest.replace(/^time\([^)]*\),?\s*/, '').split(/ fill\(|\)| ORDER | LIMIT /)[0]);
}

const built = DASHBOARDS.map(({ file, build }) => ({ file, board: build() }));

describe('generated dashboards', () => {
  it('the committed dashboards/*.json are exactly what `npm run dashboards` generates', () => {
    for (const { file, board } of built) {
      expect(readFileSync(`${DIR}${file}`, 'utf8'), `dashboards/${file} is stale: run npm run dashboards`).toBe(renderDashboard(board));
    }
    const committed = readdirSync(DIR).filter((name) => name.endsWith('.json')).sort();
    expect(committed, 'a dashboards/*.json that no code generates').toEqual(built.map((b) => b.file).sort());
  });

  it('uids are the pinned ones, and links between dashboards use them', () => {
    expect(Object.fromEntries(built.map(({ file, board }) => [file, board.uid]))).toEqual(PINNED_UIDS);
    expect(Object.values(DASHBOARD_UIDS).sort()).toEqual(Object.values(PINNED_UIDS).sort());
    for (const { board } of built) {
      expect(board.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      const json = JSON.stringify(board);
      for (const [, uid] of json.matchAll(/\/d\/([\w-]+)/g)) expect(Object.values(PINNED_UIDS)).toContain(uid);
    }
  });
});

describe.each(built)('dashboards/$file', ({ board }) => {
  it('has a title, a description, the bmpwatch tag and an annotation list', () => {
    expect(board.title).toMatch(/^bmpwatch \/ /);
    expect(board.description?.length).toBeGreaterThan(20);
    expect(board.tags).toContain('bmpwatch');
    expect(Array.isArray(board.annotations?.list)).toBe(true);
  });

  it('gives every panel and row a unique id', () => {
    const ids = allPanels(board).map((p) => p.id);
    for (const id of ids) expect(Number.isInteger(id) && (id ?? 0) > 0, `panel id ${id}`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('places every panel inside the 24-column grid with no two overlapping', () => {
    const boxes = allPanels(board).map((p) => ({ id: p.id, ...p.gridPos! }));
    for (const b of boxes) {
      expect(b.w > 0 && b.h > 0 && b.x >= 0 && b.y >= 0 && b.x + b.w <= GRID_COLUMNS, `panel ${b.id} at ${JSON.stringify(b)}`).toBe(true);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `panels ${a.id} and ${b.id} overlap`).toBe(false);
      }
    }
  });

  it('gives every panel a description, a valid unit and thresholds', () => {
    for (const panel of contentPanels(board)) {
      const where = `panel ${panel.id} "${panel.title}"`;
      expect(panel.title?.length, where).toBeGreaterThan(0);
      expect(panel.description?.length ?? 0, `${where} needs a description`).toBeGreaterThan(20);
      expect(panel.fieldConfig?.defaults?.unit, `${where} needs a unit`).toBeDefined();
      for (const unit of unitsOf(panel)) if (unit !== undefined) expect(VALID_UNITS.has(String(unit)), `${where}: unit ${String(unit)} is not a Grafana unit`).toBe(true);
      const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? [];
      expect(steps.length, `${where} needs thresholds`).toBeGreaterThan(0);
      expect(steps[0].value, `${where}: the base step has no value`).toBeNull();
      const values = steps.slice(1).map((s) => s.value as number);
      expect(values, `${where}: threshold steps increase`).toEqual([...values].sort((a, b) => a - b));
    }
  });

  it('queries the provisioned InfluxDB datasource in every panel, query, variable and annotation', () => {
    for (const panel of contentPanels(board)) {
      expect(panel.datasource, `panel ${panel.id}`).toEqual(DATASOURCE);
      const targets = (panel.targets ?? []) as unknown as Query[];
      expect(targets.length, `panel ${panel.id} has no query`).toBeGreaterThan(0);
      expect(new Set(targets.map((t) => t.refId)).size, `panel ${panel.id}: refIds unique`).toBe(targets.length);
      for (const target of targets) {
        expect(target.datasource, `panel ${panel.id} ${target.refId}`).toEqual(DATASOURCE);
        expect(target.query).toMatch(/^SELECT /);
      }
    }
    for (const variable of board.templating?.list ?? []) if (variable.type === 'query') expect(variable.datasource).toEqual(DATASOURCE);
    for (const annotation of (board.annotations?.list ?? []).filter((a) => a.builtIn !== 1)) {
      expect(annotation.datasource).toEqual(DATASOURCE);
      expect((annotation.target as unknown as Query).datasource).toEqual(DATASOURCE);
    }
  });

  it('reads only measurements and tags of src/store/schema.ts', () => {
    const measurements = new Set<string>(Object.values(MEASUREMENTS));
    const tags = new Set<string>(Object.values(TAGS));
    for (const query of queriesOf(board)) {
      for (const [, name] of query.matchAll(/FROM "([^"]+)"/g)) expect(measurements.has(name), `measurement ${name} in ${query}`).toBe(true);
      for (const [, name] of query.matchAll(/WITH KEY = "([^"]+)"/g)) expect(tags.has(name), `tag ${name} in ${query}`).toBe(true);
      for (const clause of groupByClauses(query)) {
        for (const [, name] of clause.matchAll(/"([^"]+)"/g)) expect(tags.has(name), `GROUP BY tag ${name} in ${query}`).toBe(true);
      }
    }
  });
});
