/**
 * The change to make where the desired state lives (ADR 0031): for an action on an object Argo CD,
 * Flux or Helm owns, the fields it changes — as field paths and a YAML snippet of the manifest, or,
 * for a chart that follows Helm's conventional values layout (`helm create`), the values keys.
 */
import { stringify } from 'yaml';
import { asArray, at, type RemediationAction } from '../domain/index.js';
import type { Facts } from '../analysis/facts.js';
import type { Finding } from '../analysis/finding.js';
import type { ManagedBy } from './gitops-owner.js';

/** One step of a field path: a key, a list index, or a list item chosen by its `name`. */
type Segment = string | number | { readonly name: string };

export interface FieldChange {
  readonly segments: readonly Segment[];
  /** The new value; undefined: the field is removed. */
  readonly value: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isNamedList(value: unknown): value is Array<Record<string, unknown> & { name: string }> {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => isObject(item) && typeof item['name'] === 'string')
  );
}

/** Leaves of a strategic-merge or merge patch; lists of named items (containers, env) by name. */
function leaves(value: unknown, prefix: readonly Segment[], out: FieldChange[]): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) leaves(child, [...prefix, key], out);
    return;
  }
  if (isNamedList(value) && prefix.at(-1) !== 'env') {
    for (const item of value) {
      const { name, ...fields } = item;
      if (Object.keys(fields).length === 0) out.push({ segments: prefix, value });
      else leaves(fields, [...prefix, { name }], out);
    }
    return;
  }
  out.push({ segments: prefix, value: value === null ? undefined : value });
}

function pointerSegments(pointer: string): Segment[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** The fields an action sets on its target, when they can be told from the action alone. */
export function fieldChanges(action: RemediationAction, finding: Finding): FieldChange[] | undefined {
  switch (action.type) {
    case 'patch': {
      const patch = action.params.patch;
      if (!Array.isArray(patch)) {
        const out: FieldChange[] = [];
        leaves(patch, [], out);
        return out;
      }
      return patch
        .filter((op) => op['op'] === 'add' || op['op'] === 'replace' || op['op'] === 'remove')
        .map((op) => ({
          segments: pointerSegments(String(op['path'])),
          value: op['op'] === 'remove' ? undefined : op['value'],
        }));
    }
    case 'scale':
      return [{ segments: ['spec', 'replicas'], value: action.params.replicas }];
    case 'rollback': {
      const { previousImage, container } = finding.details;
      if (!previousImage || !container) return undefined;
      return [
        {
          segments: ['spec', 'template', 'spec', 'containers', { name: container }, 'image'],
          value: previousImage,
        },
      ];
    }
    default:
      return undefined;
  }
}

/** `spec.template.spec.containers[name=api].resources.limits.memory` */
export function pathText(segments: readonly Segment[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number'
        ? `[${segment}]`
        : typeof segment === 'string'
          ? `${index === 0 ? '' : '.'}${segment}`
          : `[name=${segment.name}]`,
    )
    .join('');
}

/** The changed fields as a manifest fragment (lists of named items keep their `name`). */
export function manifestFragment(changes: readonly FieldChange[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const change of changes) assign(root, change.segments, change.value);
  return root;
}

function assign(node: Record<string, unknown>, segments: readonly Segment[], value: unknown): void {
  const [head, next, ...rest] = segments;
  if (typeof head !== 'string') return;
  if (next === undefined) {
    node[head] = value ?? null;
    return;
  }
  if (typeof next === 'string') {
    const child = isObject(node[head]) ? node[head] : {};
    node[head] = child;
    assign(child, [next, ...rest], value);
    return;
  }
  // A list step: the item by name (or a single item standing for the one at that index).
  const list = Array.isArray(node[head]) ? (node[head] as unknown[]) : [];
  node[head] = list;
  const name = typeof next === 'number' ? undefined : next.name;
  if (rest.length === 0) {
    list.push(value ?? null);
    return;
  }
  let item = list.find((entry) => isObject(entry) && (name === undefined || entry['name'] === name));
  if (!isObject(item)) {
    item = name !== undefined ? { name } : {};
    list.push(item);
  }
  assign(item as Record<string, unknown>, rest, value);
}

const CONTAINER_PATH = /^spec\.template\.spec\.containers\[[^\]]+\]\.(.+)$/;
const CONTAINER_KEYS = ['resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'securityContext'];
const POD_KEYS: Readonly<Record<string, string>> = {
  securityContext: 'podSecurityContext',
  nodeSelector: 'nodeSelector',
  tolerations: 'tolerations',
  affinity: 'affinity',
  serviceAccountName: 'serviceAccount.name',
};

function splitImage(image: string): { repository: string; tag?: string } {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash && !image.includes('@'))
    return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image };
}

