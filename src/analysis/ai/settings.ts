/**
 * AI settings from environment variables: a zod schema and one pure function. This module never
 * reads `process.env`; the configuration layer passes the environment in (tests pass their own).
 *
 * Selection: `KUBEMEND_AI_PROVIDER=anthropic|openai|none`; without it, Anthropic when
 * `ANTHROPIC_API_KEY` is set, else OpenAI(-compatible) when `OPENAI_API_KEY` is set, else none —
 * with a reason, so that the service can say why it answers from the rules alone.
 */
import { z } from 'zod';
import { ConfigurationError } from '../../domain/index.js';
import type { AiBudget } from './port.js';

export const AI_PROVIDERS = ['anthropic', 'openai', 'none'] as const;
export type AiProviderName = (typeof AI_PROVIDERS)[number];

/** Models used when `KUBEMEND_AI_MODEL` is absent (the official endpoints only). */
export const DEFAULT_MODELS: Readonly<Record<Exclude<AiProviderName, 'none'>, string>> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4.1',
};

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Every environment variable this module reads, and the setting it feeds. */
export const AI_ENVIRONMENT_VARIABLES = {
  KUBEMEND_AI_PROVIDER: 'provider',
  KUBEMEND_AI_MODEL: 'model',
  ANTHROPIC_API_KEY: 'apiKey (anthropic)',
  ANTHROPIC_BASE_URL: 'baseUrl (anthropic)',
  OPENAI_API_KEY: 'apiKey (openai)',
  OPENAI_BASE_URL: 'baseUrl (openai)',
  KUBEMEND_AI_TIMEOUT_MS: 'timeoutMs',
  KUBEMEND_AI_CALL_TIMEOUT_MS: 'callTimeoutMs',
  KUBEMEND_AI_MAX_STEPS: 'maxSteps',
  KUBEMEND_AI_MAX_TOOL_OUTPUT_CHARS: 'maxToolOutputChars',
  KUBEMEND_AI_MAX_TOTAL_TOKENS: 'maxTotalTokens',
  KUBEMEND_AI_MAX_OUTPUT_TOKENS: 'maxOutputTokens',
  KUBEMEND_AI_MAX_CONTEXT_CHARS: 'maxContextChars',
  KUBEMEND_AI_TEMPERATURE: 'temperature',
  KUBEMEND_AI_MAX_RETRIES: 'retry.maxRetries',
  KUBEMEND_AI_RETRY_INITIAL_DELAY_MS: 'retry.initialDelayMs',
  KUBEMEND_AI_RETRY_MAX_DELAY_MS: 'retry.maxDelayMs',
  KUBEMEND_AI_BREAKER_FAILURES: 'breaker.failures',
  KUBEMEND_AI_BREAKER_HALF_OPEN_MS: 'breaker.halfOpenAfterMs',
  KUBEMEND_AI_REDACT: 'redaction.enabled',
  KUBEMEND_AI_REDACT_PATTERNS: 'redaction.extraPatterns',
  KUBEMEND_AI_PSEUDONYMIZE: 'redaction.pseudonymize',
} as const;

const milliseconds = (min: number, max: number) => z.number().int().min(min).max(max);

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'g');
    return true;
  } catch {
    return false;
  }
}

export const AiSettingsSchema = z.strictObject({
  provider: z.enum(AI_PROVIDERS),
  /** Why no provider is used (set when `provider` is `none`). */
  reason: z.string().optional(),
  model: z.string(),
  apiKey: z.string().min(1).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
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
  temperature: z.number().min(0).max(2).optional(),
  retry: z
    .strictObject({
      maxRetries: z.number().int().min(0).max(10).default(2),
      initialDelayMs: milliseconds(1, 60_000).default(250),
      maxDelayMs: milliseconds(1, 120_000).default(4_000),
    })
    .default({ maxRetries: 2, initialDelayMs: 250, maxDelayMs: 4_000 }),
  breaker: z
    .strictObject({
      /** Consecutive transient failures (429, 5xx, timeouts, network) that open the circuit. */
      failures: z.number().int().min(1).max(100).default(5),
      halfOpenAfterMs: milliseconds(100, 3_600_000).default(30_000),
    })
    .default({ failures: 5, halfOpenAfterMs: 30_000 }),
  redaction: z
    .strictObject({
      enabled: z.boolean().default(true),
      extraPatterns: z
        .array(z.string().min(1).refine(validRegex, 'not a valid regular expression'))
        .default([]),
      /** Replace namespace, workload, pod and node names with stable tokens; restored in the answer. */
      pseudonymize: z.boolean().default(false),
    })
    .default({ enabled: true, extraPatterns: [], pseudonymize: false }),
});
export type AiSettings = Readonly<z.infer<typeof AiSettingsSchema>>;
export type AiSettingsInput = z.input<typeof AiSettingsSchema>;

