/**
 * kubemend as an MCP server (official TypeScript SDK). Thin: tools parse, call the service,
 * translate errors into `isError` results with a hint.
 *
 * Tools (annotations are truthful):
 * - `analyze`  read-only: diagnoses and proposes; never changes the cluster (mode forced to manual).
 * - `approve`  destructive: approves pending actions of a session by id and executes them.
 * - `reject`   rejects a pending session (no cluster change).
 * - `remediate` the contract facade: RemediateInput in, RemediateOutput out; destructive, open-world.
 *   When actions wait and the client supports elicitation, the person is asked inline.
 * Resources: kubemend://sessions/{id} and kubemend://sessions/{id}/audit.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  executesUnattended,
  ClusterNameSchema,
  type ErrorCode,
  errorMapping,
  excessiveNesting,
  InvalidInputError,
  KubemendError,
  RemediateContextSchema,
  type RemediateInput,
  RemediateInputSchema,
  type RemediateOutput,
  RemediateOutputSchema,
  TargetSchema,
} from '../../domain/index.js';
import { toFieldIssues } from '../../domain/validation.js';
import { type Principal, requireScope } from '../../auth/authenticator.js';
import type { Phase, RemediationService } from '../../service/remediation-service.js';
import { describeFailure } from '../failure.js';
import { type WorkKind, workOf } from '../rate-limit.js';
import { renderText } from '../render.js';
import { registerScanTool } from './tools/scan.js';

export const SERVER_INFO = { name: 'kubemend', version: '0.1.0' } as const;

const AnalyzeInputSchema = z.strictObject({
  issue: z.string().min(1).max(10_000).describe('What is wrong, in words'),
  context: RemediateContextSchema.optional(),
  target: TargetSchema.optional(),
  policy: z.string().min(1).max(128).optional(),
  cluster: ClusterNameSchema.optional(),
});

const ApproveInputSchema = z.strictObject({
  sessionId: z.string().min(1).max(128),
  actionIds: z.array(z.string().min(1)).min(1).optional().describe('default: every action awaiting approval'),
  planHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

const RejectInputSchema = z.strictObject({
  sessionId: z.string().min(1).max(128),
  reason: z.string().max(2_000).optional(),
});

type Extra = {
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; total?: number; message?: string };
  }) => Promise<void>;
};

const PHASE_ORDER: readonly Phase[] = [
  'queued',
  'gathering',
  'analyzing',
  'planning',
  'executing',
  'verifying',
  'done',
];

function progressReporter(extra: Extra): ((phase: Phase, message: string) => void) | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  return (phase, message) => {
    const progress = Math.max(1, PHASE_ORDER.indexOf(phase) + 1);
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress, total: PHASE_ORDER.length, message },
      })
      .catch(() => undefined);
  };
}

function success(output: RemediateOutput, extraText = ''): CallToolResult {
  const planHint =
    output.status === 'pending'
      ? `\nTo execute the pending actions, call the approve tool with sessionId "${output.sessionId}"${
          output.remediation.actions.some((a) => a.decision?.decision === 'await-approval')
            ? ` (actions: ${output.remediation.actions
                .filter((a) => a.decision?.decision === 'await-approval')
                .map((a) => a.id)
                .join(', ')})`
            : ''
        }.`
      : '';
  return {
    content: [{ type: 'text', text: `${renderText(output)}${planHint}${extraText}` }],
    structuredContent: output as unknown as Record<string, unknown>,
  };
}

/** Where a tool error result carries its code (and the offending fields) for programs. */
export const ERROR_META_KEY = 'kubemend.dev/error';

/** A failed tool call: `isError: true`, the message, the code and the table's next step. */
export function toolError(error: unknown): CallToolResult {
  const failure = describeFailure(error);
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `${failure.message}\n${errorMapping(failure.code).mcp.hint} (error code: ${failure.code})`,
      },
    ],
    _meta: { [ERROR_META_KEY]: { code: failure.code, errors: failure.issues } },
  };
}

/** A failed request that is not a tool call (a resource read): a JSON-RPC error from the table. */
export class McpRequestError extends Error {
  readonly code: number;
  readonly data: { readonly code: ErrorCode };

  constructor(error: unknown) {
    const failure = describeFailure(error);
    super(failure.message);
    this.name = 'McpRequestError';
    this.code = errorMapping(failure.code).mcp.rpc;
    this.data = { code: failure.code };
  }
}

/** Tool arguments: no deeper than `MAX_JSON_DEPTH`, then the tool's schema; each failure names the field. */
function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const tooDeep = excessiveNesting(value);
  if (tooDeep) throw new InvalidInputError([tooDeep]);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(toFieldIssues(parsed.error.issues));
  return parsed.data;
}

export interface McpServerOptions {
  readonly service: RemediationService;
  /** The caller: the local user over stdio, the authenticated principal over HTTP. */
  readonly principal: () => Principal;
  /**
   * Admission of a tool call by the caller's rate limits (HTTP): throws `rate-limited` when a
   * bucket is empty. Absent over stdio (one local user).
   */
  readonly admit?: (principal: Principal, work: readonly WorkKind[]) => void;
}

