/**
 * What the builder modules share: the context a builder works in, the strategy runner, and the
 * common drafts (advice for a person, a rollback, a patch of the workload or of one container, the
 * rollout verification sentence, a variable set from a ConfigMap/Secret key).
 */
import { asObject, at, type JsonObject, apiVersionOf, type ActionDraft } from '../../domain/index.js';
import { type WorkloadRef } from '../../context/owners.js';
import type { Facts } from '../../analysis/facts.js';
import type { Finding, FindingDetails, SubjectRef } from '../../analysis/finding.js';
import { containerPatch, podSpecPatch, targetOf } from '../drafts.js';

/** What the planner hands a builder. */
export interface BuildInput {
  readonly finding: Finding;
  readonly facts: Facts;
  readonly verifyTimeout: string;
}

/** One builder per Category: the drafts for a finding (none when nothing needs doing). */
export type Builder = (input: BuildInput) => ActionDraft[];

/** The builder input plus what almost every strategy needs, derived once. */
export interface BuilderContext extends BuildInput {
  readonly details: FindingDetails;
  /** The owner a person would change (the finding's, else the pod's), with a namespace. */
  readonly workload?: WorkloadRef;
  /** The workload when kubemend may patch its pod template: a controller that re-creates the pods. */
  readonly controlled?: WorkloadRef;
  /** The workload's namespace, else the incident's, else `default`. */
  readonly namespace: string;
}

/**
 * One way to fix a finding: its draft (several only when they make sense together, such as a Role
 * and its RoleBinding), or undefined when the strategy does not apply.
 */
export type Strategy<C = BuilderContext> = (context: C) => ActionDraft | readonly ActionDraft[] | undefined;

/** Advice for a person, given when no strategy applies. */
export type Advice = (context: BuilderContext) => ActionDraft;

const CONTROLLED = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob']);

export function builderContext(input: BuildInput): BuilderContext {
  const details = input.finding.details;
  const found = details.workload ?? input.facts.workload;
  const workload = found && { ...found, namespace: found.namespace ?? input.facts.namespace ?? 'default' };
  return {
    ...input,
    details,
    workload,
    controlled: workload && CONTROLLED.has(workload.kind) ? workload : undefined,
    namespace: workload?.namespace ?? input.facts.namespace ?? 'default',
  };
}

/** The drafts of the first strategy that applies, in order; undefined when none does. */
export function firstFix<C>(context: C, strategies: readonly Strategy<C>[]): ActionDraft[] | undefined {
  for (const strategy of strategies) {
    const drafts = strategy(context);
    if (drafts !== undefined) return Array.isArray(drafts) ? [...drafts] : [drafts as ActionDraft];
  }
  return undefined;
}

/** Strategies that need a narrower context: `scope` derives it, or says that none of them applies. */
export function within<C, S>(
  scope: (context: C) => S | undefined,
  strategies: readonly Strategy<S>[],
): Strategy<C> {
  return (context) => {
    const scoped = scope(context);
    return scoped === undefined ? undefined : firstFix(scoped, strategies);
  };
}

/** A builder: the first of its strategies that applies, else its advice for a person. */
export function builderOf(strategies: readonly Strategy[], advice: Advice): Builder {
  return (input) => {
    const context = builderContext(input);
    return firstFix(context, strategies) ?? [advice(context)];
  };
}

export function describe(target: { kind: string; name: string }): string {
  return `${target.kind} ${target.name}`;
}

export function rolloutVerification(workload: WorkloadRef, verifyTimeout: string, what: string): string {
  return `Within ${verifyTimeout}: ${describe(workload)} rolls out, all replicas are Ready and available, and ${what}.`;
}

// ---------------------------------------------------------------------------------------------
// Advice for a person.

export interface ManualText {
  readonly description: string;
  readonly instructions: string;
  readonly rationale: string;
  readonly command?: string;
}

/** A `manual` action: precise instructions for a person, about `target` (else the pod). */
export function manual(
  target: SubjectRef | WorkloadRef | undefined,
  facts: Facts,
  text: ManualText,
): ActionDraft {
  const fallbackName = facts.primaryPod?.name ?? facts.ctx.target?.name ?? 'unknown';
  const kind = target?.kind ?? (facts.primaryPod ? 'Pod' : (facts.ctx.target?.kind ?? 'Pod'));
  const namespace = target && 'namespace' in target ? target.namespace : facts.namespace;
  return {
    type: 'manual',
    target: {
      apiVersion: target?.apiVersion ?? apiVersionOf(kind),
      kind,
      name: target?.name ?? fallbackName,
      ...(namespace && kind !== 'Node' ? { namespace } : {}),
    },
    params: { instructions: text.instructions },
    description: text.description,
    rationale: text.rationale,
    verification: 'A person confirms the change and re-runs kubemend, which checks the signals again.',
    command: text.command,
  };
}

