/**
 * Action builders, one per Category: typed actions against the owner a person would change, with
 * concrete params, the equivalent kubectl command, a rationale and what verification will check.
 * Where no safe automatic fix exists, a `manual` action says precisely what to do.
 */
import { type Category, formatCpu, formatMemory, parseMemoryBytes, roundMemoryUp } from '../domain/index.js';
import { asArray, asObject, asString, at } from '../context/json.js';
import type { JsonObject } from '../context/model.js';
import { apiVersionOf, type WorkloadRef } from '../context/owners.js';
import type { Facts } from '../analysis/facts.js';
import type { Finding, FindingDetails, SubjectRef } from '../analysis/finding.js';
import { type ActionDraft, containerPatch, podSpecPatch, podTemplatePath, targetOf } from './drafts.js';

export interface BuildContext {
  readonly finding: Finding;
  readonly facts: Facts;
  readonly verifyTimeout: string;
}

type Builder = (context: BuildContext) => ActionDraft[];

const CONTROLLED = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob']);

function workloadOf(details: FindingDetails, facts: Facts): WorkloadRef | undefined {
  const workload = details.workload ?? facts.workload;
  if (!workload) return undefined;
  return { ...workload, namespace: workload.namespace ?? facts.namespace ?? 'default' };
}

function describe(target: { kind: string; name: string }): string {
  return `${target.kind} ${target.name}`;
}

function manual(
  target: SubjectRef | WorkloadRef | undefined,
  facts: Facts,
  description: string,
  instructions: string,
  rationale: string,
  command?: string,
): ActionDraft {
  const fallbackName = facts.primaryPod?.name ?? facts.ctx.target?.name ?? 'unknown';
  const kind = target?.kind ?? (facts.primaryPod ? 'Pod' : (facts.ctx.target?.kind ?? 'Pod'));
  const namespace = target && 'namespace' in target ? target.namespace : facts.namespace;
  return {
    type: 'manual',
    target: {
      apiVersion: target?.apiVersion ?? apiVersionOf(kind),
      kind,
      name: target?.name ?? fallbackName,
      ...(namespace && kind !== 'Node' ? { namespace } : {}),
    },
    params: { instructions },
    description,
    rationale,
    verification: 'A person confirms the change and re-runs kubemend, which checks the signals again.',
    command,
  };
}

function podTemplateOf(workload: WorkloadRef | undefined, facts: Facts): JsonObject | undefined {
  if (workload) {
    const object = facts.findObject(workload.kind, workload.name);
    const path =
      workload.kind === 'CronJob'
        ? ['spec', 'jobTemplate', 'spec', 'template', 'spec']
        : ['spec', 'template', 'spec'];
    const spec = asObject(at(object?.raw, ...path));
    if (spec) return spec;
  }
  return facts.primaryPod?.spec;
}

function rolloutVerification(workload: WorkloadRef, verifyTimeout: string, what: string): string {
  return `Within ${verifyTimeout}: ${describe(workload)} rolls out, all replicas are Ready and available, and ${what}.`;
}

/**
 * Roll a Deployment back to the revision that ran before the failure, when the finding names one;
 * undefined for other workloads or without a known good revision.
 */
function rollbackDraft(
  workload: WorkloadRef | undefined,
  details: FindingDetails,
  verifyTimeout: string,
  why: string,
): ActionDraft | undefined {
  const revision = details.rollbackToRevision;
  if (workload?.kind !== 'Deployment' || revision === undefined) return undefined;
  return {
    type: 'rollback',
    target: targetOf(workload),
    params: { toRevision: revision },
    description: `Roll ${describe(workload)} back to revision ${revision}`,
    rationale: `${why} Revision ${details.currentRevision ?? 'current'} introduced the failure${details.revisionChange ? ` (${details.revisionChange})` : ''}; revision ${revision} ran before it.`,
    verification: rolloutVerification(workload, verifyTimeout, 'the new pods do not restart'),
  };
}

// ---------------------------------------------------------------------------------------------

const oomKilled: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (!workload || !CONTROLLED.has(workload.kind)) {
    return [
      manual(
        workload ?? finding.subject,
        facts,
        'Raise the memory limit of the container',
        `The pod has no controller that kubemend can patch. Recreate it with a higher resources.limits.memory for container ${d.container ?? '(the killed container)'}.`,
        "A bare pod's resources cannot be changed in place.",
      ),
    ];
  }
  if (d.memoryLimitBytes === undefined) {
    return [
      manual(
        workload,
        facts,
        'Set memory requests and a limit',
        `Container ${d.container} has no memory limit, yet it was OOM-killed: the node ran out of memory. Set resources.requests.memory to its real usage${d.observedMemoryBytes ? ` (${formatMemory(d.observedMemoryBytes)} observed)` : ''} so the scheduler accounts for it.`,
        'Without a limit, the kill comes from node memory pressure, not a container limit.',
      ),
    ];
  }
  const peak = Math.max(d.observedMemoryBytes ?? 0, d.memoryLimitBytes);
  let newLimit = roundMemoryUp(peak * 1.5);
  const nodeCapacity = largestNodeMemory(facts);
  const notes: string[] = [];
  if (nodeCapacity !== undefined && newLimit > nodeCapacity * 0.9) {
    newLimit = roundMemoryUp(nodeCapacity * 0.8);
    notes.push(`capped below the largest node's allocatable memory (${formatMemory(nodeCapacity)})`);
  }
  if (newLimit <= d.memoryLimitBytes) {
    return [
      manual(
        workload,
        facts,
        'Give the workload more memory',
        `The limit cannot be raised within node capacity. Reduce the memory use of container ${d.container} or add larger nodes.`,
        'Raising the limit above node allocatable would make the pods unschedulable.',
      ),
    ];
  }
  const resources: Record<string, unknown> = { limits: { memory: formatMemory(newLimit) } };
  if (d.memoryRequestBytes !== undefined && d.memoryRequestBytes >= d.memoryLimitBytes) {
    resources.requests = { memory: formatMemory(newLimit) }; // keep Guaranteed QoS
  }
  if (!d.container) {
    // The container's name is not in the context: address the first container of the template.
    // Live, the context carries the name; the server-side dry-run checks the path exists.
    const base = `/${podTemplatePath(workload.kind).join('/')}/containers/0/resources/limits/memory`;
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: { patchType: 'json', patch: [{ op: 'replace', path: base, value: formatMemory(newLimit) }] },
        description: `Raise the memory limit of ${describe(workload)}'s first container from ${formatMemory(d.memoryLimitBytes)} to ${formatMemory(newLimit)}`,
        rationale: `The container was OOMKilled at its ${formatMemory(d.memoryLimitBytes)} limit${d.observedMemoryBytes ? `; its working set peaked at ${formatMemory(d.observedMemoryBytes)}` : ''}. The new limit leaves ~50% headroom. The context does not name the container, so the patch addresses the first one: check it is the one that was killed.`,
        verification: rolloutVerification(workload, verifyTimeout, 'no container is OOMKilled again'),
      },
    ];
  }
  const drafts: ActionDraft[] = [
    {
      type: 'patch',
      target: targetOf(workload),
      params: { patchType: 'strategic', patch: containerPatch(workload.kind, d.container, { resources }) },
      description: `Raise the memory limit of container ${d.container} in ${describe(workload)} from ${formatMemory(d.memoryLimitBytes)} to ${formatMemory(newLimit)}`,
      rationale: `The container was OOMKilled at its ${formatMemory(d.memoryLimitBytes)} limit${d.observedMemoryBytes ? `; its working set peaked at ${formatMemory(d.observedMemoryBytes)}` : ''}. The new limit leaves ~50% headroom above the observed peak${notes.length ? ` (${notes.join('; ')})` : ''}.`,
      verification: rolloutVerification(
        workload,
        verifyTimeout,
        `container ${d.container} is not OOMKilled again (restartCount stays put)`,
      ),
    },
  ];
  return drafts;
};

function largestNodeMemory(facts: Facts): number | undefined {
  let best: number | undefined;
  for (const node of facts.objectsOfKind('Node')) {
    const value = parseMemoryBytes(at(node.raw, 'status', 'allocatable', 'memory'));
    if (value !== undefined) best = Math.max(best ?? 0, value);
  }
  return best;
}

