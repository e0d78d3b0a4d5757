/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
import { z } from 'zod';
import {
  ERROR_CODES,
  RemediateInputSchema,
  RemediateOutputSchema,
  SESSION_ID_MAX_LENGTH,
} from '../../domain/index.js';
import { SESSION_STATES } from '../../sessions/store.js';
import { scanOpenApi } from './routes/scan.js';

export const ApproveBodySchema = z.strictObject({
  actionIds: z.array(z.string().min(1)).min(1).optional().describe('default: every action awaiting approval'),
  approver: z.string().min(1).max(256),
  planHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional()
    .describe('the plan hash shown with the session; must still match'),
});

export const RejectBodySchema = z.strictObject({
  approver: z.string().min(1).max(256),
  reason: z.string().max(2_000).optional(),
});

const json = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' });

export function openApiDocument(version: string): Record<string, unknown> {
  const problemRef = { $ref: '#/components/schemas/Problem' };
  const header = (description: string) => ({ description, schema: { type: 'string' } });
  /** Headers of a refusal: when to retry, and (429 from a caller's own bucket) its limits. */
  const HEADERS: Readonly<Record<number, Record<string, unknown>>> = {
    429: {
      'Retry-After': header('seconds until a call is allowed again'),
      RateLimit: header('draft-ietf-httpapi-ratelimit-headers: "analyses";r=<left>;t=<seconds until full>'),
      'RateLimit-Policy': header('"analyses";q=<burst>;w=<seconds to refill>, likewise "executions"'),
    },
    503: { 'Retry-After': header('seconds to wait before trying again') },
  };
  const errors = (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((status) => [
        String(status),
        {
          description: 'Problem',
          ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
          content: { 'application/problem+json': { schema: problemRef } },
        },
      ]),
    );
  const mcpSession = {
    name: 'Mcp-Session-Id',
    in: 'header',
    required: true,
    schema: { type: 'string' },
    description: 'the session the initialize response named',
  };
  const security = [{ bearer: [] }];
  const sessionParam = {
    name: 'id',
    in: 'path',
    required: true,
    schema: {
      type: 'string',
      minLength: 1,
      maxLength: SESSION_ID_MAX_LENGTH,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'kubemend',
      version,
      description:
        'Kubernetes remediation: root cause, typed risk-rated actions, verified and reversible execution, tamper-evident audit.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Static token or Kubernetes ServiceAccount token (TokenReview)',
        },
      },
      schemas: {
        RemediateInput: json(RemediateInputSchema),
        RemediateOutput: json(RemediateOutputSchema),
        ApproveRequest: json(ApproveBodySchema),
        RejectRequest: json(RejectBodySchema),
        ...scanOpenApi().schemas,
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: [...ERROR_CODES] },
            instance: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['path', 'message'],
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
        Session: {
          type: 'object',
          required: ['id', 'state', 'phase', 'createdAt', 'updatedAt'],
          properties: {
            id: { type: 'string' },
            state: {
              type: 'string',
              enum: [...SESSION_STATES],
            },
            phase: { type: 'string' },
            createdAt: { type: 'string' },
            updatedAt: { type: 'string' },
            planHash: { type: 'string' },
            input: { $ref: '#/components/schemas/RemediateInput' },
            output: { $ref: '#/components/schemas/RemediateOutput' },
            approvals: { type: 'array', items: { type: 'object' } },
            rejection: { type: 'object' },
            results: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
    paths: {
      '/v1/remediate': {
        post: {
          summary: 'Analyse an issue; execute what mode and policy allow',
          security,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 256 },
            },
            {
              name: 'Prefer',
              in: 'header',
              required: false,
              schema: { type: 'string', enum: ['respond-async'] },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/RemediateInput' } } },
          },
          responses: {
            '200': {
              description: 'RemediateOutput',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/RemediateOutput' } } },
            },
            '202': {
              description: 'Accepted (Prefer: respond-async); Location names the session',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } },
            },
            ...errors(400, 401, 403, 409, 413, 415, 422, 429, 503),
          },
        },
      },
      '/v1/sessions/{id}': {
        get: {
          summary: 'A session: input, output, state, results',
          security,
          parameters: [sessionParam],
          responses: {
            '200': {
              description: 'Session',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } },
            },
            ...errors(400, 401, 403, 404, 414),
          },
        },
      },
      '/v1/sessions/{id}/approve': {
        post: {
          summary: 'Approve pending actions and execute them',
          security,
          parameters: [sessionParam],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ApproveRequest' } } },
          },
          responses: {
            '200': {
              description: 'RemediateOutput',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/RemediateOutput' } } },
            },
            ...errors(400, 401, 403, 404, 409, 413, 414, 415, 429, 503),
          },
        },
      },
      '/v1/sessions/{id}/reject': {
        post: {
          summary: 'Reject a pending session',
          security,
          parameters: [sessionParam],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/RejectRequest' } } },
          },
          responses: {
            '200': {
              description: 'Session',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } },
            },
            ...errors(400, 401, 403, 404, 409, 413, 414, 415),
          },
        },
      },
      '/v1/audit': {
        get: {
          summary: 'Audit records',
          security,
          parameters: [
            { name: 'sessionId', in: 'query', schema: { type: 'string' } },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000 } },
          ],
          responses: {
            '200': {
              description: 'Records',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { records: { type: 'array', items: { type: 'object' } } },
                  },
                },
              },
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/v1/audit/verify': {
        get: {
          summary: "Check the audit log's hash chain; names the first broken link",
          security,
          responses: {
            '200': {
              description: 'Verification',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            ...errors(401, 403),
          },
        },
      },
      ...scanOpenApi().paths,
      '/livez': { get: { summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
      '/healthz': { get: { summary: 'Health', responses: { '200': { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness (storage, audit, cluster)',
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'text exposition format' } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
      '/mcp': {
        post: {
          summary:
            'MCP Streamable HTTP: a JSON-RPC message; initialize (without Mcp-Session-Id) opens a session',
          security,
          parameters: [{ ...mcpSession, required: false }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            '200': { description: 'JSON-RPC response or SSE stream' },
            '202': { description: 'notification or response accepted' },
            ...errors(400, 401, 403, 404, 413, 415, 429, 503),
          },
        },
        get: {
          summary: "MCP Streamable HTTP: the session's event stream (server-to-client messages)",
          security,
          parameters: [mcpSession],
          responses: { '200': { description: 'SSE stream' }, ...errors(400, 401, 403, 404, 503) },
        },
        delete: {
          summary: 'MCP Streamable HTTP: end the session',
          security,
          parameters: [mcpSession],
          responses: { '200': { description: 'session ended' }, ...errors(401, 403, 404, 503) },
        },
      },
    },
  };
}
