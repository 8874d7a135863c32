/**
 * Alerts: what is firing now, recent transitions, counts over time by rule and severity, and the appliances that
 * raise the most. Variables filter by route server, rule and severity.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { FIELDS, MEASUREMENTS, TAGS } from '../store/schema.js';
import {
  barsPanel,
  baseDashboard,
  COLORS,
  eventTypeIn,
  FIRING,
  firingNowStat,
  lastAlertTransitions,
  multiAll,
  organize,
  problemThresholds,
  row,
  SEVERITY_COLORS,
  SEVERITY_NAMES,
  severityMapping,
  statPanel,
  sumValues,
  tablePanel,
  tagValuesVariable,
  thresholds,
  where,
} from './common.js';
import { id, influxql, matchesVariable } from './influx-query.js';
import { DASHBOARD_UIDS } from './uids.js';

const E = FIELDS.events;
const eventMeasurement = id(MEASUREMENTS.events);
const ROUTER = matchesVariable(TAGS.router, 'router');
const RULE = matchesVariable(TAGS.rule, 'rule');
const SEVERITY = matchesVariable(TAGS.severity, 'severity');
/** Filters on the alert events themselves (the severity variable filters the "firing now" table separately). */
const FILTERS = [ROUTER, RULE, SEVERITY] as const;

function variables(): (dashboard.QueryVariableBuilder | dashboard.CustomVariableBuilder)[] {
  const routers = `SHOW TAG VALUES FROM ${eventMeasurement} WITH KEY = ${id(TAGS.router)}`;
  const rules = `SHOW TAG VALUES FROM ${eventMeasurement} WITH KEY = ${id(TAGS.rule)}`;
  return [
    multiAll(tagValuesVariable('router', 'Route server', 'Route servers with events', routers)),
    multiAll(tagValuesVariable('rule', 'Rule', 'Rules that raised alerts', rules)),
    multiAll(new dashboard.CustomVariableBuilder('severity').label('Severity').description('Alert severities').values(SEVERITY_NAMES.join(','))),
  ];
}

function firingCount(panelId: number, title: string, description: string, type: 'alert-firing' | 'alert-resolved', name: string) {
  return statPanel(panelId, title, description)
    .unit(units.Short)
    .noValue('0')
    .reduceOptions(sumValues())
    .span(4)
    .withTarget(influxql('A', `SELECT count(${id(E.fingerprint)}) AS ${id(name)} FROM ${eventMeasurement} ${where(eventTypeIn(type), ...FILTERS)}`, { tags: [], columns: ['time', name] }));
}

function appliancesAlerting() {
  return statPanel(5, 'Appliances alerted', 'Distinct appliances (session addresses, per route server) with at least one alert fired in the time range. Orange from 1, red from 5.')
    .unit(units.Short)
    .noValue('0')
    .thresholds(problemThresholds(1, 5))
    .span(4)
    .withTarget(
      influxql(
        'A',
        `SELECT count("fired") AS "appliances" FROM (SELECT count(${id(E.fingerprint)}) AS "fired" FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing'), ...FILTERS)} GROUP BY ${id(TAGS.router)}, ${id(TAGS.peer)})`,
        { tags: [], columns: ['time', 'appliances'] },
      ),
    );
}

function firingTable() {
  return tablePanel(
    7,
    'Firing now',
    'Every alert whose last transition is "firing" (within the alert look-back, independent of the time range), with when it fired. One row per rule, route server and appliance.',
  )
    .unit(units.String)
    .thresholds(thresholds(COLORS.neutral))
    .span(24)
    .withTarget(
      influxql(
        'A',
        `SELECT "level" AS "severity", "detail", "fingerprint" FROM (${lastAlertTransitions(ROUTER, RULE)}) WHERE ${FIRING} AND "level" =~ /^$severity$/ GROUP BY ${id(TAGS.rule)}, ${id(TAGS.router)}, ${id(TAGS.peer)}`,
        { tags: [TAGS.rule, TAGS.router, TAGS.peer], columns: ['time', 'severity', 'detail', 'fingerprint'] },
      ).format('table'),
    )
    .withTransformation(organize([], { Time: 'firing since', peer: 'appliance', router: 'route server' }))
    .overrideByName('severity', [
      { id: 'mappings', value: severityMapping() },
      { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
    ]);
}

function firedByRule() {
  return barsPanel(9, 'Alerts fired by rule', 'New alerts (firing transitions) per interval and rule. Orange from 1 per interval.')
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok, [1, COLORS.warn]))
    .span(12)
    .withTarget(
      influxql('A', `SELECT count(${id(E.fingerprint)}) AS "fired" FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing'), ...FILTERS)} GROUP BY time($__interval), ${id(TAGS.rule)} fill(0)`, {
        tags: [TAGS.rule],
        columns: ['time', 'fired'],
      }).alias('$tag_rule'),
    );
}

