// Sums the JSON reports of a test run into the one closing line CI reads: `tests: N passed, M failed`.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const directory = process.argv[2] ?? '.state/reports';
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
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
