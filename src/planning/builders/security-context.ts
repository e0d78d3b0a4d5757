/**
 * securityContext failures, fixed without ever granting root or privileges: an explicit non-root
 * UID, exactly the fields PodSecurity admission names, fsGroup for a root-owned volume, or an
 * emptyDir where the application must write. Bare pods and unclear cases get advice.
 */
import type { WorkloadRef } from '../../context/owners.js';
import {
  advise,
  type BuilderContext,
  builderOf,
  containerFix,
  describe,
  podSpecFix,
  podTemplateOf,
  rolloutVerification,
  type Strategy,
  within,
} from './shared.js';
import { asArray, asObject, asString, at } from '../../domain/index.js';

/** A workload kubemend can patch, with the verification every fix here shares. */
interface Patchable extends BuilderContext {
  readonly workload: WorkloadRef;
  readonly verification: string;
}

function patchable(context: BuilderContext): Patchable | undefined {
  const { controlled, verifyTimeout } = context;
  if (!controlled) return undefined;
  return {
    ...context,
    workload: controlled,
    verification: rolloutVerification(controlled, verifyTimeout, 'the containers start'),
  };
}

/** runAsNonRoot with an image that runs as root or names its user: an explicit non-root UID. */
const nonRootUser: Strategy<Patchable> = ({ details: d, workload, verification }) => {
  if ((d.securityProblem !== 'run-as-root' && d.securityProblem !== 'non-numeric-user') || !d.container)
    return undefined;
  return containerFix(
    workload,
    d.container,
    { securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 } },
    {
      description: `Run container ${d.container} as the non-root UID 65532`,
      // The UID is a guess: the process may lose access to files it needs. A person approves.
      minimumRisk: 'high',
      rationale:
        'runAsNonRoot stays; the container is given an explicit numeric non-root user, so the kubelet can verify it. If the image needs root-owned paths, give it writable volumes (emptyDir) rather than root.',
      verification,
    },
  );
};

/** The pod and container fields each named PodSecurity check asks for (never host access). */
function podSecurityFields(checks: string, containers: readonly string[]): Record<string, unknown> {
  const containerFields: Record<string, unknown> = {};
  const podFields: Record<string, unknown> = {};
  if (/allowPrivilegeEscalation/.test(checks)) containerFields.allowPrivilegeEscalation = false;
  if (/capabilities/.test(checks)) containerFields.capabilities = { drop: ['ALL'] };
  if (/runAsNonRoot/.test(checks)) containerFields.runAsNonRoot = true;
  if (/seccompProfile/.test(checks)) podFields.seccompProfile = { type: 'RuntimeDefault' };
  if (/privileged/.test(checks) && !/allowPrivilegeEscalation/.test(checks))
    containerFields.privileged = false;
  const fields: Record<string, unknown> = {};
  if (Object.keys(podFields).length > 0) fields.securityContext = podFields;
  if (Object.keys(containerFields).length > 0 && containers.length > 0) {
    fields.containers = containers.map((name) => ({ name, securityContext: containerFields }));
  }
  return fields;
}

/** PodSecurity admission rejects the pods: set exactly the fields its checks name. */
const podSecurity: Strategy<Patchable> = ({ details: d, workload, facts, verification }) => {
  if (d.securityProblem !== 'pod-security') return undefined;
  const checks = (d.podSecurityChecks ?? []).join(' ');
  const containers = asArray(podTemplateOf(workload, facts)?.containers)
    .map((c) => asString(at(c, 'name')))
    .filter((n): n is string => n !== undefined);
  const fields = podSecurityFields(checks, containers);
  if (Object.keys(fields).length === 0 || /hostPath|hostNetwork|hostPort|host namespaces/.test(checks))
    return undefined;
  return podSpecFix(workload, fields, {
    description: `Make ${describe(workload)} comply with the namespace's PodSecurity level`,
    rationale: `PodSecurity admission rejects the pods: ${checks}. The patch sets exactly the fields the checks name; it never relaxes the namespace's policy.`,
    verification,
  });
};

