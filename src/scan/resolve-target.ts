/**
 * Which object a request is about, and how that was decided (`analysis.target`): the request's
 * `target`; else the object of its context (the event's, the pod's); else the words of the issue,
 * against the cluster's real namespaces and objects (never a name that does not exist); else, when
 * the words name a namespace but nothing in it, the failing objects a scan of that namespace finds.
 * When nothing resolves, the answer says what kubemend needs — not `unknown` with a confidence.
 */
import {
  type AnalysisTarget,
  apiVersionOf,
  objectLabel,
  type RemediateInput,
  type ScanFinding,
  type ScanReport,
  type Target,
  TARGET_KINDS,
} from '../domain/index.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { contextAnchor } from '../context/anchor.js';
import type { Policy } from '../planning/policy.js';
import { scanCluster, type ScanOptions } from './engine.js';
import { type NamespaceSet, ScanReader } from './reader.js';
import { explicitNamespaces, type NamedObject, namespacesNamed, objectNamed } from './words.js';

export type Resolution =
  | { readonly outcome: 'target'; readonly target: Target; readonly choice: AnalysisTarget }
  | {
      readonly outcome: 'healthy-namespace';
      readonly namespace: string;
      readonly report: ScanReport;
      readonly choice: AnalysisTarget;
    }
  | { readonly outcome: 'unresolved'; readonly choice: AnalysisTarget };

export interface ResolveOptions {
  /** The policy a namespace scan plans under. */
  readonly policy: Policy;
  readonly onProgress?: (message: string) => void;
  /** Scan tuning (tests). */
  readonly scan?: Omit<Partial<ScanOptions>, 'namespaces' | 'policy'>;
}

/** What kubemend needs when it cannot tell what the issue is about. */
export const NEEDS_TARGET =
  'Name the namespace and the object, e.g. "deploy/checkout -n shop" (CLI: kubemend analyze deploy/checkout -n shop), or pass `target`.';

/** Namespaces searched for named objects when the text names several. */
const MAX_NAMESPACES = 3;

function targetOf(object: { kind: string; namespace?: string; name: string }): Target {
  return {
    apiVersion: apiVersionOf(object.kind),
    kind: object.kind,
    name: object.name,
    ...(object.namespace ? { namespace: object.namespace } : {}),
  };
}

/** The target the request names or implies by its context; no request to the cluster. */
export function givenTarget(input: RemediateInput): Resolution | undefined {
  if (input.target)
    return {
      outcome: 'target',
      target: input.target,
      choice: { ...input.target, chosenBy: 'input', note: 'named by the request (target)' },
    };
  const anchor = contextAnchor(input);
  if (!anchor) return undefined;
  const target = targetOf({ ...anchor.key, namespace: anchor.key.namespace });
  return {
    outcome: 'target',
    target,
    choice: {
      ...target,
      chosenBy: 'context',
      note: anchor.from === 'event' ? 'the object of context.event' : 'the pod in context.podSpec',
    },
  };
}

/** The kinds listed to find named objects: every addressable kind; pods only within a namespace. */
async function namedObjects(reader: ScanReader, namespaces: NamespaceSet): Promise<NamedObject[]> {
  const objects: NamedObject[] = [];
  const kinds = TARGET_KINDS.filter((kind) => kind !== 'Pod' || !namespaces.all);
  await Promise.all(
    kinds.map((kind) =>
      reader.list(kind, namespaces, {}, (item) => {
        if (!item.metadata?.name) return;
        objects.push({
          kind,
          name: item.metadata.name,
          ...(item.metadata.namespace ? { namespace: item.metadata.namespace } : {}),
        });
      }),
    ),
  );
  return objects;
}

/** The finding a person most likely means: a known cause first, then the most confident, then the most pods down. */
function mostRelevant(findings: readonly ScanFinding[]): ScanFinding | undefined {
  return [...findings].sort(
    (a, b) =>
      Number(a.category === 'unknown') - Number(b.category === 'unknown') ||
      b.confidence - a.confidence ||
      (b.pods?.failing ?? 0) - (a.pods?.failing ?? 0),
  )[0];
}

