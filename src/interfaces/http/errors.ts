/**
 * Every error the HTTP edge sends is an RFC 9457 problem document with a `code` from the error
 * table: the service's errors, fastify's own (body parser, router, a path parameter too long, a
 * malformed URL, an unknown route) and Node's HTTP parser's (a broken request, a header block too
 * large, a request that takes too long to arrive), which are written straight to the socket.
 */
import type { Socket } from 'node:net';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from 'fastify';
import { type ErrorCode, SESSION_ID_MAX_LENGTH } from '../../domain/index.js';
import { RateLimitedError } from '../rate-limit.js';
import { problem, rawProblemResponse, sendProblem, toProblem, type Problem } from './problem.js';
import { rateLimitHeaders } from './rate-limit.js';

/** The code of an error fastify raised itself, by its status (a 4xx is the caller's, a 5xx ours). */
const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid-input',
  404: 'not-found',
  408: 'request-timeout',
  413: 'input-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  431: 'headers-too-large',
};

function fastifyProblem(error: FastifyError, instance: string, bodyLimitBytes: number): Problem | undefined {
  const extra = { instance };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('input-too-large', `the request body is larger than ${bodyLimitBytes} bytes`, extra);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported-media-type', 'send the body as application/json', extra);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('invalid-input', 'the request body is empty: expected a JSON document', extra);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem('invalid-input', `not valid JSON: ${error.message}`, extra);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problem(
        'uri-too-long',
        `a path parameter is longer than ${SESSION_ID_MAX_LENGTH} characters (session ids are at most ${SESSION_ID_MAX_LENGTH})`,
        extra,
      );
    case 'FST_ERR_BAD_URL':
      return problem('invalid-input', 'the URL path is not valid (a malformed percent-encoding)', extra);
    default:
      break;
  }
  if (error instanceof SyntaxError)
    return problem('invalid-input', `not valid JSON: ${error.message}`, extra);
  if (typeof error.code === 'string' && error.code.startsWith('FST_') && error.statusCode !== undefined) {
    if (error.statusCode >= 500) return undefined;
    return problem(BY_STATUS[error.statusCode] ?? 'invalid-input', error.message, extra);
  }
  return undefined;
}

/** The error handler and the not-found handler of the app. */
export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const body = fastifyProblem(error, request.id, bodyLimitBytes) ?? toProblem(error, request.id);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    // A caller's own rate limit: its wait and its buckets' state instead of the table's Retry-After.
    const headers =
      error instanceof RateLimitedError
        ? { ...rateLimitHeaders(error.buckets), 'retry-after': String(error.retryAfterSeconds) }
        : {};
    return sendProblem(reply, body, headers);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem('not-found', `no route ${request.method} ${request.url.split('?')[0]}`, {
        instance: request.id,
      }),
    ),
  );
}

/** Errors the router raises before a route is found (`frameworkErrors` option of fastify). */
export function frameworkErrors(
  bodyLimitBytes: number,
): NonNullable<FastifyServerOptions['frameworkErrors']> {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    void sendProblem(
      reply,
      fastifyProblem(error, request.id, bodyLimitBytes) ?? toProblem(error, request.id),
    );
  };
}

/**
 * What Node's HTTP parser could not read (`clientErrorHandler` option): a problem written to the
 * socket, which is then closed. A reset connection has nobody to answer.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problem('request-timeout', 'the request did not arrive in time (server.requestTimeout)')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? problem('headers-too-large', 'the request headers are larger than the server accepts')
        : problem('invalid-input', 'the request is not valid HTTP/1.1');
  if (socket.writable) socket.write(rawProblemResponse(body));
  socket.destroy(error);
}
