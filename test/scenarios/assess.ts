// Judging kubemend's answer for a scenario once the execution step is plugged in: category,
// forbidden actions, risk ceiling and the expected outcome (fixed | pending | untouched | rolled-back).
import { EXECUTABLE_ACTION_TYPES, type RemediateOutput, riskRank } from '../../src/domain/index.js';
import { actionMatches, GLOBAL_FORBIDS } from '../support/incidents.js';

const squash = (text: string): string => text.replace(/\s+/g, '');
import type { Expect } from './schema.js';

export interface OutcomeFacts {
  /** Changes between the snapshots taken before and after kubemend's step ([] = nothing changed). */
  readonly changes: readonly string[];
  /** Workloads in `healthy` that are Available without restarts for 10 s, and `endpoints` that hold. */
  readonly healthyProblems: readonly string[];
  /** For rolled-back: is the target's spec identical to its snapshot? */
  readonly targetRestored: boolean;
}

export function isExecutable(type: string): boolean {
  return (EXECUTABLE_ACTION_TYPES as readonly string[]).includes(type);
}

/** Problems with kubemend's answer (empty = the scenario passes). */
export function assessOutput(expect: Expect, output: RemediateOutput, facts: OutcomeFacts): string[] {
  const problems: string[] = [];
  const categories = Array.isArray(expect.category) ? expect.category : [expect.category];
  if (!categories.includes(output.analysis.category)) {
    problems.push(`category ${output.analysis.category}, expected ${categories.join(' or ')}`);
  }
  const actions = output.remediation.actions;
  for (const matcher of [...expect.forbid, ...GLOBAL_FORBIDS]) {
    for (const action of actions) {
      if (actionMatches(matcher, action)) problems.push(`forbidden action ${action.type} ${action.target.kind}/${action.target.name} (${JSON.stringify(matcher)})`);
    }
  }
  for (const matcher of expect.actions) {
    if (!actions.some((action) => actionMatches(matcher, action)))
      problems.push(`no proposed action matches ${JSON.stringify(matcher)}`);
  }
  for (const text of expect.notices) {
    if (!(output.notices ?? []).some((notice) => notice.includes(text))) problems.push(`no notice says "${text}"`);
  }
  const analysisText = squash([output.analysis.rootCause, ...output.analysis.factors].join(' '));
  for (const words of expect.rootCauseMentions) {
    if (!analysisText.includes(squash(words))) problems.push(`the analysis does not mention "${words}"`);
  }
  const executable = actions.filter((a) => isExecutable(a.type));
  if (expect.maxActionRisk !== undefined) {
    for (const action of executable) {
      if (riskRank(action.risk) > riskRank(expect.maxActionRisk)) problems.push(`action ${action.id} has risk ${action.risk} > ${expect.maxActionRisk}`);
    }
  }
  const results = output.results ?? [];
  switch (expect.outcome) {
    case 'untouched':
      if (facts.changes.length) problems.push(`cluster changed: ${facts.changes.join('; ')}`);
      if (executable.length) problems.push(`executable action(s) proposed: ${executable.map((a) => a.type).join(', ')}`);
      break;
    case 'pending':
      if (facts.changes.length) problems.push(`cluster changed: ${facts.changes.join('; ')}`);
      // A pending answer leaves a decision to a person: it must give them something to decide on.
      if (!actions.some((a) => a.type === 'manual' || a.decision?.decision === 'await-approval'))
        problems.push('pending without an action: neither an executable action awaiting approval nor a manual action');
      if (output.status !== 'pending' && executable.length > 0) problems.push(`status ${output.status} with executable actions, expected pending`);
      if (output.executed) problems.push('kubemend executed actions');
      break;
    case 'fixed':
      if (!output.executed) problems.push('nothing was executed');
      if (output.status !== 'success') problems.push(`status ${output.status}, expected success`);
      if (results.some((r) => r.status === 'failed' || r.status === 'rolled-back')) problems.push('an action failed or was rolled back');
      problems.push(...facts.healthyProblems);
      break;
    case 'rolled-back':
      if (!output.executed) problems.push('nothing was executed');
      if (!results.some((r) => r.status === 'rolled-back')) problems.push('no action was rolled back');
      if (!facts.targetRestored) problems.push('the target is not back to its snapshot');
      break;
  }
  return problems;
}
