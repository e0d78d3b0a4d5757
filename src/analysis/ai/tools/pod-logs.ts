import { z } from 'zod';
import { objectLabel, asArray, at } from '../../../domain/index.js';
import { sanitizeLogLine } from '../../../context/log-summary.js';
import { ToolRefusal, defineTool, getOrRefuse, namespaceOf, objectName } from './tool.js';

const PodLogsInput = z.object({
  pod: objectName,
  container: z.string().min(1).max(253).optional(),
  previous: z.boolean().optional().describe('Logs of the previous (crashed) container instance'),
  tailLines: z.number().int().min(1).max(500).optional().describe('Default 200'),
  grep: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Case-insensitive substring; only matching lines are returned'),
});

export const podLogs = defineTool(
  'pod_logs',
  "A pod container's log: the last lines (tailLines, default 200), optionally of the previous instance, optionally only lines containing `grep`.",
  PodLogsInput,
  async (input, context) => {
    const namespace = namespaceOf(context);
    let container = input.container;
    if (!container) {
      const pod = await getOrRefuse(context, 'Pod', input.pod, namespace);
      const first = at(asArray(at(pod, 'spec', 'containers'))[0], 'name');
      container = typeof first === 'string' ? first : undefined;
      if (!container) throw new ToolRefusal(`pod ${input.pod} has no containers`);
    }
    const tailLines = input.tailLines ?? 200;
    const text = await context.cluster.logs(namespace, input.pod, container, {
      previous: input.previous === true,
      // With a filter, read more so that the matching lines are found.
      tailLines: input.grep ? Math.min(5_000, tailLines * 10) : tailLines,
      limitBytes: 1_000_000,
    });
    let lines = text.split('\n').filter((line) => line !== '');
    if (input.grep) {
      const needle = input.grep.toLowerCase();
      lines = lines.filter((line) => line.toLowerCase().includes(needle));
    }
    lines = lines.slice(-tailLines).map((line) => sanitizeLogLine(line, 1_000));
    return {
      value: { container, previous: input.previous === true, lines },
      kind: 'log',
      object: objectLabel({ kind: 'Pod', namespace, name: input.pod }),
    };
  },
);
