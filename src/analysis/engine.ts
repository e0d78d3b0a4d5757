/**
 * The rule engine: every Category rule looks at the context; the most confident finding wins, ties
 * broken by specificity. Below the confidence floor the honest answer is `unknown`.
 */
import type { Analysis } from '../domain/index.js';
import type { IncidentContext } from '../context/model.js';
import { Facts } from './facts.js';
import { CONFIDENCE, type Finding } from './finding.js';
import { issueHints } from './issue-hints.js';
import { FAILURE_RULES, HEALTHY_RULE, type Rule } from './rules/index.js';

/** A finding below this confidence is not reported as the cause. */
export const CONFIDENCE_FLOOR = 0.5;

export interface RuleAnalysis {
  readonly analysis: Analysis;
  /** The chosen finding (category `unknown` when none was confident). */
  readonly finding: Finding;
  readonly alternatives: readonly Finding[];
  readonly facts: Facts;
}

export function evaluateRules(facts: Facts, rules: readonly Rule[] = FAILURE_RULES): Finding[] {
  const findings: Array<{ finding: Finding; order: number }> = [];
  rules.forEach((rule, order) => {
    const result = rule.evaluate(facts);
    if (result) findings.push({ finding: result, order });
  });
  return findings
    .sort((a, b) => b.finding.confidence - a.finding.confidence || a.order - b.order)
    .map((entry) => entry.finding);
}

export function analyzeWithRules(ctx: IncidentContext): RuleAnalysis {
  const facts = new Facts(ctx);
  const findings = evaluateRules(facts);
  const best = findings[0];
  const healthy = best && best.confidence >= CONFIDENCE.good ? undefined : HEALTHY_RULE.evaluate(facts);
  const hints = issueHints(ctx.issue);

  let chosen: Finding;
  if (healthy && (!best || best.confidence < Math.max(CONFIDENCE_FLOOR, healthy.confidence))) {
    chosen = healthy;
  } else if (best && best.confidence >= CONFIDENCE_FLOOR) {
    chosen = best;
  } else {
    chosen = unknownFinding(facts, findings, hints);
  }
  const alternatives = findings.filter((f) => f !== chosen && f.category !== chosen.category);
  const factors = [...chosen.factors];
  for (const alternative of alternatives.slice(0, 2)) {
    if (alternative.confidence < 0.3) continue;
    factors.push(
      `also considered ${alternative.category} (confidence ${alternative.confidence.toFixed(2)}): ${alternative.rootCause}`,
    );
  }
  if (
    hints.length > 0 &&
    chosen.category !== 'unknown' &&
    !hints.includes(chosen.category) &&
    chosen.category !== 'healthy'
  ) {
    factors.push(
      `the report suggests ${hints.slice(0, 2).join(' or ')}, but the signals point to ${chosen.category}`,
    );
  }
  if (ctx.gathering.partial)
    factors.push(`partial context: ${ctx.gathering.notes.join('; ') || 'some reads failed'}`);

  const analysis: Analysis = {
    rootCause: chosen.rootCause,
    confidence: chosen.confidence,
    factors,
    category: chosen.category,
    evidence: chosen.evidence.map((item) => item.quote),
    source: 'rules',
    evidenceDetail: [...chosen.evidence],
    subject: chosen.subject?.name
      ? {
          apiVersion: chosen.subject.apiVersion ?? 'v1',
          kind: chosen.subject.kind,
          name: chosen.subject.name,
          ...(chosen.subject.namespace ? { namespace: chosen.subject.namespace } : {}),
        }
      : undefined,
    checked: chosen.category === 'healthy' || chosen.category === 'unknown' ? checkedList(facts) : undefined,
  };
  return { analysis, finding: chosen, alternatives, facts };
}

function checkedList(facts: Facts): string[] {
  const checked: string[] = [];
  if (facts.pods.length > 0)
    checked.push(`${facts.pods.length} pod(s): phase, conditions, container states and restarts`);
  if (facts.events.length > 0) checked.push(`${facts.events.length} event(s)`);
  if (facts.ctx.logs.totalLines > 0) checked.push(`${facts.ctx.logs.totalLines} log line(s)`);
  if (facts.ctx.metrics.size > 0) checked.push(`metrics: ${[...facts.ctx.metrics.keys()].join(', ')}`);
  if (facts.ctx.objects.length > 0)
    checked.push(`objects: ${[...new Set(facts.ctx.objects.map((o) => o.kind))].join(', ')}`);
  if (checked.length === 0) checked.push('only the issue text (no context was given)');
  return checked;
}

function unknownFinding(facts: Facts, findings: readonly Finding[], hints: readonly string[]): Finding {
  const factors: string[] = [];
  const weak = findings.filter((f) => f.confidence >= 0.3);
  for (const candidate of weak.slice(0, 3)) {
    factors.push(
      `weak signal of ${candidate.category} (confidence ${candidate.confidence.toFixed(2)}): ${candidate.rootCause}`,
    );
  }
  if (hints.length > 0)
    factors.push(
      `the report suggests ${hints.slice(0, 3).join(', ')}, but no signal in the context confirms it`,
    );
  const checked = checkedList(facts);
  factors.push(`checked: ${checked.join('; ')}`);
  const nothingGiven =
    facts.pods.length === 0 &&
    facts.events.length === 0 &&
    facts.ctx.logs.totalLines === 0 &&
    facts.ctx.objects.length === 0;
  return {
    category: 'unknown',
    confidence: weak.length > 0 ? 0.3 : hints.length > 0 ? 0.2 : 0.1,
    rootCause: nothingGiven
      ? 'The cause cannot be determined: the request carries no context (no event, pod, logs or objects) and no cluster was consulted.'
      : `The cause cannot be determined from the signals available${weak.length > 0 ? `; the strongest candidate, ${weak[0]!.category}, is not confirmed` : ''}.`,
    factors,
    evidence: weak[0]?.evidence ?? [],
    subject: facts.workloadRef(),
    details: { workload: facts.workload, pod: facts.podRef() },
  };
}
