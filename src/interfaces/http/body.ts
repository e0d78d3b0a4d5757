/**
 * Request bodies: JSON only (anything else is a 415), parsed by fastify's own parser (which refuses
 * prototype-poisoning keys) and checked for nesting before anything else sees the value. An API
 * body may nest `MAX_JSON_DEPTH` levels; an MCP message twice that — its envelope is not the
 * caller's document, and the tool then holds its arguments to `MAX_JSON_DEPTH` with an MCP error.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { excessiveNesting, InvalidInputError, MAX_JSON_DEPTH } from '../../domain/index.js';

/** The deepest MCP message accepted over HTTP (a guard; tools enforce `MAX_JSON_DEPTH`). */
export const MCP_MESSAGE_MAX_DEPTH = 2 * MAX_JSON_DEPTH;

function depthLimit(request: FastifyRequest): number {
  return request.url === '/mcp' || request.url.startsWith('/mcp?') ? MCP_MESSAGE_MAX_DEPTH : MAX_JSON_DEPTH;
}

export function installJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    parse(request, body as string, (error, value) => {
      if (error) {
        done(error, undefined);
        return;
      }
      const tooDeep = excessiveNesting(value, depthLimit(request));
      if (tooDeep) done(new InvalidInputError([tooDeep]), undefined);
      else done(null, value);
    });
  });
}
