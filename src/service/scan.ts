/**
 * `scan` and the issue text of `analyze TYPE/NAME`, for the edges: both read the cluster only.
 * Without a cluster there is nothing to scan: that is an error the caller can act on.
 */
import { KubemendError, type ScanReport, type ScanRequest, type Target } from '../domain/index.js';
import { selectPolicy } from '../config/policies.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { describeTarget as describeLiveTarget } from '../scan/describe.js';
import { scanCluster } from '../scan/engine.js';
import type { ServiceContext } from './context.js';

function requireCluster(ctx: ServiceContext, what: string): ClusterGateway {
  const cluster = ctx.cluster();
  if (!cluster)
    throw new KubemendError(
      'cluster-unreachable',
      `${what} reads the live cluster, and none is connected (check the kubeconfig and context, and do not run offline)`,
    );
  return cluster;
}

export function scanNamespaces(
  ctx: ServiceContext,
  request: ScanRequest,
  options: { readonly onProgress?: (message: string) => void } = {},
): Promise<ScanReport> {
  const cluster = requireCluster(ctx, 'scan');
  const { policy } = selectPolicy(ctx.dependencies.policies, request.policy);
  return scanCluster(cluster, {
    ...ctx.dependencies.scan,
    namespaces: request.allNamespaces === true ? undefined : request.namespaces,
    labelSelector: request.labelSelector,
    policy,
    runbooks: ctx.dependencies.configuration.runbooks,
    onProgress: options.onProgress,
  });
}

export function describeTarget(ctx: ServiceContext, target: Target): Promise<string> {
  return describeLiveTarget(requireCluster(ctx, `analyze ${target.kind}/${target.name}`), target);
}
