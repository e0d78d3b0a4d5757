/**
 * The `ai` section of the Configuration: which model provider (Anthropic Claude or any
 * OpenAI-compatible endpoint), which model, the budgets of one analysis, retries, the circuit
 * breaker and redaction. Set like every other key (defaults → YAML file → environment → flags); the
 * variables keep the names the provider SDKs use (`ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`) or
 * `KUBEMEND_AI_*`.
 *
 * API keys are not configuration keys: they come from the environment only (`ANTHROPIC_API_KEY`,
 * `OPENAI_API_KEY`) and are held as a `Secret`, which never renders its value.
 *
 * Selection: `ai.provider` (`KUBEMEND_AI_PROVIDER`) = `anthropic`, `openai` or `none`; without it,
 * Anthropic when `ANTHROPIC_API_KEY` is set, else OpenAI(-compatible) when `OPENAI_API_KEY` is set,
 * else none — with a `reason`, so that the service can say why it answers from the rules alone.
 */
import { z } from 'zod';
import { ConfigurationError } from '../domain/index.js';
import { Secret } from './secret.js';

export const AI_PROVIDERS = ['anthropic', 'openai', 'none'] as const;
export type AiProviderName = (typeof AI_PROVIDERS)[number];

/** Models used when `ai.model` is absent (the official endpoints only). */
export const DEFAULT_MODELS: Readonly<Record<Exclude<AiProviderName, 'none'>, string>> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4.1',
};

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const milliseconds = (min: number, max: number) => z.number().int().min(min).max(max);

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'g');
    return true;
  } catch {
    return false;
  }
}

const EndpointSchema = z.strictObject({ baseUrl: z.string().min(1).optional() });

/** The keys a file, the environment or flags may set under `ai`. */
export const AiSectionSchema = z.strictObject({
  /** Absent: chosen by which API key is set. */
  provider: z.enum(AI_PROVIDERS).optional(),
  /** Absent: `DEFAULT_MODELS` for the official endpoints; required for a custom OpenAI base URL. */
  model: z.string().min(1).optional(),
  anthropic: EndpointSchema.prefault({}),
  openai: EndpointSchema.prefault({}),
  /** Wall-clock budget of one analysis. */
  timeoutMs: milliseconds(500, 300_000).default(10_000),
  /** Upper bound for one model call (also bounded by what is left of `timeoutMs`). */
  callTimeoutMs: milliseconds(500, 300_000).default(8_000),
  /** Model calls per analysis, the final answer included (a repair may add one). */
  maxSteps: z.number().int().min(1).max(20).default(6),
  maxToolOutputChars: z.number().int().min(500).max(100_000).default(6_000),
  /** Input plus output tokens over all calls of one analysis. */
  maxTotalTokens: z.number().int().min(2_000).max(2_000_000).default(80_000),
  maxOutputTokens: z.number().int().min(256).max(32_000).default(2_048),
  /** Size bound of the incident document sent with the first message. */
  maxContextChars: z.number().int().min(2_000).max(400_000).default(40_000),
  /** Absent: 0 for Anthropic, the endpoint's default for OpenAI (reasoning models reject it). */
  temperature: z.number().min(0).max(2).optional(),
  retry: z
    .strictObject({
      maxRetries: z.number().int().min(0).max(10).default(2),
      initialDelayMs: milliseconds(1, 60_000).default(250),
      maxDelayMs: milliseconds(1, 120_000).default(4_000),
    })
    .prefault({}),
  breaker: z
    .strictObject({
      /** Consecutive transient failures (429, 5xx, timeouts, network) that open the circuit. */
      failures: z.number().int().min(1).max(100).default(5),
      halfOpenAfterMs: milliseconds(100, 3_600_000).default(30_000),
    })
    .prefault({}),
  redaction: z
    .strictObject({
      enabled: z.boolean().default(true),
      extraPatterns: z
        .array(z.string().min(1).refine(validRegex, 'not a valid regular expression'))
        .default([]),
      /** Replace namespace, workload, pod and node names with stable tokens; restored in the answer. */
      pseudonymize: z.boolean().default(false),
    })
    .prefault({}),
});
export type AiSection = z.infer<typeof AiSectionSchema>;

