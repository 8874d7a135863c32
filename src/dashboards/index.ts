/**
 * The generated dashboards: `npm run dashboards` writes each to dashboards/<file> (committed); test/dashboards
 * fails when the committed JSON differs from what this module renders.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertsDashboard } from './alerts.js';
import { applianceDashboard } from './appliance.js';
import { overviewDashboard } from './overview.js';

export interface GeneratedDashboard {
  /** File name under dashboards/. */
  readonly file: string;
  readonly build: () => Dashboard;
}

export const DASHBOARDS: readonly GeneratedDashboard[] = [
  { file: 'overview.json', build: overviewDashboard },
  { file: 'appliance.json', build: applianceDashboard },
  { file: 'alerts.json', build: alertsDashboard },
];

/** The file's exact text: two-space JSON and a final newline. */
export function renderDashboard(built: Dashboard): string {
  return `${JSON.stringify(built, null, 2)}\n`;
}
