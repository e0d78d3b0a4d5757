/**
 * Read-only investigation tools for the model, over the ClusterGateway's read methods only (get,
 * list, logs): never a shell, never a write. Namespaced reads are confined to the incident's
 * namespace; Secret values are never read into an answer (only key names); every output is
 * summarised, then bounded, scrubbed and framed as untrusted data by the loop.
 *
 * One module per tool; this is the registry, in the order the model is offered them. A new tool is
 * a `defineTool(…)` module added to `INVESTIGATION_TOOLS`.
 */
import { eventsFor } from './events-for.js';
import { getObject } from './get-object.js';
import { hpaStatus } from './hpa-status.js';
import { listPods } from './list-pods.js';
import { nodeStatus } from './node-status.js';
import { ownerChain } from './owner-chain.js';
import { podLogs } from './pod-logs.js';
import { pvcStatus } from './pvc-status.js';
import { quotas } from './quotas.js';
import { revisionHistory } from './revision-history.js';
import { serviceEndpoints } from './service-endpoints.js';
import type { InvestigationTool } from './tool.js';

export { READABLE_KINDS, ToolRefusal, defineTool, readOnlyView } from './tool.js';
export type { InvestigationTool, ReadOnlyCluster, ToolContext, ToolOutput } from './tool.js';

export const INVESTIGATION_TOOLS: readonly InvestigationTool[] = [
  getObject,
  ownerChain,
  eventsFor,
  podLogs,
  listPods,
  nodeStatus,
  pvcStatus,
  serviceEndpoints,
  hpaStatus,
  quotas,
  revisionHistory,
];

export const TOOL_NAMES: readonly string[] = INVESTIGATION_TOOLS.map((entry) => entry.name);
