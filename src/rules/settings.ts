/**
 * The rules' view of the configuration: appliance groups with their prefixes parsed once, appliances, the
 * infrastructure prefixes, and per-group rule parameters (top-level `rules:` values merged with
 * `rules.groups[]` overrides). Built once per configuration (start and SIGHUP), read by every rule.
 */
import { parseCidr, type Cidr } from '../config/cidr.js';
import { definedOnly, type RuleId, type RulesConfig } from '../config/rules-schema.js';
import type { ApplianceConfig, ApplianceGroupConfig, Config } from '../config/schema.js';

/** The parts of the configuration the rules read. */
export type RulesEngineConfig = Pick<Config, 'applianceGroups' | 'appliances' | 'infrastructurePrefixes' | 'rules'>;

export interface PrefixRange {
  readonly cidr: Cidr;
  readonly minLength: number;
  readonly maxLength: number;
}

export interface GroupRuleParameters {
  readonly unexpectedPrefix: RulesConfig['unexpectedPrefix'];
  readonly nextHop: RulesConfig['nextHop'];
  readonly asPath: RulesConfig['asPath'];
  readonly prefixConflict: RulesConfig['prefixConflict'];
  readonly routeFlap: RulesConfig['routeFlap'];
  readonly sessionChurn: RulesConfig['sessionChurn'];
  readonly sessionDown: RulesConfig['sessionDown'];
}

export interface GroupSettings {
  readonly name: string;
  readonly config: ApplianceGroupConfig;
  readonly sessionRanges: readonly Cidr[];
  readonly ranges: readonly PrefixRange[];
  readonly anycast: readonly Cidr[];
  readonly asns: ReadonlySet<number>;
  readonly disabled: ReadonlySet<RuleId>;
  readonly params: GroupRuleParameters;
}

export interface RuleSettings {
  readonly rules: RulesConfig;
  readonly groups: ReadonlyMap<string, GroupSettings>;
  readonly appliances: readonly ApplianceConfig[];
  readonly infrastructure: readonly Cidr[];
  /** rules.unexpectedPrefix.extraBogons and rules.unexpectedPeer.allowedPeers, parsed. */
  readonly extraBogons: readonly Cidr[];
  readonly allowedPeers: readonly Cidr[];
  /** Whether `rule` runs at all, and (given a group) for that group. */
  enabled(rule: RuleId, group?: GroupSettings): boolean;
}

function parsedCidrs(texts: readonly string[]): Cidr[] {
  const out: Cidr[] = [];
  for (const text of texts) {
    const cidr = parseCidr(text);
    if (typeof cidr !== 'string') out.push(cidr);
  }
  return out;
}

const TOP_LEVEL_ENABLED: Record<RuleId, (rules: RulesConfig) => boolean> = {
  'unexpected-prefix': (r) => r.unexpectedPrefix.enabled,
  'filter-gap': (r) => r.filterGap.enabled,
  'next-hop': (r) => r.nextHop.enabled,
  'as-path': (r) => r.asPath.enabled,
  'too-many-prefixes': (r) => r.tooManyPrefixes.enabled,
  'prefix-conflict': (r) => r.prefixConflict.enabled,
  'route-flap': (r) => r.routeFlap.enabled,
  'session-churn': (r) => r.sessionChurn.enabled,
  'session-down': (r) => r.sessionDown.enabled,
  'unexpected-peer': (r) => r.unexpectedPeer.enabled,
  'feed-lost': (r) => r.feedHealth.enabled,
  'stats-missing': (r) => r.feedHealth.enabled,
  'rejected-spike': (r) => r.feedHealth.enabled,
  'rs-incident': (r) => r.feedHealth.enabled,
};

export function buildRuleSettings(config: RulesEngineConfig): RuleSettings {
  const rules = config.rules;
  const overrides = new Map(rules.groups.map((override) => [override.group, override]));
  const groups = new Map<string, GroupSettings>();
  for (const group of config.applianceGroups) {
    const override = overrides.get(group.name);
    const merge = <T extends object>(base: T, partial: Partial<T> | undefined): T => (partial === undefined ? base : { ...base, ...definedOnly(partial) });
    groups.set(group.name, {
      name: group.name,
      config: group,
      sessionRanges: parsedCidrs(group.sessionRanges),
      ranges: [...group.prefixes.ipv4, ...group.prefixes.ipv6].flatMap((range) => {
        const cidr = parseCidr(range.prefix);
        return typeof cidr === 'string' ? [] : [{ cidr, minLength: range.minLength, maxLength: range.maxLength }];
      }),
      anycast: parsedCidrs(group.anycastPrefixes),
      asns: new Set(group.asns),
      disabled: new Set(override?.disable ?? []),
      params: {
        unexpectedPrefix: merge(rules.unexpectedPrefix, override?.unexpectedPrefix),
        nextHop: merge(rules.nextHop, override?.nextHop),
        asPath: merge(rules.asPath, override?.asPath),
        prefixConflict: merge(rules.prefixConflict, override?.prefixConflict),
        routeFlap: merge(rules.routeFlap, override?.routeFlap),
        sessionChurn: merge(rules.sessionChurn, override?.sessionChurn),
        sessionDown: merge(rules.sessionDown, override?.sessionDown),
      },
    });
  }
  return {
    rules,
    groups,
    appliances: config.appliances ?? [],
    infrastructure: parsedCidrs(config.infrastructurePrefixes),
    extraBogons: parsedCidrs(rules.unexpectedPrefix.extraBogons),
    allowedPeers: parsedCidrs(rules.unexpectedPeer.allowedPeers),
    enabled(rule, group) {
      if (!TOP_LEVEL_ENABLED[rule](rules)) return false;
      return group === undefined || !group.disabled.has(rule);
    },
  };
}
