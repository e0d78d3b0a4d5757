import {
  type Evidence,
  objectLabel,
  selectorMatches,
  asArray,
  asObject,
  asStringMap,
  at,
} from '../../domain/index.js';
import type { KubernetesObject } from '../../context/model.js';
import { CONFIDENCE } from '../finding.js';
import { type Facts, logEvidence } from '../facts.js';
import { finding, type Rule } from './rule.js';

function selectorOf(service: KubernetesObject): Record<string, string> {
  return asStringMap(at(service.raw, 'spec', 'selector'));
}

function endpointsEmpty(
  facts: Facts,
  service: KubernetesObject,
): { empty: boolean; notReadyOnly: boolean; evidence?: Evidence } | undefined {
  const endpoints = facts.ctx.objects.find((o) => o.kind === 'Endpoints' && o.name === service.name);
  if (endpoints) {
    const subsets = asArray(at(endpoints.raw, 'subsets'));
    const ready = subsets.some((s) => asArray(at(s, 'addresses')).length > 0);
    const notReady = subsets.some((s) => asArray(at(s, 'notReadyAddresses')).length > 0);
    return {
      empty: !ready,
      notReadyOnly: !ready && notReady,
      evidence: !ready
        ? {
            quote: `Endpoints ${service.name} subsets: ${subsets.length === 0 ? '[] (none)' : 'only notReadyAddresses'}`,
            kind: 'status',
            origin: endpoints.origin,
            object: objectLabel(endpoints),
          }
        : undefined,
    };
  }
  const slices = facts.ctx.objects.filter(
    (o) => o.kind === 'EndpointSlice' && o.labels['kubernetes.io/service-name'] === service.name,
  );
  if (slices.length > 0) {
    const endpointsList = slices.flatMap((slice) => asArray(at(slice.raw, 'endpoints')));
    const ready = endpointsList.some((e) => at(e, 'conditions', 'ready') !== false);
    return {
      empty: !ready,
      notReadyOnly: !ready && endpointsList.length > 0,
      evidence: !ready
        ? {
            quote: `EndpointSlice for ${service.name} endpoints: ${endpointsList.length === 0 ? '[]' : 'none ready'}`,
            kind: 'status',
            origin: slices[0]!.origin,
          }
        : undefined,
    };
  }
  return undefined;
}

/** Pod template labels of workloads (and labels of pods) in the service's namespace. */
function candidateLabelSets(
  facts: Facts,
): Array<{ owner: string; labels: Readonly<Record<string, string>>; namespace?: string }> {
  const out: Array<{ owner: string; labels: Readonly<Record<string, string>>; namespace?: string }> = [];
  for (const object of facts.ctx.objects) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(object.kind)) continue;
    const labels = {
      ...asStringMap(at(object.raw, 'spec', 'selector', 'matchLabels')),
      ...asStringMap(at(object.raw, 'spec', 'template', 'metadata', 'labels')),
    };
    // A workload scaled to zero has no pods for a Service to select.
    if (at(object.raw, 'spec', 'replicas') === 0) continue;
    if (Object.keys(labels).length > 0)
      out.push({ owner: `${object.kind} ${object.name}`, labels, namespace: object.namespace });
  }
  for (const pod of facts.pods)
    if (Object.keys(pod.labels).length > 0)
      out.push({ owner: `Pod ${pod.name ?? ''}`, labels: pod.labels, namespace: pod.namespace });
  return out;
}

