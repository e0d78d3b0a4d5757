/**
 * YAML, loaded on first use: only a configuration, tokens or policy file needs it, and loading the
 * library costs a CLI run that reads none of them a noticeable share of its start-up.
 */
import { createRequire } from 'node:module';

type Parse = (text: string) => unknown;
let parse: Parse | undefined;

export function parseYaml(text: string): unknown {
  parse ??= (createRequire(import.meta.url)('yaml') as { parse: Parse }).parse;
  return parse(text);
}
