/**
 * Runbooks from the configuration: `runbooks:` inline in the configuration file, and every
 * `*.yaml`/`*.yml` file of `runbooksDir` (each document a runbook, or a mapping with a `runbooks:`
 * list). Validated once at start-up; a runbook that does not validate is refused with
 * `file:line: field: message` (configuration-invalid, exit 2).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, formatPath } from '../domain/index.js';
import { PROTECTED_NAMESPACES } from '../planning/policy.js';
import { type LoadedRunbook, RunbookSchema } from '../runbooks/schema.js';
import { type LocatedDocument, parseYamlDocuments } from './yaml.js';

type Path = ReadonlyArray<string | number>;

interface Candidate {
  readonly value: unknown;
  readonly file: string;
  /** Where the runbook sits in its document. */
  readonly path: Path;
  readonly document?: LocatedDocument;
}

function at(candidate: Candidate, path: Path): string {
  const line = candidate.document?.lineOf([...candidate.path, ...path]);
  return line === undefined ? candidate.file : `${candidate.file}:${line}`;
}

function field(candidate: Candidate, path: Path): string {
  return formatPath([...candidate.path, ...path]) || '(runbook)';
}

/** Checks one runbook; returns it, or the problems as `file:line: field: message`. */
function check(candidate: Candidate): { runbook?: LoadedRunbook; problems: string[] } {
  const parsed = RunbookSchema.safeParse(candidate.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => {
            const path = [...issue.path, key] as Path;
            return `${at(candidate, path)}: ${field(candidate, path)}: unknown key`;
          })
        : [`${at(candidate, issue.path as Path)}: ${field(candidate, issue.path as Path)}: ${issue.message}`],
    );
    return { problems };
  }
  const problems: string[] = [];
  parsed.data.actions.forEach((action, index) => {
    const namespace = action.target.namespace;
    if (namespace !== undefined && (PROTECTED_NAMESPACES as readonly string[]).includes(namespace)) {
      const path = ['actions', index, 'target', 'namespace'];
      problems.push(
        `${at(candidate, path)}: ${field(candidate, path)}: ${namespace} is protected; runbooks never change it`,
      );
    }
  });
  if (problems.length > 0) return { problems };
  return { runbook: { ...parsed.data, origin: at(candidate, []) }, problems };
}

function fromDocument(file: string, document: LocatedDocument, base: Path): Candidate[] {
  const value = document.value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'runbooks' in value) {
    const list = (value as { runbooks: unknown }).runbooks;
    if (!Array.isArray(list)) return [{ value: list, file, path: [...base, 'runbooks'], document }];
    return list.map((item, index) => ({ value: item, file, path: [...base, 'runbooks', index], document }));
  }
  if (Array.isArray(value))
    return value.map((item, index) => ({ value: item, file, path: [...base, index], document }));
  return [{ value, file, path: base, document }];
}

function documentsOf(file: string, text: string): { documents: LocatedDocument[]; problems: string[] } {
  const documents = parseYamlDocuments(text);
  const problems = documents.flatMap((document) =>
    document.errors.map((error) => `${file}:${error.line}: not valid YAML: ${error.message}`),
  );
  return { documents, problems };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigurationError(`${what} ${file} cannot be read`, { cause });
  }
}

export interface RunbookSources {
  /** `runbooks:` of the configuration, if any. */
  readonly inline?: unknown;
  /** The configuration file the inline runbooks came from (for line numbers). */
  readonly configFile?: string;
  /** `runbooksDir` (`--runbooks-dir` / `KUBEMEND_RUNBOOKS_DIR`). */
  readonly dir?: string;
}

/** Every configured runbook, validated; throws `configuration-invalid` naming each problem. */
export function loadRunbooks(sources: RunbookSources): LoadedRunbook[] {
  const candidates: Candidate[] = [];
  const problems: string[] = [];
  if (sources.inline !== undefined) {
    let document: LocatedDocument | undefined;
    if (sources.configFile !== undefined) {
      const parsed = documentsOf(sources.configFile, readText(sources.configFile, 'configuration file'));
      document = parsed.documents[0];
    }
    const file = sources.configFile ?? 'configuration';
    if (!Array.isArray(sources.inline)) problems.push(`${file}: runbooks: expected a list of runbooks`);
    else
      sources.inline.forEach((value, index) =>
        candidates.push({ value, file, path: ['runbooks', index], ...(document ? { document } : {}) }),
      );
  }
  if (sources.dir !== undefined) {
    let entries: string[];
    try {
      entries = readdirSync(sources.dir)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort();
    } catch (cause) {
      throw new ConfigurationError(
        `runbooks directory ${sources.dir} cannot be read (runbooksDir / --runbooks-dir / KUBEMEND_RUNBOOKS_DIR)`,
        { cause },
      );
    }
    for (const name of entries) {
      const file = join(sources.dir, name);
      const parsed = documentsOf(file, readText(file, 'runbook file'));
      problems.push(...parsed.problems);
      if (parsed.problems.length === 0)
        for (const document of parsed.documents) {
          if (document.value === null || document.value === undefined) continue;
          candidates.push(...fromDocument(file, document, []));
        }
    }
  }
  const runbooks: LoadedRunbook[] = [];
  const names = new Map<string, string>();
  for (const candidate of candidates) {
    const checked = check(candidate);
    problems.push(...checked.problems);
    if (!checked.runbook) continue;
    const earlier = names.get(checked.runbook.name);
    if (earlier !== undefined)
      problems.push(
        `${at(candidate, ['name'])}: ${field(candidate, ['name'])}: runbook ${checked.runbook.name} is already defined at ${earlier}`,
      );
    names.set(checked.runbook.name, checked.runbook.origin);
    runbooks.push(checked.runbook);
  }
  if (problems.length > 0) throw new ConfigurationError(`invalid runbooks:\n  ${problems.join('\n  ')}`);
  return runbooks;
}
