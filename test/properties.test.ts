/**
 * Invariants, checked on generated inputs (fast-check):
 * - any input either validates or is rejected with field-named issues (never a throw);
 * - every executable action targets a namespaced object outside protected namespaces;
 * - every executable action's risk is at least what our deterministic rules say.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../src/config/configuration.js';
import { loadPolicies } from '../src/config/policies.js';
import { EXECUTABLE_ACTION_TYPES, InvalidInputError, parseRemediateInput } from '../src/domain/index.js';
import { PROTECTED_NAMESPACES } from '../src/planning/policy.js';
import { RemediationService } from '../src/service/remediation-service.js';
import { loadIncidents } from './support/incidents.js';

const service = new RemediationService({
  configuration: loadConfiguration({ env: {} }),
  policies: loadPolicies(undefined),
});
const incidents = loadIncidents('test/corpus');

describe('input validation never throws and always names the field', () => {
  it('for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = parseRemediateInput(value);
        if (!result.ok) {
          expect(result.error).toBeInstanceOf(InvalidInputError);
          expect(result.error.issues.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('for mutations of valid inputs', () => {
    const keys = ['issue', 'context', 'mode', 'policy', 'target', 'sessionId', 'approve', 'dryRun', 'extra'];
    fc.assert(
      fc.property(
        fc.constantFrom(...incidents),
        fc.constantFrom(...keys),
        fc.jsonValue(),
        (incident, key, value) => {
          const mutated = { ...incident.input, [key]: value };
          const result = parseRemediateInput(mutated);
          if (!result.ok) {
            for (const issue of result.error.issues) expect(typeof issue.path).toBe('string');
            expect(result.error.issues.some((issue) => issue.path.startsWith(key) || issue.path === '')).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('planning invariants hold for every corpus incident in every mode', () => {
  it('executable actions target namespaced objects outside protected namespaces, unless denied', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...incidents),
        fc.constantFrom('manual', 'automatic', 'hybrid'),
        async (incident, mode) => {
          const output = await service.remediate({ ...incident.input, mode: mode as 'manual' });
          for (const action of output.remediation.actions) {
            if (!(EXECUTABLE_ACTION_TYPES as readonly string[]).includes(action.type)) continue;
            if (action.type === 'cordon' || action.type === 'uncordon') {
              expect(action.risk).toBe('high');
              continue;
            }
            expect(
              action.target.namespace,
              `${action.type} ${action.target.kind}/${action.target.name}`,
            ).toBeTruthy();
            expect(PROTECTED_NAMESPACES as readonly string[]).not.toContain(action.target.namespace);
            if (action.decision?.decision === 'execute') expect(mode).not.toBe('manual');
          }
          const highest = output.remediation.actions.reduce(
            (max, a) => Math.max(max, ['low', 'medium', 'high'].indexOf(a.risk)),
            0,
          );
          expect(['low', 'medium', 'high'].indexOf(output.remediation.risk)).toBe(highest);
        },
      ),
      { numRuns: 200 },
    );
  });
});
