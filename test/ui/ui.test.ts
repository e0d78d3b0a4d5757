/**
 * The approvals page through HTTP (fastify inject, an in-memory cluster and stores): sign-in with
 * the API's tokens and the cookie it sets; expiry; a tampered cookie; CSRF and origin checks on
 * every change; scopes as in the API; approvals bound to the plan hash (a stale one is refused
 * with a page saying so, and nothing runs); reject with a note; everything from a session escaped;
 * security headers; the JSON API still takes no forms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import { Authenticator } from '../../src/auth/authenticator.js';
import { CONTENT_SECURITY_POLICY } from '../../src/interfaces/ui/plugin.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import { loadPolicies } from '../../src/config/policies.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment, memoryPatch } from '../support/workloads.js';
import {
  csrfOf,
  FORM,
  pendingSession,
  signIn,
  TOKENS,
  uiConfiguration,
  uiHarness,
  type UiHarness,
} from './support.js';

const AWAIT = { decision: 'await-approval', reason: 'manual mode: a person approves' } as const;
let harness: UiHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setup() {
  const gateway = new InMemoryClusterGateway([deployment('web')]);
  harness = await uiHarness({ cluster: gateway });
  await pendingSession(harness.sessions, 's1', [memoryPatch('a1', 'web', '512Mi', AWAIT)]);
  return { ...harness, gateway };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('sign-in', () => {
  it('sends a reader without a sign-in to the login page, and serves the assets to anyone', async () => {
    const { app } = await setup();
    const page = await app.inject({ method: 'GET', url: '/ui/sessions/s1' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/ui/login?next=%2Fui%2Fsessions%2Fs1');
    const css = await app.inject({ method: 'GET', url: '/ui/assets/ui.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    const again = await app.inject({
      method: 'GET',
      url: '/ui/assets/ui.js',
      headers: {
        'if-none-match': String((await app.inject({ method: 'GET', url: '/ui/assets/ui.js' })).headers.etag),
      },
    });
    expect(again.statusCode).toBe(304);
  });

  it('exchanges a valid token for an HttpOnly, SameSite=Strict cookie on /ui (Secure over https)', async () => {
    const { app } = await setup();
    const response = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: FORM,
      payload: form({ token: TOKENS.operator, next: '/ui/sessions/s1' }),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/ui/sessions/s1');
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/^kubemend_ui=[^;]+;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/ui');
    expect(cookie).toContain('Max-Age=28800');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain(TOKENS.operator);
    const https = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { ...FORM, 'x-forwarded-proto': 'https' },
      payload: form({ token: TOKENS.operator }),
    });
    expect(String(https.headers['set-cookie'])).toContain('Secure');
  });

  it('refuses a wrong token (401), a token without the read scope (403) and an off-site next', async () => {
    const { app } = await setup();
    const wrong = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: FORM,
      payload: form({ token: 'not-a-token' }),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('That token is not valid.');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const auditor = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: FORM,
      payload: form({ token: TOKENS.auditor }),
    });
    expect(auditor.statusCode).toBe(403);
    expect(auditor.body).toContain('lacks the remediate:analyze scope');
    const offsite = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: FORM,
      payload: form({ token: TOKENS.reader, next: '//evil.example/x' }),
    });
    expect(offsite.headers.location).toBe('/ui/sessions');
  });

  it('an expired sign-in, a tampered cookie and a signed-out cookie are sent back to sign in', async () => {
    const { app, clock } = await setup();
    const { cookie, csrf } = await signIn(app, TOKENS.operator);
    expect((await app.inject({ method: 'GET', url: '/ui/sessions', headers: { cookie } })).statusCode).toBe(
      200,
    );
    const tampered = cookie.replace(/=(.)/, (_m, c: string) => `=${c === 'A' ? 'B' : 'A'}`);
    expect(
      (await app.inject({ method: 'GET', url: '/ui/sessions', headers: { cookie: tampered } })).headers
        .location,
    ).toMatch(/^\/ui\/login/);
    clock.advance(8 * 3_600_000 + 1);
    const expired = await app.inject({ method: 'GET', url: '/ui/sessions', headers: { cookie } });
    expect(expired.statusCode).toBe(303);
    expect(expired.headers.location).toContain('expired=1');
    const post = await app.inject({
      method: 'POST',
      url: '/ui/sessions/s1/reject',
      headers: { ...FORM, cookie },
      payload: form({ _csrf: csrf }),
    });
    expect(post.statusCode).toBe(401);
    const fresh = await signIn(app, TOKENS.operator);
    const out = await app.inject({
      method: 'POST',
      url: '/ui/logout',
      headers: { ...FORM, cookie: fresh.cookie },
      payload: form({ _csrf: fresh.csrf }),
    });
    expect(out.statusCode).toBe(303);
    expect(
      (await app.inject({ method: 'GET', url: '/ui/sessions', headers: { cookie: fresh.cookie } })).headers
        .location,
    ).toMatch(/^\/ui\/login/);
  });
});

describe('changes: CSRF, origin, scopes, plan hash', () => {
  it('refuses a POST without the CSRF token, with another one, cross-site or from a foreign origin — and changes nothing', async () => {
    const { app, sessions, gateway } = await setup();
    const { cookie, csrf } = await signIn(app, TOKENS.operator);
    const planHash = (await sessions.get('s1'))!.planHash!;
    const attempts: Array<{ headers: Record<string, string>; fields: Record<string, string> }> = [
      { headers: {}, fields: { planHash } },
      { headers: {}, fields: { planHash, _csrf: `${csrf.slice(0, -2)}xx` } },
      { headers: { 'sec-fetch-site': 'cross-site' }, fields: { planHash, _csrf: csrf } },
      { headers: { 'sec-fetch-site': 'same-site' }, fields: { planHash, _csrf: csrf } },
      { headers: { origin: 'http://evil.example' }, fields: { planHash, _csrf: csrf } },
    ];
    for (const attempt of attempts) {
      const response = await app.inject({
        method: 'POST',
        url: '/ui/sessions/s1/approve',
        headers: { ...FORM, cookie, host: 'kubemend.local', ...attempt.headers },
        payload: form(attempt.fields),
      });
      expect(response.statusCode, JSON.stringify(attempt)).toBe(403);
      expect(response.headers['content-type']).toContain('text/html');
    }
    expect((await sessions.get('s1'))!.state).toBe('pending');
    expect(gateway.writes.filter((w) => !w.dryRun)).toEqual([]);
  });

  it('a reader sees no decision forms and cannot approve; without audit:read the audit log is withheld', async () => {
    const { app, sessions } = await setup();
    const { cookie, csrf } = await signIn(app, TOKENS.reader);
    const page = await app.inject({ method: 'GET', url: '/ui/sessions/s1', headers: { cookie } });
    expect(page.body).not.toContain('id="approve-form"');
    expect(page.body).toContain('needs the remediate:execute scope');
    expect(page.body).toContain('needs the audit:read scope');
    const approve = await app.inject({
      method: 'POST',
      url: '/ui/sessions/s1/approve',
      headers: { ...FORM, cookie },
      payload: form({ _csrf: csrf, planHash: (await sessions.get('s1'))!.planHash! }),
    });
    expect(approve.statusCode).toBe(403);
    expect((await sessions.get('s1'))!.state).toBe('pending');
  });

  it('shows the dry-run diff, refuses a stale plan hash with a page that says so, and approves the current one', async () => {
    const { app, sessions, gateway } = await setup();
    const { cookie, csrf } = await signIn(app, TOKENS.operator);
    const page = await app.inject({ method: 'GET', url: '/ui/sessions/s1', headers: { cookie } });
    expect(page.body).toContain('id="approve-form"');
    expect(page.body).toMatch(/class="diff-added">\+\s+memory: 512Mi/);
    expect(page.body).toContain('chain intact');
    const stale = await app.inject({
      method: 'POST',
      url: '/ui/sessions/s1/approve',
      headers: { ...FORM, cookie },
      payload: form({ _csrf: csrf, planHash: 'a'.repeat(64), actionIds: 'a1' }),
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('the plan changed after this page was rendered');
    expect((await sessions.get('s1'))!.state).toBe('pending');
    expect(gateway.writes.filter((w) => !w.dryRun)).toEqual([]);

    const planHash = csrfOf(page.body) && /name="planHash"\s+value="([^"]+)"/.exec(page.body)![1]!;
    const none = await app.inject({
      method: 'POST',
      url: '/ui/sessions/s1/approve',
      headers: { ...FORM, cookie },
      payload: form({ _csrf: csrf, planHash }),
    });
    expect(none.statusCode, 'no ticked action approves nothing').toBe(400);
    expect(none.body).toContain('tick at least one action');
    expect((await sessions.get('s1'))!.state).toBe('pending');
    const approve = await app.inject({
      method: 'POST',
      url: '/ui/sessions/s1/approve',
      headers: { ...FORM, cookie },
      payload: form({ _csrf: csrf, planHash, actionIds: 'a1', note: 'looked at the graphs' }),
    });
    expect(approve.statusCode).toBe(303);
    expect(approve.headers.location).toBe('/ui/sessions/s1');
    for (let i = 0; i < 200 && (await sessions.get('s1'))!.state !== 'verified'; i++)
      await new Promise((r) => setTimeout(r, 5));
    const done = (await sessions.get('s1'))!;
    expect(done.state).toBe('verified');
    expect(done.approvals[0]).toMatchObject({
      approver: 'token:operator',
      planHash,
      note: 'looked at the graphs',
    });
    const after = await app.inject({ method: 'GET', url: '/ui/sessions/s1', headers: { cookie } });
    expect(after.body).toContain('The snapshot taken before the change → the object now');
    expect(after.body).toContain('looked at the graphs');
  });

  it('rejects with a note', async () => {
    const { app, sessions } = await setup();
    const { cookie, csrf } = await signIn(app, TOKENS.operator);
    const response = await app.inject({
      method: 'POST',
      url: '/ui/sessions/s1/reject',
      headers: { ...FORM, cookie },
      payload: form({ _csrf: csrf, note: 'not during the sale' }),
    });
    expect(response.statusCode).toBe(303);
    expect((await sessions.get('s1'))!).toMatchObject({
      state: 'rejected',
      rejection: { approver: 'token:operator', reason: 'not during the sale' },
    });
  });
});

describe('pages', () => {
  it('escapes everything that comes from a session, and sends the security headers', async () => {
    const { app, sessions } = await setup();
    await pendingSession(sessions, 'x1', [], {
      input: { issue: '<script>alert(1)</script> "quoted" & <b>bold</b>' },
    });
    const { cookie } = await signIn(app, TOKENS.operator);
    for (const url of ['/ui/sessions', '/ui/sessions/x1']) {
      const response = await app.inject({ method: 'GET', url, headers: { cookie } });
      expect(response.body).not.toContain('<script>alert');
      expect(response.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(response.body).not.toMatch(/<script>[^<]/);
      expect(response.body).not.toMatch(/\sstyle=|\son[a-z]+=/);
      expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['cache-control']).toBe('no-store');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('lists pending first, filters, pages with a cursor, and names a bad filter', async () => {
    const { app, sessions } = await setup();
    for (let i = 0; i < 120; i++)
      await sessions.create({
        id: `v${String(i).padStart(3, '0')}`,
        state: i % 10 === 0 ? 'pending' : 'verified',
        phase: 'done',
        createdAt: new Date(Date.parse('2026-11-20T00:00:00.000Z') + i * 60_000).toISOString(),
        actor: 'token:ci',
        input: {
          issue: `issue ${i}`,
          target: { kind: 'Deployment', namespace: i % 2 ? 'odd' : 'even', name: 'w' },
        },
        approvals: [],
        results: [],
      });
    const { cookie } = await signIn(app, TOKENS.reader);
    const ids = (body: string) => [...body.matchAll(/href="\/ui\/sessions\/([^"?]+)"/g)].map((m) => m[1]);
    const first = await app.inject({ method: 'GET', url: '/ui/sessions', headers: { cookie } });
    const firstIds = ids(first.body);
    expect(firstIds).toHaveLength(50);
    // s1 (pending, newest pending) and the 12 pending v… come before any verified one.
    expect(firstIds.slice(0, 13).every((id) => id === 's1' || Number(id!.slice(1)) % 10 === 0)).toBe(true);
    expect(firstIds[13]).toBe('v119');
    const seen = new Set(firstIds);
    let next = /rel="next" href="([^"]+)"/.exec(first.body)?.[1]?.replaceAll('&amp;', '&');
    while (next) {
      const page = await app.inject({ method: 'GET', url: next, headers: { cookie } });
      for (const id of ids(page.body)) seen.add(id);
      next = /rel="next" href="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
    }
    expect(seen.size).toBe(121);
    const odd = await app.inject({
      method: 'GET',
      url: '/ui/sessions?namespace=odd&status=verified',
      headers: { cookie },
    });
    expect(ids(odd.body).every((id) => Number(id!.slice(1)) % 2 === 1)).toBe(true);
    const bad = await app.inject({
      method: 'GET',
      url: '/ui/sessions?category=nope&cursor=zzz',
      headers: { cookie },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('category');
  });

  it('says offline that no preview is available', async () => {
    harness = await uiHarness();
    await pendingSession(harness.sessions, 's1', [memoryPatch('a1', 'web', '512Mi', AWAIT)]);
    const { cookie } = await signIn(harness.app, TOKENS.operator);
    const page = await harness.app.inject({ method: 'GET', url: '/ui/sessions/s1', headers: { cookie } });
    expect(page.body).toContain('no preview is available');
  });
});

describe('kubemend serve', () => {
  it('serves the page at /ui beside the API, whose JSON routes still take no forms', async () => {
    const configuration = uiConfiguration();
    const service = new RemediationService({ configuration, policies: loadPolicies(undefined) });
    const { app } = await createHttpServer({
      service,
      configuration,
      authenticator: new Authenticator(configuration.auth),
    });
    try {
      expect((await app.inject({ method: 'GET', url: '/ui/login' })).statusCode).toBe(200);
      const api = await app.inject({
        method: 'POST',
        url: '/v1/remediate',
        headers: { ...FORM, authorization: `Bearer ${TOKENS.operator}` },
        payload: form({ issue: 'x' }),
      });
      expect(api.statusCode).toBeGreaterThanOrEqual(400);
      expect(api.headers['content-type']).toContain('application/problem+json');
      const missing = await app.inject({ method: 'GET', url: '/ui/nothing' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toContain('text/html');
    } finally {
      await app.close();
    }
    const disabled = uiConfiguration({ ui: { enabled: false } });
    const off = await createHttpServer({
      service,
      configuration: disabled,
      authenticator: new Authenticator(disabled.auth),
    });
    expect((await off.app.inject({ method: 'GET', url: '/ui/login' })).statusCode).toBe(404);
    await off.app.close();
  });
});
