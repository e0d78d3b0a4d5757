/**
 * One frozen, validated Configuration: defaults → config file → environment → flags, checked after
 * merging. The only module that reads process.env (it is passed in, so tests inject their own).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigurationError, formatPath } from '../domain/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigurationSchema = z.strictObject({
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** YAML file with named policies; the embedded policies are used when absent. */
  policyFile: z.string().min(1).optional(),
  /** Directory for the embedded database and other state. */
  dataDir: z.string().min(1).default('.kubemend'),
  cluster: z
    .strictObject({
      kubeconfig: z.string().min(1).optional(),
      context: z.string().min(1).optional(),
      /** Never contact a cluster: analyse only what the caller sent. */
      offline: z.boolean().default(false),
      /** Wall-clock budget for gathering live context, in milliseconds. */
      gatherTimeoutMs: z.number().int().min(100).max(60_000).default(4_000),
      /** Upper bound on API calls per live-context gathering. */
      maxApiCalls: z.number().int().min(1).max(500).default(60),
    })
    .default({ offline: false, gatherTimeoutMs: 4_000, maxApiCalls: 60 }),
});
export type Configuration = Readonly<z.infer<typeof ConfigurationSchema>>;
export type ConfigurationInput = z.input<typeof ConfigurationSchema>;

/** Environment variables and the configuration keys they set. Messages name both. */
export const ENVIRONMENT_VARIABLES = {
  KUBEMEND_LOG_LEVEL: 'logLevel',
  KUBEMEND_POLICY_FILE: 'policyFile',
  KUBEMEND_DATA_DIR: 'dataDir',
  KUBEMEND_CONTEXT: 'cluster.context',
  KUBEMEND_OFFLINE: 'cluster.offline',
  KUBEMEND_KUBECONFIG: 'cluster.kubeconfig',
} as const;

export interface ConfigurationSources {
  /** Environment variables; the process environment when absent (tests pass their own). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a YAML configuration file (`--config` or `KUBEMEND_CONFIG`). */
  readonly file?: string;
  /** Values from command-line flags, already in configuration shape. */
  readonly flags?: ConfigurationInput;
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function merge(base: Plain, override: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    out[key] = isPlain(value) && isPlain(out[key]) ? merge(out[key] as Plain, value) : value;
  }
  return out;
}

function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split('.');
  let current = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlain(current[key])) current[key] = {};
    current = current[key] as Plain;
  }
  current[keys.at(-1)!] = value;
}

function fromEnvironment(env: Readonly<Record<string, string | undefined>>): Plain {
  const out: Plain = {};
  for (const [variable, path] of Object.entries(ENVIRONMENT_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = path === 'cluster.offline' ? ['1', 'true', 'yes'].includes(raw.toLowerCase()) : raw;
    setPath(out, path, value);
  }
  return out;
}

function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigurationError(`configuration file ${path} cannot be read (--config / KUBEMEND_CONFIG)`, {
      cause,
    });
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (!isPlain(parsed)) throw new ConfigurationError(`configuration file ${path} must hold a mapping`);
  return parsed;
}

function variableFor(path: string): string | undefined {
  return Object.entries(ENVIRONMENT_VARIABLES).find(([, key]) => key === path)?.[0];
}

export function loadConfiguration(sources: ConfigurationSources = {}): Configuration {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.KUBEMEND_CONFIG;
  let merged: Plain = {};
  if (file) merged = merge(merged, readConfigFile(file));
  merged = merge(merged, fromEnvironment(env));
  if (sources.flags) merged = merge(merged, sources.flags as Plain);
  const parsed = ConfigurationSchema.safeParse(merged);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const keys =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => formatPath([...issue.path, key]))
          : [formatPath(issue.path)];
      return keys
        .map((key) => {
          const variable = variableFor(key);
          const origin = variable ? ` (flag or ${variable})` : '';
          return issue.code === 'unrecognized_keys'
            ? `unknown configuration key ${key}`
            : `${key}${origin}: ${issue.message}`;
        })
        .join('; ');
    });
    throw new ConfigurationError(`invalid configuration: ${messages.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
