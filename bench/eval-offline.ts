/**
 * `npm run eval:offline`: runs the incident corpus (and the holdout set) through the embedded
 * rules and prints category accuracy, action match rate, forbidden-action count and p50/p99 time.
 * Exit code 1 when a target is missed (category ≥ 95%, action match ≥ 90%, forbidden 0).
 */
import { performance } from 'node:perf_hooks';
import { loadConfiguration } from '../src/config/configuration.js';
import { loadPolicies } from '../src/config/policies.js';
import { RemediationService } from '../src/service/remediation-service.js';
import { type IncidentCase, judge, loadIncidents } from '../test/support/incidents.js';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || args.includes('-v');
const sets = args.filter((arg) => !arg.startsWith('-'));
const roots = sets.length > 0 ? sets : ['test/corpus', 'test/holdout'];

const service = new RemediationService({
  configuration: loadConfiguration({ env: {} }),
  policies: loadPolicies(undefined),
});

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

let failedTargets = false;
for (const root of roots) {
  let incidents: IncidentCase[];
  try {
    incidents = loadIncidents(root);
  } catch {
    console.log(`${root}: not found, skipped`);
    continue;
  }
  let categoryOk = 0;
  let actionsOk = 0;
  let forbidden = 0;
  const times: number[] = [];
  const failures: string[] = [];
  for (const incident of incidents) {
    const started = performance.now();
    const output = await service.remediate(incident.input);
    times.push(performance.now() - started);
    const verdict = judge(incident, output);
    if (verdict.categoryOk) categoryOk++;
    if (verdict.actionsOk) actionsOk++;
    forbidden += verdict.forbidden.length;
    if (!verdict.categoryOk || !verdict.actionsOk || verdict.forbidden.length > 0) {
      const problems = [
        !verdict.categoryOk
          ? `category ${output.analysis.category} (${output.analysis.confidence}) ≠ ${JSON.stringify(incident.expect.category)}`
          : '',
        !verdict.executableOk ? `executable ${!incident.expect.executable}` : '',
        verdict.missing.length ? `missing ${JSON.stringify(verdict.missing)}` : '',
        verdict.forbidden.length ? `FORBIDDEN ${verdict.forbidden.map((f) => f.action).join(', ')}` : '',
      ].filter(Boolean);
      failures.push(
        `  ${incident.file}: ${problems.join('; ')}${verbose ? `\n      actions: ${output.remediation.actions.map((a) => `${a.type} ${a.target.kind}/${a.target.name}`).join(', ')}\n      cause: ${output.analysis.rootCause}` : ''}`,
      );
    }
  }
  times.sort((a, b) => a - b);
  const n = incidents.length;
  const category = categoryOk / n;
  const match = actionsOk / n;
  console.log(
    `${root}: ${n} incidents — category accuracy ${(category * 100).toFixed(1)}%, action match ${(match * 100).toFixed(1)}%, forbidden actions ${forbidden}, time p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`,
  );
  if (failures.length > 0 && (verbose || root !== 'test/holdout')) console.log(failures.join('\n'));
  if (category < 0.95 || match < 0.9 || forbidden > 0) failedTargets = true;
}
process.exitCode = failedTargets ? 1 : 0;
