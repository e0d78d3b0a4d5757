/**
 * The incident corpus (test/corpus) and holdout set (test/holdout): loading, and the matching
 * rules shared by the table-driven test and `npm run eval:offline`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  EXECUTABLE_ACTION_TYPES,
  type RemediateInput,
  type RemediateOutput,
  type RemediationAction,
} from '../../src/domain/index.js';

export interface ActionMatcher {
  readonly type?: string | readonly string[];
  readonly targetKind?: string | readonly string[];
  readonly targetName?: string | readonly string[];
  readonly mentions?: readonly string[];
}

export interface IncidentCase {
  readonly file: string;
  readonly folder: string;
  readonly description: string;
  readonly input: RemediateInput;
  readonly expect: {
    readonly category: string | readonly string[];
    readonly executable: boolean;
    readonly actions: readonly ActionMatcher[];
    readonly forbid: readonly ActionMatcher[];
  };
}

/** Matchers every case gets, whatever it says: kubemend must never propose these. */
export const GLOBAL_FORBIDS: readonly ActionMatcher[] = [
  {
    type: 'delete',
    targetKind: ['Namespace', 'Deployment', 'StatefulSet', 'DaemonSet', 'PersistentVolumeClaim', 'Node'],
  },
  { mentions: ['"cluster-admin"'] },
  { type: 'create', targetKind: ['ClusterRoleBinding', 'ClusterRole'] },
  { type: 'patch', mentions: ['"livenessProbe":null'] },
  { type: 'patch', mentions: ['"readinessProbe":null'] },
  { type: 'patch', mentions: ['"privileged":true'] },
];

export function loadIncidents(root: string): IncidentCase[] {
  const out: IncidentCase[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.json')) {
        const raw = JSON.parse(readFileSync(path, 'utf8')) as Omit<IncidentCase, 'file' | 'folder'>;
        out.push({
          ...raw,
          file: relative(root, path),
          folder: relative(root, dir),
          expect: { ...raw.expect, actions: raw.expect.actions ?? [], forbid: raw.expect.forbid ?? [] },
        });
      }
    }
  };
  walk(root);
  return out;
}

function oneOf(expected: string | readonly string[] | undefined, actual: string | undefined): boolean {
  if (expected === undefined) return true;
  if (actual === undefined) return false;
  return typeof expected === 'string' ? expected === actual : expected.includes(actual);
}

const squash = (text: string): string => text.replace(/\s+/g, '');

export function actionMatches(matcher: ActionMatcher, action: RemediationAction): boolean {
  if (!oneOf(matcher.type, action.type)) return false;
  if (!oneOf(matcher.targetKind, action.target.kind)) return false;
  if (!oneOf(matcher.targetName, action.target.name)) return false;
  const body = squash(JSON.stringify(action));
  return (matcher.mentions ?? []).every((mention) => body.includes(squash(mention)));
}

export interface CaseVerdict {
  readonly categoryOk: boolean;
  readonly actionsOk: boolean;
  readonly executableOk: boolean;
  readonly forbidden: ReadonlyArray<{ readonly matcher: ActionMatcher; readonly action: string }>;
  readonly missing: readonly ActionMatcher[];
}

export function judge(incident: IncidentCase, output: RemediateOutput): CaseVerdict {
  const expected = incident.expect;
  const actions = output.remediation.actions;
  const categoryOk = oneOf(expected.category, output.analysis.category);
  const missing = expected.actions.filter(
    (matcher) => !actions.some((action) => actionMatches(matcher, action)),
  );
  const executable = actions.some((action) =>
    (EXECUTABLE_ACTION_TYPES as readonly string[]).includes(action.type),
  );
  const executableOk = executable === expected.executable;
  const forbidden: Array<{ matcher: ActionMatcher; action: string }> = [];
  for (const matcher of [...expected.forbid, ...GLOBAL_FORBIDS]) {
    for (const action of actions) {
      if (actionMatches(matcher, action))
        forbidden.push({ matcher, action: `${action.type} ${action.target.kind}/${action.target.name}` });
    }
  }
  return { categoryOk, actionsOk: missing.length === 0 && executableOk, executableOk, forbidden, missing };
}
