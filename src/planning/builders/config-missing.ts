/**
 * A missing ConfigMap, Secret or ServiceAccount: point a misspelt reference at the object that
 * exists, or roll back the revision that introduced it. kubemend never invents configuration or
 * secret data: otherwise a person creates the object.
 */
import type { WorkloadRef } from '../../context/owners.js';
import type { Facts } from '../../analysis/facts.js';
import { podSpecPatch } from '../drafts.js';
import {
  advise,
  builderOf,
  describe,
  patchDraft,
  podTemplateOf,
  rollback,
  rolloutVerification,
  type Strategy,
} from './shared.js';
import { asArray, asObject, asString, at } from '../../domain/index.js';

type ConfigKind = 'ConfigMap' | 'Secret';

/** The env entries of one container that take a key from the ConfigMap/Secret `from`, renamed to `to`. */
function renamedKeyRefs(
  container: Record<string, unknown>,
  kind: ConfigKind,
  from: string,
  to: string,
): unknown[] {
  const key = kind === 'ConfigMap' ? 'configMapKeyRef' : 'secretKeyRef';
  const env: unknown[] = [];
  for (const variable of asArray(container.env)) {
    const ref = at(variable, 'valueFrom', key);
    if (asString(at(ref, 'name')) === from) {
      env.push({
        name: asString(at(variable, 'name')),
        valueFrom: { [key]: { ...asObject(ref), name: to } },
      });
    }
  }
  return env;
}

/** A strategic patch that renames a ConfigMap/Secret reference wherever the pod template uses it. */
function referencePatch(
  workload: WorkloadRef,
  facts: Facts,
  kind: ConfigKind,
  from: string,
  to: string,
): Record<string, unknown> | undefined {
  const spec = podTemplateOf(workload, facts);
  if (!spec) return undefined;
  const fields: Record<string, unknown> = {};
  const volumes: unknown[] = [];
  for (const volume of asArray(spec.volumes)) {
    const name = asString(at(volume, 'name'));
    if (kind === 'ConfigMap' && asString(at(volume, 'configMap', 'name')) === from)
      volumes.push({ name, configMap: { name: to } });
    if (kind === 'Secret' && asString(at(volume, 'secret', 'secretName')) === from)
      volumes.push({ name, secret: { secretName: to } });
  }
  if (volumes.length > 0) fields.volumes = volumes;
  const refKey = kind === 'ConfigMap' ? 'configMapRef' : 'secretRef';
  const containers: unknown[] = [];
  for (const entry of asArray(spec.containers)) {
    const container = asObject(entry);
    if (!container) continue;
    const env = renamedKeyRefs(container, kind, from, to);
    const envFrom = asArray(container.envFrom);
    const patched: Record<string, unknown> = {};
    if (env.length > 0) patched.env = env;
    if (envFrom.some((source) => asString(at(source, refKey, 'name')) === from)) {
      // envFrom has no merge key: the whole list is replaced, with only the wrong name changed.
      patched.envFrom = envFrom.map((source) => {
        const ref = asObject(at(source, refKey));
        return ref && asString(ref.name) === from
          ? { ...asObject(source), [refKey]: { ...ref, name: to } }
          : source;
      });
    }
    if (Object.keys(patched).length > 0) containers.push({ name: asString(container.name), ...patched });
  }
  if (containers.length > 0) fields.containers = containers;
  if (Object.keys(fields).length === 0) return undefined;
  return podSpecPatch(workload.kind, fields);
}

/** The reference is misspelt: an object of the same kind, a few characters away, exists. */
const misspeltReference: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  if (!controlled || !d.suggestedConfigName || !d.configName || d.configKind === 'ServiceAccount')
    return undefined;
  const kind = d.configKind === 'Secret' ? 'Secret' : 'ConfigMap';
  const patch = referencePatch(controlled, facts, kind, d.configName, d.suggestedConfigName);
  if (!patch) return undefined;
  return patchDraft(controlled, patch, {
    description: `Point ${describe(controlled)} at ${d.configKind} ${d.suggestedConfigName} instead of the missing ${d.configName}`,
    rationale: `${d.configKind} ${d.configName} does not exist; ${d.suggestedConfigName} exists in the same namespace and differs only by a few characters, so the reference is most likely misspelt.`,
    verification: rolloutVerification(
      controlled,
      verifyTimeout,
      'no CreateContainerConfigError or FailedMount remains',
    ),
  });
};

export const configMissing = builderOf(
  [
    misspeltReference,
    rollback(
      ({ details: d }) =>
        `The newest revision references ${d.configKind} ${d.configName}, which does not exist.`,
    ),
  ],
  (context) => {
    const { details: d, workload, namespace: ns } = context;
    const what = d.configKey
      ? `key ${d.configKey} in ${d.configKind} ${d.configName}`
      : `${d.configKind} ${d.configName}`;
    const where = workload ? describe(workload) : 'the pod spec';
    const instructions =
      d.configKind === 'Secret'
        ? `Create ${what} in namespace ${ns} with the real credentials (kubectl create secret generic ${d.configName} -n ${ns} --from-literal=${d.configKey ?? '<key>'}=<value>), or correct the reference in ${where}. The kubelet retries by itself; no restart is needed.`
        : d.configKind === 'ServiceAccount'
          ? `Create ServiceAccount ${d.configName} in namespace ${ns} (kubectl create serviceaccount ${d.configName} -n ${ns}) with the permissions the workload needs, or correct serviceAccountName.`
          : `Create ${what} in namespace ${ns} with the configuration the application expects (kubectl create configmap ${d.configName} -n ${ns} --from-file=...), or correct the reference in ${where}. The kubelet retries by itself.`;
    return advise(context, {
      description: `Provide the missing ${what}`,
      instructions,
      rationale:
        d.configKind === 'Secret'
          ? 'kubemend never invents secret data.'
          : 'kubemend does not know the content the application expects.',
    });
  },
);
