import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../src/config/load.js';
import { rulesConfigProblems } from '../../../src/config/rules-schema.js';
import { configSchema } from '../../../src/config/schema.js';

describe('rules: and alerts: configuration', () => {
  it('has the documented defaults', () => {
    const config = configSchema.parse({});
    expect(config.rules.routeFlap).toMatchObject({ withdrawalPenalty: 1000, attributeChangePenalty: 500, halfLifeSeconds: 900, warningThreshold: 3000, criticalThreshold: 6000, clearThreshold: 750 });
    expect(config.rules.sessionDown).toMatchObject({ holdSeconds: 90, minRouteServers: 1 });
    expect(config.alerts).toMatchObject({ holdDownSeconds: 120, repeatIntervalSeconds: 14_400, webhooks: [] });
  });

  it('rejects inconsistent thresholds, also after merging group overrides', () => {
    const result = loadConfigText('rules:\n  routeFlap:\n    clearThreshold: 4000\n  groups:\n    - group: x\n      sessionChurn:\n        criticalThreshold: 2000\n', {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(['rules.routeFlap.clearThreshold', 'rules.groups[0].sessionChurn.criticalThreshold']);
  });

  it('validates webhooks without echoing secrets or URLs', () => {
    const yaml = ['alerts:', '  webhooks:', '    - name: ops', '      url: ${URL}', '      secret: ${SECRET}', '    - name: ops', '      url: ftp://example.test/', ''].join('\n');
    const result = loadConfigText(yaml, { URL: 'https://hooks.slack.test/T000/SECRETPATH', SECRET: 'whsec_short' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = JSON.stringify(result.problems);
    expect(text).not.toContain('SECRETPATH');
    expect(text).not.toContain('whsec_short');
    expect(result.problems.map((p) => p.path).sort()).toEqual(['alerts.webhooks[0].secret', 'alerts.webhooks[1].name', 'alerts.webhooks[1].url']);
  });

  it('accepts a Standard Webhooks secret and fills webhook defaults', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const result = loadConfigText(`alerts:\n  webhooks:\n    - name: ops\n      url: http://127.0.0.1:9000/hook\n      secret: \${S}\n`, { S: secret });
    expect(result.ok ? result.config.alerts.webhooks[0] : result.problems).toMatchObject({ format: 'bmpwatch', secret, timeoutMs: 10_000, maxAttempts: 8, filters: { severities: ['warning', 'critical'], sendResolved: true } });
  });

  it('names unknown groups in overrides and webhook filters', () => {
    const config = configSchema.parse({ rules: { groups: [{ group: 'nope' }] }, alerts: { webhooks: [{ name: 'a', url: 'http://127.0.0.1/', filters: { groups: ['nope'] } }] } });
    expect(rulesConfigProblems(config).map((p) => p.path)).toEqual(['rules.groups[0].group', 'alerts.webhooks[0].filters.groups[0]']);
  });
});
