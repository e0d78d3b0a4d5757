/**
 * A Service without endpoints: select the labels the pods carry, or forward to the port they
 * listen on. The workload's own selector is immutable and never touched.
 */
import type { SubjectRef } from '../../analysis/finding.js';
import { builderOf, manual, patchDraft, type Strategy } from './shared.js';
import { at } from '../../domain/index.js';

function serviceTarget(service: SubjectRef): {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
} {
  return { apiVersion: 'v1', kind: 'Service', name: service.name, namespace: service.namespace };
}

/** The Service selects labels no pod carries; the pods carry these values. */
const selector: Strategy = ({ details: d, verifyTimeout }) => {
  const service = d.service;
  if (!service || !d.selectorFix || Object.keys(d.selectorFix).length === 0) return undefined;
  return patchDraft(
    serviceTarget(service),
    { spec: { selector: { ...d.selectorFix } } },
    {
      description: `Fix the selector of Service ${service.name}: ${Object.entries(d.selectorFix)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
      rationale:
        "The Service selects labels no pod carries; the workload labels its pods with these values. The Deployment's own selector is immutable and is not touched.",
      verification: `Within ${verifyTimeout}: Service ${service.name} has at least one ready endpoint.`,
    },
  );
};

/** The Service forwards to a port where nothing listens; the pods listen on another. */
const targetPort: Strategy = ({ details: d, facts, verifyTimeout }) => {
  const service = d.service;
  if (!service || d.suggestedPort === undefined || d.servicePortIndex === undefined) return undefined;
  const serviceObject = facts.findObject('Service', service.name);
  const port = at(serviceObject?.raw, 'spec', 'ports', d.servicePortIndex, 'port');
  return patchDraft(
    serviceTarget(service),
    { spec: { ports: [{ port, targetPort: d.suggestedPort }] } },
    {
      description: `Send Service ${service.name} port ${String(port)} to targetPort ${d.suggestedPort}`,
      rationale: `The pods listen on ${d.suggestedPort}; the Service forwards to a port where nothing listens.`,
      verification: `Within ${verifyTimeout}: Service ${service.name} endpoints use port ${d.suggestedPort}.`,
    },
  );
};

export const serviceNoEndpoints = builderOf([selector, targetPort], ({ details: d, facts, finding }) =>
  manual(d.service ?? finding.subject, facts, {
    description: 'Make the Service select ready pods',
    instructions: `${finding.rootCause} Compare kubectl get svc ${d.service?.name ?? '<svc>'} -o jsonpath='{.spec.selector}' with the pods' labels (kubectl get pods --show-labels), and check why matching pods are not ready.`,
    rationale: 'The right selector is not evident from the context.',
  }),
);
