/**
 * The topology of the e2e suite (test/e2e/topology.test.ts): an anycast pair of route servers in one network
 * namespace — GoBGP 3.10 at 100.64.0.1 and FRR 8.4 at 100.64.0.2, both AS 64500 — each exporting BMP to ONE
 * `bmpwatch serve` child on the host (through a relay per route server, from 127.0.77.1 = rs-frr and
 * 127.0.77.2 = rs-gobgp), which writes history and metrics to a test influxd and sends signed webhooks to a
 * receiver on 127.0.0.1. ExaBGP appliances in the namespace each peer with BOTH route servers from one address:
 *
 *   group      session range   type  AS     route servers                 allowed prefixes
 *   firewalls  100.64.1.0/24   ibgp  64500  FRR (TCP-MD5) + GoBGP (none)  10.128.0.0/17 29..32, 2001:db8:100::/48 64
 *   lbs        100.64.2.0/24   ebgp  65101  FRR (TCP-MD5) + GoBGP (none)  10.129.0.0/17 29..32, 2001:db8:200::/48 64
 *
 * TCP-MD5: FRR 8.4 installs the peer group's password as a key for each listen range, so every dynamic session to
 * FRR is signed (fw-badkey, with a wrong key, is refused and leaves no BMP trace). GoBGP 3.10 installs TCP-MD5 keys
 * per configured neighbour address only: a peer group's auth-password does not reach dynamic neighbours (shared
 * EXPORTERS.md; prefix keys for dynamic neighbours came with osrg/gobgp#2739, Nov 2023, after 3.10), so the GoBGP
 * sessions are unauthenticated.
 *
 * Filters: GoBGP's global import policy is the union of the two groups' ranges (GoBGP applies import policy
 * globally, not per dynamic-neighbour group). FRR's policy for the firewalls is deliberately LEAKY: it permits
 * 10.128.0.0/16 ge 29 (the group may only announce inside 10.128.0.0/17), so an out-of-range 10.128.200.0/29 from
 * a firewall is accepted by FRR and rejected by GoBGP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBmpwatchServe, type BmpwatchServe } from '../helpers/bmpwatch-serve.js';
import { startMultiAppliance, type MultiAppliance } from '../helpers/daemons/exabgp-multi.js';
import { startFrrInNamespace, type FrrNetns } from '../helpers/daemons/frr-netns.js';
import { startGobgpRouteServer, type GobgpRouteServer } from '../helpers/daemons/gobgp.js';
import { defaultRegistry, run, findExecutable } from '../helpers/daemons/process.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { Receiver } from '../unit/alerts/receiver.js';

export const RS_AS = 64500;
export const LB_AS = 65101;
export const GOBGP = { name: 'rs-gobgp', address: '100.64.0.1', bmpSource: '127.0.77.2' } as const;
export const FRR = { name: 'rs-frr', address: '100.64.0.2', bmpSource: '127.0.77.1' } as const;
export const MD5_KEY = 'e2e-md5-key';
export const DATABASE = 'bmpwatch_e2e';

export interface ApplianceSpec {
  readonly name: string;
  readonly group: 'firewalls' | 'lbs';
  readonly address: string;
  /** BGP identifier (kept when the appliance moves). */
  readonly bgpId: string;
  readonly routes: readonly string[];
}

export const APPLIANCES: readonly ApplianceSpec[] = [
  { name: 'fw-good', group: 'firewalls', address: '100.64.1.11', bgpId: '100.64.1.11', routes: ['10.128.1.0/29', '2001:db8:100:1::/64'] },
  { name: 'fw-leak', group: 'firewalls', address: '100.64.1.12', bgpId: '100.64.1.12', routes: ['10.128.2.0/29'] },
  { name: 'fw-flap', group: 'firewalls', address: '100.64.1.13', bgpId: '100.64.1.13', routes: ['10.128.3.0/29', '2001:db8:100:3::/64'] },
  { name: 'fw-move', group: 'firewalls', address: '100.64.1.14', bgpId: '100.64.1.14', routes: ['10.128.4.0/29', '2001:db8:100:4::/64'] },
  { name: 'lb-good', group: 'lbs', address: '100.64.2.21', bgpId: '100.64.2.21', routes: ['10.129.1.0/29', '2001:db8:200:1::/64'] },
  { name: 'lb-churn', group: 'lbs', address: '100.64.2.22', bgpId: '100.64.2.22', routes: ['10.129.2.0/29'] },
];

