/**
 * The layer boundaries are enforced: ESLint's Node API, with the repository's own eslint.config.js
 * (generated from the tables in docs/architecture.md), lints small in-memory sources placed in
 * each layer. A forbidden import fails — in both `x` and `node:x` spellings, static or dynamic —
 * and an allowed one passes. Plus the generator's own guarantees: one block per directory (so no
 * block replaces another's bans), and a table that names an unknown layer or leaves a directory
 * uncovered is refused.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { layerBlocks, parseArchitecture } from '../scripts/lint/layers.mjs';

const eslint = new ESLint({ cwd: process.cwd() });
const RESTRICTIONS = new Set(['no-restricted-imports', 'no-restricted-syntax']);

/** The boundary messages for `source` placed at `file`. */
async function boundaryErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: file });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId !== null && RESTRICTIONS.has(message.ruleId))
    .map((message) => message.message);
}

const imports = (specifier: string) => `import * as imported from '${specifier}';\nexport { imported };\n`;

const FORBIDDEN: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['src/domain', 'node:child_process', /never in src/],
  ['src/domain', 'child_process', /never in src/],
  ['src/domain', 'node:fs', /Node built-ins: not in domain/],
  ['src/domain', 'fs', /Node built-ins: not in domain/],
  ['src/domain', 'node:os', /Node built-ins: not in domain/],
  ['src/execution', '../context/json.js', /src\/execution may not import src\/context/],
  ['src/analysis/ai', '../../planning/drafts.js', /may not import src\/planning/],
  ['src/domain', '../planning/policy.js', /src\/domain may not import src\/planning/],
  ['src/domain', '../context/json.js', /src\/domain may not import src\/context/],
  ['src/analysis', 'node:child_process', /never in src/],
  ['src/analysis', 'child_process', /never in src/],
  ['src/analysis', '@kubernetes/client-node', /only in cluster/],
  ['src/analysis', 'ai', /only in analysis\/ai/],
  ['src/analysis', './ai/index.js', /src\/analysis may not import src\/analysis\/ai/],
  ['src/analysis/rules', '../ai/index.js', /src\/analysis may not import src\/analysis\/ai/],
  ['src/analysis/rules', '../../planning/policy.js', /may not import src\/planning/],
  ['src/planning', 'node:child_process', /never in src/],
  ['src/planning', '@ai-sdk/anthropic', /only in analysis\/ai/],
  ['src/planning', '../analysis/ai/index.js', /may not import src\/analysis\/ai/],
  ['src/context', 'node:child_process', /never in src/],
  ['src/context', '@kubernetes/client-node', /only in cluster/],
  ['src/context', '../analysis/engine.js', /may not import src\/analysis/],
  ['src/analysis/ai', '@kubernetes/client-node', /only in cluster/],
  ['src/analysis/ai', '../../planning/risk.js', /may not import src\/planning/],
  ['src/cluster', 'node:child_process', /never in src/],
  ['src/execution', '../context/live.js', /may not import src\/context/],
  ['src/execution', 'better-sqlite3', /only in storage, sessions, audit/],
  ['src/storage', '../sessions/store.js', /src\/storage may not import src\/sessions/],
  ['src/audit', '../sessions/store.js', /src\/audit may not import src\/sessions/],
  ['src/service', '../app.js', /may not import src\/app\.ts/],
  ['src/service', '../interfaces/http/server.js', /may not import src\/interfaces\/http/],
  ['src/interfaces/mcp', '../http/server.js', /may not import src\/interfaces\/http/],
  ['src/interfaces/mcp', 'fastify', /only in interfaces\/http/],
  ['src/interfaces/http', '../../audit/recorder.js', /may not import src\/audit/],
];

const ALLOWED: ReadonlyArray<readonly [string, string]> = [
  ['src/domain', './errors.js'],
  ['src/domain', 'zod'],
  ['src/analysis', '../context/model.js'],
  ['src/analysis', 'node:crypto'],
  ['src/analysis/rules', '../facts.js'],
  ['src/analysis/ai', 'ai'],
  ['src/analysis/ai', '@ai-sdk/anthropic'],
  ['src/analysis/ai', '../engine.js'],
  ['src/analysis/ai', '../../cluster/gateway.js'],
  ['src/cluster', '@kubernetes/client-node'],
  ['src/execution', '../audit/recorder.js'],
  // The shared utilities live in the domain, which every layer may import; the domain may hash.
  ['src/execution', '../domain/index.js'],
  ['src/analysis/ai', '../../domain/json.js'],
  ['src/domain', 'node:crypto'],
  ['src/domain', 'crypto'],
  ['src/sessions', '../storage/postgres.js'],
  ['src/sessions', 'pg'],
  ['src/interfaces/cli', '../../app.js'],
  ['src/interfaces/cli', '../http/server.js'],
];

