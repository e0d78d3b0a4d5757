/**
 * The layer rules of eslint.config.js, generated from the tables in docs/architecture.md (between
 * `<!-- lint:… -->` markers) so that the document and the lint cannot disagree.
 *
 * ESLint's flat config lets a later block *replace* an earlier block's options for the same rule,
 * so bans are never spread over blocks: each source directory gets exactly one block (its files
 * only, `dir/*.ts`) whose `no-restricted-imports` carries every ban that applies there — the
 * layers it may not import, and the packages reserved for other layers (Node built-ins in both
 * the `x` and `node:x` forms). Relative imports are matched by their exact path from that
 * directory, so `../ai/x.js` from `src/analysis/rules` and `./ai/x.js` from `src/analysis` are both
 * the AI layer. Dynamic `import()` of a literal gets the same bans through `no-restricted-syntax`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';

const DOC = 'docs/architecture.md';

/** The rows of the markdown table between `<!-- lint:NAME:start -->` and `<!-- lint:NAME:end -->`. */
function tableRows(markdown, name) {
  const match = new RegExp(`<!-- lint:${name}:start -->([\\s\\S]*?)<!-- lint:${name}:end -->`).exec(markdown);
  if (!match) throw new Error(`${DOC}: no <!-- lint:${name}:start/end --> table`);
  return match[1]
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1) // the header
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
}

