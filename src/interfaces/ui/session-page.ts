/**
 * One session as a person deciding about it needs it: the issue, the root cause with its
 * confidence and evidence, each action with its risk, the policy's decision, the kubectl
 * equivalent and the change it makes (a dry-run diff), the approve/reject forms bound to the plan
 * hash the page was rendered with, the timeline and verification, and the audit records with the
 * state of the hash chain. The parts that change while a session executes carry `data-live`.
 */
import type { AuditRecord, ChainVerification } from '../../audit/recorder.js';
import type { RemediationAction } from '../../domain/index.js';
import type { ActionPreview } from '../../service/remediation-service.js';
import type { SessionRecord } from '../../sessions/store.js';
import { renderPreview } from './diff-view.js';
import { type Html, html } from './html.js';
import { badge, page, when } from './layout.js';
import type { UiSession } from './security.js';

export interface SessionView {
  readonly session: SessionRecord;
  readonly previews: ReadonlyMap<string, ActionPreview>;
  /** Undefined when the reader lacks `audit:read`. */
  readonly audit?: {
    readonly records: readonly AuditRecord[];
    readonly chain: ChainVerification;
    /** When the chain was verified (the page may show a verification a few seconds old). */
    readonly verifiedAt: string;
  };
  readonly error?: string;
  readonly notice?: string;
}

const ACTIVE_STATES: readonly string[] = ['approved', 'executing'];

function awaiting(action: RemediationAction): boolean {
  return action.decision?.decision === 'await-approval' || action.decision?.decision === 'execute';
}

function actionCard(
  session: SessionRecord,
  action: RemediationAction,
  preview: ActionPreview | undefined,
): Html {
  const result = session.results.find((r) => r.actionId === action.id);
  const target = `${action.target.kind}/${action.target.namespace ? `${action.target.namespace}/` : ''}${action.target.name}`;
  return html`<article class="card action" id="${`action-${action.id}`}">
    <h3>${action.id}: ${action.description} ${badge('risk', action.risk)}</h3>
    <dl class="facts">
      <dt>Type</dt>
      <dd>${action.type} on <code>${target}</code></dd>
      <dt>Policy decision</dt>
      <dd>
        ${action.decision ? html`${badge('decision', action.decision.decision)} ${action.decision.reason}` : html`<span class="muted">none recorded</span>`}
      </dd>
      <dt>Why</dt>
      <dd>${action.rationale}</dd>
      <dt>Verification</dt>
      <dd>${action.verification}</dd>
      ${
        action.type === 'manual'
          ? html`<dt>Instructions</dt>
              <dd><pre class="wrap">${action.params.instructions}</pre></dd>`
          : ''
      }
      ${
        result
          ? html`<dt>Result</dt>
              <dd>
                ${badge('status', result.status)} ${result.message}
                <span class="muted">(${when(result.startedAt)} → ${when(result.finishedAt)})</span>
              </dd>`
          : ''
      }
    </dl>
    ${
      action.command
        ? html`<p class="muted">kubectl equivalent</p>
            <pre><code>${action.command}</code></pre>`
        : ''
    }
    ${preview ? renderPreview(preview) : ''}
  </article>`;
}

