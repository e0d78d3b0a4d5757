/**
 * Who owns an object's desired state (ADR 0031), from its labels and annotations only — so it works
 * offline (objects and pods in the request) as well as live (the gathered target and owner chain):
 *
 * - Argo CD: annotation `argocd.argoproj.io/tracking-id` (`<app>:<group>/<kind>:<ns>/<name>`, the
 *   app as `<app-namespace>_<app>` when Applications live in any namespace); or label tracking —
 *   `app.kubernetes.io/instance` together with another Argo CD marker (an `argocd.argoproj.io/*`
 *   label or annotation), because Helm charts and Kustomize bases set that label on their own;
 * - Flux: labels `kustomize.toolkit.fluxcd.io/{name,namespace}` (a Kustomization) or
 *   `helm.toolkit.fluxcd.io/{name,namespace}` (a HelmRelease);
 * - Helm: annotations `meta.helm.sh/release-{name,namespace}`, or label
 *   `app.kubernetes.io/managed-by: Helm`.
 *
 * Argo CD and Flux come first: they re-apply on every sync, and they often render Helm charts, so
 * Helm's markers appear on objects they own too.
 */
import type { DesiredStateManager, DesiredStateOwner } from '../domain/index.js';
import type { Facts } from '../analysis/facts.js';
import type { KubernetesObject } from '../context/model.js';

export interface ManagedBy {
  readonly manager: DesiredStateManager;
  /** The owning object: an Argo CD Application, a Flux Kustomization or HelmRelease, a Helm release. */
  readonly ownerKind: 'Application' | 'Kustomization' | 'HelmRelease' | 'release';
  readonly ownerName?: string;
  readonly ownerNamespace?: string;
  /** The label or annotation that told. */
  readonly marker: string;
  /** A Helm chart renders the object (`helm.sh/chart`): its values may hold the field. */
  readonly chart?: string;
  /** The Helm release, when known (for `helm upgrade` and values). */
  readonly release?: { readonly name: string; readonly namespace?: string };
}

interface Metadata {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly namespace?: string;
}

const TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const INSTANCE = 'app.kubernetes.io/instance';
const ARGO_PREFIX = 'argocd.argoproj.io/';

function argoCd(meta: Metadata, base: Pick<ManagedBy, 'chart' | 'release'>): ManagedBy | undefined {
  const tracking = meta.annotations[TRACKING_ID];
  if (tracking) {
    const app = tracking.split(':')[0] ?? '';
    const [appNamespace, appName] = app.includes('_') ? app.split('_', 2) : [undefined, app];
    return {
      manager: 'argocd',
      ownerKind: 'Application',
      ...(appName ? { ownerName: appName } : {}),
      ...(appNamespace ? { ownerNamespace: appNamespace } : {}),
      marker: `annotation ${TRACKING_ID}`,
      ...base,
    };
  }
  const argoMarker = [...Object.keys(meta.labels), ...Object.keys(meta.annotations)].find((key) =>
    key.startsWith(ARGO_PREFIX),
  );
  const instance = meta.labels['argocd.argoproj.io/instance'] ?? meta.labels[INSTANCE];
  if (!argoMarker || !instance) return undefined;
  return {
    manager: 'argocd',
    ownerKind: 'Application',
    ownerName: instance,
    marker: meta.labels['argocd.argoproj.io/instance']
      ? 'label argocd.argoproj.io/instance'
      : `label ${INSTANCE} with ${argoMarker}`,
    ...base,
  };
}

function flux(meta: Metadata, base: Pick<ManagedBy, 'chart' | 'release'>): ManagedBy | undefined {
  for (const [group, ownerKind] of [
    ['helm', 'HelmRelease'],
    ['kustomize', 'Kustomization'],
  ] as const) {
    const name = meta.labels[`${group}.toolkit.fluxcd.io/name`];
    if (!name) continue;
    const namespace = meta.labels[`${group}.toolkit.fluxcd.io/namespace`];
    return {
      manager: 'flux',
      ownerKind,
      ownerName: name,
      ...(namespace ? { ownerNamespace: namespace } : {}),
      marker: `label ${group}.toolkit.fluxcd.io/name`,
      ...base,
    };
  }
  return undefined;
}

