/**
 * The comparison at the heart of shadow mode (ADR 0035): given what a proposal would have changed
 * (the object before, and as the server-side dry-run said it would be) and the object as it is
 * now, did a person change it the way the proposal would have (`matched`), differently
 * (`contradicted`), or not at all (`unchanged`)? Pure: objects in, verdict out.
 *
 * - The proposal's fields are the leaves of `spec` and `data` that differ between before and the
 *   dry-run's object (metadata is bookkeeping: controllers write revision annotations there).
 * - A field moved "the same way" when: for an ordered value (resource quantities, replica counts,
 *   probe timings, deadlines) it moved in the same direction from before (memory raised, replicas
 *   increased); for a restart stamp (`…/restartedAt`) it changed at all; for anything else (image,
 *   port, command, a whole object) it now equals the proposed value.
 * - Any proposed field moved the other way → contradicted. None did but other fields of the spec
 *   changed (a different image instead of more memory) → contradicted. At least one proposed field
 *   moved the same way and none the other → matched (a person may change more besides).
 * - `create`: the object now exists → matched. `delete`: the object is gone or is another object
 *   (another uid) → matched.
 * - Changes made only by controllers (every field manager that wrote during the window is a known
 *   controller, e.g. the HPA scaling through kube-controller-manager) are not a person's: unchanged.
 */
import { type ActionType, canonicalJson, parseQuantity, type ShadowFieldChange } from '../domain/index.js';

export type Verdict = 'unchanged' | 'matched' | 'contradicted';

type Json = Record<string, unknown>;

export interface ComparisonInput {
  readonly type: ActionType;
  /** The object before (undefined for `create`). */
  readonly before?: Json;
  /** The object as the dry-run said it would be (undefined for `delete`). */
  readonly proposed?: Json;
  /** The object now (undefined: it does not exist). */
  readonly observed?: Json;
  /** Field managers that wrote the object during the window, when known. */
  readonly changedBy?: readonly string[];
}

export interface Comparison {
  readonly verdict: Verdict;
  readonly fields: readonly ShadowFieldChange[];
  /** In words, for the session's detail and the report. */
  readonly reason: string;
}

/** Field managers of Kubernetes' own controllers: their writes are not a person's decision. */
export const CONTROLLER_MANAGERS: ReadonlySet<string> = new Set([
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'cluster-autoscaler',
  'vpa-updater',
]);

const ORDERED_LEAVES = new Set([
  'replicas',
  'minReplicas',
  'maxReplicas',
  'initialDelaySeconds',
  'periodSeconds',
  'timeoutSeconds',
  'failureThreshold',
  'activeDeadlineSeconds',
  'backoffLimit',
  'progressDeadlineSeconds',
  'terminationGracePeriodSeconds',
]);

const RESTART_STAMP = 'kubectl.kubernetes.io/restartedAt';

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** The compared part of an object: `spec` and `data`. */
function desired(object: Json | undefined): Json {
  return { spec: object?.['spec'] ?? null, data: object?.['data'] ?? null };
}

/** Leaf paths (as keys) where `a` and `b` differ; objects and arrays are walked, other values are leaves. */
export function differingPaths(a: unknown, b: unknown, prefix: readonly string[] = []): string[][] {
  if (same(a, b)) return [];
  const bothObjects = isObject(a) && isObject(b);
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  if (!bothObjects && !bothArrays) return [[...prefix]];
  const keys = bothArrays
    ? Array.from({ length: Math.max(a.length, b.length) }, (_, i) => String(i))
    : [...new Set([...Object.keys(a as Json), ...Object.keys(b as Json)])].sort();
  return keys.flatMap((key) => differingPaths(child(a, key), child(b, key), [...prefix, key]));
}

function child(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value[Number(key)];
  return isObject(value) ? value[key] : undefined;
}

/** The value at a path of keys (array indices as strings). */
export function valueAt(object: unknown, keys: readonly string[]): unknown {
  let current: unknown = object;
  for (const key of keys) current = child(current, key);
  return current;
}

function isOrdered(path: string): boolean {
  const leaf = path.slice(path.lastIndexOf('.') + 1);
  return path.includes('.resources.') || path.startsWith('resources.') || ORDERED_LEAVES.has(leaf);
}

type Movement = 'same' | 'toward' | 'against';

/** How one proposed field moved from before, relative to the proposal. */
export function movement(path: string, before: unknown, proposed: unknown, observed: unknown): Movement {
  if (same(observed, before)) return 'same';
  if (path.endsWith(RESTART_STAMP)) return 'toward';
  if (isOrdered(path)) {
    const [b, p, o] = [parseQuantity(before), parseQuantity(proposed), parseQuantity(observed)];
    if (b !== undefined && p !== undefined && o !== undefined)
      return Math.sign(o - b) === Math.sign(p - b) ? 'toward' : 'against';
  }
  return same(observed, proposed) ? 'toward' : 'against';
}

export function compareWithProposal(input: ComparisonInput): Comparison {
  const { type, before, proposed, observed } = input;
  const managers = input.changedBy ?? [];
  const controllersOnly = managers.length > 0 && managers.every((name) => CONTROLLER_MANAGERS.has(name));
  if (type === 'create') {
    return observed
      ? { verdict: 'matched', fields: [], reason: 'the object the proposal would have created now exists' }
      : { verdict: 'unchanged', fields: [], reason: 'the object was not created' };
  }
  if (type === 'delete') {
    const uid = (object: Json | undefined) => (object?.['metadata'] as Json | undefined)?.['uid'];
    if (!observed) return { verdict: 'matched', fields: [], reason: 'the object was deleted' };
    if (uid(before) !== undefined && uid(observed) !== uid(before))
      return { verdict: 'matched', fields: [], reason: 'the object was deleted and replaced' };
    return { verdict: 'unchanged', fields: [], reason: 'the object was not deleted' };
  }
  if (!observed) return { verdict: 'contradicted', fields: [], reason: 'the object was deleted instead' };
  const proposal = differingPaths(desired(before), desired(proposed));
  const fields: ShadowFieldChange[] = proposal.map((keys) => ({
    path: keys.join('.'),
    before: valueAt(desired(before), keys),
    proposed: valueAt(desired(proposed), keys),
    observed: valueAt(desired(observed), keys),
  }));
  const moves = fields.map((field) => movement(field.path, field.before, field.proposed, field.observed));
  const proposedPaths = new Set(fields.map((field) => field.path));
  const others = differingPaths(desired(before), desired(observed))
    .map((keys) => keys.join('.'))
    .filter((path) => !proposedPaths.has(path));
  const changed = moves.some((move) => move !== 'same') || others.length > 0;
  if (changed && controllersOnly)
    return {
      verdict: 'unchanged',
      fields,
      reason: `changed only by controllers (${managers.join(', ')}), not by a person`,
    };
  const against = fields.filter((_, i) => moves[i] === 'against');
  if (against.length > 0)
    return {
      verdict: 'contradicted',
      fields,
      reason: `changed differently from the proposal: ${against.map((field) => field.path).join(', ')}`,
    };
  const toward = fields.filter((_, i) => moves[i] === 'toward');
  if (toward.length > 0)
    return {
      verdict: 'matched',
      fields,
      reason: `changed as proposed: ${toward.map((field) => field.path).join(', ')}`,
    };
  if (others.length > 0)
    return {
      verdict: 'contradicted',
      fields,
      reason: `the proposed fields were left alone, others changed: ${others.slice(0, 5).join(', ')}`,
    };
  return { verdict: 'unchanged', fields, reason: 'no change to the spec' };
}
