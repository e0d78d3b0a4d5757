/**
 * A loopback HTTP server that speaks two providers' real wire protocols — the Anthropic Messages API
 * (`POST /v1/messages`, tool_use/tool_result blocks, `x-api-key`, typed error bodies) and OpenAI
 * Chat Completions (`POST /v1/chat/completions`, function tool_calls, Bearer auth) — and replays
 * scripted conversations. The real SDK code path is exercised by pointing the SDK's base URL here;
 * every request body is captured for assertions (redaction, framing, tools offered).
 *
 * Used by the tests in test/ai, by bench/ai/eval.ts (when no real key is configured) and by
 * bench/ai/concurrency.ts.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Protocol = 'anthropic' | 'openai';

export interface ScriptedToolCall {
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly id?: string;
}

export type ScriptedReply =
  | { readonly kind: 'text'; readonly text: string; readonly delayMs?: number; readonly usage?: Usage }
  | {
      readonly kind: 'tools';
      readonly calls: readonly ScriptedToolCall[];
      readonly text?: string;
      readonly delayMs?: number;
      readonly usage?: Usage;
    }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly errorType?: string;
      readonly message?: string;
      readonly delayMs?: number;
    }
  /** Never answers (until the client gives up or the server closes). */
  | { readonly kind: 'hang' }
  /** Anything, verbatim (malformed bodies). */
  | {
      readonly kind: 'raw';
      readonly status: number;
      readonly body: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

export interface Usage {
  readonly input: number;
  readonly output: number;
}

export interface TranscriptEntry {
  readonly role: 'user' | 'assistant' | 'tool';
  readonly text: string;
  readonly toolCalls?: ReadonlyArray<{ readonly name: string; readonly input: unknown }>;
}

export interface CapturedRequest {
  readonly protocol: Protocol;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body exactly as received. */
  readonly raw: string;
  readonly body: Record<string, unknown>;
  readonly system: string;
  readonly transcript: readonly TranscriptEntry[];
  readonly toolNames: readonly string[];
  readonly receivedAt: number;
  /** How many assistant turns the conversation already has. */
  readonly turn: number;
}

export type Responder = (request: CapturedRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface FixtureOptions {
  readonly script?: readonly ScriptedReply[];
  readonly responder?: Responder;
  /** When set, requests must carry this key (x-api-key / Authorization: Bearer). */
  readonly apiKey?: string;
}

// ---------------------------------------------------------------------------------------------
// Helpers for scripts

export const text = (value: string, delayMs?: number): ScriptedReply => ({
  kind: 'text',
  text: value,
  ...(delayMs ? { delayMs } : {}),
});
export const answer = (value: Record<string, unknown>, delayMs?: number): ScriptedReply =>
  text(JSON.stringify(value), delayMs);
export const tools = (...calls: ScriptedToolCall[]): ScriptedReply => ({ kind: 'tools', calls });
export const failure = (status: number, headers?: Record<string, string>): ScriptedReply => ({
  kind: 'error',
  status,
  ...(headers ? { headers } : {}),
});
export const hang = (): ScriptedReply => ({ kind: 'hang' });

// ---------------------------------------------------------------------------------------------
// Request views

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: Record<string, unknown>) => {
      if (part.type === 'text') return String(part.text ?? '');
      if (part.type === 'tool_result') return textOf(part.content);
      return '';
    })
    .join('\n');
}

function anthropicView(
  body: Record<string, unknown>,
): Pick<CapturedRequest, 'system' | 'transcript' | 'toolNames'> {
  const system = typeof body.system === 'string' ? body.system : textOf(body.system);
  const transcript: TranscriptEntry[] = [];
  for (const message of (body.messages as Array<Record<string, unknown>> | undefined) ?? []) {
    const content = Array.isArray(message.content) ? (message.content as Array<Record<string, unknown>>) : [];
    if (message.role === 'assistant') {
      const calls = content
        .filter((part) => part.type === 'tool_use')
        .map((part) => ({ name: String(part.name), input: part.input }));
      transcript.push({
        role: 'assistant',
        text: textOf(message.content),
        ...(calls.length ? { toolCalls: calls } : {}),
      });
    } else {
      const results = content.filter((part) => part.type === 'tool_result');
      if (results.length > 0)
        transcript.push({ role: 'tool', text: results.map((part) => textOf(part.content)).join('\n') });
      const plain =
        typeof message.content === 'string'
          ? message.content
          : textOf(content.filter((part) => part.type === 'text'));
      if (plain) transcript.push({ role: 'user', text: plain });
    }
  }
  const toolNames = ((body.tools as Array<Record<string, unknown>> | undefined) ?? []).map((entry) =>
    String(entry.name),
  );
  return { system, transcript, toolNames };
}

