/**
 * The approvals web page of `kubemend serve` (`/ui`): whether it is served, how long a sign-in
 * lasts, and how many live-update streams may be open at once.
 */
import { z } from 'zod';
import { parseDuration } from '../planning/policy.js';

export const UiSectionSchema = z
  .strictObject({
    /** Serve the page at /ui (default true). */
    enabled: z.boolean().default(true),
    /** How long a sign-in lasts (the cookie's Max-Age and the server-side session's life). */
    sessionTtl: z
      .string()
      .regex(/^\d+(s|m|h)$/, 'a duration such as 30m or 8h')
      .default('8h'),
    /** Live-update streams (server-sent events) open at once, for all users; more get 429. */
    maxEventStreams: z.number().int().min(1).max(10_000).default(64),
  })
  .prefault({});
export type UiSettings = z.infer<typeof UiSectionSchema>;

/** `ui.sessionTtl` in milliseconds. */
export function uiSessionTtlMs(ui: UiSettings): number {
  return parseDuration(ui.sessionTtl);
}