/** Where the application writes: the volume mounted there, if any (never the ServiceAccount token). */
interface WritablePath extends Patchable {
  readonly path: string;
  readonly container: string;
  readonly containerSpec?: Record<string, unknown>;
  readonly podSpec?: Record<string, unknown>;
  readonly volume?: { readonly name?: string; readonly path?: string };
}

function writablePath(context: Patchable): WritablePath | undefined {
  const { details: d, workload, facts } = context;
  if (d.securityProblem !== 'filesystem' || !d.writablePath || !d.container) return undefined;
  const path = d.writablePath;
  const podSpec = podTemplateOf(workload, facts);
  const containerSpec = asArray(podSpec?.containers)
    .map(asObject)
    .find((c) => asString(c?.name) === d.container);
  const mounts = asArray(containerSpec?.volumeMounts).map((m) => ({
    name: asString(at(m, 'name')),
    path: asString(at(m, 'mountPath')),
  }));
  const volume = mounts.find((m) => m.path && path.startsWith(m.path) && !/serviceaccount/.test(m.path));
  return { ...context, path, container: d.container, containerSpec, podSpec, volume };
}

/** A root-owned volume the non-root user must write: fsGroup gives it to the user's group. */
const groupWritableVolume: Strategy<WritablePath> = (scope) => {
  const { details: d, workload, volume, containerSpec, podSpec, verification } = scope;
  if (!volume || d.readOnlyFilesystem) return undefined;
  const group = (at(containerSpec, 'securityContext', 'runAsGroup') ??
    at(podSpec, 'securityContext', 'runAsGroup') ??
    at(containerSpec, 'securityContext', 'runAsUser') ??
    at(podSpec, 'securityContext', 'runAsUser')) as number | undefined;
  if (typeof group !== 'number' || group <= 0) return undefined;
  return podSpecFix(
    workload,
    { securityContext: { fsGroup: group, fsGroupChangePolicy: 'OnRootMismatch' } },
    {
      description: `Set fsGroup ${group} on ${describe(workload)} so volume ${volume.name} is writable by its user`,
      rationale: `The process runs as group ${group} but volume ${volume.name} at ${volume.path} is owned by root; fsGroup makes the kubelet give the volume to that group. The container stays non-root.`,
      verification,
    },
  );
};

/** A path on the image filesystem: an emptyDir mounted there, the root filesystem staying read-only. */
const scratchVolume: Strategy<WritablePath> = ({
  details: d,
  workload,
  path,
  container,
  volume,
  verification,
}) => {
  if (volume) return undefined;
  const mountPath = /^\/tmp(?:\/|$)/.test(path) ? '/tmp' : path.replace(/\/[^/]+$/, '') || '/tmp';
  const slug = mountPath
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
  const volumeName = `writable-${slug || 'tmp'}`.slice(0, 63);
  return podSpecFix(
    workload,
    {
      volumes: [{ name: volumeName, emptyDir: {} }],
      containers: [{ name: container, volumeMounts: [{ name: volumeName, mountPath }] }],
    },
    {
      description: `Mount a writable emptyDir at ${mountPath} in container ${container}`,
      rationale: `The application writes to ${path}, which is on the ${d.readOnlyFilesystem ? 'read-only root filesystem' : 'image filesystem it may not write'}. An emptyDir gives it scratch space there while readOnlyRootFilesystem and the non-root user stay as they are.`,
      verification,
    },
  );
};

export const securityContext = builderOf(
  [within(patchable, [nonRootUser, podSecurity, within(writablePath, [groupWritableVolume, scratchVolume])])],
  (context) => {
    if (!context.controlled) {
      return advise(context, {
        description: 'Fix the securityContext',
        instructions: context.finding.rootCause,
        rationale: 'The pod has no controller that kubemend can patch.',
      });
    }
    return advise(context, {
      description: 'Give the process the filesystem access it needs, without root',
      instructions: `${context.finding.rootCause} Mount a writable emptyDir at the path the application writes to, or set fsGroup so volumes are group-writable. Do not run the container as root or privileged.`,
      rationale: 'The writable path is not evident from the context.',
    });
  },
);
