/**
 * Advice that goes with every answer about a namespace kubemend may not read: how a person lets
 * kubemend read it (opt it in), or — when the policy protects it — that a person looks themselves.
 * Never executable: kubemend does not grant itself access.
 */
import type { ActionDraft } from '../../domain/index.js';
import type { Facts } from '../../analysis/facts.js';
import { optInCommands } from '../../analysis/access.js';

export function accessAdvice(facts: Facts): ActionDraft[] {
  return (facts.ctx.gathering.denied ?? []).map((denial) => {
    const commands = optInCommands(denial);
    const target = { apiVersion: 'v1', kind: 'Namespace', name: denial.namespace };
    if (denial.protectedByPolicy) {
      return {
        type: 'manual',
        target,
        params: {
          instructions: `kubemend may not read namespace ${denial.namespace} (protected by policy) and never changes it. Check the workload there yourself: kubectl -n ${denial.namespace} get pods; kubectl -n ${denial.namespace} describe pod <pod>; kubectl -n ${denial.namespace} logs <pod> --previous.`,
        },
        description: `Investigate namespace ${denial.namespace} directly (protected: kubemend cannot read it)`,
        rationale: 'The policy protects the namespace; kubemend has no access there by design.',
        verification: 'A person confirms the cause from the namespace itself.',
        command: `kubectl -n ${denial.namespace} get pods`,
      };
    }
    return {
      type: 'manual',
      target,
      params: {
        instructions: `kubemend may not read namespace ${denial.namespace}: it is not opted in. To let kubemend read and act there, run ${commands.grant} (or ${commands.helm}); ${commands.check} then answers yes. Then ask kubemend again.`,
      },
      description: `Opt namespace ${denial.namespace} in so that kubemend can read it`,
      rationale: `The API server refused kubemend's reads there (${denial.reads.slice(0, 3).join(', ')}); the answer rests only on the context that was given.`,
      verification: `${commands.check} answers yes.`,
      command: commands.grant,
    };
  });
}
