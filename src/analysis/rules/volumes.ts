import { type Evidence, objectLabel, asString, at } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { conditionEvidence, eventEvidence, type Facts } from '../facts.js';
import { schedulingFailures } from '../signals.js';
import { parseMissingConfig } from './config-missing.js';
import { finding, type Rule } from './rule.js';
import { VOLUME_SCHEDULING } from './scheduling.js';

const PVC_EVENT_REASONS = [
  'ProvisioningFailed',
  'FailedBinding',
  'ExternalProvisioning',
  'ProvisioningSucceeded',
];

export const volumePendingRule: Rule = {
  category: 'volume-pending',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    const factors: string[] = [];
    let confidence = 0;
    let claimName: string | undefined;
    let storageClass: string | undefined;

    for (const failure of schedulingFailures(facts)) {
      if (!VOLUME_SCHEDULING.test(failure.message)) continue;
      if (failure.event) evidence.push(eventEvidence(failure.event));
      else evidence.push({ quote: failure.message, kind: 'status', origin: failure.pod?.origin ?? 'input' });
      claimName ??= /persistentvolumeclaim "([^"]+)"/.exec(failure.message)?.[1];
      confidence = Math.max(confidence, CONFIDENCE.good);
    }
    const pvcEvents = facts.events.filter(
      (event) => PVC_EVENT_REASONS.includes(event.reason) || event.object.kind === 'PersistentVolumeClaim',
    );
    const provisioningFailed = pvcEvents.filter(
      (event) => event.reason === 'ProvisioningFailed' || event.reason === 'FailedBinding',
    );
    for (const event of provisioningFailed) {
      evidence.push(eventEvidence(event));
      claimName ??= event.object.name;
      storageClass ??=
        /storageclass\.storage\.k8s\.io "([^"]+)" not found/.exec(event.message)?.[1] ??
        /StorageClass "([^"]+)"/.exec(event.message)?.[1];
      confidence = Math.max(confidence, CONFIDENCE.strong);
    }
    const externalOnly =
      pvcEvents.length > 0 && pvcEvents.every((event) => event.reason === 'ExternalProvisioning');
    if (externalOnly) {
      evidence.push(eventEvidence(pvcEvents[0]!));
      claimName ??= pvcEvents[0]!.object.name;
      factors.push('the external provisioner never created the volume: it may not be running');
      confidence = Math.max(confidence, CONFIDENCE.good - 0.05);
    }
    for (const claim of facts.objectsOfKind('PersistentVolumeClaim')) {
      const phase = asString(at(claim.raw, 'status', 'phase'));
      if (phase !== 'Pending') continue;
      claimName ??= claim.name;
      storageClass ??= asString(at(claim.raw, 'spec', 'storageClassName'));
      evidence.push({
        quote: `PersistentVolumeClaim ${claim.name} status.phase: Pending`,
        kind: 'status',
        origin: claim.origin,
        object: objectLabel(claim),
      });
      confidence = Math.max(confidence, confidence > 0 ? CONFIDENCE.strong : CONFIDENCE.moderate);
    }
    if (confidence === 0) return undefined;
    if (pvcEvents.length > 0 && pvcEvents.every((event) => event.reason === 'WaitForFirstConsumer'))
      return undefined;

    if (storageClass) {
      const classes = facts.objectsOfKind('StorageClass').map((sc) => sc.name);
      if (classes.length > 0 && !classes.includes(storageClass))
        factors.push(`StorageClass ${storageClass} does not exist; classes present: ${classes.join(', ')}`);
    }
    const reason =
      storageClass && evidence.some((e) => /not found/.test(e.quote) && /storageclass/i.test(e.quote))
        ? `its StorageClass ${storageClass} does not exist, so no volume is provisioned`
        : 'no PersistentVolume can be bound or provisioned for it';
    return finding('volume-pending', facts, {
      confidence,
      rootCause: `PersistentVolumeClaim ${claimName ?? '(unknown)'} stays Pending: ${reason}; pods that mount it cannot be scheduled.`,
      factors,
      evidence,
      details: { claimName, storageClass },
    });
  },
};

export const volumeMountFailureRule: Rule = {
  category: 'volume-mount-failure',
  evaluate(facts) {
    const events = facts.events.filter(
      (event) =>
        (event.reason === 'FailedAttachVolume' ||
          event.reason === 'FailedMount' ||
          event.reason === 'FailedMapVolume') &&
        !parseMissingConfig(event.message),
    );
    if (events.length === 0) return undefined;
    const multiAttach = events.find((event) => /Multi-Attach error/.test(event.message));
    const main = multiAttach ?? events.find((event) => event.reason === 'FailedAttachVolume') ?? events[0]!;
    const volume =
      /volume "([^"]+)"/.exec(main.message)?.[1] ?? /unmounted volumes=\[([^\]]+)\]/.exec(main.message)?.[1];
    const factors: string[] = [];
    let cause: string;
    if (multiAttach) {
      cause = `volume ${volume ?? ''} is still attached exclusively (ReadWriteOnce) to another node, so the new pod cannot attach it`;
      const strategy = asString(
        at(facts.findObject('Deployment', facts.workload?.name)?.raw, 'spec', 'strategy', 'type'),
      );
      if (strategy === 'RollingUpdate' || strategy === undefined)
        factors.push('a RollingUpdate starts the new pod before the old one releases the volume');
      const notReady = facts
        .objectsOfKind('Node')
        .find((node) => node.conditions.some((c) => c.type === 'Ready' && c.status !== 'True'));
      if (notReady)
        factors.push(`node ${notReady.name} is not Ready: the volume is still attached to a dead node`);
    } else if (/MountVolume\.SetUp failed|MountDevice failed/.test(main.message)) {
      cause = `the kubelet cannot mount volume ${volume ?? ''}: ${main.message.split(' : ').slice(1).join(' : ') || main.message}`;
    } else {
      cause = `volume ${volume ?? ''} cannot be attached or mounted`;
    }
    const evidence = [...events.slice(0, 3).map(eventEvidence)];
    const pvc = facts.objectsOfKind('PersistentVolumeClaim')[0];
    const bound = pvc?.conditions[0];
    if (pvc && bound) evidence.push(conditionEvidence(pvc, bound));
    // After a node failure the attachment belongs to the dead node: the node is the root cause.
    const nodeDown =
      facts
        .objectsOfKind('Node')
        .some((node) => node.conditions.some((c) => c.type === 'Ready' && c.status !== 'True')) ||
      facts.events.some(
        (event) => event.reason === 'TaintManagerEviction' || event.reason === 'NodeNotReady',
      );
    return finding('volume-mount-failure', facts, {
      confidence: (multiAttach ? CONFIDENCE.strong : CONFIDENCE.good + 0.05) - (nodeDown ? 0.2 : 0),
      rootCause: `Pod ${facts.primaryPod?.name ?? facts.describeSubject()} is stuck in ContainerCreating: ${cause}.`,
      factors,
      evidence,
      details: { claimName: volume, resource: multiAttach ? 'multi-attach' : 'mount' },
    });
  },
};

export function pvcOf(facts: Facts, name: string | undefined) {
  return facts.findObject('PersistentVolumeClaim', name);
}
