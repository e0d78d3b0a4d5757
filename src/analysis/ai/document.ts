/**
 * The incident as a bounded JSON document for a model: pods, events, objects, metrics and retained
 * log lines, every string sanitised (control characters stripped, cut), redacted and — optionally —
 * pseudonymised, then indexed so that the model's quotes can be checked verbatim. The rules'
 * findings go along as hints.
 *
 * Everything here is DATA: the prompt frames it as untrusted, and `<`/`>` are JSON-escaped so that
 * nothing inside can close the delimiters around it.
 */
import { type EvidenceKind, type EvidenceOrigin, objectLabel } from '../../domain/index.js';
import type { Finding } from '../finding.js';
import type { IncidentContext, KubernetesObject, PodView } from '../../context/model.js';
import {
  isImportantLine,
  retainedLines,
  sanitizeLogLine,
  type LogSummary,
} from '../../context/log-summary.js';
import { EvidenceIndex } from './evidence.js';
import type { Pseudonymizer, Redactor } from './redaction.js';

export interface DocumentLimits {
  /** Upper bound of the rendered document, in characters. */
  readonly maxChars: number;
  readonly maxLogLines: number;
  readonly maxEvents: number;
  readonly maxObjects: number;
  readonly maxStringChars: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxChars: 40_000,
  maxLogLines: 160,
  maxEvents: 40,
  maxObjects: 20,
  maxStringChars: 1_000,
};

/** Sanitise → redact → pseudonymise: the one path from incident text to the model's view. */
export class Scrubber {
  readonly redactor: Redactor;
  readonly pseudonymizer?: Pseudonymizer;

  constructor(redactor: Redactor, pseudonymizer?: Pseudonymizer) {
    this.redactor = redactor;
    if (pseudonymizer) this.pseudonymizer = pseudonymizer;
  }

  text(input: string, maxLength = DEFAULT_DOCUMENT_LIMITS.maxStringChars): string {
    const redacted = this.redactor.text(sanitizeLogLine(input, maxLength * 2));
    const cut = redacted.length > maxLength ? `${redacted.slice(0, maxLength)}…` : redacted;
    return this.pseudonymizer ? this.pseudonymizer.apply(cut) : cut;
  }

  lines(input: readonly string[], maxLength = 2_000): string[] {
    const redacted = this.redactor.lines(input.map((line) => sanitizeLogLine(line, maxLength)));
    return this.pseudonymizer ? redacted.map((line) => this.pseudonymizer!.apply(line)) : redacted;
  }

  /** Prune (depth, array length, string length), sanitise every string, redact by shape and text. */
  value(input: unknown, options: PruneOptions = DEFAULT_PRUNE): unknown {
    const pruned = prune(input, options, 0);
    const redacted = this.redactor.value(pruned);
    return this.pseudonymizer ? this.pseudonymizer.applyDeep(redacted) : redacted;
  }
}

export interface PruneOptions {
  readonly maxDepth: number;
  readonly maxArray: number;
  readonly maxString: number;
}

export const DEFAULT_PRUNE: PruneOptions = { maxDepth: 10, maxArray: 30, maxString: 1_000 };

const NOISE_FIELDS = new Set(['managedFields']);
const NOISE_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/desired-replicas',
]);

