/**
 * Gates between the model's proposed actions and the planner. A proposal becomes an `ActionDraft`
 * only if it stays inside the incident's scope: its target's namespace is the incident's namespace,
 * its kind is namespaced and known, it writes no Secret data, a created manifest matches its target.
 * Everything that passes still goes through the planner's guards, deterministic risk (which the
 * model's claim can only raise), schema validation and policy. Commands are never taken from the
 * model: `kubectlCommand` derives them from the typed params.
 */
import {
  type RiskLevel,
  objectLabel,
  API_VERSIONS,
  CLUSTER_SCOPED_KINDS,
  type ActionDraft,
} from '../../domain/index.js';
import { sanitizeLogLine } from '../../context/log-summary.js';
import type { ModelAction } from './answer.js';

/** Namespaced kinds a model may name as a target. Unknown kinds are dropped: their scope is unknown. */
export const NAMESPACED_KINDS: ReadonlySet<string> = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Service',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'PersistentVolumeClaim',
  'HorizontalPodAutoscaler',
  'ResourceQuota',
  'LimitRange',
  'Role',
  'RoleBinding',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'Ingress',
  'Endpoints',
  'EndpointSlice',
]);

const EXTRA_API_VERSIONS: Readonly<Record<string, string>> = {
  NetworkPolicy: 'networking.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
  PodDisruptionBudget: 'policy/v1',
};

/** Kinds an action type can meaningfully target (others are dropped, not guessed at). */
const VALID_KINDS: Partial<Record<ModelAction['type'], ReadonlySet<string>>> = {
  restart: new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Pod']),
  rollback: new Set(['Deployment', 'StatefulSet', 'DaemonSet']),
  scale: new Set(['Deployment', 'StatefulSet', 'ReplicaSet']),
};

export const MAX_PROPOSALS = 6;
const MAX_PARAMS_CHARS = 16_000;

export interface Proposal {
  readonly draft: ActionDraft;
  readonly claimedRisk?: RiskLevel;
}

export interface GateResult {
  readonly proposals: readonly Proposal[];
  /** One note per dropped or corrected proposal, for `factors`. */
  readonly notes: readonly string[];
  readonly dropped: number;
}

const clean = (text: string, max: number): string => sanitizeLogLine(text, max).trim();

function describe(action: ModelAction): string {
  return `${action.type} of ${objectLabel(action.target)}`;
}

/**
 * Map the model's actions to drafts, dropping out-of-scope ones. `namespace` is the incident's
 * namespace; when it is unknown, only advice (`manual`) without a namespace passes.
 */
