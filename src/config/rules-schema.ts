/**
 * The `rules:` and `alerts:` sections of the configuration: every rule parameter and alerting option, its default
 * and its limits. src/config/schema.ts mounts both (`rules: rulesSchema.prefault({})`, `alerts:
 * alertsSchema.prefault({})`); this file imports nothing from it, so there is no import cycle.
 *
 * docs/RULES.md explains what each rule does with these parameters; config/bmpwatch.example.yaml shows every key
 * with its default. Per-group overrides (`rules.groups[]`) name an applianceGroups[].name; `rulesConfigProblems`
 * checks those names against the groups (the schema of this section cannot see them).
 */
import { z } from 'zod';
import { formatCidr, parseCidr } from './cidr.js';

// ---------------------------------------------------------------------------------------------------------------
// Defaults and limits
// ---------------------------------------------------------------------------------------------------------------

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Every rule id, as used in fingerprints, filters, silences and `rules.groups[].disable`. */
export const RULE_IDS = [
  'unexpected-prefix',
  'filter-gap',
  'next-hop',
  'as-path',
  'too-many-prefixes',
  'prefix-conflict',
  'route-flap',
  'session-churn',
  'session-down',
  'unexpected-peer',
  'feed-lost',
  'stats-missing',
  'rejected-spike',
  'rs-incident',
] as const;
export type RuleId = (typeof RULE_IDS)[number];
/** Alerts bmpwatch raises about itself: a rule that throws, a webhook that cannot be reached. */
export const META_RULE_IDS = ['rule-error', 'webhook-delivery'] as const;
export type MetaRuleId = (typeof META_RULE_IDS)[number];

/** A day: no rule window or hold time needs to be longer, and longer ones would keep state for too long. */
const DAY_SECONDS = 86_400;

/** RFC 2439 / vendor scale (Cisco, Juniper, FRR): a withdrawal costs 1000 "figure of merit" points. */
export const DEFAULT_WITHDRAWAL_PENALTY = 1000;
/** Cisco/FRR: an attribute change costs half a withdrawal. */
export const DEFAULT_ATTRIBUTE_CHANGE_PENALTY = 500;
/** Cisco/FRR charge nothing for a re-advertisement (Juniper charges 1000): the withdrawal already counted. */
export const DEFAULT_READVERTISEMENT_PENALTY = 0;
/** Every vendor's default half-life: 15 minutes. */
export const DEFAULT_HALF_LIFE_SECONDS = 900;
/** Juniper's suppress threshold: 3 withdrawals in quick succession. */
export const DEFAULT_WARNING_THRESHOLD = 3000;
/** RFC 7196 / RIPE-580: operators should not suppress below 6000; what would be damped is critical. */
export const DEFAULT_CRITICAL_THRESHOLD = 6000;
/** The vendors' reuse threshold: below it a damped route would be used again. */
export const DEFAULT_CLEAR_THRESHOLD = 750;
/** Cisco/FRR ceiling: 750 × 2^(60 min / 15 min) = 12000; keeps an old storm from taking hours to decay. */
export const DEFAULT_MAX_PENALTY = 12_000;
/** Upper bound for penalties: RFC 7196 wants the maximum raisable to at least 50000. */
const MAX_PENALTY_LIMIT = 1_000_000;
/** The same withdrawal reaches us from every route server within a few seconds; count it once. */
export const DEFAULT_FLAP_DEDUPE_WINDOW_SECONDS = 10;
/** FRR reports a dynamic neighbour's reset only when the new session comes up, at different times per RS. */
export const DEFAULT_CHURN_DEDUPE_WINDOW_SECONDS = 30;
/** VMware NPM counts 3 session flaps in a window as flapping; 10 minutes catches slow restart loops too. */
export const DEFAULT_CHURN_COUNT_THRESHOLD = 3;
export const DEFAULT_CHURN_COUNT_WINDOW_SECONDS = 600;
/** RFC 4271's suggested hold time: an appliance down for longer than a BGP session takes to notice it. */
export const DEFAULT_SESSION_DOWN_HOLD_SECONDS = 90;
/** How long a prefix may be announced by two appliances before it is a conflict rather than a move. */
export const DEFAULT_MOVE_WINDOW_SECONDS = 60;
/** A route server that reconnects within a minute (restart, upgrade) is an event, not an outage. */
export const DEFAULT_FEED_LOST_GRACE_SECONDS = 60;
/** "No statistics report for twice its interval" (issue 5). */
export const DEFAULT_STATS_INTERVAL_FACTOR = 2;
/** One rejected prefix is already a policy violation worth a look (RULES-REFERENCE §1.6: X = 1). */
export const DEFAULT_REJECTED_THRESHOLD = 1;
export const DEFAULT_REJECTED_WINDOW_SECONDS = 300;
/** Peer Downs of every peer within 10 seconds are one event on the route server, not appliance failures. */
export const DEFAULT_INCIDENT_WINDOW_SECONDS = 10;
/** With a single peer, "every peer down" says nothing about the route server. */
export const DEFAULT_INCIDENT_MIN_PEERS = 2;
/** A thrown rule stays reported until it has run this long without throwing. */
export const DEFAULT_RULE_ERROR_CLEAR_SECONDS = 600;

