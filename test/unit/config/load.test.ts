import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatConfigPath, loadConfigFile, loadConfigText, type ConfigProblem } from '../../../src/config/load.js';
import { alertsSchema, rulesSchema } from '../../../src/config/rules-schema.js';
import type { Config } from '../../../src/config/schema.js';

type Json = Record<string, unknown>;

function group(overrides: Json = {}): Json {
  return {
    name: 'firewalls',
    sessionRanges: ['100.64.0.0/24'],
    sessionType: 'ibgp',
    asns: [64496],
    prefixes: {
      ipv4: [{ prefix: '10.128.0.0/17', minLength: 29, maxLength: 32 }],
      ipv6: [{ prefix: '2001:db8:100::/48', minLength: 64, maxLength: 64 }],
    },
    ...overrides,
  };
}

function secondGroup(overrides: Json = {}): Json {
  return group({
    name: 'load-balancers',
    sessionRanges: ['100.64.4.0/24'],
    sessionType: 'ebgp',
    asns: [64500],
    prefixes: { ipv4: [{ prefix: '10.128.128.0/17', minLength: 29, maxLength: 32 }] },
    ...overrides,
  });
}

function load(input: Json | string, env: Record<string, string | undefined> = {}) {
  return loadConfigText(typeof input === 'string' ? input : stringify(input), env);
}

function loaded(input: Json | string, env: Record<string, string | undefined> = {}): Config {
  const result = load(input, env);
  if (!result.ok) throw new Error(`expected a valid config, got ${JSON.stringify(result.problems)}`);
  return result.config;
}

function problems(input: Json | string, env: Record<string, string | undefined> = {}): ConfigProblem[] {
  const result = load(input, env);
  if (result.ok) throw new Error('expected problems, the config is valid');
  return result.problems;
}

const EXPECTED_DEFAULTS: Config = {
  listen: { bmp: { host: '0.0.0.0', port: 11019 }, api: { host: '127.0.0.1', port: 11080 } },
  limits: {
    maxConnections: 256,
    maxMessageBytes: 1_048_576,
    maxRoutesPerRouter: 5_000_000,
    initialDumpTimeoutSeconds: 600,
    maxDecodeErrorLogsPerMinute: 60,
  },
  routers: { allowedSources: ['127.0.0.0/8', '::1/128'] },
  applianceGroups: [],
  infrastructurePrefixes: [],
  log: { level: 'info' },
  storage: { dataDir: './data', retentionDays: 30, history: { routeEvents: 'appliances', flushIntervalMs: 1000, batchSize: 5000, maxBufferedEvents: 500_000 } },
  // The rules' and alerts' defaults are tested with their schema (test/unit/rules); here they only need to apply.
  rules: rulesSchema.parse({}),
  alerts: alertsSchema.parse({}),
};

