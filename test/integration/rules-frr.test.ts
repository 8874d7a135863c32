/**
 * The rules end to end with a real route server: FRR 8.4 bgpd (dynamic neighbours from 127.0.52.0/24, the
 * appliance import filter 10.128.0.0/16 ge 29 le 32 and 2001:db8:100::/48 ge 64 le 64, soft-reconfiguration
 * inbound, BMP pre- and post-policy with Statistics Reports every 2 s) → bmpwatch (the whole App in-process:
 * rules, alert lifecycle, SQLite store, webhooks) → a real webhook receiver on 127.0.0.1 that checks every Standard
 * Webhooks signature.
 *
 * Appliances (ExaBGP, IBGP AS 64496, group "firewalls" = sessions from 127.0.52.0/25):
 *   fw-good    127.0.52.11  in-range /29s and a /64 with its own next hop: must raise NOTHING
 *   fw-leak    127.0.52.12  out of range 10.200.0.0/24, too short 10.128.2.0/24, default 0.0.0.0/0
 *   fw-nexthop 127.0.52.13  10.128.3.0/29 with next hop 127.0.52.99 (not its own address)
 *   fw-flap    127.0.52.14  10.128.4.0/29 withdrawn and re-announced 4 times in a few seconds
 *   fw-churn   127.0.52.15  its BGP process restarted 3 times (new session each time)
 *   stranger   127.0.52.200 inside FRR's listen range, outside every appliance group's sessionRanges
 *
 * What FRR does, and so which alerts are right (docs/RULES.md, shared EXPORTERS.md):
 * - fw-leak's three prefixes are all rejected by the import filter. FRR exports a rejected prefix pre-policy as a
 *   *withdrawal* unless some path for it is in its Loc-RIB: the default route and 10.128.2.0/24 never reach bmpwatch
 *   (no unexpected-prefix alert can exist for them), while 10.200.0.0/24 is also the route server's own `network`,
 *   so FRR exports fw-leak's copy pre-policy: unexpected-prefix at *warning* ("filtered as it should be"), and no
 *   filter-gap. All three raise the route server's "rejected by inbound policy" statistic: one rejected-spike.
 * - fw-nexthop's prefix passes the prefix filter (FRR's route-map does not check next hops): it is accepted
 *   post-policy, so next-hop is *critical*.
 * - fw-flap: 4 withdrawals a few hundred ms apart (each seen pre- and post-policy, counted once) reach ≈3970 with
 *   the documented penalty 1000 and warning threshold 3000 (3 reach only ≈2980): route-flap warning.
 * - fw-churn: FRR sends no Peer Down for dynamic neighbours; each new session is a Peer Up while up, an implied
 *   Peer Down; 3 of them within countWindowSeconds is session-churn (warning). No session-down (never a real Peer
 *   Down), no rs-incident (the other peers stay up).
 * - stranger: unexpected-peer (warning). Its session ending leaves no BMP trace but its absence from the
 *   Statistics Reports, which resolves the alert.
 * Then the causes go away (fw-leak withdraws, fw-nexthop re-announces with its own next hop, the stranger leaves,
 * flapping and restarts stop) and every alert resolves, with one exception measured here: FRR exports nothing when
 * an appliance withdraws a prefix its import policy had rejected (bgpd has no path to withdraw, so its BMP hook is
 * never called), so the collector keeps fw-leak's pre-policy 10.200.0.0/24 and the unexpected-prefix alert stays
 * until fw-leak's next session (a Peer Up while up) flushes it. Short half-lives, clear thresholds, windows and
 * hold-down in the config keep this around a minute.
 *
 * With BMPWATCH_RECORD_DEMO=1 the BMP bytes FRR sent (recorded by a tee between FRR and bmpwatch) are written to
 * demo/captures/ for `bmpwatch demo` (see demo/README.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BmpMessage } from '../../src/bmp/types.js';
import { AppUnderTest } from '../helpers/app-under-test.js';
import { startBmpRecorder, type BmpRecorder } from '../helpers/bmp-recorder.js';
import { startExabgpAppliance, type ExabgpAppliance, type ExabgpApplianceOptions } from '../helpers/daemons/exabgp.js';
import { startFrrRouteServer, type FrrRouteServer } from '../helpers/daemons/frr.js';
import { defaultRegistry, findExecutable, run, sleep, waitFor } from '../helpers/daemons/process.js';
import { Receiver, signatureValid, type Received } from '../unit/alerts/receiver.js';

const RS_ADDRESS = '127.0.51.1';
const AS = 64496;
const GOOD = '127.0.52.11';
const LEAK = '127.0.52.12';
const NEXTHOP = '127.0.52.13';
const FLAP = '127.0.52.14';
const CHURN = '127.0.52.15';
const STRANGER = '127.0.52.200';
const WRONG_NEXT_HOP = '127.0.52.99';
const RS_NETWORK = '10.200.0.0/24';
const LEAKED = [RS_NETWORK, '10.128.2.0/24', '0.0.0.0/0'];
const FLAPPING = '10.128.4.0/29';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** fingerprint → severity: exactly what must reach the receiver (see the header). */
const EXPECTED: Record<string, string> = {
  [`unexpected-prefix/fw-leak|${RS_NETWORK}`]: 'warning',
  [`rejected-spike/rs1|${LEAK}`]: 'warning',
  ['next-hop/fw-nexthop|10.128.3.0/29']: 'critical',
  [`route-flap/fw-flap|${FLAPPING}`]: 'warning',
  ['session-churn/fw-churn']: 'warning',
  [`unexpected-peer/${STRANGER}`]: 'warning',
};