const crashLoop: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const rollback = rollbackDraft(
    workload,
    d,
    verifyTimeout,
    'The pods of the newest revision crash while the previous revision ran.',
  );
  if (rollback) return [rollback];
  const drafts: ActionDraft[] = [];
  if (workload && d.missingEnv && d.container && CONTROLLED.has(workload.kind)) {
    const draft = envFromKeyDraft(workload, d.container, d.missingEnv, facts, {
      why: `The application exits because ${d.missingEnv} is not set`,
      verification: rolloutVerification(workload, verifyTimeout, 'the container stays running'),
    });
    if (draft) {
      drafts.push(draft);
      return drafts;
    }
    drafts.push(
      manual(
        workload,
        facts,
        `Set the environment variable ${d.missingEnv}`,
        `Container ${d.container} of ${describe(workload)} exits because ${d.missingEnv} is not set. Set it to the right value, e.g. kubectl set env ${workload.kind.toLowerCase()}/${workload.name} -n ${workload.namespace} -c ${d.container} ${d.missingEnv}=<value>, or reference a ConfigMap/Secret key.`,
        'kubemend does not know the value the application needs.',
        `kubectl set env ${workload.kind.toLowerCase()}/${workload.name} -n ${workload.namespace} -c ${d.container} ${d.missingEnv}=<value>`,
      ),
    );
    return drafts;
  }
  if (d.heapExhausted) {
    drafts.push(
      manual(
        workload ?? finding.subject,
        facts,
        'Raise the runtime heap limit (not the container limit)',
        `The runtime of container ${d.container ?? ''} exhausted its heap ("${d.crashLine ?? ''}"). Raise the heap size (JVM: -Xmx or -XX:MaxRAMPercentage; Node.js: --max-old-space-size) within the container memory limit, or fix the memory leak.`,
        'The container was not OOM-killed by the kernel: raising the container limit alone would not change the heap size.',
      ),
    );
    return drafts;
  }
  const where = workload
    ? `${workload.kind.toLowerCase()}/${workload.name}`
    : `pod/${facts.primaryPod?.name ?? ''}`;
  drafts.push(
    manual(
      workload ?? finding.subject,
      facts,
      'Fix the application error that makes it exit',
      `The application exits on its own${d.crashLine ? ` ("${d.crashLine.trim()}")` : ''}. Read the previous container's logs (kubectl logs ${where} -n ${workload?.namespace ?? facts.namespace ?? 'default'} --previous), fix the configuration or code, and roll out a fixed revision.${d.exitCode !== undefined ? ` Exit code: ${d.exitCode}.` : ''}`,
      'No safe automatic change addresses an application error; restarting would crash again.',
      `kubectl logs ${where} -n ${workload?.namespace ?? facts.namespace ?? 'default'} --previous`,
    ),
  );
  return drafts;
};

/** A patch that sets a missing variable from a ConfigMap/Secret key of the same name, if one exists. */
function envFromKeyDraft(
  workload: WorkloadRef,
  container: string,
  variable: string,
  facts: Facts,
  text: { why: string; note?: string; verification: string },
): ActionDraft | undefined {
  const source = configSourceFor(variable, facts);
  if (!source) return undefined;
  const reference = source.kind === 'Secret' ? 'secretKeyRef' : 'configMapKeyRef';
  return {
    type: 'patch',
    target: targetOf(workload),
    params: {
      patchType: 'strategic',
      patch: containerPatch(workload.kind, container, {
        env: [{ name: variable, valueFrom: { [reference]: { name: source.name, key: variable } } }],
      }),
    },
    description: `Set ${variable} on container ${container} of ${describe(workload)} from ${source.kind} ${source.name}`,
    rationale: `${text.why}; ${source.kind} ${source.name} in the same namespace holds a key of that name.${text.note ? ` ${text.note}` : ''}`,
    verification: text.verification,
  };
}

function configSourceFor(
  key: string,
  facts: Facts,
): { kind: 'ConfigMap' | 'Secret'; name: string } | undefined {
  for (const object of facts.ctx.objects) {
    if (object.kind !== 'ConfigMap' && object.kind !== 'Secret') continue;
    const data = { ...asObject(object.raw.data), ...asObject(object.raw.stringData) };
    if (key in data && object.name) return { kind: object.kind, name: object.name };
  }
  return undefined;
}

const configMissing: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (
    workload &&
    CONTROLLED.has(workload.kind) &&
    d.suggestedConfigName &&
    d.configName &&
    d.configKind !== 'ServiceAccount'
  ) {
    const patch = referencePatch(
      workload,
      facts,
      d.configKind === 'Secret' ? 'Secret' : 'ConfigMap',
      d.configName,
      d.suggestedConfigName,
    );
    if (patch) {
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: { patchType: 'strategic', patch },
          description: `Point ${describe(workload)} at ${d.configKind} ${d.suggestedConfigName} instead of the missing ${d.configName}`,
          rationale: `${d.configKind} ${d.configName} does not exist; ${d.suggestedConfigName} exists in the same namespace and differs only by a few characters, so the reference is most likely misspelt.`,
          verification: rolloutVerification(
            workload,
            verifyTimeout,
            'no CreateContainerConfigError or FailedMount remains',
          ),
        },
      ];
    }
  }
  const rollback = rollbackDraft(
    workload,
    d,
    verifyTimeout,
    `The newest revision references ${d.configKind} ${d.configName}, which does not exist.`,
  );
  if (rollback) return [rollback];
  const ns = workload?.namespace ?? facts.namespace ?? 'default';
  const what = d.configKey
    ? `key ${d.configKey} in ${d.configKind} ${d.configName}`
    : `${d.configKind} ${d.configName}`;
  const instructions =
    d.configKind === 'Secret'
      ? `Create ${what} in namespace ${ns} with the real credentials (kubectl create secret generic ${d.configName} -n ${ns} --from-literal=${d.configKey ?? '<key>'}=<value>), or correct the reference in ${workload ? describe(workload) : 'the pod spec'}. The kubelet retries by itself; no restart is needed.`
      : d.configKind === 'ServiceAccount'
        ? `Create ServiceAccount ${d.configName} in namespace ${ns} (kubectl create serviceaccount ${d.configName} -n ${ns}) with the permissions the workload needs, or correct serviceAccountName.`
        : `Create ${what} in namespace ${ns} with the configuration the application expects (kubectl create configmap ${d.configName} -n ${ns} --from-file=...), or correct the reference in ${workload ? describe(workload) : 'the pod spec'}. The kubelet retries by itself.`;
  return [
    manual(
      workload ?? finding.subject,
      facts,
      `Provide the missing ${what}`,
      instructions,
      d.configKind === 'Secret'
        ? 'kubemend never invents secret data.'
        : 'kubemend does not know the content the application expects.',
    ),
  ];
};

/** A strategic patch that renames a ConfigMap/Secret reference wherever the pod template uses it. */
function referencePatch(
  workload: WorkloadRef,
  facts: Facts,
  kind: 'ConfigMap' | 'Secret',
  from: string,
  to: string,
): Record<string, unknown> | undefined {
  const spec = podTemplateOf(workload, facts);
  if (!spec) return undefined;
  const fields: Record<string, unknown> = {};
  const volumes: unknown[] = [];
  for (const volume of asArray(spec.volumes)) {
    const name = asString(at(volume, 'name'));
    if (kind === 'ConfigMap' && asString(at(volume, 'configMap', 'name')) === from)
      volumes.push({ name, configMap: { name: to } });
    if (kind === 'Secret' && asString(at(volume, 'secret', 'secretName')) === from)
      volumes.push({ name, secret: { secretName: to } });
  }
  if (volumes.length > 0) fields.volumes = volumes;
  const containers: unknown[] = [];
  for (const entry of asArray(spec.containers)) {
    const container = asObject(entry);
    if (!container) continue;
    const env: unknown[] = [];
    for (const variable of asArray(container.env)) {
      const ref =
        kind === 'ConfigMap'
          ? at(variable, 'valueFrom', 'configMapKeyRef')
          : at(variable, 'valueFrom', 'secretKeyRef');
      if (asString(at(ref, 'name')) === from) {
        env.push({
          name: asString(at(variable, 'name')),
          valueFrom: {
            [kind === 'ConfigMap' ? 'configMapKeyRef' : 'secretKeyRef']: { ...asObject(ref), name: to },
          },
        });
      }
    }
    const envFrom = asArray(container.envFrom);
    const envFromChanged = envFrom.some(
      (source) => asString(at(source, kind === 'ConfigMap' ? 'configMapRef' : 'secretRef', 'name')) === from,
    );
    const patched: Record<string, unknown> = {};
    if (env.length > 0) patched.env = env;
    if (envFromChanged) {
      // envFrom has no merge key: the whole list is replaced, with only the wrong name changed.
      patched.envFrom = envFrom.map((source) => {
        const key = kind === 'ConfigMap' ? 'configMapRef' : 'secretRef';
        const ref = asObject(at(source, key));
        return ref && asString(ref.name) === from
          ? { ...asObject(source), [key]: { ...ref, name: to } }
          : source;
      });
    }
    if (Object.keys(patched).length > 0) containers.push({ name: asString(container.name), ...patched });
  }
  if (containers.length > 0) fields.containers = containers;
  if (Object.keys(fields).length === 0) return undefined;
  return podSpecPatch(workload.kind, fields);
}

