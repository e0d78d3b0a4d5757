/**
 * `POST /v1/scan`: the scan as JSON — body `ScanRequest` (`{}` scans every namespace), answer
 * `ScanReport`. Read-only; needs the `remediate:analyze` scope, like analysing one issue.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import {
  InvalidInputError,
  ScanReportSchema,
  ScanRequestSchema,
  toFieldIssues,
} from '../../../domain/index.js';
import type { RemediationService } from '../../../service/remediation-service.js';

export interface ScanRouteOptions {
  readonly service: RemediationService;
  /** Authentication and the scope check. */
  /** Authentication (and whatever else every API route carries). */
  readonly route: RouteShorthandOptions;
  /** Admission: a scan is an analysis for the caller's rate limits. */
  readonly admit: (request: FastifyRequest, reply: FastifyReply) => void;
}

export function registerScanRoutes(app: FastifyInstance, options: ScanRouteOptions): void {
  app.post('/v1/scan', options.route, async (request, reply) => {
    options.admit(request, reply);
    const parsed = ScanRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw new InvalidInputError(toFieldIssues(parsed.error.issues));
    return options.service.scan(parsed.data);
  });
}

const json = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io });

/** The route's part of the OpenAPI document: its schemas and its path. */
export function scanOpenApi(): { schemas: Record<string, unknown>; paths: Record<string, unknown> } {
  const problem = (description: string) => ({
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  return {
    schemas: { ScanRequest: json(ScanRequestSchema, 'input'), ScanReport: json(ScanReportSchema, 'output') },
    paths: {
      '/v1/scan': {
        post: {
          summary:
            'Every failing workload, Service, claim, autoscaler, Job and Node, with cause and proposed fix',
          security: [{ bearer: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ScanRequest' } } },
          },
          responses: {
            '200': {
              description: 'ScanReport (findings empty when nothing is failing)',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ScanReport' } } },
            },
            '400': problem('Bad request (names the field)'),
            '401': problem('Not authenticated'),
            '403': problem('Missing scope remediate:analyze'),
            '429': problem('Too many requests'),
            '503': problem('No cluster connected, or it is unreachable'),
          },
        },
      },
    },
  };
}
