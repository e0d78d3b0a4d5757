/**
 * Unknown (no rule was confident, see `analysis/engine.ts`): never act without a confirmed cause;
 * tell a person which signals to gather before running kubemend again.
 */
import { builderOf, manual } from './shared.js';

export const unknown = builderOf([], ({ finding, facts }) => {
  const pod = facts.primaryPod?.name;
  const ns = facts.namespace ?? 'default';
  return manual(finding.subject, facts, {
    description: 'Collect the signals needed to find the cause',
    instructions: `The cause is not determined. Gather: kubectl describe ${pod ? `pod/${pod}` : 'pod <pod>'} -n ${ns}; kubectl get events -n ${ns} --sort-by=.lastTimestamp; kubectl logs ${pod ? `pod/${pod}` : '<pod>'} -n ${ns} --previous. Then run kubemend again with that context (or against the live cluster).`,
    rationale: 'Acting without a confirmed cause could make things worse.',
    command: `kubectl get events -n ${ns} --sort-by=.lastTimestamp`,
  });
});
