/**
 * Planning: findings → typed, risk-rated actions with a decision each (execute now, wait for a
 * person, denied, or advice). Every action is schema-validated, guarded, and rated by our own
 * deterministic risk rules; the mode and policy decide, never the proposer.
 */
import {
  type Mode,
  type Remediation,
  type RemediationAction,
  RemediationActionSchema,
  type RiskLevel,
  maxRisk,
  type ActionDraft,
} from '../domain/index.js';
import type { Facts } from '../analysis/facts.js';
import type { Finding } from '../analysis/finding.js';
import { accessAdvice } from './builders/access.js';
import { BUILDERS } from './builders/index.js';
import { kubectlCommand } from './drafts.js';
import { guardDraft } from './guards.js';
import { gitChangeDraft, gitOpsNotice, managedTargets } from './gitops.js';
import { desiredStateOwner } from './gitops-owner.js';
import { decide, effectiveMode, namespaceAllowed, type Policy, protectedNamespaces } from './policy.js';
import { assessRisk } from './risk.js';
import { runbookDrafts } from './runbook-stage.js';
import type { Runbook } from '../runbooks/schema.js';
import type { OutcomeHistory } from '../learning/history.js';
import { applyHistory, type HistorySection } from './history-stage.js';
import { verificationPlanFor } from './verification-window.js';

export interface PlanInput {
  readonly finding: Finding;
  readonly facts: Facts;
  readonly policy: Policy;
  readonly requestedMode: Mode;
  /** Extra drafts from another proposer (e.g. a model), each with the risk it claims. */
  readonly extraDrafts?: ReadonlyArray<{ readonly draft: ActionDraft; readonly claimedRisk?: RiskLevel }>;
  /** The team's runbooks (configuration): a stage after the built-in builders (docs/runbooks.md). */
  readonly runbooks?: readonly Runbook[];
  /** The outcome history the service read before planning (docs/learning.md); none: no effects. */
  readonly history?: OutcomeHistory;
  /** The analysis is the model's alone: its confidence is never raised by the history. */
  readonly modelOnly?: boolean;
}

export interface Plan {
  readonly remediation: Remediation;
  readonly mode: Mode;
  /** Notes about drafts that were rejected or rewritten (for factors and the audit). */
  readonly notes: readonly string[];
  /** The confidence the policy decided with (the finding's, raised by the history within bounds). */
  readonly confidence: number;
  /** The history records used and their effects, when there were any. */
  readonly history?: HistorySection;
  /** Caveats for the answer's notices: targets Argo CD, Flux or Helm own (ADR 0031). */
  readonly notices: readonly string[];
}

function toManual(draft: ActionDraft, reason: string): ActionDraft {
  if (draft.type === 'manual') return draft;
  const command = kubectlCommand(draft);
  return {
    type: 'manual',
    target: draft.target,
    params: { instructions: `${draft.description}. ${reason} If a person decides to do it: ${command}` },
    description: `${draft.description} (for a person: ${reason.replace(/\.$/, '')})`,
    rationale: draft.rationale,
    verification: draft.verification,
    command,
    ...(draft.source ? { source: draft.source } : {}),
  };
}

