import { z } from 'zod';
import { defineTool, metadataOf, namespaceOf } from './tool.js';
import { at } from '../../../domain/index.js';

export const quotas = defineTool(
  'quotas',
  "ResourceQuotas (hard and used) and LimitRanges of the incident's namespace.",
  z.object({}),
  async (_input, context) => {
    const namespace = namespaceOf(context);
    const [resourceQuotas, limitRanges] = await Promise.all([
      context.cluster.list('ResourceQuota', namespace, { limit: 20 }),
      context.cluster.list('LimitRange', namespace, { limit: 20 }),
    ]);
    return {
      value: {
        resourceQuotas: resourceQuotas.map((quota) => ({
          name: metadataOf(quota).name,
          hard: at(quota, 'status', 'hard') ?? at(quota, 'spec', 'hard'),
          used: at(quota, 'status', 'used'),
        })),
        limitRanges: limitRanges.map((range) => ({
          name: metadataOf(range).name,
          limits: at(range, 'spec', 'limits'),
        })),
      },
      kind: 'status',
    };
  },
);