export const serviceNoEndpointsRule: Rule = {
  category: 'service-no-endpoints',
  evaluate(facts) {
    const services = facts.objectsOfKind('Service').filter((s) => Object.keys(selectorOf(s)).length > 0);
    const logLine = facts.findLog(
      /does not have any active Endpoint|no endpoints available for service|has no endpoints/i,
    );
    const eventLine = facts.events.find((e) =>
      /does not have any active Endpoint|no endpoints available|has no endpoints/i.test(e.message),
    );
    if (services.length === 0) {
      if (!logLine && !eventLine) return undefined;
      return finding('service-no-endpoints', facts, {
        confidence: CONFIDENCE.weak + 0.1,
        rootCause:
          'A Service has no ready endpoints, so requests to it fail; the Service and its pods were not given, so why is not known.',
        evidence: [
          logLine
            ? logEvidence(logLine)
            : {
                quote: `${eventLine!.reason}: ${eventLine!.message}`,
                kind: 'event',
                origin: eventLine!.origin,
              },
        ],
      });
    }
    const allCandidates = candidateLabelSets(facts);
    for (const service of services) {
      const selector = selectorOf(service);
      // A Service selects pods in its own namespace only.
      const candidates = allCandidates.filter(
        (c) => !c.namespace || !service.namespace || c.namespace === service.namespace,
      );
      const elsewhere = allCandidates.filter(
        (c) =>
          c.namespace &&
          service.namespace &&
          c.namespace !== service.namespace &&
          selectorMatches(selector, c.labels),
      );
      if (elsewhere.length > 0 && !candidates.some((c) => selectorMatches(selector, c.labels))) {
        const serviceRef = {
          kind: 'Service',
          apiVersion: 'v1',
          name: service.name ?? '',
          namespace: service.namespace ?? facts.namespace,
        };
        const endpoints = endpointsEmpty(facts, service);
        return finding('service-no-endpoints', facts, {
          confidence: CONFIDENCE.strong,
          rootCause: `Service ${service.name} in namespace ${service.namespace} selects ${JSON.stringify(selector)}, but the matching ${elsewhere[0]!.owner} runs in namespace ${elsewhere[0]!.namespace}: a Service only selects pods in its own namespace, so it has no endpoints.`,
          factors: [
            "moving the workload, or pointing clients at the Service in the workload's namespace, is a decision for a person",
          ],
          evidence: [
            {
              quote: `Service ${service.name} spec.selector: ${JSON.stringify(selector)}`,
              kind: 'spec',
              origin: service.origin,
              object: objectLabel(service),
            },
            ...(endpoints?.evidence ? [endpoints.evidence] : []),
            ...(logLine ? [logEvidence(logLine)] : []),
          ],
          subject: serviceRef,
          details: { service: serviceRef },
        });
      }
      const endpoints = endpointsEmpty(facts, service);
      const matched = candidates.filter((c) => selectorMatches(selector, c.labels));
      const evidence: Evidence[] = [
        {
          quote: `Service ${service.name} spec.selector: ${JSON.stringify(selector)}`,
          kind: 'spec',
          origin: service.origin,
          object: objectLabel(service),
        },
      ];
      if (endpoints?.evidence) evidence.push(endpoints.evidence);
      if (logLine) evidence.push(logEvidence(logLine));
      if (endpoints && !endpoints.empty) {
        // Endpoints exist: check the Service's targetPort against the pods' container ports.
        const mismatch = targetPortMismatch(
          facts,
          service,
          matched.map((m) => m.owner),
        );
        if (!mismatch) continue;
        const serviceRef = {
          kind: 'Service',
          apiVersion: 'v1',
          name: service.name ?? '',
          namespace: service.namespace ?? facts.namespace,
        };
        return finding('service-no-endpoints', facts, {
          confidence: CONFIDENCE.good,
          rootCause: `Service ${service.name} sends traffic to targetPort ${mismatch.targetPort}, but its pods listen on ${mismatch.containerPort}: connections to the endpoints are refused.`,
          factors: ['the selector matches; the port does not'],
          evidence: [
            ...evidence,
            {
              quote: `Service ${service.name} spec.ports[${mismatch.index}].targetPort: ${mismatch.targetPort}`,
              kind: 'spec',
              origin: service.origin,
            },
          ],
          subject: serviceRef,
          details: {
            service: serviceRef,
            suggestedPort: mismatch.containerPort,
            servicePortIndex: mismatch.index,
          },
        });
      }
      if (matched.length > 0) {
        if (!endpoints && !logLine) continue;
        return finding('service-no-endpoints', facts, {
          confidence: CONFIDENCE.weak,
          rootCause: `Service ${service.name} selects ${matched[0]!.owner}, but none of its pods is ready, so the Service has no ready endpoints.`,
          factors: ["the selector is right: the pods' own failure is the cause"],
          evidence,
          subject: {
            kind: 'Service',
            apiVersion: 'v1',
            name: service.name ?? '',
            namespace: service.namespace ?? facts.namespace,
          },
          details: {
            service: {
              kind: 'Service',
              apiVersion: 'v1',
              name: service.name ?? '',
              namespace: service.namespace ?? facts.namespace,
            },
          },
        });
      }
      // Nothing matches: find the workload whose labels differ from the selector in the fewest keys;
      // among equals, the one whose values resemble the selector's (`shop-frontend` for `frontend`).
      // Still a tie between different fixes: no fix is proposed (guessing would patch the wrong way).
      let best:
        { owner: string; fix: Record<string, string>; differences: number; likeness: number } | undefined;
      let tied = false;
      for (const candidate of candidates) {
        const fix: Record<string, string> = {};
        let differences = 0;
        let shared = 0;
        for (const [key, value] of Object.entries(selector)) {
          const actual = candidate.labels[key];
          if (actual === value) shared++;
          else if (actual !== undefined) {
            fix[key] = actual;
            differences++;
          } else differences += 2;
        }
        if (shared === 0 && Object.keys(fix).length === 0) continue;
        const likeness = Object.entries(fix).filter(
          ([key, value]) => value.includes(String(selector[key])) || String(selector[key]).includes(value),
        ).length;
        const better =
          !best ||
          differences < best.differences ||
          (differences === best.differences && likeness > best.likeness);
        const same =
          best !== undefined &&
          differences === best.differences &&
          likeness === best.likeness &&
          JSON.stringify(fix) !== JSON.stringify(best.fix);
        if (better) {
          best = { owner: candidate.owner, fix, differences, likeness };
          tied = false;
        } else if (same) tied = true;
      }
      const serviceRef = {
        kind: 'Service',
        apiVersion: 'v1',
        name: service.name ?? '',
        namespace: service.namespace ?? facts.namespace,
      };
      const hasFix = best && !tied && Object.keys(best.fix).length > 0 && best.differences <= 2;
      return finding('service-no-endpoints', facts, {
        confidence: hasFix ? CONFIDENCE.strong : endpoints?.empty ? CONFIDENCE.good : CONFIDENCE.moderate,
        rootCause: hasFix
          ? `Service ${service.name}'s selector ${JSON.stringify(selector)} matches no pod: ${best!.owner} labels its pods ${Object.entries(
              best!.fix,
            )
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}, so the Service has no endpoints.`
          : `Service ${service.name}'s selector ${JSON.stringify(selector)} matches no pod, so the Service has no endpoints.`,
        factors: best ? [`closest workload: ${best.owner}`] : [],
        evidence,
        subject: serviceRef,
        details: { service: serviceRef, selectorFix: hasFix ? best!.fix : undefined },
      });
    }
    return undefined;
  },
};

