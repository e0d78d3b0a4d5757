/** Signal extraction shared by several rules: container states, scheduler messages, probe events. */
import type { ContainerView, NormalizedEvent, PodView } from '../context/model.js';
import type { Evidence } from '../domain/index.js';
import { containerPath, type Facts, type RetainedLine, statusEvidence } from './facts.js';

export interface Termination {
  readonly pod: PodView;
  readonly container: ContainerView;
  readonly which: 'state' | 'lastState';
  readonly reason?: string;
  readonly exitCode?: number;
  readonly message?: string;
  readonly finishedAt?: string;
}

export function terminations(facts: Facts): Termination[] {
  const out: Termination[] = [];
  for (const { pod, container } of facts.containers()) {
    const status = container.status;
    if (!status) continue;
    for (const which of ['state', 'lastState'] as const) {
      const terminated = status[which].terminated;
      if (!terminated) continue;
      out.push({
        pod,
        container,
        which,
        reason: terminated.reason,
        exitCode: terminated.exitCode,
        message: terminated.message,
        finishedAt: terminated.finishedAt,
      });
    }
  }
  return out;
}

/** The termination's reason and exit code, and its message (first 300 characters) when it has one. */
export function terminationEvidence(termination: Termination): Evidence[] {
  const path = containerPath(termination.container, `${termination.which}.terminated`);
  const evidence = [
    statusEvidence(
      termination.pod,
      path,
      `reason=${termination.reason ?? 'unknown'} exitCode=${termination.exitCode ?? 'unknown'}`,
    ),
  ];
  if (termination.message)
    evidence.push(
      statusEvidence(termination.pod, `${path}.message`, termination.message.trim().slice(0, 300)),
    );
  return evidence;
}

export interface Waiting {
  readonly pod: PodView;
  readonly container: ContainerView;
  readonly reason: string;
  readonly message?: string;
}

export function waitingStates(facts: Facts): Waiting[] {
  const out: Waiting[] = [];
  for (const { pod, container } of facts.containers()) {
    const waiting = container.status?.state.waiting;
    if (waiting?.reason) out.push({ pod, container, reason: waiting.reason, message: waiting.message });
  }
  return out;
}

export function maxRestarts(facts: Facts): number {
  let max = 0;
  for (const { container } of facts.containers()) max = Math.max(max, container.status?.restartCount ?? 0);
  return max;
}

/** A kubelet event about a specific container (`fieldPath: spec.containers{name}`), if it names one. */
export function eventContainer(event: NormalizedEvent): string | undefined {
  const match = /spec\.(?:init)?[cC]ontainers\{([^}]+)\}/.exec(event.object.fieldPath ?? '');
  if (match?.[1]) return match[1];
  const inMessage = /(?:container|Container) "?([a-z0-9][a-z0-9-]*)"?(?: in pod| failed)/.exec(event.message);
  return inMessage?.[1];
}

// ---------------------------------------------------------------------------------------------
// Scheduler: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {…}.`

export interface SchedulingFailure {
  readonly message: string;
  readonly total?: number;
  readonly reasons: ReadonlyArray<{ readonly count: number; readonly text: string }>;
  readonly event?: NormalizedEvent;
  readonly pod?: PodView;
}

export function parseSchedulerMessage(message: string): Pick<SchedulingFailure, 'total' | 'reasons'> {
  const head = /(\d+)\/(\d+) nodes are available:?\s*(.*)$/s.exec(message);
  if (!head) return { reasons: [{ count: 0, text: message }] };
  const total = Number(head[2]);
  let body = head[3] ?? '';
  const cut = body.search(/\.\s*(?:preemption:|no new claims)/);
  if (cut >= 0) body = body.slice(0, cut);
  body = body.replace(/\.\s*$/, '');
  const reasons: Array<{ count: number; text: string }> = [];
  // Entries are comma-joined, but taint entries contain braces with commas inside: split carefully.
  let depth = 0;
  let current = '';
  for (const char of body) {
    if (char === '{' || char === '[') depth++;
    if (char === '}' || char === ']') depth--;
    if (char === ',' && depth === 0) {
      pushReason(reasons, current);
      current = '';
    } else current += char;
  }
  pushReason(reasons, current);
  return { total, reasons };
}

function pushReason(reasons: Array<{ count: number; text: string }>, raw: string): void {
  const trimmed = raw.trim();
  if (!trimmed) return;
  const match = /^(\d+)\s+(.*)$/s.exec(trimmed);
  if (match) reasons.push({ count: Number(match[1]), text: (match[2] ?? '').trim() });
  else reasons.push({ count: 0, text: trimmed });
}

