/**
 * Crash loops: roll back the revision that introduced the crash, or set a missing variable from a
 * ConfigMap/Secret key of that name. Otherwise a person fixes the application: the advice names
 * the missing variable, the exhausted heap or the logs to read.
 */
import {
  advise,
  builderOf,
  describe,
  envFromKeyDraft,
  rollback,
  rolloutVerification,
  type Strategy,
} from './shared.js';

/** The application exits because a variable is not set, and a ConfigMap/Secret holds a key of that name. */
const missingVariable: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  if (!controlled || !d.missingEnv || !d.container) return undefined;
  return envFromKeyDraft(controlled, d.container, d.missingEnv, facts, {
    why: `The application exits because ${d.missingEnv} is not set`,
    verification: rolloutVerification(controlled, verifyTimeout, 'the container stays running'),
  });
};

export const crashLoop = builderOf(
  [rollback(() => 'The pods of the newest revision crash while the previous revision ran.'), missingVariable],
  (context) => {
    const { details: d, controlled, workload, facts } = context;
    if (d.configFile) {
      const at = `${d.configFile.line ? `line ${d.configFile.line}` : 'the line the program names'}${d.configFile.named ? ` (${d.configFile.named})` : ''}`;
      const where =
        d.configKind === 'ConfigMap' && d.configName
          ? `key ${d.configKey ?? ''} of ConfigMap ${d.configName} (mounted as ${d.configFile.path})`
          : `${d.configFile.path}`;
      const command =
        d.configKind === 'ConfigMap' && d.configName
          ? `kubectl edit configmap ${d.configName} -n ${context.namespace}`
          : undefined;
      return advise(context, {
        description: `Fix the configuration ${d.configName ? `in ConfigMap ${d.configName} (key ${d.configKey ?? ''})` : `file ${d.configFile.path}`}`,
        instructions: `The program exits at start-up because its configuration does not parse: ${at} of ${where}${d.crashLine ? ` — "${d.crashLine.trim()}"` : ''}. Correct it${command ? ` (${command})` : ''}; the crash-looping container reads the corrected file when it restarts.`,
        rationale:
          'kubemend does not write application configuration: the correct value is a person’s decision. No revision known to run well differs in a way that would fix it.',
        ...(command ? { command } : {}),
      });
    }
    if (controlled && d.missingEnv && d.container) {
      const command = `kubectl set env ${controlled.kind.toLowerCase()}/${controlled.name} -n ${controlled.namespace} -c ${d.container} ${d.missingEnv}=<value>`;
      return advise(context, {
        description: `Set the environment variable ${d.missingEnv}`,
        instructions: `Container ${d.container} of ${describe(controlled)} exits because ${d.missingEnv} is not set. Set it to the right value, e.g. ${command}, or reference a ConfigMap/Secret key.`,
        rationale: 'kubemend does not know the value the application needs.',
        command,
      });
    }
    if (d.heapExhausted) {
      return advise(context, {
        description: 'Raise the runtime heap limit (not the container limit)',
        instructions: `The runtime of container ${d.container ?? ''} exhausted its heap ("${d.crashLine ?? ''}"). Raise the heap size (JVM: -Xmx or -XX:MaxRAMPercentage; Node.js: --max-old-space-size) within the container memory limit, or fix the memory leak.`,
        rationale:
          'The container was not OOM-killed by the kernel: raising the container limit alone would not change the heap size.',
      });
    }
    const where = workload
      ? `${workload.kind.toLowerCase()}/${workload.name}`
      : `pod/${facts.primaryPod?.name ?? ''}`;
    const logs = `kubectl logs ${where} -n ${context.namespace} --previous`;
    return advise(context, {
      description: 'Fix the application error that makes it exit',
      instructions: `The application exits on its own${d.crashLine ? ` ("${d.crashLine.trim()}")` : ''}. Read the previous container's logs (${logs}), fix the configuration or code, and roll out a fixed revision.${d.exitCode !== undefined ? ` Exit code: ${d.exitCode}.` : ''}`,
      rationale: 'No safe automatic change addresses an application error; restarting would crash again.',
      command: logs,
    });
  },
);
