/** Human-readable rendering of a RemediateOutput for the terminal. */
import { objectLabel, type RemediateOutput } from '../domain/index.js';

export function renderText(output: RemediateOutput): string {
  const { analysis, remediation } = output;
  const lines: string[] = [];
  lines.push(`Status:      ${output.status}   (session ${output.sessionId})`);
  lines.push(
    `Category:    ${analysis.category}   confidence ${analysis.confidence.toFixed(2)}   source ${analysis.source}`,
  );
  if (analysis.target) {
    const { chosenBy, note } = analysis.target;
    const what = analysis.target.name ? objectLabel(analysis.target) : (analysis.target.namespace ?? 'none');
    lines.push(`Target:      ${what}   (chosen by ${chosenBy}: ${note})`);
  }
  lines.push('', 'Root cause:', `  ${analysis.rootCause}`);
  if (analysis.evidence.length > 0) {
    lines.push('', 'Evidence:');
    for (const quote of analysis.evidence) lines.push(`  > ${quote}`);
  }
  if (analysis.factors.length > 0) {
    lines.push('', 'Factors:');
    for (const factor of analysis.factors) lines.push(`  - ${factor}`);
  }
  lines.push('', `Remediation (overall risk ${remediation.risk}):`);
  if (remediation.actions.length === 0) lines.push('  none');
  for (const action of remediation.actions) {
    lines.push(
      `  [${action.id}] ${action.type} ${action.target.kind}/${action.target.name}${action.target.namespace ? ` -n ${action.target.namespace}` : ''}  risk ${action.risk}  → ${action.decision?.decision ?? ''}`,
    );
    lines.push(`       ${action.description}`);
    if (action.source) lines.push(`       from ${action.source}`);
    if (action.type === 'manual') lines.push(`       ${action.params.instructions}`);
    lines.push(`       $ ${action.command.split('\n')[0]}`);
    if (action.decision) lines.push(`       (${action.decision.reason})`);
  }
  if (output.history) {
    lines.push('', `History (as of ${output.history.asOf}):`);
    for (const effect of output.history.effects)
      lines.push(`  - ${effect.actionId ? `[${effect.actionId}] ` : ''}${effect.reason}`);
  }
  for (const result of output.results ?? [])
    lines.push(`  result ${result.actionId}: ${result.status}: ${result.message}`);
  for (const notice of output.notices ?? []) lines.push(`note: ${notice}`);
  return `${lines.join('\n')}\n`;
}
