/**
 * What an execution means for its session: a pure function from the engine's outcome (and whether
 * other actions still await approval) to the session's state and the output's status. It reads
 * typed fields only — never a message.
 */
import type { OutputStatus } from '../domain/index.js';
import type { ActionReport, ExecutionOutcome } from '../execution/results.js';
import type { SessionState } from '../sessions/store.js';

export interface ExecutionSummary {
  readonly outcome: ExecutionOutcome['outcome'];
  readonly actions: readonly Pick<ActionReport, 'skipReason'>[];
  /** Actions of the session, not part of this execution, still await approval. */
  readonly stillWaiting: boolean;
}

export interface SessionVerdict {
  readonly state: SessionState;
  readonly status: OutputStatus;
}

export function sessionAfterExecution(summary: ExecutionSummary): SessionVerdict {
  const { outcome, stillWaiting } = summary;
  // Another remediation held a target: nothing was done to it, and it can be approved again.
  const locked = summary.actions.some((action) => action.skipReason === 'locked');
  const failed = outcome === 'failed' || outcome === 'rolled-back';
  const status: OutputStatus = failed ? 'failed' : locked || stillWaiting ? 'pending' : 'success';
  switch (outcome) {
    case 'verified':
      return { state: stillWaiting ? 'pending' : 'verified', status };
    case 'rolled-back':
      return { state: 'rolled-back', status };
    case 'dry-run':
      return { state: stillWaiting ? 'pending' : 'analyzed', status };
    case 'failed':
    case 'skipped':
      return { state: locked ? 'pending' : 'failed', status };
  }
}