const imagePullNotFound: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const rollback = rollbackDraft(workload, d, verifyTimeout, `Image ${d.image ?? ''} cannot be pulled.`);
  if (rollback) return [rollback];
  if (workload && CONTROLLED.has(workload.kind) && d.previousImage && d.container) {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, { image: d.previousImage }),
        },
        description: `Set the image of container ${d.container} back to ${d.previousImage}`,
        rationale: `${d.image ?? 'The new image'} does not exist in the registry; ${d.previousImage} ran in the previous revision.`,
        verification: rolloutVerification(
          workload,
          verifyTimeout,
          'the image is pulled and the container starts',
        ),
      },
    ];
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Use an image that exists',
      `The registry has no image ${d.image ?? ''}. Check the tag and repository (e.g. crane ls / skopeo list-tags), then set a tag that exists: kubectl set image ${workload ? `${workload.kind.toLowerCase()}/${workload.name}` : 'deployment/<name>'} ${d.container ?? '<container>'}=<image:tag> -n ${workload?.namespace ?? facts.namespace ?? 'default'}.`,
      'kubemend does not know which tag was intended.',
    ),
  ];
};

const imagePullAuth: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const ns = workload?.namespace ?? facts.namespace ?? 'default';
  const template = podTemplateOf(workload, facts);
  const referenced = asArray(template?.imagePullSecrets)
    .map((s) => asString(at(s, 'name')))
    .filter((n): n is string => n !== undefined);
  // The kubelet names referenced pull secrets that do not exist.
  const missing = facts.events
    .filter((event) => event.reason === 'FailedToRetrieveImagePullSecret')
    .flatMap((event) =>
      (/image pull secrets \(([^)]+)\)/.exec(event.message)?.[1] ?? '').split(',').map((n) => n.trim()),
    )
    .filter(Boolean);
  const registry = d.image?.split('/')[0];
  const candidates = facts.objectsOfKind('Secret').filter((s) => {
    const type = asString(s.raw.type);
    if (type !== 'kubernetes.io/dockerconfigjson' && type !== 'kubernetes.io/dockercfg') return false;
    return s.name !== undefined && !referenced.filter((n) => !missing.includes(n)).includes(s.name);
  });
  const matching = candidates.filter(
    (s) => !registry || JSON.stringify(s.raw.metadata ?? {}).includes(registry),
  );
  const chosen = matching.length === 1 ? matching[0] : candidates.length === 1 ? candidates[0] : undefined;
  const canFix = chosen?.name && (referenced.length === 0 || missing.length > 0);
  if (workload && CONTROLLED.has(workload.kind) && canFix) {
    const secret = chosen.name!;
    const kept = referenced
      .filter((name) => !missing.includes(name) && name !== secret)
      .map((name) => ({ name }));
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: podSpecPatch(workload.kind, { imagePullSecrets: [...kept, { name: secret }] }),
        },
        description: `Use the registry credential ${secret} in ${describe(workload)}${missing.length ? ` instead of the missing ${missing.join(', ')}` : ''}`,
        rationale: `${missing.length ? `The pods reference pull secret(s) ${missing.join(', ')}, which do not exist; ` : 'The registry rejects anonymous pulls; '}the namespace holds the registry credential ${secret}${registry ? ` for ${registry}` : ''}. No credential is created or copied.`,
        verification: rolloutVerification(workload, verifyTimeout, 'the image is pulled'),
      },
    ];
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Provide registry credentials',
      `Create or rotate a registry credential in namespace ${ns} (kubectl create secret docker-registry regcred -n ${ns} --docker-server=<registry> --docker-username=<user> --docker-password=<token>) and reference it in imagePullSecrets of ${workload ? describe(workload) : 'the workload'} or its ServiceAccount.`,
      'kubemend never invents or copies credentials.',
    ),
  ];
};

const invalidCommand: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const rollback = rollbackDraft(
    workload,
    d,
    verifyTimeout,
    "The newest revision's command cannot be executed.",
  );
  if (rollback) return [rollback];
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Fix the container command or image',
      `Container ${d.container ?? ''} cannot start: ${d.crashLine ?? 'its command is not executable'}. Set command/args to a binary that exists in the image (or use an image built for the node's architecture).`,
      'kubemend does not know the intended command.',
    ),
  ];
};