export async function resolveTarget(
  gateway: ClusterGateway,
  input: RemediateInput,
  options: ResolveOptions,
): Promise<Resolution> {
  const given = givenTarget(input);
  if (given) return given;
  const text = input.issue;
  const progress = options.onProgress ?? (() => undefined);
  progress('looking for the namespace and objects the issue names');
  const reader = new ScanReader(gateway);
  const known = await reader.visibleNamespaces();
  const named = (known ? namespacesNamed(text, known) : explicitNamespaces(text)).slice(0, MAX_NAMESPACES);
  const objects = await namedObjects(reader, named.length > 0 ? { all: false, names: named } : { all: true });
  const match =
    objectNamed(
      text,
      // Objects in the first namespace named win over same-named ones in the others.
      named.length > 1
        ? objects.filter((o) => o.namespace === undefined || o.namespace === named[0])
        : objects,
    ) ?? (named.length > 1 ? objectNamed(text, objects) : undefined);
  const refused = reader.forbiddenNotes();

  if (match) {
    const { chosen } = match;
    const elsewhere = objects.filter(
      (o) => o.name === chosen.name && o.kind === chosen.kind && o.namespace !== chosen.namespace,
    );
    if (named.length === 0 && elsewhere.length > 0) {
      const places = [chosen, ...elsewhere].map((o) => objectLabel(o));
      return unresolved(
        `"${chosen.name}" exists in several namespaces (${places.join(', ')}) and the issue names none. ${NEEDS_TARGET}`,
        places,
      );
    }
    const others = match.others.slice(0, 5).map((o) => objectLabel(o));
    const where = chosen.namespace
      ? named.length > 0
        ? ` in namespace "${chosen.namespace}"`
        : ` (no namespace was named; it exists only in namespace "${chosen.namespace}")`
      : '';
    return {
      outcome: 'target',
      target: targetOf(chosen),
      choice: {
        ...targetOf(chosen),
        chosenBy: 'words',
        note: `${match.reason}${where}${others.length > 0 ? `; also named: ${others.join(', ')}` : ''}`,
        ...(others.length > 0 ? { candidates: others } : {}),
      },
    };
  }

  const namespace = named[0];
  if (namespace) {
    if (refused.length > 0 && objects.length === 0)
      return unresolved(`kubemend may not read namespace "${namespace}" (${refused.join('; ')}).`);
    progress(`no object named; scanning namespace ${namespace}`);
    const report = await scanCluster(gateway, {
      ...options.scan,
      namespaces: [namespace],
      policy: options.policy,
      onProgress: progress,
    });
    const top = mostRelevant(report.findings);
    if (!top) {
      return {
        outcome: 'healthy-namespace',
        namespace,
        report,
        choice: {
          namespace,
          chosenBy: 'scan',
          note: `the issue names namespace "${namespace}" but no object in it; a scan of the namespace found nothing failing`,
        },
      };
    }
    const rest = report.findings.filter((finding) => finding !== top);
    const candidates = rest.map((finding) => `${objectLabel(finding.object)} (${finding.category})`);
    return {
      outcome: 'target',
      target: targetOf(top.object),
      choice: {
        ...targetOf(top.object),
        chosenBy: 'scan',
        note: `the issue names namespace "${namespace}" but no object in it; a scan of the namespace found ${report.findings.length} failing object(s) and this one is analysed (${top.category}, confidence ${top.confidence.toFixed(2)})${candidates.length > 0 ? `; also failing: ${candidates.slice(0, 5).join(', ')}` : ''}`,
        ...(candidates.length > 0 ? { candidates } : {}),
      },
    };
  }
  return unresolved(
    `the issue names no namespace or object of this cluster${refused.length > 0 ? ` that kubemend may read (${refused.join('; ')})` : ''}. ${NEEDS_TARGET}`,
  );
}

function unresolved(note: string, candidates?: readonly string[]): Resolution {
  return {
    outcome: 'unresolved',
    choice: { chosenBy: 'unresolved', note, ...(candidates ? { candidates: [...candidates] } : {}) },
  };
}
