/**
 * Helpers that build action drafts (`ActionDraft` lives in the domain): patch bodies for a
 * workload's pod template, equivalent kubectl commands.
 */
import type { ActionDraft, ActionTarget } from '../domain/index.js';
import type { WorkloadRef } from '../context/owners.js';

export function targetOf(
  workload: Pick<WorkloadRef, 'kind' | 'apiVersion' | 'name' | 'namespace'>,
): ActionTarget {
  return {
    apiVersion: workload.apiVersion,
    kind: workload.kind,
    name: workload.name,
    ...(workload.namespace ? { namespace: workload.namespace } : {}),
  };
}

/** Path from a workload to its pod spec: Deployments and friends use spec.template, CronJobs go one deeper. */
export function podTemplatePath(kind: string): string[] {
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
  if (kind === 'Pod') return ['spec'];
  return ['spec', 'template', 'spec'];
}

function nest(path: readonly string[], leaf: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> = leaf;
  for (let index = path.length - 1; index >= 0; index--) out = { [path[index]!]: out };
  return out;
}

/** A strategic-merge patch that changes one container (merged by name) of the workload's pod template. */
export function containerPatch(
  kind: string,
  container: string,
  fields: Record<string, unknown>,
  init = false,
): Record<string, unknown> {
  return nest(podTemplatePath(kind), {
    [init ? 'initContainers' : 'containers']: [{ name: container, ...fields }],
  });
}

/** A strategic-merge patch of pod-level fields of the workload's pod template. */
export function podSpecPatch(kind: string, fields: Record<string, unknown>): Record<string, unknown> {
  return nest(podTemplatePath(kind), fields);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function resourceArg(target: ActionTarget): string {
  return `${target.kind.toLowerCase()}/${target.name}`;
}

function namespaceArg(target: ActionTarget): string {
  return target.namespace ? ` -n ${target.namespace}` : '';
}

/** The equivalent kubectl command, for people. */
export function kubectlCommand(draft: ActionDraft): string {
  if (draft.command) return draft.command;
  const target = draft.target;
  const ns = namespaceArg(target);
  switch (draft.type) {
    case 'patch':
      return `kubectl patch ${resourceArg(target)}${ns} --type=${draft.params.patchType} -p ${shellQuote(JSON.stringify(draft.params.patch))}`;
    case 'scale':
      return `kubectl scale ${resourceArg(target)}${ns} --replicas=${draft.params.replicas}`;
    case 'restart':
      return target.kind === 'Pod'
        ? `kubectl delete pod/${target.name}${ns}`
        : `kubectl rollout restart ${resourceArg(target)}${ns}`;
    case 'rollback':
      return `kubectl rollout undo ${resourceArg(target)}${ns}${draft.params.toRevision ? ` --to-revision=${draft.params.toRevision}` : ''}`;
    case 'delete':
      return `kubectl delete ${resourceArg(target)}${ns}`;
    case 'cordon':
      return `kubectl cordon ${target.name}`;
    case 'uncordon':
      return `kubectl uncordon ${target.name}`;
    case 'create':
      return `kubectl create -f - <<'EOF'\n${JSON.stringify(draft.params.manifest, null, 2)}\nEOF`;
    case 'manual':
      return `kubectl describe ${resourceArg(target)}${ns}`;
  }
}