/** Bound depth, array length and string length; strip control characters and API noise. Pure. */
export function prune(value: unknown, options: PruneOptions, depth = 0): unknown {
  if (typeof value === 'string') {
    const clean = sanitizeLogLine(value, options.maxString);
    return clean;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= options.maxDepth) return '…';
  if (Array.isArray(value)) {
    const items = value.slice(0, options.maxArray).map((item) => prune(item, options, depth + 1));
    if (value.length > options.maxArray) items.push(`… ${value.length - options.maxArray} more`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (NOISE_FIELDS.has(key)) continue;
    if (key === 'annotations' && item && typeof item === 'object') {
      out[key] = prune(
        Object.fromEntries(Object.entries(item).filter(([name]) => !NOISE_ANNOTATIONS.has(name))),
        options,
        depth + 1,
      );
      continue;
    }
    out[sanitizeLogLine(key, 200)] = prune(item, options, depth + 1);
  }
  return out;
}

function podDocument(pod: PodView): Record<string, unknown> {
  const container = (view: PodView['containers'][number]): Record<string, unknown> => ({
    name: view.name,
    ...(view.init ? { init: true } : {}),
    spec: {
      image: view.image,
      command: view.spec.command,
      args: view.spec.args,
      resources: view.spec.resources,
      ports: view.spec.ports,
      livenessProbe: view.liveness?.raw,
      readinessProbe: view.readiness?.raw,
      startupProbe: view.startup?.raw,
      // Names only: values may be secrets, and references are what diagnosis needs.
      env: view.envNames,
      envFrom: view.spec.envFrom,
      volumeMounts: view.spec.volumeMounts,
      securityContext: view.spec.securityContext,
      imagePullPolicy: view.spec.imagePullPolicy,
    },
    ...(view.status
      ? {
          status: {
            ready: view.status.ready,
            started: view.status.started,
            restartCount: view.status.restartCount,
            state: view.status.state,
            lastState: view.status.lastState,
            image: view.status.image,
          },
        }
      : {}),
  });
  const spec = pod.spec;
  return {
    name: pod.name,
    namespace: pod.namespace,
    owners: pod.ownerReferences.map((owner) => `${owner.kind}/${owner.name}`),
    labels: pod.labels,
    spec: {
      nodeName: pod.nodeName,
      serviceAccountName: spec.serviceAccountName,
      nodeSelector: spec.nodeSelector,
      affinity: spec.affinity,
      tolerations: spec.tolerations,
      topologySpreadConstraints: spec.topologySpreadConstraints,
      securityContext: spec.securityContext,
      volumes: spec.volumes,
      imagePullSecrets: spec.imagePullSecrets,
      priorityClassName: spec.priorityClassName,
    },
    status: {
      phase: pod.phase,
      reason: pod.reason,
      message: pod.message,
      conditions: pod.conditions,
      deleting: pod.deleting || undefined,
    },
    containers: [...pod.initContainers, ...pod.containers].map(container),
  };
}

function objectDocument(object: KubernetesObject): Record<string, unknown> {
  const { status, ...rest } = object.raw as Record<string, unknown>;
  return { kind: object.kind, namespace: object.namespace, name: object.name, manifest: rest, status };
}

function logLines(
  summary: LogSummary,
  limit: number,
): { lines: Array<{ index: number; line: string; repeats: number }>; omitted: number } {
  const all = retainedLines(summary);
  if (all.length <= limit) return { lines: all, omitted: 0 };
  // The end of the log (just before the exit) matters most; fill the rest with earlier error lines.
  const tailCount = Math.ceil(limit * 0.6);
  const tail = all.slice(-tailCount);
  const earlier = all.slice(0, all.length - tailCount);
  const important = earlier.filter((entry) => isImportantLine(entry.line));
  const rest = limit - tail.length;
  const chosen =
    important.length >= rest
      ? important.slice(-rest)
      : [
          ...important,
          ...earlier.filter((entry) => !isImportantLine(entry.line)).slice(0, rest - important.length),
        ];
  const lines = [...chosen, ...tail].sort((a, b) => a.index - b.index);
  return { lines, omitted: all.length - lines.length };
}

function kindOfPath(path: readonly string[], fixed: EvidenceKind | undefined): EvidenceKind {
  if (fixed === 'event' || fixed === 'log' || fixed === 'metric') return fixed;
  if (path.includes('conditions')) return 'condition';
  if (path.includes('status') || path.includes('state') || path.includes('lastState')) return 'status';
  return fixed ?? 'spec';
}

/**
 * Index every leaf string of a model-view value. Events, logs and metrics keep their kind; objects
 * get `condition`, `status` or `spec` from where the string sits.
 */
export function indexLeaves(
  index: EvidenceIndex,
  value: unknown,
  kind: EvidenceKind | undefined,
  origin: EvidenceOrigin,
  object: string | undefined,
  path: string[] = [],
): void {
  if (typeof value === 'string') {
    index.add({ text: value, kind: kindOfPath(path, kind), origin, ...(object ? { object } : {}) });
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) indexLeaves(index, item, kind, origin, object, path);
    return;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value))
      indexLeaves(index, item, kind, origin, object, [...path, key]);
  }
}

export interface IncidentDocument {
  /** JSON text for the prompt, with `<` and `>` escaped. */
  readonly json: string;
  readonly evidence: EvidenceIndex;
  /** The namespace the incident is about, in the model's view (pseudonym when enabled). */
  readonly namespace?: string;
  /** What was cut to fit the bounds. */
  readonly notes: readonly string[];
}

/** JSON that cannot close a surrounding `<…>` delimiter. */
export function escapeForPrompt(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
}

