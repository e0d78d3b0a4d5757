// Sums the JSON reports of a test run into the one closing line CI reads: `tests: N passed, M failed`.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const directory = process.argv[2] ?? '.state/reports';
// Reports every full run must produce: a suite that never ran is a failure, not zero tests.
const expected = (process.env.KM_EXPECTED_REPORTS ?? 'unit.json,integration.json,scenarios.json')
  .split(',')
  .filter(Boolean);
const missing = expected.filter((name) => !existsSync(join(directory, name)));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of existsSync(directory) ? readdirSync(directory) : []) {
  if (!name.endsWith('.json')) continue;
  const report = JSON.parse(readFileSync(join(directory, name), 'utf8'));
  if (typeof report.numPassedTests === 'number') {
    // vitest JSON reporter
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  } else if (typeof report.passed === 'number') {
    // scenario runner report
    passed += report.passed;
    failed += report.failed;
  }
}
for (const name of missing) console.error(`summarize-tests: ${name} is missing: that suite did not run`);
failed += missing.length;
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
