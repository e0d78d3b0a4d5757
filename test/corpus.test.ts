/**
 * Table-driven: every incident in test/corpus, grouped by Category, must get its expected category,
 * its expected actions, and none of its forbidden ones.
 */
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../src/config/configuration.js';
import { loadPolicies } from '../src/config/policies.js';
import { RemediateOutputSchema } from '../src/domain/index.js';
import { RemediationService } from '../src/service/remediation-service.js';
import { judge, loadIncidents } from './support/incidents.js';

const incidents = loadIncidents('test/corpus');
const service = new RemediationService({
  configuration: loadConfiguration({ env: {} }),
  policies: loadPolicies(undefined),
});
const byCategory = new Map<string, typeof incidents>();
for (const incident of incidents)
  byCategory.set(incident.folder, [...(byCategory.get(incident.folder) ?? []), incident]);

it('has at least 80 incidents, at least 3 per Category', () => {
  expect(incidents.length).toBeGreaterThanOrEqual(80);
  expect(byCategory.size).toBe(25);
  for (const [category, cases] of byCategory) expect(cases.length, category).toBeGreaterThanOrEqual(3);
});

for (const [category, cases] of byCategory) {
  describe(category, () => {
    it.each(cases.map((incident) => [incident.file, incident] as const))('%s', async (_file, incident) => {
      const output = await service.remediate(incident.input);
      expect(RemediateOutputSchema.safeParse(output).success).toBe(true);
      const verdict = judge(incident, output);
      expect(verdict.forbidden, 'forbidden actions proposed').toEqual([]);
      expect(output.analysis.category, output.analysis.rootCause).toSatisfy((actual: string) =>
        typeof incident.expect.category === 'string'
          ? actual === incident.expect.category
          : incident.expect.category.includes(actual),
      );
      expect(verdict.missing, 'expected actions not proposed').toEqual([]);
      expect(verdict.executableOk, `executable should be ${incident.expect.executable}`).toBe(true);
      // Calibration: a confident answer must carry evidence; an unknown one must not be confident.
      if (output.analysis.confidence >= 0.8) expect(output.analysis.evidence.length).toBeGreaterThan(0);
      if (output.analysis.category === 'unknown') expect(output.analysis.confidence).toBeLessThan(0.5);
    });
  });
}
