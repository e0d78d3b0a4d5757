/**
 * Image pull failures. A tag that does not exist: roll back, or set the image that ran before.
 * Credentials: reference the one registry credential the namespace already holds. kubemend never
 * guesses a tag, nor invents or copies credentials.
 */
import type { Facts } from '../../analysis/facts.js';
import {
  advise,
  type BuilderContext,
  builderOf,
  containerFix,
  describe,
  podSpecFix,
  podTemplateOf,
  rollback,
  rolloutVerification,
  type Strategy,
} from './shared.js';
import { asArray, asString, at } from '../../domain/index.js';

/** The image known to run (a revision with ready pods, Ready pods of the workload, a completed Job). */
const previousImage: Strategy = ({ details: d, controlled, verifyTimeout }) => {
  if (!controlled || !d.previousImage || !d.container) return undefined;
  const meant = d.suggestedImage === d.previousImage ? ` Did you mean ${d.previousImage}?` : '';
  return containerFix(
    controlled,
    d.container,
    { image: d.previousImage },
    {
      description: `Set the image of container ${d.container} back to ${d.previousImage}`,
      rationale: `${d.image ?? 'The new image'} does not exist in the registry; ${d.previousImage} is known to run (${d.goodRevisionEvidence ?? 'the workload ran it before'}).${meant}`,
      verification: rolloutVerification(
        controlled,
        verifyTimeout,
        'the image is pulled and the container starts',
      ),
    },
  );
};

export const imagePullNotFound = builderOf(
  [rollback(({ details: d }) => `Image ${d.image ?? ''} cannot be pulled.`), previousImage],
  (context) => {
    const { details: d, workload } = context;
    const meant = d.suggestedImage ? ` Did you mean ${d.suggestedImage}?` : '';
    const earlier =
      d.currentRevision !== undefined && d.revisionChange
        ? ` The revision before (${d.revisionChange}) may be the one to return to, but nothing in the context shows it ran well: confirm before kubectl rollout undo.`
        : '';
    return advise(context, {
      description: 'Use an image that exists',
      instructions: `The registry has no image ${d.image ?? ''}.${meant} Check the tag and repository (e.g. crane ls / skopeo list-tags), then set a tag that exists: kubectl set image ${workload ? `${workload.kind.toLowerCase()}/${workload.name}` : 'deployment/<name>'} ${d.container ?? '<container>'}=<image:tag> -n ${context.namespace}.${earlier}`,
      rationale: 'kubemend does not know which tag was intended.',
    });
  },
);

/** Pull secrets the kubelet reports as missing (FailedToRetrieveImagePullSecret). */
function missingPullSecrets(facts: Facts): string[] {
  return facts.events
    .filter((event) => event.reason === 'FailedToRetrieveImagePullSecret')
    .flatMap((event) =>
      (/image pull secrets \(([^)]+)\)/.exec(event.message)?.[1] ?? '').split(',').map((n) => n.trim()),
    )
    .filter(Boolean);
}

/** The namespace holds exactly one registry credential the pods do not use (for the image's registry). */
const existingCredential: Strategy = (context: BuilderContext) => {
  const { details: d, controlled, facts, verifyTimeout } = context;
  const referenced = asArray(podTemplateOf(context.workload, facts)?.imagePullSecrets)
    .map((s) => asString(at(s, 'name')))
    .filter((n): n is string => n !== undefined);
  const missing = missingPullSecrets(facts);
  const registry = d.image?.split('/')[0];
  const candidates = facts.objectsOfKind('Secret').filter((s) => {
    const type = asString(s.raw.type);
    if (type !== 'kubernetes.io/dockerconfigjson' && type !== 'kubernetes.io/dockercfg') return false;
    return s.name !== undefined && !referenced.filter((n) => !missing.includes(n)).includes(s.name);
  });
  const matching = candidates.filter(
    (s) => !registry || JSON.stringify(s.raw.metadata ?? {}).includes(registry),
  );
  const chosen = matching.length === 1 ? matching[0] : candidates.length === 1 ? candidates[0] : undefined;
  const secret = chosen?.name;
  if (!controlled || !secret || (referenced.length > 0 && missing.length === 0)) return undefined;
  const kept = referenced
    .filter((name) => !missing.includes(name) && name !== secret)
    .map((name) => ({ name }));
  return podSpecFix(
    controlled,
    { imagePullSecrets: [...kept, { name: secret }] },
    {
      description: `Use the registry credential ${secret} in ${describe(controlled)}${missing.length ? ` instead of the missing ${missing.join(', ')}` : ''}`,
      rationale: `${missing.length ? `The pods reference pull secret(s) ${missing.join(', ')}, which do not exist; ` : 'The registry rejects anonymous pulls; '}the namespace holds the registry credential ${secret}${registry ? ` for ${registry}` : ''}. No credential is created or copied.`,
      verification: rolloutVerification(controlled, verifyTimeout, 'the image is pulled'),
    },
  );
};

export const imagePullAuth = builderOf([existingCredential], (context) => {
  const { workload, namespace: ns } = context;
  return advise(context, {
    description: 'Provide registry credentials',
    instructions: `Create or rotate a registry credential in namespace ${ns} (kubectl create secret docker-registry regcred -n ${ns} --docker-server=<registry> --docker-username=<user> --docker-password=<token>) and reference it in imagePullSecrets of ${workload ? describe(workload) : 'the workload'} or its ServiceAccount.`,
    rationale: 'kubemend never invents or copies credentials.',
  });
});
