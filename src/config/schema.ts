/**
 * The configuration schema: every option, its default and its limits, in one place.
 *
 * - Every object is `.strict()`: an unknown key (usually a typo) is an error, never silently ignored.
 * - `Config` is the output type: defaults applied, IP addresses and CIDR prefixes in canonical text
 *   (lower-case RFC 5952 IPv6), so consumers can compare them as strings or parse them with ./cidr.js.
 * - Checks that involve several fields run in `superRefine`, placed on the smallest object that holds the fields,
 *   with the path of the field to fix. Zod runs an object's refinement only once its fields are valid, so a
 *   cross-field problem may appear only after the field problems are fixed.
 *
 * config/bmpwatch.example.yaml documents every option; test/unit/config checks that it names every key here.
 */
import { z } from 'zod';
import {
  cidrContains,
  cidrsOverlap,
  familyBits,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  addressInCidr,
  type Cidr,
  type IpFamily,
} from './cidr.js';
import { alertsSchema, rulesSchema } from './rules-schema.js';

const KiB = 1024;
const MiB = 1024 * KiB;

// ---------------------------------------------------------------------------------------------------------------
// Defaults and limits
// ---------------------------------------------------------------------------------------------------------------

/** BMP listens on every IPv4 address: route servers connect from wherever they are; routers.allowedSources filters. */
export const DEFAULT_BMP_HOST = '0.0.0.0';
/** bmpwatch's BMP port (unprivileged, so the collector needs no root). RFC 7854 assigns no port. */
export const DEFAULT_BMP_PORT = 11019;
/** The API serves routing state without authentication, so it listens on loopback unless told otherwise. */
export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 11080;
/** Highest TCP port; port 0 asks the OS for a free port (tests use it). */
export const MAX_PORT = 65_535;

/** A route server per connection: a few dozen is typical; 256 leaves room and still bounds memory. */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Each connection can hold a full RIB copy and a file descriptor; more route servers than this is a mistake. */
export const MAX_MAX_CONNECTIONS = 4_096;

/**
 * Smallest allowed maxMessageBytes: an RFC 8654 extended BGP message is at most 65,535 bytes; BMP adds a 6-byte
 * common header and a 42-byte per-peer header (RFC 7854 §4.1, §4.2), 65,583 bytes in all. 65,600 always fits one.
 */
export const MIN_MAX_MESSAGE_BYTES = 65_600;
/** Largest BMP message accepted by default: far above any real message, small enough to bound one buffer. */
export const DEFAULT_MAX_MESSAGE_BYTES = MiB;
/** Above 16 MiB a "message" is a corrupt length field, and buffering it per router would cost too much memory. */
export const MAX_MAX_MESSAGE_BYTES = 16 * MiB;

/** A full IPv4+IPv6 table (about 1.2 million routes) in the pre-, post-policy and Loc-RIB views of a few peers. */
export const DEFAULT_MAX_ROUTES_PER_ROUTER = 5_000_000;
/** A guard against a runaway router, not a sizing knob: 100 million routes would need tens of GB of memory. */
export const MAX_MAX_ROUTES_PER_ROUTER = 100_000_000;


/** How long an initial table dump may take when the peer never sends End-of-RIB: minutes for full tables. */
export const DEFAULT_INITIAL_DUMP_TIMEOUT_SECONDS = 600;
/** A day: a dump that takes longer is not a dump, and "initial" state would hide real changes for too long. */
export const MAX_INITIAL_DUMP_TIMEOUT_SECONDS = 86_400;

/** One decode-error log line a second per router on average: enough to diagnose, too few to flood the log. */
export const DEFAULT_MAX_DECODE_ERROR_LOGS_PER_MINUTE = 60;
/** 100 a second per router: beyond that, logging decode errors becomes the load. 0 disables the lines. */
export const MAX_MAX_DECODE_ERROR_LOGS_PER_MINUTE = 6_000;

