import type { Evidence } from '../../domain/index.js';
import { resolveObjectOwner } from '../../context/owners.js';
import { CONFIDENCE } from '../finding.js';
import { conditionEvidence, eventEvidence } from '../facts.js';
import { finding, type Rule } from './rule.js';

const EXCEEDED =
  /exceeded quota: ([\w.-]+), requested: ([^,]+(?:,[^,:]+=[^,]+)*), used: ([^,]+(?:,[^,:]+=[^,]+)*), limited: (.+)$/;
const MUST_SPECIFY = /failed quota: ([\w.-]+): must specify (.+)$/;
const LIMIT_RANGE =
  /maximum (\S+) usage per (?:Container|Pod) is (\S+)|minimum (\S+) usage per (?:Container|Pod) is (\S+)/;

export const quotaExceededRule: Rule = {
  category: 'quota-exceeded',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    let quotaName: string | undefined;
    let resource: string | undefined;
    let detail: string | undefined;
    let subjectEvent: (typeof facts.events)[number] | undefined;
    let confidence = 0;
    for (const event of facts.events) {
      const exceeded = EXCEEDED.exec(event.message);
      const specify = MUST_SPECIFY.exec(event.message);
      const limitRange = LIMIT_RANGE.exec(event.message);
      if (!exceeded && !specify && !(limitRange && /forbidden/.test(event.message))) continue;
      evidence.push(eventEvidence(event));
      subjectEvent ??= event;
      if (exceeded) {
        quotaName ??= exceeded[1];
        resource ??= exceeded[2]?.split('=')[0];
        detail ??= `requested ${exceeded[2]}, used ${exceeded[3]}, limited ${exceeded[4]}`;
        confidence = CONFIDENCE.certain;
      } else if (specify) {
        quotaName ??= specify[1];
        resource ??= specify[2];
        detail ??= `the pods do not specify ${specify[2]}, which quota ${specify[1]} requires`;
        confidence = Math.max(confidence, CONFIDENCE.strong);
      } else {
        detail ??= `a LimitRange rejects the pods: ${limitRange?.[0]}`;
        confidence = Math.max(confidence, CONFIDENCE.good);
      }
    }
    for (const object of facts.ctx.objects) {
      const failure = object.conditions.find(
        (c) =>
          c.type === 'ReplicaFailure' &&
          c.status === 'True' &&
          /exceeded quota|failed quota/.test(c.message ?? ''),
      );
      if (!failure) continue;
      evidence.push(conditionEvidence(object, failure));
      const parsed = EXCEEDED.exec(failure.message ?? '');
      quotaName ??= parsed?.[1];
      detail ??= parsed ? `requested ${parsed[2]}, used ${parsed[3]}, limited ${parsed[4]}` : failure.message;
      confidence = Math.max(confidence, CONFIDENCE.strong);
    }
    if (confidence === 0) return undefined;
    let subject = facts.workloadRef();
    if (subjectEvent?.object.kind && subjectEvent.object.name && subjectEvent.object.kind !== 'Pod') {
      const owner = resolveObjectOwner(
        subjectEvent.object.kind,
        subjectEvent.object.name,
        subjectEvent.object.namespace,
        facts.ctx.objects,
      );
      subject = {
        kind: owner.kind,
        apiVersion: owner.apiVersion,
        name: owner.name,
        namespace: owner.namespace ?? facts.namespace,
      };
    }
    const quota = quotaName ? facts.findObject('ResourceQuota', quotaName) : undefined;
    const factors: string[] = [];
    if (quota)
      factors.push(
        `ResourceQuota ${quotaName} hard limits: ${JSON.stringify((quota.raw as { spec?: { hard?: unknown } }).spec?.hard ?? {})}`,
      );
    return finding('quota-exceeded', facts, {
      confidence,
      rootCause:
        `The ResourceQuota ${quotaName ?? ''} in namespace ${subject?.namespace ?? facts.namespace ?? '(unknown)'} rejects new pods of ${subject ? `${subject.kind} ${subject.name}` : 'the workload'}: ${detail ?? 'quota exceeded'}. The pods are never created.`.replace(
          'ResourceQuota  in',
          'ResourceQuota in',
        ),
      factors,
      evidence,
      subject,
      details: {
        quotaName,
        resource,
        workload:
          subject && subject.kind !== 'Pod'
            ? {
                kind: subject.kind,
                apiVersion: subject.apiVersion ?? 'apps/v1',
                name: subject.name,
                namespace: subject.namespace,
                via: 'objects',
              }
            : facts.workload,
      },
    });
  },
};