/** The resolved `configuration.ai`: the provider chosen, its model, key and endpoint. */
export type AiConfiguration = Readonly<
  Omit<AiSection, 'provider' | 'model' | 'anthropic' | 'openai'> & {
    readonly provider: AiProviderName;
    /** Why no provider is used (set when `provider` is `none`). */
    readonly reason?: string;
    /** Empty when `provider` is `none`. */
    readonly model: string;
    readonly apiKey?: Secret;
    readonly baseUrl?: string;
  }
>;

// ---------------------------------------------------------------------------------------------
// The environment

type Environment = Readonly<Record<string, string | undefined>>;

/** Turns a variable's value into a configuration value; undefined when it is blank. */
export type EnvironmentParser = (raw: string, variable: string) => unknown;

function trimmed(raw: string): string | undefined {
  const value = raw.trim();
  return value === '' ? undefined : value;
}

const text: EnvironmentParser = (raw) => trimmed(raw);

const provider: EnvironmentParser = (raw, variable) => {
  const value = trimmed(raw)?.toLowerCase();
  if (value !== undefined && !(AI_PROVIDERS as readonly string[]).includes(value))
    throw new ConfigurationError(`${variable}: expected one of ${AI_PROVIDERS.join(', ')}, got "${value}"`);
  return value;
};

const integer: EnvironmentParser = (raw, variable) => {
  const value = trimmed(raw);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new ConfigurationError(`${variable}: expected a whole number, got "${value}"`);
  return Number(value);
};

const decimal: EnvironmentParser = (raw, variable) => {
  const value = trimmed(raw);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed))
    throw new ConfigurationError(`${variable}: expected a number, got "${value}"`);
  return parsed;
};

