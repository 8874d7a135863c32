/**
 * The topology suite (`npm run test:e2e`; `npm test` runs it too): an anycast pair of route servers, FRR 8.4 and
 * GoBGP 3.10, both exporting BMP to ONE `bmpwatch serve` child process (InfluxDB enabled, to a test influxd), and
 * ExaBGP appliances that each peer with both route servers — see ./topology.ts for addresses, groups, TCP-MD5 and
 * the deliberately leaky FRR filter.
 *
 * Timeline (each step waits until bmpwatch has seen it):
 *   1. every appliance comes up on both route servers (fw-badkey, with the wrong TCP-MD5 key, never gets in);
 *   2. fw-leak announces 10.128.200.0/29, outside the firewalls' 10.128.0.0/17: FRR's leaky filter accepts it,
 *      GoBGP rejects it (pre-policy only) → filter-gap/rs-frr|fw-leak|… and unexpected-prefix/fw-leak|… critical;
 *   3. fw-flap withdraws and re-announces 10.128.3.0/29 four times, 1 s apart → route-flap warning at the 3rd
 *      withdrawal (≈2930 ≥ 2500), critical at the 4th (≈3860 ≥ 3500); resolves when it decays below 2400
 *      (half-life 60 s: ≈40 s) plus the hold-down;
 *   4. lb-churn (EBGP) tears its sessions down 3 times (NOTIFICATION Cease; ExaBGP reconnects at once): GoBGP sends
 *      Peer Downs, FRR only new Peer Ups (implied Peer Downs); counted once per reset across route servers → 3 Peer
 *      Downs in 30 s → session-churn warning; resolves once the window is clear and the figure below 2000;
 *   5. fw-move moves from 100.64.1.14 to 100.64.1.24 with the same BGP identifier: no alert (one appliance, named by
 *      BGP identifier); FRR keeps the old session (no Peer Down for dynamic neighbours) until it restarts;
 *   6. FRR restarts while the leak is still announced: its BMP session closes and comes back with every session;
 *      filter-gap's condition is gone for less than the hold-down, so nothing is notified;
 *   7. fw-leak withdraws the leak → filter-gap and unexpected-prefix resolve after the hold-down;
 *   8. GoBGP restarts (it withdraws everything post-policy, then closes its BMP session): nothing is notified.
 * Then every alert resolves, bmpwatch stops gracefully, and the suite checks what reached the webhook receiver,
 * what `bmpwatch history APPLIANCE --json` prints for every appliance, and what is in InfluxDB.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerView, RouteView } from '../../src/api/views.js';
import { sleep, waitFor } from '../helpers/daemons/process.js';
import { signatureValid } from '../unit/alerts/receiver.js';
import { APPLIANCES, BAD_KEY, DATABASE, FRR, GOBGP, startTopology, type Topology } from './topology.js';

const LEAK = '10.128.200.0/29';
const FLAP = '10.128.3.0/29';
const MOVED_TO = '100.64.1.24';
const METRICS_INTERVAL_S = 2;
const address = (name: string): string => APPLIANCES.find((a) => a.name === name)?.address ?? '';

type Kind = 'firing' | 'escalated' | 'resolved' | 'repeat';

/** What must reach the receiver: fingerprint → the notifications' (kind severity) sequences allowed. */
const EXPECTED: Record<string, readonly (readonly string[])[]> = {
  // GoBGP's pre-policy copy (a warning on its own: "filtered as it should be") may arrive before FRR's accepted one.
  [`unexpected-prefix/fw-leak|${LEAK}`]: [
    ['firing critical', 'resolved critical'],
    ['firing warning', 'escalated critical', 'resolved critical'],
  ],
  [`filter-gap/rs-frr|fw-leak|${LEAK}`]: [['firing critical', 'resolved critical']],
  [`route-flap/fw-flap|${FLAP}`]: [['firing warning', 'escalated critical', 'resolved critical']],
  'session-churn/lb-churn': [['firing warning', 'resolved warning']],
};
const WELL_BEHAVED = ['fw-good', 'lb-good', 'fw-move'];