function helm(meta: Metadata, base: Pick<ManagedBy, 'chart' | 'release'>): ManagedBy | undefined {
  const marker = meta.annotations['meta.helm.sh/release-name']
    ? 'annotation meta.helm.sh/release-name'
    : meta.labels['app.kubernetes.io/managed-by'] === 'Helm'
      ? 'label app.kubernetes.io/managed-by: Helm'
      : undefined;
  if (!marker) return undefined;
  return {
    manager: 'helm',
    ownerKind: 'release',
    ...(base.release ? { ownerName: base.release.name } : {}),
    ...(base.release?.namespace ? { ownerNamespace: base.release.namespace } : {}),
    marker,
    ...base,
  };
}

/** The manager of an object's desired state, from its labels and annotations; undefined when none. */
export function managerOf(meta: Metadata): ManagedBy | undefined {
  const chart = meta.labels['helm.sh/chart'];
  const releaseName = meta.annotations['meta.helm.sh/release-name'];
  const releaseNamespace = meta.annotations['meta.helm.sh/release-namespace'] ?? meta.namespace;
  const helmLabelled = meta.labels['app.kubernetes.io/managed-by'] === 'Helm';
  const instance = meta.labels[INSTANCE];
  const release =
    releaseName !== undefined
      ? { name: releaseName, ...(releaseNamespace ? { namespace: releaseNamespace } : {}) }
      : helmLabelled && instance
        ? { name: instance, ...(meta.namespace ? { namespace: meta.namespace } : {}) }
        : undefined;
  const base = { ...(chart ? { chart } : {}), ...(release ? { release } : {}) };
  return argoCd(meta, base) ?? flux(meta, base) ?? helm(meta, base);
}

const OWNER_WORDS: Readonly<Record<ManagedBy['ownerKind'], string>> = {
  Application: 'Argo CD Application',
  Kustomization: 'Flux Kustomization',
  HelmRelease: 'Flux HelmRelease',
  release: 'Helm release',
};

/** `Argo CD Application argocd/shop`, `Helm release shop/web`, `Helm release (name unknown)`. */
export function ownerWords(managed: ManagedBy): string {
  const name = managed.ownerName
    ? `${managed.ownerNamespace ? `${managed.ownerNamespace}/` : ''}${managed.ownerName}`
    : '(name unknown)';
  return `${OWNER_WORDS[managed.ownerKind]} ${name}`;
}

/** The contract's view: manager and owner in words. */
export function desiredStateOwner(managed: ManagedBy): DesiredStateOwner {
  return { manager: managed.manager, owner: ownerWords(managed) };
}

export interface TargetRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

function sameObject(object: KubernetesObject, target: TargetRef, namespace: string | undefined): boolean {
  return (
    object.kind === target.kind &&
    object.name === target.name &&
    (object.namespace === undefined || namespace === undefined || object.namespace === namespace)
  );
}

/**
 * Who manages the object an action changes: the object itself as given or gathered, else its
 * controller (a ReplicaSet's Deployment), else — for the incident's workload known only through
 * its pods — the pods' template labels (Helm charts label their pod templates). Pods themselves are
 * never desired state: replacing one is not undone by a sync.
 */
export function managerOfTarget(target: TargetRef, facts: Facts): ManagedBy | undefined {
  if (target.kind === 'Pod') return undefined;
  const namespace = target.namespace ?? facts.namespace;
  const object = facts.ctx.objects.find((o) => sameObject(o, target, namespace));
  if (object) {
    const own = managerOf({ ...object, namespace: object.namespace ?? namespace });
    if (own) return own;
    const controller = object.ownerReferences.find((o) => o.controller === true);
    const parent =
      controller &&
      facts.ctx.objects.find((o) =>
        sameObject(o, { kind: controller.kind, name: controller.name }, namespace),
      );
    return parent ? managerOf({ ...parent, namespace: parent.namespace ?? namespace }) : undefined;
  }
  const workload = facts.workload;
  if (workload?.kind !== target.kind || workload.name !== target.name) return undefined;
  const pod = facts.primaryPod;
  return pod ? managerOf({ labels: pod.labels, annotations: {}, namespace }) : undefined;
}
