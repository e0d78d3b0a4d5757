/**
 * Where live gathering starts: the request's target, the event's object, the pod in the request, or
 * a `kind/name` (and `-n namespace`) named in the issue text.
 */
import { type RemediateInput, asObject, asString, at, targetKindOf } from '../domain/index.js';
import type { ObjectKey } from '../cluster/gateway.js';

const ISSUE_REFERENCE =
  /\b(deployment|deploy|statefulset|sts|daemonset|ds|pod|po|job|cronjob|cj|service|svc|hpa|pvc)[/\s]+([a-z0-9][a-z0-9.-]{0,252})/i;
const ISSUE_NAMESPACE = /(?:-n\s+|namespace[:\s]+|ns[:/\s]+)([a-z0-9][a-z0-9-]{0,62})/i;

/** Where to start: the target, the event's object, the pod in the request, or names in the issue. */
export function anchorOf(input: RemediateInput): ObjectKey | undefined {
  if (input.target)
    return { kind: input.target.kind, namespace: input.target.namespace, name: input.target.name };
  return contextAnchor(input)?.key ?? issueAnchor(input.issue);
}

/** The object the request's context is about: the event's object, else the pod it carries. */
export function contextAnchor(input: RemediateInput): { key: ObjectKey; from: 'event' | 'pod' } | undefined {
  const event = input.context?.event as Record<string, unknown> | undefined;
  const regarding = asObject(event?.involvedObject) ?? asObject(event?.regarding);
  const kind = asString(regarding?.kind);
  const name = asString(regarding?.name);
  if (kind && name)
    return {
      key: {
        kind,
        namespace: asString(regarding?.namespace) ?? asString(at(event, 'metadata', 'namespace')),
        name,
      },
      from: 'event',
    };
  const pod = input.context?.podSpec as Record<string, unknown> | undefined;
  const podName = asString(at(pod, 'metadata', 'name'));
  if (podName)
    return {
      key: { kind: 'Pod', namespace: asString(at(pod, 'metadata', 'namespace')), name: podName },
      from: 'pod',
    };
  return undefined;
}

/** A `kind/name` (and `-n namespace`) written in the issue, as kubectl would take it. */
function issueAnchor(issue: string): ObjectKey | undefined {
  const reference = ISSUE_REFERENCE.exec(issue);
  if (reference?.[1] && reference[2]) {
    const namespace = ISSUE_NAMESPACE.exec(issue)?.[1];
    return {
      kind: targetKindOf(reference[1]) ?? 'Pod',
      namespace,
      name: reference[2].replace(/[.,;:]+$/, ''),
    };
  }
  return undefined;
}
