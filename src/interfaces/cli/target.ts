/**
 * `kubemend analyze TYPE/NAME [-n NS]`: the address as kubectl writes it (`deploy/checkout`,
 * `statefulset/db`, `no/worker-1`), and the namespace kubectl would use when `-n` is absent — the
 * kubeconfig context's, else `default`.
 */
import {
  CLUSTER_SCOPED_KINDS,
  InvalidInputError,
  KIND_SHORT_NAMES,
  type Target,
  TARGET_KINDS,
  apiVersionOf,
  targetKindOf,
} from '../../domain/index.js';
import type { Configuration } from '../../config/configuration.js';

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `deploy/checkout` → the target; a usage error naming the argument otherwise. */
export function parseTypeName(address: string, namespace: string | undefined): Target {
  const [type, name, ...rest] = address.split('/');
  const kind = type ? targetKindOf(type) : undefined;
  const accepted = TARGET_KINDS.map((k) => `${k.toLowerCase()} (${KIND_SHORT_NAMES[k]})`).join(', ');
  if (!kind || !name || rest.length > 0)
    throw new InvalidInputError([
      {
        path: 'TYPE/NAME',
        message: `expected TYPE/NAME, e.g. deploy/checkout; TYPE is one of ${accepted} (got "${address}")`,
      },
    ]);
  if (!NAME.test(name))
    throw new InvalidInputError([
      { path: 'TYPE/NAME', message: `"${name}" is not a Kubernetes object name` },
    ]);
  return {
    apiVersion: apiVersionOf(kind),
    kind,
    name,
    ...(CLUSTER_SCOPED_KINDS.has(kind) || !namespace ? {} : { namespace }),
  };
}

/** The namespace of the kubeconfig's current context (kubectl's default), else `default`. */
export async function contextNamespace(configuration: Configuration): Promise<string> {
  try {
    // Loaded on demand, as connecting is: offline runs never load the client library.
    const { loadKubeConfig } = await import('../../cluster/kube-gateway.js');
    const kubeConfig = loadKubeConfig({
      kubeconfig: configuration.cluster.kubeconfig,
      context: configuration.cluster.context,
    });
    return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  } catch {
    return 'default';
  }
}
