import { z } from 'zod';
import { defineTool, namespaceOf, podLine } from './tool.js';

const ListPodsInput = z.object({ labelSelector: z.string().max(200).optional() });

export const listPods = defineTool(
  'list_pods',
  "Pods in the incident's namespace with phase, readiness, restarts and waiting/terminated reasons (optionally by label selector).",
  ListPodsInput,
  async (input, context) => {
    const namespace = namespaceOf(context);
    const pods = await context.cluster.list('Pod', namespace, {
      ...(input.labelSelector ? { labelSelector: input.labelSelector } : {}),
      limit: 50,
    });
    return { value: { pods: pods.slice(0, 30).map(podLine), total: pods.length }, kind: 'status' };
  },
);