const RECORD = process.env.BMPWATCH_RECORD_DEMO === '1';
const DEMO_CAPTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../demo/captures');

function configYaml(dataDir: string, hookUrl: string): string[] {
  return `
storage:
  dataDir: ${JSON.stringify(dataDir)}
  history: { flushIntervalMs: 50 }
applianceGroups:
  - name: firewalls
    sessionRanges: [127.0.52.0/25]
    sessionType: ibgp
    asns: [${AS}]
    prefixes:
      ipv4: [{ prefix: 10.128.0.0/16, minLength: 29, maxLength: 32 }]
      ipv6: [{ prefix: 2001:db8:100::/48, minLength: 64, maxLength: 64 }]
appliances:
  - { name: fw-good, group: firewalls, addresses: [${GOOD}] }
  - { name: fw-leak, group: firewalls, addresses: [${LEAK}] }
  - { name: fw-nexthop, group: firewalls, addresses: [${NEXTHOP}] }
  - { name: fw-flap, group: firewalls, addresses: [${FLAP}] }
  - { name: fw-churn, group: firewalls, addresses: [${CHURN}] }
rules:
  routeFlap: { halfLifeSeconds: 60, clearThreshold: 2900 }
  sessionChurn: { halfLifeSeconds: 60, clearThreshold: 2500, countWindowSeconds: 20 }
  feedHealth: { statsIntervalSeconds: 2, statsIntervalFactor: 5, rejectedPrefixesWindowSeconds: 20, incidentWindowSeconds: 1 }
alerts:
  holdDownSeconds: 1
  evaluationIntervalSeconds: 1
  webhooks:
    - name: receiver
      url: ${hookUrl}
      format: bmpwatch
      secret: ${SECRET}
`.trim().split('\n');
}

interface Notification {
  readonly id: string;
  readonly notification: string;
  readonly alert: { fingerprint: string; rule: string; severity: string; state: string; appliance: string | null; peer: { address: string } | null; prefix: string | null; table: string | null; details: Record<string, unknown>; endsAt: string | null };
}

const parse = (request: Received): Notification => JSON.parse(request.body) as Notification;

let receiver: Receiver;
let collector: AppUnderTest;
let recorder: BmpRecorder;
let rs: FrrRouteServer;
let dataDir: string;
const appliances = new Map<string, ExabgpAppliance>();
/** Scenario steps, for the recording's provenance: seconds since the BMP session opened. */
const steps: { at: number; step: string }[] = [];

