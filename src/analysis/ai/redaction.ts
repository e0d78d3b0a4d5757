/**
 * Redaction: before anything leaves for a model provider, secrets are masked — private keys,
 * bearer/basic credentials, JWTs, cloud and SaaS tokens, connection strings with credentials,
 * `password=`-style pairs, Kubernetes Secret data and secret-named env values — plus configurable
 * extra patterns. Masks say what was masked (`[REDACTED:jwt]`), never the value; only counts are
 * reported. Optionally, names (namespace, workloads, pods, nodes) are pseudonymised and restored in
 * the answer.
 */
import type { IncidentContext } from '../../context/model.js';

export interface RedactionOptions {
  readonly enabled: boolean;
  /** Extra regular expressions (source text); each whole match is masked. */
  readonly extraPatterns?: readonly string[];
}

interface Rule {
  readonly kind: string;
  readonly pattern: RegExp;
  /** Builds the replacement from the match; the default masks the whole match. */
  readonly replace?: (match: string, ...groups: string[]) => string;
}

export const REDACTION_MARK = '[REDACTED';

const mask = (kind: string): string => `${REDACTION_MARK}:${kind}]`;

const SECRET_KEY =
  '[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|session[_-]?id|cookie|signature)[A-Za-z0-9_.-]*';

/** Names of fields and env vars whose values are secrets. */
const SECRET_NAME =
  /(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|session[_-]?id|cookie)/i;
/** …unless the field only refers to a secret (`secretName`, `tokenPath`, `passwordFile`). */
const REFERENCE_NAME = /(?:name|names|ref|path|file|mode|type|kind|namespace|seconds|audience|count)$/i;

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !REFERENCE_NAME.test(name);
}

