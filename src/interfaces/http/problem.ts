/** RFC 9457 problem documents: error codes become HTTP statuses through the one `ERROR_TABLE`. */
import type { FastifyReply } from 'fastify';
import { type ErrorCode, errorMapping, type FieldIssue, type HttpErrorStatus } from '../../domain/index.js';
import { describeFailure } from '../failure.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: HttpErrorStatus;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly errors?: readonly FieldIssue[];
  readonly instance?: string;
}

/** Reason phrases (RFC 9110): one per status the table can produce, or this does not compile. */
const TITLES: Readonly<Record<HttpErrorStatus, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problem(
  code: ErrorCode,
  detail: string,
  extra: { errors?: readonly FieldIssue[]; instance?: string } = {},
): Problem {
  const status = errorMapping(code).http;
  return {
    type: `https://kubemend.dev/problems/${code}`,
    title: TITLES[status],
    status,
    detail,
    code,
    ...(extra.errors && extra.errors.length > 0 ? { errors: extra.errors } : {}),
    ...(extra.instance ? { instance: extra.instance } : {}),
  };
}

/** Translate any thrown value. Internal failures are never reported as the caller's fault. */
export function toProblem(error: unknown, instance?: string): Problem {
  const failure = describeFailure(error);
  return problem(failure.code, failure.message, { errors: failure.issues, instance });
}

/** Headers that go with a problem: `Retry-After` from the table, the bearer challenge on 401. */
export function problemHeaders(body: Problem): Record<string, string> {
  const retryAfter = errorMapping(body.code).retryAfterSeconds;
  return {
    ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
    ...(body.status === 401 ? { 'www-authenticate': 'Bearer realm="kubemend"' } : {}),
  };
}

/**
 * Sends a problem document. When the request's body has not (all) been read — the answer comes
 * before it, as for a refused token or a full server — the connection is closed after the answer,
 * so the rest of the upload is never read.
 */
export function sendProblem(
  reply: FastifyReply,
  body: Problem,
  headers: Readonly<Record<string, string>> = {},
): FastifyReply {
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  return reply
    .code(body.status)
    .headers({ ...problemHeaders(body), ...headers })
    .type('application/problem+json')
    .send(body);
}

/** A whole HTTP/1.1 response carrying a problem, for answers written straight to a socket. */
export function rawProblemResponse(body: Problem): string {
  const text = JSON.stringify(body);
  const headers = Object.entries(problemHeaders(body))
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${body.status} ${body.title}\r\n` +
    `content-type: application/problem+json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(text)}\r\n${headers}connection: close\r\n\r\n${text}`
  );
}