export function schedulingFailures(facts: Facts): SchedulingFailure[] {
  const out: SchedulingFailure[] = [];
  for (const event of facts.eventsWithReason('FailedScheduling')) {
    out.push({ message: event.message, ...parseSchedulerMessage(event.message), event });
  }
  for (const pod of facts.pods) {
    const scheduled = pod.conditions.find((condition) => condition.type === 'PodScheduled');
    if (
      scheduled?.status === 'False' &&
      scheduled.message &&
      !out.some((f) => f.message === scheduled.message)
    ) {
      out.push({ message: scheduled.message, ...parseSchedulerMessage(scheduled.message), pod });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Probes: `Liveness probe failed: Get "http://10.0.0.5:8081/healthz": dial tcp …: connect: connection refused`

export interface ProbeFailure {
  readonly probe: 'liveness' | 'readiness' | 'startup';
  readonly event: NormalizedEvent;
  readonly kind: 'connection-refused' | 'http-status' | 'timeout' | 'exec' | 'other';
  readonly port?: number;
  readonly path?: string;
  readonly status?: number;
}

const PROBE_MESSAGE = /^(Liveness|Readiness|Startup) probe (?:failed|errored)/;

export function probeFailures(facts: Facts): ProbeFailure[] {
  const out: ProbeFailure[] = [];
  for (const event of facts.eventsWithReason('Unhealthy', 'ProbeWarning')) {
    const match = PROBE_MESSAGE.exec(event.message);
    if (!match?.[1]) continue;
    const probe = match[1].toLowerCase() as ProbeFailure['probe'];
    out.push({ probe, event, ...classifyProbeOutput(event.message) });
  }
  return out;
}

export function classifyProbeOutput(message: string): Omit<ProbeFailure, 'probe' | 'event'> {
  const url = /"https?:\/\/[^/:"]+:(\d+)(\/[^"\s]*)?"/.exec(message);
  const dial = /dial tcp [^:\s]+:(\d+)/.exec(message);
  const port = url?.[1] ? Number(url[1]) : dial?.[1] ? Number(dial[1]) : undefined;
  const path = url?.[2];
  const statusMatch = /statuscode: (\d{3})/.exec(message);
  if (/connection refused|connect: no route|ECONNREFUSED/i.test(message)) {
    return { kind: 'connection-refused', port, path };
  }
  if (statusMatch?.[1]) return { kind: 'http-status', status: Number(statusMatch[1]), port, path };
  if (/timeout|deadline exceeded|timed out/i.test(message)) return { kind: 'timeout', port, path };
  if (/probe failed: \S/.test(message) && !url) return { kind: 'exec', port, path };
  return { kind: 'other', port, path };
}

export function livenessKills(facts: Facts): NormalizedEvent[] {
  return facts.events.filter(
    (event) =>
      event.reason === 'Killing' &&
      /failed (?:liveness|startup) probe|failed (?:liveness|startup)/i.test(event.message),
  );
}

// ---------------------------------------------------------------------------------------------
// Image pulls

export const PULL_NOT_FOUND =
  /not found|manifest unknown|code = NotFound|name unknown|invalid reference format|couldn't parse image|InvalidImageName|does not exist(?!.*authorization)|no such image/i;
export const PULL_AUTH =
  /401 Unauthorized|403 Forbidden|unauthorized|authorization failed|no basic auth credentials|insufficient_scope|authentication required|denied: requested access|access denied|FailedToRetrieveImagePullSecret|Unable to retrieve some image pull secrets/i;
export const PULL_AMBIGUOUS = /pull access denied, repository does not exist or may require authorization/i;
export const PULL_RATE_LIMIT = /429 Too Many Requests|toomanyrequests|pull rate limit/i;
export const PULL_NETWORK =
  /no such host|i\/o timeout|x509:|connection refused|TLS handshake timeout|network is unreachable/i;

export function pullEvents(facts: Facts): NormalizedEvent[] {
  return facts.events.filter(
    (event) =>
      (event.reason === 'Failed' &&
        /Failed to pull image|ErrImagePull|ImagePullBackOff|InvalidImageName/.test(event.message)) ||
      (event.reason === 'BackOff' && /Back-off pulling image/.test(event.message)) ||
      event.reason === 'InspectFailed' ||
      event.reason === 'ErrImageNeverPull' ||
      event.reason === 'FailedToRetrieveImagePullSecret',
  );
}

export const PULL_WAITING_REASONS = [
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'ImageInspectError',
];

export function imageFromPullMessage(message: string): string | undefined {
  return /(?:image|pulling image|Back-off pulling image) "([^"]+)"/i.exec(message)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Crash explanations in application logs

const CRASH_PRIORITY: readonly RegExp[] = [
  /\bpanic:|fatal error:|FATAL|\bfatal\b|Traceback|Unhandled|uncaught|Exception in thread|SIGSEGV|segmentation fault|core dumped/i,
  /^\w*(?:Error|Exception)\b[:(]|\b\w+(?:Error|Exception): |\bERROR\b|level=error|"level":\s*"error"|\berror:|\[error\]/i,
  /fail(?:ed|ure)|cannot|can't|unable to|refused|denied|not found|missing|invalid/i,
];

/**
 * The line of a container's own output (see `Facts.ownLines`) that best explains why its process
 * exited: fatal lines first, newest first.
 */
export function crashLine(facts: Facts, container?: string): RetainedLine | undefined {
  for (const pattern of CRASH_PRIORITY) {
    const line = facts.findOwnLog(pattern, container);
    if (line) return line;
  }
  return undefined;
}

const NOT_ENV_NAMES = new Set([
  'FATAL',
  'ERROR',
  'WARN',
  'WARNING',
  'INFO',
  'DEBUG',
  'TRACE',
  'PANIC',
  'HTTP',
  'HTTPS',
  'URL',
  'API',
  'JSON',
  'YAML',
  'SQL',
  'TLS',
  'SSL',
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'NULL',
  'NONE',
  'TRUE',
  'FALSE',
  'UTC',
  'ENV',
  'OOM',
  'JVM',
  'CRITICAL',
  'EXIT',
  'CONFIG',
  'REQUIRED',
  'MISSING',
  'NOT',
  'SET',
  'THE',
  'AND',
  'KEY',
  'UUID',
  'PID',
]);

const ENV_PATTERNS: readonly RegExp[] = [
  /(?:environment variable|env var(?:iable)?|env)\s*[:=]?\s*["'`]?([A-Z][A-Z0-9_]{2,})\b/i,
  /\b([A-Z][A-Z0-9_]{2,})["'`]?\s+(?:is required|must be set|is not set|not set|is missing|is undefined|is empty|must be defined|environment variable)/,
  /(?:missing|required|undefined|unset|not set)\s+(?:required\s+)?(?:environment\s+)?(?:variable\s+|setting\s+|config(?:uration)?\s+)?["'`]?([A-Z][A-Z0-9_]{2,})\b/i,
  /KeyError: ["']([A-Z][A-Z0-9_]{2,})["']/,
  /os\.environ\[["']([A-Z][A-Z0-9_]{2,})["']\]/,
];

/** An environment variable a container's own output says is missing, if it names one. */
export function missingEnvVar(
  facts: Facts,
  container?: string,
): { name: string; line: RetainedLine } | undefined {
  const lines = facts.ownLines(container);
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index];
    if (
      !line ||
      !/missing|required|not set|must be set|undefined|unset|KeyError|environ|empty/i.test(line.line)
    )
      continue;
    for (const pattern of ENV_PATTERNS) {
      const name = pattern.exec(line.line)?.[1];
      if (name && name === name.toUpperCase() && !NOT_ENV_NAMES.has(name) && name.length >= 3)
        return { name, line };
    }
  }
  return undefined;
}

export const DEPENDENCY_ERROR =
  /connection refused|ECONNREFUSED|no such host|ENOTFOUND|getaddrinfo|UnknownHostException|ConnectException|could not connect|couldn't connect|can't connect|cannot connect|unable to connect|failed to connect|connection timed out|i\/o timeout|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|connection reset by peer|server closed the connection unexpectedly|x509: certificate|SSLHandshakeException|CertificateExpiredException|certificate (?:has )?expired|PKIX path|unable to find valid certification path|certificate verify failed|CERT_HAS_EXPIRED|failed to connect to|could not translate host name|Name or service not known|Temporary failure in name resolution|upstream connect error|Connection to \S+ refused|Communications link failure|NoBrokersAvailable|No route to host|dial tcp|Is the server running/i;

export const HEAP_EXHAUSTED =
  /java\.lang\.OutOfMemoryError|JavaScript heap out of memory|Allocation failed - JavaScript heap|\bMemoryError\b|runtime: out of memory|fatal error: runtime: out of memory|Cannot allocate memory|failed to allocate memory/i;

export const FILESYSTEM_PERMISSION =
  /(?:open|mkdir|create|write|creat|unlink|chmod|chown|rename|stat|mkdtemp)\b[^\n]*: permission denied|Read-only file system|EACCES|EROFS|\(13: Permission denied\)|PermissionError: \[Errno 13\]|Operation not permitted|AccessDeniedException: \/|java\.nio\.file\.AccessDeniedException|could not open file .* Permission denied|cannot create .*: Permission denied|permission denied \(os error 13\)/i;

export { API_FORBIDDEN } from '../context/access-request.js';

export const START_FAILURE =
  /executable file not found|no such file or directory|exec format error|OCI runtime (?:create|exec|start) failed|failed to create (?:containerd )?task|unable to start container process|starting container process caused|failed to start container|exec: "[^"]*": (?:stat|permission)|permission denied: unknown/i;
export const SHELL_NOT_FOUND =
  /(?:^|\s)(?:sh|bash|\/bin\/sh|\/bin\/bash|\/bin\/ash|\/bin\/dash): (?:line \d+: |\d+: )?\S+: (?:not found|No such file or directory|Permission denied)|exec \S+: (?:no such file|not found|exec format error)|command not found/i;

/** An exec failure as a container's own output: the runtime could not run the command at all. */
export const EXEC_FAILURE_LOG =
  /exec format error|executable file not found in \$PATH|exec: "[^"]+": (?:stat|permission)|OCI runtime (?:create|exec|start) failed|exec \S+: no such file or directory/;
