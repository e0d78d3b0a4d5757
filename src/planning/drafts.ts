/**
 * Action drafts: typed remediation actions before risk and policy are applied, plus the helpers
 * that build them (patch bodies for a workload's pod template, equivalent kubectl commands).
 */
import type { ActionTarget, RiskLevel } from '../domain/index.js';
import type { WorkloadRef } from '../context/owners.js';

interface DraftBase {
  readonly target: ActionTarget;
  readonly description: string;
  readonly rationale: string;
  readonly verification: string;
  /** A risk the builder knows to be at least this high (deterministic rules may only raise it). */
  readonly minimumRisk?: RiskLevel;
  readonly command?: string;
}

export type ActionDraft =
  | (DraftBase & {
      readonly type: 'patch';
      readonly params: {
        patchType: 'strategic' | 'merge' | 'json';
        patch: Record<string, unknown> | Array<Record<string, unknown>>;
      };
    })
  | (DraftBase & { readonly type: 'scale'; readonly params: { replicas: number } })
  | (DraftBase & {
      readonly type: 'restart' | 'delete' | 'cordon' | 'uncordon';
      readonly params: Record<string, never>;
    })
  | (DraftBase & { readonly type: 'rollback'; readonly params: { toRevision?: number } })
  | (DraftBase & { readonly type: 'create'; readonly params: { manifest: Record<string, unknown> } })
  | (DraftBase & { readonly type: 'manual'; readonly params: { instructions: string } });

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