/** Longer than a BGP session takes to come back (hold time 90 s), so a reset does not resolve and re-fire. */
export const DEFAULT_HOLD_DOWN_SECONDS = 120;
/** Alertmanager's default repeat_interval: 4 hours. */
export const DEFAULT_REPEAT_INTERVAL_SECONDS = 14_400;
/** After a restart, restored alerts must be seen again within this long (the default initial-dump timeout). */
export const DEFAULT_RESTORE_GRACE_SECONDS = 600;
/** Resolved alerts stay listable (`bmpwatch alerts --state resolved`) for a week. */
export const DEFAULT_RESOLVED_RETENTION_SECONDS = 7 * DAY_SECONDS;
/** Time-based conditions (hold-downs, stale feeds, decaying penalties) are checked this often. */
export const DEFAULT_EVALUATION_INTERVAL_SECONDS = 5;

/** Svix and Standard Webhooks: a receiver must answer within about 15 s; 10 s leaves room for retries. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** 8 attempts with the default backoff span about 10 minutes, long enough for a receiver restart. */
export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 8;
export const DEFAULT_INITIAL_BACKOFF_MS = 1_000;
export const DEFAULT_MAX_BACKOFF_MS = 300_000;
/** A Retry-After longer than an hour is ignored in favour of this (a broken receiver must not park alerts for days). */
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 3_600;
/** Parallel requests over all targets: enough for a few slow receivers, few enough not to hammer any. */
export const DEFAULT_DELIVERY_CONCURRENCY = 4;
/** Bounded queue (STYLE: bounded sinks): beyond it new deliveries are dropped, counted and logged. */
export const DEFAULT_MAX_QUEUED_DELIVERIES = 10_000;

export const WEBHOOK_FORMATS = ['bmpwatch', 'alertmanager', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Standard Webhooks: "whsec_" and the base64 key; keys between 24 and 64 bytes. */
const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const WEBHOOK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/i;
const MAX_NAME_LENGTH = 63;

// ---------------------------------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------------------------------

function integer(min: number, max: number) {
  return z.number().int().min(min).max(max);
}

const seconds = (min: number, max = DAY_SECONDS) => integer(min, max);
const penalty = integer(0, MAX_PENALTY_LIMIT);
const severity = z.enum(SEVERITIES);

/** A CIDR prefix, output in canonical text (as in schema.ts, which this file cannot import). */
const cidrText = z.string().transform((text, ctx) => {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') {
    ctx.issues.push({ code: 'custom', message: cidr, input: text });
    return z.NEVER;
  }
  return formatCidr(cidr);
});

const asnNumber = integer(1, 4_294_967_295);

// The fields of each group-overridable section, without defaults: used with defaults at the top level and as
// optional overrides in rules.groups[].

const unexpectedPrefixFields = {
  allowDefaultRoute: z.boolean(),
  checkBogons: z.boolean(),
};
const nextHopFields = { reportUnverifiable: z.boolean() };
const asPathFields = {
  ebgpMaxLength: integer(1, 64),
  extraAllowedAsns: z.array(asnNumber),
  allowAsSets: z.boolean(),
};
const prefixConflictFields = { moveWindowSeconds: seconds(0, 3_600), severity };
const flapFields = {
  withdrawalPenalty: penalty,
  attributeChangePenalty: penalty,
  readvertisementPenalty: penalty,
  halfLifeSeconds: seconds(60, 45 * 60 * 4),
  warningThreshold: penalty.min(1),
  criticalThreshold: penalty.min(1),
  clearThreshold: penalty,
  maxPenalty: penalty.min(1),
  dedupeWindowSeconds: seconds(0, 300),
};
const churnFields = {
  penalty: penalty,
  halfLifeSeconds: seconds(60, 45 * 60 * 4),
  warningThreshold: penalty.min(1),
  criticalThreshold: penalty.min(1),
  clearThreshold: penalty,
  maxPenalty: penalty.min(1),
  countThreshold: integer(1, 1_000),
  countWindowSeconds: seconds(1),
  dedupeWindowSeconds: seconds(0, 600),
};
const sessionDownFields = { holdSeconds: seconds(0), minRouteServers: integer(1, 1_000), severity };