describe('defaults', () => {
  it.each([
    ['an empty file', ''],
    ['only comments', '# nothing configured yet\n\n# really\n'],
    ['an empty document', '---\n'],
    ['an empty mapping', '{}\n'],
    ['empty sections', 'listen: {}\nlimits: {}\nrouters: {}\nlog: {}\nstorage: {}\n'],
    ['empty endpoints', 'listen:\n  bmp: {}\n  api: {}\n'],
  ])('%s gives every default', (_, text) => {
    const config = loaded(text);
    expect(config).toEqual(EXPECTED_DEFAULTS);
    expect(config.appliances).toBeUndefined();
    expect(config.routers.names).toBeUndefined();
  });

  it('fills the defaults of a group', () => {
    const config = loaded({ applianceGroups: [group({ prefixes: { ipv4: [{ prefix: '10.128.0.0/17', minLength: 29, maxLength: 32 }] } })] });
    expect(config.applianceGroups[0]).toEqual({
      name: 'firewalls',
      sessionRanges: ['100.64.0.0/24'],
      sessionType: 'ibgp',
      asns: [64496],
      allowPrivateAsns: false,
      prefixes: { ipv4: [{ prefix: '10.128.0.0/17', minLength: 29, maxLength: 32 }], ipv6: [] },
      maxPrefixes: 100,
      maxPrefixesWarningFraction: 0.8,
      anycastPrefixes: [],
      nextHopMustMatchSession: true,
    });
  });

  it('keeps one section defaulted while another is set', () => {
    const config = loaded('listen:\n  bmp:\n    port: 5000\n');
    expect(config.listen).toEqual({ bmp: { host: '0.0.0.0', port: 5000 }, api: { host: '127.0.0.1', port: 11080 } });
  });

  it('does not share default arrays between loads', () => {
    const first = loaded('');
    first.routers.allowedSources.push('192.0.2.0/24');
    first.applianceGroups.push(loaded({ applianceGroups: [group()] }).applianceGroups[0]);
    expect(loaded('')).toEqual(EXPECTED_DEFAULTS);
  });

  it('accepts the bounds of every limit', () => {
    const low = { maxConnections: 1, maxMessageBytes: 65_600, maxRoutesPerRouter: 1, initialDumpTimeoutSeconds: 1, maxDecodeErrorLogsPerMinute: 0 };
    const high = {
      maxConnections: 4_096,
      maxMessageBytes: 16 * 1_048_576,
      maxRoutesPerRouter: 100_000_000,
      initialDumpTimeoutSeconds: 86_400,
      maxDecodeErrorLogsPerMinute: 6_000,
    };
    expect(loaded({ limits: low }).limits).toEqual(low);
    expect(loaded({ limits: high }).limits).toEqual(high);
  });

  it('accepts IPv6 and port-0 listen addresses', () => {
    const config = loaded({ listen: { bmp: { host: '::', port: 0 }, api: { host: '::1', port: 65_535 } } });
    expect(config.listen).toEqual({ bmp: { host: '::', port: 0 }, api: { host: '::1', port: 65_535 } });
  });

  it('writes addresses and prefixes in canonical form', () => {
    const config = loaded({
      routers: { allowedSources: ['2001:DB8:0:1:0::/64'], names: [{ name: 'rs1', address: '2001:DB8:0:1::0:1', cluster: 'fra' }] },
      applianceGroups: [group({ sessionRanges: ['2001:0db8:0064::/64'], anycastPrefixes: ['2001:DB8:100:1:0::/64'] })],
      appliances: [{ name: 'fw-01', group: 'firewalls', addresses: ['2001:db8:64:0:0:0:0:11'] }],
      infrastructurePrefixes: ['2001:db8:FFFF::/48'],
    });
    expect(config.routers.allowedSources).toEqual(['2001:db8:0:1::/64']);
    expect(config.routers.names).toEqual([{ name: 'rs1', address: '2001:db8:0:1::1', cluster: 'fra' }]);
    expect(config.applianceGroups[0].sessionRanges).toEqual(['2001:db8:64::/64']);
    expect(config.applianceGroups[0].anycastPrefixes).toEqual(['2001:db8:100:1::/64']);
    expect(config.appliances).toEqual([{ name: 'fw-01', group: 'firewalls', addresses: ['2001:db8:64::11'] }]);
    expect(config.infrastructurePrefixes).toEqual(['2001:db8:ffff::/48']);
  });

  it('accepts private AS numbers when the group allows them', () => {
    expect(loaded({ applianceGroups: [group({ asns: [64512, 4_200_000_000], allowPrivateAsns: true })] }).applianceGroups[0].asns).toEqual([64512, 4_200_000_000]);
  });

  it('lets infrastructurePrefixes carve part of an assigned range out', () => {
    expect(loaded({ applianceGroups: [group()], infrastructurePrefixes: ['10.128.0.0/24'] }).infrastructurePrefixes).toEqual(['10.128.0.0/24']);
  });

  it('supports YAML anchors and merge keys', () => {
    const text = [
      'applianceGroups:',
      '  - &base',
      '    name: a',
      '    sessionRanges: [100.64.0.0/24]',
      '    sessionType: ebgp',
      '    asns: [64500]',
      '    prefixes: {ipv4: [{prefix: 10.128.0.0/17, minLength: 29, maxLength: 32}]}',
      '  - <<: *base',
      '    name: b',
      '    sessionRanges: [100.64.1.0/24]',
    ].join('\n');
    const config = loaded(text);
    expect(config.applianceGroups.map((g) => [g.name, g.sessionRanges[0], g.asns[0]])).toEqual([
      ['a', '100.64.0.0/24', 64500],
      ['b', '100.64.1.0/24', 64500],
    ]);
  });
});