const probeFix: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const probeField =
    d.probe === 'readiness' ? 'readinessProbe' : d.probe === 'startup' ? 'startupProbe' : 'livenessProbe';
  const container = d.container
    ? facts.containers().find((c) => c.container.name === d.container)?.container
    : undefined;
  const probe =
    d.probe === 'readiness'
      ? container?.readiness
      : d.probe === 'startup'
        ? container?.startup
        : container?.liveness;
  if (!workload || !CONTROLLED.has(workload.kind) || !d.container) {
    return [
      manual(
        workload ?? finding.subject,
        facts,
        `Fix the ${d.probe ?? 'probe'} probe`,
        `Correct the ${probeField} of container ${d.container ?? ''} so it checks an endpoint the application serves.`,
        'The pod has no controller that kubemend can patch.',
      ),
    ];
  }
  const handler = probe?.handler === 'tcpSocket' ? 'tcpSocket' : 'httpGet';
  const verification = rolloutVerification(
    workload,
    verifyTimeout,
    `no ${d.probe ?? ''} probe failures are reported and the container does not restart`,
  );
  if (d.suggestedPort !== undefined) {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, {
            [probeField]: { [handler]: { port: d.suggestedPort } },
          }),
        },
        description: `Point the ${d.probe} probe of container ${d.container} at port ${d.suggestedPort}`,
        rationale: `The probe checks port ${d.probePort ?? '?'} where nothing listens; the application listens on ${d.suggestedPort}. The probe stays; only its port changes.`,
        verification,
      },
    ];
  }
  if (d.suggestedScheme && handler === 'httpGet') {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, {
            [probeField]: { httpGet: { scheme: d.suggestedScheme } },
          }),
        },
        description: `Make the ${d.probe} probe of container ${d.container} use HTTPS`,
        rationale:
          'The endpoint now serves TLS and answers a plain-HTTP probe with HTTP 400; the probe stays and switches its scheme to HTTPS (the kubelet does not verify the certificate).',
        verification,
      },
    ];
  }
  if (d.authEnv && probe?.handler === 'exec') {
    const command = asArray(at(probe.raw, 'exec', 'command')).map((part) => String(part));
    const joined = command.join(' ');
    if (/redis-cli/.test(joined) && !/\s-a\s|--pass|REDISCLI_AUTH/.test(joined)) {
      const script = `REDISCLI_AUTH="$${d.authEnv}" ${command.filter((part) => !/^(?:sh|bash|\/bin\/sh|-c)$/.test(part)).join(' ')}`;
      const fields: Record<string, unknown> = {};
      for (const field of ['livenessProbe', 'readinessProbe'] as const) {
        const other = asObject(at(container?.spec, field));
        if (other && JSON.stringify(at(other, 'exec', 'command')) === JSON.stringify(command))
          fields[field] = { exec: { command: ['sh', '-c', script] } };
      }
      if (Object.keys(fields).length === 0) fields[probeField] = { exec: { command: ['sh', '-c', script] } };
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: { patchType: 'strategic', patch: containerPatch(workload.kind, d.container, fields) },
          description: `Make the probes of container ${d.container} authenticate with $${d.authEnv}`,
          rationale: `The server now requires a password, so the probe command is refused (NOAUTH) and the kubelet restarts a healthy server. The probe keeps its check and reads the password from the container's ${d.authEnv} variable; the server's configuration is not touched.`,
          verification,
        },
      ];
    }
  }
  if (d.suggestedPath !== undefined && handler === 'httpGet') {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, {
            [probeField]: { httpGet: { path: d.suggestedPath } },
          }),
        },
        description: `Point the ${d.probe} probe of container ${d.container} at ${d.suggestedPath}`,
        rationale: `The probe path ${d.probePath ?? '?'} answers HTTP ${d.httpStatus ?? 404}; the application serves ${d.suggestedPath}. The probe stays; only its path changes.`,
        verification,
      },
    ];
  }
  const raw = probe?.raw;
  if (
    raw &&
    (d.probeFailure === 'timeout' || d.probeFailure === 'connection-refused') &&
    d.probe !== 'readiness' &&
    !container?.startup
  ) {
    // Slow start: protect the container with a startupProbe that uses the same check.
    const startup: Record<string, unknown> = { failureThreshold: 30, periodSeconds: 10 };
    for (const key of ['httpGet', 'tcpSocket', 'exec', 'grpc'])
      if (raw[key] !== undefined) startup[key] = raw[key];
    const timeout = typeof raw.timeoutSeconds === 'number' ? raw.timeoutSeconds : 1;
    const fields: Record<string, unknown> = { startupProbe: startup };
    if (d.probeFailure === 'timeout') fields[probeField] = { timeoutSeconds: Math.max(timeout * 3, 5) };
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: { patchType: 'strategic', patch: containerPatch(workload.kind, d.container, fields) },
        description: `Add a startupProbe to container ${d.container}${d.probeFailure === 'timeout' ? ' and give the liveness probe more time' : ''}`,
        rationale:
          'The liveness probe kills the container before it is ready to answer; a startupProbe with the same check gives it up to 5 minutes to start, after which the liveness probe applies unchanged.',
        verification,
      },
    ];
  }
  if (raw && d.probeFailure === 'timeout') {
    const timeout = typeof raw.timeoutSeconds === 'number' ? raw.timeoutSeconds : 1;
    const threshold = typeof raw.failureThreshold === 'number' ? raw.failureThreshold : 3;
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, {
            [probeField]: {
              timeoutSeconds: Math.max(timeout * 3, 5),
              failureThreshold: Math.max(threshold, 3),
            },
          }),
        },
        description: `Give the ${d.probe} probe of container ${d.container} a ${Math.max(timeout * 3, 5)}s timeout`,
        rationale: `The probe times out after ${timeout}s while the application answers slowly; a longer timeout keeps the check without false failures.`,
        verification,
      },
    ];
  }
  return [
    manual(
      workload,
      facts,
      `Investigate why the ${d.probe} probe fails`,
      `The ${probeField} of container ${d.container} fails${d.httpStatus ? ` with HTTP ${d.httpStatus}` : ''}. Check the endpoint from inside the pod (kubectl exec ... -- wget -qO- http://localhost:${d.probePort ?? '<port>'}${d.probePath ?? ''}) and fix the application or the probe. Do not remove the probe.`,
      'The evidence does not show a wrong port or path: the application itself reports unhealthy.',
    ),
  ];
};

const insufficientResources: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const fields: Record<string, string> = {};
  if (
    d.observedMemoryBytes !== undefined &&
    d.memoryRequestBytes !== undefined &&
    d.memoryRequestBytes > d.observedMemoryBytes * 2
  ) {
    fields.memory = formatMemory(roundMemoryUp(d.observedMemoryBytes * 1.3));
  }
  if (
    d.observedCpuMillicores !== undefined &&
    d.cpuRequestMillicores !== undefined &&
    d.cpuRequestMillicores > d.observedCpuMillicores * 2
  ) {
    fields.cpu = formatCpu(Math.ceil((d.observedCpuMillicores * 1.3) / 50) * 50);
  }
  const container = d.container ?? facts.primaryPod?.containers[0]?.name;
  if (workload && CONTROLLED.has(workload.kind) && container && Object.keys(fields).length > 0) {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, container, { resources: { requests: fields } }),
        },
        description: `Lower the requests of container ${container} to ${Object.entries(fields)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        rationale:
          'The pod requests far more than it uses, so no node can fit it; requests sized to observed usage plus 30% let it schedule without starving it.',
        verification: rolloutVerification(
          workload,
          verifyTimeout,
          'the pods are scheduled (no FailedScheduling)',
        ),
      },
    ];
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Add capacity or free resources',
      `No node has enough free ${d.resource ?? 'resources'} for the pod's requests. Add nodes (or a larger node pool), or lower the requests if they exceed real usage. Check with: kubectl describe nodes | grep -A5 Allocated.`,
      'Capacity is a cluster-level decision; the requests look justified by the evidence available.',
      'kubectl describe nodes',
    ),
  ];
};

const schedulingConstraints: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (workload && CONTROLLED.has(workload.kind) && d.nodeSelectorKey && d.suggestedSelectorValue) {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: podSpecPatch(workload.kind, {
            nodeSelector: { [d.nodeSelectorKey]: d.suggestedSelectorValue },
          }),
        },
        description: `Set nodeSelector ${d.nodeSelectorKey}=${d.suggestedSelectorValue} on ${describe(workload)}`,
        rationale: `No node carries ${d.nodeSelectorKey}=${d.nodeSelectorValue}; the nodes carry ${d.nodeSelectorKey}=${d.suggestedSelectorValue}, which the selector most likely meant.`,
        verification: rolloutVerification(workload, verifyTimeout, 'the pods are scheduled'),
      },
    ];
  }
  if (
    workload &&
    CONTROLLED.has(workload.kind) &&
    d.taint &&
    !/^node\.kubernetes\.io\/|node-role\.kubernetes\.io\/|node\.cloudprovider/.test(d.taint.key)
  ) {
    const effect = taintEffect(facts, d.taint.key) ?? 'NoSchedule';
    const toleration = d.taint.value
      ? { key: d.taint.key, operator: 'Equal', value: d.taint.value, effect }
      : { key: d.taint.key, operator: 'Exists', effect };
    // Keep the template's own tolerations; drop the not-ready/unreachable ones admission adds to pods.
    const existing = asArray(podTemplateOf(workload, facts)?.tolerations).filter(
      (t) =>
        !(
          /^node\.kubernetes\.io\/(?:not-ready|unreachable)$/.test(asString(at(t, 'key')) ?? '') &&
          at(t, 'tolerationSeconds') === 300
        ),
    );
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: podSpecPatch(workload.kind, { tolerations: [...existing, toleration] }),
        },
        description: `Tolerate the dedicated-node taint ${d.taint.key}${d.taint.value ? `=${d.taint.value}` : ''} on ${describe(workload)}`,
        rationale: `Every candidate node carries ${d.taint.key}${d.taint.value ? `=${d.taint.value}` : ''}:${effect}, a dedicated-pool taint the pods do not tolerate. Only this one taint is tolerated (tolerations are a list without a merge key, so the existing ones are kept in the patch).`,
        verification: rolloutVerification(workload, verifyTimeout, 'the pods are scheduled'),
        minimumRisk: 'medium',
      },
    ];
  }
  if (workload && CONTROLLED.has(workload.kind) && d.placementRule === 'pod-anti-affinity') {
    const required = asArray(
      at(
        podTemplateOf(workload, facts),
        'affinity',
        'podAntiAffinity',
        'requiredDuringSchedulingIgnoredDuringExecution',
      ),
    );
    if (required.length > 0) {
      const preferred = required.map((term) => ({ weight: 100, podAffinityTerm: term }));
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: podSpecPatch(workload.kind, {
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: null,
                  preferredDuringSchedulingIgnoredDuringExecution: preferred,
                },
              },
            }),
          },
          description: `Make the pod anti-affinity of ${describe(workload)} preferred instead of required`,
          rationale:
            'Every node already runs a replica, so a required one-per-node anti-affinity leaves the extra replicas Pending. As a preference, the scheduler still spreads replicas but may co-locate when it must.',
          verification: rolloutVerification(workload, verifyTimeout, 'all replicas are scheduled'),
        },
      ];
    }
  }
  if (workload && CONTROLLED.has(workload.kind) && d.placementRule === 'topology-spread') {
    const constraints = asArray(podTemplateOf(workload, facts)?.topologySpreadConstraints);
    if (constraints.some((c) => asString(at(c, 'whenUnsatisfiable')) === 'DoNotSchedule')) {
      const relaxed = constraints.map((c) => ({ ...asObject(c), whenUnsatisfiable: 'ScheduleAnyway' }));
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: podSpecPatch(workload.kind, { topologySpreadConstraints: relaxed }),
          },
          description: `Relax the topology spread constraints of ${describe(workload)} to ScheduleAnyway`,
          rationale:
            'The spread constraint cannot be met with the nodes available; ScheduleAnyway keeps spreading as a preference.',
          verification: rolloutVerification(workload, verifyTimeout, 'all replicas are scheduled'),
        },
      ];
    }
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Relax the placement rules or label nodes',
      `${finding.rootCause} Fix the nodeSelector/affinity to labels that exist, or label/taint nodes as intended (a node change is for a person to decide).`,
      'The intended placement is not evident from the context.',
    ),
  ];
};

