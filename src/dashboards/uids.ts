/**
 * Dashboard uids: part of the URLs operators bookmark and of the links between the dashboards, so they never
 * change (test/dashboards pins them).
 */
export const DASHBOARD_UIDS = {
  overview: 'bmpwatch-overview',
  appliance: 'bmpwatch-appliance',
  alerts: 'bmpwatch-alerts',
} as const;