interface Notification {
  readonly id: string;
  readonly notification: Kind;
  readonly alert: {
    readonly fingerprint: string;
    readonly rule: string;
    readonly severity: string;
    readonly state: string;
    readonly appliance: string | null;
    readonly router: string | null;
    readonly routers: readonly string[];
    readonly peer: { readonly address: string } | null;
    readonly table: string | null;
    readonly details: Record<string, unknown>;
  };
}

interface HistoryLine {
  readonly time: string;
  readonly type: string;
  readonly router: string;
  readonly peer?: string;
  readonly table?: string;
  readonly prefix?: string;
  readonly detail?: string;
  readonly sync?: boolean;
  readonly asPath?: string;
  readonly fingerprint?: string;
}

let topo: Topology;
const started = Date.now();
const steps: { at: number; step: string }[] = [];
const history = new Map<string, HistoryLine[]>();
let stoppedAt = 0;
let badKeyHistory: { code: number | null; stderr: string } | undefined;
let influxWriter: { written: number; dropped: number; rejected: number; abandoned: number } | undefined;
const figures: Record<string, unknown> = {};

function step(text: string): void {
  steps.push({ at: Math.round((Date.now() - started) / 100) / 10, step: text });
}

function notifications(): Notification[] {
  return topo.receiver.requests.map((r) => JSON.parse(r.body) as Notification);
}

function sequences(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of notifications()) out.set(n.alert.fingerprint, [...(out.get(n.alert.fingerprint) ?? []), `${n.notification} ${n.alert.severity}`]);
  return out;
}

function describeReceived(): string {
  return `received:\n  ${notifications().map((n) => `${n.notification} ${n.alert.fingerprint} ${n.alert.severity}`).join('\n  ')}`;
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(check, { what, timeoutMs, intervalMs: 250, describe: describeReceived, logLines: 5 });
}

async function upSessions(router: string): Promise<string[]> {
  const peers = await topo.serve.get<PeerView[]>('/api/peers');
  return peers.filter((p) => p.router === router && !p.isLocal && p.state === 'up').map((p) => p.address).sort();
}

async function waitSessions(router: string, addresses: readonly string[], what: string): Promise<void> {
  const want = [...addresses].sort();
  let seen: string[] = [];
  await waitFor(async () => {
    seen = await upSessions(router);
    return JSON.stringify(seen) === JSON.stringify(want);
  }, { what: `${what}: ${router} sessions up ${want.join(' ')}`, timeoutMs: 90_000, intervalMs: 250, describe: () => `up now: ${seen.join(' ')}`, logLines: 5 });
}

async function routesOf(peer: string, router: string, table: string): Promise<string[]> {
  const routes = await topo.serve.get<RouteView[]>(`/api/routes?peer=${peer}&router=${router}&table=${table}`);
  return routes.map((r) => r.prefix);
}

const CURRENT = (): string[] => APPLIANCES.map((a) => (a.name === 'fw-move' ? MOVED_TO : a.address));

beforeAll(async () => {
  topo = await startTopology(`whsec_${randomBytes(32).toString('base64')}`);
  step('influxd, webhook receiver, bmpwatch serve, GoBGP and FRR (in one namespace) started');
}, 180_000);

afterAll(async () => {
  const total = Math.round((Date.now() - started) / 1000);
  const received = notifications();
  console.log(
    [
      `e2e topology: ${total} s`,
      ...steps.map((s) => `  +${s.at.toFixed(1)} s  ${s.step}`),
      `alerts expected: ${Object.keys(EXPECTED).length} (${Object.keys(EXPECTED).join(', ')})`,
      `alerts received: ${new Set(received.map((n) => n.alert.fingerprint)).size} fingerprints, ${received.length} notifications (${received.filter((n) => n.notification === 'resolved').length} resolves), ${topo?.receiver.requests.filter((r) => signatureValid(topo.secret, r)).length ?? 0} with a valid signature`,
      `figures: ${JSON.stringify(figures)}`,
    ].join('\n'),
  );
  await topo?.destroy();
}, 120_000);

