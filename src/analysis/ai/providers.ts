/**
 * The AI SDK adapter behind the `ChatModel` port: Anthropic (Messages API) and any OpenAI-compatible
 * Chat Completions endpoint (OpenAI, Ollama, vLLM, LiteLLM). This is the only module that imports an
 * AI SDK (see docs/ai.md for the choice). Keys and base URLs come from `configuration.ai`, never from the
 * environment: both SDK factories are given explicit values so that they do not read it either.
 *
 * SDK retries are off (`maxRetries: 0`): retries, timeouts and the circuit breaker are ours
 * (`resilience.ts`), so that one policy governs every provider. Errors are classified here, once.
 */

import { createAnthropic } from '@ai-sdk/anthropic';

import { createOpenAICompatible } from '@ai-sdk/openai-compatible';

import {
  APICallError,
  generateText,
  tool,
  zodSchema,
  type LanguageModel,
  type ModelMessage,
  type ToolSet,
} from 'ai';
import {
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatToolSpec,
  ProviderError,
  failureOfStatus,
  retryAfterFromHeaders,
} from './model.js';
import {
  ANTHROPIC_DEFAULT_BASE_URL,
  type AiConfiguration,
  normalizeAnthropicBaseUrl,
  OPENAI_DEFAULT_BASE_URL,
} from '../../config/ai.js';

export type FetchFunction = typeof globalThis.fetch;

export interface ProviderOptions {
  /** Replaces `fetch` (tests record requests; the default is Node's). */
  readonly fetch?: FetchFunction;
}

function toSdkMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant':
        return {
          role: 'assistant',
          content: [
            ...(message.text ? [{ type: 'text' as const, text: message.text }] : []),
            ...message.toolCalls.map((call) => ({
              type: 'tool-call' as const,
              toolCallId: call.id,
              toolName: call.name,
              // Providers require an object here; a call we could not parse is sent back as {}.
              input: call.invalid || !call.input || typeof call.input !== 'object' ? {} : call.input,
            })),
          ],
        };
      case 'tool':
        return {
          role: 'tool',
          content: message.results.map((result) => ({
            type: 'tool-result' as const,
            toolCallId: result.toolCallId,
            toolName: result.toolName,
            output: result.isError
              ? { type: 'error-text' as const, value: result.output }
              : { type: 'text' as const, value: result.output },
          })),
        };
    }
  });
}

/** Tool sets by spec list: their JSON Schemas are computed once, not on every call. */
const toolSets = new WeakMap<readonly ChatToolSpec[], ToolSet>();

function toSdkTools(tools: readonly ChatToolSpec[]): ToolSet {
  let set = toolSets.get(tools);
  if (!set) {
    set = Object.fromEntries(
      tools.map((spec) => [
        spec.name,
        tool({ description: spec.description, inputSchema: zodSchema(spec.inputSchema) }),
      ]),
    );
    toolSets.set(tools, set);
  }
  return set;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** One classification of SDK and network errors into `ProviderError`. */
export function classifyProviderError(error: unknown, provider: string, signal?: AbortSignal): ProviderError {
  if (error instanceof ProviderError) return error;
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status === undefined) {
      return isAbort(error.cause) || signal?.aborted
        ? new ProviderError('timeout', `${provider}: the call was aborted`, { cause: error })
        : new ProviderError('network', `${provider}: the request failed before a response`, { cause: error });
    }
    if (status < 400)
      return new ProviderError(
        'invalid-response',
        `${provider}: HTTP ${status} but the response could not be used (not the expected shape)`,
        {
          status,
          cause: error,
        },
      );
    const failure =
      error.isRetryable && status < 500 && status !== 429 && status !== 408
        ? 'server'
        : failureOfStatus(status);
    const retryAfterMs = retryAfterFromHeaders(error.responseHeaders);
    return new ProviderError(failure, `${provider}: HTTP ${status}${providerErrorType(error.responseBody)}`, {
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      cause: error,
    });
  }
  if (isAbort(error) || signal?.aborted)
    return new ProviderError('timeout', `${provider}: the call was aborted`, { cause: error });
  if (error instanceof TypeError)
    return new ProviderError('network', `${provider}: ${error.message}`, { cause: error });
  const name = error instanceof Error ? error.name : 'error';
  return new ProviderError('invalid-response', `${provider}: the response could not be used (${name})`, {
    cause: error,
  });
}