function taintEffect(facts: Facts, key: string): string | undefined {
  for (const node of facts.objectsOfKind('Node')) {
    for (const taint of asArray(at(node.raw, 'spec', 'taints'))) {
      if (asString(at(taint, 'key')) === key) return asString(at(taint, 'effect'));
    }
  }
  return undefined;
}

const volumeMountFailure: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (d.resource === 'multi-attach' && workload?.kind === 'Deployment') {
    const deployment = facts.findObject('Deployment', workload.name);
    const strategy = asString(at(deployment?.raw, 'spec', 'strategy', 'type'));
    const nodeDown = facts
      .objectsOfKind('Node')
      .some((node) => node.conditions.some((c) => c.type === 'Ready' && c.status !== 'True'));
    if (strategy !== 'Recreate' && !nodeDown) {
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
          },
          description: `Switch ${describe(workload)} to the Recreate strategy`,
          rationale:
            'A ReadWriteOnce volume can attach to one node at a time; a rolling update starts the new pod before the old one releases it. Recreate stops the old pod first.',
          verification: rolloutVerification(
            workload,
            verifyTimeout,
            'the volume attaches and the pod starts',
          ),
        },
      ];
    }
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Repair the volume attachment',
      `${finding.rootCause} Check the PersistentVolume, the CSI driver logs and VolumeAttachments (kubectl get volumeattachments). If the old node is confirmed down, a person may remove the stale attachment. Never force-delete pods while the old node may still write.`,
      'Storage repairs risk data; a person must confirm the state of the node and volume.',
      'kubectl get volumeattachments',
    ),
  ];
};

const nodePressure: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const message = facts.primaryPod?.message ?? '';
  const usage =
    /was using (\S+?), request is (\S+?)[,.]/.exec(message) ??
    /was using (\S+?), which exceeds its request of (\S+?)[,.\s]/.exec(message);
  const used = usage ? parseMemoryBytes(usage[1]) : undefined;
  if (
    workload &&
    CONTROLLED.has(workload.kind) &&
    d.container &&
    d.resource === 'memory' &&
    used !== undefined
  ) {
    const request = formatMemory(roundMemoryUp(used * 1.2));
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, { resources: { requests: { memory: request } } }),
        },
        description: `Raise the memory request of container ${d.container} to ${request}`,
        rationale: `Container ${d.container} used ${usage![1]} against a request of ${usage![2]}: pods using more than they request are evicted first under memory pressure. A request matching real use lets the scheduler account for it.`,
        verification: rolloutVerification(workload, verifyTimeout, 'no new evictions'),
      },
    ];
  }
  if (
    workload &&
    CONTROLLED.has(workload.kind) &&
    d.container &&
    d.resource === 'ephemeral-storage' &&
    d.storageLimit
  ) {
    const bytes = parseMemoryBytes(d.storageLimit);
    if (bytes !== undefined) {
      const limit = formatMemory(roundMemoryUp(bytes * 2));
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: containerPatch(workload.kind, d.container, {
              resources: { limits: { 'ephemeral-storage': limit } },
            }),
          },
          description: `Raise the ephemeral-storage limit of container ${d.container} from ${d.storageLimit} to ${limit}`,
          rationale: `The kubelet evicted the pod because container ${d.container} wrote more than its ${d.storageLimit} ephemeral-storage limit (temporary files). A larger limit stops the evictions; cleaning up temporary files in the application is the lasting fix.`,
          verification: rolloutVerification(workload, verifyTimeout, 'no new evictions'),
        },
      ];
    }
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Relieve the node pressure',
      `${finding.rootCause} Free ${d.resource ?? 'resources'} on node ${d.nodeName ?? ''} (e.g. clean images/logs for disk pressure), set requests (and ephemeral-storage limits) to real usage, and move caches off node disk.`,
      'Node cleanup is an operator task.',
    ),
  ];
};

const nodeNotReady: Builder = ({ finding, facts }) => {
  const node = finding.details.nodeName;
  return [
    manual(
      node ? { kind: 'Node', apiVersion: 'v1', name: node } : finding.subject,
      facts,
      `Restore node ${node ?? ''}`,
      `Node ${node ?? ''} is NotReady. Check the kubelet and container runtime on the node (systemctl status kubelet containerd; journalctl -u kubelet), and the CNI plugin. If it cannot be recovered quickly, cordon and drain it (kubectl cordon ${node ?? '<node>'}; kubectl drain ${node ?? '<node>'} --ignore-daemonsets --delete-emptydir-data) and replace it.`,
      'Node operations are high risk and need a person who can reach the node.',
      `kubectl describe node ${node ?? ''}`,
    ),
  ];
};

const quotaExceeded: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const template = podTemplateOf(workload, facts);
  const usage = facts.metric('memory_working_set_bytes', 'container_memory_working_set_bytes');
  const firstContainer = asObject(asArray(template?.containers)[0]);
  const requested = parseMemoryBytes(at(firstContainer, 'resources', 'requests', 'memory'));
  const name = asString(firstContainer?.name);
  if (
    workload &&
    CONTROLLED.has(workload.kind) &&
    usage?.max !== undefined &&
    requested !== undefined &&
    requested > usage.max * 2 &&
    name
  ) {
    const memory = formatMemory(roundMemoryUp(usage.max * 1.3));
    const limit = parseMemoryBytes(at(firstContainer, 'resources', 'limits', 'memory'));
    const resources: Record<string, unknown> = { requests: { memory } };
    if (limit !== undefined && limit > roundMemoryUp(usage.max * 1.3) * 2)
      resources.limits = { memory: formatMemory(roundMemoryUp(usage.max * 2)) };
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: { patchType: 'strategic', patch: containerPatch(workload.kind, name, { resources }) },
        description: `Lower the memory request of container ${name} to ${memory}`,
        rationale: `The pods request ${formatMemory(requested)} each but use about ${formatMemory(usage.max)}; the quota rejects them. Requests sized to real use fit within the quota.`,
        verification: rolloutVerification(
          workload,
          verifyTimeout,
          'the controller creates the pods (no FailedCreate)',
        ),
      },
    ];
  }
  return [
    manual(
      {
        kind: 'ResourceQuota',
        apiVersion: 'v1',
        name: d.quotaName ?? 'quota',
        namespace: workload?.namespace ?? facts.namespace,
      },
      facts,
      'Raise the quota or reduce the requests',
      `${finding.rootCause} Either a namespace owner raises ResourceQuota ${d.quotaName ?? ''} (kubectl edit resourcequota ${d.quotaName ?? '<name>'} -n ${workload?.namespace ?? facts.namespace ?? 'default'}), or the workload's requests/replicas are reduced to fit.`,
      'A quota is a governance decision, never changed automatically.',
      `kubectl describe resourcequota ${d.quotaName ?? ''} -n ${workload?.namespace ?? facts.namespace ?? 'default'}`,
    ),
  ];
};