describe('validation problems and their paths', () => {
  const cases: [string, Json, string, RegExp][] = [
    ['unknown top-level key', { lisen: {} }, 'lisen', /^unknown option; did you mean "listen"\?$/],
    ['unknown nested key', { listen: { bmp: { prot: 1 } } }, 'listen.bmp.prot', /did you mean "port"/],
    ['unknown key, nothing close', { log: { colour: 3 } }, 'log.colour', /^unknown option \(options here: level\)$/],
    ['unknown key in a group', { applianceGroups: [group({ maxPrefix: 5 })] }, 'applianceGroups[0].maxPrefix', /did you mean "maxPrefixes"/],
    ['unknown key in a prefix range', { applianceGroups: [group({ prefixes: { ipv4: [{ prefix: '10.128.0.0/17', minLength: 29, maxLength: 32, max: 1 }] } })] }, 'applianceGroups[0].prefixes.ipv4[0].max', /unknown option/],
    ['port too large', { listen: { bmp: { port: 70_000 } } }, 'listen.bmp.port', /^must be at most 65535$/],
    ['port not a number', { listen: { api: { port: '11080' } } }, 'listen.api.port', /^expected a number, got the string "11080" \(write it without quotes\)$/],
    ['port not whole', { listen: { api: { port: 80.5 } } }, 'listen.api.port', /^expected a whole number, got the number 80.5$/],
    ['host name instead of address', { listen: { api: { host: 'localhost' } } }, 'listen.api.host', /"localhost" is not an IPv4 or IPv6 address/],
    ['maxConnections zero', { limits: { maxConnections: 0 } }, 'limits.maxConnections', /^must be at least 1$/],
    ['maxMessageBytes below one UPDATE', { limits: { maxMessageBytes: 65_599 } }, 'limits.maxMessageBytes', /^must be at least 65600$/],
    ['maxMessageBytes above 16 MiB', { limits: { maxMessageBytes: 16 * 1_048_576 + 1 } }, 'limits.maxMessageBytes', /^must be at most 16777216$/],
    ['maxRoutesPerRouter too large', { limits: { maxRoutesPerRouter: 100_000_001 } }, 'limits.maxRoutesPerRouter', /must be at most 100000000/],
    ['initialDumpTimeoutSeconds above a day', { limits: { initialDumpTimeoutSeconds: 86_401 } }, 'limits.initialDumpTimeoutSeconds', /must be at most 86400/],
    ['negative maxDecodeErrorLogsPerMinute', { limits: { maxDecodeErrorLogsPerMinute: -1 } }, 'limits.maxDecodeErrorLogsPerMinute', /must be at least 0/],
    ['no allowed sources', { routers: { allowedSources: [] } }, 'routers.allowedSources', /list at least one prefix/],
    ['allowed source with host bits', { routers: { allowedSources: ['192.0.2.1/24'] } }, 'routers.allowedSources[0]', /host bits set; the network is 192\.0\.2\.0\/24/],
    ['allowed source without length', { routers: { allowedSources: ['127.0.0.0/8', '192.0.2.1'] } }, 'routers.allowedSources[1]', /write 192\.0\.2\.1\/32/],
    ['router name with a bad address', { routers: { names: [{ name: 'rs1', address: '192.0.2.300' }] } }, 'routers.names[0].address', /not an IPv4 or IPv6 address/],
    ['router outside allowedSources', { routers: { names: [{ name: 'rs1', address: '192.0.2.1' }] } }, 'routers.names[0].address', /outside routers\.allowedSources/],
    [
      'router address named twice',
      { routers: { allowedSources: ['192.0.2.0/24'], names: [{ name: 'rs1', address: '192.0.2.1' }, { name: 'rs2', address: '192.0.2.1' }] } },
      'routers.names[1].address',
      /already named by names\[0\]/,
    ],
    ['router without a name', { routers: { allowedSources: ['192.0.2.0/24'], names: [{ address: '192.0.2.1' }] } }, 'routers.names[0].name', /^is required \(a string\)$/],
    ['groups not a list', { applianceGroups: { name: 'x' } }, 'applianceGroups', /^expected a list, got a mapping$/],
    ['bad group name', { applianceGroups: [group({ name: '-fw' })] }, 'applianceGroups[0].name', /must start with a letter or digit/],
    ['duplicate group name', { applianceGroups: [group(), secondGroup({ name: 'firewalls' })] }, 'applianceGroups[1].name', /duplicate group name "firewalls" \(also applianceGroups\[0\]\)/],
    ['no session ranges', { applianceGroups: [group({ sessionRanges: [] })] }, 'applianceGroups[0].sessionRanges', /list at least one range/],
    ['bad session range', { applianceGroups: [group({ sessionRanges: ['100.64.0.0/24', '100.64.1.0'] })] }, 'applianceGroups[0].sessionRanges[1]', /no prefix length/],
    [
      'overlapping session ranges',
      { applianceGroups: [group(), secondGroup({ sessionRanges: ['100.64.4.0/24', '100.64.0.128/25'] })] },
      'applianceGroups[1].sessionRanges[1]',
      /100\.64\.0\.128\/25 overlaps 100\.64\.0\.0\/24 of group "firewalls" \(applianceGroups\[0\]\.sessionRanges\[0\]\)/,
    ],
    ['bad session type', { applianceGroups: [group({ sessionType: 'IBGP' })] }, 'applianceGroups[0].sessionType', /^must be one of "ibgp", "ebgp"; got the string "IBGP"$/],
    ['missing session type', { applianceGroups: [group({ sessionType: undefined })] }, 'applianceGroups[0].sessionType', /^is required \(one of "ibgp", "ebgp"\)$/],
    ['no AS numbers', { applianceGroups: [group({ asns: [] })] }, 'applianceGroups[0].asns', /list at least one AS number/],
    ['AS 0', { applianceGroups: [group({ asns: [0] })] }, 'applianceGroups[0].asns[0]', /AS 0 is reserved/],
    ['AS too large', { applianceGroups: [group({ asns: [64496, 4_294_967_296] })] }, 'applianceGroups[0].asns[1]', /at most 4294967295/],
    ['AS_TRANS', { applianceGroups: [group({ asns: [23_456] })] }, 'applianceGroups[0].asns[0]', /AS_TRANS/],
    ['duplicate AS', { applianceGroups: [group({ asns: [64496, 64497, 64496] })] }, 'applianceGroups[0].asns[2]', /listed twice \(also asns\[0\]\)/],
    ['private AS not allowed', { applianceGroups: [group({ asns: [64496, 65000] })] }, 'applianceGroups[0].asns[1]', /private AS number.*allowPrivateAsns: true/],
    ['private 4-byte AS not allowed', { applianceGroups: [group({ asns: [4_200_000_001] })] }, 'applianceGroups[0].asns[0]', /private AS number/],
    ['missing prefixes', { applianceGroups: [group({ prefixes: undefined })] }, 'applianceGroups[0].prefixes', /^is required \(a mapping of options\)$/],
    [
      'IPv6 prefix in the IPv4 list',
      { applianceGroups: [group({ prefixes: { ipv4: [{ prefix: '2001:db8:100::/48', minLength: 29, maxLength: 32 }] } })] },
      'applianceGroups[0].prefixes.ipv4[0].prefix',
      /is an IPv6 prefix; this list takes IPv4 prefixes/,
    ],
    [
      'IPv6 prefix with host bits set',
      { applianceGroups: [group({ prefixes: { ipv6: [{ prefix: '2001:db8:100::1/48', minLength: 64, maxLength: 64 }] } })] },
      'applianceGroups[0].prefixes.ipv6[0].prefix',
      /host bits set; the network is 2001:db8:100::\/48/,
    ],
    [
      'minLength shorter than the prefix',
      { applianceGroups: [group({ prefixes: { ipv4: [{ prefix: '10.128.0.0/16', minLength: 8, maxLength: 32 }] } })] },
      'applianceGroups[0].prefixes.ipv4[0].minLength',
      /must be at least 16, the length of 10\.128\.0\.0\/16/,
    ],
    [
      'minLength greater than maxLength',
      { applianceGroups: [group(), secondGroup({ prefixes: { ipv4: [{ prefix: '10.128.128.0/17', minLength: 30, maxLength: 29 }] } })] },
      'applianceGroups[1].prefixes.ipv4[0].maxLength',
      /^must be at least minLength \(30\)$/,
    ],
    [
      'IPv4 maxLength above 32',
      { applianceGroups: [group({ prefixes: { ipv4: [{ prefix: '10.128.0.0/17', minLength: 29, maxLength: 33 }] } })] },
      'applianceGroups[0].prefixes.ipv4[0].maxLength',
      /^must be at most 32$/,
    ],
    [
      'IPv6 maxLength above 128',
      { applianceGroups: [group({ prefixes: { ipv6: [{ prefix: '2001:db8:100::/48', minLength: 64, maxLength: 129 }] } })] },
      'applianceGroups[0].prefixes.ipv6[0].maxLength',
      /^must be at most 128$/,
    ],
    [
      'prefix range without maxLength',
      { applianceGroups: [group({ prefixes: { ipv4: [{ prefix: '10.128.0.0/17', minLength: 29 }] } })] },
      'applianceGroups[0].prefixes.ipv4[0].maxLength',
      /^is required \(a number\)$/,
    ],
    ['maxPrefixes zero', { applianceGroups: [group({ maxPrefixes: 0 })] }, 'applianceGroups[0].maxPrefixes', /must be at least 1/],
    ['warning fraction zero', { applianceGroups: [group({ maxPrefixesWarningFraction: 0 })] }, 'applianceGroups[0].maxPrefixesWarningFraction', /^must be greater than 0$/],
    ['warning fraction above one', { applianceGroups: [group({ maxPrefixesWarningFraction: 1.5 })] }, 'applianceGroups[0].maxPrefixesWarningFraction', /^must be at most 1$/],
    ['allowPrivateAsns not a boolean', { applianceGroups: [group({ allowPrivateAsns: 'yes' })] }, 'applianceGroups[0].allowPrivateAsns', /^expected true or false, got the string "yes"/],
    ['anycast prefix outside the ranges', { applianceGroups: [group({ anycastPrefixes: ['10.129.0.0/29'] })] }, 'applianceGroups[0].anycastPrefixes[0]', /10\.129\.0\.0\/29 is not a prefix this group may announce/],
    ['anycast prefix too short', { applianceGroups: [group({ anycastPrefixes: ['10.128.0.0/24'] })] }, 'applianceGroups[0].anycastPrefixes[0]', /not a prefix this group may announce/],
    [
      'anycast prefix in infrastructure',
      { applianceGroups: [group({ anycastPrefixes: ['10.128.0.8/29'] })], infrastructurePrefixes: ['10.128.0.0/24'] },
      'applianceGroups[0].anycastPrefixes[0]',
      /overlaps infrastructurePrefixes\[0\] \(10\.128\.0\.0\/24\)/,
    ],
    [
      'assigned range inside infrastructure',
      { applianceGroups: [group()], infrastructurePrefixes: ['192.0.2.0/24', '2001:db8::/32'] },
      'applianceGroups[0].prefixes.ipv6[0].prefix',
      /inside infrastructurePrefixes\[1\] \(2001:db8::\/32\)/,
    ],
    ['infrastructure prefix with host bits', { infrastructurePrefixes: ['198.51.100.1/24'] }, 'infrastructurePrefixes[0]', /host bits set/],
    ['appliance in an unknown group', { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewall', bgpId: '100.64.0.1' }] }, 'appliances[0].group', /no appliance group named "firewall" \(groups: firewalls\)/],
    ['appliance without groups', { appliances: [{ name: 'fw-01', group: 'firewalls', bgpId: '100.64.0.1' }] }, 'appliances[0].group', /no applianceGroups are configured/],
    ['appliance without bgpId or addresses', { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls' }] }, 'appliances[0]', /give bgpId or addresses/],
    ['IPv6 bgpId', { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', bgpId: '2001:db8::1' }] }, 'appliances[0].bgpId', /is an IPv6 address; expected IPv4/],
    ['zero bgpId', { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', bgpId: '0.0.0.0' }] }, 'appliances[0].bgpId', /never 0\.0\.0\.0/],
    [
      'duplicate bgpId',
      { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', bgpId: '100.64.0.1' }, { name: 'fw-02', group: 'firewalls', bgpId: '100.64.0.1' }] },
      'appliances[1].bgpId',
      /also appliances\[0\]'s/,
    ],
    [
      'duplicate appliance name',
      { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', bgpId: '100.64.0.1' }, { name: 'fw-01', group: 'firewalls', bgpId: '100.64.0.2' }] },
      'appliances[1].name',
      /duplicate appliance name "fw-01"/,
    ],
    ['bad appliance name', { applianceGroups: [group()], appliances: [{ name: 'fw 01', group: 'firewalls', bgpId: '100.64.0.1' }] }, 'appliances[0].name', /must start with a letter or digit/],
    ['empty address list', { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', addresses: [] }] }, 'appliances[0].addresses', /list at least one address/],
    [
      'appliance address outside the session ranges',
      { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', addresses: ['100.64.0.1', '100.64.9.1'] }] },
      'appliances[0].addresses[1]',
      /100\.64\.9\.1 is outside the sessionRanges of group "firewalls"/,
    ],
    [
      'address of two appliances',
      { applianceGroups: [group()], appliances: [{ name: 'fw-01', group: 'firewalls', addresses: ['100.64.0.1'] }, { name: 'fw-02', group: 'firewalls', addresses: ['100.64.0.2', '100.64.0.1'] }] },
      'appliances[1].addresses[1]',
      /100\.64\.0\.1 is also an address of appliances\[0\]/,
    ],
    ['bad log level', { log: { level: 'verbose' } }, 'log.level', /^must be one of "trace", "debug", "info", "warn", "error", "fatal"; got the string "verbose"$/],
    ['empty data directory', { storage: { dataDir: '' } }, 'storage.dataDir', /^must not be empty$/],
  ];

  it.each(cases)('%s', (_, input, path, message) => {
    expect(problems(input)).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('reports the whole file when it is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual([{ path: '', message: 'expected a mapping of options, got a list' }]);
    expect(problems('just text\n')).toEqual([{ path: '', message: 'expected a mapping of options, got the string "just text"' }]);
  });

  it('reports every problem at once', () => {
    const found = problems({
      listen: { bmp: { port: -1 }, api: { hots: '::1' } },
      limits: { maxConnections: 'many' },
      applianceGroups: [group({ sessionType: 'bgp' })],
      log: { level: 'loud' },
    });
    expect(found.map((problem) => problem.path).sort()).toEqual([
      'applianceGroups[0].sessionType',
      'limits.maxConnections',
      'listen.api.hots',
      'listen.bmp.port',
      'log.level',
    ]);
  });

  it('quotes odd keys in paths', () => {
    expect(problems({ listen: { 'bmp.port': 1 } })).toEqual([{ path: 'listen["bmp.port"]', message: expect.stringMatching(/^unknown option/) }]);
    expect(formatConfigPath(['applianceGroups', 1, 'prefixes', 'ipv4', 0, 'maxLength'])).toBe('applianceGroups[1].prefixes.ipv4[0].maxLength');
    expect(formatConfigPath([])).toBe('');
  });
});

describe('environment substitution', () => {
  const routerAt = (address: string): Json => ({ routers: { allowedSources: ['192.0.2.0/24'], names: [{ name: 'rs1', address }] } });

  it('replaces a whole value', () => {
    expect(loaded(routerAt('${RS1}'), { RS1: '192.0.2.1' }).routers.names).toEqual([{ name: 'rs1', address: '192.0.2.1' }]);
  });

  it('replaces pieces of a value', () => {
    expect(loaded({ storage: { dataDir: '/srv/${SITE}/bmpwatch-${ENVIRONMENT}' } }, { SITE: 'fra', ENVIRONMENT: 'prod' }).storage.dataDir).toBe('/srv/fra/bmpwatch-prod');
  });

  it('replaces values in lists', () => {
    expect(loaded({ routers: { allowedSources: ['127.0.0.0/8', '${RS_RANGE}'] } }, { RS_RANGE: '192.0.2.0/28' }).routers.allowedSources).toEqual(['127.0.0.0/8', '192.0.2.0/28']);
  });

  it('treats an empty variable as set', () => {
    expect(loaded({ storage: { dataDir: './data${SUFFIX}' } }, { SUFFIX: '' }).storage.dataDir).toBe('./data');
  });

  it('reports an unset variable at the path of the value', () => {
    expect(problems(routerAt('${RS1}'), {})).toEqual([{ path: 'routers.names[0].address', message: 'environment variable RS1 is not set' }]);
  });

  it('reports every unset variable of a partly set value', () => {
    expect(problems({ storage: { dataDir: '/srv/${SITE}/${A}/${B}' } }, { SITE: 'fra', B: undefined })).toEqual([
      { path: 'storage.dataDir', message: 'environment variable A is not set' },
      { path: 'storage.dataDir', message: 'environment variable B is not set' },
    ]);
  });

  it('reports unset variables together with other problems', () => {
    expect(problems({ log: { level: 'loud' }, storage: { dataDir: '${DATA_DIR}' } }, {})).toEqual([
      { path: 'storage.dataDir', message: 'environment variable DATA_DIR is not set' },
      { path: 'log.level', message: expect.stringMatching(/^must be one of/) },
    ]);
  });

  it('only uses the env it is given', () => {
    process.env.BMPWATCH_TEST_ONLY_IN_PROCESS_ENV = '/tmp';
    try {
      expect(problems({ storage: { dataDir: '${BMPWATCH_TEST_ONLY_IN_PROCESS_ENV}' } }, {})).toEqual([
        { path: 'storage.dataDir', message: 'environment variable BMPWATCH_TEST_ONLY_IN_PROCESS_ENV is not set' },
      ]);
    } finally {
      delete process.env.BMPWATCH_TEST_ONLY_IN_PROCESS_ENV;
    }
  });

  it('bounds the InfluxDB retry backoff and defaults it to 30 s', () => {
    const influx = { enabled: true, url: 'http://127.0.0.1:8086' };
    expect(loaded({ storage: { influx } }, {}).storage.influx?.retryBackoffMaxMs).toBe(30_000);
    expect(loaded({ storage: { influx: { ...influx, retryBackoffMaxMs: 120_000 } } }, {}).storage.influx?.retryBackoffMaxMs).toBe(120_000);
    expect(problems({ storage: { influx: { ...influx, retryBackoffMaxMs: 10 } } }, {}).map((p) => p.path)).toEqual(['storage.influx.retryBackoffMaxMs']);
  });

  it('reports rule overrides and webhook filters that name unknown appliance groups', () => {
    expect(problems({ rules: { groups: [{ group: 'nope' }] } }, {})).toEqual([{ path: 'rules.groups[0].group', message: 'no appliance group named "nope" (no applianceGroups are configured)' }]);
  });

  it('uses ${NAME:-default} when NAME is unset or empty, and NAME otherwise', () => {
    expect(loaded({ storage: { dataDir: '${D:-/srv/x}' } }, {}).storage.dataDir).toBe('/srv/x');
    expect(loaded({ storage: { dataDir: '${D:-/srv/x}' } }, { D: '' }).storage.dataDir).toBe('/srv/x');
    expect(loaded({ storage: { dataDir: '${D:-/srv/x}' } }, { D: '/data' }).storage.dataDir).toBe('/data');
    expect(problems({ storage: { dataDir: '${1D:-x}' } }, {})).toEqual([{ path: 'storage.dataDir', message: expect.stringMatching(/not an environment variable reference/) }]);
  });

  it('keeps "$${" as a literal "${" and a lone "$" as it is', () => {
    expect(loaded({ storage: { dataDir: './a$${B}/$HOME/$' } }, {}).storage.dataDir).toBe('./a${B}/$HOME/$');
  });

  it('does not substitute again inside substituted text', () => {
    expect(loaded({ storage: { dataDir: '${A}' } }, { A: '${B}', B: 'no' }).storage.dataDir).toBe('${B}');
  });

  it('reports malformed references', () => {
    expect(problems({ storage: { dataDir: './${1X}' } }, {})).toEqual([{ path: 'storage.dataDir', message: expect.stringMatching(/"\$\{1X\}" is not an environment variable reference/) }]);
    expect(problems({ storage: { dataDir: './${DATA' } }, { DATA: 'x' })).toEqual([{ path: 'storage.dataDir', message: expect.stringMatching(/unterminated "\$\{"/) }]);
  });

  it('never substitutes keys', () => {
    expect(problems({ storage: { '${KEY}': './data' } }, { KEY: 'dataDir' })).toEqual([{ path: 'storage["${KEY}"]', message: expect.stringMatching(/^unknown option/) }]);
  });

  it('does not echo substituted values in messages', () => {
    const found = problems({ log: { level: '${LEVEL}' } }, { LEVEL: 'hunter2-secret' });
    expect(found).toEqual([{ path: 'log.level', message: expect.stringContaining('"${LEVEL}"') }]);
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });

  it('validates the substituted value', () => {
    expect(problems(routerAt('${RS1}'), { RS1: '198.51.100.1' })).toEqual([{ path: 'routers.names[0].address', message: expect.stringMatching(/outside routers\.allowedSources/) }]);
  });
});

describe('YAML syntax errors', () => {
  it.each([
    ['an unclosed flow sequence', 'routers:\n  allowedSources: [127.0.0.0/8\nlog: {}\n', 3, /Flow sequence/],
    ['a duplicate key', 'log:\n  level: info\n  level: debug\n', 3, /Map keys must be unique/],
    ['a tab indent', 'log:\n\tlevel: info\n', 2, /Tabs are not allowed/],
    ['an unclosed quote', 'storage:\n  dataDir: "./data\n', 3, /Missing closing "quote/],
    ['two documents', 'log: {}\n---\nstorage: {}\n', 2, /multiple documents/],
    ['bad indentation', 'listen:\n  bmp:\n    port: 1\n   host: ::\n', 4, /.+/],
  ])('%s', (_, text, line, message) => {
    const found = problems(text);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0].path).toBe('');
    expect(found[0].message).toMatch(new RegExp(`^YAML syntax error at line ${line}, column \\d+: `));
    expect(found[0].message).toMatch(message);
  });

  it('gives the exact line and column', () => {
    expect(problems('log:\n  level: info\n  level: debug\n')).toEqual([{ path: '', message: 'YAML syntax error at line 3, column 3: Map keys must be unique' }]);
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    const found = problems(lines.join('\n'));
    expect(found).toEqual([{ path: '', message: expect.stringMatching(/^YAML: .*alias/i) }]);
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bmpwatch-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'listen:\n  api:\n    port: ${API_PORT_IS_A_STRING}\nlog:\n  level: debug\n');
    expect(loadConfigFile(file, { API_PORT_IS_A_STRING: '1' })).toEqual({
      ok: false,
      problems: [{ path: 'listen.api.port', message: 'expected a number, got the string "${API_PORT_IS_A_STRING}" (write it without quotes)' }],
    });
    writeFileSync(file, 'log:\n  level: debug\n');
    const result = loadConfigFile(file, {});
    expect(result.ok && result.config.log.level).toBe('debug');
  });

  it('treats an empty file as all defaults', () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, '');
    expect(loadConfigFile(file, {})).toEqual({ ok: true, config: EXPECTED_DEFAULTS });
  });

  it('reports a missing file as a problem', () => {
    const file = join(dir, 'missing.yaml');
    expect(loadConfigFile(file, {})).toEqual({ ok: false, problems: [{ path: '', message: `cannot read ${file}: no such file` }] });
  });

  it('reports a directory as a problem', () => {
    expect(loadConfigFile(dir, {})).toEqual({ ok: false, problems: [{ path: '', message: `cannot read ${dir}: is a directory` }] });
  });
});
