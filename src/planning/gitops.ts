/**
 * Actions on objects whose desired state Argo CD, Flux or Helm own (ADR 0031). A live change to such
 * an object is undone by the next sync or upgrade, so the planner: names the owner in the answer
 * (a notice), lets the policy's `gitopsManaged` decide (`decide` in policy.ts), and adds a `manual`
 * action with the exact change to make where the desired state lives — the values key of a Helm
 * chart when its conventional layout is evident, else the manifest fields as YAML.
 */
import type { ActionDraft, RemediationAction } from '../domain/index.js';
import type { Facts } from '../analysis/facts.js';
import type { Finding } from '../analysis/finding.js';
import {
  containerCount,
  fieldChanges,
  type FieldChange,
  helmSetArguments,
  helmValues,
  manifestFragment,
  pathText,
  valuesYaml,
  yamlText,
} from './git-change.js';
import { type ManagedBy, managerOfTarget, ownerWords } from './gitops-owner.js';
import type { Policy } from './policy.js';

/** The managers of the targets of the executable actions, by action id. */
export function managedTargets(actions: readonly RemediationAction[], facts: Facts): Map<string, ManagedBy> {
  const owners = new Map<string, ManagedBy>();
  for (const action of actions) {
    if (action.type === 'manual' || action.type === 'cordon' || action.type === 'uncordon') continue;
    const managed = managerOfTarget(action.target, facts);
    if (managed) owners.set(action.id, managed);
  }
  return owners;
}

function label(action: RemediationAction): string {
  const target = action.target;
  return `${target.kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
}

/** What undoes a live change: a sync of the GitOps controller, or the next Helm upgrade. */
function undoneBy(managed: ManagedBy): string {
  return managed.manager === 'helm' ? 'the next helm upgrade of the release' : `its next sync`;
}

/** Where the change belongs, in words. */
function home(managed: ManagedBy): string {
  switch (managed.ownerKind) {
    case 'HelmRelease':
      return `spec.values of ${ownerWords(managed)} (in Git)`;
    case 'release':
      return `the values of ${ownerWords(managed)}`;
    default:
      return `the manifests ${ownerWords(managed)} syncs from Git`;
  }
}

function helmInstructions(
  managed: ManagedBy,
  values: ReadonlyArray<[string, unknown]>,
  namespace: string | undefined,
): string {
  const yaml = valuesYaml(values);
  const keys = values.map(([key]) => key).join(', ');
  if (managed.ownerKind === 'HelmRelease')
    return `Set ${keys} under spec.values of ${ownerWords(managed)} in Git (chart ${managed.chart}):\n${yaml}\nFlux upgrades the release on its next reconciliation.`;
  if (managed.ownerKind === 'Application')
    return `Set ${keys} in the values of chart ${managed.chart}, which ${ownerWords(managed)} renders from Git:\n${yaml}\nThen let Argo CD sync.`;
  const release = managed.release?.name ?? '<release>';
  return `Set ${keys} in the values of ${ownerWords(managed)} (chart ${managed.chart}), in the values file kept in Git:\n${yaml}\nor: helm upgrade ${release} <chart>${namespace ? ` -n ${namespace}` : ''} --reuse-values ${helmSetArguments(values)}`;
}

function manifestInstructions(action: RemediationAction, managed: ManagedBy, changes: FieldChange[]): string {
  const fields = changes
    .map((c) => `${pathText(c.segments)}: ${c.value === undefined ? '(remove)' : JSON.stringify(c.value)}`)
    .join('\n');
  const chartNote =
    managed.chart !== undefined
      ? ` Chart ${managed.chart} renders it; no conventional values key is evident, so change the template or the value it reads.`
      : '';
  return `Change ${label(action)} in ${home(managed)}:${chartNote}\n${fields}\nAs YAML in the manifest:\n${yamlText(manifestFragment(changes))}`;
}

/**
 * The `manual` action with the change to make where the desired state lives, for an action on a
 * managed object; undefined when the action changes nothing that lives there (a restart).
 */
export function gitChangeDraft(
  action: RemediationAction,
  managed: ManagedBy,
  facts: Facts,
  finding: Finding,
): ActionDraft | undefined {
  let instructions: string;
  if (action.type === 'create') {
    instructions = `Add this manifest to ${home(managed)}:\n${yamlText(action.params.manifest)}`;
  } else if (action.type === 'delete') {
    instructions = `Remove ${label(action)} from ${home(managed)}.`;
  } else {
    const changes = fieldChanges(action, finding);
    if (action.type === 'rollback' && !changes) {
      instructions =
        managed.manager === 'helm'
          ? `Roll the release back (helm rollback ${managed.release?.name ?? '<release>'}), or revert the values change that produced revision ${finding.details.currentRevision ?? 'current'}.`
          : `Revert the commit that produced revision ${finding.details.currentRevision ?? 'current'} of ${label(action)} in ${home(managed)}.`;
    } else if (!changes || changes.length === 0) {
      return undefined;
    } else {
      const values =
        managed.chart !== undefined
          ? helmValues(managed, action.target.kind, changes, containerCount(action.target, facts))
          : undefined;
      instructions = values
        ? helmInstructions(managed, values, action.target.namespace)
        : manifestInstructions(action, managed, changes);
    }
  }
  return {
    type: 'manual',
    target: action.target,
    params: { instructions },
    description: `Make the change in ${home(managed)}: ${action.description.charAt(0).toLowerCase()}${action.description.slice(1)}`,
    rationale: `${label(action)} is managed by ${ownerWords(managed)} (${managed.marker}): ${undoneBy(managed)} reverts a live change, so the lasting fix belongs where the desired state lives (action ${action.id} is the live change).`,
    verification: `After ${managed.manager === 'helm' ? 'the upgrade' : 'the sync'}, ${label(action)} carries the change and ${action.verification.replace(/^Within [^:]+: /, '')}`,
  };
}

/** The answer's notice about one managed target: who owns it, what the policy does, where the fix goes. */
export function gitOpsNotice(
  action: RemediationAction,
  managed: ManagedBy,
  policy: Policy,
  gitActionId: string | undefined,
): string {
  const effect =
    policy.gitopsManaged === 'refuse'
      ? 'the policy refuses live changes to it'
      : policy.gitopsManaged === 'propose'
        ? `action ${action.id} is never executed unattended`
        : `action ${action.id} may patch it live, and verification checks it is not reverted`;
  return `gitops: ${label(action)} is managed by ${ownerWords(managed)} (${managed.marker}); ${undoneBy(managed)} reverts a live change, so ${effect}${gitActionId ? `; the lasting change, in ${home(managed)}, is action ${gitActionId}` : ''}.`;
}
