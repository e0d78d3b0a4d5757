import { objectLabel } from '../../../domain/index.js';
import { NameInput, defineTool, getOrRefuse, namespaceOf } from './tool.js';

export const hpaStatus = defineTool(
  'hpa_status',
  'A HorizontalPodAutoscaler: target, min/max replicas, metrics, current status and conditions.',
  NameInput,
  async (input, context) => {
    const namespace = namespaceOf(context);
    const hpa = await getOrRefuse(context, 'HorizontalPodAutoscaler', input.name, namespace);
    return {
      value: { spec: hpa.spec, status: hpa.status },
      kind: 'status',
      object: objectLabel({ kind: 'HorizontalPodAutoscaler', namespace, name: input.name }),
    };
  },
);
