/**
 * InfluxQL queries for the generated dashboards: the Grafana InfluxDB datasource's query, variable and annotation
 * models (the SDK ships no InfluxDB query type; see the SDK README, "Defining a custom query type"), plus what
 * each query is expected to return.
 *
 * Expectations are not part of the dashboard JSON. They are kept beside the built query objects (a WeakMap keyed
 * by the object the SDK puts into the panel), so the test that runs every query against a real InfluxDB can check
 * the series and columns the panel relies on (aliases naming $tag_X, overrides naming columns, table columns)
 * for the very objects that were serialized.
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The provisioned datasource (dashboards/provisioning/datasources/bmpwatch.yaml): fixed uid, so links hold. */
export const DATASOURCE: DataSourceRef = { type: 'influxdb', uid: 'bmpwatch-influxdb' };

/** What a query must return, checked against InfluxDB by test/dashboards. */
export interface SeriesExpectation {
  /** Tag keys naming each series (the query's GROUP BY tags), any order; [] for a single unnamed series. */
  readonly tags: readonly string[];
  /** The columns of every series, in order (InfluxQL puts `time` first). */
  readonly columns: readonly string[];
}

const expectations = new WeakMap<object, SeriesExpectation>();

/** The expectation registered for a built query object (undefined for objects not built here). */
export function expectationOf(query: object): SeriesExpectation | undefined {
  return expectations.get(query);
}

export type ResultFormat = 'time_series' | 'table';

/** Grafana's InfluxDB query model, raw InfluxQL mode. */
export interface InfluxQuery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: ResultFormat;
  /** Series name pattern: $tag_<key>, $col, $m. */
  alias?: string;
  /** Marks the type as a Dataquery variant for the SDK; a function, so never serialized. */
  _implementsDataqueryVariant(): void;
}

export class InfluxQueryBuilder implements Builder<Dataquery> {
  private readonly internal: InfluxQuery;

  constructor(refId: string, query: string, expect: SeriesExpectation) {
    this.internal = { refId, datasource: DATASOURCE, query, rawQuery: true, resultFormat: 'time_series', _implementsDataqueryVariant() {} };
    expectations.set(this.internal, expect);
  }

  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  format(format: ResultFormat): this {
    this.internal.resultFormat = format;
    return this;
  }

  build(): InfluxQuery {
    return this.internal;
  }
}

/** A raw InfluxQL panel query and what it returns. */
export function influxql(refId: string, query: string, expect: SeriesExpectation): InfluxQueryBuilder {
  return new InfluxQueryBuilder(refId, query, expect);
}

/** Grafana's InfluxDB annotation query: rows become annotations; the columns named here give text and tags. */
export interface InfluxAnnotationQuery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  fromAnnotations: true;
  textColumn: string;
  /** Comma-separated column names. */
  tagsColumn: string;
  _implementsDataqueryVariant(): void;
}

export class InfluxAnnotationQueryBuilder implements Builder<Dataquery> {
  private readonly internal: InfluxAnnotationQuery;

  constructor(query: string, textColumn: string, tagColumns: readonly string[]) {
    this.internal = {
      refId: 'Anno',
      datasource: DATASOURCE,
      query,
      rawQuery: true,
      fromAnnotations: true,
      textColumn,
      tagsColumn: tagColumns.join(','),
      _implementsDataqueryVariant() {},
    };
    expectations.set(this.internal, { tags: [], columns: ['time', textColumn, ...tagColumns] });
  }

  build(): InfluxAnnotationQuery {
    return this.internal;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// InfluxQL text

/** A double-quoted InfluxQL identifier (measurement, tag or field key). */
/**
 * A stat's target: the sum over series of each one's latest `field` (routes of every collector instance, peers up
 * of every route server), one value named `alias`.
 */
export function latestTotal(alias: string, field: string, from: string, whereClause: string, groupBy: string): InfluxQueryBuilder {
  return influxql('A', `SELECT sum("${alias}") AS "${alias}" FROM (SELECT last(${id(field)}) AS "${alias}" FROM ${from} ${whereClause} GROUP BY ${groupBy})`, {
    tags: [],
    columns: ['time', alias],
  });
}

export function id(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A single-quoted InfluxQL string literal (tag values in WHERE). */
export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `"tag" =~ /^$variable$/`: Grafana substitutes the selection (several values, or All, as a regex). */
export function matchesVariable(tag: string, variable: string): string {
  return `${id(tag)} =~ /^$${variable}$/`;
}

/** `"tag" =~ /^(a|b)$/` for fixed values (no user input: the values are our own constants). */
export function oneOf(tag: string, values: readonly string[]): string {
  return `${id(tag)} =~ /^(${values.join('|')})$/`;
}
