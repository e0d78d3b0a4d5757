import { type Evidence, asNumber, at } from '../../domain/index.js';
import { cronJobOfJob, type WorkloadRef } from '../../context/owners.js';
import { CONFIDENCE, subjectOf } from '../finding.js';
import { condition, conditionEvidence, eventEvidence, logEvidence } from '../facts.js';
import { crashLine, missingEnvVar } from '../signals.js';
import { finding, type Rule } from './rule.js';

const JOB_REASONS = [
  'BackoffLimitExceeded',
  'DeadlineExceeded',
  'PodFailurePolicy',
  'FailedIndexes',
  'MaxFailedIndexesExceeded',
];

export const jobFailedRule: Rule = {
  category: 'job-failed',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    let confidence = 0;
    let jobName: string | undefined;
    let reason: string | undefined;
    for (const job of facts.objectsOfKind('Job')) {
      const failed = condition(job, 'Failed') ?? condition(job, 'FailureTarget');
      if (failed?.status !== 'True') continue;
      jobName ??= job.name;
      reason ??= failed.reason;
      evidence.push(conditionEvidence(job, failed));
      confidence = CONFIDENCE.strong;
    }
    for (const event of facts.events) {
      if (!JOB_REASONS.includes(event.reason)) continue;
      jobName ??= event.object.kind === 'Job' ? event.object.name : undefined;
      reason ??= event.reason;
      evidence.push(eventEvidence(event));
      confidence = Math.max(confidence, CONFIDENCE.strong - 0.05);
    }
    if (confidence === 0) return undefined;
    const namespace = facts.namespace;
    let workload: WorkloadRef | undefined = facts.workload;
    if (jobName && (!workload || (workload.kind !== 'CronJob' && workload.kind !== 'Job'))) {
      workload = cronJobOfJob(jobName, namespace, facts.ctx.objects) ?? {
        kind: 'Job',
        apiVersion: 'batch/v1',
        name: jobName,
        namespace,
        via: 'objects',
      };
    }
    const job = facts.findObject(
      'Job',
      jobName ?? (workload?.kind === 'Job' ? workload.name : workload?.intermediate?.name),
    );
    const failedPods = asNumber(at(job?.raw, 'status', 'failed'));
    const backoffLimit = asNumber(at(job?.raw, 'spec', 'backoffLimit'));
    const deadline = asNumber(at(job?.raw, 'spec', 'activeDeadlineSeconds'));
    const factors: string[] = [];
    if (failedPods !== undefined)
      factors.push(
        `${failedPods} pod(s) failed${backoffLimit !== undefined ? ` (backoffLimit ${backoffLimit})` : ''}`,
      );
    if (reason === 'DeadlineExceeded' && deadline !== undefined)
      factors.push(`activeDeadlineSeconds is ${deadline}`);
    if (workload?.kind === 'CronJob')
      factors.push(`the Job was created by CronJob ${workload.name}: fix its jobTemplate for future runs`);
    const env = missingEnvVar(facts);
    const line = env?.line ?? crashLine(facts);
    if (line) evidence.push(logEvidence(line));
    const why =
      reason === 'DeadlineExceeded'
        ? 'it ran longer than its activeDeadlineSeconds'
        : line
          ? `its pods keep failing ("${line.line.trim()}")`
          : 'its pods kept failing until the backoff limit was reached';
    return finding('job-failed', facts, {
      confidence,
      rootCause: `Job ${jobName ?? workload?.intermediate?.name ?? workload?.name ?? '(unknown)'} failed (${reason ?? 'Failed'}): ${why}.`,
      factors,
      evidence,
      subject: workload ? subjectOf(workload, namespace) : undefined,
      details: {
        workload,
        crashLine: line?.line,
        resource: reason,
        missingEnv: env?.name,
        container:
          facts.primaryPod?.containers.find(
            (c) => c.status?.state.terminated || c.status?.lastState.terminated,
          )?.name ?? facts.primaryPod?.containers[0]?.name,
      },
    });
  },
};