function openaiView(
  body: Record<string, unknown>,
): Pick<CapturedRequest, 'system' | 'transcript' | 'toolNames'> {
  let system = '';
  const transcript: TranscriptEntry[] = [];
  for (const message of (body.messages as Array<Record<string, unknown>> | undefined) ?? []) {
    const content = typeof message.content === 'string' ? message.content : textOf(message.content);
    if (message.role === 'system') system += content;
    else if (message.role === 'assistant') {
      const calls = (
        (message.tool_calls as Array<Record<string, Record<string, unknown>>> | undefined) ?? []
      ).map((call) => ({
        name: String(call.function?.name),
        input: JSON.parse(String(call.function?.arguments ?? '{}')) as unknown,
      }));
      transcript.push({ role: 'assistant', text: content, ...(calls.length ? { toolCalls: calls } : {}) });
    } else if (message.role === 'tool') transcript.push({ role: 'tool', text: content });
    else transcript.push({ role: 'user', text: content });
  }
  const toolNames = ((body.tools as Array<Record<string, Record<string, unknown>>> | undefined) ?? []).map(
    (entry) => String(entry.function?.name),
  );
  return { system, transcript, toolNames };
}

// ---------------------------------------------------------------------------------------------
// Responses in each wire format

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${(sequence++).toString(36)}`;

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function anthropicBody(
  reply: Extract<ScriptedReply, { kind: 'text' | 'tools' }>,
  request: CapturedRequest,
): Record<string, unknown> {
  const content: Array<Record<string, unknown>> = [];
  if (reply.kind === 'text') content.push({ type: 'text', text: reply.text });
  else {
    if (reply.text) content.push({ type: 'text', text: reply.text });
    for (const call of reply.calls)
      content.push({ type: 'tool_use', id: call.id ?? nextId('toolu'), name: call.name, input: call.input });
  }
  const usage = reply.usage ?? {
    input: Math.ceil(request.raw.length / 4),
    output: Math.ceil(JSON.stringify(content).length / 4),
  };
  return {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: request.body.model,
    content,
    stop_reason: reply.kind === 'tools' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}

function openaiBody(
  reply: Extract<ScriptedReply, { kind: 'text' | 'tools' }>,
  request: CapturedRequest,
): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: reply.kind === 'text' ? reply.text : (reply.text ?? null),
  };
  if (reply.kind === 'tools') {
    message.tool_calls = reply.calls.map((call) => ({
      id: call.id ?? nextId('call'),
      type: 'function',
      function: { name: call.name, arguments: JSON.stringify(call.input) },
    }));
  }
  const usage = reply.usage ?? {
    input: Math.ceil(request.raw.length / 4),
    output: Math.ceil(JSON.stringify(message).length / 4),
  };
  return {
    id: nextId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.body.model,
    choices: [
      { index: 0, message, finish_reason: reply.kind === 'tools' ? 'tool_calls' : 'stop', logprobs: null },
    ],
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  };
}

function errorBody(
  protocol: Protocol,
  reply: Extract<ScriptedReply, { kind: 'error' }>,
): Record<string, unknown> {
  const message = reply.message ?? `scripted ${reply.status}`;
  if (protocol === 'anthropic')
    return {
      type: 'error',
      error: { type: reply.errorType ?? ANTHROPIC_ERROR_TYPES[reply.status] ?? 'api_error', message },
    };
  const type =
    reply.errorType ??
    (reply.status === 429
      ? 'rate_limit_exceeded'
      : reply.status >= 500
        ? 'server_error'
        : 'invalid_request_error');
  return { error: { message, type, param: null, code: reply.status === 429 ? 'rate_limit_exceeded' : null } };
}

// ---------------------------------------------------------------------------------------------

export class FixtureServer {
  readonly requests: CapturedRequest[] = [];
  private readonly server: Server;
  private readonly queue: ScriptedReply[];
  private responder?: Responder;
  private readonly apiKey?: string;
  private readonly open = new Set<ServerResponse>();

  private constructor(server: Server, options: FixtureOptions) {
    this.server = server;
    this.queue = [...(options.script ?? [])];
    if (options.responder) this.responder = options.responder;
    if (options.apiKey) this.apiKey = options.apiKey;
  }

  static async start(options: FixtureOptions = {}): Promise<FixtureServer> {
    const holder: { fixture?: FixtureServer } = {};
    const server = createServer((request, response) => {
      void holder.fixture!.handle(request, response);
    });
    server.keepAliveTimeout = 5_000;
    const fixture = new FixtureServer(server, options);
    holder.fixture = fixture;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fixture;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** For ANTHROPIC_BASE_URL (kubemend appends /v1, as the Anthropic SDK does). */
  get anthropicBaseUrl(): string {
    return this.url;
  }

  /** For OPENAI_BASE_URL (the /v1 prefix is part of the convention). */
  get openaiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  enqueue(...replies: ScriptedReply[]): void {
    this.queue.push(...replies);
  }

  setResponder(responder: Responder | undefined): void {
    this.responder = responder;
  }

  get pending(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    for (const response of this.open) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const protocol: Protocol | undefined =
      request.method === 'POST' && path === '/v1/messages'
        ? 'anthropic'
        : request.method === 'POST' && path === '/v1/chat/completions'
          ? 'openai'
          : undefined;
    if (!protocol)
      return this.send(response, 404, { error: { message: `no route ${request.method} ${path}` } });

    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.send(
        response,
        400,
        errorBody(protocol, { kind: 'error', status: 400, message: 'body is not JSON' }),
      );
    }
    // The protocol's own preconditions, as the real endpoints check them.
    if (protocol === 'anthropic') {
      if (!request.headers['anthropic-version'])
        return this.send(
          response,
          400,
          errorBody(protocol, {
            kind: 'error',
            status: 400,
            message: 'anthropic-version header is required',
          }),
        );
      if (this.apiKey !== undefined && request.headers['x-api-key'] !== this.apiKey)
        return this.send(
          response,
          401,
          errorBody(protocol, { kind: 'error', status: 401, message: 'invalid x-api-key' }),
        );
      if (
        typeof body.model !== 'string' ||
        typeof body.max_tokens !== 'number' ||
        !Array.isArray(body.messages)
      )
        return this.send(
          response,
          400,
          errorBody(protocol, {
            kind: 'error',
            status: 400,
            message: 'model, max_tokens and messages are required',
          }),
        );
    } else {
      if (this.apiKey !== undefined && request.headers.authorization !== `Bearer ${this.apiKey}`)
        return this.send(
          response,
          401,
          errorBody(protocol, { kind: 'error', status: 401, message: 'Incorrect API key provided' }),
        );
      if (typeof body.model !== 'string' || !Array.isArray(body.messages))
        return this.send(
          response,
          400,
          errorBody(protocol, { kind: 'error', status: 400, message: 'model and messages are required' }),
        );
    }
    if (body.stream === true)
      return this.send(
        response,
        400,
        errorBody(protocol, {
          kind: 'error',
          status: 400,
          message: 'the fixture replays non-streaming conversations only',
        }),
      );

    const view = protocol === 'anthropic' ? anthropicView(body) : openaiView(body);
    const captured: CapturedRequest = {
      protocol,
      path,
      headers: request.headers,
      raw,
      body,
      ...view,
      receivedAt: Date.now(),
      turn: view.transcript.filter((entry) => entry.role === 'assistant').length,
    };
    this.requests.push(captured);

    const reply: ScriptedReply =
      this.queue.shift() ??
      (this.responder
        ? await this.responder(captured)
        : { kind: 'error', status: 500, message: 'the fixture script is exhausted' });

    if (reply.kind === 'hang') {
      this.open.add(response);
      response.on('close', () => this.open.delete(response));
      return;
    }
    const delay = 'delayMs' in reply && reply.delayMs ? reply.delayMs : 0;
    if (delay > 0) {
      this.open.add(response);
      const gone = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delay);
        response.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      this.open.delete(response);
      if (gone || response.destroyed) return;
    }
    if (reply.kind === 'raw') {
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(reply.body);
      return;
    }
    if (reply.kind === 'error')
      return this.send(response, reply.status, errorBody(protocol, reply), reply.headers);
    return this.send(
      response,
      200,
      protocol === 'anthropic' ? anthropicBody(reply, captured) : openaiBody(reply, captured),
      {
        ...(protocol === 'anthropic' ? { 'request-id': nextId('req') } : { 'x-request-id': nextId('req') }),
      },
    );
  }

  private send(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): void {
    if (response.destroyed) return;
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  }
}

// ---------------------------------------------------------------------------------------------
// A scripted "model" for harness runs (eval without a key, the concurrency bench): it may call one
// tool, then answers with the rules' leading hint, quoting the hint's evidence. It measures the
// harness — prompt building, SDK path, gates, accounting — not a model's judgement.

/** The incident document in the first user message (between the data markers). */
export function incidentDocumentOf(request: CapturedRequest): Record<string, unknown> | undefined {
  const first = request.transcript.find((entry) => entry.role === 'user');
  const match = first ? /<data-[0-9a-f]+>\n([\s\S]*?)\n<\/data-[0-9a-f]+>/.exec(first.text) : null;
  if (!match?.[1]) return undefined;
  try {
    return JSON.parse(match[1]) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export interface HintEchoOptions {
  readonly delayMs?: number;
  /** Call this tool first when tools are offered. */
  readonly tool?: ScriptedToolCall;
}

export function hintEchoResponder(options: HintEchoOptions = {}): Responder {
  return (request) => {
    const delayMs = options.delayMs ?? 0;
    if (options.tool && request.toolNames.includes(options.tool.name) && request.turn === 0)
      return { kind: 'tools', calls: [options.tool], ...(delayMs ? { delayMs } : {}) };
    const document = incidentDocumentOf(request);
    const hints = (document?.ruleHints as Array<Record<string, unknown>> | undefined) ?? [];
    const hint = hints[0];
    const category = typeof hint?.category === 'string' ? hint.category : 'unknown';
    const evidence = Array.isArray(hint?.evidence) ? (hint.evidence as string[]).slice(0, 3) : [];
    return {
      kind: 'text',
      text: JSON.stringify({
        category,
        rootCause:
          typeof hint?.rootCause === 'string'
            ? hint.rootCause
            : 'The cause cannot be determined from the data given.',
        confidence: typeof hint?.confidence === 'number' ? hint.confidence : 0.2,
        factors: ['harness model: echoes the leading rule hint'],
        evidence,
        actions: [],
      }),
      ...(delayMs ? { delayMs } : {}),
    };
  };
}