export function gateProposals(actions: readonly ModelAction[], namespace: string | undefined): GateResult {
  const proposals: Proposal[] = [];
  const notes: string[] = [];
  let dropped = 0;
  const drop = (action: ModelAction, reason: string): void => {
    dropped += 1;
    notes.push(`dropped the model's proposed ${describe(action)}: ${reason}`);
  };

  for (const [position, action] of actions.entries()) {
    if (position >= MAX_PROPOSALS) {
      drop(action, `at most ${MAX_PROPOSALS} proposals are considered`);
      continue;
    }
    const { kind } = action.target;
    if (CLUSTER_SCOPED_KINDS.has(kind) || (!NAMESPACED_KINDS.has(kind) && kind !== 'Node')) {
      drop(
        action,
        CLUSTER_SCOPED_KINDS.has(kind)
          ? `${kind} is cluster-scoped; a model may only propose changes inside the incident's namespace`
          : `kind ${kind} is not one kubemend knows to be namespaced`,
      );
      continue;
    }
    if (kind === 'Node') {
      drop(
        action,
        "Node is cluster-scoped; a model may only propose changes inside the incident's namespace",
      );
      continue;
    }
    if (action.type === 'cordon' || action.type === 'uncordon') {
      drop(action, `${action.type} applies to nodes only`);
      continue;
    }
    const targetNamespace = action.target.namespace ?? namespace;
    if (namespace === undefined) {
      if (action.type !== 'manual' || action.target.namespace !== undefined) {
        drop(action, "the incident's namespace is unknown, so no change can be scoped to it");
        continue;
      }
    } else if (targetNamespace !== namespace) {
      drop(action, `its namespace ${targetNamespace} is outside the incident's namespace ${namespace}`);
      continue;
    }
    if (kind === 'Secret' && action.type !== 'manual') {
      drop(action, 'a model never writes Secret data');
      continue;
    }
    const validKinds = VALID_KINDS[action.type];
    if (validKinds && !validKinds.has(kind)) {
      drop(action, `${action.type} does not apply to a ${kind}`);
      continue;
    }
    if (JSON.stringify(action.params).length > MAX_PARAMS_CHARS) {
      drop(action, `its parameters exceed ${MAX_PARAMS_CHARS} characters`);
      continue;
    }
    if (action.type === 'create') {
      const manifest = action.params.manifest;
      const metadata = (manifest.metadata ?? {}) as Record<string, unknown>;
      if (manifest.kind !== kind) {
        drop(action, `the manifest's kind ${String(manifest.kind)} differs from the target's kind ${kind}`);
        continue;
      }
      if (metadata.namespace !== undefined && metadata.namespace !== targetNamespace) {
        drop(
          action,
          `the manifest's namespace ${String(metadata.namespace)} is outside the incident's namespace`,
        );
        continue;
      }
      if (metadata.name !== undefined && metadata.name !== action.target.name) {
        drop(action, "the manifest's name differs from the target's name");
        continue;
      }
    }

    const knownVersion = API_VERSIONS[kind] ?? EXTRA_API_VERSIONS[kind];
    const apiVersion = knownVersion ?? action.target.apiVersion;
    if (!apiVersion) {
      drop(action, `no apiVersion is known for kind ${kind}`);
      continue;
    }
    if (action.target.apiVersion && knownVersion && action.target.apiVersion !== knownVersion)
      notes.push(`corrected the apiVersion of the model's proposed ${describe(action)} to ${knownVersion}`);

    const target = {
      apiVersion,
      kind,
      name: action.target.name,
      ...(targetNamespace !== undefined ? { namespace: targetNamespace } : {}),
    };
    const base = {
      target,
      description: clean(action.description, 300),
      rationale: clean(action.rationale || 'proposed by the model', 1_000),
      verification: clean(
        action.verification || 'kubemend re-checks the signals that led to this diagnosis',
        500,
      ),
    };
    let draft: ActionDraft;
    switch (action.type) {
      case 'patch':
        draft = {
          ...base,
          type: 'patch',
          params: { patchType: action.params.patchType, patch: action.params.patch },
        };
        break;
      case 'scale':
        draft = { ...base, type: 'scale', params: { replicas: action.params.replicas } };
        break;
      case 'rollback':
        draft = {
          ...base,
          type: 'rollback',
          params: action.params.toRevision !== undefined ? { toRevision: action.params.toRevision } : {},
        };
        break;
      case 'create': {
        const metadata = (action.params.manifest.metadata ?? {}) as Record<string, unknown>;
        const manifest = {
          ...action.params.manifest,
          apiVersion: action.params.manifest.apiVersion ?? apiVersion,
          metadata: {
            ...metadata,
            name: action.target.name,
            ...(targetNamespace ? { namespace: targetNamespace } : {}),
          },
        };
        draft = { ...base, type: 'create', params: { manifest } };
        break;
      }
      case 'manual':
        draft = {
          ...base,
          type: 'manual',
          params: { instructions: clean(action.params.instructions, 2_000) },
        };
        break;
      case 'restart':
      case 'delete':
        draft = { ...base, type: action.type, params: {} };
        break;
    }
    proposals.push({ draft, ...(action.risk ? { claimedRisk: action.risk } : {}) });
  }
  return { proposals, notes, dropped };
}
