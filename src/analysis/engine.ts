/**
 * The rule engine: every Category rule looks at the context; the most confident finding wins, ties
 * broken by specificity. Below the confidence floor the honest answer is `unknown`.
 */
import type { Analysis, Category } from '../domain/index.js';
import type { IncidentContext } from '../context/model.js';
import { accessNotice } from './access.js';
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

/**
 * Symptoms and the causes that explain them (ADR 0025): a probe that cannot connect to a container
 * that keeps exiting is the exit's symptom; a stuck rollout is the symptom of its new pods' failure.
 */
const CAUSES_OF: Partial<Record<Category, readonly Category[]>> = {
  'readiness-probe-failure': ['crash-loop', 'invalid-command', 'config-missing', 'oom-killed'],
  'liveness-probe-failure': ['crash-loop', 'invalid-command', 'config-missing'],
  'rollout-stuck': [
    'crash-loop',
    'invalid-command',
    'config-missing',
    'oom-killed',
    'image-pull-not-found',
    'image-pull-auth',
    'readiness-probe-failure',
    'liveness-probe-failure',
    'quota-exceeded',
    'security-context',
    'insufficient-resources',
    'scheduling-constraints',
  ],
};

/** How far below its symptom a cause may be and still be reported first. */
const CAUSE_MARGIN = 0.2;

function explains(cause: Finding, symptom: Finding): boolean {
  if (!CAUSES_OF[symptom.category]?.includes(cause.category)) return false;
  if (cause.confidence < Math.max(CONFIDENCE_FLOOR, symptom.confidence - CAUSE_MARGIN)) return false;
  const a = cause.details.container;
  const b = symptom.details.container;
  return a === undefined || b === undefined || a === b;
}

/**
 * Every rule's finding, most confident first (ties: rule order), then causes moved ahead of the
 * symptoms they explain (a cause is promoted at most once, so the pass ends). Deterministic: a
 * stable sort, then one pass in rank order.
 */
export function evaluateRules(facts: Facts, rules: readonly Rule[] = FAILURE_RULES): Finding[] {
  const found: Array<{ finding: Finding; order: number }> = [];
  rules.forEach((rule, order) => {
    const result = rule.evaluate(facts);
    if (result) found.push({ finding: result, order });
  });
  const ranked = found
    .sort((a, b) => b.finding.confidence - a.finding.confidence || a.order - b.order)
    .map((entry) => entry.finding);
  const promoted = new Set<Category>();
  for (let index = 0; index < ranked.length; index++) {
    const symptom = ranked[index]!;
    const at = ranked.findIndex(
      (other, j) => j > index && !promoted.has(other.category) && explains(other, symptom),
    );
    if (at < 0) continue;
    const cause = ranked[at]!;
    promoted.add(cause.category);
    ranked.splice(at, 1);
    ranked.splice(index, 0, {
      ...cause,
      factors: [
        `${symptom.category} (confidence ${symptom.confidence.toFixed(2)}) is a symptom of this cause: ${symptom.rootCause}`,
        ...cause.factors,
      ],
    });
    index--; // the promoted cause may itself be the symptom of a deeper cause
  }
  return ranked;
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
  // No access comes first: what a person must do, then what the context that was given shows.
  const access = accessNotice(ctx.gathering.denied ?? []);
  if (access) factors.unshift(access.factor);
  const rootCause = access
    ? `${access.opening} From the context given with the request: ${chosen.rootCause}`
    : chosen.rootCause;

  const analysis: Analysis = {
    rootCause,
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
