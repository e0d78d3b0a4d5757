/**
 * The phases of one request, as progress reports and an asynchronous session's `phase` show them.
 * Shared by the analysis step and the service (its own module, so neither imports the other).
 */
export type Phase = 'queued' | 'gathering' | 'analyzing' | 'planning' | 'executing' | 'verifying' | 'done';

export type ProgressListener = (phase: Phase, message: string) => void;
