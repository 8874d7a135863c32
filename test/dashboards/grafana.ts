/**
 * What Grafana does to a raw InfluxQL query before InfluxDB sees it, for the dashboard query tests:
 *
 * - Template variables (frontend, InfluxDB datasource `interpolateQueryExpr`): a single-value variable is
 *   regex-escaped unless it parses as a number (Grafana's `influxRegularEscape`: "100.64.1.11" goes in as it is);
 *   a multi-value or include-All variable has each value regex-escaped and several joined as `(a|b)`; All with an
 *   allValue inserts the allValue verbatim. Forms `$name`, `${name}` and `[[name]]`.
 * - Macros (backend, pkg/tsdb/influxdb/influxql): `$timeFilter` → `time >= {from}ms and time <= {to}ms`;
 *   `$__interval` and `$interval` → the interval formatted like gtime.FormatInterval (1s, 10s, 1m, …);
 *   `$__interval_ms` → milliseconds.
 * - The interval: range / maxDataPoints (the panel's, else its width in pixels; 1000 here), at least the panel's
 *   `interval` or the datasource's minimum (timeInterval), rounded like gtime.RoundInterval.
 */

export interface VariableValue {
  /** The selected values; ['$__all'] for All. */
  readonly values: readonly string[];
  readonly multi: boolean;
  readonly includeAll: boolean;
  readonly allValue?: string;
}

export interface QueryContext {
  readonly from: number;
  readonly to: number;
  readonly intervalMs: number;
  readonly variables: ReadonlyMap<string, VariableValue>;
}

const REGEX_SPECIALS = /[\\^$*+?.()|[\]{}/]/g;

function escapeRegex(value: string): string {
  return value.replace(REGEX_SPECIALS, '\\$&');
}

export function formatVariable(variable: VariableValue): string {
  if (variable.values.length === 1 && variable.values[0] === '$__all') {
    if (variable.allValue !== undefined) return variable.allValue;
    throw new Error('All without allValue is not used by the bmpwatch dashboards');
  }
  if (!variable.multi && !variable.includeAll) {
    const value = variable.values[0] ?? '';
    return Number.isNaN(Number.parseFloat(value)) ? escapeRegex(value) : value;
  }
  const escaped = variable.values.map(escapeRegex);
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
}

/** gtime.RoundInterval: the next "round" interval at or below the raw one (bounds in ms → result in ms). */
const ROUNDING: readonly (readonly [number, number])[] = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1_500, 1_000], [3_500, 2_000],
  [7_500, 5_000], [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000],
  [210_000, 120_000], [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000],
  [2_700_000, 1_800_000], [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000],
  [32_400_000, 21_600_000], [86_400_000, 43_200_000], [172_800_000, 86_400_000], [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000], [3_628_800_000 - 1, 2_592_000_000],
];

export function roundInterval(ms: number): number {
  for (const [bound, rounded] of ROUNDING) if (ms <= bound) return rounded;
  return 31_536_000_000;
}

/** gtime.FormatInterval. */
export function formatInterval(ms: number): string {
  const units: readonly (readonly [number, string])[] = [
    [31_536_000_000, 'y'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/** Parses Grafana interval text (10s, 1m, 500ms, a bare number of seconds). */
export function parseInterval(text: string): number {
  const match = /^<?(\d+)(ms|s|m|h|d|w|y)?>?$/.exec(text.trim());
  if (!match) throw new Error(`not an interval: ${text}`);
  const factor: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  return Number(match[1]) * factor[match[2] ?? 's'];
}

export function computeIntervalMs(from: number, to: number, minIntervalMs: number, maxDataPoints = 1000): number {
  const raw = (to - from) / maxDataPoints;
  return roundInterval(Math.max(raw, minIntervalMs));
}

export function substitute(query: string, context: QueryContext): string {
  const interval = formatInterval(context.intervalMs);
  let text = query.replace(/\$(\w+)|\$\{(\w+)\}|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    const variable = context.variables.get(name);
    return variable ? formatVariable(variable) : whole;
  });
  text = text
    .replaceAll('$timeFilter', `time >= ${Math.floor(context.from)}ms and time <= ${Math.floor(context.to)}ms`)
    .replaceAll('$interval', interval)
    .replaceAll('$__interval_ms', String(context.intervalMs))
    .replaceAll('$__interval', interval);
  return text;
}

/** `$name`-like text left after substitution (a typo'd variable or macro); regex anchors (`$/`, `$)`) are fine. */
export function leftovers(query: string): string[] {
  return [...query.matchAll(/\$\w+|\[\[\w+\]\]/g)].map((m) => m[0]);
}
