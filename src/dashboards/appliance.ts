/**
 * Appliance: one appliance session on one route server (variables `router` and `appliance`): its session over
 * time, prefixes per table, route churn, a flap figure, what the route server's statistics say about it, its
 * alerts, and annotations for its session and alert events.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import {
  DEFAULT_ATTRIBUTE_CHANGE_PENALTY,
  DEFAULT_CHURN_COUNT_THRESHOLD,
  DEFAULT_CRITICAL_THRESHOLD,
  DEFAULT_HALF_LIFE_SECONDS,
  DEFAULT_WARNING_THRESHOLD,
  DEFAULT_WITHDRAWAL_PENALTY,
} from '../config/rules-schema.js';
import { FIELDS, MEASUREMENTS, TAGS } from '../store/schema.js';
import {
  barsPanel,
  baseDashboard,
  COLORS,
  eventTypeIn,
  NOT_LOCAL_PEER,
  organize,
  presentThresholds,
  problemThresholds,
  row,
  severityMapping,
  stateTimelinePanel,
  statPanel,
  sumValues,
  tableIs,
  tablePanel,
  tagValuesVariable,
  thresholds,
  timeseriesPanel,
  upDownMapping,
  where,
} from './common.js';
import { DATASOURCE, id, InfluxAnnotationQueryBuilder, influxql, latestTotal, matchesVariable } from './influx-query.js';
import { DASHBOARD_UIDS } from './uids.js';

const P = FIELDS.peer;
const E = FIELDS.events;
const peerMeasurement = id(MEASUREMENTS.peer);
const prefixMeasurement = id(MEASUREMENTS.peerPrefixes);
const eventMeasurement = id(MEASUREMENTS.events);
const ROUTER = matchesVariable(TAGS.router, 'router');
const APPLIANCE = matchesVariable(TAGS.peer, 'appliance');

function variables(): dashboard.QueryVariableBuilder[] {
  const routers = `SHOW TAG VALUES FROM ${peerMeasurement} WITH KEY = ${id(TAGS.router)}`;
  const appliances = `SHOW TAG VALUES FROM ${peerMeasurement} WITH KEY = ${id(TAGS.peer)} WHERE ${ROUTER} AND ${NOT_LOCAL_PEER}`;
  return [
    tagValuesVariable('router', 'Route server', 'The route server whose view of the appliance is shown', routers),
    tagValuesVariable('appliance', 'Appliance', "The appliance's session address on that route server (peers the route server reports, without its own routes)", appliances),
  ];
}

/** Session and alert events of this appliance on this route server, as annotations on every time panel. */
function annotations(): dashboard.AnnotationQueryBuilder[] {
  const sessions = new InfluxAnnotationQueryBuilder(
    `SELECT ${id(E.detail)}, ${id(TAGS.type)} FROM ${eventMeasurement} WHERE ((${eventTypeIn('peer-up', 'peer-down')} AND ${APPLIANCE}) OR ${eventTypeIn('router-up', 'router-down')}) AND ${ROUTER} AND $timeFilter`,
    E.detail,
    [TAGS.type],
  );
  const alerts = new InfluxAnnotationQueryBuilder(
    `SELECT ${id(E.detail)}, ${id(TAGS.type)}, ${id(TAGS.rule)}, ${id(TAGS.severity)} FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing', 'alert-resolved'), ROUTER, APPLIANCE)}`,
    E.detail,
    [TAGS.type, TAGS.rule, TAGS.severity],
  );
  return [
    new dashboard.AnnotationQueryBuilder().name('Session events').datasource(DATASOURCE).enable(true).hide(false).iconColor(COLORS.info).target(sessions),
    new dashboard.AnnotationQueryBuilder().name('Alerts').datasource(DATASOURCE).enable(true).hide(false).iconColor(COLORS.bad).target(alerts),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Session

function sessionState() {
  return statPanel(2, 'Session', 'Whether the BGP session between the route server and the appliance is up now (last metrics snapshot in the range).')
    .unit(units.NoUnit)
    .mappings(upDownMapping('up', 'down'))
    .thresholds(presentThresholds())
    .colorMode(common.BigValueColorMode.Background)
    .span(4)
    .withTarget(influxql('A', `SELECT last(${id(P.up)}) AS "session" FROM ${peerMeasurement} ${where(ROUTER, APPLIANCE)}`, { tags: [], columns: ['time', 'session'] }));
}

function sessionUptime() {
  return statPanel(3, 'Session uptime', 'How long the BGP session has been up. Red under 5 minutes, orange under an hour: a young session after a reset.')
    .unit(units.DurationSeconds)
    .thresholds(thresholds(COLORS.bad, [300, COLORS.warn], [3600, COLORS.ok]))
    .span(4)
    .withTarget(influxql('A', `SELECT last(${id(P.uptimeSeconds)}) AS "uptime" FROM ${peerMeasurement} ${where(ROUTER, APPLIANCE)}`, { tags: [], columns: ['time', 'uptime'] }));
}

function sessionResets() {
  return statPanel(
    4,
    'Session resets',
    `New sessions while up (a Peer Up for a session already up: how FRR reports a dynamic neighbour's reconnect) in the time range. Orange from 1, red from ${DEFAULT_CHURN_COUNT_THRESHOLD} (the session-churn rule's default count).`,
  )
    .unit(units.Short)
    .noValue('0')
    .thresholds(problemThresholds(1, DEFAULT_CHURN_COUNT_THRESHOLD))
    .span(4)
    .withTarget(
      influxql('A', `SELECT sum("resets") AS "resets" FROM (SELECT non_negative_difference(${id(P.resets)}) AS "resets" FROM ${peerMeasurement} ${where(ROUTER, APPLIANCE)} GROUP BY *)`, {
        tags: [],
        columns: ['time', 'resets'],
      }),
    );
}

function peerDowns() {
  return statPanel(5, 'Session downs', `Peer Down events for this appliance on this route server in the time range. Orange from 1, red from ${DEFAULT_CHURN_COUNT_THRESHOLD}.`)
    .unit(units.Short)
    .noValue('0')
    .reduceOptions(sumValues())
    .thresholds(problemThresholds(1, DEFAULT_CHURN_COUNT_THRESHOLD))
    .span(4)
    .withTarget(
      influxql('A', `SELECT count(${id(E.routerAddress)}) AS "downs" FROM ${eventMeasurement} ${where(eventTypeIn('peer-down'), ROUTER, APPLIANCE)}`, { tags: [], columns: ['time', 'downs'] }),
    );
}

function prefixesNow(panelId: number, title: string, description: string, table: 'adj-rib-in-pre' | 'adj-rib-in-post') {
  return statPanel(panelId, title, description)
    .unit(units.Short)
    .thresholds(presentThresholds())
    .span(4)
    .withTarget(latestTotal('prefixes', FIELDS.peerPrefixes.prefixes, prefixMeasurement, where(ROUTER, APPLIANCE, tableIs(table)), '*'));
}

function sessionTimeline() {
  return stateTimelinePanel(8, 'Session state', 'The BGP session per metrics interval: up, down, or empty when the route server reported nothing (BMP session closed).')
    .unit(units.NoUnit)
    .mappings(upDownMapping('up', 'down'))
    .thresholds(presentThresholds())
    .span(24)
    .height(5)
    .withTarget(
      influxql('A', `SELECT max(${id(P.up)}) AS "session" FROM ${peerMeasurement} ${where(ROUTER, APPLIANCE)} GROUP BY time($__interval)`, { tags: [], columns: ['time', 'session'] }).alias(
        'session',
      ),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Routes

function prefixesPerTable() {
  return timeseriesPanel(
    10,
    'Prefixes per table',
    "The appliance's routes in the route server's pre-policy Adj-RIB-In (everything it sent) and post-policy Adj-RIB-In (what the import policy accepted), per family; the gap is what policy rejected. Dashed: the route server's whole Loc-RIB (RFC 9069), for scale; Loc-RIB routes carry no per-appliance attribution.",
  )
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(FIELDS.peerPrefixes.prefixes)}) AS "prefixes" FROM ${prefixMeasurement} ${where(ROUTER, APPLIANCE, `${id(TAGS.table)} != 'loc-rib'`)} GROUP BY time($__interval), ${id(TAGS.table)}, ${id(TAGS.family)} fill(none)`,
        { tags: [TAGS.table, TAGS.family], columns: ['time', 'prefixes'] },
      ).alias('$tag_table $tag_family'),
    )
    .withTarget(
      influxql(
        'B',
        `SELECT sum("prefixes") AS "prefixes" FROM (SELECT last(${id(FIELDS.peerPrefixes.prefixes)}) AS "prefixes" FROM ${prefixMeasurement} ${where(ROUTER, tableIs('loc-rib'))} GROUP BY time($__interval), * fill(none)) ${where()} GROUP BY time($__interval), ${id(TAGS.family)} fill(none)`,
        { tags: [TAGS.family], columns: ['time', 'prefixes'] },
      ).alias('route server loc-rib $tag_family'),
    )
    .overrideByQuery('B', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]);
}

function routeChurn() {
  return barsPanel(
    11,
    'Announcements, changes and withdrawals',
    'Prefixes this appliance announced, changed (new attributes) and withdrew per interval, in every monitored table (pre- and post-policy both count); initial table dumps are excluded. Orange from 10 per interval.',
  )
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok, [10, COLORS.warn]))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT sum(${id(P.announcements)}) AS "announced", sum(${id(P.changes)}) AS "changed", sum(${id(P.withdrawals)}) AS "withdrawn" FROM ${peerMeasurement} ${where(ROUTER, APPLIANCE)} GROUP BY time($__interval) fill(0)`,
        { tags: [], columns: ['time', 'announced', 'changed', 'withdrawn'] },
      ).alias('$col'),
    );
}