/** A `manual` action about the workload (else the finding's subject). */
export function advise(context: BuilderContext, text: ManualText): ActionDraft {
  return manual(context.workload ?? context.finding.subject, context.facts, text);
}

// ---------------------------------------------------------------------------------------------
// Changes to a workload.

/** The words of a draft (and a risk the builder knows to be at least this high). */
export type DraftText = Pick<ActionDraft, 'description' | 'rationale' | 'verification' | 'minimumRisk'>;

type PatchTarget = Pick<WorkloadRef, 'kind' | 'apiVersion' | 'name' | 'namespace'>;

/** A patch of one object (a strategic merge unless said otherwise). */
export function patchDraft(
  target: PatchTarget,
  patch: Record<string, unknown> | Array<Record<string, unknown>>,
  text: DraftText,
  patchType: 'strategic' | 'merge' | 'json' = 'strategic',
): ActionDraft {
  return { type: 'patch', target: targetOf(target), params: { patchType, patch }, ...text };
}

/** A strategic patch of one container (merged by name) of the workload's pod template. */
export function containerFix(
  workload: WorkloadRef,
  container: string,
  fields: Record<string, unknown>,
  text: DraftText,
): ActionDraft {
  return patchDraft(workload, containerPatch(workload.kind, container, fields), text);
}

/** A strategic patch of pod-level fields of the workload's pod template. */
export function podSpecFix(
  workload: WorkloadRef,
  fields: Record<string, unknown>,
  text: DraftText,
): ActionDraft {
  return patchDraft(workload, podSpecPatch(workload.kind, fields), text);
}

/** The pod spec of the workload's template as given or gathered, else the primary pod's spec. */
export function podTemplateOf(workload: WorkloadRef | undefined, facts: Facts): JsonObject | undefined {
  if (workload) {
    const object = facts.findObject(workload.kind, workload.name);
    const path =
      workload.kind === 'CronJob'
        ? ['spec', 'jobTemplate', 'spec', 'template', 'spec']
        : ['spec', 'template', 'spec'];
    const spec = asObject(at(object?.raw, ...path));
    if (spec) return spec;
  }
  return facts.primaryPod?.spec;
}

/**
 * Roll a Deployment back to the revision believed good (its pods were ready), when the finding
 * names one; does not apply to other workloads or without that evidence. The rationale names the
 * revision, what changed since, why it is believed good, and the "did you mean" when there is one.
 * `why` opens the rationale.
 */
export function rollback(why: (context: BuilderContext) => string): Strategy {
  return (context) => {
    const { workload, details: d, verifyTimeout } = context;
    const revision = d.rollbackToRevision;
    if (workload?.kind !== 'Deployment' || revision === undefined) return undefined;
    const meant = d.suggestedImage
      ? ` Did you mean ${d.suggestedImage}? Revision ${revision} runs it.`
      : d.suggestedCommand
        ? ` Did you mean "${d.suggestedCommand}"? Revision ${revision} runs it.`
        : '';
    return {
      type: 'rollback',
      target: targetOf(workload),
      params: { toRevision: revision },
      description: `Roll ${describe(workload)} back to revision ${revision}`,
      rationale: `${why(context)} Revision ${d.currentRevision ?? 'current'} introduced the failure${d.revisionChange ? ` (${d.revisionChange})` : ''}; revision ${revision} ran before it${d.goodRevisionEvidence ? ` and is believed good: ${d.goodRevisionEvidence}` : ''}.${meant}`,
      verification: rolloutVerification(workload, verifyTimeout, 'the new pods do not restart'),
    };
  };
}

/** A patch that sets a missing variable from a ConfigMap/Secret key of the same name, if one exists. */
export function envFromKeyDraft(
  workload: WorkloadRef,
  container: string,
  variable: string,
  facts: Facts,
  text: { why: string; note?: string; verification: string },
): ActionDraft | undefined {
  const source = configSourceFor(variable, facts);
  if (!source) return undefined;
  const reference = source.kind === 'Secret' ? 'secretKeyRef' : 'configMapKeyRef';
  return containerFix(
    workload,
    container,
    { env: [{ name: variable, valueFrom: { [reference]: { name: source.name, key: variable } } }] },
    {
      description: `Set ${variable} on container ${container} of ${describe(workload)} from ${source.kind} ${source.name}`,
      rationale: `${text.why}; ${source.kind} ${source.name} in the same namespace holds a key of that name.${text.note ? ` ${text.note}` : ''}`,
      verification: text.verification,
    },
  );
}

function configSourceFor(
  key: string,
  facts: Facts,
): { kind: 'ConfigMap' | 'Secret'; name: string } | undefined {
  for (const object of facts.ctx.objects) {
    if (object.kind !== 'ConfigMap' && object.kind !== 'Secret') continue;
    const data = { ...asObject(object.raw.data), ...asObject(object.raw.stringData) };
    if (key in data && object.name) return { kind: object.kind, name: object.name };
  }
  return undefined;
}