/** Peers with FRR only, with the wrong TCP-MD5 key: FRR must refuse it, and so it must leave no trace at all. */
export const BAD_KEY: ApplianceSpec = { name: 'fw-badkey', group: 'firewalls', address: '100.64.1.31', bgpId: '100.64.1.31', routes: ['10.128.31.0/29'] };

export const FIREWALL_RANGES = { ipv4: '10.128.0.0/17', ipv6: '2001:db8:100::/48' };
export const LB_RANGES = { ipv4: '10.129.0.0/17', ipv6: '2001:db8:200::/48' };

export interface Topology {
  readonly dir: string;
  readonly configPath: string;
  readonly secret: string;
  readonly influxd: Influxd;
  readonly receiver: Receiver;
  readonly serve: BmpwatchServe;
  readonly gobgp: GobgpRouteServer;
  readonly frr: FrrNetns;
  readonly appliances: Map<string, MultiAppliance>;
  /** Starts (or restarts, at a new address) an appliance; keeps its BGP identifier. */
  startAppliance(spec: ApplianceSpec, address?: string): Promise<MultiAppliance>;
  /** Starts BAD_KEY: one session, to FRR, with a wrong TCP-MD5 key. */
  startBadKeyAppliance(): Promise<MultiAppliance>;
  appliance(name: string): MultiAppliance;
  destroy(): Promise<void>;
}

export function configYaml(options: { dataDir: string; influxUrl: string; hookUrl: string; secret: string }): string {
  const appliances = [...APPLIANCES, BAD_KEY].map((a) => `  - { name: ${a.name}, group: ${a.group}, bgpId: ${a.bgpId} }`).join('\n');
  return `
listen:
  bmp: { host: 127.0.0.1, port: 0 }
  api: { host: 127.0.0.1, port: 0 }
log: { level: info }
routers:
  allowedSources: [127.0.0.0/8]
  names:
    - { name: ${FRR.name}, address: ${FRR.bmpSource}, cluster: lab }
    - { name: ${GOBGP.name}, address: ${GOBGP.bmpSource}, cluster: lab }
storage:
  dataDir: ${JSON.stringify(options.dataDir)}
  history: { flushIntervalMs: 100, routeEvents: appliances }
  influx:
    url: ${options.influxUrl}
    database: ${DATABASE}
    flushIntervalMs: 200
    metricsIntervalSeconds: 2
applianceGroups:
  - name: firewalls
    sessionRanges: [100.64.1.0/24]
    sessionType: ibgp
    asns: [${RS_AS}]
    allowPrivateAsns: true
    prefixes:
      ipv4: [{ prefix: ${FIREWALL_RANGES.ipv4}, minLength: 29, maxLength: 32 }]
      ipv6: [{ prefix: ${FIREWALL_RANGES.ipv6}, minLength: 64, maxLength: 64 }]
  - name: lbs
    sessionRanges: [100.64.2.0/24]
    sessionType: ebgp
    asns: [${LB_AS}]
    allowPrivateAsns: true
    prefixes:
      ipv4: [{ prefix: ${LB_RANGES.ipv4}, minLength: 29, maxLength: 32 }]
      ipv6: [{ prefix: ${LB_RANGES.ipv6}, minLength: 64, maxLength: 64 }]
appliances:
${appliances}
infrastructurePrefixes: [100.64.0.0/16]
rules:
  routeFlap: { halfLifeSeconds: 60, warningThreshold: 2500, criticalThreshold: 3500, clearThreshold: 2400 }
  sessionChurn: { halfLifeSeconds: 60, warningThreshold: 2500, clearThreshold: 2000, countThreshold: 3, countWindowSeconds: 30 }
  sessionDown: { holdSeconds: 30 }
  feedHealth: { lostGraceSeconds: 45, incidentWindowSeconds: 3 }
alerts:
  holdDownSeconds: 15
  evaluationIntervalSeconds: 1
  webhooks:
    - name: receiver
      url: ${options.hookUrl}
      format: bmpwatch
      secret: ${options.secret}
      filters: { severities: [info, warning, critical] }
`;
}