/** Scoring parameters must be ordered: clear < warning <= critical <= maxPenalty. */
interface Scoring {
  readonly warningThreshold: number;
  readonly criticalThreshold: number;
  readonly clearThreshold: number;
  readonly maxPenalty: number;
}

function scoringProblems(scoring: Scoring): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (scoring.clearThreshold >= scoring.warningThreshold) {
    problems.push({ path: 'clearThreshold', message: `must be below warningThreshold (${scoring.warningThreshold}), or an alert could never resolve` });
  }
  if (scoring.criticalThreshold < scoring.warningThreshold) {
    problems.push({ path: 'criticalThreshold', message: `must be at least warningThreshold (${scoring.warningThreshold})` });
  }
  if (scoring.maxPenalty < scoring.criticalThreshold) {
    // FRR never checks suppress <= ceiling, so a too-high threshold silently never fires there; here it is an error.
    problems.push({ path: 'maxPenalty', message: `must be at least criticalThreshold (${scoring.criticalThreshold}), or critical could never be reached` });
  }
  return problems;
}

function refineScoring(scoring: Scoring, ctx: z.RefinementCtx): void {
  for (const problem of scoringProblems(scoring)) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message, input: scoring });
}

const unexpectedPrefixSchema = z
  .object({
    enabled: z.boolean().default(true),
    allowDefaultRoute: unexpectedPrefixFields.allowDefaultRoute.default(false),
    checkBogons: unexpectedPrefixFields.checkBogons.default(true),
    extraBogons: z.array(cidrText).default(() => []),
  })
  .strict();

const enabledOnly = z.object({ enabled: z.boolean().default(true) }).strict();

const nextHopSchema = z
  .object({ enabled: z.boolean().default(true), reportUnverifiable: nextHopFields.reportUnverifiable.default(true) })
  .strict();

const asPathSchema = z
  .object({
    enabled: z.boolean().default(true),
    ebgpMaxLength: asPathFields.ebgpMaxLength.default(1),
    extraAllowedAsns: asPathFields.extraAllowedAsns.default(() => []),
    allowAsSets: asPathFields.allowAsSets.default(false),
  })
  .strict();

const prefixConflictSchema = z
  .object({
    enabled: z.boolean().default(true),
    moveWindowSeconds: prefixConflictFields.moveWindowSeconds.default(DEFAULT_MOVE_WINDOW_SECONDS),
    severity: severity.default('warning'),
  })
  .strict();

const routeFlapSchema = z
  .object({
    enabled: z.boolean().default(true),
    withdrawalPenalty: flapFields.withdrawalPenalty.default(DEFAULT_WITHDRAWAL_PENALTY),
    attributeChangePenalty: flapFields.attributeChangePenalty.default(DEFAULT_ATTRIBUTE_CHANGE_PENALTY),
    readvertisementPenalty: flapFields.readvertisementPenalty.default(DEFAULT_READVERTISEMENT_PENALTY),
    halfLifeSeconds: flapFields.halfLifeSeconds.default(DEFAULT_HALF_LIFE_SECONDS),
    warningThreshold: flapFields.warningThreshold.default(DEFAULT_WARNING_THRESHOLD),
    criticalThreshold: flapFields.criticalThreshold.default(DEFAULT_CRITICAL_THRESHOLD),
    clearThreshold: flapFields.clearThreshold.default(DEFAULT_CLEAR_THRESHOLD),
    maxPenalty: flapFields.maxPenalty.default(DEFAULT_MAX_PENALTY),
    dedupeWindowSeconds: flapFields.dedupeWindowSeconds.default(DEFAULT_FLAP_DEDUPE_WINDOW_SECONDS),
  })
  .strict()
  .superRefine(refineScoring);