export function buildIncidentDocument(
  ctx: IncidentContext,
  hints: readonly Finding[],
  scrubber: Scrubber,
  namespace: string | undefined,
  limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS,
): IncidentDocument {
  const notes: string[] = [];
  let logLimit = limits.maxLogLines;
  let eventLimit = limits.maxEvents;
  let objectLimit = limits.maxObjects;
  let objectDepth = DEFAULT_PRUNE.maxDepth;

  const counts = scrubber.redactor.snapshot();
  for (let attempt = 0; ; attempt++) {
    // Each attempt redacts afresh: count only the attempt that is sent.
    scrubber.redactor.restore(counts);
    const index = new EvidenceIndex();
    const pods = ctx.pods.slice(0, 5).map((pod) => {
      const view = scrubber.value(podDocument(pod), { ...DEFAULT_PRUNE, maxDepth: objectDepth });
      const label = objectLabel({ kind: 'Pod', namespace: pod.namespace, name: pod.name });
      indexLeaves(index, view, undefined, pod.origin, label);
      index.add({ text: JSON.stringify(view), kind: 'status', origin: pod.origin, object: label });
      return view;
    });

    const events = [...ctx.events]
      .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''))
      .slice(0, eventLimit)
      .map((event) => {
        const object = objectLabel(event.object);
        const view = {
          line: scrubber.text(`${event.reason}: ${event.message}`),
          type: event.type,
          reason: scrubber.text(event.reason, 200),
          message: scrubber.text(event.message),
          count: event.count,
          object: scrubber.text(object, 300),
          lastSeen: event.lastSeen,
        };
        indexLeaves(index, { line: view.line, message: view.message }, 'event', event.origin, view.object);
        return view;
      });

    const objects = ctx.objects.slice(0, objectLimit).map((object) => {
      const view = scrubber.value(objectDocument(object), { ...DEFAULT_PRUNE, maxDepth: objectDepth });
      const label = scrubber.text(objectLabel(object), 300);
      indexLeaves(index, view, undefined, object.origin, label);
      index.add({ text: JSON.stringify(view), kind: 'spec', origin: object.origin, object: label });
      return view;
    });

    const metrics = Object.fromEntries(
      [...ctx.metrics.values()].slice(0, 40).map((series) => [
        scrubber.text(series.name, 200),
        {
          latest: series.latest,
          max: series.max,
          samples: series.samples,
          ...(series.text !== undefined ? { text: scrubber.text(series.text, 300) } : {}),
        },
      ]),
    );
    if (Object.keys(metrics).length > 0)
      index.add({ text: JSON.stringify(metrics), kind: 'metric', origin: 'input' });

    const logSection = (summary: LogSummary | undefined) => {
      if (!summary || summary.totalLines === 0) return undefined;
      const { lines, omitted } = logLines(summary, logLimit);
      const scrubbed = scrubber.lines(lines.map((entry) => entry.line));
      const origin = ctx.logsOrigin ?? 'input';
      scrubbed.forEach((text) => index.add({ text, kind: 'log', origin }));
      return {
        origin,
        totalLines: summary.totalLines,
        ...(omitted > 0 ? { omittedRetainedLines: omitted } : {}),
        lines: lines.map(
          (entry, position) =>
            `#${entry.index}${entry.repeats > 1 ? ` ×${entry.repeats}` : ''}| ${scrubbed[position] ?? ''}`,
        ),
      };
    };
    const logs = logSection(ctx.logs);
    const previousLogs = logSection(ctx.previousLogs);

    const ruleHints = hints.slice(0, 3).map((finding) => {
      const quotes = finding.evidence.map((item) => scrubber.text(item.quote));
      // The rules' quotes were taken from this context by our own code: they are evidence too.
      finding.evidence.forEach((item, position) =>
        index.add({
          text: quotes[position] ?? '',
          kind: item.kind,
          origin: item.origin,
          ...(item.object ? { object: scrubber.text(item.object, 300) } : {}),
        }),
      );
      return {
        category: finding.category,
        confidence: Number(finding.confidence.toFixed(2)),
        rootCause: scrubber.text(finding.rootCause),
        evidence: quotes,
      };
    });

    const document = {
      scope: {
        namespace: namespace !== undefined ? scrubber.text(namespace, 100) : null,
        target: ctx.target ? scrubber.value(ctx.target) : null,
        live: ctx.gathering.live,
        ...(ctx.gathering.partial
          ? { partial: ctx.gathering.notes.map((note) => scrubber.text(note, 300)) }
          : {}),
      },
      report: scrubber.text(ctx.issue, 2_000),
      pods,
      events,
      objects,
      metrics,
      ...(logs ? { logs } : {}),
      ...(previousLogs ? { previousLogs } : {}),
      ruleHints,
    };
    const json = escapeForPrompt(JSON.stringify(document));
    if (json.length <= limits.maxChars || attempt >= 8) {
      if (json.length > limits.maxChars)
        notes.push(`the incident document is ${json.length} characters, over the ${limits.maxChars} bound`);
      if (logLimit < limits.maxLogLines) notes.push(`log lines cut to ${logLimit} to fit the document bound`);
      if (objectLimit < Math.min(limits.maxObjects, ctx.objects.length))
        notes.push(`objects cut to ${objectLimit}`);
      return {
        json: json.length <= limits.maxChars ? json : `${json.slice(0, limits.maxChars)}…`,
        evidence: index,
        ...(document.scope.namespace !== null ? { namespace: document.scope.namespace } : {}),
        notes,
      };
    }
    // Too big: shrink logs first, then objects' depth and count, then events.
    if (logLimit > 20) logLimit = Math.max(20, Math.floor(logLimit / 2));
    else if (objectDepth > 4) objectDepth -= 3;
    else if (objectLimit > 3) objectLimit = Math.max(3, Math.floor(objectLimit / 2));
    else if (eventLimit > 10) eventLimit = Math.max(10, Math.floor(eventLimit / 2));
    else logLimit = Math.max(5, Math.floor(logLimit / 2));
  }
}
