import {
  advice,
  builderTable,
  change,
  configMap,
  type Manifest,
  NS,
  workload,
} from '../../../test/support/builders.js';
import { jobFailed } from './job-failed.js';

const nightly = {
  ...workload('CronJob', 'nightly-report'),
  intermediate: { kind: 'Job', name: 'nightly-report-28900000' },
};
const job = (deadline: number): Manifest => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'nightly-report-28900000', namespace: NS },
  spec: { activeDeadlineSeconds: deadline, template: { spec: { containers: [{ name: 'report' }] } } },
});

builderTable('job-failed', jobFailed, [
  {
    name: "missing variable: the CronJob's template takes it from the ConfigMap key",
    details: { workload: nightly, container: 'report', missingEnv: 'REPORT_BUCKET' },
    context: { resources: [configMap('report-settings', { REPORT_BUCKET: 's3://reports' })] },
    expect: [
      change(
        'CronJob shop/nightly-report',
        {
          spec: {
            jobTemplate: {
              spec: {
                template: {
                  spec: {
                    containers: [
                      {
                        name: 'report',
                        env: [
                          {
                            name: 'REPORT_BUCKET',
                            valueFrom: {
                              configMapKeyRef: { name: 'report-settings', key: 'REPORT_BUCKET' },
                            },
                          },
                        ],
                      },
                    ],
                  },
                },
              },
            },
          },
        },
        { words: ["a Job's template is immutable", 'the next run completes'] },
      ),
    ],
  },
  {
    name: "longer deadline: the CronJob's jobs get twice the time",
    details: { workload: nightly, resource: 'DeadlineExceeded' },
    context: { resources: [job(600)] },
    expect: [
      change(
        'CronJob shop/nightly-report',
        { spec: { jobTemplate: { spec: { activeDeadlineSeconds: 1200 } } } },
        { words: ["Double the activeDeadlineSeconds of CronJob nightly-report's jobs to 1200"] },
      ),
    ],
  },
  {
    name: 'no strategy applies to a plain Job: read the logs, fix, re-create',
    rootCause: 'Job migrate-42 reached its backoff limit.',
    details: {
      workload: { ...workload('Job', 'migrate-42'), via: 'ownerReferences' },
      resource: 'BackoffLimitExceeded',
    },
    expect: [
      advice('Job shop/migrate-42', [
        "Fix the job's failure and run it again",
        'kubectl logs job/migrate-42 -n shop',
        'Keep the failed Job as evidence',
      ]),
    ],
  },
]);