/** A values key for one changed field, in the layout `helm create` charts use; undefined if none. */
function valuesKeys(kind: string, change: FieldChange): Array<[string, unknown]> | undefined {
  const path = pathText(change.segments);
  if (kind === 'HorizontalPodAutoscaler') {
    const field = /^spec\.(minReplicas|maxReplicas)$/.exec(path)?.[1];
    return field ? [[`autoscaling.${field}`, change.value]] : undefined;
  }
  if (path === 'spec.replicas') return [['replicaCount', change.value]];
  const inContainer = CONTAINER_PATH.exec(path)?.[1];
  if (inContainer === 'image' && typeof change.value === 'string') {
    const { repository, tag } = splitImage(change.value);
    return tag ? [['image.tag', tag]] : [['image.repository', repository]];
  }
  if (inContainer && CONTAINER_KEYS.includes(inContainer.split('.')[0] ?? ''))
    return [[inContainer, change.value]];
  const podField = /^spec\.template\.spec\.([A-Za-z]+)(\..+)?$/.exec(path);
  const mapped = podField?.[1] ? POD_KEYS[podField[1]] : undefined;
  return mapped ? [[`${mapped}${podField?.[2] ?? ''}`, change.value]] : undefined;
}

/**
 * Values keys for every change, when the chart's conventional layout is evident: a `helm.sh/chart`
 * label and a single container in the pod template (else a values key could mean any container).
 */
export function helmValues(
  managed: ManagedBy,
  kind: string,
  changes: readonly FieldChange[],
  containerCount: number | undefined,
): Array<[string, unknown]> | undefined {
  if (!managed.chart) return undefined;
  const touchesContainers = changes.some((c) => CONTAINER_PATH.test(pathText(c.segments)));
  if (touchesContainers && containerCount !== 1) return undefined;
  const out: Array<[string, unknown]> = [];
  for (const change of changes) {
    if (change.value === undefined) return undefined;
    const keys = valuesKeys(kind, change);
    if (!keys) return undefined;
    out.push(...keys);
  }
  return out.length > 0 ? out : undefined;
}

/** Containers of the target's pod template, as given or gathered (else the incident's pod). */
export function containerCount(target: RemediationAction['target'], facts: Facts): number | undefined {
  const object = facts.findObject(target.kind, target.name);
  const listed = asArray(at(object?.raw, 'spec', 'template', 'spec', 'containers'));
  if (listed.length > 0) return listed.length;
  return facts.workload?.name === target.name ? facts.primaryPod?.containers.length : undefined;
}

/** `a: 1` lines of a YAML document for values keys (`resources.limits.memory: 512Mi` nested). */
export function valuesYaml(values: ReadonlyArray<[string, unknown]>): string {
  const root: Record<string, unknown> = {};
  for (const [key, value] of values) {
    const parts = key.split('.');
    let node = root;
    parts.forEach((part, index) => {
      if (index === parts.length - 1) node[part] = value;
      else {
        const child = isObject(node[part]) ? node[part] : {};
        node[part] = child;
        node = child;
      }
    });
  }
  return yamlText(root);
}

export function yamlText(value: unknown): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/** `--set` arguments for `helm upgrade` (strings as they are; other values as JSON). */
export function helmSetArguments(values: ReadonlyArray<[string, unknown]>): string {
  return values
    .map(([key, value]) => `--set ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}
