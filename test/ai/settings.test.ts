/**
 * `configuration.ai` from the environment: provider selection, defaults, base URL conventions,
 * malformed values named by variable. Pure: the environment is passed in. (The `ai` section's file
 * and flag layers, and the key's secrecy: src/config/configuration.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/domain/index.js';
import { aiBudgetFrom } from '../../src/analysis/ai/budget.js';
import { describeAiConfiguration } from '../../src/config/ai.js';
import { aiConfigurationFrom as resolveAiSettings } from './support.js';

describe('provider selection', () => {
  it.each([
    ['no keys', {}, 'none', /set ANTHROPIC_API_KEY or OPENAI_API_KEY/],
    [
      'explicit none',
      { KUBEMEND_AI_PROVIDER: 'none', ANTHROPIC_API_KEY: 'k' },
      'none',
      /KUBEMEND_AI_PROVIDER is none/,
    ],
    ['anthropic key', { ANTHROPIC_API_KEY: 'k' }, 'anthropic', undefined],
    ['both keys: anthropic first', { ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'o' }, 'anthropic', undefined],
    ['openai key', { OPENAI_API_KEY: 'o' }, 'openai', undefined],
    [
      'explicit openai with both keys',
      { KUBEMEND_AI_PROVIDER: 'openai', ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'o' },
      'openai',
      undefined,
    ],
    [
      'explicit anthropic without key',
      { KUBEMEND_AI_PROVIDER: 'anthropic', OPENAI_API_KEY: 'o' },
      'none',
      /ANTHROPIC_API_KEY is not set/,
    ],
    [
      'explicit openai without key or url',
      { KUBEMEND_AI_PROVIDER: 'openai' },
      'none',
      /OPENAI_API_KEY is not set/,
    ],
    [
      'custom endpoint without a model',
      { KUBEMEND_AI_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://ollama:11434/v1' },
      'none',
      /set KUBEMEND_AI_MODEL/,
    ],
    [
      'empty values count as unset',
      { ANTHROPIC_API_KEY: '  ', OPENAI_API_KEY: '' },
      'none',
      /no AI provider/,
    ],
  ] as const)('%s', (_name, env, provider, reason) => {
    const settings = resolveAiSettings(env);
    expect(settings.provider).toBe(provider);
    if (reason) expect(settings.reason).toMatch(reason);
    else expect(settings.reason).toBeUndefined();
  });

  it('anthropic: default model and URL; ANTHROPIC_BASE_URL with or without /v1', () => {
    const settings = resolveAiSettings({ ANTHROPIC_API_KEY: 'k' });
    expect(settings).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      baseUrl: 'https://api.anthropic.com/v1',
      temperature: 0,
    });
    expect(settings.apiKey?.reveal()).toBe('k');
    expect(
      resolveAiSettings({
        ANTHROPIC_API_KEY: 'k',
        ANTHROPIC_BASE_URL: 'https://proxy.example.com/anthropic/',
      }).baseUrl,
    ).toBe('https://proxy.example.com/anthropic/v1');
    expect(
      resolveAiSettings({ ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080/v1' }).baseUrl,
    ).toBe('http://127.0.0.1:8080/v1');
  });

  it('openai-compatible: Ollama without a key, with a model', () => {
    const settings = resolveAiSettings({
      KUBEMEND_AI_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'http://ollama.tools.svc:11434/v1/',
      KUBEMEND_AI_MODEL: 'qwen2.5:14b',
    });
    expect(settings).toMatchObject({
      provider: 'openai',
      model: 'qwen2.5:14b',
      baseUrl: 'http://ollama.tools.svc:11434/v1',
    });
    expect(settings.apiKey).toBeUndefined();
  });

  it('budgets and resilience settings, with defaults', () => {
    const defaults = resolveAiSettings({ ANTHROPIC_API_KEY: 'k' });
    expect(aiBudgetFrom(defaults)).toEqual({
      timeoutMs: 10_000,
      maxSteps: 6,
      maxToolOutputChars: 6_000,
      maxTotalTokens: 80_000,
    });
    expect(defaults.retry).toEqual({ maxRetries: 2, initialDelayMs: 250, maxDelayMs: 4_000 });
    expect(defaults.breaker).toEqual({ failures: 5, halfOpenAfterMs: 30_000 });
    expect(defaults.redaction).toEqual({ enabled: true, extraPatterns: [], pseudonymize: false });
    const tuned = resolveAiSettings({
      ANTHROPIC_API_KEY: 'k',
      KUBEMEND_AI_TIMEOUT_MS: '4000',
      KUBEMEND_AI_MAX_STEPS: '3',
      KUBEMEND_AI_MAX_TOTAL_TOKENS: '20000',
      KUBEMEND_AI_MAX_RETRIES: '0',
      KUBEMEND_AI_BREAKER_FAILURES: '2',
      KUBEMEND_AI_REDACT: 'false',
      KUBEMEND_AI_PSEUDONYMIZE: 'yes',
      KUBEMEND_AI_REDACT_PATTERNS: 'ACME-[0-9]+\ncorp-[a-z]{8}',
    });
    expect(tuned).toMatchObject({ timeoutMs: 4_000, maxSteps: 3, maxTotalTokens: 20_000 });
    expect(tuned.retry.maxRetries).toBe(0);
    expect(tuned.breaker.failures).toBe(2);
    expect(tuned.redaction).toEqual({
      enabled: false,
      extraPatterns: ['ACME-[0-9]+', 'corp-[a-z]{8}'],
      pseudonymize: true,
    });
  });

  it.each([
    [{ KUBEMEND_AI_PROVIDER: 'gemini' }, /KUBEMEND_AI_PROVIDER: expected one of anthropic, openai, none/],
    [
      { ANTHROPIC_API_KEY: 'k', KUBEMEND_AI_TIMEOUT_MS: '10s' },
      /KUBEMEND_AI_TIMEOUT_MS: expected a whole number/,
    ],
    [{ ANTHROPIC_API_KEY: 'k', KUBEMEND_AI_TIMEOUT_MS: '10' }, /ai\.timeoutMs \(KUBEMEND_AI_TIMEOUT_MS\): /],
    [{ ANTHROPIC_API_KEY: 'k', KUBEMEND_AI_MAX_STEPS: '0' }, /ai\.maxSteps \(KUBEMEND_AI_MAX_STEPS\): /],
    [
      { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'ftp://example.com' },
      /ai\.anthropic\.baseUrl \(ANTHROPIC_BASE_URL\): /,
    ],
    [{ ANTHROPIC_API_KEY: 'k', KUBEMEND_AI_REDACT: 'maybe' }, /KUBEMEND_AI_REDACT: expected true or false/],
    [
      { ANTHROPIC_API_KEY: 'k', KUBEMEND_AI_REDACT_PATTERNS: '["(unclosed"]' },
      /\(KUBEMEND_AI_REDACT_PATTERNS\): not a valid regular expression/,
    ],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => resolveAiSettings(env)).toThrow(ConfigurationError);
    expect(() => resolveAiSettings(env)).toThrow(message);
  });

  it('is pure: never reads process.env', () => {
    const before = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = 'from-process-env';
    try {
      expect(resolveAiSettings({}).provider).toBe('none');
    } finally {
      if (before === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = before;
    }
  });

  it('describes settings without the key', () => {
    const description = JSON.stringify(
      describeAiConfiguration(resolveAiSettings({ ANTHROPIC_API_KEY: 'sk-ant-very-secret' })),
    );
    expect(description).not.toContain('sk-ant-very-secret');
    expect(description).toContain('"apiKey":"set"');
  });
});
