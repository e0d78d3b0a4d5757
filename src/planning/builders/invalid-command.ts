/**
 * A command that cannot be executed: roll back the revision that introduced it; otherwise a person
 * sets a command that exists in the image.
 */
import { advise, builderOf, rollback } from './shared.js';

export const invalidCommand = builderOf(
  [rollback(() => "The newest revision's command cannot be executed.")],
  (context) => {
    const d = context.details;
    return advise(context, {
      description: 'Fix the container command or image',
      instructions: `Container ${d.container ?? ''} cannot start: ${d.crashLine ?? 'its command is not executable'}. Set command/args to a binary that exists in the image (or use an image built for the node's architecture).`,
      rationale: 'kubemend does not know the intended command.',
    });
  },
);