const sessionChurnSchema = z
  .object({
    enabled: z.boolean().default(true),
    penalty: churnFields.penalty.default(DEFAULT_WITHDRAWAL_PENALTY),
    halfLifeSeconds: churnFields.halfLifeSeconds.default(DEFAULT_HALF_LIFE_SECONDS),
    warningThreshold: churnFields.warningThreshold.default(DEFAULT_WARNING_THRESHOLD),
    criticalThreshold: churnFields.criticalThreshold.default(DEFAULT_CRITICAL_THRESHOLD),
    clearThreshold: churnFields.clearThreshold.default(DEFAULT_CLEAR_THRESHOLD),
    maxPenalty: churnFields.maxPenalty.default(DEFAULT_MAX_PENALTY),
    countThreshold: churnFields.countThreshold.default(DEFAULT_CHURN_COUNT_THRESHOLD),
    countWindowSeconds: churnFields.countWindowSeconds.default(DEFAULT_CHURN_COUNT_WINDOW_SECONDS),
    dedupeWindowSeconds: churnFields.dedupeWindowSeconds.default(DEFAULT_CHURN_DEDUPE_WINDOW_SECONDS),
  })
  .strict()
  .superRefine(refineScoring);

const sessionDownSchema = z
  .object({
    enabled: z.boolean().default(true),
    holdSeconds: sessionDownFields.holdSeconds.default(DEFAULT_SESSION_DOWN_HOLD_SECONDS),
    minRouteServers: sessionDownFields.minRouteServers.default(1),
    severity: severity.default('critical'),
  })
  .strict();

const unexpectedPeerSchema = z
  .object({
    enabled: z.boolean().default(true),
    allowedPeers: z.array(cidrText).default(() => []),
    severity: severity.default('warning'),
  })
  .strict();

const feedHealthSchema = z
  .object({
    enabled: z.boolean().default(true),
    lostGraceSeconds: seconds(0, 3_600).default(DEFAULT_FEED_LOST_GRACE_SECONDS),
    statsIntervalSeconds: seconds(1, 3_600).optional(),
    statsIntervalFactor: z.number().min(1.5).max(10).default(DEFAULT_STATS_INTERVAL_FACTOR),
    rejectedPrefixesThreshold: integer(1, 1_000_000).default(DEFAULT_REJECTED_THRESHOLD),
    rejectedPrefixesWindowSeconds: seconds(10).default(DEFAULT_REJECTED_WINDOW_SECONDS),
    incidentWindowSeconds: seconds(1, 300).default(DEFAULT_INCIDENT_WINDOW_SECONDS),
    incidentMinPeers: integer(1, 100_000).default(DEFAULT_INCIDENT_MIN_PEERS),
  })
  .strict();

