/**
 * When a runbook applies: the finding's category, the workload's namespace and labels, a log line
 * or event message matching its pattern. Pure: the same finding and facts give the same answer.
 */
import type { Facts } from '../analysis/facts.js';
import type { Finding, SubjectRef } from '../analysis/finding.js';
import type { Runbook } from './schema.js';

export interface RunbookMatchResult {
  /** The workload the finding is about (`{{ target.* }}`). */
  readonly target?: SubjectRef;
  /** Named groups of the matched log or event pattern (`{{ match.<name> }}`); untrusted text. */
  readonly captures: Readonly<Record<string, string>>;
  /** Why it matched, for the factors. */
  readonly reasons: readonly string[];
}

/** The workload a finding is about: its details' workload, its subject, or the facts' workload. */
export function findingTarget(finding: Finding, facts: Facts): SubjectRef | undefined {
  const workload = finding.details.workload ?? facts.workload;
  if (workload)
    return {
      kind: workload.kind,
      apiVersion: workload.apiVersion,
      name: workload.name,
      namespace: workload.namespace ?? facts.namespace,
    };
  return finding.subject;
}

function globMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(value);
}

function labelsOf(facts: Facts, target: SubjectRef | undefined): Record<string, string> {
  const workload = target
    ? facts.ctx.objects.find(
        (object) =>
          object.kind === target.kind &&
          object.name === target.name &&
          (object.namespace ?? target.namespace) === target.namespace,
      )
    : undefined;
  return { ...(facts.primaryPod?.labels ?? {}), ...(workload?.labels ?? {}) };
}

function groups(match: RegExpExecArray): Record<string, string> {
  const out: Record<string, string> = {};
  match.slice(1).forEach((value, index) => {
    if (value !== undefined) out[String(index + 1)] = value;
  });
  for (const [name, value] of Object.entries(match.groups ?? {})) if (value !== undefined) out[name] = value;
  return out;
}

/** Whether `runbook` applies to this finding, with the captured groups; undefined otherwise. */
export function matchRunbook(
  runbook: Runbook,
  finding: Finding,
  facts: Facts,
): RunbookMatchResult | undefined {
  const { match } = runbook;
  if (!match.category.includes(finding.category)) return undefined;
  const reasons = [`category ${finding.category}`];
  const target = findingTarget(finding, facts);
  const namespace = target?.namespace ?? facts.namespace;
  if (match.namespaces) {
    if (!namespace || !match.namespaces.some((pattern) => globMatch(pattern, namespace))) return undefined;
    reasons.push(`namespace ${namespace}`);
  }
  if (match.labels) {
    const labels = labelsOf(facts, target);
    const wanted = Object.entries(match.labels);
    if (!wanted.every(([key, value]) => labels[key] === value)) return undefined;
    reasons.push(`labels ${wanted.map(([key, value]) => `${key}=${value}`).join(',')}`);
  }
  let captures: Record<string, string> = {};
  if (match.logPattern) {
    const pattern = new RegExp(match.logPattern);
    const found = facts.logLines
      .map((line) => ({ line, result: pattern.exec(line.line) }))
      .find((candidate) => candidate.result !== null);
    if (!found?.result) return undefined;
    captures = { ...captures, ...groups(found.result) };
    reasons.push(`log line "${found.line.line.slice(0, 160)}"`);
  }
  if (match.eventPattern) {
    const pattern = new RegExp(match.eventPattern);
    const found = facts.events
      .map((event) => ({ event, result: pattern.exec(event.message) }))
      .find((candidate) => candidate.result !== null);
    if (!found?.result) return undefined;
    captures = { ...captures, ...groups(found.result) };
    reasons.push(`event ${found.event.reason} "${found.event.message.slice(0, 160)}"`);
  }
  return { ...(target ? { target } : {}), captures, reasons };
}