describe('the layer rules, through the ESLint Node API', () => {
  it.each(FORBIDDEN)('%s may not import %s', async (layer, specifier, reason) => {
    const errors = await boundaryErrors(`${layer}/probe.ts`, imports(specifier));
    expect(errors.length, `${layer} importing ${specifier} passed the lint`).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(reason);
  });

  it.each(ALLOWED)('%s may import %s', async (layer, specifier) => {
    expect(await boundaryErrors(`${layer}/probe.ts`, imports(specifier))).toEqual([]);
  });

  it.each([
    ['src/domain', 'node:child_process'],
    ['src/analysis', 'node:child_process'],
    ['src/planning', '../analysis/ai/index.js'],
  ])('refuses a dynamic import() of %s → %s too', async (layer, specifier) => {
    const source = `export const load = () => import('${specifier}');\n`;
    expect((await boundaryErrors(`${layer}/probe.ts`, source)).length).toBeGreaterThan(0);
  });

  it('keeps the enum ban in the generated blocks', async () => {
    const [result] = await eslint.lintText('export enum Colour { Red }\n', {
      filePath: 'src/domain/probe.ts',
    });
    expect(result?.messages.map((message) => message.message)).toContain(
      'Use an `as const` array and a derived union instead of an enum.',
    );
  });
});

const TABLES = (layers: string, packages = '', shared = '') => `
<!-- lint:layers:start -->
| layer | holds | may import |
|---|---|---|
${layers}
<!-- lint:layers:end -->
<!-- lint:packages:start -->
| package | may be imported in |
|---|---|
${packages}
<!-- lint:packages:end -->
<!-- lint:shared:start -->
| current file | what | moves to |
|---|---|---|
${shared}
<!-- lint:shared:end -->
`;

function sourceTree(directories: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'kubemend-layers-'));
  for (const directory of directories) mkdirSync(join(root, directory), { recursive: true });
  writeFileSync(join(root, 'src', 'app.ts'), '');
  return root;
}

describe('the generator', () => {
  it('gives every source directory exactly one block', () => {
    const blocks = layerBlocks({ root: process.cwd(), syntax: [] });
    const globs = blocks.flatMap((block) => block.files);
    expect(new Set(globs).size).toBe(globs.length);
    expect(globs).toContain('src/domain/*.ts');
    expect(globs).toContain('src/analysis/rules/*.ts');
    expect(globs).toContain('src/app.ts');
  });

  it('reads the layers, packages and shared files of docs/architecture.md', () => {
    const markdown = TABLES(
      '| `src/domain` | x | nothing of ours |\n| `src/planning` | x | `domain` (types), `context` |\n| `src/context` | x | `domain` |',
      '| Node built-ins | everywhere except `domain` |\n| `child_process` | nowhere |',
      '| `src/context/json.ts` | readers | `src/domain` |',
    );
    const parsed = parseArchitecture(markdown);
    expect(parsed.layers.map((layer) => [layer.id, layer.mayImport])).toEqual([
      ['domain', []],
      ['planning', ['domain', 'context']],
      ['context', ['domain']],
    ]);
    expect(parsed.packages[0]?.allowed).toEqual(['planning', 'context']);
    expect(parsed.packages[1]?.allowed).toEqual([]);
    expect(parsed.shared).toEqual(['src/context/json.ts']);
  });

  it('refuses a table that names an unknown layer', () => {
    expect(() => parseArchitecture(TABLES('| `src/domain` | x | `nowhere-layer` |'))).toThrow(
      /names "nowhere-layer", which is not a layer/,
    );
  });

  it('refuses a source directory that no layer covers', () => {
    const root = sourceTree(['src/domain', 'src/gadgets']);
    const markdown = TABLES('| `src/domain` | x | nothing of ours |\n| `src/app.ts` | root | everything |');
    expect(() => layerBlocks({ root, markdown })).toThrow(/src\/gadgets\/ is in no layer/);
  });
});
