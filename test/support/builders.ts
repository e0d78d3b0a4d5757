/**
 * Table tests for the planning builders (`src/planning/builders/<name>.test.ts`): each row is a
 * finding over a small, realistic context (what kubemend was given or gathered) and the drafts the
 * builder must propose — type, target, exact params and minimum risk of a change, or the words a
 * person's advice must contain. The finding is made the way rules make it (`rules/rule.ts`).
 */
import { describe, expect, it } from 'vitest';
import type { Category, RemediateContext, RiskLevel, ActionDraft } from '../../src/domain/index.js';
import { Facts } from '../../src/analysis/facts.js';
import type { FindingDetails, SubjectRef } from '../../src/analysis/finding.js';
import { finding } from '../../src/analysis/rules/rule.js';
import { contextFromInput } from '../../src/context/normalize.js';
import type { WorkloadRef } from '../../src/context/owners.js';
import type { Builder } from '../../src/planning/builders/index.js';

export const NS = 'shop';

/** An object in `context.resources`. */
export type Manifest = NonNullable<RemediateContext['resources']>[number];

export interface ExpectedDraft {
  readonly type: ActionDraft['type'];
  /** `Kind namespace/name`, or `Kind name` without a namespace. */
  readonly target: string;
  /** The exact params of a change (not checked for `manual`: see `words`). */
  readonly params?: unknown;
  readonly minimumRisk?: RiskLevel;
  /** Words the draft must contain (description, instructions, rationale or verification). */
  readonly words?: readonly string[];
  readonly command?: string;
}

export interface BuilderRow {
  /** The strategy (or the advice) the row exercises. */
  readonly name: string;
  readonly rootCause?: string;
  readonly details?: FindingDetails;
  readonly subject?: SubjectRef;
  /** What kubemend was given or gathered: pod, objects, events, metrics. */
  readonly context?: RemediateContext;
  readonly expect: readonly ExpectedDraft[];
}

export function draftsFor(builder: Builder, category: Category, row: BuilderRow): ActionDraft[] {
  const facts = new Facts(contextFromInput({ issue: row.name, context: row.context ?? {} }));
  const found = finding(category, facts, {
    confidence: 0.9,
    rootCause: row.rootCause ?? 'The root cause.',
    evidence: [],
    details: row.details,
    subject: row.subject,
  });
  return builder({ finding: found, facts, verifyTimeout: '3m' });
}

function targetOf(draft: ActionDraft): string {
  const { kind, name, namespace } = draft.target;
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/** A change of `target`: a strategic patch unless `patchType` says otherwise. */
export function change(
  target: string,
  patch: unknown,
  options: { patchType?: 'merge' | 'json'; minimumRisk?: RiskLevel; words?: readonly string[] } = {},
): ExpectedDraft {
  const { patchType = 'strategic', ...rest } = options;
  return { type: 'patch', target, params: { patchType, patch }, ...rest };
}

/** Advice for a person about `target`, with the words it must contain. */
export function advice(target: string, words: readonly string[], command?: string): ExpectedDraft {
  return { type: 'manual', target, words, ...(command !== undefined ? { command } : {}) };
}

export function rollbackTo(target: string, revision: number, words: readonly string[] = []): ExpectedDraft {
  return { type: 'rollback', target, params: { toRevision: revision }, words };
}

/** One `it` per row: the builder proposes exactly the expected drafts, in order. */
export function builderTable(category: Category, builder: Builder, rows: readonly BuilderRow[]): void {
  describe(`${category} builder`, () => {
    for (const row of rows) {
      it(row.name, () => {
        const drafts = draftsFor(builder, category, row);
        expect(drafts.map((draft) => `${draft.type} ${targetOf(draft)}`)).toEqual(
          row.expect.map((expected) => `${expected.type} ${expected.target}`),
        );
        row.expect.forEach((expected, index) => {
          const draft = drafts[index]!;
          if (expected.params !== undefined) expect(draft.params).toEqual(expected.params);
          expect(draft.minimumRisk).toBe(expected.minimumRisk);
          const text = [
            draft.description,
            draft.rationale,
            draft.verification,
            draft.type === 'manual' ? draft.params.instructions : '',
          ].join('\n');
          for (const word of expected.words ?? []) expect(text).toContain(word);
          if (expected.command !== undefined) expect(draft.command).toBe(expected.command);
        });
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Fixtures: small manifests in the shapes the API server returns.

export function workload(kind: string, name: string, namespace = NS): WorkloadRef {
  const apiVersion = kind === 'CronJob' || kind === 'Job' ? 'batch/v1' : 'apps/v1';
  return { kind, apiVersion, name, namespace, via: 'objects' };
}

export function deployment(
  name: string,
  podSpec: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, ...spec, template: { spec: podSpec } },
  };
}

/** A pod of Deployment `owner` (through its ReplicaSet), or a bare pod without `owner`. */
export function pod(
  name: string,
  spec: Record<string, unknown>,
  options: { owner?: string; status?: Record<string, unknown> } = {},
): NonNullable<RemediateContext['podSpec']> {
  const hash = '7d9f8b6c5d';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      ...(options.owner
        ? {
            labels: { app: options.owner, 'pod-template-hash': hash },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: `${options.owner}-${hash}`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec,
    ...(options.status ? { status: options.status } : {}),
  };
}

export function node(
  name: string,
  options: { memory?: string; ready?: boolean; taints?: unknown[] } = {},
): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: options.taints ? { taints: options.taints } : {},
    status: {
      allocatable: { cpu: '4', memory: options.memory ?? '16Gi' },
      conditions: [{ type: 'Ready', status: options.ready === false ? 'Unknown' : 'True' }],
    },
  };
}

export function configMap(name: string, data: Record<string, string>): Manifest {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data };
}

export function secret(name: string, data: Record<string, string>, type = 'Opaque'): Manifest {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type, data };
}

/** A strategic patch of a Deployment's pod template. */
export function templatePatch(fields: Record<string, unknown>): Record<string, unknown> {
  return { spec: { template: { spec: fields } } };
}

/** A strategic patch of one container of a Deployment's pod template. */
export function containerChange(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return templatePatch({ containers: [{ name, ...fields }] });
}
