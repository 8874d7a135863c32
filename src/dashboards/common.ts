/**
 * Defaults shared by the generated dashboards: the dashboard frame (time range, refresh, links between the
 * dashboards), thresholds, value mappings, legends, and the InfluxQL fragments several panels repeat.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type { RibTable } from '../bmp/types.js';
import type { Severity } from '../config/rules-schema.js';
import type { HistoryEventType } from '../store/history-event.js';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { FIELDS, MEASUREMENTS, TAGS } from '../store/schema.js';
import { DATASOURCE, id, influxql, str } from './influx-query.js';

export const DASHBOARD_TAG = 'bmpwatch';

/** Every dashboard: same frame, linked to the others through the shared tag. */
export function baseDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([DASHBOARD_TAG])
    .readonly()
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .annotation(builtInAnnotations())
    .link(new dashboard.DashboardLinkBuilder('bmpwatch').type(dashboard.DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(false).keepTime(true).includeVars(false));
}

/**
 * Grafana's own annotations (dashboard annotations and alert states), which Grafana adds to every dashboard it
 * saves; stated here so the generated JSON always has an annotation list.
 */
function builtInAnnotations(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Annotations & Alerts')
    .builtIn(1)
    .datasource({ type: 'grafana', uid: '-- Grafana --' })
    .enable(true)
    .hide(true)
    .iconColor('rgba(0, 211, 255, 1)')
    .type('dashboard');
}

/** A row header with a stable id (rows take a place in the grid and an id like panels). */
export function row(panelId: number, title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).id(panelId);
}

// ---------------------------------------------------------------------------------------------------------------
// Panels: id, title, description and datasource on every one; the callers add unit, thresholds, queries, size.

export function statPanel(panelId: number, title: string, description: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .id(panelId)
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .reduceOptions(lastValue())
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.None)
    .height(4);
}

export function timeseriesPanel(panelId: number, title: string, description: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .id(panelId)
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .min(0)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(tableLegend('lastNotNull', 'max'))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .height(8);
}

/** Bars per interval, stacked: counts of events. */
export function barsPanel(panelId: number, title: string, description: string): timeseries.PanelBuilder {
  return timeseriesPanel(panelId, title, description)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .lineWidth(1)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .legend(tableLegend('sum'));
}

export function tablePanel(panelId: number, title: string, description: string): table.PanelBuilder {
  return new table.PanelBuilder().id(panelId).title(title).description(description).datasource(DATASOURCE).height(8);
}

export function stateTimelinePanel(panelId: number, title: string, description: string): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .id(panelId)
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .height(8);
}

export function barGaugePanel(panelId: number, title: string, description: string): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .id(panelId)
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .reduceOptions(lastValue())
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .orientation(common.VizOrientation.Horizontal)
    .height(8);
}

// ---------------------------------------------------------------------------------------------------------------
// Colours, thresholds, mappings

export const COLORS = { ok: 'green', warn: 'orange', bad: 'red', info: 'blue', neutral: 'text' } as const;

/** Absolute thresholds: a base colour, then [from value, colour] steps in increasing order. */
export function thresholds(base: string, ...steps: readonly (readonly [number, string])[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]);
}

/** Thresholds that colour by the value: red below 1, green from 1 (something is there / up). */
export const presentThresholds = (): dashboard.ThresholdsConfigBuilder => thresholds(COLORS.bad, [1, COLORS.ok]);
/** Thresholds for counts of problems: green at 0, orange from `warn`, red from `bad`. */
export const problemThresholds = (warn = 1, bad = warn): dashboard.ThresholdsConfigBuilder =>
  bad > warn ? thresholds(COLORS.ok, [warn, COLORS.warn], [bad, COLORS.bad]) : thresholds(COLORS.ok, [warn, COLORS.bad]);

/** 1 → `up` (green), 0 → `down` (red). */
export function upDownMapping(up: string, down: string): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: { '1': { text: up, color: COLORS.ok, index: 0 }, '0': { text: down, color: COLORS.bad, index: 1 } },
    },
  ];
}

/** Alert severities, mildest first, with their colours (the rules' severities: src/config/rules-schema.ts). */
export const SEVERITY_COLORS: Readonly<Record<Severity, string>> = { info: COLORS.info, warning: COLORS.warn, critical: COLORS.bad };
export const SEVERITY_NAMES = Object.keys(SEVERITY_COLORS) as Severity[];