const rolloutStuck: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (workload?.kind === 'Deployment' && d.resource === 'paused') {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: { patchType: 'merge', patch: { spec: { paused: false } } },
        description: `Resume the rollout of ${describe(workload)}`,
        rationale: 'The Deployment is paused, so the controller does not roll out the new template.',
        verification: rolloutVerification(workload, verifyTimeout, 'the rollout completes'),
      },
    ];
  }
  const rollback = rollbackDraft(workload, d, verifyTimeout, 'The new revision never became available.');
  if (rollback) return [rollback];
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Find why the new pods do not become available',
      `${finding.rootCause} Inspect the new ReplicaSet's pods (kubectl get pods -l <selector>; kubectl describe pod ...) and roll back if needed (kubectl rollout undo).`,
      'No previous revision is known.',
    ),
  ];
};

const serviceNoEndpoints: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const service = d.service;
  if (service && d.selectorFix && Object.keys(d.selectorFix).length > 0) {
    return [
      {
        type: 'patch',
        target: {
          apiVersion: 'v1',
          kind: 'Service',
          name: service.name,
          ...(service.namespace ? { namespace: service.namespace } : {}),
        },
        params: { patchType: 'strategic', patch: { spec: { selector: { ...d.selectorFix } } } },
        description: `Fix the selector of Service ${service.name}: ${Object.entries(d.selectorFix)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
        rationale:
          "The Service selects labels no pod carries; the workload labels its pods with these values. The Deployment's own selector is immutable and is not touched.",
        verification: `Within ${verifyTimeout}: Service ${service.name} has at least one ready endpoint.`,
      },
    ];
  }
  if (service && d.suggestedPort !== undefined && d.servicePortIndex !== undefined) {
    const serviceObject = facts.findObject('Service', service.name);
    const port = at(serviceObject?.raw, 'spec', 'ports', d.servicePortIndex, 'port');
    return [
      {
        type: 'patch',
        target: {
          apiVersion: 'v1',
          kind: 'Service',
          name: service.name,
          ...(service.namespace ? { namespace: service.namespace } : {}),
        },
        params: {
          patchType: 'strategic',
          patch: { spec: { ports: [{ port, targetPort: d.suggestedPort }] } },
        },
        description: `Send Service ${service.name} port ${String(port)} to targetPort ${d.suggestedPort}`,
        rationale: `The pods listen on ${d.suggestedPort}; the Service forwards to a port where nothing listens.`,
        verification: `Within ${verifyTimeout}: Service ${service.name} endpoints use port ${d.suggestedPort}.`,
      },
    ];
  }
  return [
    manual(
      service ?? finding.subject,
      facts,
      'Make the Service select ready pods',
      `${finding.rootCause} Compare kubectl get svc ${service?.name ?? '<svc>'} -o jsonpath='{.spec.selector}' with the pods' labels (kubectl get pods --show-labels), and check why matching pods are not ready.`,
      'The right selector is not evident from the context.',
    ),
  ];
};

const jobFailed: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  const job = facts.findObject(
    'Job',
    workload?.intermediate?.name ?? (workload?.kind === 'Job' ? workload.name : undefined),
  );
  const deadline = at(job?.raw, 'spec', 'activeDeadlineSeconds');
  if (workload && d.missingEnv && d.container && CONTROLLED.has(workload.kind)) {
    const draft = envFromKeyDraft(workload, d.container, d.missingEnv, facts, {
      why: `The job fails because ${d.missingEnv} is not set`,
      note:
        workload.kind === 'CronJob'
          ? "The CronJob is patched so its next run gets it (a Job's template is immutable)."
          : undefined,
      verification: `Within ${verifyTimeout}: ${describe(workload)}'s template sets ${d.missingEnv}; the next run completes.`,
    });
    if (draft) return [draft];
  }
  if (workload?.kind === 'CronJob' && d.resource === 'DeadlineExceeded' && typeof deadline === 'number') {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: { spec: { jobTemplate: { spec: { activeDeadlineSeconds: deadline * 2 } } } },
        },
        description: `Double the activeDeadlineSeconds of CronJob ${workload.name}'s jobs to ${deadline * 2}`,
        rationale: `The job ran longer than its ${deadline}s deadline and was stopped; future runs get twice the time. A Job's own template is immutable, so the CronJob is patched.`,
        verification: `Within ${verifyTimeout}: the CronJob's jobTemplate carries the new deadline (the next scheduled run proves it).`,
      },
    ];
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      "Fix the job's failure and run it again",
      `${finding.rootCause} Read the failed pods' logs (kubectl logs job/${job?.name ?? workload?.intermediate?.name ?? workload?.name ?? '<job>'} -n ${workload?.namespace ?? facts.namespace ?? 'default'}), fix the cause, then re-create the Job (its template is immutable)${workload?.kind === 'CronJob' ? " or wait for the CronJob's next run" : ''}. Keep the failed Job as evidence until then.`,
      'Re-running a failing job without a fix fails again; deleting it destroys evidence.',
    ),
  ];
};

const hpaLimited: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const hpa = d.hpa;
  if (hpa && d.hpaProblem === 'missing-request' && d.resource && d.container) {
    const workload = workloadOf(d, facts);
    if (workload && CONTROLLED.has(workload.kind)) {
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: containerPatch(workload.kind, d.container, {
              resources: { requests: { [d.resource]: d.resource === 'cpu' ? '100m' : '128Mi' } },
            }),
          },
          description: `Give container ${d.container} a ${d.resource} request so the autoscaler can compute utilisation`,
          rationale: `HorizontalPodAutoscaler ${hpa.name} scales on ${d.resource} utilisation, which needs a request on every container; ${d.container} has none. The request is a conservative starting point.`,
          verification: `Within ${verifyTimeout}: HorizontalPodAutoscaler ${hpa.name} reports ScalingActive=True.`,
        },
      ];
    }
  }
  if (hpa && d.hpaProblem === 'at-max' && d.maxReplicas !== undefined) {
    const wanted = Math.min(
      Math.max(d.desiredReplicas ?? 0, Math.ceil(d.maxReplicas * 1.5)),
      Math.max(d.maxReplicas + 1, 50),
    );
    return [
      {
        type: 'patch',
        target: {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          name: hpa.name,
          ...(hpa.namespace ? { namespace: hpa.namespace } : {}),
        },
        params: { patchType: 'merge', patch: { spec: { maxReplicas: wanted } } },
        description: `Raise maxReplicas of HorizontalPodAutoscaler ${hpa.name} from ${d.maxReplicas} to ${wanted}`,
        rationale: `The autoscaler wants more replicas than its ceiling of ${d.maxReplicas}. Check quota and node capacity: each extra replica needs room.`,
        verification: `Within ${verifyTimeout}: HorizontalPodAutoscaler ${hpa.name} is no longer ScalingLimited (TooManyReplicas).`,
        // More than doubling the ceiling multiplies cost and load on dependencies: a person decides.
        ...(wanted > d.maxReplicas * 2 ? { minimumRisk: 'high' as const } : {}),
      },
    ];
  }
  return [
    manual(
      hpa ?? finding.subject,
      facts,
      "Restore the autoscaler's metrics",
      `${finding.rootCause} Check the metrics API (kubectl get apiservice v1beta1.metrics.k8s.io; kubectl top pods).`,
      'The metrics pipeline is cluster infrastructure.',
    ),
  ];
};

