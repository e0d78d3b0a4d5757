/**
 * When a runbook applies: the finding's category, the workload's namespace and labels, a log line
 * or event message matching its pattern. Pure: the same finding and facts give the same answer.
 */
import { globMatch } from '../domain/index.js';
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
  const captures: Record<string, string> = {};
  const patterns = [
    {
      source: match.logPattern,
      texts: facts.logLines.map((line) => ({ text: line.line, label: 'log line' })),
    },
    {
      source: match.eventPattern,
      texts: facts.events.map((event) => ({ text: event.message, label: `event ${event.reason}` })),
    },
  ];
  for (const { source, texts } of patterns) {
    if (source === undefined) continue;
    const pattern = new RegExp(source);
    const found = texts
      .map((candidate) => ({ candidate, result: pattern.exec(candidate.text) }))
      .find((attempt) => attempt.result !== null);
    if (!found?.result) return undefined;
    Object.assign(captures, groups(found.result));
    reasons.push(`${found.candidate.label} "${found.candidate.text.slice(0, 160)}"`);
  }
  return { ...(target ? { target } : {}), captures, reasons };
}
