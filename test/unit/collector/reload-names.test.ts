/** SIGHUP (BmpCollector.updateSettings): configured router names apply to routers that are already connected. */
import { afterEach, describe, expect, it } from 'vitest';
import { toCollectorSettings } from '../../../src/app.js';
import { loadConfigText } from '../../../src/config/load.js';
import { initiation } from '../../helpers/bmp-builders.js';
import { connectRouter, startTestCollector, waitFor, type TestCollector } from '../../helpers/collector.js';

function settingsNaming(names: Record<string, string>, port: number): ReturnType<typeof toCollectorSettings> {
  const entries = Object.entries(names).map(([address, name]) => `    - { name: ${name}, address: ${address} }`);
  const loaded = loadConfigText(['routers:', '  allowedSources: [127.0.0.0/8]', ...(entries.length > 0 ? ['  names:', ...entries] : []), ''].join('\n'), {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return toCollectorSettings(loaded.config, { host: '127.0.0.1', port });
}

let collector: TestCollector | undefined;
afterEach(async () => {
  await collector?.stop();
});

describe('reloading router names', () => {
  it('renames a connected router, and shows it by its address when its name is removed', async () => {
    collector = await startTestCollector({ routerName: (address) => (address === '127.0.0.7' ? 'old-name' : undefined) });
    const c = collector;
    const socket = await connectRouter(c.port, '127.0.0.7');
    const other = await connectRouter(c.port, '127.0.0.8');
    other.write(initiation('sysname-of-8'));
    await waitFor(() => c.collector.routers().length === 2 && c.collector.routers()[1].router.name === 'sysname-of-8', 'both routers');
    const [seven, eight] = c.collector.routers();
    expect(seven.router.name).toBe('old-name');

    c.collector.updateSettings(settingsNaming({ '127.0.0.7': 'new-name' }, c.port));
    expect(seven.router.name).toBe('new-name');
    expect(eight.router.name).toBe('sysname-of-8'); // not configured before or after: untouched
    expect(seven.isClosed).toBe(false);

    c.collector.updateSettings(settingsNaming({}, c.port));
    expect(seven.router.name).toBe('127.0.0.7');
    expect(eight.router.name).toBe('sysname-of-8');
    socket.destroy();
    other.destroy();
  });
});