export function severityMapping(): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  SEVERITY_NAMES.forEach((name, index) => {
    options[name] = { color: SEVERITY_COLORS[name], index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

export function tableLegend(...calcs: string[]): common.VizLegendOptionsBuilder {
  return new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).showLegend(true).calcs(calcs);
}

export function lastValue(): common.ReduceDataOptionsBuilder {
  return new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
}

export function sumValues(): common.ReduceDataOptionsBuilder {
  return new common.ReduceDataOptionsBuilder().calcs(['sum']).values(false);
}

/** A `table` transformation that hides columns and renames others (Grafana's "organize"). */
export function organize(hide: readonly string[], rename: Readonly<Record<string, string>> = {}): dashboard.DataTransformerConfig {
  return {
    id: 'organize',
    options: { excludeByName: Object.fromEntries(hide.map((name) => [name, true])), renameByName: rename, indexByName: {} },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// InfluxQL fragments

/** Conditions joined by AND, always ending in Grafana's time filter. */
export function where(...conditions: readonly string[]): string {
  return `WHERE ${[...conditions, '$timeFilter'].join(' AND ')}`;
}

export function tagIs(tag: string, value: string): string {
  return `${id(tag)} = ${str(value)}`;
}

export function tableIs(table: RibTable): string {
  return tagIs(TAGS.table, table);
}

/** Event types as a regex alternative, typed so a renamed event type fails to compile. */
export function eventTypeIn(...types: readonly HistoryEventType[]): string {
  return `${id(TAGS.type)} =~ /^(${types.join('|')})$/`;
}

/**
 * The route server's own routes arrive with an all-zero per-peer header (RFC 9069 Loc-RIB, and FRR's own
 * announcements); the collector reports that pseudo-peer as 0.0.0.0 or ::. It is not an appliance.
 */
export const NOT_LOCAL_PEER = `${id(TAGS.peer)} != '0.0.0.0' AND ${id(TAGS.peer)} != '::'`;

/** How far back "firing now" looks for an alert's last transition: the default retention policy (30d). */
export const ALERT_STATE_LOOKBACK = '30d';

/**
 * The last alert transition per rule, route server and appliance within ALERT_STATE_LOOKBACK, as fields `state`
 * (the event type), `level` (severity), `fingerprint` and `detail`: an alert is firing now when its last
 * transition is alert-firing. Grouped by tags, not by fingerprint (a field), so several alerts of one rule on one
 * appliance count once. Independent of the dashboard's time range: "now" means now.
 */
export function lastAlertTransitions(...conditions: readonly string[]): string {
  const f = FIELDS.events;
  const select = `last(${id(f.fingerprint)}) AS "fingerprint", ${id(TAGS.type)} AS "state", ${id(TAGS.severity)} AS "level", ${id(f.detail)} AS "detail"`;
  const filter = [eventTypeIn('alert-firing', 'alert-resolved'), ...conditions, `time > now() - ${ALERT_STATE_LOOKBACK}`].join(' AND ');
  return `SELECT ${select} FROM ${id(MEASUREMENTS.events)} WHERE ${filter} GROUP BY ${id(TAGS.rule)}, ${id(TAGS.router)}, ${id(TAGS.peer)}`;
}

export const FIRING = `"state" = 'alert-firing'`;

/** One stat per severity: alerts firing now (see lastAlertTransitions), coloured by severity. */
export function firingNowStat(panelId: number, ...conditions: readonly string[]): stat.PanelBuilder {
  const panel = statPanel(
    panelId,
    'Alerts firing now',
    `Alerts whose last transition (in the last ${ALERT_STATE_LOOKBACK}) is "firing", per severity; counted per rule, route server and appliance. ` +
      'Independent of the time range. Thresholds: any critical is red, any warning orange.',
  )
    .unit(units.Short)
    .noValue('0')
    .textMode(common.BigValueTextMode.ValueAndName)
    .colorMode(common.BigValueColorMode.Background)
    .thresholds(thresholds(COLORS.ok, [1, COLORS.bad]));
  for (const [index, severity] of [...SEVERITY_NAMES].reverse().entries()) {
    const refId = String.fromCharCode(65 + index);
    panel.withTarget(
      influxql(refId, `SELECT count("fingerprint") AS ${id(severity)} FROM (${lastAlertTransitions(...conditions)}) WHERE ${FIRING} AND "level" = ${str(severity)}`, {
        tags: [],
        columns: ['time', severity],
      }).alias('$col'),
    );
    panel.overrideByName(severity, [{ id: 'thresholds', value: thresholds(COLORS.ok, [1, SEVERITY_COLORS[severity]]).build() }]);
  }
  return panel;
}

/** A variable listing the values of a tag (`SHOW TAG VALUES` query), sorted, re-read when the time range changes. */
export function tagValuesVariable(name: string, label: string, description: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** Multi-select with "All", which matches every value (`.*`), selected by default. */
export function multiAll<T extends dashboard.QueryVariableBuilder | dashboard.CustomVariableBuilder>(variable: T): T {
  variable.multi(true).includeAll(true).allValue('.*').current({ text: 'All', value: '$__all' });
  return variable;
}