function firedBySeverity() {
  const panel = barsPanel(10, 'Alerts fired by severity', 'New alerts (firing transitions) per interval and severity: critical red, warning orange, info blue.')
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok, [1, COLORS.warn]))
    .span(12)
    .withTarget(
      influxql('A', `SELECT count(${id(E.fingerprint)}) AS "fired" FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing'), ...FILTERS)} GROUP BY time($__interval), ${id(TAGS.severity)} fill(0)`, {
        tags: [TAGS.severity],
        columns: ['time', 'fired'],
      }).alias('$tag_severity'),
    );
  for (const severity of SEVERITY_NAMES) panel.overrideByName(severity, [{ id: 'color', value: { mode: 'fixed', fixedColor: SEVERITY_COLORS[severity] } }]);
  return panel;
}

function topAppliances() {
  return tablePanel(11, 'Top appliances', 'The ten appliances (per route server) with the most alerts fired in the time range. Orange from 1, red from 5.')
    .unit(units.Short)
    .thresholds(problemThresholds(1, 5))
    .span(8)
    .withTarget(
      influxql(
        'A',
        `SELECT top("alerts", ${id(TAGS.router)}, ${id(TAGS.peer)}, 10) AS "alerts" FROM (SELECT count(${id(E.fingerprint)}) AS "alerts" FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing'), ...FILTERS)} GROUP BY ${id(TAGS.router)}, ${id(TAGS.peer)})`,
        { tags: [], columns: ['time', 'alerts', TAGS.router, TAGS.peer] },
      ).format('table'),
    )
    .withTransformation(organize(['Time'], { peer: 'appliance', router: 'route server' }))
    .overrideByName('alerts', [{ id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.GradientGauge } }]);
}

function recentTransitions() {
  return tablePanel(12, 'Recent transitions', 'Alert transitions in the time range, newest first (at most 500).')
    .unit(units.String)
    .thresholds(thresholds(COLORS.neutral))
    .span(16)
    .withTarget(
      influxql(
        'A',
        `SELECT ${id(TAGS.type)}, ${id(TAGS.rule)}, ${id(TAGS.severity)}, ${id(TAGS.router)}, ${id(TAGS.peer)}, ${id(E.detail)}, ${id(E.fingerprint)} FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing', 'alert-resolved'), ...FILTERS)} ORDER BY time DESC LIMIT 500`,
        { tags: [], columns: ['time', TAGS.type, TAGS.rule, TAGS.severity, TAGS.router, TAGS.peer, E.detail, E.fingerprint] },
      ).format('table'),
    )
    .withTransformation(organize([], { peer: 'appliance', router: 'route server' }))
    .overrideByName(TAGS.severity, [
      { id: 'mappings', value: severityMapping() },
      { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
    ]);
}

export function alertsDashboard(): dashboard.Dashboard {
  return baseDashboard(DASHBOARD_UIDS.alerts, 'bmpwatch / Alerts', 'Alerts raised by the rules: firing now, over time by rule and severity, and the appliances behind them.')
    .variables(variables())
    .withRow(row(1, 'Now'))
    .withPanel(firingNowStat(2, ROUTER, RULE).span(12))
    .withPanel(
      firingCount(3, 'Fired', 'Alerts that started firing in the time range. Orange from 1, red from 10.', 'alert-firing', 'fired').thresholds(problemThresholds(1, 10)),
    )
    .withPanel(firingCount(4, 'Resolved', 'Alerts that resolved in the time range. Blue: a count, not a problem.', 'alert-resolved', 'resolved').thresholds(thresholds(COLORS.info)))
    .withPanel(appliancesAlerting())
    .withRow(row(6, 'Current alerts'))
    .withPanel(firingTable())
    .withRow(row(8, 'History'))
    .withPanel(firedByRule())
    .withPanel(firedBySeverity())
    .withPanel(topAppliances())
    .withPanel(recentTransitions())
    .build();
}