describe('e2e: FRR + GoBGP anycast pair, ExaBGP appliances, one bmpwatch with InfluxDB and webhooks', () => {
  it('runs the timeline', async () => {
    // 1. Everyone comes up.
    await Promise.all(APPLIANCES.map((spec) => topo.startAppliance(spec)));
    await topo.startBadKeyAppliance();
    await Promise.all(APPLIANCES.map((spec) => topo.appliance(spec.name).waitEstablished()));
    await waitSessions(FRR.name, APPLIANCES.map((a) => a.address), 'appliances up');
    await waitSessions(GOBGP.name, APPLIANCES.map((a) => a.address), 'appliances up');
    await waitFor(async () => (await routesOf(address('lb-good'), FRR.name, 'adj-rib-in-post')).length === 2, { what: 'lb-good\'s routes post-policy on FRR' });
    step('6 appliances up on both route servers (12 sessions); fw-badkey (wrong TCP-MD5 key) kept out by FRR');
    await sleep(3_000);
    expect(notifications(), 'nothing while everyone behaves').toEqual([]);

    // 2. The leak.
    await topo.appliance('fw-leak').announce(LEAK);
    await until(() => ['firing critical', 'escalated critical'].some((k) => sequences().get(`unexpected-prefix/fw-leak|${LEAK}`)?.includes(k)) && sequences().has(`filter-gap/rs-frr|fw-leak|${LEAK}`), 'the leak\'s alerts');
    step(`fw-leak announces ${LEAK}: FRR accepts it (leaky filter), GoBGP rejects it`);

    // 3. The flap.
    const flap = topo.appliance('fw-flap');
    for (let i = 0; i < 4; i++) {
      await flap.withdraw(FLAP);
      await sleep(1_000);
      await flap.announce(FLAP);
      await sleep(1_000);
    }
    await until(() => sequences().get(`route-flap/fw-flap|${FLAP}`)?.includes('escalated critical') === true, 'route-flap critical');
    step(`fw-flap withdrew and re-announced ${FLAP} 4 times`);

    // 4. The churn.
    const churn = topo.appliance('lb-churn');
    for (let i = 0; i < 3; i++) {
      const before = [churn.upCount(GOBGP.address), churn.upCount(FRR.address)];
      await churn.teardown(2);
      await waitFor(() => churn.upCount(GOBGP.address) > before[0] && churn.upCount(FRR.address) > before[1], { what: `lb-churn back after teardown ${i + 1}`, timeoutMs: 30_000 });
      await sleep(1_000);
    }
    await until(() => sequences().has('session-churn/lb-churn'), 'session-churn');
    step('lb-churn tore its sessions down 3 times (Cease / Administrative Shutdown), reconnecting each time');

    // 5. The move.
    await topo.appliance('fw-move').stop();
    await topo.startAppliance(APPLIANCES.find((a) => a.name === 'fw-move') as (typeof APPLIANCES)[number], MOVED_TO);
    await topo.appliance('fw-move').waitEstablished();
    await waitSessions(GOBGP.name, CURRENT(), 'fw-move moved');
    // FRR still lists the old session: it sends no Peer Down for dynamic neighbours.
    await waitSessions(FRR.name, [...CURRENT(), address('fw-move')], 'fw-move moved');
    step(`fw-move moved from ${address('fw-move')} to ${MOVED_TO} (same BGP identifier)`);

    // 6. FRR restarts while the leak is announced.
    await topo.frr.restart();
    await waitSessions(FRR.name, CURRENT(), 'FRR restarted');
    await waitFor(async () => (await routesOf(address('fw-leak'), FRR.name, 'adj-rib-in-post')).includes(LEAK), { what: 'the leak accepted by the restarted FRR' });
    // The hold-down carried filter-gap over the restart: its condition went and came back, nothing was notified.
    const filterGap = (): unknown[] => topo.serve.logLines().filter((l) => l.event === 'alert' && l.fingerprint === `filter-gap/rs-frr|fw-leak|${LEAK}`).map((l) => l.change);
    await waitFor(() => filterGap().includes('unclearing'), { what: 'filter-gap back before its hold-down ended', timeoutMs: 10_000, describe: () => JSON.stringify(filterGap()) });
    expect(filterGap()).toEqual(['firing', 'clearing', 'unclearing']);
    step('FRR restarted (the leak still announced); every session and the leak back');

    // 7. The leak goes.
    await topo.appliance('fw-leak').withdraw(LEAK);
    for (const router of [FRR.name, GOBGP.name]) {
      await waitFor(async () => !(await routesOf(address('fw-leak'), router, 'adj-rib-in-pre')).includes(LEAK), { what: `the leak withdrawn on ${router}` });
    }
    step(`fw-leak withdraws ${LEAK}`);

    // 8. GoBGP restarts.
    await topo.gobgp.restart();
    await waitSessions(GOBGP.name, CURRENT(), 'GoBGP restarted');
    step('GoBGP restarted; every session back');

    await until(() => Object.keys(EXPECTED).every((fp) => sequences().get(fp)?.some((s) => s.startsWith('resolved'))), 'every alert resolved', 150_000);
    step('every alert resolved');
    // Anything else would have come by now (hold-down 15 s, evaluation every 1 s).
    await sleep(5_000);

    // Both restarts were seen as feeds that came back (notes, not alerts).
    const reconnected = topo.serve.logLines().filter((l) => l.event === 'rule-note' && l.kind === 'feed-reconnected').map((l) => (l.details as { router: string }).router);
    expect(reconnected.sort()).toEqual([FRR.name, GOBGP.name]);
    await topo.serve.stop();
    stoppedAt = Date.now();
    const stoppedLine = topo.serve.logLines().find((l) => l.msg === 'influx writer stopped, buffer flushed');
    influxWriter = stoppedLine as unknown as typeof influxWriter;
    step('bmpwatch stopped (SIGTERM: sinks drained)');
    for (const name of [...APPLIANCES.map((a) => a.name), BAD_KEY.name]) {
      const out = await topo.serve.cli(['history', name, '--json', '--config', topo.configPath, '--since', '1h', '--limit', '100000'], { allowFailure: true });
      history.set(name, out.code === 0 ? out.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as HistoryLine) : []);
      if (name === BAD_KEY.name) badKeyHistory = { code: out.code, stderr: out.stderr };
      else expect(out.code, `${name}: ${out.stderr}`).toBe(0);
    }
  }, 420_000);

  it('webhooks: exactly the expected alerts and resolves, every one signed, nothing for the well-behaved appliances', () => {
    const received = notifications();
    expect([...sequences().keys()].sort(), describeReceived()).toEqual(Object.keys(EXPECTED).sort());
    for (const [fingerprint, allowed] of Object.entries(EXPECTED)) {
      expect(allowed.map((a) => a.join(', ')), `${fingerprint}\n${describeReceived()}`).toContain(sequences().get(fingerprint)?.join(', '));
    }
    expect(topo.receiver.requests.every((r) => signatureValid(topo.secret, r)), 'Standard Webhooks signatures').toBe(true);
    expect(topo.receiver.requests.every((r) => r.headers['webhook-id'] === (JSON.parse(r.body) as Notification).id)).toBe(true);
    expect(new Set(received.map((n) => n.id)).size, 'no duplicate deliveries').toBe(received.length);
    const quiet = [...WELL_BEHAVED, BAD_KEY.name];
    const quietAddresses = [...quiet.map(address), MOVED_TO, BAD_KEY.address];
    expect(received.filter((n) => quiet.includes(n.alert.appliance ?? '') || quietAddresses.includes(n.alert.peer?.address ?? ''))).toEqual([]);

    const last = new Map(received.map((n) => [n.alert.fingerprint, n.alert]));
    // The filter gap is FRR's alone; GoBGP saw the leak pre-policy only.
    expect(last.get(`filter-gap/rs-frr|fw-leak|${LEAK}`)).toMatchObject({ router: FRR.name, table: 'adj-rib-in-post', details: { problems: ['out-of-range', 'bogon'] } });
    const firstLeak = received.find((n) => n.alert.fingerprint === `unexpected-prefix/fw-leak|${LEAK}` && n.alert.severity === 'critical');
    expect(firstLeak?.alert.details).toMatchObject({ acceptedBy: [FRR.name], problems: ['out-of-range', 'bogon'] });
    const flap = received.find((n) => n.alert.fingerprint === `route-flap/fw-flap|${FLAP}` && n.notification === 'escalated');
    expect(flap?.alert.details).toMatchObject({ withdrawals: 4 });
    expect(flap?.alert.routers).toEqual([FRR.name, GOBGP.name]);
    const churn = received.find((n) => n.alert.fingerprint === 'session-churn/lb-churn' && n.notification === 'firing');
    expect(churn?.alert.details.downsInWindow).toBe(3);
  });

  it('history: `bmpwatch history APPLIANCE --json` prints the key events of every appliance in order', () => {
    /** Per route server: sessions and the appliance's explicit (pre-policy) withdrawals, in order. */
    const keyEvents = (lines: readonly HistoryLine[], router: string): string[] =>
      lines
        .filter((l) => l.router === router)
        .flatMap((l) => {
          switch (l.type) {
            case 'router-up':
              return ['router-up'];
            case 'router-down':
              return [`router-down ${l.detail}`];
            case 'peer-up':
              return [`peer-up ${l.peer}${l.detail?.includes('reset') ? ' (reset)' : ''}`];
            case 'peer-down':
              return [`peer-down ${l.peer} ${l.detail?.split(';')[0]}`];
            case 'route-withdrawn':
              return l.table === 'adj-rib-in-pre' ? [`withdrawn ${l.prefix}`] : [];
            default:
              return [];
          }
        });
    const restart = ['router-down closed: router closed the connection', 'router-up'];
    /** bmpwatch's own graceful stop ends every BMP session too. */
    const stop = 'router-down shutdown: collector shutting down';
    const simple = (a: string): string[] => ['router-up', `peer-up ${a}`, ...restart, `peer-up ${a}`, stop];
    const flaps = Array.from({ length: 4 }, () => `withdrawn ${FLAP}`);
    const expected: Record<string, Record<string, string[]>> = {
      'fw-good': { [FRR.name]: simple(address('fw-good')), [GOBGP.name]: simple(address('fw-good')) },
      'lb-good': { [FRR.name]: simple(address('lb-good')), [GOBGP.name]: simple(address('lb-good')) },
      'fw-leak': {
        // FRR restarted before the withdrawal, GoBGP after it.
        [FRR.name]: ['router-up', `peer-up ${address('fw-leak')}`, ...restart, `peer-up ${address('fw-leak')}`, `withdrawn ${LEAK}`, stop],
        [GOBGP.name]: ['router-up', `peer-up ${address('fw-leak')}`, `withdrawn ${LEAK}`, ...restart, `peer-up ${address('fw-leak')}`, stop],
      },
      'fw-flap': {
        [FRR.name]: ['router-up', `peer-up ${address('fw-flap')}`, ...flaps, ...restart, `peer-up ${address('fw-flap')}`, stop],
        [GOBGP.name]: ['router-up', `peer-up ${address('fw-flap')}`, ...flaps, ...restart, `peer-up ${address('fw-flap')}`, stop],
      },
      'fw-move': {
        // No Peer Down from FRR for the old address (dynamic neighbour): the old session ends with FRR's restart.
        [FRR.name]: ['router-up', `peer-up ${address('fw-move')}`, `peer-up ${MOVED_TO}`, ...restart, `peer-up ${MOVED_TO}`, stop],
        [GOBGP.name]: ['router-up', `peer-up ${address('fw-move')}`, `peer-down ${address('fw-move')} remote system closed, no data`, `peer-up ${MOVED_TO}`, ...restart, `peer-up ${MOVED_TO}`, stop],
      },
      'lb-churn': {
        // FRR: each new session is a Peer Up while up (an implied Peer Down); GoBGP: Peer Down with the NOTIFICATION.
        [FRR.name]: ['router-up', `peer-up ${address('lb-churn')}`, ...Array.from({ length: 3 }, () => [`peer-down ${address('lb-churn')} session reset (Peer Up while up)`, `peer-up ${address('lb-churn')} (reset)`]).flat(), ...restart, `peer-up ${address('lb-churn')}`, stop],
        [GOBGP.name]: ['router-up', `peer-up ${address('lb-churn')}`, ...Array.from({ length: 3 }, () => [`peer-down ${address('lb-churn')} remote system closed, NOTIFICATION follows`, `peer-up ${address('lb-churn')}`]).flat(), ...restart, `peer-up ${address('lb-churn')}`, stop],
      },
    };
    for (const [name, perRouter] of Object.entries(expected)) {
      const lines = history.get(name) ?? [];
      for (const [router, events] of Object.entries(perRouter)) expect(keyEvents(lines, router), `${name} on ${router}`).toEqual(events);
      // Alert transitions in the history: the same as at the receiver (firing and escalated are alert-firing).
      const fromHistory = lines.filter((l) => l.type.startsWith('alert-')).map((l) => `${l.type} ${l.fingerprint}`);
      const fromReceiver = notifications()
        .filter((n) => n.alert.appliance === name)
        .map((n) => `${n.notification === 'resolved' ? 'alert-resolved' : 'alert-firing'} ${n.alert.fingerprint}`);
      expect(fromHistory.sort(), `${name}'s alert events`).toEqual(fromReceiver.sort());
      // Times are in order.
      expect(lines.map((l) => l.time), `${name}'s history in time order`).toEqual([...lines.map((l) => l.time)].sort());
    }
    // The leak: announced pre-policy to both route servers, accepted post-policy by FRR only.
    const leak = (history.get('fw-leak') ?? []).filter((l) => l.prefix === LEAK && l.type === 'route-announced').map((l) => `${l.router} ${l.table}`);
    expect([...new Set(leak)].sort()).toEqual([`${FRR.name} adj-rib-in-post`, `${FRR.name} adj-rib-in-pre`, `${GOBGP.name} adj-rib-in-pre`]);
    // The EBGP appliances' paths: their own AS; FRR's encoding puts its own AS in front (as-path leaves it out).
    const lbPaths = new Set((history.get('lb-good') ?? []).filter((l) => l.type === 'route-announced').map((l) => `${l.router} ${l.table} ${l.asPath}`));
    expect([...lbPaths].sort()).toEqual([`${FRR.name} adj-rib-in-post 64500 65101`, `${FRR.name} adj-rib-in-pre 64500 65101`, `${GOBGP.name} adj-rib-in-post 65101`, `${GOBGP.name} adj-rib-in-pre 65101`]);
    // fw-badkey never got a session: no trace at all, and the answer says it is configured but was never seen.
    expect(badKeyHistory?.code).toBe(1);
    expect(badKeyHistory?.stderr).toMatch(new RegExp(`appliance "${BAD_KEY.name}" is configured \\(.*\\) but had no BGP session in the history between `));
  });

  it('InfluxDB: bmp_events, bmp_peer and bmp_router per route server; every point written is stored', async () => {
    const db = { db: DATABASE };
    /** The first value per series, keyed by the GROUP BY tags in the order given ("" without GROUP BY). */
    const count = async (query: string): Promise<Map<string, number>> => {
      const groupBy = /GROUP BY (.*)$/.exec(query)?.[1].split(',').map((t) => t.trim().replace(/"/g, '')) ?? [];
      const out = new Map<string, number>();
      for (const series of (await topo.influxd.query(query, db))[0] ?? []) {
        const tags = groupBy.map((t) => series.tags?.[t] ?? '').join(' ');
        out.set(tags, Number(series.values?.[0]?.[1] ?? 0));
      }
      return out;
    };
    const events = await count('SELECT count("router_address") FROM "bmp_events" GROUP BY "router", "type"');
    figures.bmp_events = Object.fromEntries(events);
    for (const [router, downs] of [[FRR.name, 3], [GOBGP.name, 4]] as const) {
      // Two BMP sessions each (one restart; the second ended by bmpwatch's stop); 6 + 1 (moved) + 3 (churn) + 6 (after
      // the restart) Peer Ups; Peer Downs: FRR's 3 implied ones, GoBGP's 3 churn and 1 move.
      expect(events.get(`${router} router-up`), router).toBe(2);
      expect(events.get(`${router} router-down`), router).toBe(2);
      expect(events.get(`${router} peer-up`), router).toBe(16);
      expect(events.get(`${router} peer-down`), router).toBe(downs);
    }
    const preWithdrawals = await count('SELECT count("router_address") FROM "bmp_events" WHERE "type" = \'route-withdrawn\' AND "table" = \'adj-rib-in-pre\' GROUP BY "router"');
    expect(Object.fromEntries(preWithdrawals)).toEqual({ [FRR.name]: 5, [GOBGP.name]: 5 });
    const received = notifications();
    const alertEvents = [...events].filter(([k]) => k.includes(' alert-'));
    expect(alertEvents.filter(([k]) => k.endsWith('alert-firing')).reduce((s, [, v]) => s + v, 0)).toBe(received.filter((n) => n.notification !== 'resolved').length);
    expect(alertEvents.filter(([k]) => k.endsWith('alert-resolved')).reduce((s, [, v]) => s + v, 0)).toBe(received.filter((n) => n.notification === 'resolved').length);

    // bmp_peer: one series per session per route server; lb-churn's resets are FRR's Peer Ups while up.
    const peers = await count('SELECT count("up") FROM "bmp_peer" GROUP BY "router", "peer"');
    figures.bmp_peer = Object.fromEntries(peers);
    const sessions = [...APPLIANCES.map((a) => a.address), MOVED_TO].sort();
    expect([...peers.keys()].filter((k) => k.startsWith(`${FRR.name} `)).map((k) => k.split(' ')[1]).sort()).toEqual(sessions);
    expect([...peers.keys()].filter((k) => k.startsWith(`${GOBGP.name} `) && !k.endsWith(' 0.0.0.0')).map((k) => k.split(' ')[1]).sort()).toEqual(sessions);
    const resets = await count(`SELECT max("resets") FROM "bmp_peer" WHERE "peer" = '${address('lb-churn')}' GROUP BY "router"`);
    expect(Object.fromEntries(resets)).toEqual({ [FRR.name]: 3, [GOBGP.name]: 0 });

    // bmp_router: one point per router per interval while connected; the last one shows the final state.
    const routers = await count('SELECT count("up") FROM "bmp_router" GROUP BY "router"');
    figures.bmp_router = Object.fromEntries(routers);
    const firstUp = Math.min(...(history.get('fw-good') ?? []).filter((l) => l.type === 'router-up').map((l) => Date.parse(l.time)));
    const intervals = (stoppedAt - firstUp) / 1000 / METRICS_INTERVAL_S;
    for (const router of [FRR.name, GOBGP.name]) {
      expect(routers.get(router), router).toBeGreaterThanOrEqual(Math.floor(intervals * 0.6));
      expect(routers.get(router), router).toBeLessThanOrEqual(Math.ceil(intervals) + 2);
    }
    const lastPeersUp = await count('SELECT last("peers_up") FROM "bmp_router" GROUP BY "router"');
    expect(Object.fromEntries(lastPeersUp)).toEqual({ [FRR.name]: 6, [GOBGP.name]: 6 });

    // Points: what the writer reported written at shutdown is what InfluxDB holds.
    expect(influxWriter, 'the writer\'s shutdown summary').toBeDefined();
    let stored = 0;
    for (const [measurement, field] of [['bmp_router', 'up'], ['bmp_peer', 'up'], ['bmp_peer_prefixes', 'prefixes'], ['bmp_statistics', 'value'], ['bmp_events', 'router_address'], ['bmpwatch_collector', 'rss_bytes']]) {
      const n = [...(await count(`SELECT count("${field}") FROM "${measurement}"`)).values()].reduce((s, v) => s + v, 0);
      figures[`stored ${measurement}`] = n;
      stored += n;
    }
    figures.pointsWritten = influxWriter?.written;
    figures.pointsStored = stored;
    expect({ dropped: influxWriter?.dropped, rejected: influxWriter?.rejected, abandoned: influxWriter?.abandoned }).toEqual({ dropped: 0, rejected: 0, abandoned: 0 });
    expect(stored).toBe(influxWriter?.written);
  });
});