export async function startTopology(secret: string): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), 'bmpw-e2e-'));
  defaultRegistry.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const influxd = await startInfluxd();
  defaultRegistry.defer('stop influxd', () => influxd.destroy());
  const receiver = new Receiver();
  const hookUrl = await receiver.start();
  defaultRegistry.defer('stop the webhook receiver', () => receiver.stop());
  const configPath = join(dir, 'bmpwatch.yaml');
  writeFileSync(configPath, configYaml({ dataDir: join(dir, 'data'), influxUrl: influxd.url, hookUrl, secret }));
  const serve = await startBmpwatchServe({ configPath, dir });

  const gobgp = await startGobgpRouteServer({
    localAs: RS_AS,
    address: GOBGP.address,
    applianceSubnet: '100.64.1.0/24',
    importPolicy: {
      ipv4: [{ prefix: FIREWALL_RANGES.ipv4, ge: 29, le: 32 }, { prefix: LB_RANGES.ipv4, ge: 29, le: 32 }],
      ipv6: [{ prefix: FIREWALL_RANGES.ipv6, ge: 64, le: 64 }, { prefix: LB_RANGES.ipv6, ge: 64, le: 64 }],
    },
    bmp: { host: '127.0.0.1', port: serve.bmpPort, sourceAddress: GOBGP.bmpSource, routeMonitoringPolicy: 'all', sysName: GOBGP.name },
    extraToml: [
      '[[peer-groups]]',
      '  [peer-groups.config]',
      '    peer-group-name = "lbs"',
      `    peer-as = ${LB_AS}`,
      '  [[peer-groups.afi-safis]]',
      '    [peer-groups.afi-safis.config]',
      '      afi-safi-name = "ipv4-unicast"',
      '  [[peer-groups.afi-safis]]',
      '    [peer-groups.afi-safis.config]',
      '      afi-safi-name = "ipv6-unicast"',
      '',
      '[[dynamic-neighbors]]',
      '  [dynamic-neighbors.config]',
      '    prefix = "100.64.2.0/24"',
      '    peer-group = "lbs"',
    ].join('\n'),
  });
  // The EBGP appliances' subnet, local inside the namespace like the IBGP one the launcher set up.
  await run(findExecutable('ip'), ['-n', gobgp.namespace, 'addr', 'add', '100.64.2.1/24', 'dev', 'lo']);

  const frr = await startFrrInNamespace({
    namespace: gobgp.namespace,
    address: FRR.address,
    routerId: FRR.address,
    localAs: RS_AS,
    hostname: FRR.name,
    peerGroups: [
      {
        name: 'FIREWALLS',
        remoteAs: 'internal',
        listenRanges: ['100.64.1.0/24'],
        password: MD5_KEY,
        // LEAKY on purpose: /16 instead of the group's /17.
        importPolicy: { ipv4: [{ prefix: '10.128.0.0/16', ge: 29, le: 32 }], ipv6: [{ prefix: FIREWALL_RANGES.ipv6, ge: 64, le: 64 }] },
      },
      {
        name: 'LBS',
        remoteAs: 'external',
        listenRanges: ['100.64.2.0/24'],
        password: MD5_KEY,
        importPolicy: { ipv4: [{ prefix: LB_RANGES.ipv4, ge: 29, le: 32 }], ipv6: [{ prefix: LB_RANGES.ipv6, ge: 64, le: 64 }] },
      },
    ],
    bmp: [{ host: '127.0.0.1', port: serve.bmpPort, sourceAddress: FRR.bmpSource }],
  });

  const appliances = new Map<string, MultiAppliance>();
  const startAppliance = async (spec: ApplianceSpec, address = spec.address): Promise<MultiAppliance> => {
    const localAs = spec.group === 'lbs' ? LB_AS : RS_AS;
    const appliance = await startMultiAppliance({
      name: `${spec.name} ${address}`,
      localAddress: address,
      routerId: spec.bgpId,
      localAs,
      netns: gobgp.namespace,
      sessions: [
        { peerAddress: GOBGP.address, peerAs: RS_AS },
        { peerAddress: FRR.address, peerAs: RS_AS, md5Password: MD5_KEY },
      ],
    });
    appliances.set(spec.name, appliance);
    for (const prefix of spec.routes) await appliance.announce(prefix);
    return appliance;
  };
  const startBadKeyAppliance = async (): Promise<MultiAppliance> => {
    const appliance = await startMultiAppliance({
      name: `${BAD_KEY.name} ${BAD_KEY.address}`,
      localAddress: BAD_KEY.address,
      localAs: RS_AS,
      netns: gobgp.namespace,
      sessions: [{ peerAddress: FRR.address, peerAs: RS_AS, md5Password: `not-${MD5_KEY}` }],
    });
    appliances.set(BAD_KEY.name, appliance);
    for (const prefix of BAD_KEY.routes) await appliance.announce(prefix);
    return appliance;
  };
  return {
    dir,
    configPath,
    startBadKeyAppliance,
    secret,
    influxd,
    receiver,
    serve,
    gobgp,
    frr,
    appliances,
    startAppliance,
    appliance: (name) => {
      const a = appliances.get(name);
      if (!a) throw new Error(`no appliance ${name}`);
      return a;
    },
    destroy: () => defaultRegistry.runAll(),
  };
}
