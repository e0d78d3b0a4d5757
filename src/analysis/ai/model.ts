/**
 * The chat-model port the investigation loop talks to: provider-neutral messages, tool calls and
 * usage. One adapter (`providers.ts`) maps it onto the AI SDK for Anthropic and OpenAI-compatible
 * endpoints; that adapter is the only module that imports an AI SDK, so the loop, the gates and the
 * tests of the gates run without one.
 */
import type { z } from 'zod';
import { KubemendError } from '../../domain/index.js';

export interface ChatToolSpec {
  readonly name: string;
  readonly description: string;
  /** Validated again by the loop before the tool runs; the provider sees its JSON Schema. */
  readonly inputSchema: z.ZodType;
}

export interface ChatToolCall {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
  /** Set when the provider layer could not parse the call (unknown tool, malformed input). */
  readonly invalid?: string;
}

export interface ChatToolResult {
  readonly toolCallId: string;
  readonly toolName: string;
  readonly output: string;
  readonly isError?: boolean;
}

export type ChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly text: string; readonly toolCalls: readonly ChatToolCall[] }
  | { readonly role: 'tool'; readonly results: readonly ChatToolResult[] };

export interface ChatRequest {
  readonly system: string;
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ChatToolSpec[];
  readonly maxOutputTokens: number;
  readonly signal: AbortSignal;
}

export interface ChatResponse {
  readonly text: string;
  readonly toolCalls: readonly ChatToolCall[];
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
  readonly finishReason: string;
}

export interface ChatModel {
  /** `anthropic` or `openai` (any OpenAI-compatible endpoint). */
  readonly provider: string;
  readonly model: string;
  generate(request: ChatRequest): Promise<ChatResponse>;
}

export const PROVIDER_FAILURES = [
  'rate-limited',
  'server',
  'timeout',
  'network',
  'authentication',
  'bad-request',
  'invalid-response',
  'circuit-open',
  'aborted',
] as const;
export type ProviderFailure = (typeof PROVIDER_FAILURES)[number];

/**
 * A provider call that failed, classified once. Never escapes `AiAnalyzer.analyze`, which turns it
 * into `{ ok: false, reason }`: provider trouble is an expected outcome, the rules stay the floor.
 * Messages carry the status and the provider's error type, never request content or keys.
 */
export class ProviderError extends KubemendError {
  readonly failure: ProviderFailure;
  readonly status?: number;
  /** From `retry-after-ms` / `retry-after` (seconds or an HTTP date). */
  readonly retryAfterMs?: number;

  constructor(
    failure: ProviderFailure,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super('internal', message, { cause: options.cause });
    this.name = 'ProviderError';
    this.failure = failure;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** Worth another attempt (and counted by the circuit breaker). */
  get transient(): boolean {
    return (
      this.failure === 'rate-limited' ||
      this.failure === 'server' ||
      this.failure === 'timeout' ||
      this.failure === 'network'
    );
  }
}

/** `retry-after-ms`, else `retry-after` as seconds or an HTTP date; undefined when absent or bad. */
export function retryAfterFromHeaders(
  headers: Readonly<Record<string, string | undefined>> | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const lower = new Map(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
  const milliseconds = lower.get('retry-after-ms');
  if (milliseconds !== undefined) {
    const value = Number.parseFloat(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = lower.get('retry-after');
  if (retryAfter === undefined || retryAfter.trim() === '') return undefined;
  const seconds = Number(retryAfter.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}

/** The failure a plain HTTP status stands for. */
export function failureOfStatus(status: number): ProviderFailure {
  if (status === 429) return 'rate-limited';
  if (status === 408) return 'timeout';
  if (status === 401 || status === 403) return 'authentication';
  if (status >= 500) return 'server';
  return 'bad-request';
}