type Environment = Readonly<Record<string, string | undefined>>;

function value(env: Environment, name: keyof typeof AI_ENVIRONMENT_VARIABLES): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: Environment, name: keyof typeof AI_ENVIRONMENT_VARIABLES): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new ConfigurationError(`${name}: expected a whole number, got "${raw}"`);
  return Number(raw);
}

function decimal(env: Environment, name: keyof typeof AI_ENVIRONMENT_VARIABLES): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed)) throw new ConfigurationError(`${name}: expected a number, got "${raw}"`);
  return parsed;
}

function flag(env: Environment, name: keyof typeof AI_ENVIRONMENT_VARIABLES): boolean | undefined {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigurationError(`${name}: expected true or false, got "${raw}"`);
}

/** A JSON array of patterns, or one pattern per line. */
function patterns(env: Environment): string[] | undefined {
  const raw = value(env, 'KUBEMEND_AI_REDACT_PATTERNS');
  if (raw === undefined) return undefined;
  if (raw.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigurationError(
        'KUBEMEND_AI_REDACT_PATTERNS: a value starting with [ must be a JSON array of strings',
      );
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string'))
      throw new ConfigurationError('KUBEMEND_AI_REDACT_PATTERNS: expected a JSON array of strings');
    return parsed;
  }
  return raw
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** `https://host` (the Anthropic SDK convention) and `https://host/v1` both name the same API. */
export function normalizeAnthropicBaseUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

function withoutProvider(reason: string, rest: Partial<AiSettingsInput>): AiSettingsInput {
  return { ...rest, provider: 'none', reason, model: '' };
}

/**
 * Resolve the AI settings from an environment. Pure: same environment, same answer. Throws a
 * `ConfigurationError` naming the variable when a value is malformed; returns provider `none` with a
 * `reason` when no provider can be used.
 */
export function resolveAiSettings(env: Environment): AiSettings {
  const requested = value(env, 'KUBEMEND_AI_PROVIDER')?.toLowerCase();
  if (requested !== undefined && !(AI_PROVIDERS as readonly string[]).includes(requested)) {
    throw new ConfigurationError(
      `KUBEMEND_AI_PROVIDER: expected one of ${AI_PROVIDERS.join(', ')}, got "${requested}"`,
    );
  }
  const extraPatterns = patterns(env);
  const common: Partial<AiSettingsInput> = {
    timeoutMs: integer(env, 'KUBEMEND_AI_TIMEOUT_MS'),
    callTimeoutMs: integer(env, 'KUBEMEND_AI_CALL_TIMEOUT_MS'),
    maxSteps: integer(env, 'KUBEMEND_AI_MAX_STEPS'),
    maxToolOutputChars: integer(env, 'KUBEMEND_AI_MAX_TOOL_OUTPUT_CHARS'),
    maxTotalTokens: integer(env, 'KUBEMEND_AI_MAX_TOTAL_TOKENS'),
    maxOutputTokens: integer(env, 'KUBEMEND_AI_MAX_OUTPUT_TOKENS'),
    maxContextChars: integer(env, 'KUBEMEND_AI_MAX_CONTEXT_CHARS'),
    temperature: decimal(env, 'KUBEMEND_AI_TEMPERATURE'),
    retry: {
      maxRetries: integer(env, 'KUBEMEND_AI_MAX_RETRIES'),
      initialDelayMs: integer(env, 'KUBEMEND_AI_RETRY_INITIAL_DELAY_MS'),
      maxDelayMs: integer(env, 'KUBEMEND_AI_RETRY_MAX_DELAY_MS'),
    },
    breaker: {
      failures: integer(env, 'KUBEMEND_AI_BREAKER_FAILURES'),
      halfOpenAfterMs: integer(env, 'KUBEMEND_AI_BREAKER_HALF_OPEN_MS'),
    },
    redaction: {
      enabled: flag(env, 'KUBEMEND_AI_REDACT'),
      extraPatterns,
      pseudonymize: flag(env, 'KUBEMEND_AI_PSEUDONYMIZE'),
    },
  };
  const model = value(env, 'KUBEMEND_AI_MODEL');
  const anthropicKey = value(env, 'ANTHROPIC_API_KEY');
  const openaiKey = value(env, 'OPENAI_API_KEY');
  const anthropicUrl = value(env, 'ANTHROPIC_BASE_URL');
  const openaiUrl = value(env, 'OPENAI_BASE_URL');

  let input: AiSettingsInput;
  const provider = requested ?? (anthropicKey ? 'anthropic' : openaiKey ? 'openai' : 'none');
  if (provider === 'none') {
    input = withoutProvider(
      requested === 'none'
        ? 'KUBEMEND_AI_PROVIDER is none'
        : 'no AI provider is configured (set ANTHROPIC_API_KEY or OPENAI_API_KEY)',
      common,
    );
  } else if (provider === 'anthropic') {
    input = anthropicKey
      ? {
          ...common,
          provider,
          model: model ?? DEFAULT_MODELS.anthropic,
          apiKey: anthropicKey,
          baseUrl: normalizeAnthropicBaseUrl(anthropicUrl ?? ANTHROPIC_DEFAULT_BASE_URL),
          temperature: common.temperature ?? 0,
        }
      : withoutProvider('KUBEMEND_AI_PROVIDER is anthropic but ANTHROPIC_API_KEY is not set', common);
  } else if (openaiUrl === undefined && !openaiKey) {
    input = withoutProvider('KUBEMEND_AI_PROVIDER is openai but OPENAI_API_KEY is not set', common);
  } else if (openaiUrl !== undefined && model === undefined) {
    input = withoutProvider(
      'OPENAI_BASE_URL names a custom endpoint: set KUBEMEND_AI_MODEL to one of its models',
      common,
    );
  } else {
    // A custom endpoint (Ollama, vLLM, LiteLLM) may need no key; the official one does (checked above).
    input = {
      ...common,
      provider: 'openai',
      model: model ?? DEFAULT_MODELS.openai,
      ...(openaiKey ? { apiKey: openaiKey } : {}),
      baseUrl: (openaiUrl ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, ''),
    };
  }

  const parsed = AiSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const variable = variableFor(key, provider);
      return `${variable ?? key}: ${issue.message}`;
    });
    throw new ConfigurationError(`invalid AI settings: ${messages.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

function variableFor(key: string, provider: string): string | undefined {
  if (key === 'baseUrl') return provider === 'anthropic' ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL';
  if (key === 'apiKey') return provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';
  if (key.startsWith('redaction.extraPatterns')) return 'KUBEMEND_AI_REDACT_PATTERNS';
  return Object.entries(AI_ENVIRONMENT_VARIABLES).find(([, setting]) => setting === key)?.[0];
}

/** The per-analysis budget the service passes in `AiRequest.budget`. */
export function aiBudgetFrom(settings: AiSettings): AiBudget {
  return {
    timeoutMs: settings.timeoutMs,
    maxSteps: settings.maxSteps,
    maxToolOutputChars: settings.maxToolOutputChars,
    maxTotalTokens: settings.maxTotalTokens,
  };
}

/** The settings without the key, for logs and `/readyz`-style reports. */
export function describeAiSettings(settings: AiSettings): Record<string, unknown> {
  const { apiKey, ...rest } = settings;
  return { ...rest, apiKey: apiKey ? 'set' : 'absent' };
}
