/**
 * A rollout that does not progress: resume a paused Deployment, or roll back to the revision that
 * ran before; otherwise a person finds why the new pods never become available.
 */
import {
  advise,
  builderOf,
  describe,
  patchDraft,
  rollback,
  rolloutVerification,
  type Strategy,
} from './shared.js';

/** The Deployment is paused: resuming it lets the controller roll out the new template. */
const paused: Strategy = ({ details: d, workload, verifyTimeout }) => {
  if (workload?.kind !== 'Deployment' || d.resource !== 'paused') return undefined;
  return patchDraft(
    workload,
    { spec: { paused: false } },
    {
      description: `Resume the rollout of ${describe(workload)}`,
      rationale: 'The Deployment is paused, so the controller does not roll out the new template.',
      verification: rolloutVerification(workload, verifyTimeout, 'the rollout completes'),
    },
    'merge',
  );
};

export const rolloutStuck = builderOf(
  [paused, rollback(() => 'The new revision never became available.')],
  (context) =>
    advise(context, {
      description: 'Find why the new pods do not become available',
      instructions: `${context.finding.rootCause} Inspect the new ReplicaSet's pods (kubectl get pods -l <selector>; kubectl describe pod ...) and roll back if needed (kubectl rollout undo).`,
      rationale: 'No previous revision is known.',
    }),
);