/** Routers are accepted from loopback only until the operator lists the route servers' addresses. */
export const DEFAULT_ALLOWED_SOURCES: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** Names are used in metric labels and log fields: keep them short. */
export const MAX_NAME_LENGTH = 63;
/** Appliance-group names: letters, digits, "_" and "-" (safe in metric labels, URLs and file names). */
export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/i;
/** Appliance names may also contain dots, so host names fit. */
export const APPLIANCE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;

/** An appliance announces a handful of service prefixes; 100 catches a leak early. */
export const DEFAULT_MAX_PREFIXES = 100;
/** More than this from one appliance is a table leak, which the limit is meant to catch, not allow. */
export const MAX_MAX_PREFIXES = 100_000;
/** Warn at 80% of maxPrefixes, before the limit is reached. */
export const DEFAULT_MAX_PREFIXES_WARNING_FRACTION = 0.8;

/** Highest 4-byte AS number (RFC 6793). */
export const MAX_ASN = 4_294_967_295;
/** AS numbers that never identify a network (RFC 6793 AS_TRANS; RFC 7300 last 2- and 4-byte ASNs). */
export const RESERVED_ASNS: ReadonlyMap<number, string> = new Map([
  [23_456, 'AS_TRANS (RFC 6793)'],
  [65_535, 'reserved (RFC 7300)'],
  [4_294_967_295, 'reserved (RFC 7300)'],
]);

