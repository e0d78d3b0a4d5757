import { defineObjectTool } from './tool.js';

export const hpaStatus = defineObjectTool(
  'hpa_status',
  'A HorizontalPodAutoscaler: target, min/max replicas, metrics, current status and conditions.',
  'HorizontalPodAutoscaler',
  'status',
  async (hpa) => ({ spec: hpa.spec, status: hpa.status }),
);
