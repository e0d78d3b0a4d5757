/**
 * The Alertmanager webhook payload, version 4 (what `webhook_configs` receivers get):
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 * Validated as a whole before anything is recorded: a bad payload changes nothing, and the
 * problem names the field (`alerts[2].fingerprint`).
 */
import { z } from 'zod';

const timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'an RFC 3339 timestamp');
const labelSet = z.record(z.string().max(1024), z.string().max(16_384));

export const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet.refine((labels) => typeof labels.alertname === 'string' && labels.alertname !== '', {
    message: 'must have an alertname',
  }),
  annotations: labelSet.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().regex(/^[0-9a-zA-Z]{1,64}$/, 'the alert fingerprint (hex)'),
});
export type Alert = z.infer<typeof AlertSchema>;

export const AlertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(16_384).optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(4096).optional(),
  alerts: z.array(AlertSchema).min(1).max(1000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayloadSchema>;

/** An alert's start as the incident key stores it (normalised, so retries compare equal). */
export function startsAtKey(alert: Alert): string {
  return new Date(alert.startsAt).toISOString();
}