const groupOverrideSchema = z
  .object({
    group: z.string().min(1),
    disable: z.array(z.enum(RULE_IDS)).default(() => []),
    unexpectedPrefix: z.object({ allowDefaultRoute: unexpectedPrefixFields.allowDefaultRoute.optional(), checkBogons: unexpectedPrefixFields.checkBogons.optional() }).strict().optional(),
    nextHop: z.object({ reportUnverifiable: nextHopFields.reportUnverifiable.optional() }).strict().optional(),
    asPath: z
      .object({
        ebgpMaxLength: asPathFields.ebgpMaxLength.optional(),
        extraAllowedAsns: asPathFields.extraAllowedAsns.optional(),
        allowAsSets: asPathFields.allowAsSets.optional(),
      })
      .strict()
      .optional(),
    prefixConflict: z.object({ moveWindowSeconds: prefixConflictFields.moveWindowSeconds.optional(), severity: severity.optional() }).strict().optional(),
    routeFlap: z
      .object({
        withdrawalPenalty: flapFields.withdrawalPenalty.optional(),
        attributeChangePenalty: flapFields.attributeChangePenalty.optional(),
        readvertisementPenalty: flapFields.readvertisementPenalty.optional(),
        halfLifeSeconds: flapFields.halfLifeSeconds.optional(),
        warningThreshold: flapFields.warningThreshold.optional(),
        criticalThreshold: flapFields.criticalThreshold.optional(),
        clearThreshold: flapFields.clearThreshold.optional(),
        maxPenalty: flapFields.maxPenalty.optional(),
        dedupeWindowSeconds: flapFields.dedupeWindowSeconds.optional(),
      })
      .strict()
      .optional(),
    sessionChurn: z
      .object({
        penalty: churnFields.penalty.optional(),
        halfLifeSeconds: churnFields.halfLifeSeconds.optional(),
        warningThreshold: churnFields.warningThreshold.optional(),
        criticalThreshold: churnFields.criticalThreshold.optional(),
        clearThreshold: churnFields.clearThreshold.optional(),
        maxPenalty: churnFields.maxPenalty.optional(),
        countThreshold: churnFields.countThreshold.optional(),
        countWindowSeconds: churnFields.countWindowSeconds.optional(),
        dedupeWindowSeconds: churnFields.dedupeWindowSeconds.optional(),
      })
      .strict()
      .optional(),
    sessionDown: z
      .object({
        holdSeconds: sessionDownFields.holdSeconds.optional(),
        minRouteServers: sessionDownFields.minRouteServers.optional(),
        severity: severity.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const rulesSchema = z
  .object({
    unexpectedPrefix: unexpectedPrefixSchema.prefault({}),
    filterGap: enabledOnly.prefault({}),
    nextHop: nextHopSchema.prefault({}),
    asPath: asPathSchema.prefault({}),
    tooManyPrefixes: enabledOnly.prefault({}),
    prefixConflict: prefixConflictSchema.prefault({}),
    routeFlap: routeFlapSchema.prefault({}),
    sessionChurn: sessionChurnSchema.prefault({}),
    sessionDown: sessionDownSchema.prefault({}),
    unexpectedPeer: unexpectedPeerSchema.prefault({}),
    feedHealth: feedHealthSchema.prefault({}),
    ruleErrorClearSeconds: seconds(1).default(DEFAULT_RULE_ERROR_CLEAR_SECONDS),
    groups: z.array(groupOverrideSchema).default(() => []),
  })
  .strict()
  .superRefine((rules, ctx) => {
    const seen = new Map<string, number>();
    rules.groups.forEach((override, index) => {
      const first = seen.get(override.group);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['groups', index, 'group'], message: `group "${override.group}" already has overrides in groups[${first}]`, input: override.group });
      } else {
        seen.set(override.group, index);
      }
      // Overrides must keep the scoring consistent once merged with the top-level values.
      for (const section of ['routeFlap', 'sessionChurn'] as const) {
        const partial = override[section];
        if (partial === undefined) continue;
        for (const problem of scoringProblems({ ...rules[section], ...definedOnly(partial) })) {
          ctx.addIssue({ code: 'custom', path: ['groups', index, section, problem.path], message: `${problem.message} (after merging with rules.${section})`, input: partial });
        }
      }
    });
  });

/** The object without its undefined-valued keys (so a spread does not overwrite defaults with undefined). */
export function definedOnly<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// alerts:
// ---------------------------------------------------------------------------------------------------------------

/** Decoded length of a base64 text (no validation beyond the pattern above). */
function base64Bytes(text: string): number {
  return Buffer.from(text, 'base64').length;
}

/** A Standard Webhooks secret. Messages never repeat the value: it is a secret (and may come from ${ENV}). */
const webhookSecret = z.string().superRefine((text, ctx) => {
  if (!WEBHOOK_SECRET_PATTERN.test(text)) {
    ctx.addIssue({ code: 'custom', message: 'must be "whsec_" followed by a base64 key (Standard Webhooks), e.g. from `openssl rand -base64 32`', input: '[secret]' });
    return;
  }
  const bytes = base64Bytes(text.slice('whsec_'.length));
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    ctx.addIssue({ code: 'custom', message: `the key must decode to ${MIN_SECRET_BYTES}..${MAX_SECRET_BYTES} bytes (it decodes to ${bytes})`, input: '[secret]' });
  }
});

/** An http(s) URL. Slack URLs are secrets themselves, so messages never repeat the value. */
const webhookUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a valid URL (value not shown: URLs may hold tokens)', input: '[url]' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be an http or https URL, not ${url.protocol}`, input: '[url]' });
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password; use secret for signing', input: '[url]' });
  }
});

