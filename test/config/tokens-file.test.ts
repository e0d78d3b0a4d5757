// auth.tokensFile: static tokens kept in a separate file (in Kubernetes, a mounted Secret) are
// added to the inline ones and validated with them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/configuration.js';

const dir = mkdtempSync(join(tmpdir(), 'km-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SHA = 'a'.repeat(64);

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('auth.tokensFile', () => {
  it('adds the file’s tokens after the inline ones (environment variable or configuration key)', () => {
    const path = file('tokens.yaml', `- { name: ci, sha256: ${SHA}, scopes: [remediate:analyze] }\n`);
    const fromEnv = loadConfiguration({
      env: { KUBEMEND_AUTH_TOKENS_FILE: path },
      flags: { auth: { tokens: [{ name: 'ops', sha256: 'b'.repeat(64), scopes: ['audit:read'] }] } },
    });
    expect(fromEnv.auth.tokens.map((token) => token.name)).toEqual(['ops', 'ci']);
    const fromKey = loadConfiguration({ env: {}, flags: { auth: { tokensFile: path } } });
    expect(fromKey.auth.tokens).toEqual([{ name: 'ci', sha256: SHA, scopes: ['remediate:analyze'] }]);
  });

  it('validates the file’s entries like inline ones', () => {
    const path = file('bad.yaml', `- { name: ci, sha256: not-a-digest, scopes: [remediate:analyze] }\n`);
    expect(() => loadConfiguration({ env: { KUBEMEND_AUTH_TOKENS_FILE: path } })).toThrow(
      /auth\.tokens\[0\]\.sha256: sha256 hex digest of the token/,
    );
  });

  it('names the setting when the file is missing or not a list; an empty file adds nothing', () => {
    expect(() => loadConfiguration({ env: { KUBEMEND_AUTH_TOKENS_FILE: join(dir, 'absent') } })).toThrow(
      /tokens file .*absent cannot be read \(auth\.tokensFile \/ KUBEMEND_AUTH_TOKENS_FILE\)/,
    );
    const mapping = file('mapping.yaml', 'tokens: []\n');
    expect(() => loadConfiguration({ env: { KUBEMEND_AUTH_TOKENS_FILE: mapping } })).toThrow(
      /must hold a list/,
    );
    const empty = file('empty.yaml', '');
    expect(loadConfiguration({ env: { KUBEMEND_AUTH_TOKENS_FILE: empty } }).auth.tokens).toEqual([]);
  });
});