function step(text: string): void {
  const opened = recorder.connections[0]?.openedAt ?? Date.now();
  steps.push({ at: Math.round((Date.now() - opened) / 100) / 10, step: text });
}

function bmp(): BmpMessage[] {
  return recorder.messages().map((m) => m.message);
}

const peerUps = (address: string): number => bmp().filter((m) => m.type === 'peer-up' && m.peer.address === address).length;

function notifications(): Notification[] {
  return receiver.requests.map(parse);
}

function fingerprints(kind: string): string[] {
  return [...new Set(notifications().filter((n) => n.notification === kind).map((n) => n.alert.fingerprint))].sort();
}

function describeReceived(): string {
  return `received: ${JSON.stringify(notifications().map((n) => `${n.notification} ${n.alert.fingerprint} ${n.alert.severity}`))}`;
}

function applianceOptions(localAddress: string, extra: Partial<ExabgpApplianceOptions> = {}): ExabgpApplianceOptions {
  return { localAddress, peerAddress: RS_ADDRESS, peerPort: rs.port, localAs: AS, families: ['ipv4'], name: `exabgp ${localAddress}`, ...extra };
}

async function startAppliance(localAddress: string, extra: Partial<ExabgpApplianceOptions> = {}): Promise<ExabgpAppliance> {
  const appliance = await startExabgpAppliance(applianceOptions(localAddress, extra));
  appliances.set(localAddress, appliance);
  return appliance;
}

