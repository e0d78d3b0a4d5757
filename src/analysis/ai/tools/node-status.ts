import { defineObjectTool } from './tool.js';
import { at } from '../../../domain/index.js';

function conditionsOf(object: unknown): unknown {
  const conditions = at(object, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  return conditions.map((condition) => ({
    type: at(condition, 'type'),
    status: at(condition, 'status'),
    reason: at(condition, 'reason'),
    message: at(condition, 'message'),
  }));
}

export const nodeStatus = defineObjectTool(
  'node_status',
  'A node: conditions, taints, unschedulable, allocatable and capacity.',
  'Node',
  'condition',
  async (node, input) => ({
    name: input.name,
    unschedulable: at(node, 'spec', 'unschedulable') ?? false,
    taints: at(node, 'spec', 'taints') ?? [],
    conditions: conditionsOf(node),
    allocatable: at(node, 'status', 'allocatable'),
    capacity: at(node, 'status', 'capacity'),
    kubeletVersion: at(node, 'status', 'nodeInfo', 'kubeletVersion'),
  }),
);
