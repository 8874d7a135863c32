/**
 * The real App (collector + live API) in-process on 127.0.0.1 with ephemeral ports, for integration tests that
 * compare its state with a real route server's. Storage is off unless a config asks for it: these tests look at
 * routing state, and must not write history into the working directory.
 */
import type { PeerView, RouteView, RouterView } from '../../src/api/views.js';
import { App } from '../../src/app.js';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/util/clock.js';

const LISTEN = ['listen:', '  bmp: { host: 127.0.0.1, port: 0 }', '  api: { host: 127.0.0.1, port: 0 }'];

export class AppUnderTest {
  private constructor(
    readonly app: App,
    readonly bmpPort: number,
    readonly apiBase: string,
  ) {}

  /** `extraYaml`: more top-level config lines (listen is always loopback, ports 0). */
  static async start(options: { extraYaml?: readonly string[]; storage?: boolean } = {}): Promise<AppUnderTest> {
    const loaded = loadConfigText([...LISTEN, ...(options.extraYaml ?? []), ''].join('\n'), {});
    if (!loaded.ok) throw new Error(`test config rejected: ${JSON.stringify(loaded.problems)}`);
    const app = new App({ config: loaded.config, logger: createLogger('silent'), clock: systemClock, storage: options.storage ?? false });
    const bound = await app.start();
    return new AppUnderTest(app, bound.bmp.port, `http://127.0.0.1:${bound.api.port}`);
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.apiBase}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  routers(): Promise<RouterView[]> {
    return this.get<RouterView[]>('/api/routers');
  }

  peers(): Promise<PeerView[]> {
    return this.get<PeerView[]>('/api/peers');
  }

  /** A peer's routes in every table (`query`: address, BGP identifier or "local"). */
  routes(query: string): Promise<RouteView[]> {
    return this.get<RouteView[]>(`/api/routes?peer=${encodeURIComponent(query)}`);
  }

  stop(): Promise<void> {
    return this.app.stop();
  }
}
