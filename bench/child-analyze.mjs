// Child process for the analysis benchmark: streams one input file through the same path the CLI
// uses (streaming parse → bounded log summary → rules → plan) and reports time and peak RSS.
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { readInputStream } from '../dist/interfaces/cli/read-input.js';
import { RemediationService } from '../dist/service/remediation-service.js';
import { loadConfiguration } from '../dist/config/configuration.js';
import { loadPolicies } from '../dist/config/policies.js';

const started = performance.now();
const { size } = await import('node:fs').then((fs) => fs.statSync(process.argv[2]));
const parsed = await readInputStream(createReadStream(process.argv[2], { highWaterMark: 1 << 20 }), {
  parallel: size >= 8 * 1024 * 1024,
});
const service = new RemediationService({
  configuration: loadConfiguration({ env: {} }),
  policies: loadPolicies(undefined),
});
const output = await service.remediate(parsed.input, { logs: parsed.logs });
const ms = performance.now() - started;
process.stdout.write(
  JSON.stringify({
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    category: output.analysis.category,
    bytes: parsed.bytes,
  }) + '\n',
);