/** Private-use AS number ranges (RFC 6996). */
export function isPrivateAsn(asn: number): boolean {
  return (asn >= 64_512 && asn <= 65_534) || (asn >= 4_200_000_000 && asn <= 4_294_967_294);
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const DEFAULT_LOG_LEVEL = 'info';
export const SESSION_TYPES = ['ibgp', 'ebgp'] as const;
/** Relative paths are relative to the working directory of the collector. */
export const DEFAULT_DATA_DIR = './data';
/** How long the embedded store keeps history events (InfluxDB has its own retention policy). */
export const DEFAULT_RETENTION_DAYS = 30;
/** Ten years: a longer "retention" is a mistake in units. */
export const MAX_RETENTION_DAYS = 3_650;

/** Which peers' route events the history keeps; see src/store/history-event.ts. */
export const ROUTE_EVENT_SCOPES = ['all', 'appliances', 'none'] as const;
/**
 * 'appliances': the history is an appliance's history. A route server also peering with full-table neighbours
 * would otherwise write a row per route of every table dump (a million at each BMP reconnect).
 */
export const DEFAULT_ROUTE_EVENT_SCOPE = 'appliances';
/** A second between history flushes: `bmpwatch history` is at most a second behind, one transaction a second. */
export const DEFAULT_HISTORY_FLUSH_INTERVAL_MS = 1_000;
export const MIN_HISTORY_FLUSH_INTERVAL_MS = 10;
export const MAX_HISTORY_FLUSH_INTERVAL_MS = 60_000;
/** Flush early at this many events: one transaction of 5,000 rows takes a few ms in SQLite. */
export const DEFAULT_HISTORY_BATCH_SIZE = 5_000;
export const MAX_HISTORY_BATCH_SIZE = 100_000;
/** Events waiting for the sink before new ones are dropped (and counted): about 100 MB at worst. */
export const DEFAULT_HISTORY_BUFFERED_EVENTS = 500_000;
export const MAX_HISTORY_BUFFERED_EVENTS = 10_000_000;

export const DEFAULT_INFLUX_DATABASE = 'bmpwatch';
export const DEFAULT_INFLUX_RETENTION_POLICY = 'bmpwatch';
export const DEFAULT_INFLUX_RETENTION_DURATION = '30d';
/** InfluxDB 1.x recommends batches of 5,000-10,000 points per write. */
export const DEFAULT_INFLUX_BATCH_SIZE = 5_000;
export const MAX_INFLUX_BATCH_SIZE = 50_000;
export const DEFAULT_INFLUX_FLUSH_INTERVAL_MS = 1_000;
/** Points held while InfluxDB is unreachable: minutes of a busy collector, about 100 MB. */
export const DEFAULT_INFLUX_BUFFERED_POINTS = 500_000;
export const MAX_INFLUX_BUFFERED_POINTS = 10_000_000;
/** Longest wait between retries of a failed InfluxDB write (the backoff doubles from 500 ms up to this). */
export const DEFAULT_INFLUX_RETRY_MAX_MS = 30_000;
export const MIN_INFLUX_RETRY_MAX_MS = 1_000;
export const MAX_INFLUX_RETRY_MAX_MS = 600_000;
/** Metrics snapshots (per router, per peer, collector health) are written this often. */
export const DEFAULT_METRICS_INTERVAL_SECONDS = 10;
export const MAX_METRICS_INTERVAL_SECONDS = 3_600;


// ---------------------------------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------------------------------

function familyName(family: IpFamily): string {
  return `IPv${family}`;
}

/** A CIDR prefix (of one family, if given), output in canonical text. */
function cidrText(family?: IpFamily) {
  return z.string().transform((text, ctx) => {
    const cidr = parseCidr(text);
    if (typeof cidr === 'string') {
      ctx.issues.push({ code: 'custom', message: cidr, input: text });
      return z.NEVER;
    }
    if (family !== undefined && cidr.family !== family) {
      ctx.issues.push({ code: 'custom', message: `"${text}" is an ${familyName(cidr.family)} prefix; this list takes ${familyName(family)} prefixes`, input: text });
      return z.NEVER;
    }
    return formatCidr(cidr);
  });
}

/** An IP address (of one family, if given), output in canonical text. */
function addressText(family?: IpFamily) {
  return z.string().transform((text, ctx) => {
    const address = parseAddress(text);
    if (typeof address === 'string') {
      ctx.issues.push({ code: 'custom', message: address, input: text });
      return z.NEVER;
    }
    if (family !== undefined && address.family !== family) {
      ctx.issues.push({ code: 'custom', message: `"${text}" is an ${familyName(address.family)} address; expected ${familyName(family)}`, input: text });
      return z.NEVER;
    }
    return formatAddress(address);
  });
}

/** A listen host: an address literal, kept as written (hostnames are not resolved). */
const hostText = z.string().superRefine((text, ctx) => {
  if (typeof parseAddress(text) === 'string') {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an IPv4 or IPv6 address (host names are not resolved; "::" is every address)`, input: text });
  }
});

const port = z.number().int().min(0).max(MAX_PORT);

function endpoint(host: string, portNumber: number) {
  return z.object({ host: hostText.default(host), port: port.default(portNumber) }).strict().prefault({});
}

// Names end up in logs, metric labels and InfluxDB tags: no control characters, no trailing backslash.
const nameText = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  // eslint-disable-next-line no-control-regex
  .refine((text) => !/[\u0000-\u001f\u007f]/.test(text) && !text.endsWith('\\'), { error: 'must not contain control characters or end with a backslash' });

/** A whole number within [min, max]. */
function integer(min: number, max: number) {
  return z.number().int().min(min).max(max);
}

const asn = z
  .number()
  .int()
  .min(1, { error: 'AS 0 is reserved (RFC 7607) and never valid' })
  .max(MAX_ASN, { error: `AS numbers are at most ${MAX_ASN}` })
  .superRefine((value, ctx) => {
    const reserved = RESERVED_ASNS.get(value);
    if (reserved !== undefined) ctx.addIssue({ code: 'custom', message: `AS ${value} is ${reserved} and never identifies a network`, input: value });
  });

/** Prefixes an appliance may announce: inside `prefix`, with lengths minLength..maxLength. */
function prefixRange(family: IpFamily) {
  const bits = familyBits(family);
  return z
    .object({
      prefix: cidrText(family),
      minLength: integer(0, bits),
      maxLength: integer(0, bits),
    })
    .strict()
    .superRefine((range, ctx) => {
      const cidr = parseCidr(range.prefix);
      if (typeof cidr !== 'string' && range.minLength < cidr.length) {
        ctx.addIssue({ code: 'custom', path: ['minLength'], message: `must be at least ${cidr.length}, the length of ${range.prefix}`, input: range.minLength });
      }
      if (range.maxLength < range.minLength) {
        ctx.addIssue({ code: 'custom', path: ['maxLength'], message: `must be at least minLength (${range.minLength})`, input: range.maxLength });
      }
    });
}

const applianceGroupSchema = z
  .object({
    name: z
      .string()
      .max(MAX_NAME_LENGTH)
      .regex(GROUP_NAME_PATTERN, { error: 'must start with a letter or digit and contain only letters, digits, "_" and "-"' }),
    sessionRanges: z.array(cidrText()).min(1, { error: 'list at least one range appliance sessions come from' }),
    sessionType: z.enum(SESSION_TYPES),
    asns: z.array(asn).min(1, { error: 'list at least one AS number' }),
    allowPrivateAsns: z.boolean().default(false),
    prefixes: z
      .object({
        ipv4: z.array(prefixRange(4)).default(() => []),
        ipv6: z.array(prefixRange(6)).default(() => []),
      })
      .strict(),
    maxPrefixes: integer(1, MAX_MAX_PREFIXES).default(DEFAULT_MAX_PREFIXES),
    maxPrefixesWarningFraction: z.number().gt(0).max(1).default(DEFAULT_MAX_PREFIXES_WARNING_FRACTION),
    anycastPrefixes: z.array(cidrText()).default(() => []),
    nextHopMustMatchSession: z.boolean().default(true),
  })
  .strict()
  .superRefine((group, ctx) => {
    const seen = new Map<number, number>();
    group.asns.forEach((value, index) => {
      const first = seen.get(value);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['asns', index], message: `AS ${value} is listed twice (also asns[${first}])`, input: value });
      } else {
        seen.set(value, index);
      }
      if (!group.allowPrivateAsns && isPrivateAsn(value)) {
        ctx.addIssue({ code: 'custom', path: ['asns', index], message: `AS ${value} is a private AS number (RFC 6996); set allowPrivateAsns: true to use it`, input: value });
      }
    });
    const ranges = [...group.prefixes.ipv4, ...group.prefixes.ipv6];
    group.anycastPrefixes.forEach((text, index) => {
      const anycast = parseCidr(text);
      if (typeof anycast === 'string') return;
      const announceable = ranges.some((range) => {
        const cidr = parseCidr(range.prefix);
        return typeof cidr !== 'string' && cidrContains(cidr, anycast) && anycast.length >= range.minLength && anycast.length <= range.maxLength;
      });
      if (!announceable) {
        ctx.addIssue({ code: 'custom', path: ['anycastPrefixes', index], message: `${text} is not a prefix this group may announce (see prefixes)`, input: text });
      }
    });
  });

const applianceSchema = z
  .object({
    name: z
      .string()
      .max(MAX_NAME_LENGTH)
      .regex(APPLIANCE_NAME_PATTERN, { error: 'must start with a letter or digit and contain only letters, digits, ".", "_" and "-"' }),
    group: z.string(),
    bgpId: addressText(4)
      .refine((text) => text !== '0.0.0.0', { error: 'a BGP identifier is never 0.0.0.0 (RFC 6286)' })
      .optional(),
    addresses: z.array(addressText()).min(1, { error: 'list at least one address, or leave addresses out' }).optional(),
  })
  .strict()
  .superRefine((appliance, ctx) => {
    if (appliance.bgpId === undefined && appliance.addresses === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give bgpId or addresses (or both) so the appliance can be recognised', input: appliance });
    }
  });

const routerNameSchema = z
  .object({
    name: nameText,
    address: addressText(),
    cluster: nameText.optional(),
  })
  .strict();

const limitsSchema = z
  .object({
    maxConnections: integer(1, MAX_MAX_CONNECTIONS).default(DEFAULT_MAX_CONNECTIONS),
    maxMessageBytes: integer(MIN_MAX_MESSAGE_BYTES, MAX_MAX_MESSAGE_BYTES).default(DEFAULT_MAX_MESSAGE_BYTES),
    maxRoutesPerRouter: integer(1, MAX_MAX_ROUTES_PER_ROUTER).default(DEFAULT_MAX_ROUTES_PER_ROUTER),
    initialDumpTimeoutSeconds: integer(1, MAX_INITIAL_DUMP_TIMEOUT_SECONDS).default(DEFAULT_INITIAL_DUMP_TIMEOUT_SECONDS),
    maxDecodeErrorLogsPerMinute: integer(0, MAX_MAX_DECODE_ERROR_LOGS_PER_MINUTE).default(DEFAULT_MAX_DECODE_ERROR_LOGS_PER_MINUTE),
  })
  .strict();

const routersSchema = z
  .object({
    allowedSources: z
      .array(cidrText())
      .min(1, { error: 'list at least one prefix; with none, every route server would be refused' })
      .default(() => [...DEFAULT_ALLOWED_SOURCES]),
    names: z.array(routerNameSchema).optional(),
  })
  .strict()
  .superRefine((routers, ctx) => {
    const sources = routers.allowedSources.map(parseCidr);
    const seen = new Map<string, number>();
    (routers.names ?? []).forEach((entry, index) => {
      const first = seen.get(entry.address);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['names', index, 'address'], message: `${entry.address} is already named by names[${first}]`, input: entry.address });
      } else {
        seen.set(entry.address, index);
      }
      if (!sources.some((cidr) => typeof cidr !== 'string' && addressInCidr(entry.address, cidr))) {
        ctx.addIssue({
          code: 'custom',
          path: ['names', index, 'address'],
          message: `${entry.address} is outside routers.allowedSources, so this router's connections would be refused`,
          input: entry.address,
        });
      }
    });
  });

