/**
 * One frozen, validated Configuration: defaults → config file → environment → flags, checked after
 * merging. The only module that reads process.env (it is passed in, so tests inject their own).
 * The `ai` section is resolved after validation: the provider is chosen and its API key — from the
 * environment only — is attached as a `Secret` (see ai.ts).
 */
import { AlertsSectionSchema, NotificationsSectionSchema } from './alerts.js';
import { readFileSync } from 'node:fs';
import { parseYaml } from './yaml.js';
import { z } from 'zod';
import { ConfigurationError, formatPath } from '../domain/index.js';
import {
  AI_ENVIRONMENT_VARIABLES,
  AI_SECRET_VARIABLES,
  type AiConfiguration,
  AiSectionSchema,
  type EnvironmentParser,
  resolveAiConfiguration,
} from './ai.js';
import { AuditSectionSchema, ShadowSectionSchema } from './audit.js';
import { duration, ServingLimitsShape } from './server.js';
import { ClustersSchema, WATCH_DEFAULTS, WatchSchema } from './clusters.js';
import { loadRunbooks } from './runbooks.js';
import type { LoadedRunbook } from '../runbooks/schema.js';
import { UiSectionSchema } from './ui.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Where a pod's ServiceAccount token, CA and namespace are mounted (the kubelet's default). */
export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const SCOPES = ['remediate:analyze', 'remediate:execute', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

const StaticTokenSchema = z.strictObject({
  /** Who this token is (recorded as the actor and approver). */
  name: z.string().min(1),
  /** sha256 of the token, hex; the token itself is never stored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 hex digest of the token'),
  scopes: z.array(z.enum(SCOPES)).min(1),
});

const ServiceAccountGrantSchema = z.strictObject({
  namespace: z.string().min(1),
  /** A ServiceAccount name, or `*` for every ServiceAccount of the namespace. */
  name: z.string().min(1),
  scopes: z.array(z.enum(SCOPES)).min(1),
});

export const ConfigurationSchema = z
  .strictObject({
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** YAML file with named policies; the embedded policies are used when absent. */
    policyFile: z.string().min(1).optional(),
    /** Directory for the embedded database and other state. */
    dataDir: z.string().min(1).default('.kubemend'),
    cluster: z
      .strictObject({
        kubeconfig: z.string().min(1).optional(),
        /**
         * The `KUBECONFIG` variable (the client's default chain reads it itself): with neither it, a
         * `kubeconfig`, `~/.kube/config` nor a service host, no cluster is looked for at all.
         */
        kubeconfigVariable: z.string().min(1).optional(),
        context: z.string().min(1).optional(),
        /** Never contact a cluster: analyse only what the caller sent. */
        offline: z.boolean().default(false),
        /** Wall-clock budget for gathering live context, in milliseconds. */
        gatherTimeoutMs: z.number().int().min(100).max(60_000).default(4_000),
        /** Upper bound on API calls per live-context gathering. */
        maxApiCalls: z.number().int().min(1).max(500).default(60),
        /**
         * In-cluster: the API server's address, as the kubelet sets it in every pod
         * (KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT). Used only when no kubeconfig is found.
         */
        serviceHost: z.string().min(1).optional(),
        servicePort: z.number().int().min(1).max(65_535).optional(),
        /** In-cluster: directory holding `token`, `ca.crt` and `namespace` (DEFAULT_SERVICE_ACCOUNT_DIR). */
        serviceAccountDir: z.string().min(1).optional(),
      })
      .default({ offline: false, gatherTimeoutMs: 4_000, maxApiCalls: 60 }),
    server: z
      .strictObject({
        /** Loopback unless told otherwise. */
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
        /** Largest request body accepted (413 above). */
        bodyLimitBytes: z
          .number()
          .int()
          .min(1_024)
          .max(128 * 1024 * 1024)
          .default(32 * 1024 * 1024),
        /** Origins allowed to call /mcp from a browser (the Origin header); loopback origins always are. */
        allowedOrigins: z.array(z.string()).default([]),
        /** Requests processed at once; more get 429 with Retry-After. */
        maxInFlight: z.number().int().min(1).max(10_000).default(256),
        /** Time limits, rate limits, the async queue, MCP session caps (server.ts). */
        ...ServingLimitsShape,
      })
      .prefault({}),
    auth: z
      .strictObject({
        tokens: z.array(StaticTokenSchema).default([]),
        /**
         * YAML file with more static tokens (a list like `tokens`, e.g. a mounted Secret); its entries
         * are added to `tokens` when the configuration is loaded.
         */
        tokensFile: z.string().min(1).optional(),
        /** Kubernetes ServiceAccounts accepted through TokenReview, and their scopes. */
        serviceAccounts: z.array(ServiceAccountGrantSchema).default([]),
      })
      .default({ tokens: [], serviceAccounts: [] }),
    storage: z
      .strictObject({
        driver: z.enum(['sqlite', 'postgres', 'memory']).default('sqlite'),
        /** SQLite file (default: <dataDir>/kubemend.db). */
        path: z.string().min(1).optional(),
        /** PostgreSQL connection URL. */
        url: z.string().min(1).optional(),
        /**
         * PostgreSQL schema for kubemend's tables (default `public`): several installations — or
         * test runs — may share one database, each in its own schema.
         */
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and underscores (at most 63)')
          .optional(),
        /**
         * SQLite durability: `normal` (WAL; every acknowledged write survives a crash of kubemend,
         * a power failure of the host may lose the last transactions) or `full` (fsync every commit).
         */
        sqliteSynchronous: z.enum(['normal', 'full']).default('normal'),
        /**
         * Where SQLite writes run: `thread` — a worker thread, the second core, does every write in
         * group commits while the serving thread reads; `inline` — in the serving thread; `auto`
         * (default) — `thread` for the long-running commands (serve, mcp, watch), `inline` for a
         * one-shot run (analyze), whose few writes would wait for a thread to start.
         */
        sqliteWriter: z.enum(['auto', 'thread', 'inline']).default('auto'),
        /** Terminal sessions older than this are purged (e.g. 30d, 12h). */
        retention: z
          .string()
          .regex(/^\d+(ms|s|m|h|d)$/)
          .default('30d'),
        /**
         * How long an instance executing a session may go without renewing its lease (it renews every
         * third of it) before another instance — or its own restart — restores the session's
         * snapshots. Keeps a starting replica from rolling back a live replica's change.
         */
        executionLease: duration('30s'),
      })
      .default({
        driver: 'sqlite',
        retention: '30d',
        sqliteSynchronous: 'normal',
        sqliteWriter: 'auto',
        executionLease: '30s',
      })
      .refine((storage) => storage.driver !== 'postgres' || storage.url !== undefined, {
        message: 'storage.url is required for the postgres driver',
        path: ['url'],
      }),
    /** Checking the audit chain (see audit.ts). */
    audit: AuditSectionSchema,
    /** Shadow mode (ADR 0035): how long and how often a shadow session's target is watched. */
    shadow: ShadowSectionSchema,
    /** The model provider and the bounds of an AI analysis (see ai.ts); resolved after validation. */
    ai: AiSectionSchema.prefault({}),
    /** Routing of Alertmanager alerts (see alerts.ts, docs/alerts.md). */
    alerts: AlertsSectionSchema,
    /** Notification sinks and the outbox's retries (see alerts.ts, docs/notifications.md). */
    notifications: NotificationsSectionSchema,
    /** The team's runbooks inline (docs/runbooks.md); validated after the rest, with line numbers. */
    runbooks: z.array(z.unknown()).optional(),
    /** A directory of runbook files (`*.yaml`, `*.yml`). */
    runbooksDir: z.string().min(1).optional(),
    /** The approvals web page at /ui (see ui.ts). */
    ui: UiSectionSchema,
    /**
     * Several clusters, each a kubeconfig context with its own policies (clusters.ts). Absent: the one
     * cluster of `cluster`, named after its context.
     */
    clusters: ClustersSchema.optional(),
    /** The event-driven trigger (`kubemend watch`; `serve` when `enabled`), see clusters.ts. */
    watch: WatchSchema.default({ ...WATCH_DEFAULTS }),
  })
  .superRefine((configuration, context) => {
    const names = (configuration.clusters ?? []).map((entry) => entry.name);
    configuration.watch.clusters?.forEach((name, index) => {
      if (configuration.clusters === undefined || !names.includes(name))
        context.addIssue({
          code: 'custom',
          path: ['watch', 'clusters', index],
          message: configuration.clusters
            ? `no cluster named "${name}" in clusters (configured: ${names.join(', ')})`
            : `names a cluster, but no clusters are configured (clusters:)`,
        });
    });
  });
export type Configuration = Readonly<
  Omit<z.infer<typeof ConfigurationSchema>, 'ai' | 'runbooks'> & {
    /** The provider chosen, with its model, endpoint and key; provider `none` with a `reason` otherwise. */
    readonly ai: AiConfiguration;
    /** Every runbook, inline ones first, then the directory's files in name order. */
    readonly runbooks: readonly LoadedRunbook[];
  }
>;
export type ConfigurationInput = z.input<typeof ConfigurationSchema>;

/** Environment variables and the configuration keys they set. Messages name both. */
export const ENVIRONMENT_VARIABLES = {
  KUBEMEND_LOG_LEVEL: 'logLevel',
  KUBEMEND_POLICY_FILE: 'policyFile',
  KUBEMEND_RUNBOOKS_DIR: 'runbooksDir',
  KUBEMEND_DATA_DIR: 'dataDir',
  KUBEMEND_CONTEXT: 'cluster.context',
  KUBEMEND_OFFLINE: 'cluster.offline',
  KUBEMEND_KUBECONFIG: 'cluster.kubeconfig',
  KUBECONFIG: 'cluster.kubeconfigVariable',
  KUBEMEND_AUTH_TOKENS_FILE: 'auth.tokensFile',
  KUBEMEND_SERVICE_ACCOUNT_DIR: 'cluster.serviceAccountDir',
  KUBERNETES_SERVICE_HOST: 'cluster.serviceHost',
  KUBERNETES_SERVICE_PORT: 'cluster.servicePort',
  KUBEMEND_HOST: 'server.host',
  KUBEMEND_PORT: 'server.port',
  KUBEMEND_STORAGE: 'storage.driver',
  KUBEMEND_DATABASE_URL: 'storage.url',
  KUBEMEND_DB_PATH: 'storage.path',
  KUBEMEND_SQLITE_WRITER: 'storage.sqliteWriter',
  KUBEMEND_SHADOW_WINDOW: 'shadow.window',
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

const PARSERS: Partial<Record<keyof typeof ENVIRONMENT_VARIABLES, EnvironmentParser>> = {
  KUBEMEND_OFFLINE: (raw) => ['1', 'true', 'yes'].includes(raw.toLowerCase()),
  KUBEMEND_PORT: (raw) => Number(raw),
  KUBERNETES_SERVICE_PORT: (raw) => Number(raw),
};

/** Every variable that sets a key: its key and how its text is read (verbatim when not said). */
const BINDINGS: ReadonlyArray<readonly [string, string, EnvironmentParser | undefined]> = [
  ...Object.entries(ENVIRONMENT_VARIABLES).map(
    ([variable, key]) => [variable, key, PARSERS[variable as keyof typeof ENVIRONMENT_VARIABLES]] as const,
  ),
  ...Object.entries(AI_ENVIRONMENT_VARIABLES).map(
    ([variable, binding]) => [variable, binding.key, binding.parse] as const,
  ),
];

function fromEnvironment(env: Readonly<Record<string, string | undefined>>): Plain {
  const out: Plain = {};
  for (const [variable, path, parse] of BINDINGS) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = parse ? parse(raw, variable) : raw;
    if (value !== undefined) setPath(out, path, value);
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

/** Where a key's value may have come from, for messages: `(flag or VARIABLE)`. */
function originOf(path: string): string {
  const variable = Object.entries(ENVIRONMENT_VARIABLES).find(([, key]) => key === path)?.[0];
  if (variable) return ` (flag or ${variable})`;
  // The ai keys have no command-line flags; `ai.redaction.extraPatterns[2]` is still the variable's.
  const ai = Object.entries(AI_ENVIRONMENT_VARIABLES).find(
    ([, binding]) => path === binding.key || path.startsWith(`${binding.key}[`),
  )?.[0];
  return ai ? ` (${ai})` : '';
}

/** An unknown key that looks like a credential is answered with where credentials go. */
function unknownKeyMessage(key: string): string {
  const secret = key.startsWith('ai.') && /key|token|secret|password/i.test(key.split('.').at(-1) ?? '');
  return secret
    ? `unknown configuration key ${key} (API keys are read from the environment only: ${AI_SECRET_VARIABLES.join(', ')})`
    : `unknown configuration key ${key}`;
}

/** `auth.tokensFile`: its list of tokens is appended to `auth.tokens` (validated with them). */
function withTokensFile(merged: Plain): Plain {
  const auth = merged.auth;
  if (!isPlain(auth) || typeof auth.tokensFile !== 'string' || auth.tokensFile === '') return merged;
  const path = auth.tokensFile;
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigurationError(
      `tokens file ${path} cannot be read (auth.tokensFile / KUBEMEND_AUTH_TOKENS_FILE)`,
      { cause },
    );
  }
  if (parsed === null || parsed === undefined) parsed = [];
  if (!Array.isArray(parsed))
    throw new ConfigurationError(`tokens file ${path} must hold a list of {name, sha256, scopes}`);
  const inline = Array.isArray(auth.tokens) ? auth.tokens : [];
  return { ...merged, auth: { ...auth, tokens: [...inline, ...parsed] } };
}

export function loadConfiguration(sources: ConfigurationSources = {}): Configuration {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.KUBEMEND_CONFIG;
  let merged: Plain = {};
  const fromFile = file ? readConfigFile(file) : {};
  merged = merge(merged, fromFile);
  merged = merge(merged, fromEnvironment(env));
  if (sources.flags) merged = merge(merged, sources.flags as Plain);
  merged = withTokensFile(merged);
  const parsed = ConfigurationSchema.safeParse(merged);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const keys =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => formatPath([...issue.path, key]))
          : [formatPath(issue.path)];
      return keys
        .map((key) =>
          issue.code === 'unrecognized_keys'
            ? unknownKeyMessage(key)
            : `${key}${originOf(key)}: ${issue.message}`,
        )
        .join('; ');
    });
    throw new ConfigurationError(`invalid configuration: ${messages.join('; ')}`);
  }
  const ai = Object.freeze(resolveAiConfiguration(parsed.data.ai, env));
  const runbooks = Object.freeze(
    loadRunbooks({
      ...(parsed.data.runbooks !== undefined ? { inline: parsed.data.runbooks } : {}),
      ...(file && fromFile['runbooks'] !== undefined ? { configFile: file } : {}),
      ...(parsed.data.runbooksDir !== undefined ? { dir: parsed.data.runbooksDir } : {}),
    }),
  );
  return Object.freeze({ ...parsed.data, ai, runbooks });
}
