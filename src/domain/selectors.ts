/**
 * Label selectors in the string form the API server's `labelSelector` parameter and `kubectl -l`
 * take: `a=b,c in (x,y),!d,e`. One helper for every layer that lists the pods of a workload or a
 * Service.
 *
 * Accepts both shapes Kubernetes uses:
 * - a `LabelSelector` (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, PDB …): `matchLabels`
 *   and `matchExpressions` (`In`, `NotIn`, `Exists`, `DoesNotExist`);
 * - an equality map (a Service's `spec.selector`, a ReplicationController's).
 *
 * Rendered as apimachinery's `LabelSelectorAsSelector(…).String()` does: requirements sorted by key
 * (stable), `In`/`NotIn` values sorted. `undefined` — "do not list by this" — for an empty selector
 * (which would match everything) and for one that is not valid (unknown operator, `In` without
 * values, a key or value that is not a label key or value): never a broader selector than the object
 * states.
 */

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type LabelSelectorOperator = (typeof LABEL_SELECTOR_OPERATORS)[number];

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: LabelSelectorOperator;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

const isLabelValue = (value: unknown): value is string => typeof value === 'string' && VALUE.test(value);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether `selector` has the `LabelSelector` shape rather than an equality map. */
function isLabelSelector(selector: Record<string, unknown>): boolean {
  return isPlainObject(selector.matchLabels) || Array.isArray(selector.matchExpressions);
}

interface Requirement {
  readonly key: string;
  readonly text: string;
}

function equalities(labels: Record<string, unknown>): Requirement[] | undefined {
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key) || !isLabelValue(value)) return undefined;
    out.push({ key, text: `${key}=${value}` });
  }
  return out;
}

function expression(requirement: unknown): Requirement | undefined {
  if (!isPlainObject(requirement)) return undefined;
  const { key, operator, values = [] } = requirement;
  if (typeof key !== 'string' || !isLabelKey(key) || !Array.isArray(values)) return undefined;
  if (!values.every(isLabelValue)) return undefined;
  switch (operator) {
    case 'In':
    case 'NotIn': {
      if (values.length === 0) return undefined;
      const sorted = [...values].sort();
      return { key, text: `${key} ${operator === 'In' ? 'in' : 'notin'} (${sorted.join(',')})` };
    }
    case 'Exists':
      return values.length === 0 ? { key, text: key } : undefined;
    case 'DoesNotExist':
      return values.length === 0 ? { key, text: `!${key}` } : undefined;
    default:
      return undefined;
  }
}

/** The `labelSelector` string for a `LabelSelector` or an equality map; see the module comment. */
export function selectorString(selector: unknown): string | undefined {
  if (!isPlainObject(selector)) return undefined;
  let requirements: Requirement[] | undefined;
  if (isLabelSelector(selector)) {
    const { matchLabels = {}, matchExpressions = [] } = selector;
    if (!isPlainObject(matchLabels) || !Array.isArray(matchExpressions)) return undefined;
    requirements = equalities(matchLabels);
    for (const item of matchExpressions) {
      const requirement = expression(item);
      if (!requirement || !requirements) return undefined;
      requirements.push(requirement);
    }
  } else {
    requirements = equalities(selector);
  }
  if (!requirements || requirements.length === 0) return undefined;
  return requirements
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((requirement) => requirement.text)
    .join(',');
}

/**
 * Whether `selector` (a `LabelSelector` or an equality map, as for `selectorString`) selects an
 * object with `labels`. An empty or absent selector selects nothing here — a Service without a
 * selector gets no endpoints, and kubemend never acts on "every pod" — and so does one with an
 * unknown operator.
 */
export function selectorMatches(
  selector: unknown,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!isPlainObject(selector) || !labels) return false;
  const has = (key: string): boolean => Object.hasOwn(labels, key);
  const equal = (entries: Record<string, unknown>): boolean =>
    Object.entries(entries).every(([key, value]) => has(key) && labels[key] === value);
  if (!isLabelSelector(selector)) return Object.keys(selector).length > 0 && equal(selector);
  const { matchLabels = {}, matchExpressions = [] } = selector;
  if (!isPlainObject(matchLabels) || !Array.isArray(matchExpressions)) return false;
  if (Object.keys(matchLabels).length + matchExpressions.length === 0) return false;
  return (
    equal(matchLabels) &&
    matchExpressions.every((requirement: unknown) => {
      if (!isPlainObject(requirement) || typeof requirement.key !== 'string') return false;
      const values: unknown[] = Array.isArray(requirement.values) ? requirement.values : [];
      const present = has(requirement.key);
      const member = present && values.includes(labels[requirement.key]);
      switch (requirement.operator) {
        case 'In':
          return member;
        case 'NotIn':
          return !member;
        case 'Exists':
          return present;
        case 'DoesNotExist':
          return !present;
        default:
          return false;
      }
    })
  );
}

const SELECTOR_KEY = String.raw`(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const SELECTOR_VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const SELECTOR_TERM = new RegExp(
  String.raw`^(?:!?${SELECTOR_KEY}|${SELECTOR_KEY}\s*(?:==?|!=)\s*${SELECTOR_VALUE}|${SELECTOR_KEY}\s+(?:in|notin)\s*\(\s*${SELECTOR_VALUE}(?:\s*,\s*${SELECTOR_VALUE})*\s*\))$`,
);

/**
 * Whether `text` is a label selector as `kubectl -l` takes it (`app=web,tier!=db`,
 * `env in (prod,staging)`, `!canary`): checked before it reaches the API server, so a typo is the
 * caller's error naming the field, not a refusal from the cluster.
 */
export function isSelectorString(text: string): boolean {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      terms.push(text.slice(start, index));
      start = index + 1;
    }
    if (depth < 0 || depth > 1) return false;
  }
  terms.push(text.slice(start));
  return depth === 0 && terms.every((term) => SELECTOR_TERM.test(term.trim()));
}
