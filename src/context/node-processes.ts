/**
 * Node-level events name a process, not a pod: the kubelet's `SystemOOM` ("System OOM encountered,
 * victim process: java, pid: 2231947") and node-problem-detector's `OOMKilling` ("Killed process
 * 2231947 (java) total-vm:…"). These helpers read the process name and find the container that
 * runs it, from the container's command, its arguments, its name or its image.
 */
import { asArray, asString, at } from '../domain/index.js';

const VICTIM = [
  /victim process: ([^,\s]+)/,
  /Killed process \d+ \(([^)]+)\)/,
  /Out of memory: Kill(?:ed)? process \d+ \(([^)]+)\)/,
];

/** The process a node's OOM event names, if it names one. */
export function victimProcess(message: string): string | undefined {
  for (const pattern of VICTIM) {
    const name = pattern.exec(message)?.[1];
    if (name) return name;
  }
  return undefined;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'tini', 'dumb-init', 'env']);

function basename(path: string): string {
  return path.split('/').at(-1) ?? path;
}

/** Does this container (a spec from a pod or template) run the named process? */
export function containerRunsProcess(container: unknown, process: string): boolean {
  const command = asArray(at(container, 'command'))
    .map((part) => asString(part) ?? '')
    .filter(Boolean);
  const args = asArray(at(container, 'args'))
    .map((part) => asString(part) ?? '')
    .filter(Boolean);
  const words = [...command, ...args];
  const first = words[0];
  if (first && basename(first) === process) return true;
  // `sh -c "exec java -jar …"`, `tini -- java …`: the program a wrapper starts.
  if (first && SHELLS.has(basename(first))) {
    const rest = words.slice(1).join(' ');
    if (new RegExp(`(?:^|[\\s/;&|])${process.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\s|$)`).test(rest))
      return true;
  }
  if (asString(at(container, 'name')) === process) return true;
  const image = asString(at(container, 'image')) ?? '';
  const repository = basename(image.split('@')[0]!.replace(/:[^/:]+$/, ''));
  return repository === process;
}
