import { type Evidence, objectLabel, asBoolean, at, apiVersionOf } from '../../domain/index.js';
import { CONFIDENCE, subjectOf } from '../finding.js';
import { condition, conditionEvidence, eventEvidence } from '../facts.js';
import { revisionHistory } from '../revisions.js';
import { finding, type Rule } from './rule.js';

export const rolloutStuckRule: Rule = {
  category: 'rollout-stuck',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    const factors: string[] = [];
    const deployments = facts.objectsOfKind('Deployment');
    const deployment =
      deployments.find((d) => d.name === facts.workload?.name) ??
      deployments.find((d) => condition(d, 'Progressing')?.reason === 'ProgressDeadlineExceeded') ??
      deployments.find((d) => asBoolean(at(d.raw, 'spec', 'paused')) === true);
    let confidence = 0;
    let paused = false;
    if (deployment) {
      const progressing = condition(deployment, 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        evidence.push(conditionEvidence(deployment, progressing));
        confidence = CONFIDENCE.good;
      }
      if (
        asBoolean(at(deployment.raw, 'spec', 'paused')) === true ||
        progressing?.reason === 'DeploymentPaused'
      ) {
        paused = true;
        evidence.push({
          quote: `Deployment ${deployment.name} spec.paused: true`,
          kind: 'spec',
          origin: deployment.origin,
          object: objectLabel(deployment),
        });
        confidence = Math.max(confidence, CONFIDENCE.good);
      }
      const available = condition(deployment, 'Available');
      if (available?.status === 'False' && confidence > 0)
        evidence.push(conditionEvidence(deployment, available));
    }
    for (const event of facts.events) {
      if (/exceeded its progress deadline/.test(event.message)) {
        evidence.push(eventEvidence(event));
        confidence = Math.max(confidence, CONFIDENCE.good - 0.05);
      }
    }
    if (confidence === 0) return undefined;
    const workload = deployment?.name
      ? {
          kind: 'Deployment',
          apiVersion: apiVersionOf('Deployment'),
          name: deployment.name,
          namespace: deployment.namespace ?? facts.namespace,
          via: 'objects' as const,
        }
      : facts.workload;
    const history = revisionHistory(workload, facts.primaryPod, facts.ctx.objects, facts.pods);
    const rollbackTo = history.goodBecause && !paused ? history.previous : undefined;
    if (history.current && history.previous) {
      factors.push(
        history.goodBecause
          ? `revision ${history.current.revision} (ReplicaSet ${history.current.replicaSet}) has ${history.current.readyReplicas}/${history.current.replicas} ready; revision ${history.previous.revision} was the last to serve: ${history.goodBecause}`
          : `revision ${history.current.revision} (ReplicaSet ${history.current.replicaSet}) has ${history.current.readyReplicas}/${history.current.replicas} ready; nothing in the context shows that revision ${history.previous.revision} ran well, so no rollback is proposed`,
      );
      if (history.changes.length > 0)
        factors.push(`revision ${history.current.revision} changed: ${history.changes.join('; ')}`);
    }
    factors.push("a stuck rollout is a symptom: the new pods' own failure is the cause when it is known");
    const name = deployment?.name ?? workload?.name ?? '(unknown)';
    return finding('rollout-stuck', facts, {
      confidence,
      rootCause: paused
        ? `Deployment ${name} is paused, so its rollout does not progress.`
        : `The rollout of Deployment ${name} exceeded its progress deadline: the new ReplicaSet${history.current ? ` (revision ${history.current.revision})` : ''} never became available.`,
      factors,
      evidence,
      subject: workload ? subjectOf(workload) : undefined,
      details: {
        workload,
        rollbackToRevision: rollbackTo?.revision,
        goodRevisionEvidence: rollbackTo ? history.goodBecause : undefined,
        currentRevision: history.current?.revision,
        revisionChange: history.changes.join('; ') || undefined,
        resource: paused ? 'paused' : undefined,
      },
    });
  },
};