export function createMcpServer(options: McpServerOptions): McpServer {
  const { service } = options;
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: {}, resources: {}, logging: {} },
    instructions:
      'kubemend diagnoses Kubernetes failures and proposes typed, risk-rated actions. Use `analyze` to diagnose safely (nothing changes). ' +
      'Actions that need approval come back as `pending` with a sessionId; approve them with `approve` (or inline when asked). Never approve without reading the actions and their risk.',
  });

  /** Ask the person inline (elicitation) to approve pending actions, when the client can. */
  const askApproval = async (
    output: RemediateOutput,
    extra: Extra,
    principal: Principal,
  ): Promise<RemediateOutput | undefined> => {
    const capabilities = server.server.getClientCapabilities();
    if (!capabilities?.elicitation) return undefined;
    const waiting = output.remediation.actions.filter((a) => a.decision?.decision === 'await-approval');
    if (waiting.length === 0 || !principal.scopes.has('remediate:execute')) return undefined;
    const summary = waiting
      .map(
        (a) =>
          `${a.id}: ${a.type} ${a.target.kind}/${a.target.name} — ${a.risk} risk — ${a.description}\n   ${a.command.split('\n')[0]}`,
      )
      .join('\n');
    const answer = await server.server.elicitInput({
      message: `kubemend found: ${output.analysis.rootCause}\n\nApprove these actions?\n${summary}`,
      requestedSchema: {
        type: 'object',
        properties: {
          approve: {
            type: 'boolean',
            title: 'Approve and execute',
            description: `Executes ${waiting.map((a) => a.id).join(', ')} now`,
          },
        },
        required: ['approve'],
      },
    });
    if (answer.action !== 'accept' || answer.content?.approve !== true) return undefined;
    options.admit?.(principal, ['executions']);
    return service.approve(output.sessionId, {
      approver: principal.name,
      actionIds: waiting.map((a) => a.id),
      onProgress: progressReporter(extra),
    });
  };

  server.registerTool(
    'analyze',
    {
      title: 'Analyse a Kubernetes issue (read-only)',
      description:
        'Finds the root cause of a Kubernetes failure and proposes typed, risk-rated remediation actions. Never changes the cluster.',
      inputSchema: AnalyzeInputSchema,
      outputSchema: RemediateOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        const principal = options.principal();
        requireScope(principal, 'remediate:analyze');
        const input = validate(RemediateInputSchema, { ...args, mode: 'manual' }) as RemediateInput;
        options.admit?.(principal, ['analyses']);
        const output = await service.remediate(input, {
          actor: principal.name,
          canExecute: false,
          onProgress: progressReporter(extra as unknown as Extra),
        });
        return success(output);
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'remediate',
    {
      title: 'Remediate a Kubernetes issue',
      description:
        'The full kubemend contract: analyse, propose, and — as the mode (manual|automatic|hybrid) and policy allow — execute with server-side dry-run, verification and rollback. ' +
        'Pending actions can be approved inline (if your client supports it) or with the approve tool.',
      inputSchema: RemediateInputSchema,
      outputSchema: RemediateOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        const principal = options.principal();
        requireScope(principal, 'remediate:analyze');
        const input = validate(RemediateInputSchema, args) as RemediateInput;
        const canExecute = principal.scopes.has('remediate:execute');
        if ((input.approve || executesUnattended(input.mode)) && !canExecute)
          requireScope(principal, 'remediate:execute');
        options.admit?.(principal, workOf(input));
        const reporter = progressReporter(extra as unknown as Extra);
        const output = await service.remediate(input, {
          actor: principal.name,
          canExecute,
          onProgress: reporter,
        });
        if (output.status === 'pending' && service.cluster) {
          const approved = await askApproval(output, extra as unknown as Extra, principal).catch(
            () => undefined,
          );
          if (approved) return success(approved, '\n(approved inline)');
        }
        return success(output);
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'approve',
    {
      title: 'Approve and execute pending actions',
      description:
        'Approves pending actions of a kubemend session and executes them (dry-run, apply, verify, roll back on failure). Changes the cluster.',
      inputSchema: ApproveInputSchema,
      outputSchema: RemediateOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        const principal = options.principal();
        requireScope(principal, 'remediate:execute');
        const input = validate(ApproveInputSchema, args);
        options.admit?.(principal, ['executions']);
        const output = await service.approve(input.sessionId, {
          approver: principal.name,
          actionIds: input.actionIds,
          planHash: input.planHash,
          onProgress: progressReporter(extra as unknown as Extra),
        });
        return success(output);
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'reject',
    {
      title: 'Reject a pending session',
      description: 'Rejects the pending actions of a kubemend session. Changes nothing in the cluster.',
      inputSchema: RejectInputSchema,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async (args) => {
      try {
        const principal = options.principal();
        requireScope(principal, 'remediate:execute');
        const input = validate(RejectInputSchema, args);
        const session = await service.reject(input.sessionId, {
          approver: principal.name,
          reason: input.reason,
        });
        return { content: [{ type: 'text', text: `Session ${session.id} rejected.` }] };
      } catch (error) {
        return toolError(error);
      }
    },
  );

  registerScanTool(server, options);

  server.registerResource(
    'session',
    new ResourceTemplate('kubemend://sessions/{sessionId}', { list: undefined }),
    {
      title: 'A kubemend session',
      description: 'Input, analysis, actions, approvals, state and results',
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      try {
        requireScope(options.principal(), 'remediate:analyze');
        const id = String(variables.sessionId);
        const session = await service.session(id);
        if (!session) throw new KubemendError('session-not-found', `session ${id} not found`);
        return {
          contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(session, null, 2) }],
        };
      } catch (error) {
        throw new McpRequestError(error);
      }
    },
  );

  server.registerResource(
    'session-audit',
    new ResourceTemplate('kubemend://sessions/{sessionId}/audit', { list: undefined }),
    {
      title: "A kubemend session's audit trail",
      description: 'Hash-chained audit records of the session',
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      try {
        requireScope(options.principal(), 'audit:read');
        const records = await service.auditRecorder.list({ sessionId: String(variables.sessionId) });
        return {
          contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(records, null, 2) }],
        };
      } catch (error) {
        throw new McpRequestError(error);
      }
    },
  );

  return server;
}
