/**
 * Connect to the cluster named by the configuration (--kubeconfig/--context, else the default
 * chain: KUBECONFIG, ~/.kube/config, in-cluster). No configured cluster or an unreachable one means
 * offline analysis, said plainly in a notice.
 */
import type { Configuration } from '../config/configuration.js';
import type { ClusterGateway } from './gateway.js';

export interface Connection {
  readonly gateway?: ClusterGateway;
  readonly notice?: string;
}

export async function connectCluster(
  configuration: Configuration,
  options: { probeTimeoutMs?: number } = {},
): Promise<Connection> {
  if (configuration.cluster.offline) return {};
  // The client library is loaded only when a cluster may be used (offline runs stay light).
  const { KubeClusterGateway, loadKubeConfig } = await import('./kube-gateway.js');
  let gateway: InstanceType<typeof KubeClusterGateway>;
  try {
    const kubeConfig = loadKubeConfig({
      kubeconfig: configuration.cluster.kubeconfig,
      context: configuration.cluster.context,
    });
    const server = kubeConfig.getCurrentCluster()?.server;
    // client-node falls back to http://localhost when nothing is configured: that is "no cluster".
    if (!server || server === 'http://localhost' || server === 'http://localhost:8080') return {};
    gateway = new KubeClusterGateway(kubeConfig);
  } catch (error) {
    return { notice: `no usable kubeconfig (${(error as Error).message}): analysed offline` };
  }
  try {
    await Promise.race([
      gateway.version(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no answer')), options.probeTimeoutMs ?? 3_000),
      ),
    ]);
    return { gateway };
  } catch (error) {
    return {
      notice: `cluster ${gateway.server} is unreachable (${(error as Error).message.split('\n')[0]}): analysed offline`,
    };
  }
}
