/**
 * What a run reports: the contract's `ExecutionResult`, and beside it the typed facts callers
 * decide on — the final state, whether the outcome is unknown, why an action was skipped and who
 * held its target. Nobody needs to read a message to learn them.
 */
import type { ExecutionResult } from '../domain/index.js';
import type { KubeObject } from '../cluster/gateway.js';
import type { ActionRun, SkipReason } from './run.js';
import type { ActionState } from './transitions.js';

export interface ActionReport {
  readonly actionId: string;
  readonly state: ActionState;
  /** The contract's view of the action. */
  readonly result: ExecutionResult;
  /**
   * The apply's answer was lost and whether it reached the cluster could not be found out: the
   * change may be in the cluster, unrestored.
   */
  readonly outcomeUnknown: boolean;
  /** Why the action was not run, when it was skipped. */
  readonly skipReason?: SkipReason;
  /** The session holding the target, when another remediation had it locked. */
  readonly lockedBy?: string;
  /** The cluster was (or may have been) changed by this action. */
  readonly changed: boolean;
  /** The object before (the snapshot) and as the server-side dry-run said it would be. */
  readonly objects?: { readonly before?: KubeObject; readonly dryRun?: KubeObject };
}

export interface ExecutionOutcome {
  /** One report per action, in plan order. */
  readonly actions: readonly ActionReport[];
  /** The contract's view of `actions`. */
  readonly results: ExecutionResult[];
  /** verified: every action verified; dry-run: nothing changed; failed/rolled-back otherwise. */
  readonly outcome: 'verified' | 'dry-run' | 'rolled-back' | 'failed' | 'skipped';
  /** Whether any action changed (or may have changed) the cluster. */
  readonly changedCluster: boolean;
}

/** What is kept for rollback and shown as `before`: identity, labels, annotations and spec. */
export function snapshotView(object: KubeObject): Record<string, unknown> {
  const metadata = object.metadata ?? {};
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      resourceVersion: metadata.resourceVersion,
      generation: metadata.generation,
      labels: metadata.labels,
      annotations: metadata.annotations,
    },
    ...(object.spec !== undefined ? { spec: object.spec } : {}),
    ...(object.data !== undefined ? { data: object.data } : {}),
  };
}

/** States in which a change is (or may be) in the cluster and not yet verified or restored. */
const IN_FLIGHT: readonly ActionState[] = ['applied', 'outcome-unknown', 'rolling-back'];

/**
 * The contract's view of an action run. While a session is still executing (`inProgress`), an
 * action that was applied and is being verified or restored reports `applied`.
 */
export function toExecutionResult(
  run: ActionRun,
  options: { dryRun: boolean; now: string; inProgress?: boolean },
): ExecutionResult {
  return {
    actionId: run.action.id,
    status: contractStatus(run.state, options),
    message: run.message || run.state,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? options.now,
    ...(run.snapshot ? { before: snapshotView(run.snapshot) } : {}),
  };
}

function contractStatus(
  state: ActionState,
  options: { dryRun: boolean; inProgress?: boolean },
): ExecutionResult['status'] {
  if (options.inProgress && IN_FLIGHT.includes(state)) return 'applied';
  switch (state) {
    case 'verified':
    case 'rolled-back':
    case 'skipped':
    case 'applied':
      return state;
    case 'dry-run-passed':
      return options.dryRun || options.inProgress ? 'dry-run' : 'failed';
    default:
      return 'failed';
  }
}

export function reportOf(run: ActionRun, options: { dryRun: boolean; now: string }): ActionReport {
  return {
    actionId: run.action.id,
    state: run.state,
    result: toExecutionResult(run, options),
    outcomeUnknown: run.state === 'outcome-unknown',
    ...(run.skipReason ? { skipReason: run.skipReason } : {}),
    ...(run.lockedBy !== undefined ? { lockedBy: run.lockedBy } : {}),
    changed: run.changed,
    ...(run.snapshot || run.dryRunObject
      ? {
          objects: {
            ...(run.snapshot ? { before: run.snapshot } : {}),
            ...(run.dryRunObject ? { dryRun: run.dryRunObject } : {}),
          },
        }
      : {}),
  };
}
