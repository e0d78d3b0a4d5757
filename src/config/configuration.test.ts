/**
 * The `ai` section in the one Configuration: the same layers as every key (file → environment →
 * flags), unknown keys named, API keys from the environment only and never rendered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../domain/index.js';
import { type ConfigurationInput, loadConfiguration } from './configuration.js';

const KEY = 'sk-ant-api03-very-secret-value';
let directory: string | undefined;

function file(yaml: string): string {
  directory ??= mkdtempSync(join(tmpdir(), 'kubemend-config-'));
  const path = join(directory, 'kubemend.yaml');
  writeFileSync(path, yaml);
  return path;
}

afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

describe('configuration.ai', () => {
  it('defaults: no provider without a key, with the reason', () => {
    const { ai } = loadConfiguration({ env: {} });
    expect(ai).toMatchObject({ provider: 'none', model: '', maxSteps: 6, timeoutMs: 10_000 });
    expect(ai.reason).toMatch(/set ANTHROPIC_API_KEY or OPENAI_API_KEY/);
  });

  it('file → environment → flags, like every other key', () => {
    const path = file(
      [
        'ai:',
        '  provider: openai',
        '  model: qwen2.5:14b',
        '  openai:',
        '    baseUrl: http://ollama.tools.svc:11434/v1/',
        '  maxSteps: 3',
        '  timeoutMs: 4000',
        '  redaction:',
        '    pseudonymize: true',
      ].join('\n'),
    );
    const fromFile = loadConfiguration({ file: path, env: {} }).ai;
    expect(fromFile).toMatchObject({
      provider: 'openai',
      model: 'qwen2.5:14b',
      baseUrl: 'http://ollama.tools.svc:11434/v1',
      maxSteps: 3,
      timeoutMs: 4_000,
      redaction: { enabled: true, extraPatterns: [], pseudonymize: true },
    });
    const environment = { KUBEMEND_AI_MAX_STEPS: '4', KUBEMEND_AI_MODEL: 'llama3.1:70b' };
    expect(loadConfiguration({ file: path, env: environment }).ai).toMatchObject({
      model: 'llama3.1:70b',
      maxSteps: 4,
      timeoutMs: 4_000,
    });
    const flags = { ai: { maxSteps: 5 } } as ConfigurationInput;
    expect(loadConfiguration({ file: path, env: environment, flags }).ai.maxSteps).toBe(5);
  });

  it('names an unknown key, and says where API keys go when one is put in the file', () => {
    expect(() => loadConfiguration({ file: file('ai:\n  maxStep: 3\n'), env: {} })).toThrow(
      /unknown configuration key ai\.maxStep$/,
    );
    const withKey = () =>
      loadConfiguration({ file: file(`ai:\n  anthropic:\n    apiKey: ${KEY}\n`), env: {} });
    expect(withKey).toThrow(ConfigurationError);
    expect(withKey).toThrow(
      /unknown configuration key ai\.anthropic\.apiKey \(API keys are read from the environment only: ANTHROPIC_API_KEY, OPENAI_API_KEY\)/,
    );
  });

  it('names the key and the variable of a bad value, wherever it came from', () => {
    expect(() => loadConfiguration({ file: file('ai:\n  maxSteps: 0\n'), env: {} })).toThrow(
      /ai\.maxSteps \(KUBEMEND_AI_MAX_STEPS\): Too small/,
    );
    expect(() => loadConfiguration({ env: { KUBEMEND_AI_MAX_STEPS: 'six' } })).toThrow(
      'KUBEMEND_AI_MAX_STEPS: expected a whole number, got "six"',
    );
  });

  it('holds the API key as a secret: never rendered, revealed only on request', () => {
    const configuration = loadConfiguration({ env: { ANTHROPIC_API_KEY: KEY } });
    expect(configuration.ai.provider).toBe('anthropic');
    expect(configuration.ai.apiKey?.reveal()).toBe(KEY);
    for (const rendering of [
      JSON.stringify(configuration),
      inspect(configuration, { depth: null }),
      String(configuration.ai.apiKey),
      `${configuration.ai.apiKey?.toString()}`,
      Object.keys(configuration.ai.apiKey ?? {}).join(','),
    ])
      expect(rendering).not.toContain(KEY);
    expect(JSON.stringify(configuration.ai)).toContain('"apiKey":"[redacted]"');
  });

  it('is frozen, the ai section too', () => {
    const configuration = loadConfiguration({ env: {} });
    expect(Object.isFrozen(configuration)).toBe(true);
    expect(Object.isFrozen(configuration.ai)).toBe(true);
  });
});
