/**
 * Overview: every route server and its BMP session, the appliances' sessions, route churn, prefixes, alerts and
 * the collector's own health. One variable: the route servers shown (all by default).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { FIELDS, MEASUREMENTS, TAGS } from '../store/schema.js';
import {
  barGaugePanel,
  barsPanel,
  baseDashboard,
  COLORS,
  eventTypeIn,
  FIRING,
  firingNowStat,
  lastAlertTransitions,
  multiAll,
  NOT_LOCAL_PEER,
  organize,
  presentThresholds,
  problemThresholds,
  row,
  stateTimelinePanel,
  statPanel,
  tableIs,
  tablePanel,
  tagValuesVariable,
  thresholds,
  timeseriesPanel,
  upDownMapping,
  where,
} from './common.js';
import { id, influxql, latestTotal, matchesVariable } from './influx-query.js';
import { DASHBOARD_UIDS } from './uids.js';

const R = FIELDS.router;
const P = FIELDS.peer;
const C = FIELDS.collector;
const routerMeasurement = id(MEASUREMENTS.router);
const peerMeasurement = id(MEASUREMENTS.peer);
const collectorMeasurement = id(MEASUREMENTS.collector);
const ROUTER = matchesVariable(TAGS.router, 'router');

const GiB = 1024 ** 3;

function routerVariable(): dashboard.QueryVariableBuilder {
  const query = `SHOW TAG VALUES FROM ${routerMeasurement} WITH KEY = ${id(TAGS.router)}`;
  return multiAll(tagValuesVariable('router', 'Route server', 'Route servers (config name, else BMP sysName, else address) that sent metrics', query));
}

// ---------------------------------------------------------------------------------------------------------------
// Now

function routeServersConnected() {
  return statPanel(2, 'Route servers connected', 'Route servers with an open BMP session now, over every collector instance. Red when none is connected.')
    .unit(units.Short)
    .thresholds(presentThresholds())
    .span(4)
    .withTarget(latestTotal('routers', C.routers, collectorMeasurement, where(), id(TAGS.instance)));
}

function sessionsUp() {
  return statPanel(
    3,
    'Appliance sessions up',
    "BGP sessions of the route servers' peers that are up now (the route servers' own routes are not a session). A route server that disconnected keeps its last count until it leaves the time range.",
  )
    .unit(units.Short)
    .thresholds(presentThresholds())
    .span(4)
    .withTarget(latestTotal('up', R.peersUp, routerMeasurement, where(ROUTER), id(TAGS.router)));
}

function sessionsDown() {
  return statPanel(4, 'Appliance sessions down', 'Peers the route servers know whose BGP session is not up now (known minus up). Orange from 1, red from 5.')
    .unit(units.Short)
    .thresholds(problemThresholds(1, 5))
    .span(4)
    .withTarget(
      influxql(
        'A',
        `SELECT sum("down") AS "down" FROM (SELECT last(${id(R.peers)}) - last(${id(R.peersUp)}) AS "down" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY ${id(TAGS.router)})`,
        { tags: [], columns: ['time', 'down'] },
      ),
    );
}

function decodeErrors() {
  return statPanel(
    6,
    'Decode errors',
    'BMP/BGP messages the collector could not decode in the time range, over the selected route servers (the counters restart with each BMP session). Any is red: see the collector log for the router and offset.',
  )
    .unit(units.Short)
    .noValue('0')
    .thresholds(problemThresholds(1))
    .span(4)
    .withTarget(
      influxql(
        'A',
        `SELECT sum("errors") AS "errors" FROM (SELECT non_negative_difference(${id(R.decodeErrors)}) AS "errors" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY *)`,
        { tags: [], columns: ['time', 'errors'] },
      ),
    );
}

function routesHeld() {
  return statPanel(7, 'Routes held', 'Routes in memory over every route server, table and peer, now (all collector instances). Blue: a size, not a health signal.')
    .unit(units.Short)
    .thresholds(thresholds(COLORS.info))
    .span(4)
    .withTarget(latestTotal('routes', C.routes, collectorMeasurement, where(), id(TAGS.instance)));
}

// ---------------------------------------------------------------------------------------------------------------
// Route servers and their BMP sessions

function bmpSessions() {
  return stateTimelinePanel(9, 'BMP session per route server', 'Whether each route server had its BMP session to the collector open, per interval (no metrics in an interval = disconnected).')
    .unit(units.NoUnit)
    .mappings(upDownMapping('connected', 'disconnected'))
    .thresholds(presentThresholds())
    .span(12)
    .withTarget(
      influxql('A', `SELECT max(${id(R.up)}) AS "connected" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY time($__interval), ${id(TAGS.router)} fill(0)`, {
        tags: [TAGS.router],
        columns: ['time', 'connected'],
      }).alias('$tag_router'),
    );
}

function bmpThroughput() {
  return timeseriesPanel(10, 'BMP messages and bytes per second', 'What each route server streams to the collector: messages per second (left) and bytes per second (right axis). A route server that stops sending while connected is stuck.')
    .unit(units.MessagesPerSecond)
    .thresholds(thresholds(COLORS.ok))
    .span(12)
    .withTarget(
      influxql('A', `SELECT non_negative_derivative(max(${id(R.messages)}), 1s) AS "messages" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY time($__interval), ${id(TAGS.router)} fill(none)`, {
        tags: [TAGS.router],
        columns: ['time', 'messages'],
      }).alias('$tag_router messages'),
    )
    .withTarget(
      influxql('B', `SELECT non_negative_derivative(max(${id(R.bytes)}), 1s) AS "bytes" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY time($__interval), ${id(TAGS.router)} fill(none)`, {
        tags: [TAGS.router],
        columns: ['time', 'bytes'],
      }).alias('$tag_router bytes'),
    )
    .overrideByQuery('B', [
      { id: 'unit', value: units.BytesPerSecondSI },
      { id: 'custom.axisPlacement', value: common.AxisPlacement.Right },
    ]);
}

function routeServerTable() {
  return tablePanel(11, 'Route servers', 'Each route server as last reported in the time range: address, BMP session uptime, peers known and up, routes held, messages received in this BMP session.')
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok))
    .span(24)
    .height(7)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(R.address)}) AS "address", last(${id(R.uptimeSeconds)}) AS "uptime", last(${id(R.peers)}) AS "peers", last(${id(R.peersUp)}) AS "peers up", last(${id(R.routes)}) AS "routes", last(${id(R.messages)}) AS "messages" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY ${id(TAGS.router)}`,
        { tags: [TAGS.router], columns: ['time', 'address', 'uptime', 'peers', 'peers up', 'routes', 'messages'] },
      ).format('table'),
    )
    .withTransformation(organize(['Time'], { router: 'route server' }))
    .overrideByName('uptime', [{ id: 'unit', value: units.DurationSeconds }]);
}

// ---------------------------------------------------------------------------------------------------------------
// Appliances

function sessionsPerRouteServer() {
  return timeseriesPanel(13, 'Appliance sessions per route server', "Peers each route server knows (dashed) and those whose BGP session is up. A gap between them is sessions down.")
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(R.peersUp)}) AS "up", last(${id(R.peers)}) AS "known" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY time($__interval), ${id(TAGS.router)} fill(none)`,
        { tags: [TAGS.router], columns: ['time', 'up', 'known'] },
      ).alias('$tag_router $col'),
    )
    .overrideByRegexp('.* known$', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]);
}

function routeChurn() {
  return timeseriesPanel(
    14,
    'Announcements, changes and withdrawals per second',
    "Prefixes the appliances announced, changed (new attributes) and withdrew, per second, per route server; every monitored table counts (pre- and post-policy both). Initial table dumps after a (re)connect are not churn and are not counted. Orange from 10/s.",
  )
    .unit(units.CountsPerSecond)
    .thresholds(thresholds(COLORS.ok, [10, COLORS.warn]))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT sum(${id(P.announcements)}) * 1000 / $__interval_ms AS "announced", sum(${id(P.changes)}) * 1000 / $__interval_ms AS "changed", sum(${id(P.withdrawals)}) * 1000 / $__interval_ms AS "withdrawn" FROM ${peerMeasurement} ${where(ROUTER, NOT_LOCAL_PEER)} GROUP BY time($__interval), ${id(TAGS.router)} fill(0)`,
        { tags: [TAGS.router], columns: ['time', 'announced', 'changed', 'withdrawn'] },
      ).alias('$tag_router $col'),
    );
}

function prefixesPerRouteServer() {
  return timeseriesPanel(
    15,
    'Prefixes accepted per route server and family',
    "Routes in each route server's post-policy Adj-RIB-In (what its import policy accepted from all peers, its own routes included), per address family. A sudden drop is a session or policy event; a jump, a leak.",
  )
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT sum("prefixes") AS "prefixes" FROM (SELECT last(${id(FIELDS.peerPrefixes.prefixes)}) AS "prefixes" FROM ${id(MEASUREMENTS.peerPrefixes)} ${where(ROUTER, tableIs('adj-rib-in-post'))} GROUP BY time($__interval), * fill(none)) ${where()} GROUP BY time($__interval), ${id(TAGS.router)}, ${id(TAGS.family)} fill(none)`,
        { tags: [TAGS.router, TAGS.family], columns: ['time', 'prefixes'] },
      ).alias('$tag_router $tag_family'),
    );
}

function applianceTable() {
  const link = `/d/${DASHBOARD_UIDS.appliance}?var-router=\${__data.fields.router}&var-appliance=\${__data.fields.peer}&\${__url_time_range}`;
  return tablePanel(16, 'Appliance sessions', 'Every peer of the selected route servers as last reported: session state, uptime and resets (Peer Up while up) in this BMP session. Click an address for its Appliance dashboard.')
    .unit(units.Short)
    .thresholds(problemThresholds(1, 3))
    .span(12)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(P.up)}) AS "state", last(${id(P.uptimeSeconds)}) AS "uptime", last(${id(P.resets)}) AS "resets" FROM ${peerMeasurement} ${where(ROUTER, NOT_LOCAL_PEER)} GROUP BY ${id(TAGS.router)}, ${id(TAGS.peer)}, ${id(TAGS.peerAs)}`,
        { tags: [TAGS.router, TAGS.peer, TAGS.peerAs], columns: ['time', 'state', 'uptime', 'resets'] },
      ).format('table'),
    )
    .withTransformation(organize(['Time']))
    .overrideByName('state', [
      { id: 'mappings', value: upDownMapping('up', 'down') },
      { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
    ])
    .overrideByName('uptime', [{ id: 'unit', value: units.DurationSeconds }])
    .overrideByName('resets', [{ id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } }])
    .overrideByName(TAGS.peer, [{ id: 'links', value: [{ title: 'Appliance dashboard', url: link }] }]);
}

// ---------------------------------------------------------------------------------------------------------------
// Alerts

function firingByRule() {
  return barGaugePanel(18, 'Alerts firing by rule', 'Alerts firing now per rule (last transition firing, within the alert look-back; per rule, route server and appliance). Orange from 1, red from 5.')
    .unit(units.Short)
    .thresholds(problemThresholds(1, 5))
    .span(8)
    .withTarget(
      influxql('A', `SELECT count("fingerprint") AS "firing" FROM (${lastAlertTransitions(ROUTER)}) WHERE ${FIRING} GROUP BY ${id(TAGS.rule)}`, {
        tags: [TAGS.rule],
        columns: ['time', 'firing'],
      }).alias('$tag_rule'),
    );
}

function alertsFired() {
  return barsPanel(19, 'Alerts fired by rule and severity', 'New alerts (firing transitions) per interval, by rule and severity. Orange from 1 per interval.')
    .unit(units.Short)
    .thresholds(thresholds(COLORS.ok, [1, COLORS.warn]))
    .span(16)
    .withTarget(
      influxql(
        'A',
        `SELECT count(${id(FIELDS.events.fingerprint)}) AS "fired" FROM ${id(MEASUREMENTS.events)} ${where(eventTypeIn('alert-firing'), ROUTER)} GROUP BY time($__interval), ${id(TAGS.rule)}, ${id(TAGS.severity)} fill(0)`,
        { tags: [TAGS.rule, TAGS.severity], columns: ['time', 'fired'] },
      ).alias('$tag_rule ($tag_severity)'),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Collector health

function collectorMemory() {
  return timeseriesPanel(21, 'Collector memory', 'Resident set size and V8 heap in use per collector instance. About 400 MB holds a million routes (BENCHMARKS.md); orange from 1 GiB, red from 2 GiB.')
    .unit(units.BytesIEC)
    .thresholds(thresholds(COLORS.ok, [GiB, COLORS.warn], [2 * GiB, COLORS.bad]))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
    .span(6)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(C.rssBytes)}) AS "rss", last(${id(C.heapUsedBytes)}) AS "heap used" FROM ${collectorMeasurement} ${where()} GROUP BY time($__interval), ${id(TAGS.instance)} fill(none)`,
        { tags: [TAGS.instance], columns: ['time', 'rss', 'heap used'] },
      ).alias('$col $tag_instance'),
    );
}

function eventLoopLag() {
  return timeseriesPanel(22, 'Event loop lag', 'Mean delay of the Node.js event loop per metrics interval: high values mean the collector cannot keep up (decoding, RIB updates). Orange from 100 ms, red from 1 s.')
    .unit(units.Milliseconds)
    .thresholds(thresholds(COLORS.ok, [100, COLORS.warn], [1000, COLORS.bad]))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
    .span(6)
    .withTarget(
      influxql('A', `SELECT max(${id(C.eventLoopLagMs)}) AS "lag" FROM ${collectorMeasurement} ${where()} GROUP BY time($__interval), ${id(TAGS.instance)} fill(none)`, {
        tags: [TAGS.instance],
        columns: ['time', 'lag'],
      }).alias('$col $tag_instance'),
    );
}

function decodeErrorsPerRouteServer() {
  return barsPanel(23, 'Decode errors per route server', 'Messages from each route server the collector could not decode, per interval. Any is red: the route server sends something bmpwatch does not understand (see the log).')
    .unit(units.Short)
    .thresholds(problemThresholds(1))
    .span(6)
    .withTarget(
      influxql(
        'A',
        `SELECT non_negative_difference(max(${id(R.decodeErrors)})) AS "errors" FROM ${routerMeasurement} ${where(ROUTER)} GROUP BY time($__interval), ${id(TAGS.router)} fill(none)`,
        { tags: [TAGS.router], columns: ['time', 'errors'] },
      ).alias('$tag_router'),
    );
}

function backPressure() {
  return timeseriesPanel(
    24,
    'Buffers, drops and paused sockets',
    'Points waiting for InfluxDB, route servers whose sockets are paused (the collector is behind), and points or history events dropped per interval (bounded buffers overflowed: data is missing). Any drop is red.',
  )
    .unit(units.Short)
    .thresholds(problemThresholds(1))
    .span(6)
    .withTarget(
      influxql(
        'A',
        `SELECT last(${id(C.influxBuffered)}) AS "influx buffered", last(${id(C.pausedSockets)}) AS "paused sockets" FROM ${collectorMeasurement} ${where()} GROUP BY time($__interval), ${id(TAGS.instance)} fill(none)`,
        { tags: [TAGS.instance], columns: ['time', 'influx buffered', 'paused sockets'] },
      ).alias('$col $tag_instance'),
    )
    .withTarget(
      influxql(
        'B',
        `SELECT non_negative_difference(last(${id(C.influxDropped)})) AS "influx dropped", non_negative_difference(last(${id(C.historyDropped)})) AS "history dropped" FROM ${collectorMeasurement} ${where()} GROUP BY time($__interval), ${id(TAGS.instance)} fill(none)`,
        { tags: [TAGS.instance], columns: ['time', 'influx dropped', 'history dropped'] },
      ).alias('$col $tag_instance'),
    )
    .overrideByRegexp('.*dropped.*', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLORS.bad } }]);
}

export function overviewDashboard(): dashboard.Dashboard {
  return baseDashboard(DASHBOARD_UIDS.overview, 'bmpwatch / Overview', 'Route servers, their BMP sessions and appliances, route churn, alerts and the collector itself.')
    .withVariable(routerVariable())
    .withRow(row(1, 'Now'))
    .withPanel(routeServersConnected())
    .withPanel(sessionsUp())
    .withPanel(sessionsDown())
    .withPanel(firingNowStat(5, ROUTER).span(4))
    .withPanel(decodeErrors())
    .withPanel(routesHeld())
    .withRow(row(8, 'Route servers and their BMP sessions'))
    .withPanel(bmpSessions())
    .withPanel(bmpThroughput())
    .withPanel(routeServerTable())
    .withRow(row(12, 'Appliances'))
    .withPanel(sessionsPerRouteServer())
    .withPanel(routeChurn())
    .withPanel(prefixesPerRouteServer())
    .withPanel(applianceTable())
    .withRow(row(17, 'Alerts'))
    .withPanel(firingByRule())
    .withPanel(alertsFired())
    .withRow(row(20, 'Collector health'))
    .withPanel(collectorMemory())
    .withPanel(eventLoopLag())
    .withPanel(decodeErrorsPerRouteServer())
    .withPanel(backPressure())
    .build();
}