const flag: EnvironmentParser = (raw, variable) => {
  const value = trimmed(raw)?.toLowerCase();
  if (value === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigurationError(`${variable}: expected true or false, got "${value}"`);
};

/** A JSON array of patterns, or one pattern per line. */
const patterns: EnvironmentParser = (raw, variable) => {
  const value = trimmed(raw);
  if (value === undefined) return undefined;
  if (value.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConfigurationError(`${variable}: a value starting with [ must be a JSON array of strings`);
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string'))
      throw new ConfigurationError(`${variable}: expected a JSON array of strings`);
    return parsed;
  }
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
};

/** Environment variables of the `ai` section: the key each sets and how its text is read. */
export const AI_ENVIRONMENT_VARIABLES = {
  KUBEMEND_AI_PROVIDER: { key: 'ai.provider', parse: provider },
  KUBEMEND_AI_MODEL: { key: 'ai.model', parse: text },
  ANTHROPIC_BASE_URL: { key: 'ai.anthropic.baseUrl', parse: text },
  OPENAI_BASE_URL: { key: 'ai.openai.baseUrl', parse: text },
  KUBEMEND_AI_TIMEOUT_MS: { key: 'ai.timeoutMs', parse: integer },
  KUBEMEND_AI_CALL_TIMEOUT_MS: { key: 'ai.callTimeoutMs', parse: integer },
  KUBEMEND_AI_MAX_STEPS: { key: 'ai.maxSteps', parse: integer },
  KUBEMEND_AI_MAX_TOOL_OUTPUT_CHARS: { key: 'ai.maxToolOutputChars', parse: integer },
  KUBEMEND_AI_MAX_TOTAL_TOKENS: { key: 'ai.maxTotalTokens', parse: integer },
  KUBEMEND_AI_MAX_OUTPUT_TOKENS: { key: 'ai.maxOutputTokens', parse: integer },
  KUBEMEND_AI_MAX_CONTEXT_CHARS: { key: 'ai.maxContextChars', parse: integer },
  KUBEMEND_AI_TEMPERATURE: { key: 'ai.temperature', parse: decimal },
  KUBEMEND_AI_MAX_RETRIES: { key: 'ai.retry.maxRetries', parse: integer },
  KUBEMEND_AI_RETRY_INITIAL_DELAY_MS: { key: 'ai.retry.initialDelayMs', parse: integer },
  KUBEMEND_AI_RETRY_MAX_DELAY_MS: { key: 'ai.retry.maxDelayMs', parse: integer },
  KUBEMEND_AI_BREAKER_FAILURES: { key: 'ai.breaker.failures', parse: integer },
  KUBEMEND_AI_BREAKER_HALF_OPEN_MS: { key: 'ai.breaker.halfOpenAfterMs', parse: integer },
  KUBEMEND_AI_REDACT: { key: 'ai.redaction.enabled', parse: flag },
  KUBEMEND_AI_REDACT_PATTERNS: { key: 'ai.redaction.extraPatterns', parse: patterns },
  KUBEMEND_AI_PSEUDONYMIZE: { key: 'ai.redaction.pseudonymize', parse: flag },
} as const satisfies Record<string, { key: string; parse: EnvironmentParser }>;

/** The secrets, read from the environment only; never configuration keys. */
export const AI_SECRET_VARIABLES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'] as const;

// ---------------------------------------------------------------------------------------------
// Resolution

/** `https://host` (the Anthropic SDK convention) and `https://host/v1` both name the same API. */
export function normalizeAnthropicBaseUrl(url: string): string {
  const trimmedUrl = url.replace(/\/+$/, '');
  return /\/v1$/.test(trimmedUrl) ? trimmedUrl : `${trimmedUrl}/v1`;
}

const BaseUrlSchema = z.url({ protocol: /^https?$/ });

/**
 * `configuration.ai` from the validated section and the environment's API keys. Pure. Throws a
 * `ConfigurationError` naming the key and variable when the chosen endpoint is not an http(s) URL;
 * returns provider `none` with a `reason` when no provider can be used.
 */
export function resolveAiConfiguration(section: AiSection, env: Environment): AiConfiguration {
  const { provider: requested, model, anthropic, openai, ...tuning } = section;
  const anthropicKey = trimmed(env.ANTHROPIC_API_KEY ?? '');
  const openaiKey = trimmed(env.OPENAI_API_KEY ?? '');
  const none = (reason: string): AiConfiguration => ({ ...tuning, provider: 'none', reason, model: '' });

  const chosen = requested ?? (anthropicKey ? 'anthropic' : openaiKey ? 'openai' : 'none');
  if (chosen === 'none')
    return none(
      requested === 'none'
        ? 'KUBEMEND_AI_PROVIDER is none'
        : 'no AI provider is configured (set ANTHROPIC_API_KEY or OPENAI_API_KEY)',
    );
  if (chosen === 'anthropic') {
    if (!anthropicKey) return none('KUBEMEND_AI_PROVIDER is anthropic but ANTHROPIC_API_KEY is not set');
    const baseUrl = normalizeAnthropicBaseUrl(anthropic.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL);
    return {
      ...tuning,
      provider: 'anthropic',
      model: model ?? DEFAULT_MODELS.anthropic,
      apiKey: new Secret(anthropicKey),
      baseUrl: checkedUrl(baseUrl, 'ai.anthropic.baseUrl (ANTHROPIC_BASE_URL)'),
      temperature: tuning.temperature ?? 0,
    };
  }
  if (openai.baseUrl === undefined && !openaiKey)
    return none('KUBEMEND_AI_PROVIDER is openai but OPENAI_API_KEY is not set');
  if (openai.baseUrl !== undefined && model === undefined)
    return none('OPENAI_BASE_URL names a custom endpoint: set KUBEMEND_AI_MODEL to one of its models');
  // A custom endpoint (Ollama, vLLM, LiteLLM) may need no key; the official one does (checked above).
  const baseUrl = (openai.baseUrl ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return {
    ...tuning,
    provider: 'openai',
    model: model ?? DEFAULT_MODELS.openai,
    ...(openaiKey ? { apiKey: new Secret(openaiKey) } : {}),
    baseUrl: checkedUrl(baseUrl, 'ai.openai.baseUrl (OPENAI_BASE_URL)'),
  };
}

function checkedUrl(url: string, origin: string): string {
  const parsed = BaseUrlSchema.safeParse(url);
  if (!parsed.success)
    throw new ConfigurationError(
      `invalid configuration: ${origin}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
    );
  return url;
}

/** The AI configuration for logs and reports: whether a key is set, never the key. */
export function describeAiConfiguration(ai: AiConfiguration): Record<string, unknown> {
  const { apiKey, ...rest } = ai;
  return { ...rest, apiKey: apiKey ? 'set' : 'absent' };
}
