/**
 * A failed Job: set a missing variable from a ConfigMap/Secret key of that name, or give a
 * CronJob's jobs more time than the deadline that stopped them. A Job's template is immutable, so
 * fixes go to the CronJob; otherwise a person fixes the cause and re-creates the Job.
 */
import type { KubernetesObject } from '../../context/model.js';
import {
  advise,
  type BuilderContext,
  builderOf,
  describe,
  envFromKeyDraft,
  patchDraft,
  type Strategy,
} from './shared.js';
import { at } from '../../domain/index.js';

function jobOf({ workload, facts }: BuilderContext): KubernetesObject | undefined {
  return facts.findObject(
    'Job',
    workload?.intermediate?.name ?? (workload?.kind === 'Job' ? workload.name : undefined),
  );
}

/** The job fails because a variable is not set, and a ConfigMap/Secret holds a key of that name. */
const missingVariable: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  if (!controlled || !d.missingEnv || !d.container) return undefined;
  return envFromKeyDraft(controlled, d.container, d.missingEnv, facts, {
    why: `The job fails because ${d.missingEnv} is not set`,
    note:
      controlled.kind === 'CronJob'
        ? "The CronJob is patched so its next run gets it (a Job's template is immutable)."
        : undefined,
    verification: `Within ${verifyTimeout}: ${describe(controlled)}'s template sets ${d.missingEnv}; the next run completes.`,
  });
};

/** A CronJob's job ran past its activeDeadlineSeconds: future runs get twice the time. */
const longerDeadline: Strategy = (context) => {
  const { details: d, workload, verifyTimeout } = context;
  const deadline = at(jobOf(context)?.raw, 'spec', 'activeDeadlineSeconds');
  if (workload?.kind !== 'CronJob' || d.resource !== 'DeadlineExceeded' || typeof deadline !== 'number')
    return undefined;
  return patchDraft(
    workload,
    { spec: { jobTemplate: { spec: { activeDeadlineSeconds: deadline * 2 } } } },
    {
      description: `Double the activeDeadlineSeconds of CronJob ${workload.name}'s jobs to ${deadline * 2}`,
      rationale: `The job ran longer than its ${deadline}s deadline and was stopped; future runs get twice the time. A Job's own template is immutable, so the CronJob is patched.`,
      verification: `Within ${verifyTimeout}: the CronJob's jobTemplate carries the new deadline (the next scheduled run proves it).`,
    },
  );
};

export const jobFailed = builderOf([missingVariable, longerDeadline], (context) => {
  const { workload, finding } = context;
  const job = jobOf(context)?.name ?? workload?.intermediate?.name ?? workload?.name ?? '<job>';
  return advise(context, {
    description: "Fix the job's failure and run it again",
    instructions: `${finding.rootCause} Read the failed pods' logs (kubectl logs job/${job} -n ${context.namespace}), fix the cause, then re-create the Job (its template is immutable)${workload?.kind === 'CronJob' ? " or wait for the CronJob's next run" : ''}. Keep the failed Job as evidence until then.`,
    rationale: 'Re-running a failing job without a fix fails again; deleting it destroys evidence.',
  });
});
