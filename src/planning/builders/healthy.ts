/** Healthy: nothing is failing now, so nothing is proposed. */
import type { Builder } from './shared.js';

export const healthy: Builder = () => [];
