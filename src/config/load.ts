/**
 * Loading the configuration: YAML text → environment substitution → schema validation.
 *
 * Nothing here throws for a bad file: every problem (unreadable file, YAML syntax, unset environment variable,
 * invalid value) comes back as a ConfigProblem with the path of the option to fix. This is the only module that
 * reads environment variables, and it reads only the `env` it is given.
 *
 * Environment substitution, applied to string values (never to keys) before validation:
 * - `${NAME}` is replaced by the value of NAME (letters, digits and "_", not starting with a digit), anywhere in the
 *   string: `password: ${DB_PASSWORD}`, `dataDir: /srv/${SITE}/bmpwatch`.
 * - `${NAME:-default}` gives `default` when NAME is unset or empty, as in the shell.
 * - `$${` is a literal `${`. A lone `$` stays as it is.
 * - Substituted text is not scanned again, and stays a string: `port: ${PORT}` is the string "11019", which a
 *   number option refuses. Substitution is for secrets, hosts, names and paths.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { rulesConfigProblems } from './rules-schema.js';
import { configKeysAt, configSchema, type Config } from './schema.js';

export interface ConfigProblem {
  /** Where the problem is, e.g. "applianceGroups[1].prefixes.ipv4[0].maxLength"; "" for the whole file. */
  readonly path: string;
  readonly message: string;
}

export type ConfigLoadResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly problems: ConfigProblem[] };

export type Env = Record<string, string | undefined>;

/** Anchors may be reused, but not exponentially (the "billion laughs" attack). */
const MAX_YAML_ALIASES = 100;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** ["applianceGroups", 1, "prefixes", "ipv4", 0, "maxLength"] → "applianceGroups[1].prefixes.ipv4[0].maxLength". */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/** Parse and validate configuration text. An empty file (or only comments) means all defaults. */
export function loadConfigText(text: string, env: Env): ConfigLoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return { path: '', message: `YAML syntax error at line ${line}, column ${col}: ${error.message}` };
    });
    return { ok: false, problems };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: `YAML: ${error instanceof Error ? error.message : String(error)}` }] };
  }
  if (data === null || data === undefined) data = {};

  const envProblems: { path: PropertyKey[]; message: string }[] = [];
  const replaced = new Map<string, Substitution>();
  const substituted = substitute(data, [], { env, problems: envProblems, replaced });

  const result = configSchema.safeParse(substituted, { error: describeIssue });
  if (result.success && envProblems.length === 0) {
    // Names that refer across sections (rule overrides and webhook filters name appliance groups).
    const crossProblems = rulesConfigProblems(result.data);
    return crossProblems.length === 0 ? { ok: true, config: result.data } : { ok: false, problems: crossProblems };
  }

  // A value whose substitution failed was validated as written; its schema problems would only be noise.
  const envPaths = envProblems.map((problem) => formatConfigPath(problem.path));
  const schemaProblems = result.success ? [] : result.error.issues.flatMap(toProblems).map((problem) => hideEnvironmentValue(problem, replaced));
  const problems = [
    ...envProblems.map((problem) => ({ path: formatConfigPath(problem.path), message: problem.message })),
    ...schemaProblems.filter((problem) => !envPaths.some((path) => problem.path === path || problem.path.startsWith(`${path}.`) || problem.path.startsWith(`${path}[`))),
  ];
  return { ok: false, problems };
}

/** Read and load a configuration file. A missing or unreadable file is a problem, not an exception. */
export function loadConfigFile(path: string, env: Env): ConfigLoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: `cannot read ${path}: ${readError(error)}` }] };
  }
  return loadConfigText(text, env);
}