function get(address: string): ExabgpAppliance {
  const appliance = appliances.get(address);
  if (!appliance) throw new Error(`no appliance ${address}`);
  return appliance;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'bmpw-rules-frr-'));
  receiver = new Receiver();
  const hookUrl = await receiver.start();
  collector = await AppUnderTest.start({ storage: true, extraYaml: configYaml(dataDir, hookUrl) });
  recorder = await startBmpRecorder({ forwardTo: { host: '127.0.0.1', port: collector.bmpPort } });
  rs = await startFrrRouteServer({
    routerId: '192.0.2.51',
    localAs: AS,
    hostname: 'rs1',
    listenAddresses: [RS_ADDRESS],
    listenRange: '127.0.52.0/24',
    networks: [RS_NETWORK],
    bmp: { host: '127.0.0.1', port: recorder.port, statsIntervalMs: 2000 },
  });
  await waitFor(() => recorder.connections.length > 0, { what: 'FRR to open its BMP session', timeoutMs: 10_000 });
  step('rs1 (FRR) started: listen range 127.0.52.0/24, import filter 10.128.0.0/16 ge 29 le 32; BMP session open');
  await Promise.all([
    startAppliance(GOOD, { families: ['ipv4', 'ipv6'], routes: ['10.128.1.0/29', '10.128.1.8/29', '2001:db8:100:1::/64'] }),
    startAppliance(LEAK),
    startAppliance(NEXTHOP, { routes: [{ prefix: '10.128.3.0/29', nextHop: WRONG_NEXT_HOP }] }),
    startAppliance(FLAP, { routes: [FLAPPING] }),
    startAppliance(CHURN, { routes: ['10.128.5.0/29'] }),
    startAppliance(STRANGER, { routes: ['10.128.99.0/29'] }),
  ]);
  await Promise.all([...appliances.values()].map((a) => a.waitEstablished()));
  await waitFor(() => [GOOD, LEAK, NEXTHOP, FLAP, CHURN, STRANGER].every((a) => peerUps(a) === 1), { what: 'a Peer Up for every appliance', timeoutMs: 15_000, logsFrom: [rs.process] });
  step('fw-good, fw-leak, fw-nexthop (next hop 127.0.52.99), fw-flap, fw-churn and a stranger (127.0.52.200) connect');
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  await receiver?.stop();
  if (RECORD && recorder?.connections.length) await writeRecording();
  await defaultRegistry.runAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('rules with FRR 8.4 as route server and ExaBGP appliances → signed webhooks', () => {
  it('raises exactly the expected alerts, signed, and nothing for the well-behaved appliance', async () => {
    // rejected-spike needs a baseline: the leaking appliance's first Statistics Report, before it misbehaves.
    await waitFor(() => bmp().some((m) => m.type === 'statistics-report' && m.peer.address === LEAK), { what: 'a Statistics Report for fw-leak', timeoutMs: 10_000 });

    step(`fw-leak announces ${RS_NETWORK} (also rs1's own network), 10.128.2.0/24 and 0.0.0.0/0: rs1's filter rejects them`);
    for (const prefix of LEAKED) await get(LEAK).announce(prefix);

    step(`fw-flap withdraws and re-announces ${FLAPPING} 4 times`);
    for (let i = 0; i < 4; i++) {
      await get(FLAP).withdraw(FLAPPING);
      await sleep(150);
      await get(FLAP).announce(FLAPPING);
      await sleep(150);
    }

    step("fw-churn's BGP process restarts 3 times (FRR: a new Peer Up each time, no Peer Down)");
    for (let i = 1; i <= 3; i++) {
      await get(CHURN).stop();
      await startAppliance(CHURN, { routes: ['10.128.5.0/29'] });
      await get(CHURN).waitEstablished();
      await waitFor(() => peerUps(CHURN) === i + 1, { what: `fw-churn's Peer Up number ${i + 1}`, timeoutMs: 10_000, logsFrom: [rs.process] });
    }

    await waitFor(() => Object.keys(EXPECTED).every((fp) => fingerprints('firing').includes(fp)), {
      what: 'every expected alert at the receiver',
      timeoutMs: 20_000,
      describe: describeReceived,
    });
    // Anything else would have come by now: the rules see each event at once, churn after the 1 s incident window.
    await sleep(3_000);

    const received = notifications();
    expect(fingerprints('firing')).toEqual(Object.keys(EXPECTED).sort());
    expect(received.every((n) => n.notification === 'firing')).toBe(true);
    for (const n of received) expect(n.alert.severity, n.alert.fingerprint).toBe(EXPECTED[n.alert.fingerprint]);
    expect(receiver.requests.every((r) => signatureValid(SECRET, r))).toBe(true);
    expect(receiver.requests.every((r) => r.headers['webhook-id'] === parse(r).id)).toBe(true);
    // Nothing about the well-behaved appliance, in any alert.
    expect(received.filter((n) => n.alert.appliance === 'fw-good' || n.alert.peer?.address === GOOD)).toEqual([]);

    const byFingerprint = new Map(received.map((n) => [n.alert.fingerprint, n.alert]));
    // Filtered as it should be: seen pre-policy only, accepted by no route server.
    expect(byFingerprint.get(`unexpected-prefix/fw-leak|${RS_NETWORK}`)).toMatchObject({ table: 'adj-rib-in-pre', details: { acceptedBy: [], problems: ['out-of-range', 'bogon'] } });
    // Accepted: FRR's prefix filter does not look at next hops.
    expect(byFingerprint.get('next-hop/fw-nexthop|10.128.3.0/29')).toMatchObject({ table: 'adj-rib-in-post', details: { nextHop: WRONG_NEXT_HOP, sessionAddress: NEXTHOP } });
    expect(byFingerprint.get(`route-flap/fw-flap|${FLAPPING}`)?.details).toMatchObject({ withdrawals: 4 });
    const churn = byFingerprint.get('session-churn/fw-churn');
    expect(churn?.details.downsInWindow).toBe(3);
    expect((churn?.details.downs as { implied: boolean }[]).every((d) => d.implied)).toBe(true);
    expect(byFingerprint.get(`unexpected-peer/${STRANGER}`)?.details).toMatchObject({ reason: 'outside-ranges' });
  }, 60_000);

  it('resolves every alert when its cause goes away', async () => {
    step('fw-leak withdraws its prefixes (FRR exports nothing for them), fw-nexthop re-announces with its own next hop, the stranger disconnects');
    for (const prefix of LEAKED) await get(LEAK).withdraw(prefix);
    await get(NEXTHOP).announce('10.128.3.0/29');
    await get(STRANGER).stop();

    const ghost = `unexpected-prefix/fw-leak|${RS_NETWORK}`;
    await waitFor(() => Object.keys(EXPECTED).every((fp) => fp === ghost || fingerprints('resolved').includes(fp)), {
      what: 'every alert but the pre-policy one resolved at the receiver',
      timeoutMs: 45_000,
      intervalMs: 500,
      describe: describeReceived,
    });

    // FRR has dropped fw-leak's copy of 10.200.0.0/24 from its Adj-RIB-In, but exported nothing: a withdrawal of a
    // prefix the import policy had rejected never reaches bgpd's BMP hook (no path to withdraw). The collector still
    // holds it pre-policy, so the alert stays (docs/RULES.md: it resolves when the route is gone everywhere).
    const adjRibIn = await rs.vtysh(`show bgp ipv4 unicast neighbors ${LEAK} received-routes`);
    expect(adjRibIn).not.toContain(RS_NETWORK);
    expect(fingerprints('resolved')).not.toContain(ghost);
    expect((await collector.routes(LEAK)).map((r) => `${r.table} ${r.prefix}`)).toEqual([`adj-rib-in-pre ${RS_NETWORK}`]);

    // The next session of fw-leak (FRR: a Peer Up while up) flushes what the old one had: now it is gone.
    step('fw-leak restarts without the prefixes (its new session replaces the old one and its routes)');
    await get(LEAK).stop();
    await startAppliance(LEAK);
    await get(LEAK).waitEstablished();
    await waitFor(() => fingerprints('resolved').includes(ghost), { what: `${ghost} resolved`, timeoutMs: 15_000, describe: describeReceived });

    const all = notifications();
    expect(fingerprints('resolved')).toEqual(Object.keys(EXPECTED).sort());
    // One firing and one resolve per alert: nothing re-fired, nothing else arrived, every request signed.
    expect(all.map((n) => `${n.notification} ${n.alert.fingerprint}`).sort()).toEqual(
      Object.keys(EXPECTED).flatMap((fp) => [`firing ${fp}`, `resolved ${fp}`]).sort(),
    );
    expect(new Set(all.map((n) => n.id)).size).toBe(all.length);
    expect(receiver.requests.every((r) => signatureValid(SECRET, r))).toBe(true);
    for (const n of all.filter((r) => r.notification === 'resolved')) {
      expect(n.alert.state).toBe('resolved');
      expect(n.alert.endsAt).not.toBeNull();
    }
  }, 60_000);
});

