/**
 * `POST /v1/alerts/alertmanager`: Alertmanager's webhook (payload version 4), with a bearer token
 * (`http_config.authorization` in Alertmanager). The whole payload is validated first (a bad one
 * is a 400 problem naming the field, and nothing is recorded); then each alert is recorded — a
 * new incident's session created and queued, a repeat counted, a resolution recorded — and the
 * answer is 202 at once: analysis and execution run in the background. A full queue answers 503
 * (or 429 for this caller) with Retry-After, and Alertmanager retries.
 * `GET /v1/alerts/sessions/:id` shows the alert incident of a session (repeats, resolution).
 */
import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import { AlertReceiver } from '../../../alerts/receiver.js';
import { AlertmanagerPayloadSchema } from '../../../alerts/payload.js';
import type { AlertsSection } from '../../../config/alerts.js';
import { InvalidInputError, KubemendError, toFieldIssues } from '../../../domain/index.js';
import type { RemediationService } from '../../../service/remediation-service.js';
import { principalOf } from '../authentication.js';

export interface AlertRouteOptions {
  readonly service: RemediationService;
  readonly section: AlertsSection;
  /** Authentication (the `remediate:analyze` scope). */
  readonly route: RouteShorthandOptions;
  /** Counts each alert by what was done with it. */
  readonly counted?: (outcome: string) => void;
}

export function registerAlertRoutes(app: FastifyInstance, options: AlertRouteOptions): void {
  const receiver = new AlertReceiver(options.service, options.section);
  app.post('/v1/alerts/alertmanager', options.route, async (request, reply) => {
    const parsed = AlertmanagerPayloadSchema.safeParse(request.body);
    if (!parsed.success) throw new InvalidInputError(toFieldIssues(parsed.error.issues));
    const principal = principalOf(request);
    const alerts = await receiver.receive(parsed.data, {
      actor: principal.name,
      canExecute: principal.scopes.has('remediate:execute'),
    });
    for (const alert of alerts) options.counted?.(alert.outcome);
    return reply.code(202).send({ status: 'accepted', alerts });
  });

  app.get('/v1/alerts/sessions/:id', options.route, async (request) => {
    const { id } = request.params as { id: string };
    const incident = await options.service.sessionStore.alerts.ofSession(id);
    if (!incident) throw new KubemendError('session-not-found', `session ${id} was not opened by an alert`);
    return incident;
  });
}

/** The routes' part of the OpenAPI document. */
export function alertsOpenApi(): { schemas: Record<string, unknown>; paths: Record<string, unknown> } {
  const problem = (description: string) => ({
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  return {
    schemas: {
      AlertmanagerPayload: z.toJSONSchema(AlertmanagerPayloadSchema, {
        target: 'draft-2020-12',
        unrepresentable: 'any',
        io: 'input',
      }),
    },
    paths: {
      '/v1/alerts/alertmanager': {
        post: {
          summary:
            'Alertmanager webhook (v4): each firing alert opens a session (one per incident), worked on asynchronously',
          security: [{ bearer: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertmanagerPayload' } } },
          },
          responses: {
            '202': {
              description:
                'Every alert recorded: opened, repeated, resolved, already-resolved or unknown, with its session',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '400': problem('Bad payload (names the field); nothing recorded'),
            '401': problem('Not authenticated'),
            '403': problem('A route in automatic/hybrid mode needs remediate:execute'),
            '429': problem('Too many asynchronous remediations for this caller (Retry-After)'),
            '503': problem('The asynchronous queue is full (Retry-After)'),
          },
        },
      },
      '/v1/alerts/sessions/{id}': {
        get: {
          summary: 'The alert incident of a session: repeats counted, resolution',
          security: [{ bearer: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The incident',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '404': problem('The session was not opened by an alert'),
          },
        },
      },
    },
  };
}