function readError(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Environment substitution
// ---------------------------------------------------------------------------------------------------------------

interface Substitution {
  readonly template: string;
  readonly value: string;
}

interface SubstitutionState {
  readonly env: Env;
  readonly problems: { path: PropertyKey[]; message: string }[];
  /** Substituted values by formatted path, so messages can show the template instead of a secret. */
  readonly replaced: Map<string, Substitution>;
}

function substitute(value: unknown, path: PropertyKey[], state: SubstitutionState): unknown {
  if (typeof value === 'string') {
    const out = substituteString(value, path, state);
    if (out !== value) state.replaced.set(formatConfigPath(path), { template: value, value: out });
    return out;
  }
  if (Array.isArray(value)) return value.map((item, index) => substitute(item, [...path, index], state));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substitute(item, [...path, key], state);
    return out;
  }
  return value;
}

/** Problems never echo values that came from the environment (they may be secrets): the template is shown. */
function hideEnvironmentValue(problem: ConfigProblem, replaced: ReadonlyMap<string, Substitution>): ConfigProblem {
  const substitution = replaced.get(problem.path);
  if (substitution === undefined || substitution.value === '') return problem;
  return { path: problem.path, message: problem.message.split(substitution.value).join(substitution.template) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Replaces ${NAME} references; on any problem, records it and returns the text unchanged. */
function substituteString(text: string, path: PropertyKey[], { env, problems }: SubstitutionState): string {
  if (!text.includes('${')) return text;
  let out = '';
  let failed = false;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i++;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      problems.push({ path, message: 'unterminated "${"; write ${NAME}, or $${ for a literal "${"' });
      return text;
    }
    const reference = text.slice(i + 2, close);
    const fallbackAt = reference.indexOf(':-');
    const name = fallbackAt < 0 ? reference : reference.slice(0, fallbackAt);
    const fallback = fallbackAt < 0 ? undefined : reference.slice(fallbackAt + 2);
    if (!ENV_NAME.test(name)) {
      problems.push({ path, message: `"\${${name}}" is not an environment variable reference (NAME: letters, digits and "_"); write $\${ for a literal "\${"` });
      failed = true;
    } else {
      // As in the shell, ${NAME:-default} uses the default when NAME is unset or empty.
      const value = fallback !== undefined && (env[name] ?? '') === '' ? fallback : env[name];
      if (value === undefined) {
        problems.push({ path, message: `environment variable ${name} is not set` });
        failed = true;
      } else {
        out += value;
      }
    }
    i = close + 1;
  }
  return failed ? text : out;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping of options',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Zod's per-parse error map: operator-facing messages for the generic issues. */
const describeIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `is required (${expected})`;
      const unquote = typeof issue.input === 'string' && (issue.expected === 'number' || issue.expected === 'boolean') ? ' (write it without quotes)' : '';
      return `expected ${expected}, got ${describeValue(issue.input)}${unquote}`;
    }
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'array') return `must list at least ${minimum} item${minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return minimum === 1 ? 'must not be empty' : `must be at least ${minimum} characters`;
      return issue.inclusive === false ? `must be greater than ${minimum}` : `must be at least ${minimum}`;
    }
    case 'too_big': {
      const maximum = Number(issue.maximum);
      if (issue.origin === 'array') return `must list at most ${maximum} items`;
      if (issue.origin === 'string') return `must be at most ${maximum} characters`;
      return issue.inclusive === false ? `must be less than ${maximum}` : `must be at most ${maximum}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((value) => JSON.stringify(value)).join(', ');
      return issue.input === undefined ? `is required (one of ${values})` : `must be one of ${values}; got ${describeValue(issue.input)}`;
    }
    default:
      return undefined;
  }
};

function toProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code !== 'unrecognized_keys') return [{ path: formatConfigPath(issue.path), message: issue.message }];
  const valid = configKeysAt(issue.path) ?? [];
  return issue.keys.map((key) => {
    const guess = closest(key, valid);
    const hint = guess !== undefined ? `; did you mean "${guess}"?` : valid.length > 0 ? ` (options here: ${valid.join(', ')})` : '';
    return { path: formatConfigPath([...issue.path, key]), message: `unknown option${hint}` };
  });
}

/** The valid key nearest to a mistyped one (case-insensitive edit distance at most 2), if any. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
