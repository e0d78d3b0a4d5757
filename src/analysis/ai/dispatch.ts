/**
 * Tool-call dispatch for the investigation loop: which calls run (at most a few per step, known
 * tools, well-formed input, time left), each bounded by the remaining wall-clock budget; outputs are
 * scrubbed, pruned to their share of the step's output budget, indexed as evidence (so the model can
 * quote them) and framed as untrusted data. Every failure is a tool result the model reads, never an
 * exception.
 */
import { sanitizeLogLine } from '../../context/log-summary.js';
import { type IncidentDocument, Scrubber, escapeForPrompt, indexLeaves, prune } from './document.js';
import type { ChatToolCall, ChatToolResult } from './model.js';
import { NO_MORE_TOOLS, toolDataMessage } from './prompt.js';
import type { Pseudonymizer } from './redaction.js';
import { type InvestigationTool, type ReadOnlyCluster, ToolRefusal } from './tools/index.js';

/** Tool calls executed per model step unless configured otherwise; more are answered with an error. */
export const MAX_TOOL_CALLS_PER_STEP = 4;
/** With less time than this left, a tool call is not started. */
const MIN_TOOL_MS = 100;

/** Ever tighter bounds for an output that does not fit its share. */
const PRUNE_STEPS = [
  { maxDepth: 8, maxArray: 15, maxString: 400 },
  { maxDepth: 6, maxArray: 8, maxString: 200 },
  { maxDepth: 4, maxArray: 4, maxString: 120 },
] as const;

export interface DispatchContext {
  readonly tools: readonly InvestigationTool[];
  readonly cluster: ReadOnlyCluster;
  /** The incident's namespace (real name). */
  readonly namespace: string | undefined;
  readonly scrubber: Scrubber;
  /** Tool outputs are added to its evidence index. */
  readonly document: IncidentDocument;
  /** Tool output per step, shared by the calls of that step. */
  readonly maxChars: number;
  readonly perStep: number;
  readonly nonce: string;
  readonly deadline: number;
  /** Restores pseudonymised names in the model's tool input. */
  readonly pseudonymizer: Pseudonymizer | undefined;
}

/** Answers every call with "not executed": the model may no longer investigate. */
export function refuseToolCalls(calls: readonly ChatToolCall[]): ChatToolResult[] {
  return calls.map((call) => ({
    toolCallId: call.id,
    toolName: call.name,
    output: NO_MORE_TOOLS,
    isError: true,
  }));
}

/** Runs the calls of one model step in parallel; one result per call, in order. */
export function dispatchToolCalls(
  calls: readonly ChatToolCall[],
  context: DispatchContext,
): Promise<ChatToolResult[]> {
  const share = Math.max(500, Math.floor(context.maxChars / Math.min(calls.length, context.perStep)));
  return Promise.all(calls.map((call, position) => dispatchOne(call, position, share, context)));
}

async function dispatchOne(
  call: ChatToolCall,
  position: number,
  share: number,
  context: DispatchContext,
): Promise<ChatToolResult> {
  const { scrubber, perStep } = context;
  const base = { toolCallId: call.id, toolName: call.name };
  const error = (message: string): ChatToolResult => ({
    ...base,
    output: scrubber.text(message, 500),
    isError: true,
  });
  if (position >= perStep) return error(`not executed: at most ${perStep} tool calls per step`);
  if (call.invalid) return error(`invalid tool call: ${call.invalid}`);
  const selected = context.tools.find((candidate) => candidate.name === call.name);
  if (!selected) return error(`unknown tool ${call.name}`);
  const input = context.pseudonymizer ? context.pseudonymizer.restoreDeep(call.input) : call.input;
  const remaining = context.deadline - Date.now();
  if (remaining < MIN_TOOL_MS) return error('not executed: the time budget is used up');
  let timer: NodeJS.Timeout | undefined;
  try {
    const output = await Promise.race([
      selected.run(input, { cluster: context.cluster, namespace: context.namespace }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new ToolRefusal('the read did not finish within the time budget')),
          remaining,
        );
      }),
    ]);
    const object = output.object ? scrubber.text(output.object, 300) : undefined;
    let view = scrubber.value(output.value);
    let json = escapeForPrompt(JSON.stringify(view));
    for (const bounds of PRUNE_STEPS) {
      if (json.length <= share) break;
      view = prune(view, bounds);
      json = escapeForPrompt(JSON.stringify(view));
    }
    if (json.length > share) json = `${json.slice(0, share)}…(truncated)`;
    indexLeaves(context.document.evidence, view, output.kind, 'cluster', object);
    context.document.evidence.add({
      text: JSON.stringify(view),
      kind: output.kind,
      origin: 'cluster',
      ...(object ? { object } : {}),
    });
    return { ...base, output: toolDataMessage(json, context.nonce) };
  } catch (failure) {
    if (failure instanceof ToolRefusal) return error(failure.message);
    const message = failure instanceof Error ? sanitizeLogLine(failure.message, 200) : 'unknown error';
    return error(`the read failed: ${message}`);
  } finally {
    clearTimeout(timer);
  }
}
