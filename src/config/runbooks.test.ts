import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../domain/index.js';
import { loadConfiguration } from './configuration.js';
import { loadRunbooks } from './runbooks.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/runbooks', import.meta.url));

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-runbooks-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('runbooks from the configuration', () => {
  it('loads the examples, in file order, with where each was defined', () => {
    const runbooks = loadRunbooks({ dir: EXAMPLES });
    expect(runbooks.map((r) => r.name)).toEqual(['restart-stuck-consumer', 'scale-report-worker']);
    expect(runbooks[1]?.origin).toMatch(/scale-report-worker\.yaml:4$/);
  });

  it('refuses a bad runbook with file:line: field: message for every problem', () => {
    const dir = dirWith({
      'bad.yaml': [
        'name: restart-api', // 1
        'match:', // 2
        '  category: dependency-failure', // 3
        '  logPatern: x', // 4
        'actions:', // 5
        '  - type: restart', // 6
        '    target:', // 7
        '      kind: Node', // 8
        '      name: "{{ target.name }}"', // 9
        '    description: "{{ finding.secret }}"', // 10
        '  - type: scale', // 11
        '    target: { kind: Deployment, namespace: kube-system, name: dns }', // 12
        '    params: { replicas: 2 }', // 13
        '    description: scale', // 14
      ].join('\n'),
    });
    const message = failure(() => loadRunbooks({ dir }));
    const file = join(dir, 'bad.yaml');
    expect(message).toContain(`${file}:4: match.logPatern: unknown key`);
    expect(message).toContain(`${file}:8: actions[0].target.kind: runbooks may not change cluster-scoped`);
    expect(message).toContain(`${file}:10: actions[0].description: unknown placeholder {{ finding.secret }}`);
  });

  it('names a protected namespace, a duplicate name and broken YAML', () => {
    const protectedNs = dirWith({
      'a.yaml':
        'name: a\nmatch: { category: oom-killed }\nactions:\n  - type: restart\n    target: { kind: Deployment, namespace: kube-system, name: dns }\n    description: x\n',
    });
    expect(failure(() => loadRunbooks({ dir: protectedNs }))).toMatch(
      /a\.yaml:5: actions\[0\]\.target\.namespace: kube-system is protected/,
    );
    const twice = dirWith({
      'a.yaml':
        'name: same\nmatch: { category: oom-killed }\nactions: [{ type: restart, target: { kind: Deployment, name: x }, description: x }]\n',
      'b.yaml':
        'name: same\nmatch: { category: oom-killed }\nactions: [{ type: restart, target: { kind: Deployment, name: x }, description: x }]\n',
    });
    expect(failure(() => loadRunbooks({ dir: twice }))).toMatch(
      /b\.yaml:1: name: runbook same is already defined at .*a\.yaml:1/,
    );
    const broken = dirWith({ 'c.yml': 'name: c\nmatch: [\n' });
    expect(failure(() => loadRunbooks({ dir: broken }))).toMatch(/c\.yml:\d+: not valid YAML/);
  });

  it('inline runbooks of the configuration file are checked with its line numbers, at start-up', () => {
    const dir = dirWith({
      'kubemend.yaml': [
        'logLevel: silent', // 1
        'runbooks:', // 2
        '  - name: ok', // 3
        '    match: { category: oom-killed }', // 4
        '    actions: [{ type: restart, target: { kind: Deployment, name: x }, description: x }]', // 5
        '  - name: Not_A_Name', // 6
        '    match: { category: oom-killed }', // 7
        '    actions: [{ type: restart, target: { kind: Deployment, name: x }, description: x }]', // 8
      ].join('\n'),
    });
    const file = join(dir, 'kubemend.yaml');
    expect(failure(() => loadConfiguration({ env: {}, file }))).toContain(`${file}:6: runbooks[1].name:`);
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      [
        'runbooks:',
        '  - name: ok',
        '    match: { category: oom-killed }',
        '    actions: [{ type: restart, target: { kind: Deployment, name: x }, description: x }]',
      ].join('\n'),
    );
    const configuration = loadConfiguration({ env: { KUBEMEND_RUNBOOKS_DIR: EXAMPLES }, file: good });
    expect(configuration.runbooks.map((r) => r.name)).toEqual([
      'ok',
      'restart-stuck-consumer',
      'scale-report-worker',
    ]);
    expect(configuration.runbooks[0]?.origin).toBe(`${good}:2`);
  });
});
