/**
 * Merging the model's finding into the rules' analysis. Pure.
 *
 * - Agreement (same category): the rules' answer, its confidence raised modestly when the model's
 *   answer carries verified evidence; the model's quotes join the evidence.
 * - Disagreement while the rules are confident (≥ RULES_PRECEDENCE): the rules' answer stands; the
 *   model's view is reported in `factors`, and a well-evidenced disagreement lowers confidence a
 *   little. The model's proposals are not planned (they address another cause).
 * - The rules answered `unknown` (or only weakly): a well-evidenced model answer that is more
 *   confident replaces it, with its confidence capped; otherwise the rules' answer stands.
 *
 * `source` is `rules+ai` whenever the model's answer was considered.
 */
import type { Analysis, Evidence } from '../../domain/index.js';
import { CONFIDENCE, type Finding } from '../finding.js';
import type { AiFinding } from './port.js';

/** At or above this confidence, the rules' answer keeps precedence over a disagreeing model. */
export const RULES_PRECEDENCE = CONFIDENCE.moderate;
/**
 * The most a model-only answer may claim: below the default policy's `minConfidence` (0.8), so that
 * a diagnosis only the model makes never drives unattended execution under the default policy.
 */
export const MODEL_ONLY_CAP = 0.75;
/** How much agreement may add. */
export const AGREEMENT_BONUS = 0.05;
/** The most an agreed answer may reach. */
export const AGREEMENT_CAP = 0.97;

/** What `mergeWithRules` needs of the rules' result (`RuleAnalysis` fits). */
export interface RuleAnalysisLike {
  readonly analysis: Analysis;
  readonly finding: Finding;
}

export type MergeOutcome = 'agreement' | 'rules-kept' | 'ai-adopted';

export interface MergedAnalysis {
  readonly analysis: Analysis;
  /** The finding to plan with (its category and confidence are the merged ones). */
  readonly finding: Finding;
  /** The model's proposals to pass as `extraDrafts` (empty when its diagnosis was not adopted). */
  readonly extraDrafts: AiFinding['proposals'];
  readonly outcome: MergeOutcome;
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** Verified quotes, no dropped ones outweighing them, and a confidence worth acting on. */
export function wellEvidenced(ai: AiFinding): boolean {
  return (
    ai.category !== 'unknown' &&
    ai.evidence.length >= 1 &&
    ai.droppedEvidence <= ai.evidence.length &&
    ai.confidence >= 0.6
  );
}

function mergeEvidence(first: readonly Evidence[], second: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const item of [...first, ...second]) {
    const key = item.quote.replace(/\s+/g, ' ').trim();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
    if (out.length >= 12) break;
  }
  return out;
}

function modelView(ai: AiFinding): string {
  return `${ai.category} (confidence ${ai.confidence.toFixed(2)}, ${ai.evidence.length} verified quote(s)): ${ai.rootCause}`;
}

export function mergeFindings(rules: RuleAnalysisLike, ai: AiFinding): MergedAnalysis {
  const base = rules.analysis;
  const ruleConfidence = base.confidence;
  const modelFactors = ai.factors.slice(0, 8).map((factor) => `model: ${factor}`);

  if (ai.category === base.category) {
    const raise = ai.evidence.length > 0 && ai.confidence >= 0.5 && base.category !== 'unknown';
    const confidence = raise
      ? round(Math.min(AGREEMENT_CAP, Math.max(ruleConfidence, ruleConfidence + AGREEMENT_BONUS)))
      : ruleConfidence;
    const evidence = mergeEvidence(base.evidenceDetail ?? [], ai.evidence);
    const analysis: Analysis = {
      ...base,
      confidence,
      factors: [
        ...base.factors,
        `the model (AI) agrees: ${modelView(ai)}${raise ? '' : '; confidence unchanged'}`,
        ...modelFactors,
      ],
      evidence: evidence.map((item) => item.quote),
      evidenceDetail: evidence,
      source: 'rules+ai',
    };
    return {
      analysis,
      finding: { ...rules.finding, confidence, evidence },
      extraDrafts: ai.proposals,
      outcome: 'agreement',
    };
  }

  const rulesWeak = base.category === 'unknown' || ruleConfidence < RULES_PRECEDENCE;
  const adopt = rulesWeak && wellEvidenced(ai) && Math.min(ai.confidence, MODEL_ONLY_CAP) > ruleConfidence;
  if (adopt) {
    const confidence = round(Math.min(ai.confidence, MODEL_ONLY_CAP));
    const analysis: Analysis = {
      ...base,
      rootCause: ai.rootCause,
      confidence,
      category: ai.category,
      factors: [
        `the model (AI) found the cause the rules could not confirm; its answer is backed by ${ai.evidence.length} quote(s) found verbatim in the context`,
        `the rules answered ${base.category} (confidence ${ruleConfidence.toFixed(2)}): ${base.rootCause}`,
        ...modelFactors,
      ],
      evidence: ai.evidence.map((item) => item.quote),
      evidenceDetail: [...ai.evidence],
      source: 'rules+ai',
      checked: base.checked,
    };
    const finding: Finding = {
      category: ai.category,
      confidence,
      rootCause: ai.rootCause,
      factors: analysis.factors,
      evidence: ai.evidence,
      ...(rules.finding.subject ? { subject: rules.finding.subject } : {}),
      // Only where the incident is: the rules' typed details belong to their own diagnosis.
      details: {
        ...(rules.finding.details.workload ? { workload: rules.finding.details.workload } : {}),
        ...(rules.finding.details.pod ? { pod: rules.finding.details.pod } : {}),
      },
    };
    return { analysis, finding, extraDrafts: ai.proposals, outcome: 'ai-adopted' };
  }

  const challenge = wellEvidenced(ai) && ai.confidence >= 0.7 && base.category !== 'unknown';
  const confidence = challenge ? round(Math.max(0, ruleConfidence - 0.05)) : ruleConfidence;
  const why =
    base.category === 'unknown' || ruleConfidence < RULES_PRECEDENCE
      ? 'not adopted: not enough verified evidence or confidence'
      : "not adopted: the rules' signals are authoritative";
  const analysis: Analysis = {
    ...base,
    confidence,
    factors: [
      ...base.factors,
      `the model (AI) disagrees: ${modelView(ai)} — ${why}${challenge ? '; confidence lowered' : ''}`,
      ...(ai.proposals.length > 0
        ? [
            `the model's ${ai.proposals.length} proposed action(s) were not planned: its diagnosis was not adopted`,
          ]
        : []),
    ],
    source: 'rules+ai',
  };
  return { analysis, finding: { ...rules.finding, confidence }, extraDrafts: [], outcome: 'rules-kept' };
}

/** The merged `Analysis` (see `mergeFindings` for the finding to plan with and the drafts). */
export function mergeWithRules(rules: RuleAnalysisLike, ai: AiFinding): Analysis {
  return mergeFindings(rules, ai).analysis;
}
