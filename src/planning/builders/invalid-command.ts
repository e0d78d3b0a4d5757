/**
 * A command that cannot be executed: roll back to the revision believed good that introduced it
 * (naming the command that revision runs when the new one is a typo of it); otherwise a person sets
 * a command that exists in the image.
 */
import { advise, builderOf, rollback } from './shared.js';

export const invalidCommand = builderOf(
  [rollback(() => "The newest revision's command cannot be executed.")],
  (context) => {
    const d = context.details;
    const meant = d.suggestedCommand ? ` Did you mean "${d.suggestedCommand}"?` : '';
    return advise(context, {
      description: `Fix the container command${d.executable ? ` "${d.executable}"` : ''} or image`,
      instructions: `Container ${d.container ?? ''} cannot start: ${d.crashLine ?? 'its command is not executable'}.${meant} Set command/args to a binary that exists in the image (or use an image built for the node's architecture).`,
      rationale: d.suggestedCommand
        ? 'No revision known to run well has the corrected command, so kubemend does not change it itself.'
        : 'kubemend does not know the intended command.',
    });
  },
);