const RULES: readonly Rule[] = [
  {
    kind: 'private-key',
    pattern:
      /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { kind: 'jwt', pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g },
  {
    kind: 'authorization',
    pattern:
      /\b((?:proxy-)?authorization|x-api-key|x-auth-token|api-key)(["']?\s*[:=]\s*["']?)(?:(bearer|basic|digest|token|negotiate|aws4-hmac-sha256)\s+)?[^\r\n"']+/gi,
    replace: (_match, name: string, separator: string, scheme: string | undefined) =>
      `${name}${separator}${scheme ? `${scheme} ` : ''}${mask('authorization')}`,
  },
  {
    kind: 'authorization',
    pattern: /\b(Bearer|Basic|Token)\s+(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/=])[A-Za-z0-9\-._~+/]{8,}=*/g,
    replace: (_match, scheme: string) => `${scheme} ${mask('authorization')}`,
  },
  {
    kind: 'connection-credentials',
    pattern: /\b([a-z][a-z0-9+.-]{1,30}):\/\/([^\s:@/?#"'<>]*):([^\s@/?#"'<>]+)@/gi,
    replace: (_match, scheme: string) => `${scheme}://${mask('credentials')}@`,
  },
  {
    kind: 'aws-access-key',
    pattern:
      /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  { kind: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { kind: 'gitlab-token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g },
  { kind: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'api-key', pattern: /\bsk-(?:ant-|proj-|live-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'stripe-key', pattern: /\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g },
  { kind: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}/g },
  {
    kind: 'secret',
    // An env entry serialised as JSON: {"name":"DB_PASSWORD","value":"…"}.
    pattern:
      /("name"\s*:\s*"[^"]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)[^"]*"\s*,\s*"value"\s*:\s*)"((?:[^"\\]|\\.)*)"/gi,
    replace: (match, prefix: string, secret: string) =>
      secret === '' || secret.startsWith(REDACTION_MARK) ? match : `${prefix}"${mask('secret')}"`,
  },
  {
    kind: 'secret',
    // The same in YAML: `- name: DB_PASSWORD` followed by `value: …` on the next line.
    pattern:
      /(name:\s*["']?[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)[A-Za-z0-9_.-]*["']?\s*\n\s*value:[ \t]*)([^\n]+)/gi,
    replace: (match, prefix: string, secret: string) =>
      secret.trim() === '' || secret.trim().startsWith(REDACTION_MARK) ? match : `${prefix}${mask('secret')}`,
  },
  {
    kind: 'secret',
    // key=value, key: value, "key": "value" (JSON), quoted values with spaces included.
    pattern: new RegExp(
      `(?<![A-Za-z0-9_.-])(${SECRET_KEY})(["']?\\s*[:=]\\s*)(?:"((?:[^"\\\\]|\\\\.)*)"|'([^']*)'|([^\\s"'<>]+))`,
      'gi',
    ),
    replace: (
      match,
      key: string,
      separator: string,
      doubleQuoted?: string,
      singleQuoted?: string,
      bare?: string,
    ) => {
      const secret = doubleQuoted ?? singleQuoted ?? bare ?? '';
      if (secret === '' || secret.startsWith(REDACTION_MARK)) return match;
      const quote = doubleQuoted !== undefined ? '"' : singleQuoted !== undefined ? "'" : '';
      return `${key}${separator}${quote}${mask('secret')}${quote}`;
    },
  },
];

const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----/;
const PEM_END = /-----END ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----/;

export class Redactor {
  private readonly rules: readonly Rule[];
  private readonly enabled: boolean;
  private total = 0;
  private readonly perKind = new Map<string, number>();

  constructor(options: RedactionOptions = { enabled: true }) {
    this.enabled = options.enabled;
    const extra = (options.extraPatterns ?? []).map((source): Rule => ({
      kind: 'custom',
      pattern: new RegExp(source, 'g'),
    }));
    // Custom patterns first: an operator's pattern wins over a generic one.
    this.rules = [...extra, ...RULES];
  }

  /** How many values were masked so far. */
  get count(): number {
    return this.total;
  }

  /** Masks per kind (`jwt`, `secret`, …); values are never kept. */
  get counts(): ReadonlyMap<string, number> {
    return this.perKind;
  }

  /** Counts now, to undo the counting of work that is thrown away (a document rebuilt smaller). */
  snapshot(): { readonly total: number; readonly perKind: ReadonlyMap<string, number> } {
    return { total: this.total, perKind: new Map(this.perKind) };
  }

  restore(snapshot: { readonly total: number; readonly perKind: ReadonlyMap<string, number> }): void {
    this.total = snapshot.total;
    this.perKind.clear();
    for (const [kind, count] of snapshot.perKind) this.perKind.set(kind, count);
  }

  private note(kind: string): void {
    this.total += 1;
    this.perKind.set(kind, (this.perKind.get(kind) ?? 0) + 1);
  }

  text(input: string): string {
    if (!this.enabled || input === '') return input;
    let out = input;
    for (const rule of this.rules) {
      rule.pattern.lastIndex = 0;
      if (!rule.pattern.test(out)) continue;
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
        if (match === '') return match;
        const groups = rest.filter(
          (item): item is string => typeof item === 'string' || item === undefined,
        ) as string[];
        const replaced = rule.replace ? rule.replace(match, ...groups) : mask(rule.kind);
        if (replaced !== match) this.note(rule.kind);
        return replaced;
      });
    }
    return out;
  }

  /**
   * Lines of one log: a private key spread over lines is masked from its BEGIN line to its END line,
   * whose body lines alone would not be recognisable.
   */
  lines(input: readonly string[]): string[] {
    if (!this.enabled) return [...input];
    const out: string[] = [];
    let inKey = false;
    let keyLines = 0;
    for (const line of input) {
      if (!inKey && PEM_BEGIN.test(line) && !PEM_END.test(line)) {
        inKey = true;
        keyLines = 0;
        out.push(this.text(line));
        continue;
      }
      if (inKey) {
        keyLines += 1;
        if (PEM_END.test(line) || keyLines > 200) {
          inKey = false;
          out.push(this.text(line.replace(/^[\s\S]*?(-----END )/, '$1')));
        } else {
          this.note('private-key');
          out.push(mask('private-key'));
        }
        continue;
      }
      out.push(this.text(line));
    }
    return out;
  }

  /**
   * Any JSON-like value, deeply: strings are redacted; Kubernetes Secret data, secret-named env
   * values and secret-named fields are masked by structure, whatever their shape.
   */
  value(input: unknown): unknown {
    if (!this.enabled) return input;
    return this.walk(input, undefined);
  }

  private walk(input: unknown, key: string | undefined): unknown {
    if (typeof input === 'string') {
      if (key !== undefined && isSecretName(key) && input !== '' && !input.startsWith(REDACTION_MARK)) {
        this.note('secret');
        return mask('secret');
      }
      return this.text(input);
    }
    if (Array.isArray(input)) {
      // A list of strings may be log lines: a private key can span several of them.
      if (input.length > 1 && input.every((item) => typeof item === 'string'))
        return this.lines(input as string[]);
      return input.map((item) => this.walk(item, undefined));
    }
    if (input === null || typeof input !== 'object') return input;
    const record = input as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const isSecretObject = record.kind === 'Secret';
    const envName = typeof record.name === 'string' && 'value' in record ? record.name : undefined;
    for (const [field, item] of Object.entries(record)) {
      if (
        isSecretObject &&
        (field === 'data' || field === 'stringData') &&
        item &&
        typeof item === 'object'
      ) {
        out[field] = Object.fromEntries(
          Object.keys(item).map((name) => {
            this.note('secret-data');
            return [name, mask('secret-data')];
          }),
        );
        continue;
      }
      if (field === 'value' && envName !== undefined && isSecretName(envName) && typeof item === 'string') {
        this.note('secret');
        out[field] = mask('secret');
        continue;
      }
      out[this.text(field)] = this.walk(item, field);
    }
    return out;
  }
}

/**
 * Stable tokens for names (namespace, workloads, pods, nodes), so that a provider never sees them;
 * the answer is restored before anything else reads it.
 */
export class Pseudonymizer {
  private readonly forward = new Map<string, string>();
  private readonly backward = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private pattern?: RegExp;
  private reversePattern?: RegExp;

  add(kind: string, name: string | undefined): void {
    if (!name || name.length < 3 || this.forward.has(name)) return;
    const index = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, index);
    const token = `anon-${kind}-${index}`;
    this.forward.set(name, token);
    this.backward.set(token, name);
    this.pattern = undefined;
    this.reversePattern = undefined;
  }

  get size(): number {
    return this.forward.size;
  }

  private static build(names: Iterable<string>): RegExp | undefined {
    const sorted = [...names].sort((a, b) => b.length - a.length).map(escapeRegExp);
    if (sorted.length === 0) return undefined;
    // Kubernetes names are DNS labels: `_` and `.` delimit them (`pod_namespace` in event messages).
    return new RegExp(`(?<![A-Za-z0-9-])(?:${sorted.join('|')})(?![A-Za-z0-9-])`, 'g');
  }

  apply(text: string): string {
    this.pattern ??= Pseudonymizer.build(this.forward.keys());
    const pattern = this.pattern;
    return pattern ? text.replace(pattern, (name) => this.forward.get(name) ?? name) : text;
  }

  restore(text: string): string {
    this.reversePattern ??= Pseudonymizer.build(this.backward.keys());
    const pattern = this.reversePattern;
    return pattern ? text.replace(pattern, (token) => this.backward.get(token) ?? token) : text;
  }

  applyDeep(value: unknown): unknown {
    return mapStrings(value, (text) => this.apply(text));
  }

  restoreDeep<T>(value: T): T {
    return mapStrings(value, (text) => this.restore(text)) as T;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [map(key), mapStrings(item, map)]),
  );
}

/**
 * The pseudonymizer of one analysis: the names known before the call — the workload, the namespace,
 * pods, their owners and nodes, other objects, event subjects, the target — in that order (which
 * fixes their tokens).
 */
export function incidentPseudonymizer(
  context: IncidentContext,
  namespace: string | undefined,
  workload: string | undefined,
): Pseudonymizer {
  const pseudonymizer = new Pseudonymizer();
  pseudonymizer.add('workload', workload);
  pseudonymizer.add('namespace', namespace);
  for (const pod of context.pods) {
    pseudonymizer.add('namespace', pod.namespace);
    pseudonymizer.add('pod', pod.name);
    pseudonymizer.add('node', pod.nodeName);
    for (const owner of pod.ownerReferences) pseudonymizer.add('workload', owner.name);
  }
  for (const object of context.objects) {
    pseudonymizer.add('namespace', object.namespace);
    pseudonymizer.add(object.kind === 'Node' ? 'node' : 'object', object.name);
  }
  for (const event of context.events) {
    pseudonymizer.add('namespace', event.object.namespace);
    pseudonymizer.add('object', event.object.name);
  }
  pseudonymizer.add('namespace', context.target?.namespace);
  pseudonymizer.add('object', context.target?.name);
  return pseudonymizer;
}
