/**
 * mergeWithRules / mergeFindings: agreement raises confidence modestly; a confident rules answer
 * keeps precedence and the disagreement is reported; an `unknown` rules answer can be replaced by a
 * well-evidenced model answer. Property-tested invariants on top.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Category, type Evidence } from '../../src/domain/index.js';
import {
  mergeFindings,
  mergeWithRules,
  MODEL_ONLY_CAP,
  RULES_PRECEDENCE,
} from '../../src/analysis/ai/merge.js';
import type { AiFinding } from '../../src/analysis/ai/port.js';
import { analyzeWithRules } from '../../src/analysis/engine.js';
import { contextFromInput } from '../../src/context/normalize.js';
import { loadPolicies, selectPolicy } from '../../src/config/policies.js';
import { planRemediation } from '../../src/planning/plan.js';
import { DEPLOYMENT, NAMESPACE, incidentInput } from './support.js';

const crashLoop = analyzeWithRules(contextFromInput(incidentInput()));
const unknownRules = analyzeWithRules(contextFromInput({ issue: 'something is wrong with checkout' }));

const quote = (text: string): Evidence => ({ quote: text, kind: 'log', origin: 'cluster' });

function aiFinding(overrides: Partial<AiFinding> = {}): AiFinding {
  return {
    category: 'crash-loop',
    rootCause: 'The container exits because PAYMENTS_URL is not set.',
    confidence: 0.85,
    factors: ['the previous instance logged a fatal configuration error'],
    evidence: [quote('FATAL config: environment variable PAYMENTS_URL must be set')],
    droppedEvidence: 0,
    proposals: [
      {
        draft: {
          type: 'restart',
          target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name: DEPLOYMENT },
          params: {},
          description: 'restart',
          rationale: 'r',
          verification: 'v',
        },
        claimedRisk: 'low',
      },
    ],
    ...overrides,
  };
}

describe('mergeWithRules', () => {
  it('the fixtures are what the cases need', () => {
    expect(crashLoop.analysis.category).toBe('crash-loop');
    expect(crashLoop.analysis.confidence).toBeGreaterThanOrEqual(RULES_PRECEDENCE);
    expect(unknownRules.analysis.category).toBe('unknown');
  });

  it('agreement raises confidence modestly and adds the verified quotes', () => {
    const merged = mergeFindings(crashLoop, aiFinding());
    expect(merged.outcome).toBe('agreement');
    expect(merged.analysis.source).toBe('rules+ai');
    expect(merged.analysis.category).toBe('crash-loop');
    expect(merged.analysis.confidence).toBeCloseTo(crashLoop.analysis.confidence + 0.05, 5);
    expect(merged.analysis.rootCause).toBe(crashLoop.analysis.rootCause);
    expect(merged.analysis.evidence).toContain('FATAL config: environment variable PAYMENTS_URL must be set');
    expect(merged.analysis.factors.join('\n')).toMatch(/the model \(AI\) agrees/);
    expect(merged.finding.confidence).toBe(merged.analysis.confidence);
    expect(merged.extraDrafts).toHaveLength(1);
  });

  it('agreement without verified evidence changes nothing but the source and factors', () => {
    const merged = mergeWithRules(
      crashLoop,
      aiFinding({ evidence: [], droppedEvidence: 2, confidence: 0.4 }),
    );
    expect(merged.confidence).toBe(crashLoop.analysis.confidence);
    expect(merged.factors.join('\n')).toMatch(/confidence unchanged/);
  });

  it('disagreement with confident rules: the rules keep precedence, the model is reported, its drafts are not planned', () => {
    const merged = mergeFindings(
      crashLoop,
      aiFinding({ category: 'oom-killed', rootCause: 'The container runs out of memory.', confidence: 0.9 }),
    );
    expect(merged.outcome).toBe('rules-kept');
    expect(merged.analysis.category).toBe('crash-loop');
    expect(merged.analysis.source).toBe('rules+ai');
    expect(merged.analysis.confidence).toBeCloseTo(crashLoop.analysis.confidence - 0.05, 5);
    expect(merged.analysis.factors.join('\n')).toMatch(
      /the model \(AI\) disagrees: oom-killed .*not adopted: the rules' signals are authoritative; confidence lowered/,
    );
    expect(merged.extraDrafts).toEqual([]);
  });

  it('an unknown rules answer is replaced by a well-evidenced model answer, capped', () => {
    const merged = mergeFindings(unknownRules, aiFinding({ confidence: 0.95 }));
    expect(merged.outcome).toBe('ai-adopted');
    expect(merged.analysis).toMatchObject({
      category: 'crash-loop',
      source: 'rules+ai',
      confidence: MODEL_ONLY_CAP,
    });
    expect(merged.analysis.rootCause).toMatch(/PAYMENTS_URL/);
    expect(merged.analysis.factors[0]).toMatch(/backed by 1 quote/);
    expect(merged.finding.category).toBe('crash-loop');
    expect(merged.extraDrafts).toHaveLength(1);
  });

  it('a model-only diagnosis never drives unattended execution under the default policy', () => {
    const merged = mergeFindings(unknownRules, aiFinding({ confidence: 0.95 }));
    const policy = selectPolicy(loadPolicies(undefined), undefined).policy;
    for (const mode of ['automatic', 'hybrid'] as const) {
      const plan = planRemediation({
        finding: merged.finding,
        facts: unknownRules.facts,
        policy,
        requestedMode: mode,
        extraDrafts: merged.extraDrafts,
      });
      const restart = plan.remediation.actions.find((action) => action.type === 'restart');
      expect(restart?.decision?.decision).toBe('await-approval');
      expect(plan.remediation.actions.some((action) => action.decision?.decision === 'execute')).toBe(false);
    }
  });

  it('an unknown rules answer stays when the model is not well evidenced', () => {
    for (const weak of [
      aiFinding({ evidence: [] }),
      aiFinding({ confidence: 0.5 }),
      aiFinding({ droppedEvidence: 3 }),
      aiFinding({ category: 'unknown', confidence: 0.3 }),
    ]) {
      const merged = mergeFindings(unknownRules, weak);
      expect(merged.analysis.category).toBe('unknown');
      expect(merged.analysis.confidence).toBeLessThan(0.5);
      expect(merged.analysis.source).toBe('rules+ai');
    }
  });

  const evidenceArbitrary = fc.array(fc.string({ minLength: 8, maxLength: 30 }).map(quote), { maxLength: 4 });
  const aiArbitrary = fc.record({
    category: fc.constantFrom(...CATEGORIES) as fc.Arbitrary<Category>,
    rootCause: fc.string({ minLength: 1, maxLength: 50 }),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    factors: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
    evidence: evidenceArbitrary,
    droppedEvidence: fc.nat(5),
    proposals: fc.constant([]),
  });

  it('property: confidence stays in 0..1, confident rules keep their category, model-only answers are capped', () => {
    fc.assert(
      fc.property(aiArbitrary, fc.constantFrom(crashLoop, unknownRules), (ai, rules) => {
        const merged = mergeFindings(rules, ai);
        expect(merged.analysis.confidence).toBeGreaterThanOrEqual(0);
        expect(merged.analysis.confidence).toBeLessThanOrEqual(1);
        expect(merged.analysis.source).toBe('rules+ai');
        if (rules.analysis.confidence >= RULES_PRECEDENCE && rules.analysis.category !== 'unknown')
          expect(merged.analysis.category).toBe(rules.analysis.category);
        if (merged.outcome === 'ai-adopted') {
          expect(merged.analysis.confidence).toBeLessThanOrEqual(MODEL_ONLY_CAP);
          expect(merged.analysis.evidence.length).toBeGreaterThan(0);
        }
        if (merged.outcome === 'agreement')
          expect(merged.analysis.confidence - rules.analysis.confidence).toBeLessThanOrEqual(0.05 + 1e-9);
      }),
      { numRuns: 300 },
    );
  });
});
