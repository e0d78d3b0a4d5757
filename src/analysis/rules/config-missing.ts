import type { Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { containerPath, eventEvidence, statusEvidence } from '../facts.js';
import { eventContainer, waitingStates } from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';
import { closestName } from '../near-miss.js';

const OBJECT_NOT_FOUND = /\b(configmaps?|secrets?)\s+"([^"]+)"\s+not found/i;
const KEY_NOT_FOUND = /couldn't find key (\S+) in (ConfigMap|Secret) (?:([^/\s]+)\/)?(\S+)/;
const SERVICE_ACCOUNT =
  /error looking up service account ([^/\s]+)\/(\S+): serviceaccount "([^"]+)" not found/;
const RUN_AS_NON_ROOT = /runAsNonRoot|non-numeric user/;

interface Missing {
  configKind: 'ConfigMap' | 'Secret' | 'ServiceAccount';
  configName: string;
  configKey?: string;
}

export function parseMissingConfig(message: string): Missing | undefined {
  if (RUN_AS_NON_ROOT.test(message)) return undefined;
  const key = KEY_NOT_FOUND.exec(message);
  if (key?.[1] && key[2] && key[4]) {
    return {
      configKind: key[2] === 'Secret' ? 'Secret' : 'ConfigMap',
      configName: key[4],
      configKey: key[1],
    };
  }
  const object = OBJECT_NOT_FOUND.exec(message);
  if (object?.[1] && object[2]) {
    return {
      configKind: object[1].toLowerCase().startsWith('secret') ? 'Secret' : 'ConfigMap',
      configName: object[2],
    };
  }
  const account = SERVICE_ACCOUNT.exec(message);
  if (account?.[3]) return { configKind: 'ServiceAccount', configName: account[3] };
  return undefined;
}

export const configMissingRule: Rule = {
  category: 'config-missing',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    let missing: Missing | undefined;
    let container: string | undefined;
    let confidence = 0;

    for (const waiting of waitingStates(facts)) {
      if (waiting.reason !== 'CreateContainerConfigError' || !waiting.message) continue;
      const parsed = parseMissingConfig(waiting.message);
      if (!parsed) continue;
      missing ??= parsed;
      container ??= waiting.container.name;
      evidence.push(
        statusEvidence(
          waiting.pod,
          containerPath(waiting.container, 'state.waiting'),
          `CreateContainerConfigError: ${waiting.message}`,
        ),
      );
      confidence = CONFIDENCE.certain;
    }
    for (const event of facts.events) {
      if (!['Failed', 'FailedMount', 'FailedCreate', 'FailedCreatePodSandBox'].includes(event.reason))
        continue;
      const parsed = parseMissingConfig(event.message);
      if (!parsed) continue;
      missing ??= parsed;
      container ??= eventContainer(event);
      evidence.push(eventEvidence(event));
      confidence = Math.max(confidence, CONFIDENCE.strong);
    }
    if (!missing) return undefined;

    // A reference marked optional would not fail; a near-miss name suggests a typo.
    const sameKind = facts
      .objectsOfKind(missing.configKind)
      .map((object) => object.name ?? '')
      .filter(Boolean);
    const suggested = closestName(missing.configName, sameKind);
    const factors: string[] = [];
    if (suggested)
      factors.push(`a ${missing.configKind} named ${suggested} exists; the reference may be misspelt`);
    const exists = sameKind.includes(missing.configName);
    if (exists && missing.configKey)
      factors.push(`${missing.configKind} ${missing.configName} exists but has no key ${missing.configKey}`);

    const what = missing.configKey
      ? `key ${missing.configKey} in ${missing.configKind} ${missing.configName}`
      : `${missing.configKind} ${missing.configName}`;
    const consequence =
      missing.configKind === 'ServiceAccount'
        ? 'so the controller cannot create its pods'
        : 'so the kubelet cannot create the container (it never starts)';
    return finding('config-missing', facts, {
      confidence,
      rootCause: `${containerPhrase(facts, container)} references ${what}, which does not exist in namespace ${facts.namespace ?? '(unknown)'}, ${consequence}.`,
      factors,
      evidence,
      details: {
        container,
        configKind: missing.configKind,
        configName: missing.configName,
        configKey: missing.configKey,
        suggestedConfigName: suggested,
      },
    });
  },
};
