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
    return reply.code(202).send({ status: 'accepted', alerts });
  });

  app.get('/v1/alerts/sessions/:id', options.route, async (request) => {
    const { id } = request.params as { id: string };
    const incident = await options.service.sessionStore.alerts.ofSession(id);
    if (!incident) throw new KubemendError('session-not-found', `session ${id} was not opened by an alert`);
    return incident;
  });
}