function decisionForms(view: SessionView, reader: UiSession): Html {
  const { session } = view;
  if (session.state !== 'pending') return html``;
  if (!reader.principal.scopes.has('remediate:execute'))
    return html`<p class="notice">
      You can read this session; approving or rejecting needs the remediate:execute scope.
    </p>`;
  const waiting = session.output?.remediation.actions.filter(awaiting) ?? [];
  const path = `/ui/sessions/${encodeURIComponent(session.id)}`;
  return html`<section class="card" id="decide" data-live>
    <h2>Decide</h2>
    <div class="actions-row">
      ${
        waiting.length > 0
          ? html`<form method="post" action="${`${path}/approve`}" id="approve-form">
              <input type="hidden" name="_csrf" value="${reader.csrf}" />
              <input type="hidden" name="planHash" value="${session.planHash ?? ''}" />
              ${waiting.map(
                (action) =>
                  html`<label
                    ><input type="checkbox" name="actionIds" value="${action.id}" checked /> ${action.id}:
                    ${action.description}</label
                  >`,
              )}
              <label for="approve-note">Note (optional)</label>
              <textarea id="approve-note" name="note" maxlength="2000"></textarea>
              <p><button type="submit" class="primary" id="approve">Approve and execute</button></p>
              <p class="muted">
                Bound to plan <code class="hash">${(session.planHash ?? '').slice(0, 16)}</code>: if the plan
                changes, this approval is refused.
              </p>
            </form>`
          : html`<p class="muted">No action waits for approval.</p>`
      }
      <form method="post" action="${`${path}/reject`}" id="reject-form">
        <input type="hidden" name="_csrf" value="${reader.csrf}" />
        <label for="reject-note">Reason (optional)</label>
        <textarea id="reject-note" name="note" maxlength="2000"></textarea>
        <p><button type="submit" class="danger" id="reject">Reject</button></p>
      </form>
    </div>
  </section>`;
}

function timeline(session: SessionRecord): Html {
  const items: Html[] = [html`<li>${when(session.createdAt)} requested by ${session.actor}</li>`];
  if (session.output)
    items.push(
      html`<li>
        analysed: ${session.output.analysis.category}, ${session.output.remediation.actions.length} action(s)
        proposed
      </li>`,
    );
  for (const approval of session.approvals)
    items.push(
      html`<li>
        ${when(approval.at)} approved by
        <strong>${approval.approver}</strong>
        (${approval.actionIds.join(', ')})${approval.note ? html`: “${approval.note}”` : ''}
      </li>`,
    );
  for (const result of session.results)
    items.push(
      html`<li>
        ${when(result.finishedAt)} ${result.actionId}: ${badge('status', result.status)} ${result.message}
      </li>`,
    );
  if (session.rejection)
    items.push(
      html`<li>
        ${when(session.rejection.at)} rejected by
        <strong>${session.rejection.approver}</strong
        >${session.rejection.reason ? html`: “${session.rejection.reason}”` : ''}
      </li>`,
    );
  return html`<section class="card" id="timeline" data-live>
    <h2>Timeline</h2>
    <p>
      State ${badge('state', session.state)}
      <span class="muted">phase ${session.phase}, updated ${when(session.updatedAt)}</span>
    </p>
    <ol class="timeline">
      ${items}
    </ol>
  </section>`;
}