/** demo/captures/rs1.bmp and its provenance (BMPWATCH_RECORD_DEMO=1). */
async function writeRecording(): Promise<void> {
  const bytes = recorder.bytes(0);
  const messages = recorder.messages().filter((m) => m.connection === 0).map((m) => m.message);
  const counts: Record<string, number> = {};
  for (const m of messages) counts[m.type] = (counts[m.type] ?? 0) + 1;
  const initiation = messages.find((m) => m.type === 'initiation');
  const version = await run(findExecutable('exabgp'), ['--version'], { allowFailure: true });
  const exabgp = version.stdout.split('\n').find((line) => line.startsWith('ExaBGP'))?.replace(/\s*:\s*/, ' ').trim();
  mkdirSync(DEMO_CAPTURES, { recursive: true });
  writeFileSync(join(DEMO_CAPTURES, 'rs1.bmp'), bytes);
  const connection = recorder.connections[0];
  const meta = {
    file: 'rs1.bmp',
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    recordedAt: new Date(connection.openedAt).toISOString(),
    durationSeconds: Math.round(((connection.closedAt ?? Date.now()) - connection.openedAt) / 100) / 10,
    exporter: initiation?.type === 'initiation' ? { sysDescr: initiation.sysDescr, sysName: initiation.sysName } : {},
    appliances: exabgp ?? 'ExaBGP',
    host: `Linux ${release()}`,
    recordedBy: 'test/integration/rules-frr.test.ts with BMPWATCH_RECORD_DEMO=1',
    messages: counts,
    scenario: steps,
  };
  writeFileSync(join(DEMO_CAPTURES, 'rs1.meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}
