import type { Category, Evidence } from '../../domain/index.js';
import type { Facts } from '../facts.js';
import type { Finding, FindingDetails, SubjectRef } from '../finding.js';

/** One rule module per Category: reads real Kubernetes signals, returns a finding or nothing. */
export interface Rule {
  readonly category: Category;
  evaluate(facts: Facts): Finding | undefined;
}

export interface FindingInput {
  readonly confidence: number;
  readonly rootCause: string;
  readonly factors?: readonly string[];
  readonly evidence: readonly Evidence[];
  readonly details?: FindingDetails;
  readonly subject?: SubjectRef;
}

export function finding(category: Category, facts: Facts, input: FindingInput): Finding {
  const evidence = dedupeEvidence(input.evidence);
  return {
    category,
    confidence: Math.min(0.99, Math.max(0, Number(input.confidence.toFixed(2)))),
    rootCause: input.rootCause,
    factors: [...(input.factors ?? [])],
    evidence,
    subject: input.subject ?? facts.workloadRef(),
    details: { workload: facts.workload, pod: facts.podRef(), ...input.details },
  };
}

function dedupeEvidence(evidence: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const item of evidence) {
    if (seen.has(item.quote)) continue;
    seen.add(item.quote);
    out.push(item);
    if (out.length >= 8) break;
  }
  return out;
}

/** "container api of Deployment checkout" */
export function containerPhrase(facts: Facts, container: string | undefined): string {
  const subject = facts.describeSubject();
  return container ? `container ${container} of ${subject}` : subject;
}
