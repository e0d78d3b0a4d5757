/**
 * `/mcp`: MCP over Streamable HTTP. The caller is authenticated (and foreign browser origins
 * refused) in `onRequest`, before the body is read; an initialize request opens a session within
 * the caps of `McpSessions`, every other request must name one of the caller's sessions.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Authenticator } from '../../auth/authenticator.js';
import type { Configuration } from '../../config/configuration.js';
import { InvalidInputError } from '../../domain/index.js';
import type { RemediationService } from '../../service/remediation-service.js';
import { createMcpServer, type McpServerOptions } from '../mcp/server.js';
import { mcpAuthenticateHook, principalOf } from './authentication.js';
import type { McpSessions } from './mcp-sessions.js';
import { serveMcpRequest } from './mcp-transport.js';

export interface McpRouteOptions {
  readonly service: RemediationService;
  readonly configuration: Configuration;
  readonly authenticator: Authenticator;
  readonly sessions: McpSessions;
  /** Per-caller admission of tool calls (rate limits), passed to each session's MCP server. */
  readonly admit?: McpServerOptions['admit'];
}

export function registerMcpRoutes(app: FastifyInstance, options: McpRouteOptions): void {
  const { service, sessions } = options;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = principalOf(request);
    const createServer = () => createMcpServer({ service, principal: () => principal, admit: options.admit });
    const header = request.headers['mcp-session-id'];
    const sessionId = typeof header === 'string' && header !== '' ? header : undefined;
    if (!sessionId) {
      if (request.method !== 'POST' || !isInitializeRequest(request.body))
        throw new InvalidInputError([
          { path: 'Mcp-Session-Id', message: 'missing: send an initialize request first' },
        ]);
      const { transport, settle } = await sessions.open(principal.name, createServer, request.body.params);
      reply.hijack();
      try {
        await serveMcpRequest(transport, request.raw, reply.raw, request.body);
      } finally {
        await settle();
      }
      return;
    }
    const { session, done } = await sessions.use(sessionId, principal.name, createServer);
    // An event stream is not work: it does not keep the session from expiring.
    if (request.method === 'GET') done();
    else reply.raw.once('close', done);
    reply.hijack();
    await serveMcpRequest(session.transport, request.raw, reply.raw, request.body);
  };
  const route = {
    onRequest: mcpAuthenticateHook(options.authenticator, options.configuration.server.allowedOrigins),
  };
  app.post('/mcp', route, handler);
  app.get('/mcp', route, handler);
  app.delete('/mcp', route, handler);
  // Stopping: event streams end and idle sessions close first, so the listener can close; sessions
  // answering a request close when the server does.
  app.addHook('preClose', () => sessions.drain());
  app.addHook('onClose', () => sessions.closeAll());
}
