/**
 * Connect to the cluster named by the configuration: --kubeconfig/--context, else the default
 * chain (KUBECONFIG, ~/.kube/config), else — inside a pod — the pod's ServiceAccount
 * (cluster.serviceHost/servicePort from KUBERNETES_SERVICE_HOST/PORT, token and CA from
 * cluster.serviceAccountDir, re-read when the token rotates). No configured cluster or an
 * unreachable one means offline analysis, said plainly in a notice.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { type Configuration, DEFAULT_SERVICE_ACCOUNT_DIR } from '../config/configuration.js';
import type { ClusterGateway } from './gateway.js';

export interface Connection {
  readonly gateway?: ClusterGateway;
  /** The kubeconfig context connected to (sessions and audit records carry it as their cluster). */
  readonly name?: string;
  readonly notice?: string;
}

/** The kubeconfig to use; undefined when there is no cluster to talk to. */
async function resolveKubeConfig(cluster: Configuration['cluster']): Promise<KubeConfig | undefined> {
  const { loadKubeConfig } = await import('./kube-gateway.js');
  if (cluster.kubeconfig) return loadKubeConfig({ kubeconfig: cluster.kubeconfig, context: cluster.context });
  const found = loadKubeConfig();
  const current = found.getCurrentCluster();
  // client-node's chain ends with its own in-cluster loader (a fixed path, a token cached for 60 s)
  // or, with nothing at all, http://localhost: both mean "no kubeconfig found".
  const noKubeconfig =
    !current?.server ||
    current.name === 'inCluster' ||
    current.server === 'http://localhost' ||
    current.server === 'http://localhost:8080';
  if (!noKubeconfig) return cluster.context ? loadKubeConfig({ context: cluster.context }) : found;
  if (cluster.serviceHost === undefined || cluster.servicePort === undefined) return undefined;
  const { inClusterKubeConfig } = await import('./in-cluster.js');
  return inClusterKubeConfig({
    host: cluster.serviceHost,
    port: cluster.servicePort,
    serviceAccountDir: cluster.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR,
  });
}

/**
 * Whether any cluster could be configured at all: a kubeconfig named (flag, `KUBECONFIG`), the
 * default `~/.kube/config`, or a pod's service host. When none is, the client library (about
 * 0.6 s of CPU to load) is not loaded: a run with no cluster anywhere is an offline run.
 */
export function mayHaveCluster(cluster: Configuration['cluster'], home: string = homedir()): boolean {
  if (cluster.kubeconfig || cluster.kubeconfigVariable) return true;
  if (cluster.serviceHost !== undefined && cluster.servicePort !== undefined) return true;
  return existsSync(join(home, '.kube', 'config'));
}

export async function connectCluster(
  configuration: Configuration,
  options: { probeTimeoutMs?: number } = {},
): Promise<Connection> {
  if (configuration.cluster.offline || !mayHaveCluster(configuration.cluster)) return {};
  // The client library is loaded only when a cluster may be used (offline runs stay light).
  const { KubeClusterGateway } = await import('./kube-gateway.js');
  let gateway: InstanceType<typeof KubeClusterGateway>;
  let name: string | undefined;
  try {
    const kubeConfig = await resolveKubeConfig(configuration.cluster);
    if (!kubeConfig) return {};
    gateway = new KubeClusterGateway(kubeConfig);
    name = kubeConfig.getCurrentContext() || undefined;
  } catch (error) {
    return { notice: `no usable kubeconfig (${(error as Error).message}): analysed offline` };
  }
  // The probe races a timer. Whichever loses is cancelled: the timer is cleared, and the probe's
  // request (with its retries) is aborted — either left pending would keep a finished CLI run
  // alive (a server that never answers held it for another 5 s × 3 attempts).
  let timer: NodeJS.Timeout | undefined;
  const probe = new AbortController();
  try {
    await Promise.race([
      gateway.version(probe.signal),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), options.probeTimeoutMs ?? 3_000);
      }),
    ]);
    return { gateway, ...(name ? { name } : {}) };
  } catch (error) {
    return {
      notice: `cluster ${gateway.server} is unreachable (${(error as Error).message.split('\n')[0]}): analysed offline`,
    };
  } finally {
    clearTimeout(timer);
    probe.abort();
  }
}