const webhookSchema = z
  .object({
    name: z.string().max(MAX_NAME_LENGTH).regex(WEBHOOK_NAME_PATTERN, { error: 'must start with a letter or digit and contain only letters, digits, "_" and "-"' }),
    url: webhookUrl,
    /** Off: kept in the file but sent nothing (the example config ships its targets off). */
    enabled: z.boolean().default(true),
    format: z.enum(WEBHOOK_FORMATS).default('bmpwatch'),
    secret: webhookSecret.optional(),
    filters: z
      .object({
        severities: z.array(severity).min(1).default((): Severity[] => ['warning', 'critical']),
        rules: z.array(z.enum([...RULE_IDS, ...META_RULE_IDS])).default(() => []),
        groups: z.array(z.string().min(1)).default(() => []),
        sendResolved: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    timeoutMs: integer(100, 120_000).default(DEFAULT_WEBHOOK_TIMEOUT_MS),
    maxAttempts: integer(1, 100).default(DEFAULT_WEBHOOK_MAX_ATTEMPTS),
  })
  .strict();

export const alertsSchema = z
  .object({
    holdDownSeconds: seconds(0).default(DEFAULT_HOLD_DOWN_SECONDS),
    repeatIntervalSeconds: seconds(60, 30 * DAY_SECONDS).default(DEFAULT_REPEAT_INTERVAL_SECONDS),
    restoreGraceSeconds: seconds(0).default(DEFAULT_RESTORE_GRACE_SECONDS),
    resolvedRetentionSeconds: seconds(0, 366 * DAY_SECONDS).default(DEFAULT_RESOLVED_RETENTION_SECONDS),
    evaluationIntervalSeconds: seconds(1, 60).default(DEFAULT_EVALUATION_INTERVAL_SECONDS),
    delivery: z
      .object({
        initialBackoffMs: integer(10, 600_000).default(DEFAULT_INITIAL_BACKOFF_MS),
        maxBackoffMs: integer(10, 24 * 3_600_000).default(DEFAULT_MAX_BACKOFF_MS),
        maxRetryAfterSeconds: seconds(1).default(DEFAULT_MAX_RETRY_AFTER_SECONDS),
        concurrency: integer(1, 64).default(DEFAULT_DELIVERY_CONCURRENCY),
        maxQueued: integer(1, 1_000_000).default(DEFAULT_MAX_QUEUED_DELIVERIES),
      })
      .strict()
      .prefault({})
      .superRefine((delivery, ctx) => {
        if (delivery.maxBackoffMs < delivery.initialBackoffMs) {
          ctx.addIssue({ code: 'custom', path: ['maxBackoffMs'], message: `must be at least initialBackoffMs (${delivery.initialBackoffMs})`, input: delivery.maxBackoffMs });
        }
      }),
    webhooks: z.array(webhookSchema).default(() => []),
  })
  .strict()
  .superRefine((alerts, ctx) => {
    const seen = new Map<string, number>();
    alerts.webhooks.forEach((webhook, index) => {
      const first = seen.get(webhook.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['webhooks', index, 'name'], message: `duplicate webhook name "${webhook.name}" (also webhooks[${first}])`, input: webhook.name });
      } else {
        seen.set(webhook.name, index);
      }
    });
  });

export type RulesConfig = z.infer<typeof rulesSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
export type WebhookConfig = AlertsConfig['webhooks'][number];
export type RuleGroupOverride = RulesConfig['groups'][number];

/**
 * Problems that need the rest of the configuration: `rules.groups[].group` and `alerts.webhooks[].filters.groups`
 * must name appliance groups. For check-config and the loader (returned, not thrown).
 */
export function rulesConfigProblems(config: { readonly applianceGroups: readonly { readonly name: string }[]; readonly rules: RulesConfig; readonly alerts: AlertsConfig }): { path: string; message: string }[] {
  const names = new Set(config.applianceGroups.map((group) => group.name));
  const hint = names.size === 0 ? 'no applianceGroups are configured' : `groups: ${[...names].join(', ')}`;
  const problems: { path: string; message: string }[] = [];
  config.rules.groups.forEach((override, index) => {
    if (!names.has(override.group)) problems.push({ path: `rules.groups[${index}].group`, message: `no appliance group named "${override.group}" (${hint})` });
  });
  config.alerts.webhooks.forEach((webhook, w) => {
    webhook.filters.groups.forEach((group, g) => {
      if (!names.has(group)) problems.push({ path: `alerts.webhooks[${w}].filters.groups[${g}]`, message: `no appliance group named "${group}" (${hint})` });
    });
  });
  return problems;
}
