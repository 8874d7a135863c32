/**
 * Every query of every generated dashboard, run against a real InfluxDB holding what bmpwatch wrote while
 * ingesting the real captures (see ./ingest.ts), after Grafana's substitutions (./grafana.ts):
 *
 * - variable queries (SHOW TAG VALUES) return values, including the ones the panels are tested with;
 * - each panel query returns at least one series, every series named by exactly the tags the panel groups by and
 *   carrying exactly the columns it expects, with rows; the names the panel's aliases, overrides and
 *   transformations refer to exist in that result;
 * - annotation queries return their time, text and tag columns;
 * - every panel query also runs without error for every route server and appliance the variables offer, and
 *   for All.
 *
 * The dashboards are built in memory (the objects whose JSON is committed: structure.test.ts checks they equal
 * the files), so each query object carries its expectation (src/dashboards/influx-query.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../../src/dashboards/index.js';
import { expectationOf, type SeriesExpectation } from '../../src/dashboards/influx-query.js';
import type { InfluxSeries } from '../helpers/influxd.js';
import { computeIntervalMs, leftovers, parseInterval, substitute, type QueryContext, type VariableValue } from './grafana.js';
import { APPLIANCE, DATABASE, ingestCaptures, METRICS_INTERVAL_SECONDS, type IngestedData } from './ingest.js';

let data: IngestedData;

beforeAll(async () => {
  data = await ingestCaptures();
}, 120_000);

afterAll(async () => {
  await data?.stop();
}, 60_000);

/** The values the panels are tested with where a variable does not default to All. */
const SELECTION: Readonly<Record<string, string>> = { router: APPLIANCE.router, appliance: APPLIANCE.peer };

interface Target {
  readonly refId: string;
  readonly query: string;
  readonly resultFormat?: string;
  readonly alias?: string;
}

function panelsOf(board: Dashboard): Panel[] {
  return (board.panels ?? []).filter((p): p is Panel => p.type !== 'row').concat(
    (board.panels ?? []).filter((p): p is RowPanel => p.type === 'row').flatMap((r) => r.panels ?? []),
  );
}

function targetsOf(panel: Panel): Target[] {
  return (panel.targets ?? []) as unknown as Target[];
}

async function run(query: string): Promise<InfluxSeries[]> {
  const results = await data.influxd.query(query, { db: DATABASE });
  return results[0] ?? [];
}

function context(variables: ReadonlyMap<string, VariableValue>, panel?: Panel): QueryContext {
  const minimum = panel?.interval ? parseInterval(panel.interval) : METRICS_INTERVAL_SECONDS * 1000;
  return { from: data.from, to: data.to, intervalMs: computeIntervalMs(data.from, data.to, minimum, panel?.maxDataPoints ?? 1000), variables };
}

function substituted(query: string, ctx: QueryContext): string {
  const text = substitute(query, ctx);
  expect(leftovers(text), `unsubstituted names in ${text}`).toEqual([]);
  return text;
}

function variableValue(variable: VariableModel, values: readonly string[]): VariableValue {
  return { values, multi: variable.multi === true, includeAll: variable.includeAll === true, ...(variable.allValue !== undefined && { allValue: variable.allValue }) };
}

/** Resolves the dashboard's variables in order, as Grafana does on load; returns each one's options too. */
async function resolveVariables(board: Dashboard): Promise<{ selected: Map<string, VariableValue>; options: Map<string, string[]> }> {
  const selected = new Map<string, VariableValue>();
  const options = new Map<string, string[]>();
  for (const variable of board.templating?.list ?? []) {
    let values: string[];
    if (variable.type === 'custom') {
      values = String(variable.query ?? '').split(',').map((v) => v.trim());
    } else {
      const query = substituted(String(variable.query), context(selected));
      const series = await run(query);
      for (const s of series) expect(s.columns, query).toEqual(['key', 'value']);
      values = series.flatMap((s) => s.values.map((row) => String(row[1])));
    }
    expect(values.length, `variable ${variable.name} has no values`).toBeGreaterThan(0);
    options.set(variable.name, values);
    const preferred = SELECTION[variable.name];
    const current = (variable.current?.value as string | undefined) ?? undefined;
    if (current === '$__all') selected.set(variable.name, variableValue(variable, ['$__all']));
    else if (preferred !== undefined) {
      expect(values, `variable ${variable.name}`).toContain(preferred);
      selected.set(variable.name, variableValue(variable, [preferred]));
    } else selected.set(variable.name, variableValue(variable, [values[0]]));
  }
  return { selected, options };
}

function tagsOf(series: InfluxSeries): Record<string, string> {
  return (series as InfluxSeries & { tags?: Record<string, string> }).tags ?? {};
}

/** The field names Grafana shows for a result: aliases resolved for time series, columns and tags for tables. */
function displayNames(target: Target, series: readonly InfluxSeries[]): Set<string> {
  const names = new Set<string>();
  for (const s of series) {
    const tags = tagsOf(s);
    if (target.resultFormat === 'table') {
      names.add('Time');
      for (const column of s.columns.slice(1)) names.add(column);
      for (const key of Object.keys(tags)) names.add(key);
      continue;
    }
    for (const column of s.columns.slice(1)) {
      const alias = target.alias ?? `${s.name ?? ''}.${column}`;
      names.add(alias.replace(/\$tag_(\w+)/g, (_, key: string) => tags[key] ?? '').replace(/\$col/g, column).replace(/\$m/g, s.name ?? ''));
    }
  }
  return names;
}