/** The backticked names of a cell; remarks in parentheses are prose. */
const ticked = (cell) => [...cell.replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/**
 * Parses the three tables:
 * - `layers`: `src/<path>` | holds | may import (backticked layer ids, `everything`, or nothing);
 * - `packages`: backticked package names (`@scope/*` for a scope, or "Node built-ins") | where
 *   they may be imported: backticked layer ids, `nowhere`, or `everywhere except` + ids;
 * - `shared`: backticked current file paths any layer may import until they move to `src/domain`.
 */
export function parseArchitecture(markdown) {
  const layers = tableRows(markdown, 'layers').map(([path, , mayImport]) => {
    const [source] = ticked(path);
    if (!source?.startsWith('src/')) throw new Error(`${DOC}: layer "${path}" is not a src/ path`);
    return {
      id: source.slice('src/'.length),
      path: source,
      mayImport: /\beverything\b/.test(mayImport) ? '*' : ticked(mayImport),
    };
  });
  const ids = new Set(layers.map((layer) => layer.id));
  const known = (id, where) => {
    if (!ids.has(id)) throw new Error(`${DOC}: ${where} names "${id}", which is not a layer of the table`);
    return id;
  };
  for (const layer of layers)
    if (layer.mayImport !== '*') layer.mayImport.forEach((id) => known(id, `layer ${layer.id}`));

  const packageRows = tableRows(markdown, 'packages');
  // A built-in with a row of its own (e.g. `crypto`) follows that row, not the built-ins row.
  const ownRows = new Set(
    packageRows.filter(([names]) => !/Node built-ins/i.test(names)).flatMap(([names]) => ticked(names)),
  );
  const packages = packageRows.map(([names, where]) => {
    const builtins = /Node built-ins/i.test(names);
    const list = builtins
      ? builtinModules.filter((name) => !name.startsWith('_') && !ownRows.has(name))
      : ticked(names);
    let allowed;
    let rule;
    if (/^everywhere\b(?! except)/i.test(where)) {
      allowed = [...ids];
      rule = 'everywhere';
    } else if (/^nowhere/i.test(where)) {
      allowed = [];
      rule = 'never in src/';
    } else if (/^everywhere except/i.test(where)) {
      const except = ticked(where).map((id) => known(id, `package row ${names}`));
      allowed = [...ids].filter((id) => !except.includes(id));
      rule = `not in ${except.join(', ')}`;
    } else {
      allowed = ticked(where).map((id) => known(id, `package row ${names}`));
      rule = `only in ${allowed.join(', ')}`;
    }
    const label = builtins ? 'Node built-ins' : list.join(', ');
    return { names: list, builtins, allowed, message: `${label}: ${rule} (package table in ${DOC}).` };
  });

  const shared = tableRows(markdown, 'shared').map(([file]) => ticked(file)[0]);
  return { layers, packages, shared };
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** How an import from `dir` spells `target` (a directory or a .ts file), as a regex source. */
function relativeSpecifier(dir, target) {
  let rel = posix.relative(dir, target);
  if (!rel.startsWith('..')) rel = `./${rel}`;
  return rel;
}

/**
 * One regex for a row of the package table: `name` and its subpaths, `@scope/*` for a whole scope;
 * a Node built-in also as `node:name`, and the built-ins row every `node:` specifier.
 */
function packagePattern(row) {
  const alternatives = row.names.map((name) =>
    name.endsWith('/*') ? escape(name.slice(0, -1)) : `${escape(name)}(?:/|$)`,
  );
  const names = `(?:${alternatives.join('|')})`;
  if (row.builtins) {
    // Every `node:` specifier, except the built-ins that have a row of their own.
    const own = builtinModules.filter((name) => !name.startsWith('_') && !row.names.includes(name));
    const exempt = own.length ? `(?!(?:${own.map(escape).join('|')})(?:/|$))` : '';
    return `^(?:node:${exempt}|${names})`;
  }
  return row.names.some((name) => builtinModules.includes(name)) ? `^(?:node:)?${names}` : `^${names}`;
}

/** The layer a directory (or a file directly in src/) belongs to: the longest matching path. */
function layerOf(layers, path) {
  const matches = layers.filter((layer) => path === layer.path || path.startsWith(`${layer.path}/`));
  return matches.sort((a, b) => b.path.length - a.path.length)[0];
}

/** Every directory under `src`, as posix paths relative to the repository root. */
function sourceDirectories(root, dir = 'src') {
  const entries = readdirSync(join(root, dir), { withFileTypes: true });
  return [
    dir,
    ...entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('__'))
      .flatMap((entry) => sourceDirectories(root, `${dir}/${entry.name}`)),
  ];
}

/** The patterns `no-restricted-imports` needs in `dir` (a directory of layer `layer`). */
function bansFor(architecture, layer, dir) {
  const { layers, packages, shared } = architecture;
  const allowed = (other) => other === layer || layer.mayImport === '*' || layer.mayImport.includes(other.id);
  // The shared utilities, importable from every layer that may import anything of ours at all,
  // until they move into src/domain.
  const sharedLookahead =
    shared.length && (layer.mayImport === '*' || layer.mayImport.length > 0)
      ? `(?!(?:${shared
          .map((file) => escape(relativeSpecifier(dir, file).replace(/\.ts$/, '')))
          .join('|')})(?:\\.[cm]?[jt]s)?$)`
      : '';
  const patterns = [];
  for (const other of layers) {
    if (allowed(other)) continue;
    const target = relativeSpecifier(dir, other.path);
    let regex;
    if (other.path.endsWith('.ts')) {
      regex = `^${escape(target.replace(/\.ts$/, ''))}(?:\\.[cm]?[jt]s)?$`;
    } else {
      // Layers nested inside the forbidden one that this layer may import (or is).
      const inside = layers
        .filter((nested) => nested.path.startsWith(`${other.path}/`) && allowed(nested))
        .map((nested) => escape(posix.relative(other.path, nested.path)));
      const keepOut = ['\\.\\.', ...inside].map((segment) => `(?!${segment}(?:/|$))`).join('');
      regex = `^${sharedLookahead}${escape(target)}(?:/${keepOut}|$)`;
    }
    patterns.push({
      regex,
      caseSensitive: true,
      message: `${layer.path} may not import ${other.path} (layer table in ${DOC}).`,
    });
  }
  for (const row of packages) {
    if (!row.allowed.includes(layer.id))
      patterns.push({ regex: packagePattern(row), caseSensitive: true, message: row.message });
  }
  return patterns;
}

/** esquery regex literals cannot contain `/`. */
const selectorRegex = (source) => source.replace(/\//g, '\\x2F');

/**
 * One flat-config block per source directory. `syntax` are `no-restricted-syntax` entries every
 * block must keep (the rule's options are replaced, not merged, by a later block).
 */
export function layerBlocks({ root = process.cwd(), markdown, syntax = [] } = {}) {
  const architecture = parseArchitecture(markdown ?? readFileSync(join(root, DOC), 'utf8'));
  const blocks = [];
  const block = (files, layer, dir) => {
    const patterns = bansFor(architecture, layer, dir);
    const dynamic = patterns.map(({ regex, message }) => ({
      selector: `ImportExpression[source.value=/${selectorRegex(regex)}/]`,
      message,
    }));
    blocks.push({
      files,
      rules: {
        'no-restricted-imports': ['error', { patterns }],
        'no-restricted-syntax': ['error', ...syntax, ...dynamic],
      },
    });
  };
  for (const dir of sourceDirectories(root)) {
    if (dir === 'src') {
      for (const entry of readdirSync(join(root, 'src'), { withFileTypes: true })) {
        if (!entry.isFile() || !/\.[cm]?ts$/.test(entry.name)) continue;
        const file = `src/${entry.name}`;
        const layer = architecture.layers.find((candidate) => candidate.path === file);
        if (!layer) throw new Error(`${file} is in no layer of the table in ${DOC}: add it there`);
        block([file], layer, 'src');
      }
      continue;
    }
    const layer = layerOf(architecture.layers, dir);
    if (!layer) throw new Error(`${dir}/ is in no layer of the table in ${DOC}: add it there`);
    block([`${dir}/*.ts`, `${dir}/*.mts`, `${dir}/*.cts`], layer, dir);
  }
  return blocks;
}