const historySchema = z
  .object({
    routeEvents: z.enum(ROUTE_EVENT_SCOPES).default(DEFAULT_ROUTE_EVENT_SCOPE),
    flushIntervalMs: integer(MIN_HISTORY_FLUSH_INTERVAL_MS, MAX_HISTORY_FLUSH_INTERVAL_MS).default(DEFAULT_HISTORY_FLUSH_INTERVAL_MS),
    batchSize: integer(1, MAX_HISTORY_BATCH_SIZE).default(DEFAULT_HISTORY_BATCH_SIZE),
    maxBufferedEvents: integer(1, MAX_HISTORY_BUFFERED_EVENTS).default(DEFAULT_HISTORY_BUFFERED_EVENTS),
  })
  .strict();

const influxSchema = z
  .object({
    enabled: z.boolean().default(true),
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL of InfluxDB 1.x, e.g. http://127.0.0.1:8086' }),
    database: z.string().min(1).max(MAX_NAME_LENGTH).default(DEFAULT_INFLUX_DATABASE),
    instance: nameText.optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    retentionPolicy: z
      .object({
        name: z.string().min(1).max(MAX_NAME_LENGTH).default(DEFAULT_INFLUX_RETENTION_POLICY),
        duration: z
          .string()
          .regex(/^(INF|\d+[hdw])$/, { error: 'an InfluxDB duration in hours, days or weeks, e.g. 30d, or INF' })
          .default(DEFAULT_INFLUX_RETENTION_DURATION),
      })
      .strict()
      .prefault({}),
    batchSize: integer(1, MAX_INFLUX_BATCH_SIZE).default(DEFAULT_INFLUX_BATCH_SIZE),
    flushIntervalMs: integer(MIN_HISTORY_FLUSH_INTERVAL_MS, MAX_HISTORY_FLUSH_INTERVAL_MS).default(DEFAULT_INFLUX_FLUSH_INTERVAL_MS),
    maxBufferedPoints: integer(1, MAX_INFLUX_BUFFERED_POINTS).default(DEFAULT_INFLUX_BUFFERED_POINTS),
    retryBackoffMaxMs: integer(MIN_INFLUX_RETRY_MAX_MS, MAX_INFLUX_RETRY_MAX_MS).default(DEFAULT_INFLUX_RETRY_MAX_MS),
    metricsIntervalSeconds: integer(1, MAX_METRICS_INTERVAL_SECONDS).default(DEFAULT_METRICS_INTERVAL_SECONDS),
  })
  .strict()
  .superRefine((influx, ctx) => {
    if ((influx.username === undefined) !== (influx.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give both username and password, or neither', input: influx.password });
    }
  });

const storageSchema = z
  .object({
    dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
    retentionDays: integer(1, MAX_RETENTION_DAYS).default(DEFAULT_RETENTION_DAYS),
    history: historySchema.prefault({}),
    influx: influxSchema.optional(),
  })
  .strict();

// ---------------------------------------------------------------------------------------------------------------
// The whole file
// ---------------------------------------------------------------------------------------------------------------

export const configSchema = z
  .object({
    listen: z
      .object({
        bmp: endpoint(DEFAULT_BMP_HOST, DEFAULT_BMP_PORT),
        api: endpoint(DEFAULT_API_HOST, DEFAULT_API_PORT),
      })
      .strict()
      .prefault({}),
    limits: limitsSchema.prefault({}),
    routers: routersSchema.prefault({}),
    applianceGroups: z.array(applianceGroupSchema).default(() => []),
    appliances: z.array(applianceSchema).optional(),
    infrastructurePrefixes: z.array(cidrText()).default(() => []),
    rules: rulesSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    log: z
      .object({ level: z.enum(LOG_LEVELS).default(DEFAULT_LOG_LEVEL) })
      .strict()
      .prefault({}),
    storage: storageSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkGroups(config, ctx);
    checkAppliances(config, ctx);
  });

/** The validated configuration, defaults applied. */
export type Config = z.infer<typeof configSchema>;
/** What the YAML file may contain (every defaulted field optional). */
export type ConfigInput = z.input<typeof configSchema>;
export type ApplianceGroupConfig = Config['applianceGroups'][number];
export type ApplianceConfig = NonNullable<Config['appliances']>[number];
export type PrefixRangeConfig = ApplianceGroupConfig['prefixes']['ipv4'][number];
export type RouterNameConfig = NonNullable<Config['routers']['names']>[number];
export type LogLevel = Config['log']['level'];
export type SessionType = ApplianceGroupConfig['sessionType'];
export type StorageConfig = Config['storage'];
export type InfluxConfig = NonNullable<StorageConfig['influx']>;

type Ctx = z.RefinementCtx<Config>;

/** Parsed prefixes of a list, skipping (impossible after validation) unparsable entries. */
function parsedList(texts: readonly string[]): { text: string; index: number; cidr: Cidr }[] {
  const out: { text: string; index: number; cidr: Cidr }[] = [];
  texts.forEach((text, index) => {
    const cidr = parseCidr(text);
    if (typeof cidr !== 'string') out.push({ text, index, cidr });
  });
  return out;
}

function checkGroups(config: Config, ctx: Ctx): void {
  const groups = config.applianceGroups;
  const firstByName = new Map<string, number>();
  groups.forEach((group, index) => {
    const first = firstByName.get(group.name);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['applianceGroups', index, 'name'], message: `duplicate group name "${group.name}" (also applianceGroups[${first}])`, input: group.name });
    } else {
      firstByName.set(group.name, index);
    }
  });

  // Every session address must map to exactly one group.
  const ranges = groups.map((group) => parsedList(group.sessionRanges));
  for (let j = 1; j < groups.length; j++) {
    for (const later of ranges[j]) {
      for (let i = 0; i < j; i++) {
        const earlier = ranges[i].find((range) => cidrsOverlap(range.cidr, later.cidr));
        if (earlier === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['applianceGroups', j, 'sessionRanges', later.index],
          message: `${later.text} overlaps ${earlier.text} of group "${groups[i].name}" (applianceGroups[${i}].sessionRanges[${earlier.index}]); a session address must belong to one group`,
          input: later.text,
        });
        break;
      }
    }
  }

  // infrastructurePrefixes win over assigned ranges: carving part of a range out is fine; covering all of it is not.
  const infrastructure = parsedList(config.infrastructurePrefixes);
  groups.forEach((group, g) => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      group.prefixes[family].forEach((range, r) => {
        const cidr = parseCidr(range.prefix);
        if (typeof cidr === 'string') return;
        const cover = infrastructure.find((infra) => cidrContains(infra.cidr, cidr));
        if (cover !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['applianceGroups', g, 'prefixes', family, r, 'prefix'],
            message: `${range.prefix} is inside infrastructurePrefixes[${cover.index}] (${cover.text}), so appliances could announce none of it`,
            input: range.prefix,
          });
        }
      });
    }
    for (const anycast of parsedList(group.anycastPrefixes)) {
      const clash = infrastructure.find((infra) => cidrsOverlap(infra.cidr, anycast.cidr));
      if (clash !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['applianceGroups', g, 'anycastPrefixes', anycast.index],
          message: `${anycast.text} overlaps infrastructurePrefixes[${clash.index}] (${clash.text})`,
          input: anycast.text,
        });
      }
    }
  });
}