/** The provider's error type (`rate_limit_error`), never its whole body. */
function providerErrorType(body: string | undefined): string {
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as { error?: { type?: unknown; code?: unknown } };
    const type = parsed.error?.type ?? parsed.error?.code;
    return typeof type === 'string' && /^[\w.-]{1,60}$/.test(type) ? ` (${type})` : '';
  } catch {
    return '';
  }
}

class SdkChatModel implements ChatModel {
  readonly provider: string;
  readonly model: string;
  private readonly languageModel: LanguageModel;
  private readonly temperature?: number;

  constructor(provider: string, model: string, languageModel: LanguageModel, temperature?: number) {
    this.provider = provider;
    this.model = model;
    this.languageModel = languageModel;
    if (temperature !== undefined) this.temperature = temperature;
  }

  async generate(request: ChatRequest): Promise<ChatResponse> {
    try {
      const result = await generateText({
        model: this.languageModel,
        system: request.system,
        messages: toSdkMessages(request.messages),
        ...(request.tools.length > 0
          ? { tools: toSdkTools(request.tools), toolChoice: 'auto' as const }
          : {}),
        maxRetries: 0,
        maxOutputTokens: request.maxOutputTokens,
        abortSignal: request.signal,
        ...(this.temperature !== undefined ? { temperature: this.temperature } : {}),
      });
      return {
        text: result.text,
        toolCalls: result.toolCalls.map((call) => ({
          id: call.toolCallId,
          name: call.toolName,
          input: call.input,
          ...(call.dynamic && call.invalid
            ? {
                invalid:
                  call.error instanceof Error
                    ? call.error.message.slice(0, 300)
                    : 'the call could not be parsed',
              }
            : {}),
        })),
        usage: { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0 },
        finishReason: result.finishReason,
      };
    } catch (error) {
      throw classifyProviderError(error, this.provider, request.signal);
    }
  }
}

/** The chat model for settings whose provider is `anthropic` or `openai`. */
export function createChatModel(settings: AiConfiguration, options: ProviderOptions = {}): ChatModel {
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  if (settings.provider === 'anthropic') {
    const anthropic = createAnthropic({
      apiKey: settings.apiKey?.reveal() ?? '',
      baseURL: normalizeAnthropicBaseUrl(settings.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL),
      ...fetchOption,
    });
    return new SdkChatModel('anthropic', settings.model, anthropic(settings.model), settings.temperature);
  }
  if (settings.provider === 'openai') {
    const baseURL = settings.baseUrl ?? OPENAI_DEFAULT_BASE_URL;
    const official = new URL(baseURL).hostname === 'api.openai.com';
    const openai = createOpenAICompatible({
      name: 'openai',
      baseURL,
      ...(settings.apiKey ? { apiKey: settings.apiKey.reveal() } : {}),
      // The official endpoint wants max_completion_tokens (reasoning models reject max_tokens);
      // Ollama, vLLM and LiteLLM take max_tokens.
      ...(official
        ? {
            transformRequestBody: (body: Record<string, unknown>) => {
              if (body.max_tokens === undefined) return body;
              const { max_tokens: maxTokens, ...rest } = body;
              return { ...rest, max_completion_tokens: maxTokens };
            },
          }
        : {}),
      ...fetchOption,
    });
    return new SdkChatModel('openai', settings.model, openai.chatModel(settings.model), settings.temperature);
  }
  throw new ProviderError('bad-request', `no chat model for provider ${settings.provider}`);
}