export function servicePorts(service: KubernetesObject): unknown[] {
  return asArray(asObject(service.raw.spec)?.ports);
}

function containerPortsOf(facts: Facts, owners: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const object of facts.ctx.objects) {
    if (!owners.includes(`${object.kind} ${object.name}`)) continue;
    for (const container of asArray(at(object.raw, 'spec', 'template', 'spec', 'containers'))) {
      for (const port of asArray(at(container, 'ports'))) {
        const value = at(port, 'containerPort');
        if (typeof value === 'number') ports.add(value);
      }
    }
  }
  for (const pod of facts.pods) {
    if (!owners.includes(`Pod ${pod.name ?? ''}`)) continue;
    for (const container of pod.containers) for (const port of container.ports) ports.add(port.containerPort);
  }
  return [...ports];
}

function targetPortMismatch(
  facts: Facts,
  service: KubernetesObject,
  owners: readonly string[],
): { index: number; targetPort: number; containerPort: number } | undefined {
  const containerPorts = containerPortsOf(facts, owners);
  if (containerPorts.length !== 1) return undefined;
  const ports = servicePorts(service);
  for (const [index, port] of ports.entries()) {
    const target = at(port, 'targetPort') ?? at(port, 'port');
    if (typeof target === 'number' && !containerPorts.includes(target)) {
      return { index, targetPort: target, containerPort: containerPorts[0]! };
    }
  }
  return undefined;
}
