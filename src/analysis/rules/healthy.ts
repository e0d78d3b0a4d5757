import { type Evidence, asNumber, asString, at } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { condition, conditionEvidence, eventEvidence, statusEvidence } from '../facts.js';
import { finding, type Rule } from './rule.js';

const RECENT_MS = 60 * 60 * 1000;

/**
 * `healthy`: the given or live objects show no failure signal. Only consulted when no failure rule
 * is confident; the answer lists what was checked.
 */
export const healthyRule: Rule = {
  category: 'healthy',
  evaluate(facts) {
    const checked: string[] = [];
    const evidence: Evidence[] = [];
    const factors: string[] = [];
    let observed = 0;
    let problems = 0;
    for (const pod of facts.pods) {
      if (!pod.hasStatus) continue;
      observed++;
      checked.push(`pod ${pod.name ?? ''} phase and container states`);
      if (pod.phase !== 'Running' && pod.phase !== 'Succeeded') problems++;
      if (pod.reason === 'Evicted') problems++;
      const ready = condition(pod, 'Ready');
      if (pod.phase === 'Running' && ready?.status !== 'True') problems++;
      evidence.push(statusEvidence(pod, 'status.phase', pod.phase ?? 'unknown'));
      for (const container of pod.containers) {
        const status = container.status;
        if (!status) continue;
        if (status.state.waiting) problems++;
        if (pod.phase === 'Running' && status.ready === false) problems++;
        if (status.restartCount > 0) {
          const lastFinished = status.lastState.terminated?.finishedAt;
          const startedAt = status.state.running?.startedAt;
          const stableFor =
            startedAt && lastFinished ? Date.parse(startedAt) - Date.parse(lastFinished) : undefined;
          factors.push(
            `container ${container.name} restarted ${status.restartCount} time(s)${lastFinished ? `, last at ${lastFinished}` : ''}${startedAt ? `; running since ${startedAt}` : ''}`,
          );
          if (status.state.running && (stableFor === undefined || stableFor < 0)) observed -= 0.5;
        }
        if (status.state.running && status.ready !== false) {
          evidence.push(
            statusEvidence(
              pod,
              `status.containerStatuses[${container.name}].ready`,
              String(status.ready ?? true),
            ),
          );
        }
      }
    }
    for (const object of facts.ctx.objects) {
      if (object.kind === 'Deployment' || object.kind === 'StatefulSet' || object.kind === 'DaemonSet') {
        observed++;
        checked.push(`${object.kind} ${object.name} replicas and conditions`);
        const desired =
          asNumber(at(object.raw, 'spec', 'replicas')) ??
          asNumber(at(object.raw, 'status', 'desiredNumberScheduled'));
        const ready =
          asNumber(at(object.raw, 'status', 'readyReplicas')) ??
          asNumber(at(object.raw, 'status', 'numberReady'));
        if (desired !== undefined && ready !== undefined && ready < desired) problems++;
        const available = condition(object, 'Available');
        if (available?.status === 'False') problems++;
        const progressing = condition(object, 'Progressing');
        if (progressing?.status === 'False') problems++;
        if (available) evidence.push(conditionEvidence(object, available));
        else if (ready !== undefined)
          evidence.push({
            quote: `${object.kind} ${object.name} status.readyReplicas: ${ready}${desired !== undefined ? ` of ${desired}` : ''}`,
            kind: 'status',
            origin: object.origin,
          });
      } else if (object.kind === 'Node') {
        observed++;
        checked.push(`Node ${object.name} conditions`);
        const nodeReady = condition(object, 'Ready');
        if (nodeReady?.status !== 'True') problems++;
        else evidence.push(conditionEvidence(object, nodeReady));
        for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure'])
          if (condition(object, type)?.status === 'True') problems++;
      } else if (object.kind === 'Job') {
        observed++;
        checked.push(`Job ${object.name} conditions`);
        if (condition(object, 'Failed')?.status === 'True') problems++;
        if (condition(object, 'Complete')?.status === 'True')
          evidence.push({
            quote: `Job ${object.name} condition Complete=True`,
            kind: 'condition',
            origin: object.origin,
          });
      } else if (object.kind === 'PersistentVolumeClaim') {
        observed++;
        checked.push(`PersistentVolumeClaim ${object.name} phase`);
        evidence.push({
          quote: `PersistentVolumeClaim ${object.name} status.phase: ${asString(at(object.raw, 'status', 'phase')) ?? 'unknown'}`,
          kind: 'status',
          origin: object.origin,
        });
        const waiting = facts.events.find((event) => event.reason === 'WaitForFirstConsumer');
        if (waiting) evidence.push(eventEvidence(waiting));
        const phase = asString(at(object.raw, 'status', 'phase'));
        const waitsForConsumer =
          facts.events.some(
            (event) =>
              event.reason === 'WaitForFirstConsumer' &&
              (event.object.name === object.name || !event.object.name),
          ) ||
          facts
            .objectsOfKind('StorageClass')
            .some(
              (sc) =>
                asString(at(sc.raw, 'volumeBindingMode')) === 'WaitForFirstConsumer' &&
                sc.name === asString(at(object.raw, 'spec', 'storageClassName')),
            );
        if (phase === 'Pending' && waitsForConsumer) {
          factors.push(
            `PersistentVolumeClaim ${object.name} waits for its first consumer (WaitForFirstConsumer): it binds when a pod that uses it is scheduled`,
          );
        } else if (phase !== 'Bound') problems++;
      } else if (object.kind === 'HorizontalPodAutoscaler') {
        observed++;
        checked.push(`HorizontalPodAutoscaler ${object.name} conditions`);
        const active = condition(object, 'ScalingActive');
        if (active?.status === 'False') problems++;
        for (const type of ['ScalingActive', 'ScalingLimited']) {
          const c = condition(object, type);
          if (c) evidence.push(conditionEvidence(object, c));
        }
      }
    }
    if (observed <= 0 || problems > 0) return undefined;
    const now = facts.ctx.gathering.live ? Date.now() : latestTimestamp(facts);
    const recentWarnings = facts.warnings.filter((event) => {
      if (now === undefined || !event.lastSeen) return true;
      return now - Date.parse(event.lastSeen) < RECENT_MS;
    });
    let confidence: number = CONFIDENCE.good;
    if (recentWarnings.length > 0) {
      confidence = CONFIDENCE.moderate - 0.05;
      factors.push(
        `${recentWarnings.length} warning event(s) were reported, but the objects are healthy now: the problem has passed or was transient`,
      );
    }
    if (facts.warnings.length > 0 && recentWarnings.length === 0)
      factors.push('the warning events are older than an hour');
    if (observed < 1) confidence = CONFIDENCE.moderate;
    return finding('healthy', facts, {
      confidence,
      rootCause: `No failure signal: ${facts.describeSubject()} is running and ready now (checked: ${[...new Set(checked)].join('; ')}). The reported problem is not visible in the current state.`,
      factors: [...factors, `checked: ${[...new Set(checked)].join('; ')}`],
      evidence: evidence.slice(0, 6),
    });
  },
};

function latestTimestamp(facts: {
  ctx: { events: ReadonlyArray<{ lastSeen?: string }> };
  pods: ReadonlyArray<{ conditions: ReadonlyArray<{ lastTransitionTime?: string }> }>;
}): number | undefined {
  let latest: number | undefined;
  for (const event of facts.ctx.events)
    if (event.lastSeen) latest = Math.max(latest ?? 0, Date.parse(event.lastSeen));
  for (const pod of facts.pods)
    for (const c of pod.conditions)
      if (c.lastTransitionTime) latest = Math.max(latest ?? 0, Date.parse(c.lastTransitionTime));
  return latest;
}
