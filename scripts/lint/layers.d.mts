/** Types of layers.mjs (the layer rules of eslint.config.js, generated from docs/architecture.md). */
import type { Linter } from 'eslint';

export interface Layer {
  /** The path without `src/`, e.g. `analysis/ai`, `app.ts`. */
  readonly id: string;
  readonly path: string;
  /** Layer ids this layer may import, or `*` for everything. */
  readonly mayImport: readonly string[] | '*';
}

export interface PackageRow {
  readonly names: readonly string[];
  readonly builtins: boolean;
  /** Layer ids that may import these packages. */
  readonly allowed: readonly string[];
  readonly message: string;
}

export interface Architecture {
  readonly layers: readonly Layer[];
  readonly packages: readonly PackageRow[];
  /** Files every layer (but `domain`) may import until they move into src/domain. */
  readonly shared: readonly string[];
}

export function parseArchitecture(markdown: string): Architecture;

export function layerBlocks(options?: {
  readonly root?: string;
  readonly markdown?: string;
  readonly syntax?: ReadonlyArray<string | { selector: string; message: string }>;
}): Array<Linter.Config & { files: string[] }>;
