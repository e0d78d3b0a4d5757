import { selectorString, at } from '../../../domain/index.js';
import { defineObjectTool, metadataOf, podLine } from './tool.js';

export const serviceEndpoints = defineObjectTool(
  'service_endpoints',
  'A Service: selector and ports, its EndpointSlices, and the pods its selector matches.',
  'Service',
  'status',
  async (service, input, context) => {
    const namespace = context.objectNamespace;
    const slices = await context.cluster.list('EndpointSlice', namespace, {
      labelSelector: `kubernetes.io/service-name=${input.name}`,
      limit: 20,
    });
    const selector = selectorString(at(service, 'spec', 'selector'));
    const pods = selector
      ? await context.cluster.list('Pod', namespace, { labelSelector: selector, limit: 50 })
      : [];
    return {
      service: {
        type: at(service, 'spec', 'type'),
        selector: at(service, 'spec', 'selector') ?? null,
        ports: at(service, 'spec', 'ports'),
      },
      endpointSlices: slices.map((slice) => ({
        name: metadataOf(slice).name,
        endpoints: slice.endpoints,
        ports: slice.ports,
      })),
      matchingPods: selector ? pods.slice(0, 20).map(podLine) : 'the Service has no selector',
    };
  },
);
