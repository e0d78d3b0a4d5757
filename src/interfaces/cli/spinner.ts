/**
 * Progress on standard error while a command works: a spinner and the current phase, redrawn in
 * place — only when standard error is a terminal (never in pipes, logs or CI, and never on stdout,
 * which carries the answer). A few lines instead of a dependency.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Spinner {
  update(text: string): void;
  stop(): void;
}

const SILENT: Spinner = { update: () => undefined, stop: () => undefined };

export function startSpinner(stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!stream.isTTY) return SILENT;
  let text = '';
  let frame = 0;
  const draw = () => {
    const columns = stream.columns || 80;
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`.slice(0, columns + 5));
  };
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    update(next) {
      text = next;
      draw();
    },
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}