function auditSection(view: SessionView): Html {
  if (!view.audit)
    return html`<section class="card" id="audit" data-live>
      <h2>Audit log</h2>
      <p class="muted">Reading the audit log needs the audit:read scope.</p>
    </section>`;
  const { records, chain, verifiedAt } = view.audit;
  return html`<section class="card" id="audit" data-live>
    <h2>Audit log</h2>
    <p>
      ${
        chain.ok
          ? html`<span class="badge status-verified">chain intact</span> ${chain.records} records verified`
          : html`<span class="badge status-failed">chain broken</span> at record
              ${chain.firstBroken?.sequence}: ${chain.firstBroken?.reason}`
      }
      <span class="muted">(the whole log, ${when(verifiedAt)})</span>
    </p>
    <table class="audit">
      <thead>
        <tr>
          <th>#</th>
          <th>At</th>
          <th>Type</th>
          <th>Actor</th>
          <th>Action</th>
          <th>Target</th>
          <th>Hash</th>
        </tr>
      </thead>
      <tbody>
        ${records.map(
          (record) =>
            html`<tr>
              <td>${record.sequence}</td>
              <td>${when(record.at)}</td>
              <td>${record.type}</td>
              <td>${record.actor}</td>
              <td>${record.actionId ?? ''}</td>
              <td>${record.target ?? ''}</td>
              <td>
                <code class="hash" title="${`previous ${record.previousHash}`}"
                  >${record.hash.slice(0, 12)}</code
                >
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function renderSessionPage(view: SessionView, reader: UiSession): Html {
  const { session } = view;
  const output = session.output;
  const analysis = output?.analysis;
  const evidence = analysis?.evidenceDetail?.length
    ? analysis.evidenceDetail.map(
        (e) =>
          html`<li>
            <pre class="wrap">${e.quote}</pre>
            <span class="muted">${e.kind}, from the ${e.origin}${e.object ? ` (${e.object})` : ''}</span>
          </li>`,
      )
    : (analysis?.evidence ?? []).map((quote) => html`<li><pre class="wrap">${quote}</pre></li>`);
  const active = ACTIVE_STATES.includes(session.state);
  return page(
    {
      title: `Session ${session.id}`,
      session: reader,
      error: view.error,
      notice: view.notice,
      refreshWithoutScript: active,
    },
    html`<h1>Session ${session.id} <span id="live-status"></span></h1>
      <div
        id="live-root"
        ${active ? html`data-events="${`/ui/sessions/${encodeURIComponent(session.id)}/events`}"` : ''}
      ></div>
      <section class="card" id="issue">
        <h2>Issue</h2>
        <pre class="wrap">${session.input.issue}</pre>
        <dl class="facts">
          ${
            session.input.target
              ? html`<dt>Target</dt>
                  <dd>
                    ${session.input.target.kind}/${session.input.target.namespace ?? ''}/${session.input.target.name}
                  </dd>`
              : ''
          }
          <dt>Mode</dt>
          <dd>
            ${session.input.mode ?? 'manual'}${session.input.dryRun ? ' (dry run)' : ''}${session.input.policy ? `, policy ${session.input.policy}` : ''}
          </dd>
          <dt>Requested</dt>
          <dd>${when(session.createdAt)} by ${session.actor}</dd>
        </dl>
      </section>
      ${
        analysis
          ? html`<section class="card" id="analysis">
              <h2>Root cause</h2>
              <p><strong>${analysis.rootCause}</strong></p>
              <dl class="facts">
                <dt>Category</dt>
                <dd>${analysis.category}</dd>
                <dt>Confidence</dt>
                <dd>
                  ${Math.round(analysis.confidence * 100)}% <span class="muted">(${analysis.source})</span>
                </dd>
                ${
                  analysis.subject
                    ? html`<dt>Found on</dt>
                        <dd>
                          ${analysis.subject.kind}/${analysis.subject.namespace ?? ''}/${analysis.subject.name}
                        </dd>`
                    : ''
                }
              </dl>
              ${
                analysis.factors.length
                  ? html`<h3>Factors</h3>
                      <ul>
                        ${analysis.factors.map((f) => html`<li>${f}</li>`)}
                      </ul>`
                  : ''
              }
              <h3>Evidence</h3>
              ${
                evidence.length
                  ? html`<ul class="evidence">
                      ${evidence}
                    </ul>`
                  : html`<p class="muted">No evidence lines.</p>`
              }
            </section>`
          : html`<section class="card" id="analysis">
              <p class="muted">Still being analysed (phase ${session.phase}).</p>
            </section>`
      }
      ${decisionForms(view, reader)}
      ${
        output
          ? html`<section id="actions" data-live>
              <h2>Remediation <span class="muted">(overall risk ${output.remediation.risk})</span></h2>
              <p>${output.remediation.summary}</p>
              ${output.remediation.actions.length === 0 ? html`<p class="muted">No action proposed.</p>` : ''}
              ${output.remediation.actions.map((action) => actionCard(session, action, view.previews.get(action.id)))}
              ${(output.notices ?? []).map((notice) => html`<p class="notice">${notice}</p>`)}
            </section>`
          : ''
      }
      ${timeline(session)} ${auditSection(view)}`,
  );
}