function checkSeries(where: string, query: string, series: readonly InfluxSeries[], expectation: SeriesExpectation): void {
  expect(series.length, `${where}: no series for ${query}`).toBeGreaterThan(0);
  for (const s of series) {
    expect(Object.keys(tagsOf(s)).sort(), `${where}: series tags of ${query}`).toEqual([...expectation.tags].sort());
    expect(s.columns, `${where}: columns of ${query}`).toEqual(expectation.columns);
    expect(s.values.length, `${where}: rows of ${query}`).toBeGreaterThan(0);
  }
}

/** Names referred to by byName overrides and organize transformations must exist in the result. */
function checkReferences(where: string, panel: Panel, names: ReadonlySet<string>): void {
  for (const override of panel.fieldConfig?.overrides ?? []) {
    if (override.matcher.id === 'byName') expect([...names], `${where}: override for "${String(override.matcher.options)}"`).toContain(override.matcher.options);
    if (override.matcher.id === 'byRegexp') {
      const pattern = new RegExp(`^${String(override.matcher.options)}$`);
      expect([...names].some((n) => pattern.test(n)), `${where}: override regex ${String(override.matcher.options)} matches nothing in ${[...names].join(', ')}`).toBe(true);
    }
  }
  for (const transformation of panel.transformations ?? []) {
    if (transformation.id !== 'organize') continue;
    const options = transformation.options as { excludeByName: Record<string, boolean>; renameByName: Record<string, string> };
    for (const name of [...Object.keys(options.excludeByName), ...Object.keys(options.renameByName)]) expect([...names], `${where}: organize refers to "${name}"`).toContain(name);
  }
}

const built = DASHBOARDS.map(({ file, build }) => ({ file, board: build() }));

describe.each(built)('dashboards/$file against InfluxDB with the captures bmpwatch ingested', ({ board }) => {
  it('variable queries return the values the panels are tested with', async () => {
    const { selected } = await resolveVariables(board);
    expect([...selected.keys()]).toEqual((board.templating?.list ?? []).map((v) => v.name));
  });

  it('every panel query returns the series and columns its panel expects', async () => {
    const { selected } = await resolveVariables(board);
    const panels = panelsOf(board);
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      const where = `panel ${panel.id} "${panel.title}"`;
      const names = new Set<string>();
      const targets = targetsOf(panel);
      expect(targets.length, `${where} has no query`).toBeGreaterThan(0);
      for (const target of targets) {
        const expectation = expectationOf(target);
        if (!expectation) throw new Error(`${where}: query ${target.refId} has no expectation (built outside influxql()?)`);
        const query = substituted(target.query, context(selected, panel));
        const series = await run(query);
        checkSeries(`${where} ${target.refId}`, query, series, expectation);
        for (const key of target.alias?.matchAll(/\$tag_(\w+)/g) ?? []) expect(expectation.tags, `${where}: alias ${target.alias}`).toContain(key[1]);
        for (const name of displayNames(target, series)) names.add(name);
      }
      checkReferences(where, panel, names);
    }
  });

  it('annotation queries return their time, text and tag columns', async () => {
    const { selected } = await resolveVariables(board);
    const annotations = (board.annotations?.list ?? []).filter((a) => a.builtIn !== 1);
    for (const annotation of annotations) {
      const target = annotation.target as unknown as Target & { textColumn: string; tagsColumn: string };
      const expectation = expectationOf(target);
      if (!expectation) throw new Error(`annotation ${annotation.name} has no expectation`);
      const query = substituted(target.query, context(selected));
      const series = await run(query);
      checkSeries(`annotation "${annotation.name}"`, query, series, expectation);
      for (const column of [target.textColumn, ...target.tagsColumn.split(',')]) expect(series[0].columns).toContain(column);
    }
  });

  it('every panel query runs for every route server and appliance the variables offer, and for All', async () => {
    const { selected, options } = await resolveVariables(board);
    const variables = board.templating?.list ?? [];
    const alternatives: Map<string, VariableValue>[] = [];
    for (const variable of variables) {
      if (variable.type === 'custom') continue;
      const choices = [...(options.get(variable.name) ?? []).map((v) => [v]), ...(variable.includeAll ? [['$__all']] : [])];
      for (const choice of choices) {
        const next = new Map(selected);
        next.set(variable.name, variableValue(variable, choice));
        alternatives.push(next);
      }
    }
    // Dependent variables (appliance of router): every appliance of every route server.
    const appliance = variables.find((v) => v.name === 'appliance');
    if (appliance) {
      for (const router of options.get('router') ?? []) {
        const withRouter = new Map(selected);
        withRouter.set('router', variableValue(variables[0], [router]));
        const peers = (await run(substituted(String(appliance.query), context(withRouter)))).flatMap((s) => s.values.map((row) => String(row[1])));
        for (const peer of peers) alternatives.push(new Map(withRouter).set('appliance', variableValue(appliance, [peer])));
      }
    }
    let executed = 0;
    for (const variablesChoice of alternatives) {
      for (const panel of panelsOf(board)) {
        for (const target of targetsOf(panel)) {
          await run(substituted(target.query, context(variablesChoice, panel)));
          executed++;
        }
      }
    }
    expect(executed).toBeGreaterThan(0);
  });
});
