/**
 * Where live gathering starts: the request's target, the event's object, the pod in the request, or
 * a `kind/name` (and `-n namespace`) named in the issue text.
 */
import { type RemediateInput, asObject, asString, at } from '../domain/index.js';
import type { ObjectKey } from '../cluster/gateway.js';

const ISSUE_REFERENCE =
  /\b(deployment|deploy|statefulset|sts|daemonset|ds|pod|po|job|cronjob|cj|service|svc|hpa|pvc)[/\s]+([a-z0-9][a-z0-9.-]{0,252})/i;
const ISSUE_NAMESPACE = /(?:-n\s+|namespace[:\s]+|ns[:/\s]+)([a-z0-9][a-z0-9-]{0,62})/i;
const KIND_ALIASES: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  pod: 'Pod',
  po: 'Pod',
  job: 'Job',
  cronjob: 'CronJob',
  cj: 'CronJob',
  service: 'Service',
  svc: 'Service',
  hpa: 'HorizontalPodAutoscaler',
  pvc: 'PersistentVolumeClaim',
};

/** Where to start: the target, the event's object, the pod in the request, or names in the issue. */
export function anchorOf(input: RemediateInput): ObjectKey | undefined {
  if (input.target)
    return { kind: input.target.kind, namespace: input.target.namespace, name: input.target.name };
  const event = input.context?.event as Record<string, unknown> | undefined;
  const regarding = asObject(event?.involvedObject) ?? asObject(event?.regarding);
  const kind = asString(regarding?.kind);
  const name = asString(regarding?.name);
  if (kind && name)
    return {
      kind,
      namespace: asString(regarding?.namespace) ?? asString(at(event, 'metadata', 'namespace')),
      name,
    };
  const pod = input.context?.podSpec as Record<string, unknown> | undefined;
  const podName = asString(at(pod, 'metadata', 'name'));
  if (podName) return { kind: 'Pod', namespace: asString(at(pod, 'metadata', 'namespace')), name: podName };
  const reference = ISSUE_REFERENCE.exec(input.issue);
  if (reference?.[1] && reference[2]) {
    const namespace = ISSUE_NAMESPACE.exec(input.issue)?.[1];
    return {
      kind: KIND_ALIASES[reference[1].toLowerCase()] ?? 'Pod',
      namespace,
      name: reference[2].replace(/[.,;:]+$/, ''),
    };
  }
  return undefined;
}