function flapPenalty() {
  return timeseriesPanel(
    12,
    'Flap figure of merit',
    `The route-flap rule's RFC 2439 figure of merit (test mode: computed, never suppressing), the highest among the appliance's prefixes, decayed to each metrics snapshot: +${DEFAULT_WITHDRAWAL_PENALTY} per withdrawal, +${DEFAULT_ATTRIBUTE_CHANGE_PENALTY} per attribute change, halving every ${DEFAULT_HALF_LIFE_SECONDS / 60} minutes (defaults; per group in rules.routeFlap). ` +
      `The rule warns at ${DEFAULT_WARNING_THRESHOLD} and goes critical at ${DEFAULT_CRITICAL_THRESHOLD} (the dashed lines); it clears below the clear threshold. Counted once across route servers; the initial dump's announcements are not counted.`,
  )
    .unit(units.Short)
    .noValue('no flaps')
    .thresholds(thresholds(COLORS.ok, [DEFAULT_WARNING_THRESHOLD, COLORS.warn], [DEFAULT_CRITICAL_THRESHOLD, COLORS.bad]))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT max(${id(P.flapMerit)}) AS "figure of merit" FROM ${peerMeasurement} ${where(ROUTER, APPLIANCE)} GROUP BY time($__interval) fill(none)`,
        { tags: [], columns: ['time', 'figure of merit'] },
      ).alias('$col'),
    );
}

function statistics() {
  return timeseriesPanel(
    13,
    'Route server statistics',
    'BMP Statistics Reports (RFC 7854 §4.8) the route server sends about this peer, e.g. prefixes rejected by inbound policy, duplicate withdraws, updates treated as withdraw; per AFI/SAFI where the route server splits them. Orange from 1: a non-zero rejection or invalidation count is worth a look.',
  )
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok, [1, COLORS.warn]))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(FIELDS.statistics.value)}) AS "value" FROM ${id(MEASUREMENTS.statistics)} ${where(ROUTER, APPLIANCE)} GROUP BY time($__interval), ${id(TAGS.stat)}, ${id(TAGS.afiSafi)} fill(none)`,
        { tags: [TAGS.stat, TAGS.afiSafi], columns: ['time', 'value'] },
      ).alias('$tag_stat $tag_afi_safi'),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function alertTransitions() {
  return tablePanel(15, 'Alerts', "This appliance's alert transitions on this route server, newest first. Severity coloured: critical red, warning orange, info blue.")
    .unit(units.String)
    .thresholds(thresholds(COLORS.neutral))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT ${id(TAGS.type)}, ${id(TAGS.rule)}, ${id(TAGS.severity)}, ${id(E.detail)}, ${id(E.fingerprint)} FROM ${eventMeasurement} ${where(eventTypeIn('alert-firing', 'alert-resolved'), ROUTER, APPLIANCE)} ORDER BY time DESC LIMIT 200`,
        { tags: [], columns: ['time', TAGS.type, TAGS.rule, TAGS.severity, E.detail, E.fingerprint] },
      ).format('table'),
    )
    .overrideByName(TAGS.severity, [
      { id: 'mappings', value: severityMapping() },
      { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
    ]);
}

function sessionEvents() {
  return tablePanel(16, 'Session events', 'Peer Up and Peer Down for this appliance on this route server, newest first, with the reason (BMP reason, NOTIFICATION) and how long the session had been up.')
    .unit(units.String)
    .thresholds(thresholds(COLORS.neutral))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT ${id(TAGS.type)}, ${id(E.detail)}, ${id(E.durationMs)} FROM ${eventMeasurement} ${where(eventTypeIn('peer-up', 'peer-down'), ROUTER, APPLIANCE)} ORDER BY time DESC LIMIT 200`,
        { tags: [], columns: ['time', TAGS.type, E.detail, E.durationMs] },
      ).format('table'),
    )
    .withTransformation(organize([], { [E.durationMs]: 'session lasted' }))
    .overrideByName(E.durationMs, [{ id: 'unit', value: units.Milliseconds }]);
}

