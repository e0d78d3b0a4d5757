import { describe, expect, it } from 'vitest';
import {
  closestCommand,
  closestImage,
  closestName,
  editDistance,
  parseImage,
  typoDistance,
} from './near-miss.js';

describe('did you mean', () => {
  it('counts a swap of neighbouring characters as one typo', () => {
    expect(editDistance('ngnix', 'nginx')).toBe(2);
    expect(typoDistance('ngnix', 'nginx')).toBe(1);
    expect(typoDistance('gunicron', 'gunicorn')).toBe(1);
    expect(typoDistance('abc', 'abc')).toBe(0);
  });

  it('suggests a command one or two typos away, never an unrelated short one', () => {
    expect(closestCommand('ngnix', ['nginx', '/docker-entrypoint.sh'])).toBe('nginx');
    expect(closestCommand('pyhton', ['python3', 'python'])).toBe('python');
    expect(closestCommand('ls', ['ps'])).toBeUndefined();
    expect(closestCommand('celery-worker', ['celery'])).toBeUndefined();
  });

  it('suggests a known image whose tag differs by a typo or a v prefix, not by a version bump', () => {
    expect(closestImage('ghcr.io/acme/web:2.0.0', ['ghcr.io/acme/web:v2.0.0'])).toBe(
      'ghcr.io/acme/web:v2.0.0',
    );
    expect(closestImage('shop/cart:v2.4.1', ['shop/cart:2.4.1'])).toBe('shop/cart:2.4.1');
    expect(closestImage('redis:7.2.4-alpnie', ['docker.io/library/redis:7.2.4-alpine'])).toBe(
      'docker.io/library/redis:7.2.4-alpine',
    );
    expect(closestImage('ghcr.io/acme/web:v2.0.1', ['ghcr.io/acme/web:v2.0.0'])).toBeUndefined();
    expect(closestImage('ghcr.io/acme/api:v2.0.0', ['ghcr.io/acme/web:v2.0.0'])).toBeUndefined();
    expect(closestImage('ghcr.io/acme/web:2.0.0-rc1', ['ghcr.io/acme/web:1.6.3'])).toBeUndefined();
  });

  it('reads image references the way registries resolve them', () => {
    expect(parseImage('redis:7')).toEqual({ repository: 'library/redis', tag: '7' });
    expect(parseImage('registry.local:5000/team/app')).toEqual({
      repository: 'registry.local:5000/team/app',
    });
    expect(parseImage('ghcr.io/a/b@sha256:abc')).toEqual({ repository: 'ghcr.io/a/b', digest: 'sha256:abc' });
  });

  it('keeps the name suggestion for ConfigMaps and labels', () => {
    expect(closestName('app-confg', ['app-config', 'other'])).toBe('app-config');
    expect(closestName('x', ['completely-different'])).toBeUndefined();
  });
});
