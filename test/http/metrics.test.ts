/**
 * The metrics contract: docs/serving.md's table, the registry `serve` builds and the Grafana
 * dashboard's PromQL name the same metrics; the outcome counters count work the service did in the
 * background (an asynchronous request) as well as what a request waited for; the report route's
 * scope and its bad input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cluster/cluster-harness.js';
import { loadIncidents } from '../support/incidents.js';
import { authorized, startTestServer, type TestServer, TOKENS, waitUntil } from './support.js';

let server: TestServer;
const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('oom-killed/'))!;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

/** Metric names as Prometheus exposes them, without histogram suffixes. */
function family(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

function documented(): string[] {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'serving.md'), 'utf8');
  const section = text.slice(text.indexOf('## Metrics'), text.indexOf('## Limits'));
  return [...section.matchAll(/^\| `(kubemend_[a-z_*]+)` \|/gm)].map((match) => match[1]!);
}

function dashboardMetrics(): string[] {
  const dashboard = JSON.parse(
    readFileSync(
      join(REPO_ROOT, 'deploy', 'helm', 'kubemend', 'dashboards', 'kubemend-dashboard.json'),
      'utf8',
    ),
  ) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  const names = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) =>
      [...target.expr.matchAll(/\bkubemend_[a-z_]+/g)].map((m) => m[0]),
    ),
  );
  return [...new Set(names.map(family))].sort();
}

describe('metrics', () => {
  it('the documented table, the registry and the dashboard name the same metrics', async () => {
    const exposed = (await (await fetch(`${server.base}/metrics`)).text())
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]!)
      .filter((name) => !name.startsWith('kubemend_process_'));
    const table = documented();
    expect(table).toContain('kubemend_process_*');
    expect(new Set(exposed)).toEqual(new Set(table.filter((name) => !name.endsWith('*'))));
    const onDashboard = dashboardMetrics();
    expect(onDashboard.length).toBeGreaterThan(5);
    for (const name of onDashboard) expect(exposed, `${name} is on the dashboard`).toContain(name);
    for (const name of [
      'kubemend_time_to_verified_fix_seconds',
      'kubemend_remediations_total',
      'kubemend_rollbacks_total',
      'kubemend_pending_approvals',
      'kubemend_pending_approval_oldest_age_seconds',
      'kubemend_shadow_outcomes_total',
      'kubemend_audit_chain_valid',
    ])
      expect(onDashboard).toContain(name);
  });

  it('counts a remediation the service finished in the background', async () => {
    const response = await fetch(`${server.base}/v1/remediate`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst, { prefer: 'respond-async' }),
      body: JSON.stringify(incident.input),
    });
    expect(response.status).toBe(202);
    let text = '';
    await waitUntil(async () => {
      text = await (await fetch(`${server.base}/metrics`)).text();
      return /kubemend_remediations_total\{cluster="",category="oom-killed",outcome="pending"\} 1/.test(text);
    });
  });
});

describe('mode shadow at the edge', () => {
  it('needs only remediate:analyze (it changes nothing) and decides as automatic would', async () => {
    const response = await fetch(`${server.base}/v1/remediate`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst),
      body: JSON.stringify({ ...incident.input, mode: 'shadow' }),
    });
    expect(response.status).toBe(200);
    const output = (await response.json()) as {
      executed: boolean;
      remediation: { actions: Array<{ decision?: { reason: string } }> };
      results?: Array<{ status: string; message: string }>;
    };
    expect(output.executed).toBe(false);
    expect(output.remediation.actions.some((a) => a.decision?.reason.startsWith('shadow mode'))).toBe(true);
    expect(output.results?.[0]).toMatchObject({ status: 'skipped' });
    expect(output.results?.[0]?.message).toMatch(/shadow mode and no cluster connected/);
  });
});

describe('GET /v1/reports/shadow', () => {
  it('answers the audit reader with the report, refuses other scopes, names a bad field', async () => {
    const ok = await fetch(`${server.base}/v1/reports/shadow?since=1h`, {
      headers: authorized(TOKENS.auditor),
    });
    expect(ok.status).toBe(200);
    const report = (await ok.json()) as {
      shadow: { sessions: number; rows: Array<{ wouldExecute: number }> };
      categories: Array<{ category: string }>;
    };
    expect(report.shadow.sessions).toBe(1); // the offline shadow request above
    expect(report.shadow.rows[0]?.wouldExecute).toBeGreaterThan(0);
    expect(report.categories.map((row) => row.category)).toContain('oom-killed');
    expect(
      (await fetch(`${server.base}/v1/reports/shadow`, { headers: authorized(TOKENS.analyst) })).status,
    ).toBe(403);
    const bad = await fetch(`${server.base}/v1/reports/shadow?since=yesterday`, {
      headers: authorized(TOKENS.auditor),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('since');
  });
});
