/**
 * The Docker Compose deployment, validated without a Docker engine:
 * - `docker-compose config` (Debian's docker-compose package) accepts docker-compose.yml with the settings of
 *   .env.example filled in, and refuses it while any password (or the route servers' prefix) is missing;
 * - the resolved file publishes only the BMP port beyond loopback, pins its images, keeps data in volumes and
 *   mounts the provisioning and the config file where Grafana and the image expect them;
 * - config/bmpwatch.compose.yaml is a valid bmpwatch config with the compose environment, and agrees with the
 *   Dockerfile (ports, health check, config path);
 * - the Dockerfile is multi-stage, ends as a non-root user with a health check on /healthz, and builds with the
 *   README's manual-install command;
 * - Grafana's provisioning (dashboards/provisioning) defines the datasource the dashboards use and loads them
 *   from where the compose file mounts them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigText } from '../../src/config/load.js';
import { DATASOURCE } from '../../src/dashboards/influx-query.js';
import { findExecutable } from '../helpers/daemons/process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const TMP = mkdtempSync(join(tmpdir(), 'bmpwatch-compose-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Settings that compose must refuse to run without. */
const REQUIRED = ['INFLUXDB_ADMIN_PASSWORD', 'INFLUXDB_READ_USER_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', 'BMPWATCH_ROUTE_SERVERS'] as const;
const FILLED: Readonly<Record<(typeof REQUIRED)[number], string>> = {
  INFLUXDB_ADMIN_PASSWORD: 'test-admin-secret',
  INFLUXDB_READ_USER_PASSWORD: 'test-read-secret',
  GRAFANA_ADMIN_PASSWORD: 'test-grafana-secret',
  BMPWATCH_ROUTE_SERVERS: '192.0.2.0/28',
};

function envExample(): Map<string, string> {
  const entries = read('.env.example')
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return new Map(entries);
}