const dependencyFailure: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (d.hostFix && workload && CONTROLLED.has(workload.kind)) {
    const spec = podTemplateOf(workload, facts);
    for (const entry of asArray(spec?.containers)) {
      const container = asObject(entry);
      const env = asArray(container?.env).filter((variable) =>
        (asString(at(variable, 'value')) ?? '').includes(d.hostFix!.from),
      );
      if (!container || env.length === 0) continue;
      const fixed = env.map((variable) => ({
        name: asString(at(variable, 'name')),
        value: asString(at(variable, 'value'))!.split(d.hostFix!.from).join(d.hostFix!.to),
      }));
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: containerPatch(workload.kind, asString(container.name) ?? '', { env: fixed }),
          },
          description: `Point ${fixed.map((v) => v.name).join(', ')} of ${describe(workload)} at ${d.hostFix.to}`,
          rationale: `${d.hostFix.from} does not resolve: the Service lives in another namespace. The corrected name ${d.hostFix.to} resolves to the existing Service.`,
          verification: rolloutVerification(
            workload,
            verifyTimeout,
            'the application connects and becomes ready',
          ),
        },
      ];
    }
  }
  return [
    manual(
      workloadOf(d, facts) ?? finding.subject,
      facts,
      `Restore the dependency ${d.dependency ?? ''}`.trim(),
      `${finding.rootCause} Check that ${d.dependency ?? 'the dependency'} is up and reachable from the namespace (Service and endpoints exist, DNS resolves, credentials and certificates are valid). Restart this workload only if it does not reconnect after the dependency is back.`,
      'The failure is outside this workload; changing it would not help.',
    ),
  ];
};

const permissionDenied: Builder = ({ finding, facts }) => {
  const d = finding.details;
  const rbac = d.rbac;
  const workload = workloadOf(d, facts);
  const dedicated = rbac ? dedicatedServiceAccount(facts, d.serviceAccount, rbac) : undefined;
  if (workload && CONTROLLED.has(workload.kind) && dedicated) {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: podSpecPatch(workload.kind, { serviceAccountName: dedicated.name }),
        },
        description: `Run ${describe(workload)} as ServiceAccount ${dedicated.name}`,
        rationale: `The pods run as ServiceAccount ${d.serviceAccount}, which is not allowed to ${rbac!.verb} ${rbac!.resource}. ServiceAccount ${dedicated.name} exists in the namespace and ${dedicated.why}. No permission is added.`,
        verification: rolloutVerification(
          workload,
          '2m',
          `the application no longer logs "forbidden" for ${rbac!.verb} ${rbac!.resource}`,
        ),
      },
    ];
  }
  if (rbac && rbac.namespace && d.serviceAccount && d.serviceAccount !== 'default') {
    const roleName = `${d.serviceAccount}-${rbac.resource.replace(/[^a-z0-9-]/g, '-')}-${rbac.verb}`
      .slice(0, 63)
      .replace(/-+$/, '');
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: roleName, namespace: rbac.namespace },
      rules: [{ apiGroups: [rbac.apiGroup], resources: [rbac.resource], verbs: [rbac.verb] }],
    };
    const serviceAccountNamespace = facts.namespace ?? rbac.namespace;
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: roleName, namespace: rbac.namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: d.serviceAccount, namespace: serviceAccountNamespace }],
    };
    return [
      {
        type: 'create',
        target: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          name: roleName,
          namespace: rbac.namespace,
        },
        params: { manifest: role },
        description: `Create Role ${roleName} allowing only ${rbac.verb} on ${rbac.resource} in ${rbac.namespace}`,
        rationale:
          'Grants exactly the verb, resource and API group named in the forbidden message, in that namespace only; never cluster-wide.',
        verification: `kubectl auth can-i ${rbac.verb} ${rbac.resource} -n ${rbac.namespace} --as=system:serviceaccount:${serviceAccountNamespace}:${d.serviceAccount} answers yes.`,
        minimumRisk: 'high',
      },
      {
        type: 'create',
        target: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          name: roleName,
          namespace: rbac.namespace,
        },
        params: { manifest: binding },
        description: `Bind Role ${roleName} to ServiceAccount ${d.serviceAccount}`,
        rationale: 'Binds the narrow Role to the one ServiceAccount that needs it.',
        verification: `The application no longer logs "forbidden" for ${rbac.verb} ${rbac.resource}.`,
        minimumRisk: 'high',
      },
    ];
  }
  return [
    manual(
      workload ?? finding.subject,
      facts,
      'Grant the missing permission (a person decides)',
      `${finding.rootCause} ${rbac && !rbac.namespace ? 'The request is cluster-scoped: a cluster administrator must decide whether to grant a ClusterRole with exactly this verb and resource (never cluster-admin).' : 'Check the ServiceAccount the workload runs as, and grant only the verb and resource named in the error.'}`,
      'Cluster-wide RBAC is a security decision.',
    ),
  ];
};

/** A ServiceAccount in the namespace that is already bound to a Role granting the denied request. */
function dedicatedServiceAccount(
  facts: Facts,
  current: string | undefined,
  rbac: NonNullable<FindingDetails['rbac']>,
): { name: string; why: string } | undefined {
  const grants = (roleName: string | undefined): boolean => {
    const role = facts.ctx.objects.find(
      (o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.name === roleName,
    );
    if (!role) return false;
    return asArray(role.raw.rules).some((rule) => {
      const verbs = asArray(at(rule, 'verbs')).map(String);
      const resources = asArray(at(rule, 'resources')).map(String);
      const groups = asArray(at(rule, 'apiGroups')).map(String);
      return (
        (verbs.includes(rbac.verb) || verbs.includes('*')) &&
        (resources.includes(rbac.resource) || resources.includes('*')) &&
        (groups.includes(rbac.apiGroup) || groups.includes('*'))
      );
    });
  };
  for (const binding of facts.ctx.objects.filter(
    (o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding',
  )) {
    const roleName = asString(at(binding.raw, 'roleRef', 'name'));
    for (const subject of asArray(binding.raw.subjects)) {
      if (asString(at(subject, 'kind')) !== 'ServiceAccount') continue;
      const name = asString(at(subject, 'name'));
      if (!name || name === current) continue;
      const exists = facts.ctx.objects.some((o) => o.kind === 'ServiceAccount' && o.name === name);
      const role = facts.ctx.objects.some(
        (o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.name === roleName,
      );
      if (grants(roleName))
        return {
          name,
          why: `is bound (${binding.kind} ${binding.name}) to ${roleName}, which allows exactly that`,
        };
      if (exists && !role && current === 'default' && facts.workload && name === facts.workload.name) {
        return { name, why: `is bound by ${binding.kind} ${binding.name} and named after the workload` };
      }
    }
  }
  return undefined;
}

const securityContext: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (!workload || !CONTROLLED.has(workload.kind)) {
    return [
      manual(
        workload ?? finding.subject,
        facts,
        'Fix the securityContext',
        finding.rootCause,
        'The pod has no controller that kubemend can patch.',
      ),
    ];
  }
  const verification = rolloutVerification(workload, verifyTimeout, 'the containers start');
  if ((d.securityProblem === 'run-as-root' || d.securityProblem === 'non-numeric-user') && d.container) {
    return [
      {
        type: 'patch',
        target: targetOf(workload),
        params: {
          patchType: 'strategic',
          patch: containerPatch(workload.kind, d.container, {
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 },
          }),
        },
        description: `Run container ${d.container} as the non-root UID 65532`,
        // The UID is a guess: the process may lose access to files it needs. A person approves.
        minimumRisk: 'high',
        rationale:
          'runAsNonRoot stays; the container is given an explicit numeric non-root user, so the kubelet can verify it. If the image needs root-owned paths, give it writable volumes (emptyDir) rather than root.',
        verification,
      },
    ];
  }
  if (d.securityProblem === 'pod-security') {
    const checks = (d.podSecurityChecks ?? []).join(' ');
    const template = podTemplateOf(workload, facts);
    const containers = asArray(template?.containers)
      .map((c) => asString(at(c, 'name')))
      .filter((n): n is string => n !== undefined);
    const containerFields: Record<string, unknown> = {};
    const podFields: Record<string, unknown> = {};
    if (/allowPrivilegeEscalation/.test(checks)) containerFields.allowPrivilegeEscalation = false;
    if (/capabilities/.test(checks)) containerFields.capabilities = { drop: ['ALL'] };
    if (/runAsNonRoot/.test(checks)) containerFields.runAsNonRoot = true;
    if (/seccompProfile/.test(checks)) podFields.seccompProfile = { type: 'RuntimeDefault' };
    if (/privileged/.test(checks) && !/allowPrivilegeEscalation/.test(checks))
      containerFields.privileged = false;
    const patchFields: Record<string, unknown> = {};
    if (Object.keys(podFields).length > 0) patchFields.securityContext = podFields;
    if (Object.keys(containerFields).length > 0 && containers.length > 0) {
      patchFields.containers = containers.map((name) => ({ name, securityContext: containerFields }));
    }
    if (
      Object.keys(patchFields).length > 0 &&
      !/hostPath|hostNetwork|hostPort|host namespaces/.test(checks)
    ) {
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: { patchType: 'strategic', patch: podSpecPatch(workload.kind, patchFields) },
          description: `Make ${describe(workload)} comply with the namespace's PodSecurity level`,
          rationale: `PodSecurity admission rejects the pods: ${checks}. The patch sets exactly the fields the checks name; it never relaxes the namespace's policy.`,
          verification,
        },
      ];
    }
  }
  if (d.securityProblem === 'filesystem' && d.writablePath && d.container) {
    const spec = podTemplateOf(workload, facts);
    const containerSpec = asArray(spec?.containers)
      .map(asObject)
      .find((c) => asString(c?.name) === d.container);
    const mounts = asArray(containerSpec?.volumeMounts).map((m) => ({
      name: asString(at(m, 'name')),
      path: asString(at(m, 'mountPath')),
    }));
    const onVolume = mounts.find(
      (m) => m.path && d.writablePath!.startsWith(m.path) && !/serviceaccount/.test(m.path),
    );
    if (onVolume && !d.readOnlyFilesystem) {
      const group = (at(containerSpec, 'securityContext', 'runAsGroup') ??
        at(spec, 'securityContext', 'runAsGroup') ??
        at(containerSpec, 'securityContext', 'runAsUser') ??
        at(spec, 'securityContext', 'runAsUser')) as number | undefined;
      if (typeof group === 'number' && group > 0) {
        return [
          {
            type: 'patch',
            target: targetOf(workload),
            params: {
              patchType: 'strategic',
              patch: podSpecPatch(workload.kind, {
                securityContext: { fsGroup: group, fsGroupChangePolicy: 'OnRootMismatch' },
              }),
            },
            description: `Set fsGroup ${group} on ${describe(workload)} so volume ${onVolume.name} is writable by its user`,
            rationale: `The process runs as group ${group} but volume ${onVolume.name} at ${onVolume.path} is owned by root; fsGroup makes the kubelet give the volume to that group. The container stays non-root.`,
            verification,
          },
        ];
      }
    }
    if (!onVolume) {
      const mountPath = /^\/tmp(?:\/|$)/.test(d.writablePath)
        ? '/tmp'
        : d.writablePath.replace(/\/[^/]+$/, '') || '/tmp';
      const volumeName = `writable-${
        mountPath
          .replace(/[^a-z0-9]+/gi, '-')
          .replace(/^-|-$/g, '')
          .toLowerCase() || 'tmp'
      }`.slice(0, 63);
      return [
        {
          type: 'patch',
          target: targetOf(workload),
          params: {
            patchType: 'strategic',
            patch: podSpecPatch(workload.kind, {
              volumes: [{ name: volumeName, emptyDir: {} }],
              containers: [{ name: d.container, volumeMounts: [{ name: volumeName, mountPath }] }],
            }),
          },
          description: `Mount a writable emptyDir at ${mountPath} in container ${d.container}`,
          rationale: `The application writes to ${d.writablePath}, which is on the ${d.readOnlyFilesystem ? 'read-only root filesystem' : 'image filesystem it may not write'}. An emptyDir gives it scratch space there while readOnlyRootFilesystem and the non-root user stay as they are.`,
          verification,
        },
      ];
    }
  }
  return [
    manual(
      workload,
      facts,
      'Give the process the filesystem access it needs, without root',
      `${finding.rootCause} Mount a writable emptyDir at the path the application writes to, or set fsGroup so volumes are group-writable. Do not run the container as root or privileged.`,
      'The writable path is not evident from the context.',
    ),
  ];
};

