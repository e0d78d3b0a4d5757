/**
 * The MCP SDK's web-standard Streamable HTTP transport, served from Node's HTTP objects, and the
 * replay that rebuilds a session another process initialised (ADR 0043).
 *
 * The SDK's Node transport (`StreamableHTTPServerTransport`) is this same web-standard transport
 * behind `@hono/node-server`'s request listener; using the web-standard one directly lets a session
 * be rebuilt through public API only: the client's recorded `initialize` request (and its
 * `notifications/initialized`) are handed to a fresh transport whose session id generator returns
 * the recorded id, exactly as the client first sent them — the MCP server learns the client's
 * capabilities (elicitation, …) as it did the first time, and the transport accepts the session id.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

export type McpTransport = WebStandardStreamableHTTPServerTransport;

export function newMcpTransport(options: {
  sessionId: () => string;
  onInitialized: (id: string) => Promise<void> | void;
  onClosed: (id: string) => Promise<void> | void;
}): McpTransport {
  return new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: options.sessionId,
    onsessioninitialized: options.onInitialized,
    onsessionclosed: options.onClosed,
  });
}

/** Serves one HTTP request of a session (the body already parsed by fastify). */
export async function serveMcpRequest(
  transport: McpTransport,
  request: IncomingMessage,
  response: ServerResponse,
  parsedBody: unknown,
): Promise<void> {
  const listener = getRequestListener((webRequest) => transport.handleRequest(webRequest, { parsedBody }), {
    overrideGlobalObjects: false,
  });
  await listener(request, response);
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * Rebuilds session `id` on `transport` (connected to a new MCP server): replays the client's
 * `initialize` params, then `notifications/initialized`. Throws if the transport refuses either.
 */
export async function replayInitialize(transport: McpTransport, id: string, params: unknown): Promise<void> {
  const initialize = await transport.handleRequest(
    new Request('http://kubemend.internal/mcp', { method: 'POST', headers: HEADERS }),
    { parsedBody: { jsonrpc: '2.0', id: `kubemend-restore-${id}`, method: 'initialize', params } },
  );
  const answer = await initialize.text(); // the server's answer, for nobody: the client has it
  if (!initialize.ok || transport.sessionId !== id)
    throw new Error(`the recorded initialize was refused (${initialize.status}): ${answer.slice(0, 200)}`);
  const requested = (params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  const version =
    typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
      ? requested
      : LATEST_PROTOCOL_VERSION;
  const initialized = await transport.handleRequest(
    new Request('http://kubemend.internal/mcp', {
      method: 'POST',
      headers: { ...HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': version },
    }),
    { parsedBody: { jsonrpc: '2.0', method: 'notifications/initialized' } },
  );
  await initialized.text();
  if (!initialized.ok) throw new Error(`notifications/initialized was refused (${initialized.status})`);
}