function checkAppliances(config: Config, ctx: Ctx): void {
  const groups = new Map(config.applianceGroups.map((group) => [group.name, group]));
  const names = new Map<string, number>();
  const addresses = new Map<string, string>();
  const bgpIds = new Map<string, number>();
  (config.appliances ?? []).forEach((appliance, index) => {
    const firstName = names.get(appliance.name);
    if (firstName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['appliances', index, 'name'], message: `duplicate appliance name "${appliance.name}" (also appliances[${firstName}])`, input: appliance.name });
    } else {
      names.set(appliance.name, index);
    }
    if (appliance.bgpId !== undefined) {
      const firstId = bgpIds.get(appliance.bgpId);
      if (firstId !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['appliances', index, 'bgpId'], message: `BGP identifier ${appliance.bgpId} is also appliances[${firstId}]'s`, input: appliance.bgpId });
      } else {
        bgpIds.set(appliance.bgpId, index);
      }
    }
    const group = groups.get(appliance.group);
    if (group === undefined) {
      const known = [...groups.keys()];
      const hint = known.length === 0 ? 'no applianceGroups are configured' : `groups: ${known.join(', ')}`;
      ctx.addIssue({ code: 'custom', path: ['appliances', index, 'group'], message: `no appliance group named "${appliance.group}" (${hint})`, input: appliance.group });
    }
    const sessionRanges = group === undefined ? [] : parsedList(group.sessionRanges);
    (appliance.addresses ?? []).forEach((address, a) => {
      const path = ['appliances', index, 'addresses', a];
      const owner = addresses.get(address);
      if (owner !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: `${address} is also an address of ${owner}`, input: address });
      } else {
        addresses.set(address, `appliances[${index}]`);
      }
      if (group !== undefined && !sessionRanges.some((range) => addressInCidr(address, range.cidr))) {
        ctx.addIssue({ code: 'custom', path, message: `${address} is outside the sessionRanges of group "${group.name}"`, input: address });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Schema introspection (for "did you mean" hints on unknown keys)
// ---------------------------------------------------------------------------------------------------------------

/** Strip defaults, optionals and transforms down to the schema that describes the value's shape. */
function unwrapSchema(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodOptional) current = current.unwrap();
    else if (current instanceof z.ZodPipe) current = current.in;
    else return current;
  }
}

/** The keys an object at `path` (object keys and array indices) may have, or undefined if no object is there. */
export function configKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  let schema = unwrapSchema(configSchema);
  for (const segment of path) {
    if (schema instanceof z.ZodObject && typeof segment === 'string') {
      const shape: Record<string, z.core.$ZodType> = schema.shape;
      if (!Object.hasOwn(shape, segment)) return undefined;
      schema = unwrapSchema(shape[segment]);
    } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
      schema = unwrapSchema(schema.element);
    } else {
      return undefined;
    }
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}