export function applianceDashboard(): dashboard.Dashboard {
  const built = baseDashboard(DASHBOARD_UIDS.appliance, 'bmpwatch / Appliance', "One appliance as one route server sees it: session, prefixes, churn, flaps, the route server's statistics and the appliance's alerts.")
    .variables(variables())
    .withRow(row(1, 'Session'))
    .withPanel(sessionState())
    .withPanel(sessionUptime())
    .withPanel(sessionResets())
    .withPanel(peerDowns())
    .withPanel(prefixesNow(6, 'Prefixes sent', "Prefixes in the pre-policy Adj-RIB-In now: everything the appliance announced. Red at 0: an appliance that announces nothing does not attract traffic.", 'adj-rib-in-pre'))
    .withPanel(prefixesNow(7, 'Prefixes accepted', "Prefixes in the post-policy Adj-RIB-In now: what the route server's import policy accepted. Red at 0.", 'adj-rib-in-post'))
    .withPanel(sessionTimeline())
    .withRow(row(9, 'Routes'))
    .withPanel(prefixesPerTable())
    .withPanel(routeChurn())
    .withPanel(flapPenalty())
    .withPanel(statistics())
    .withRow(row(14, 'Events'))
    .withPanel(alertTransitions())
    .withPanel(sessionEvents());
  for (const annotation of annotations()) built.annotation(annotation);
  return built.build();
}

