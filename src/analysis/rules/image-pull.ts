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
  const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects);
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

function pullFinding(
  facts: Facts,
  category: Category,
  pull: PullAnalysis,
  confidence: number,
  cause: string,
  factors: string[],
) {
  const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects);
  const previousImage =
    (history.changedImage &&
    history.changedImage.container === (pull.container ?? history.changedImage.container)
      ? history.changedImage.from
      : undefined) ?? previousSuccessfulJobImage(facts, pull);
  if (previousImage && !history.changedImage) factors.push(`the last successful run used ${previousImage}`);
  if (history.changedImage) {
    factors.push(
      `revision ${history.current?.revision} changed the image from ${history.changedImage.from} to ${history.changedImage.to}`,
    );
  }
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
      rollbackToRevision: history.changedImage ? history.previous?.revision : undefined,
      currentRevision: history.current?.revision,
      revisionChange: history.changes.join('; ') || undefined,
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
