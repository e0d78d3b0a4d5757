/**
 * Opening an incident: the durable claim first (one atomic statement: the incident row with a new
 * session id), then the session. Whoever loses the claim — a later signal of the same crash loop,
 * the replay after an API server restart, a restarted kubemend, another replica — opens nothing.
 * An open incident whose session has ended is closed (cooldown from the session's end) before
 * claiming again; an incident whose session is missing (kubemend stopped between the claim and
 * the session) gets its session now, under the id the row holds, so nothing claimed is lost.
 */
import { randomUUID } from 'node:crypto';
import { KubemendError, type Mode, type RemediateInput } from '../domain/index.js';
import type { IncidentKey, IncidentStore } from '../sessions/incidents.js';
import { TERMINAL_STATES, type SessionState } from '../sessions/store.js';
import type { WorkloadRef } from './signals.js';

/** What the watcher needs of the service (RemediationService satisfies it). */
export interface SessionPort {
  start(input: RemediateInput, options: { actor?: string }): Promise<{ id: string; createdAt: string }>;
  session(id: string): Promise<{ state: SessionState; updatedAt: string } | undefined>;
}

export interface OpenerOptions {
  readonly cluster: string;
  /** Sessions name a cluster only with several (`clusters:`); otherwise the default one serves. */
  readonly requestCluster?: string;
  readonly incidents: IncidentStore;
  readonly sessions: SessionPort;
  readonly mode: Mode;
  readonly policy?: string;
  readonly cooldownMs: number;
  readonly now?: () => number;
  readonly newId?: () => string;
}

export interface Opened {
  readonly key: IncidentKey;
  readonly sessionId: string;
  /** True when this call created the session. */
  readonly created: boolean;
  /** False when the incident is closed and cooling down: nothing was opened. */
  readonly open: boolean;
  readonly signalAt: number;
}

export class IncidentOpener {
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(private readonly options: OpenerOptions) {
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => `watch-${randomUUID()}`);
  }

  async open(workload: WorkloadRef, signal: string, signalAt: number, text: string): Promise<Opened> {
    const { incidents, cooldownMs } = this.options;
    const key: IncidentKey = { cluster: this.options.cluster, ...workload, signal };
    let result = await incidents.claim(key, this.newId(), this.now(), signalAt, cooldownMs);
    if (!result.claimed && result.incident.closedAt === undefined) {
      const session = await this.options.sessions.session(result.incident.sessionId);
      if (session && TERMINAL_STATES.includes(session.state)) {
        await incidents.close(key, Date.parse(session.updatedAt));
        result = await incidents.claim(key, this.newId(), this.now(), signalAt, cooldownMs);
      } else if (!session) {
        // Claimed, but the session was never created (a crash in between): create it now.
        const created = await this.createSession(result.incident.sessionId, workload, text);
        return {
          key,
          sessionId: result.incident.sessionId,
          created,
          open: true,
          signalAt: result.incident.signalAt,
        };
      }
    }
    if (!result.claimed)
      return {
        key,
        sessionId: result.incident.sessionId,
        created: false,
        open: result.incident.closedAt === undefined,
        signalAt,
      };
    const created = await this.createSession(result.incident.sessionId, workload, text);
    return { key, sessionId: result.incident.sessionId, created, open: true, signalAt };
  }

  private async createSession(id: string, workload: WorkloadRef, text: string): Promise<boolean> {
    const input: RemediateInput = {
      issue:
        `${workload.kind} ${workload.namespace}/${workload.name} is failing (seen by kubemend watch): ${text}`.slice(
          0,
          4_000,
        ),
      target: { kind: workload.kind, namespace: workload.namespace, name: workload.name },
      mode: this.options.mode,
      sessionId: id,
      ...(this.options.policy !== undefined ? { policy: this.options.policy } : {}),
      ...(this.options.requestCluster !== undefined ? { cluster: this.options.requestCluster } : {}),
    };
    try {
      await this.options.sessions.start(input, { actor: 'kubemend-watch' });
      return true;
    } catch (error) {
      // Another replica created it between our look and our create: it exists, which is the point.
      if (error instanceof KubemendError && error.code === 'session-conflict') return false;
      throw error;
    }
  }
}