const cpuThrottling: Builder = ({ finding, facts, verifyTimeout }) => {
  const d = finding.details;
  const workload = workloadOf(d, facts);
  if (!workload || !CONTROLLED.has(workload.kind) || !d.container || d.cpuLimitMillicores === undefined) {
    return [
      manual(
        workload ?? finding.subject,
        facts,
        'Raise the CPU limit',
        `${finding.rootCause} Raise resources.limits.cpu (or remove the CPU limit while keeping requests, if your policy allows).`,
        'No CPU limit to patch was found.',
      ),
    ];
  }
  const target = Math.max(d.cpuLimitMillicores * 2, (d.observedCpuMillicores ?? 0) * 1.5);
  const newLimit = Math.ceil(target / 100) * 100;
  return [
    {
      type: 'patch',
      target: targetOf(workload),
      params: {
        patchType: 'strategic',
        patch: containerPatch(workload.kind, d.container, {
          resources: { limits: { cpu: formatCpu(newLimit) } },
        }),
      },
      description: `Raise the CPU limit of container ${d.container} from ${formatCpu(d.cpuLimitMillicores)} to ${formatCpu(newLimit)}`,
      rationale: `The container is throttled in ${Math.round((d.throttledRatio ?? 0) * 100)}% of CFS periods at its ${formatCpu(d.cpuLimitMillicores)} limit${d.observedCpuMillicores ? `; usage reaches ${Math.round(d.observedCpuMillicores)}m` : ''}. Requests are unchanged.`,
      verification: rolloutVerification(
        workload,
        verifyTimeout,
        'the throttling ratio falls below 25% and probe timeouts stop',
      ),
    },
  ];
};

const volumePending: Builder = ({ finding, facts }) => {
  const d = finding.details;
  const classes = facts
    .objectsOfKind('StorageClass')
    .map((sc) => sc.name)
    .filter(Boolean);
  return [
    manual(
      {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        name: d.claimName ?? 'unknown',
        namespace: facts.namespace,
      },
      facts,
      `Make PersistentVolumeClaim ${d.claimName ?? ''} bindable`,
      `${finding.rootCause} ${d.storageClass ? `StorageClass ${d.storageClass} must exist (kubectl get storageclass${classes.length ? `; present: ${classes.join(', ')}` : ''}). ` : ''}A PVC's storageClassName cannot be changed: if it is wrong and the claim is unbound and empty, re-create it with the right class. Check that the provisioner is running.`,
      'Storage classes are cluster-scoped and re-creating a claim is destructive: a person decides.',
      `kubectl describe pvc ${d.claimName ?? ''} -n ${facts.namespace ?? 'default'}`,
    ),
  ];
};

const unknown: Builder = ({ finding, facts }) => {
  const pod = facts.primaryPod?.name;
  const ns = facts.namespace ?? 'default';
  return [
    manual(
      finding.subject,
      facts,
      'Collect the signals needed to find the cause',
      `The cause is not determined. Gather: kubectl describe ${pod ? `pod/${pod}` : 'pod <pod>'} -n ${ns}; kubectl get events -n ${ns} --sort-by=.lastTimestamp; kubectl logs ${pod ? `pod/${pod}` : '<pod>'} -n ${ns} --previous. Then run kubemend again with that context (or against the live cluster).`,
      'Acting without a confirmed cause could make things worse.',
      `kubectl get events -n ${ns} --sort-by=.lastTimestamp`,
    ),
  ];
};

export const BUILDERS: Readonly<Record<Category, Builder>> = {
  'oom-killed': oomKilled,
  'crash-loop': crashLoop,
  'config-missing': configMissing,
  'image-pull-not-found': imagePullNotFound,
  'image-pull-auth': imagePullAuth,
  'invalid-command': invalidCommand,
  'liveness-probe-failure': probeFix,
  'readiness-probe-failure': probeFix,
  'insufficient-resources': insufficientResources,
  'scheduling-constraints': schedulingConstraints,
  'volume-pending': volumePending,
  'volume-mount-failure': volumeMountFailure,
  'node-not-ready': nodeNotReady,
  'node-pressure-eviction': nodePressure,
  'quota-exceeded': quotaExceeded,
  'rollout-stuck': rolloutStuck,
  'service-no-endpoints': serviceNoEndpoints,
  'job-failed': jobFailed,
  'hpa-limited': hpaLimited,
  'dependency-failure': dependencyFailure,
  'permission-denied': permissionDenied,
  'security-context': securityContext,
  'cpu-throttling': cpuThrottling,
  healthy: () => [],
  unknown,
};
