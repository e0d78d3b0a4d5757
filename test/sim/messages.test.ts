import { describe, expect, it } from 'vitest';
import { goDuration, kubeletMessages, normalizeImage, runtimeMessages } from './messages.js';

describe('kubelet and runtime wording', () => {
  it.each([
    [10_000, '10s'],
    [300_000, '5m0s'],
    [80_000, '1m20s'],
    [1_500, '1.5s'],
    [523, '523ms'],
    [3_723_000, '1h2m3s'],
  ])('goDuration(%i) = %s', (ms, text) => expect(goDuration(ms)).toBe(text));

  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['acme/api:v1', 'docker.io/acme/api:v1'],
    ['ghcr.io/acme/api:v1.4.0', 'ghcr.io/acme/api:v1.4.0'],
    ['localhost:5000/api', 'localhost:5000/api:latest'],
  ])('normalizeImage(%s)', (image, normalized) => expect(normalizeImage(image)).toBe(normalized));

  it('offers the legacy variants', () => {
    expect(kubeletMessages.created('api', 'current')).toBe('Created container: api');
    expect(kubeletMessages.created('api', 'legacy')).toBe('Created container api');
    expect(kubeletMessages.unableToMount(['cfg'], 'legacy')).toMatch(/timed out waiting for the condition$/);
    expect(kubeletMessages.imagePullBackOffWaiting('x', 'err', 'legacy')).toBe('Back-off pulling image "x"');
  });

  it('words exec failures as runc does', () => {
    expect(runtimeMessages.execNotFound('/app/missing')).toContain(
      'exec: "/app/missing": stat /app/missing: no such file or directory: unknown',
    );
  });
});
