/** Image pull failures, classified on the runtime's error text: not-found versus authorization. */
import { type Category, type Evidence, asArray, asString, at } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { containerPath, eventEvidence, type Facts, statusEvidence } from '../facts.js';
import { revisionHistory } from '../revisions.js';
import {
  eventContainer,
  imageFromPullMessage,
  PULL_AMBIGUOUS,
  PULL_AUTH,
  PULL_NETWORK,
  PULL_NOT_FOUND,
  PULL_RATE_LIMIT,
  PULL_WAITING_REASONS,
  pullEvents,
  waitingStates,
} from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';
import { closestImage } from '../near-miss.js';
import { resolvePodOwner } from '../../context/owners.js';

type PullClass = 'not-found' | 'auth' | 'ambiguous' | 'rate-limit' | 'network' | 'unexplained';

interface PullAnalysis {
  readonly kind: PullClass;
  readonly evidence: Evidence[];
  readonly container?: string;
  readonly image?: string;
  readonly errorText?: string;
  readonly explicit: boolean;
}

export function analyzePull(facts: Facts): PullAnalysis | undefined {
  const evidence: Evidence[] = [];
  let container: string | undefined;
  let image: string | undefined;
  const texts: string[] = [];
  let sawStatus = false;
  for (const waiting of waitingStates(facts)) {
    if (!PULL_WAITING_REASONS.includes(waiting.reason)) continue;
    sawStatus = true;
    container ??= waiting.container.name;
    image ??= waiting.container.image;
    evidence.push(
      statusEvidence(
        waiting.pod,
        containerPath(waiting.container, 'state.waiting'),
        `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
      ),
    );
    if (waiting.message) texts.push(waiting.message);
  }
  const events = pullEvents(facts);
  for (const event of events) {
    container ??= eventContainer(event);
    image ??= imageFromPullMessage(event.message);
    texts.push(event.message);
  }
  // Quote the most informative pull events first: the runtime's error text.
  const ranked = [...events].sort((a, b) => informative(b.message) - informative(a.message));
  evidence.push(...ranked.slice(0, 3).map(eventEvidence));
  if (!sawStatus && events.length === 0) return undefined;

  const all = texts.join('\n');
  let kind: PullClass = 'unexplained';
  if (PULL_RATE_LIMIT.test(all)) kind = 'rate-limit';
  else if (
    PULL_AMBIGUOUS.test(all) &&
    !/\b(?:401|403)\b|no basic auth|FailedToRetrieveImagePullSecret/.test(all)
  )
    kind = 'ambiguous';
  else if (PULL_AUTH.test(all) || events.some((event) => event.reason === 'FailedToRetrieveImagePullSecret'))
    kind = 'auth';
  else if (
    PULL_NOT_FOUND.test(all) ||
    events.some((e) => e.reason === 'InspectFailed' || e.reason === 'ErrImageNeverPull')
  )
    kind = 'not-found';
  else if (PULL_NETWORK.test(all)) kind = 'network';
  if (waitingStates(facts).some((w) => w.reason === 'InvalidImageName' || w.reason === 'ErrImageNeverPull'))
    kind = 'not-found';
  const errorText = texts.find((text) => /Failed to pull image|ErrImagePull: /.test(text)) ?? texts[0];
  return { kind, evidence, container, image, errorText, explicit: kind !== 'unexplained' };
}

/** The failing image was introduced by the newest revision (a typo in a release is the usual cause). */
function imageChangedRecently(facts: Facts, pull: PullAnalysis): boolean {
  const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects, facts.pods);
  if (history.changedImage?.to && pull.image && history.changedImage.to === pull.image) return true;
  return previousSuccessfulJobImage(facts, pull) !== undefined;
}

/** For a CronJob's failing run: the image the last successful Job of the same CronJob used. */
export function previousSuccessfulJobImage(
  facts: Facts,
  pull: { container?: string; image?: string },
): string | undefined {
  if (facts.workload?.kind !== 'CronJob') return undefined;
  const prefix = `${facts.workload.name}-`;
  for (const job of facts.objectsOfKind('Job').reverse()) {
    if (!job.name?.startsWith(prefix)) continue;
    if (!job.conditions.some((c) => c.type === 'Complete' && c.status === 'True')) continue;
    for (const entry of asArray(at(job.raw, 'spec', 'template', 'spec', 'containers'))) {
      const name = asString(at(entry, 'name'));
      const image = asString(at(entry, 'image'));
      if (image && image !== pull.image && (!pull.container || name === pull.container)) return image;
    }
  }
  return undefined;
}

function informative(message: string): number {
  if (/Failed to pull image/.test(message)) return 3;
  if (PULL_AUTH.test(message) || PULL_NOT_FOUND.test(message)) return 2;
  return /Back-off pulling image/.test(message) ? 1 : 0;
}

/**
 * Images the same container runs in the workload's other pods that are Ready (a StatefulSet or
 * DaemonSet mid-update, a Deployment's old ReplicaSet): known to exist and to run.
 */
function peerImages(facts: Facts, container: string | undefined): string[] {
  const owner = facts.workload;
  if (!owner) return [];
  const out: string[] = [];
  for (const pod of facts.pods) {
    if (pod === facts.primaryPod) continue;
    const peer = resolvePodOwner(pod, facts.ctx.objects);
    if (peer?.kind !== owner.kind || peer.name !== owner.name) continue;
    for (const view of pod.containers) {
      if ((container && view.name !== container) || view.status?.ready !== true || !view.image) continue;
      out.push(view.image);
    }
  }
  return out;
}

function pullFinding(
  facts: Facts,
  category: Category,
  pull: PullAnalysis,
  confidence: number,
  cause: string,
  factors: string[],
) {
  const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects, facts.pods);
  const changed =
    history.changedImage &&
    history.changedImage.container === (pull.container ?? history.changedImage.container)
      ? history.changedImage
      : undefined;
  const good = history.goodBecause !== undefined;
  const peers = peerImages(facts, pull.container).filter((image) => image !== pull.image);
  const jobImage = previousSuccessfulJobImage(facts, pull);
  // An image to go back to must be known to run: a revision with ready pods, Ready peers, a Job that completed.
  const previousImage = (good ? changed?.from : undefined) ?? peers[0] ?? jobImage;
  const suggestedImage = pull.image
    ? closestImage(
        pull.image,
        [changed?.from, ...peers, jobImage].filter((i): i is string => !!i),
      )
    : undefined;
  if (previousImage && !changed && jobImage) factors.push(`the last successful run used ${previousImage}`);
  if (peers[0] && !changed) factors.push(`the workload's other pods run ${peers[0]} and are Ready`);
  if (changed) {
    factors.push(
      `revision ${history.current?.revision} changed the image from ${changed.from} to ${changed.to}`,
    );
    factors.push(
      good
        ? `revision ${history.previous?.revision} is believed good: ${history.goodBecause}`
        : `nothing in the context shows that revision ${history.previous?.revision} ran well, so no rollback is proposed`,
    );
  }
  if (suggestedImage && category === 'image-pull-not-found') {
    factors.push(`did you mean ${suggestedImage}? ${pull.image} differs from it by a typo or a prefix`);
    cause = `${cause.replace(/\.$/, '')}; did you mean ${suggestedImage}?`;
  }
  const rollbackTo = changed && good ? history.previous : undefined;
  return finding(category, facts, {
    confidence,
    rootCause: cause,
    factors,
    evidence: pull.evidence,
    details: {
      container: pull.container,
      image: pull.image,
      pullError: pull.errorText,
      previousImage,
      suggestedImage,
      rollbackToRevision: rollbackTo?.revision,
      currentRevision: history.current?.revision,
      revisionChange: history.changes.join('; ') || undefined,
      goodRevisionEvidence: rollbackTo ? history.goodBecause : undefined,
    },
  });
}

export const imagePullNotFoundRule: Rule = {
  category: 'image-pull-not-found',
  evaluate(facts) {
    const pull = analyzePull(facts);
    if (!pull) return undefined;
    const where = containerPhrase(facts, pull.container);
    const image = pull.image ? `image ${pull.image}` : 'its image';
    if (pull.kind === 'not-found') {
      return pullFinding(
        facts,
        'image-pull-not-found',
        pull,
        CONFIDENCE.certain - 0.02,
        `${where} cannot start: the registry reports that ${image} does not exist (wrong tag or repository), so the kubelet backs off pulling it.`,
        [],
      );
    }
    if (pull.kind === 'unexplained') {
      return pullFinding(
        facts,
        'image-pull-not-found',
        pull,
        CONFIDENCE.weak + 0.1,
        `${where} cannot pull ${image}; the runtime's error text is not available, so a missing tag and missing credentials are both possible.`,
        ['no pull error text was given: not-found and authorization failures look the same without it'],
      );
    }
    if (pull.kind === 'ambiguous') {
      const changed = imageChangedRecently(facts, pull);
      return pullFinding(
        facts,
        'image-pull-not-found',
        pull,
        changed ? CONFIDENCE.moderate + 0.05 : CONFIDENCE.weak,
        `${where} cannot pull ${image}: the registry says the repository does not exist or needs authorization.`,
        ['the registry message is the same for a missing and a private repository'],
      );
    }
    return undefined;
  },
};

export const imagePullAuthRule: Rule = {
  category: 'image-pull-auth',
  evaluate(facts) {
    const pull = analyzePull(facts);
    if (!pull) return undefined;
    const where = containerPhrase(facts, pull.container);
    const image = pull.image ? `image ${pull.image}` : 'its image';
    const secrets = facts.primaryPod?.spec.imagePullSecrets;
    const hasSecrets = Array.isArray(secrets) && secrets.length > 0;
    const factors = [
      hasSecrets ? 'the pod references imagePullSecrets' : 'the pod references no imagePullSecrets',
    ];
    if (pull.kind === 'auth') {
      return pullFinding(
        facts,
        'image-pull-auth',
        pull,
        CONFIDENCE.certain - 0.02,
        `${where} cannot pull ${image}: the registry refuses the pull as unauthorized (${hasSecrets ? 'the pull secret is missing, wrong or expired' : 'no pull secret is configured'}).`,
        factors,
      );
    }
    if (pull.kind === 'rate-limit') {
      return pullFinding(
        facts,
        'image-pull-auth',
        pull,
        CONFIDENCE.moderate - 0.05,
        `${where} cannot pull ${image}: the registry rate-limits anonymous pulls (429 Too Many Requests).`,
        [...factors, 'rate limits are transient; authenticated pulls or a mirror avoid them'],
      );
    }
    if (pull.kind === 'ambiguous') {
      // Docker-style registries say the same for a missing and a private repository: the context
      // decides. An image that used to pull and did not change points at credentials.
      const registry = pull.image?.split('/')[0] ?? '';
      const credentials =
        hasSecrets ||
        facts
          .objectsOfKind('Secret')
          .some(
            (s) =>
              /dockerconfigjson|dockercfg/.test(String(s.raw.type ?? '')) ||
              (registry.includes('.') &&
                s.name !== undefined &&
                JSON.stringify(s.raw.metadata ?? {}).includes(registry)),
          );
      const confidence = imageChangedRecently(facts, pull)
        ? CONFIDENCE.weak - 0.05
        : credentials
          ? CONFIDENCE.moderate
          : CONFIDENCE.weak + 0.1;
      return pullFinding(
        facts,
        'image-pull-auth',
        pull,
        confidence,
        `${where} cannot pull ${image}: the registry says the repository does not exist or requires authorization, and ${hasSecrets ? 'a pull secret is configured' : 'no pull secret is configured'}.`,
        factors,
      );
    }
    return undefined;
  },
};
