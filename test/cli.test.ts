/**
 * The CLI as users run it: a real process, stdout/stderr and exit codes (0 success/pending,
 * 1 failed, 2 bad input). Pin test: the exit codes are part of the contract.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RemediateOutputSchema } from '../src/domain/index.js';
import { EXIT_CODES } from '../src/interfaces/cli/main.js';
import { readInputStream } from '../src/interfaces/cli/read-input.js';

const directory = mkdtempSync(join(tmpdir(), 'kubemend-cli-'));

function run(args: string[], stdin?: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/interfaces/cli/main.ts', ...args], {
    input: stdin,
    encoding: 'utf8',
    env: { ...process.env, KUBEMEND_POLICY_FILE: '', ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

// Each case starts a real process (node + tsx): on a loaded machine that alone can pass 5 s.
describe('kubemend analyze', { timeout: 60_000 }, () => {
  it('pins the exit codes', () => {
    expect(EXIT_CODES).toEqual({ success: 0, failed: 1, badInput: 2, findings: 3 });
  });

  it('prints exactly one RemediateOutput JSON document for the bundled example', () => {
    const { code, stdout, stderr } = run(['analyze', '--input', 'examples/oom-killed.json', '--json']);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const output = RemediateOutputSchema.parse(JSON.parse(lines[0]!));
    expect(output.analysis.category).toBe('oom-killed');
    expect(output.status).toBe('pending');
    expect(output.remediation.actions.some((a) => a.type === 'patch')).toBe(true);
  });

  it('refuses a directory as --input with exit 2 (issue 14 item 10)', () => {
    const { code, stderr } = run(['analyze', '--input', directory, '--offline']);
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/--input: .* is a directory/);
  });

  it('reads stdin and honours --mode', () => {
    const input = JSON.stringify({ issue: 'nothing to go on' });
    const { code, stdout } = run(['analyze', '--input', '-', '--json', '--mode', 'automatic'], input);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).analysis.category).toBe('unknown');
  });

  it('prints a readable summary without --json', () => {
    const { code, stdout } = run(['analyze', '--input', 'examples/oom-killed.json']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Root cause:/);
    expect(stdout).toMatch(/risk medium/);
  });

  it.each([
    ['not JSON', '{"issue": "x",', /not valid JSON/],
    ['an empty document', '', /no input/],
    ['a JSON array', '[]', /expected a JSON object/],
    ['an unknown field', '{"issue":"x","priority":1}', /priority: unknown field/],
    ['an empty issue', '{"issue":""}', /issue: must not be empty/],
    [
      'an issue of 20,000 characters',
      JSON.stringify({ issue: 'x'.repeat(20_000) }),
      /issue: at most 10000 characters/,
    ],
    [
      'a log line that is not a string',
      '{"issue":"x","context":{"logs":["a",{"b":1}]}}',
      /context\.logs\[1\]: expected a string/,
    ],
    [
      'a wrong type deep inside',
      '{"issue":"x","context":{"event":{"count":"many"}}}',
      /context\.event\.count/,
    ],
  ])('rejects %s with exit 2 and a message naming the problem', (_name, content, message) => {
    const { code, stdout, stderr } = run([
      'analyze',
      '--input',
      file(`${_name.replace(/\W+/g, '-')}.json`, content),
      '--json',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // never a stack trace
    expect(JSON.parse(stdout).error.code).toBe('invalid-input');
  });

  it.each([
    [['analyze', '--input', 'examples/oom-killed.json', '--mode', 'yolo'], /--mode: must be one of/],
    [
      ['analyze', '--input', 'examples/oom-killed.json', '--policy', 'nope'],
      /policy: no policy named "nope"/,
    ],
    [['analyze', '--input', '/nonexistent/input.json'], /--input: cannot read/],
    [['analyze'], /give TYPE\/NAME \(e\.g\. analyze deploy\/checkout -n shop\) or --input/],
    [['analyze', 'deploy/checkout', '--input', 'examples/oom-killed.json'], /either TYPE\/NAME or --input/],
    [
      ['analyze', '--input', 'examples/oom-killed.json', '-n', 'shop'],
      /-n\/--namespace goes with TYPE\/NAME/,
    ],
    [
      ['analyze', 'widget/checkout'],
      /TYPE\/NAME: expected TYPE\/NAME, e\.g\. deploy\/checkout; TYPE is one of deployment \(deploy\)/,
    ],
    [['analyze', 'deploy/Check_Out'], /TYPE\/NAME: "Check_Out" is not a Kubernetes object name/],
    [['scan', '-n', 'shop', '-A'], /either -n\/--namespace or -A/],
    [['scan', '-o', 'xml'], /argument 'xml' is invalid/],
    [['scan', '-n', 'Shop!'], /-n\/--namespace: a namespace name/],
    [['scan', '-A', '-l', 'app in web'], /-l\/--selector: a label selector as kubectl -l takes it/],
    [['analyze', '--input', 'examples/oom-killed.json', '--bogus'], /unknown option/],
  ])('rejects bad flags with exit 2: %j', (args, message) => {
    const { code, stderr } = run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('needs a cluster for an address or a scan, and says so (exit 1)', () => {
    const offline = { KUBEMEND_OFFLINE: 'true' };
    const analyzed = run(['analyze', 'deploy/checkout', '-n', 'shop', '--json'], undefined, offline);
    expect(analyzed.code).toBe(1);
    expect(analyzed.stderr).toMatch(
      /analyze deploy\/checkout reads the live object, and no cluster is connected/,
    );
    expect(JSON.parse(analyzed.stdout).error.code).toBe('cluster-unreachable');
    const scanned = run(['scan', '-A', '-o', 'json'], undefined, offline);
    expect(scanned.code).toBe(1);
    expect(scanned.stderr).toMatch(/scan reads the live cluster, and none is connected/);
    expect(JSON.parse(scanned.stdout).error.code).toBe('cluster-unreachable');
  });

  it('streams a large input (summarising logs on a second thread) and counts every line', () => {
    const lines = Array.from(
      { length: 120_000 },
      (_, i) =>
        `2026-11-25T10:00:00.${String(i % 1000).padStart(3, '0')}Z INFO request ${i} handled in ${i % 97} ms by worker-${i % 8}`,
    );
    const path = file('large.json', JSON.stringify({ issue: 'slow responses', context: { logs: lines } }));
    const { code, stdout, stderr } = run(['analyze', '--input', path, '--json']);
    expect(code, stderr).toBe(0);
    const output = JSON.parse(stdout);
    expect(output.analysis.category).toBe('unknown');
    expect(output.analysis.checked.join(' ')).toContain('120000 log line(s)');
  });

  it('rejects an input over the size limit without reading it all', async () => {
    const big = Readable.from([
      Buffer.from('{"issue":"x","context":{"logs":['),
      Buffer.alloc(2048, 0x20),
      Buffer.from(']}}'),
    ]);
    await expect(readInputStream(big, { maxBytes: 1024 })).rejects.toThrow(
      /larger than the limit of 1024 bytes/,
    );
  });
});
