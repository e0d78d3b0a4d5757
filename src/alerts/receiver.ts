/**
 * The Alertmanager receiver: each alert of a validated payload, on its own.
 *
 * - firing, new (fingerprint + startsAt not seen): a session is opened and queued for analysis —
 *   its incident row commits with it, so one firing incident has one session, across retries and
 *   replicas (the incident's primary key settles a race: the loser counts as a repeat);
 * - firing, seen: a repeat, counted on the incident with an `alert.repeated` audit record;
 * - resolved: recorded once on the incident, with an `alert.resolved` audit record saying whether
 *   it resolved after kubemend's verified fix or on its own.
 *
 * A full queue refuses an alert before anything is stored (`queue-full`, `rate-limited`): the
 * error goes back to Alertmanager, which retries the group; alerts already recorded count as
 * repeats then.
 */
import { KubemendError } from '../domain/index.js';
import type { AlertsSection } from '../config/alerts.js';
import type { RemediationService } from '../service/remediation-service.js';
import type { AlertIncident, AlertResolution } from '../sessions/companions.js';
import { issueFromAlert } from './mapping.js';
import { type Alert, type AlertmanagerPayload, startsAtKey } from './payload.js';
import { routeAlert } from './routing.js';

export const ALERT_OUTCOMES = ['opened', 'repeated', 'resolved', 'already-resolved', 'unknown'] as const;
export type AlertOutcome = (typeof ALERT_OUTCOMES)[number];

export interface AlertReport {
  readonly fingerprint: string;
  readonly status: Alert['status'];
  readonly outcome: AlertOutcome;
  readonly sessionId?: string;
  readonly resolution?: AlertResolution;
}

export interface Caller {
  readonly actor: string;
  readonly canExecute: boolean;
}

export class AlertReceiver {
  constructor(
    private readonly service: RemediationService,
    private readonly section: AlertsSection,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async receive(payload: AlertmanagerPayload, caller: Caller): Promise<AlertReport[]> {
    const reports: AlertReport[] = [];
    for (const alert of payload.alerts) {
      reports.push(
        alert.status === 'firing' ? await this.firing(alert, caller) : await this.resolved(alert, caller),
      );
    }
    return reports;
  }

  private get incidents() {
    return this.service.sessionStore.alerts;
  }

  private async firing(alert: Alert, caller: Caller): Promise<AlertReport> {
    const startsAt = startsAtKey(alert);
    const seen = await this.incidents.find(alert.fingerprint, startsAt);
    if (seen) return this.repeat(alert, seen, caller);
    const route = routeAlert(this.section, alert.labels);
    const input = {
      ...issueFromAlert(alert),
      mode: route.mode,
      ...(route.policy === undefined ? {} : { policy: route.policy }),
    };
    try {
      const session = await this.service.start(input, {
        actor: caller.actor,
        canExecute: caller.canExecute,
        alert: {
          fingerprint: alert.fingerprint,
          startsAt,
          alertname: alert.labels.alertname!,
          receivedAt: this.clock().toISOString(),
        },
      });
      return { fingerprint: alert.fingerprint, status: 'firing', outcome: 'opened', sessionId: session.id };
    } catch (error) {
      // Another delivery of the same incident (a retry, another replica) opened it first.
      if (error instanceof KubemendError && error.code === 'session-conflict') {
        const winner = await this.incidents.find(alert.fingerprint, startsAt);
        if (winner) return this.repeat(alert, winner, caller);
      }
      throw error;
    }
  }

  private async repeat(alert: Alert, incident: AlertIncident, caller: Caller): Promise<AlertReport> {
    const at = this.clock().toISOString();
    await this.incidents.repeated(incident.fingerprint, incident.startsAt, at, [
      {
        type: 'alert.repeated',
        actor: caller.actor,
        sessionId: incident.sessionId,
        detail: {
          fingerprint: alert.fingerprint,
          alertname: incident.alertname,
          startsAt: incident.startsAt,
        },
      },
    ]);
    return {
      fingerprint: alert.fingerprint,
      status: 'firing',
      outcome: 'repeated',
      sessionId: incident.sessionId,
    };
  }

  private async resolved(alert: Alert, caller: Caller): Promise<AlertReport> {
    const startsAt = startsAtKey(alert);
    const incident = await this.incidents.find(alert.fingerprint, startsAt);
    const base = { fingerprint: alert.fingerprint, status: 'resolved' as const };
    if (!incident) return { ...base, outcome: 'unknown' };
    if (incident.resolution)
      return {
        ...base,
        outcome: 'already-resolved',
        sessionId: incident.sessionId,
        resolution: incident.resolution,
      };
    const session = await this.service.session(incident.sessionId);
    const endsAt = alert.endsAt && Date.parse(alert.endsAt) > 0 ? new Date(alert.endsAt) : this.clock();
    const resolvedAt = endsAt.toISOString();
    // Verified before the alert resolved: kubemend's fix. Otherwise (no fix, a failed or
    // rolled-back one, or verification after the alert had already cleared): on its own.
    const verifiedAt = session?.state === 'verified' ? session.updatedAt : undefined;
    const resolution: AlertResolution =
      verifiedAt !== undefined && verifiedAt <= resolvedAt ? 'after-fix' : 'on-its-own';
    const recorded = await this.incidents.resolved(
      incident.fingerprint,
      incident.startsAt,
      { at: resolvedAt, resolution },
      [
        {
          type: 'alert.resolved',
          actor: caller.actor,
          sessionId: incident.sessionId,
          detail: {
            fingerprint: alert.fingerprint,
            alertname: incident.alertname,
            resolution,
            resolvedAt,
            sessionState: session?.state ?? 'purged',
            ...(verifiedAt === undefined ? {} : { verifiedAt }),
          },
        },
      ],
    );
    return {
      ...base,
      outcome: recorded ? 'resolved' : 'already-resolved',
      sessionId: incident.sessionId,
      resolution: recorded?.resolution ?? resolution,
    };
  }
}
