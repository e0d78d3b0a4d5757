/**
 * MCP tool `scan` (read-only): everything failing in the namespaces asked for, one finding per
 * object a person would change, with category, confidence, cause and the proposed actions. The
 * structured content is the `ScanReport`; the text is the table `kubemend scan` prints.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  InvalidInputError,
  ScanReportSchema,
  ScanRequestSchema,
  toFieldIssues,
} from '../../../domain/index.js';
import { requireScope } from '../../../auth/authenticator.js';
import { renderScanTable } from '../../render-scan.js';
import { type McpServerOptions, toolError } from '../server.js';

type Extra = {
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; message?: string };
  }) => Promise<void>;
};

export function registerScanTool(server: McpServer, options: McpServerOptions): void {
  server.registerTool(
    'scan',
    {
      title: 'Scan namespaces for failures (read-only)',
      description:
        'Finds every failing workload, Service, PersistentVolumeClaim, HorizontalPodAutoscaler, Job and Node in the namespaces given (or all), one finding per object a person would change, each with category, confidence, a one-line cause and the proposed actions with their risk. Never changes the cluster; to fix one, call analyze or remediate with its object as target.',
      inputSchema: ScanRequestSchema,
      outputSchema: ScanReportSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, extra): Promise<CallToolResult> => {
      try {
        const principal = options.principal();
        requireScope(principal, 'remediate:analyze');
        options.admit?.(principal, ['analyses']);
        const parsed = ScanRequestSchema.safeParse(args);
        if (!parsed.success) throw new InvalidInputError(toFieldIssues(parsed.error.issues));
        const token = (extra as unknown as Extra)._meta?.progressToken;
        let step = 0;
        const report = await options.service.scan(parsed.data, {
          onProgress:
            token === undefined
              ? undefined
              : (message) =>
                  void (extra as unknown as Extra)
                    .sendNotification({
                      method: 'notifications/progress',
                      params: { progressToken: token, progress: ++step, message },
                    })
                    .catch(() => undefined),
        });
        return {
          content: [{ type: 'text', text: renderScanTable(report) }],
          structuredContent: report as unknown as Record<string, unknown>,
        };
      } catch (error) {
        return toolError(error);
      }
    },
  );
}