export function planRemediation(input: PlanInput): Plan {
  const { finding, facts, policy } = input;
  const mode = effectiveMode(input.requestedMode, policy);
  const notes: string[] = [];
  if (mode !== input.requestedMode)
    notes.push(`policy limits the mode to ${mode} (requested ${input.requestedMode})`);
  const builder = BUILDERS[finding.category];
  const drafts: Array<{ draft: ActionDraft; claimedRisk?: RiskLevel }> = builder({
    finding,
    facts,
    verifyTimeout: policy.verifyTimeout,
  }).map((draft) => ({ draft }));
  drafts.push(...(input.extraDrafts ?? []));
  const fromRunbooks = runbookDrafts(
    input.runbooks ?? [],
    finding,
    facts,
    drafts.map((d) => d.draft),
  );
  notes.push(...fromRunbooks.notes);
  drafts.push(...fromRunbooks.drafts.map((draft) => ({ draft })));
  drafts.push(...accessAdvice(facts).map((draft) => ({ draft })));

  const protectedSet = protectedNamespaces(policy);
  const actions: RemediationAction[] = [];
  const admit = ({ draft: original, claimedRisk }: { draft: ActionDraft; claimedRisk?: RiskLevel }) => {
    const guard = guardDraft(original);
    if (!guard.ok) {
      notes.push(
        `rejected a proposed ${original.type} of ${original.target.kind}/${original.target.name}: ${guard.reason}`,
      );
      return;
    }
    let draft = original;
    if (
      draft.type !== 'manual' &&
      draft.target.namespace &&
      !namespaceAllowed(policy, draft.target.namespace)
    ) {
      draft = toManual(
        draft,
        `kubemend does not change namespace ${draft.target.namespace} (protected by policy).`,
      );
    }
    const risk = assessRisk(draft, { protectedNamespaces: protectedSet }, claimedRisk);
    const candidate = {
      id: `a${actions.length + 1}`,
      type: draft.type,
      target: draft.target,
      params: draft.params,
      description: draft.description,
      command: kubectlCommand(draft),
      risk,
      rationale: draft.rationale,
      verification: draft.verification,
      ...(draft.source ? { source: draft.source } : {}),
    };
    const parsed = RemediationActionSchema.safeParse(candidate);
    if (!parsed.success) {
      notes.push(
        `rejected a malformed ${draft.type} action: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
      return;
    }
    actions.push(parsed.data);
    return parsed.data;
  };
  for (const draft of drafts) admit(draft);

  // The outcome history (ADR 0040): ranks down (renumbering the actions), holds, raises confidence.
  const learned = applyHistory(actions, finding, {
    ...(input.history ? { history: input.history } : {}),
    settings: policy.learning,
    ...(input.modelOnly ? { modelOnly: true } : {}),
  });
  const confidence = learned.confidence;
  actions.splice(0, actions.length, ...learned.actions);

  // Targets Argo CD, Flux or Helm own: the change to make where the desired state lives.
  const owners = managedTargets(actions, facts);
  const notices: string[] = [];
  for (const action of [...actions]) {
    const managed = owners.get(action.id);
    if (!managed) continue;
    const git = gitChangeDraft(action, managed, facts, finding);
    const gitAction = git ? admit({ draft: git }) : undefined;
    notices.push(gitOpsNotice(action, managed, policy, gitAction?.id));
  }

  const decided = actions.map((action) => {
    const managed = owners.get(action.id);
    const owner = managed ? desiredStateOwner(managed) : undefined;
    const revertWatch = owner && policy.gitopsManaged === 'live-patch' ? owner : undefined;
    const decision = decide(action, { mode, policy, confidence, owner });
    const held = learned.held.get(action.id);
    return {
      ...action,
      decision:
        held && decision.decision === 'execute'
          ? { decision: 'await-approval' as const, reason: held }
          : decision,
      ...(action.type !== 'manual'
        ? { verificationPlan: verificationPlanFor(action, facts, finding, policy, revertWatch) }
        : {}),
    };
  });
  const risk = decided.length > 0 ? maxRisk(...decided.map((action) => action.risk)) : 'low';
  return {
    remediation: { summary: summarize(decided, finding), actions: decided, risk },
    mode,
    notes,
    confidence,
    ...(learned.section ? { history: learned.section } : {}),
    notices,
  };
}

function summarize(actions: readonly RemediationAction[], finding: Finding): string {
  if (actions.length === 0) {
    return finding.category === 'healthy'
      ? 'No action needed: nothing is failing now.'
      : 'No action proposed.';
  }
  const parts = actions.map((action) => {
    const decision = action.decision?.decision;
    const state =
      decision === 'execute'
        ? 'runs now'
        : decision === 'await-approval'
          ? 'awaits approval'
          : decision === 'denied'
            ? 'denied by policy'
            : 'for a person';
    return `${action.description} (${action.type}, ${action.risk} risk, ${state})`;
  });
  return parts.join('; ');
}
