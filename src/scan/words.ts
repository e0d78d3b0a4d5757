/**
 * Words → objects, purely: which of the cluster's namespaces and objects an issue written by a person
 * names ("the checkout service in the shop namespace is down"). Only names that exist are ever
 * returned; matching is case-insensitive and treats `-`, `_` and spaces alike ("payment api" finds
 * `payment-api`), a kind word next to a name decides between objects of the same name ("checkout
 * pod"), and `service` is a weak hint (people call workloads services), `svc` a strong one.
 */
import { targetKindOf, type TargetKind } from '../domain/index.js';

export interface NamedObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** Where a name occurs in the text, and how much of the text it covers. */
interface Occurrence {
  readonly index: number;
  readonly length: number;
}

/** When a name occurs with several kinds and no kind word decides: the one a person means most. */
const KIND_PREFERENCE: readonly string[] = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
  'Job',
  'Pod',
  'Service',
  'HorizontalPodAutoscaler',
  'PersistentVolumeClaim',
  'Node',
];

/** Words that name a kind in prose, beyond kubectl's spellings. */
const PROSE_KINDS: Readonly<Record<string, TargetKind>> = {
  autoscaler: 'HorizontalPodAutoscaler',
  volume: 'PersistentVolumeClaim',
  claim: 'PersistentVolumeClaim',
  cron: 'CronJob',
};

/** Namespace names that are also ordinary words: accepted only next to "namespace" or after `-n`. */
const COMMON_WORDS = new Set([
  'default',
  'test',
  'app',
  'apps',
  'system',
  'data',
  'web',
  'api',
  'prod',
  'dev',
]);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where `name` occurs as a whole word (dashes, underscores and spaces interchangeable). */
export function occurrences(text: string, name: string): Occurrence[] {
  const pattern = name.toLowerCase().split(/[-_]/).map(escape).join('[-_\\s]+');
  const regex = new RegExp(`(?<![a-z0-9._-])${pattern}(?![a-z0-9_]|-[a-z0-9])`, 'gi');
  const out: Occurrence[] = [];
  for (const match of text.matchAll(regex)) out.push({ index: match.index, length: match[0].length });
  return out;
}

/** The namespace names of `known` that the text names, best first. */
export function namespacesNamed(text: string, known: readonly string[]): string[] {
  const explicit = explicitNamespaces(text);
  const scored: Array<{ name: string; score: number; index: number }> = [];
  for (const name of known) {
    const found = occurrences(text, name);
    if (found.length === 0) continue;
    const isExplicit = explicit.includes(name.toLowerCase());
    if (COMMON_WORDS.has(name) && !isExplicit) continue;
    scored.push({ name, score: isExplicit ? 1 : 0, index: found[0]!.index });
  }
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map((entry) => entry.name);
}

/** Namespaces the text names explicitly: `-n shop`, `namespace shop`, `shop namespace`, `ns/shop`. */
export function explicitNamespaces(text: string): string[] {
  const name = '([a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)';
  const patterns = [
    new RegExp(`(?:^|\\s)(?:-n|--namespace)[=\\s]+${name}`, 'gi'),
    new RegExp(`\\bnamespaces?[:\\s]+(?:called\\s+|named\\s+)?["'\`]?${name}`, 'gi'),
    new RegExp(`${name}["'\`]?\\s+namespace\\b`, 'gi'),
    new RegExp(`\\bns[/:\\s]+${name}`, 'gi'),
  ];
  const out: string[] = [];
  for (const pattern of patterns)
    for (const match of text.matchAll(pattern)) {
      const found = match[1]?.toLowerCase();
      if (found && !['the', 'a', 'my', 'our', 'this', 'that', 'in', 'of'].includes(found)) out.push(found);
    }
  return out;
}

/** The kind a word right before or after a name stands for, and whether it is a strong hint. */
function kindNear(text: string, occurrence: Occurrence): { kind: TargetKind; strong: boolean } | undefined {
  const before = /([a-z]+)[\s/]+$/i.exec(
    text.slice(Math.max(0, occurrence.index - 30), occurrence.index),
  )?.[1];
  const after = /^(?:'s)?\s+([a-z]+)/i.exec(text.slice(occurrence.index + occurrence.length))?.[1];
  for (const word of [before, after]) {
    if (!word) continue;
    const lower = word.toLowerCase();
    const kind = targetKindOf(lower) ?? PROSE_KINDS[lower];
    if (kind) return { kind, strong: !(kind === 'Service' && /^services?$/.test(lower)) };
  }
  return undefined;
}

export interface WordMatch {
  /** The object the text most likely means. */
  readonly chosen: NamedObject;
  /** Every other object whose name the text contains. */
  readonly others: NamedObject[];
  /** Why the chosen one (for the answer's note). */
  readonly reason: string;
}

/**
 * The object of `objects` the text names: the longest name mentioned first; among objects of that
 * name, the kind a neighbouring word names, else the workload a person would mean.
 */
export function objectNamed(text: string, objects: readonly NamedObject[]): WordMatch | undefined {
  const hits: Array<{
    object: NamedObject;
    occurrence: Occurrence;
    hint?: { kind: TargetKind; strong: boolean };
  }> = [];
  const byName = new Map<string, NamedObject[]>();
  for (const object of objects) {
    const list = byName.get(object.name);
    if (list) list.push(object);
    else byName.set(object.name, [object]);
  }
  for (const [name, sameName] of byName) {
    const found = occurrences(text, name);
    if (found.length === 0) continue;
    for (const occurrence of found) {
      const hint = kindNear(text, occurrence);
      for (const object of sameName) hits.push({ object, occurrence, ...(hint ? { hint } : {}) });
    }
  }
  if (hits.length === 0) return undefined;
  // A name inside a longer matched name ("checkout" in "checkout api") is not a mention of its own.
  const spans = hits.map((hit) => hit.occurrence);
  const standalone = hits.filter(
    (hit) =>
      !spans.some(
        (span) =>
          span.length > hit.occurrence.length &&
          span.index <= hit.occurrence.index &&
          span.index + span.length >= hit.occurrence.index + hit.occurrence.length,
      ),
  );
  const first = Math.min(...standalone.map((hit) => hit.occurrence.index));
  const mentioned = standalone.filter((hit) => hit.occurrence.index === first);
  // A strong kind word decides; "service" alone does not outrank a workload of the same name.
  const rank = (hit: (typeof mentioned)[number]): number => {
    if (hit.hint?.strong && hit.hint.kind === hit.object.kind) return -1;
    const preference = KIND_PREFERENCE.indexOf(hit.object.kind);
    return preference < 0 ? KIND_PREFERENCE.length : preference;
  };
  const best = [...mentioned].sort((a, b) => rank(a) - rank(b))[0]!;
  const chosen = best.object;
  const others = unique(hits.map((hit) => hit.object)).filter((object) => object !== chosen);
  const reason =
    best.hint?.strong && best.hint.kind === chosen.kind
      ? `the issue names ${chosen.kind.toLowerCase()} "${chosen.name}"`
      : `the issue names "${chosen.name}"${mentioned.length > 1 ? `, and a ${chosen.kind} is what a person changes` : ''}`;
  return { chosen, others, reason };
}

function unique(objects: readonly NamedObject[]): NamedObject[] {
  return [...new Set(objects)];
}