function envFile(values: ReadonlyMap<string, string>): string {
  const path = join(TMP, `env-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, [...values].map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return path;
}

/** `docker-compose config` with only these settings (an empty process environment, so nothing leaks in). */
function composeConfig(values: ReadonlyMap<string, string>): { status: number | null; stdout: string; stderr: string } {
  const binary = findExecutable('docker-compose');
  const result = spawnSync(binary, ['--env-file', envFile(values), '--project-directory', ROOT, '-f', join(ROOT, 'docker-compose.yml'), 'config'], {
    cwd: TMP,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: TMP },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function filledExample(): Map<string, string> {
  const values = envExample();
  for (const [key, value] of Object.entries(FILLED)) values.set(key, value);
  return values;
}

interface ResolvedService {
  image?: string;
  build?: { context: string };
  environment?: Record<string, string>;
  ports?: (string | { target: number; published: number | string; host_ip?: string; protocol?: string })[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

interface Resolved {
  services: Record<string, ResolvedService>;
  volumes: Record<string, unknown>;
}

/** Ports as {hostIp, published, target}; the short form is HOST_IP:PUBLISHED:TARGET[/proto] or PUBLISHED:TARGET. */
function ports(service: ResolvedService): { hostIp: string; published: number; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string') return { hostIp: port.host_ip ?? '0.0.0.0', published: Number(port.published), target: port.target };
    const parts = port.replace(/\/\w+$/, '').split(':');
    const [hostIp, published, target] = parts.length === 3 ? parts : ['0.0.0.0', ...parts];
    return { hostIp, published: Number(published), target: Number(target) };
  });
}

describe('docker-compose.yml (validated by docker-compose config)', () => {
  let cached: Resolved | undefined;
  const resolved = (): Resolved => {
    if (cached) return cached;
    const result = composeConfig(filledExample());
    expect(result.status, result.stderr).toBe(0);
    cached = parse(result.stdout) as Resolved;
    return cached;
  };

  it('is accepted with .env.example filled in, and runs InfluxDB 1.8, Grafana and bmpwatch at pinned versions', () => {
    const { services } = resolved();
    expect(Object.keys(services).sort()).toEqual(['bmpwatch', 'grafana', 'influxdb']);
    expect(services.influxdb.image).toMatch(/^influxdb:1\.8\.\d+$/);
    expect(services.grafana.image).toMatch(/^grafana\/grafana(-oss)?:\d+\.\d+\.\d+$/);
    expect(services.bmpwatch.build?.context.replace(/\/$/, '')).toBe(ROOT.replace(/\/$/, ''));
    expect(services.bmpwatch.depends_on?.influxdb?.condition).toBe('service_healthy');
    expect(services.influxdb.healthcheck?.test.join(' ')).toContain('/ping');
  });

  it('refuses to start while a password or the route servers are missing: there are no defaults', () => {
    const shipped = composeConfig(envExample());
    expect(shipped.status, 'the shipped .env.example must not be usable as it is').not.toBe(0);
    for (const name of REQUIRED) {
      expect(envExample().get(name), `.env.example gives ${name} no value`).toBe('');
      const values = filledExample();
      values.delete(name);
      const result = composeConfig(values);
      expect(result.status, `without ${name}`).not.toBe(0);
      expect(result.stderr).toContain(name);
    }
  });

  it('names every setting it reads in .env.example', () => {
    const yaml = read('docker-compose.yml')
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    const used = new Set([...yaml.matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    expect([...used].filter((name) => !envExample().has(name))).toEqual([]);
  });

  it('publishes only the BMP port beyond loopback', () => {
    const { services } = resolved();
    const published = Object.entries(services).flatMap(([name, service]) => ports(service).map((p) => ({ name, ...p })));
    const open = published.filter((p) => p.hostIp !== '127.0.0.1');
    expect(open.map(({ name, target }) => ({ name, target }))).toEqual([{ name: 'bmpwatch', target: 11019 }]);
    expect(published.filter((p) => p.name === 'influxdb')).toEqual([]);
  });

  it('keeps InfluxDB, Grafana and bmpwatch data in named volumes', () => {
    const { services, volumes } = resolved();
    const mounts = (service: ResolvedService) => (service.volumes ?? []).map((v) => v.split(':'));
    for (const [service, path] of [
      ['influxdb', '/var/lib/influxdb'],
      ['grafana', '/var/lib/grafana'],
      ['bmpwatch', '/var/lib/bmpwatch'],
    ] as const) {
      const mount = mounts(services[service]).find(([, target]) => target === path);
      expect(mount, `${service} ${path}`).toBeDefined();
      expect(Object.keys(volumes)).toContain(mount?.[0]);
    }
  });

  it('mounts the provisioning, the dashboards and the bmpwatch config read-only', () => {
    const { services } = resolved();
    expect(services.grafana.volumes).toContain(`${join(ROOT, 'dashboards/provisioning')}:/etc/grafana/provisioning:ro`);
    expect(services.grafana.volumes).toContain(`${join(ROOT, 'dashboards')}:/etc/grafana/dashboards/bmpwatch:ro`);
    expect(services.bmpwatch.volumes).toContain(`${join(ROOT, 'config/bmpwatch.compose.yaml')}:/etc/bmpwatch/bmpwatch.yaml:ro`);
  });

  it('gives bmpwatch a config that loads with the compose environment, and Grafana a read-only InfluxDB user', () => {
    const { services } = resolved();
    const env = services.bmpwatch.environment ?? {};
    const loaded = loadConfigText(read('config/bmpwatch.compose.yaml'), env);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const influx = loaded.config.storage.influx;
    expect(influx?.enabled).toBe(true);
    expect(influx?.url).toBe('http://influxdb:8086');
    expect(influx?.password).toBe(FILLED.INFLUXDB_ADMIN_PASSWORD);
    expect(loaded.config.routers.allowedSources).toEqual([FILLED.BMPWATCH_ROUTE_SERVERS]);
    expect(ports(services.bmpwatch).map((p) => p.target).sort()).toEqual([loaded.config.listen.api.port, loaded.config.listen.bmp.port].sort());
    expect(services.grafana.environment?.INFLUXDB_READ_USER_PASSWORD).toBe(FILLED.INFLUXDB_READ_USER_PASSWORD);
    // Without the password the config is refused too: no default hides in the config file.
    const withoutPassword = Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'INFLUXDB_ADMIN_PASSWORD'));
    expect(loadConfigText(read('config/bmpwatch.compose.yaml'), withoutPassword).ok).toBe(false);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages = instructions.reduce<string[][]>((all, line) => {
    if (line.startsWith('FROM ')) all.push([]);
    all.at(-1)?.push(line);
    return all;
  }, []);
  const final = stages.at(-1) ?? [];

  it('is multi-stage on a pinned Node.js 20 slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim$/m);
  });

  it('runs as a non-root user with a health check on the API /healthz', () => {
    const user = final.find((line) => line.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    const health = final.find((line) => line.startsWith('HEALTHCHECK '));
    expect(health).toContain('/healthz');
    const config = loadConfigText(read('config/bmpwatch.compose.yaml'), { ...FILLED });
    if (!config.ok) throw new Error(JSON.stringify(config.problems));
    expect(health).toContain(`127.0.0.1:${config.config.listen.api.port}/healthz`);
  });

  it("builds with the README's manual-install commands and runs what `npx bmpwatch serve` runs", () => {
    const readme = read('README.md');
    const block = /```sh\n(npm ci[^\n]*)\n```/.exec(readme);
    expect(block, 'README: the manual-install command block').not.toBeNull();
    const commands = (block?.[1] ?? '').split('&&').map((c) => c.trim());
    const runs = instructions.filter((line) => line.startsWith('RUN ')).map((line) => line.replace(/^RUN (--mount=\S+ )*/, ''));
    for (const command of commands.filter((c) => c.startsWith('npm '))) {
      expect(runs.some((run) => run === command || run.startsWith(`${command} `)), `RUN ${command}`).toBe(true);
    }
    const serve = commands.find((c) => c.startsWith('npx bmpwatch serve'));
    expect(serve).toBeDefined();
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin.bmpwatch;
    expect(dockerfile).toContain(`ln -s /app/${bin} /usr/local/bin/bmpwatch`);
    expect(final).toContain('ENTRYPOINT ["bmpwatch"]');
    expect(final).toContain('CMD ["serve", "--config", "/etc/bmpwatch/bmpwatch.yaml"]');
  });

  it('builds from a context without secrets, dependencies or build output', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    expect(allowed.sort()).toEqual(['package-lock.json', 'package.json', 'src', 'tsconfig.json']);
    for (const copy of stages[0].filter((line) => line.startsWith('COPY '))) {
      for (const source of copy.split(/\s+/).slice(1, -1)) expect(allowed, copy).toContain(source);
    }
  });
});

describe('dashboards/provisioning', () => {
  const datasource = parse(read('dashboards/provisioning/datasources/bmpwatch.yaml')) as {
    datasources: { uid: string; type: string; jsonData: { version: string; dbName: string; timeInterval: string } }[];
  };
  const provider = parse(read('dashboards/provisioning/dashboards/bmpwatch.yaml')) as { providers: { type: string; options: { path: string } }[] };

  it('provisions the InfluxQL datasource the dashboards refer to, its database from the environment', () => {
    expect(datasource.datasources).toHaveLength(1);
    const [ds] = datasource.datasources;
    expect({ uid: ds.uid, type: ds.type }).toEqual(DATASOURCE);
    expect(ds.jsonData.version).toBe('InfluxQL');
    expect(ds.jsonData.dbName).toMatch(/^\$\{\w+\}$/);
  });

  it('sets the datasource minimum interval to the metrics interval of the compose config', () => {
    const config = parse(read('config/bmpwatch.compose.yaml')) as {
      storage: { influx: { metricsIntervalSeconds: number } };
    };
    expect(datasource.datasources[0].jsonData.timeInterval).toBe(`${config.storage.influx.metricsIntervalSeconds}s`);
  });

  it('loads the dashboards from where docker-compose.yml mounts them', () => {
    const compose = read('docker-compose.yml');
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0].type).toBe('file');
    expect(compose).toContain(`./dashboards:${provider.providers[0].options.path}:ro`);
    expect(compose).toContain('./dashboards/provisioning:/etc/grafana/provisioning:ro');
  });
});
