/**
 * The notification document (schema `kubemend.notification/v1`, docs/notification.schema.json):
 * the same JSON for every webhook sink, stable — fields are only ever added. `id` is the outbox
 * message's id: a receiver dedupes on it (delivery is at least once). The Slack message is a Block
 * Kit rendering of the same document.
 */
import type { RemediateInput, RemediateOutput } from '../domain/index.js';
import type { NotificationEvent, OutboxMessage } from '../sessions/companions.js';
import type { SessionRecord } from '../sessions/store.js';

export const NOTIFICATION_SCHEMA = 'kubemend.notification/v1';

export interface NotificationDocument {
  readonly schema: typeof NOTIFICATION_SCHEMA;
  readonly id: string;
  readonly event: NotificationEvent;
  readonly occurredAt: string;
  readonly attempt: number;
  readonly session: {
    readonly id: string;
    /** The session's state when the notification was sent (may be past `event`). */
    readonly state: string;
    readonly mode: string;
    readonly actor: string;
    readonly createdAt: string;
  };
  readonly issue: string;
  readonly target?: { readonly kind: string; readonly namespace?: string; readonly name: string };
  readonly analysis?: {
    readonly category: string;
    readonly rootCause: string;
    readonly confidence: number;
    readonly evidence: readonly string[];
  };
  readonly actions: ReadonlyArray<{
    readonly id: string;
    readonly type: string;
    readonly description: string;
    readonly risk: string;
    readonly decision?: string;
    readonly kubectl: string;
  }>;
  readonly results: ReadonlyArray<{
    readonly actionId: string;
    readonly status: string;
    readonly message: string;
  }>;
  readonly links?: {
    /** The session in the API (`GET`, with a token). */
    readonly session: string;
    /** The session on the approvals page (`/ui`): sign in, read the diff, approve or reject. */
    readonly page: string;
    /** The API's approve and reject endpoints (`POST`, with a token), when approval is needed. */
    readonly approve?: string;
    readonly reject?: string;
  };
}

export function notificationDocument(
  message: OutboxMessage,
  session: SessionRecord,
  publicUrl: string | undefined,
): NotificationDocument {
  const input: RemediateInput = session.input;
  const output: RemediateOutput | undefined = session.output;
  const subject = output?.analysis.subject ?? input.target;
  const base = publicUrl?.replace(/\/+$/, '');
  return {
    schema: NOTIFICATION_SCHEMA,
    id: message.id,
    event: message.event,
    occurredAt: message.createdAt,
    attempt: message.attempts,
    session: {
      id: session.id,
      state: session.state,
      mode: input.mode ?? 'manual',
      actor: session.actor,
      createdAt: session.createdAt,
    },
    issue: input.issue,
    ...(subject
      ? {
          target: {
            kind: subject.kind ?? 'unknown',
            ...(subject.namespace ? { namespace: subject.namespace } : {}),
            name: subject.name,
          },
        }
      : {}),
    ...(output
      ? {
          analysis: {
            category: output.analysis.category,
            rootCause: output.analysis.rootCause,
            confidence: output.analysis.confidence,
            evidence: output.analysis.evidence.slice(0, 10),
          },
        }
      : {}),
    actions: (output?.remediation.actions ?? []).map((action) => ({
      id: action.id,
      type: action.type,
      description: action.description,
      risk: action.risk,
      ...(action.decision ? { decision: action.decision.decision } : {}),
      kubectl: action.command,
    })),
    results: (session.results ?? []).map((r) => ({
      actionId: r.actionId,
      status: r.status,
      message: r.message,
    })),
    ...(base
      ? {
          links: {
            session: `${base}/v1/sessions/${session.id}`,
            // The approvals page: where a person signs in, reads the dry-run diff and decides.
            page: `${base}/ui/sessions/${encodeURIComponent(session.id)}`,
            ...(message.event === 'approval-needed'
              ? {
                  approve: `${base}/v1/sessions/${session.id}/approve`,
                  reject: `${base}/v1/sessions/${session.id}/reject`,
                }
              : {}),
          },
        }
      : {}),
  };
}

const TITLES: Record<NotificationEvent, string> = {
  'approval-needed': ':raised_hand: Approval needed',
  executing: ':gear: Executing',
  verified: ':white_check_mark: Fixed and verified',
  'rolled-back': ':leftwards_arrow_with_hook: Rolled back',
  failed: ':x: Failed',
};

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A Slack Block Kit message: cause, evidence, actions with risk and kubectl, links. */
export function slackMessage(document: NotificationDocument): Record<string, unknown> {
  const target = document.target
    ? `${document.target.kind}/${document.target.namespace ? `${document.target.namespace}/` : ''}${document.target.name}`
    : 'no target';
  const title = `${TITLES[document.event]}: ${target} (session ${document.session.id})`;
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(`*Issue:* ${document.issue}`, 3000) } },
  ];
  if (document.analysis)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(
          `*Cause (${document.analysis.category}, confidence ${document.analysis.confidence}):* ${document.analysis.rootCause}\n` +
            document.analysis.evidence
              .slice(0, 5)
              .map((e) => `> ${e}`)
              .join('\n'),
          3000,
        ),
      },
    });
  for (const action of document.actions.slice(0, 10))
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(
          `*${action.type}* (risk *${action.risk}*${action.decision ? `, ${action.decision}` : ''}): ${action.description}\n\`\`\`${action.kubectl}\`\`\``,
          3000,
        ),
      },
    });
  if (document.results.length > 0)
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: cut(document.results.map((r) => `${r.actionId}: ${r.status}`).join(' · '), 3000),
        },
      ],
    });
  const links = document.links;
  // Buttons open the approvals page: approving takes a signed-in person and a CSRF-checked POST,
  // which a link in a chat cannot be (the API's approve/reject URLs stay in the webhook document).
  if (links)
    blocks.push({
      type: 'actions',
      elements: [
        links.approve
          ? {
              type: 'button',
              style: 'primary',
              text: { type: 'plain_text', text: 'Review and approve' },
              url: links.page,
            }
          : { type: 'button', text: { type: 'plain_text', text: 'Open session' }, url: links.page },
      ],
    });
  return { text: title, blocks };
}
