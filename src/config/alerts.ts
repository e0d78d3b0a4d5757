/**
 * The `alerts` and `notifications` sections: how alerts from Alertmanager are routed (mode and
 * policy by labels, first match wins, like Alertmanager's routes) and where notifications about
 * sessions go (generic webhooks signed with HMAC-SHA256, Slack incoming webhooks). Secrets — a
 * webhook's signing key, a Slack URL — are read from files (a mounted Secret), never written inline.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MODES } from '../domain/index.js';
import { Secret } from './secret.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labels = <T extends z.ZodType>(value: T) =>
  z.record(z.string().regex(LABEL_NAME, 'a Prometheus label name'), value);

/** A regular expression as Alertmanager reads one: anchored at both ends. */
const anchoredRegex = z.string().refine(
  (source) => {
    try {
      new RegExp(`^(?:${source})$`);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

export const AlertRouteSchema = z.strictObject({
  /** Labels that must equal these values. */
  match: labels(z.string()).default({}),
  /** Labels that must match these regular expressions (anchored). */
  matchRe: labels(anchoredRegex).default({}),
  mode: z.enum(MODES).default('manual'),
  /** A policy name from the policy file (default: the file's default policy). */
  policy: z.string().min(1).max(128).optional(),
});
export type AlertRoute = z.infer<typeof AlertRouteSchema>;

export const AlertsSectionSchema = z
  .strictObject({
    /** Checked in order; the first whose `match` and `matchRe` all hold decides. */
    routes: z.array(AlertRouteSchema).max(1000).default([]),
    /** When no route matches. */
    default: z
      .strictObject({
        mode: z.enum(MODES).default('manual'),
        policy: z.string().min(1).max(128).optional(),
      })
      .prefault({}),
  })
  .prefault({});
export type AlertsSection = z.infer<typeof AlertsSectionSchema>;

const DURATION = /^\d+(ms|s|m|h)$/;
const duration = (fallback: string) =>
  z.string().regex(DURATION, 'a duration such as 500ms, 25s, 30m or 1h').default(fallback);

/** A secret read from a file when the configuration is loaded. */
const secretFile = z
  .string()
  .min(1)
  .transform((path, ctx) => {
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (value === '') {
        ctx.addIssue({ code: 'custom', message: `${path} is empty` });
        return z.NEVER;
      }
      return new Secret(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${path} cannot be read` });
      return z.NEVER;
    }
  });

const SINK_NAME = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');
const EVENTS = z
  .array(z.enum(['approval-needed', 'executing', 'verified', 'rolled-back', 'failed']))
  .min(1)
  .optional();

export const SinkSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    name: SINK_NAME,
    url: z.url({ protocol: /^https?$/ }),
    /** File holding the HMAC-SHA256 signing key (a mounted Secret). */
    secretFile,
    /** Only these events (default: all). */
    events: EVENTS,
  }),
  z.strictObject({
    type: z.literal('slack'),
    name: SINK_NAME,
    /** File holding the Slack incoming-webhook URL (a mounted Secret). */
    urlFile: secretFile,
    events: EVENTS,
  }),
]);
export type SinkConfiguration = z.infer<typeof SinkSchema>;

export const NotificationsSectionSchema = z
  .strictObject({
    sinks: z
      .array(SinkSchema)
      .max(50)
      .default([])
      .refine((sinks) => new Set(sinks.map((s) => s.name)).size === sinks.length, {
        message: 'sink names must be unique',
      }),
    /** Where people open kubemend (links to approve or reject); absent: no links. */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** How often the outbox is polled for due notifications. */
    pollInterval: duration('1s'),
    /** First retry after this; doubled each attempt up to `maxBackoff`. */
    initialBackoff: duration('1s'),
    maxBackoff: duration('5m'),
    /** Attempts before a notification is given up (kept in the outbox as dead). */
    maxAttempts: z.number().int().min(1).max(1000).default(20),
    /** Time one delivery attempt may take. */
    timeout: duration('10s'),
  })
  .prefault({});
export type NotificationsSection = z.infer<typeof NotificationsSectionSchema>;
