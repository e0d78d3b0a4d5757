// npm run scenarios -- [--dir DIR] [--only NAME[,NAME...]] [--keep] [--report FILE] [--step FILE]
// Brings the cluster up (scripts/cluster/up.sh, idempotent), runs each scenario, prints one line
// per scenario and `scenarios: N passed, M failed`, exits 1 on any failure (2 on bad usage).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, SCRIPTS_DIR } from '../cluster/cluster-harness.js';
import { kubemendStep } from './kubemend-step.js';
import { ClusterIO } from './cluster-io.js';
import { loadScenarios, ScenarioError, ScenarioRunner, type RemediateFn, type ScenarioResult } from './runner.js';
import { median } from './timing.js';

interface Arguments {
  dir: string;
  only: string[];
  keep: boolean;
  report: string;
  step?: string;
}

function parseArguments(argv: readonly string[]): Arguments {
  const args: Arguments = {
    dir: join(REPO_ROOT, 'test', 'scenarios'),
    only: [],
    keep: false,
    report: join(REPO_ROOT, '.state', 'scenarios', 'last-run.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new ScenarioError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--dir') args.dir = resolve(value());
    else if (arg === '--only') args.only.push(...value().split(',').filter(Boolean));
    else if (arg === '--keep') args.keep = true;
    else if (arg === '--report') args.report = resolve(value());
    else if (arg === '--step') args.step = resolve(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run scenarios -- [--dir DIR] [--only NAME[,NAME...]] [--keep] [--report FILE] [--step FILE]\n');
      process.exit(0);
    } else throw new ScenarioError(`unknown argument ${arg} (see --help)`);
  }
  return args;
}

async function loadStep(file: string | undefined): Promise<RemediateFn | undefined> {
  if (file === undefined) return kubemendStep;
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof module.default !== 'function') throw new ScenarioError(`${file} must export a default function (scenario, input) => Promise<RemediateOutput>`);
  return module.default as RemediateFn;
}

async function main(): Promise<number> {
  let args: Arguments;
  let scenarios;
  let step: RemediateFn | undefined;
  try {
    args = parseArguments(process.argv.slice(2));
    scenarios = loadScenarios(args.dir, args.only);
    step = await loadStep(args.step);
  } catch (error) {
    process.stderr.write(`scenarios: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (scenarios.length === 0) {
    process.stderr.write(`scenarios: none found in ${args.dir}\n`);
    return 2;
  }
  execFileSync('bash', [join(SCRIPTS_DIR, 'up.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const io = new ClusterIO();
  const runner = new ScenarioRunner({ io, keep: args.keep, log: (line) => process.stdout.write(`${line}\n`), ...(step ? { kubemend: step } : {}) });
  const started = Date.now();
  const results: ScenarioResult[] = [];
  const width = Math.max(...scenarios.map((s) => s.name.length));
  for (const scenario of scenarios) {
    const result = await runner.run(scenario);
    results.push(result);
    const t = result.timing;
    const windows = t ? `; window ${(t.stabilityMs ?? 0) / 1000}s${t.survivalMs !== undefined ? `, survival ${t.survivalMs / 1000}s` : ''}` : '';
    const timing = t ? `  [verified ${(t.timeToVerifiedMs / 1000).toFixed(1)}s, rollout ${(t.rolloutMs / 1000).toFixed(1)}s${t.ratio !== undefined ? `, ${t.ratio}×` : ''}${windows}]` : '';
    const line = `${result.ok ? 'PASS' : 'FAIL'}  ${scenario.name.padEnd(width)}  ${result.seconds.toFixed(1).padStart(5)}s  ${result.summary}${timing}`;
    process.stdout.write(`${line}\n`);
    for (const problem of result.problems) process.stdout.write(`      ${problem}\n`);
  }
  if (!args.keep) {
    await runner.applyWorld(undefined, 'default');
    await runner.waitForNamespacesGone();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const awaiting = results.filter((r) => r.ok && r.awaitsExecution).length;
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const timings = results.flatMap((r) => (r.timing ? [r.timing] : []));
  const fixes = timings.length
    ? {
        count: timings.length,
        medianTimeToVerifiedMs: median(timings.map((t) => t.timeToVerifiedMs)),
        medianRatio: median(timings.flatMap((t) => (t.ratio !== undefined ? [t.ratio] : []))),
        rollouts: timings.filter((t) => t.ratio !== undefined).length,
        medianRatioNewPods: median(timings.flatMap((t) => (t.ratio !== undefined && t.newPods ? [t.ratio] : []))),
        newPodRollouts: timings.filter((t) => t.ratio !== undefined && t.newPods).length,
      }
    : undefined;
  mkdirSync(dirname(args.report), { recursive: true });
  writeFileSync(args.report, `${JSON.stringify({ finishedAt: new Date().toISOString(), seconds, passed, failed, awaiting, ...(fixes ? { fixes } : {}), results }, null, 2)}\n`);
  const times = (ratio: number | undefined) => (ratio === undefined ? '-' : `${ratio.toFixed(2)}×`);
  if (fixes)
    process.stdout.write(
      `verified fixes: ${fixes.count}, median time to verified fix ${((fixes.medianTimeToVerifiedMs ?? 0) / 1000).toFixed(1)} s, median ratio to the workload's rollout ${times(fixes.medianRatio)} (${fixes.rollouts} rollouts; ${times(fixes.medianRatioNewPods)} over the ${fixes.newPodRollouts} that brought up new pods)\n`,
    );
  process.stdout.write(`(${seconds} s in all; report: ${args.report})\n`);
  process.stdout.write(`scenarios: ${passed} passed, ${failed} failed${awaiting ? ` (${awaiting} await execution)` : ''}\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`scenarios: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
