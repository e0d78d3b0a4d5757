/**
 * The outcome history table (docs/learning.md), for SQLite and PostgreSQL: its own migration set
 * (component `learning`), so its numbers never collide with the sessions' migrations. Rows are
 * only ever inserted — in the transaction of the session change that produced them — and read.
 */
import { OUTCOME_KINDS } from '../domain/index.js';
import type { OutcomeRecord } from '../learning/history.js';
import type { Migration } from '../storage/migrations.js';

const OUTCOME_LIST = OUTCOME_KINDS.map((kind) => `'${kind}'`).join(', ');

export const SQLITE_LEARNING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create the outcome history',
    sql: `
      CREATE TABLE outcomes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        cluster     TEXT,
        category    TEXT NOT NULL,
        action_type TEXT NOT NULL,
        workload    TEXT NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN (${OUTCOME_LIST})),
        at          TEXT NOT NULL,
        session_id  TEXT NOT NULL,
        action_id   TEXT
      ) STRICT;
      CREATE INDEX outcomes_category_at ON outcomes (category, at);
      CREATE INDEX outcomes_outcome_at ON outcomes (outcome, at);
    `,
  },
];

/** Migrations for the schema `s` (already quoted). */
export function postgresLearningMigrations(s: string): readonly Migration[] {
  return [
    {
      version: 1,
      name: 'create the outcome history',
      sql: `
        CREATE TABLE ${s}.outcomes (
          id          bigserial      PRIMARY KEY,
          cluster     text,
          category    text           NOT NULL,
          action_type text           NOT NULL,
          workload    text           NOT NULL,
          outcome     text           NOT NULL CHECK (outcome IN (${OUTCOME_LIST})),
          at          timestamptz(3) NOT NULL,
          session_id  text           NOT NULL,
          action_id   text
        );
        CREATE INDEX outcomes_category_at ON ${s}.outcomes (category, at);
        CREATE INDEX outcomes_outcome_at ON ${s}.outcomes (outcome, at);
      `,
    },
  ];
}

export const OUTCOME_COLUMNS = [
  'cluster',
  'category',
  'action_type',
  'workload',
  'outcome',
  'at',
  'session_id',
  'action_id',
] as const;

export function outcomeValues(record: OutcomeRecord): Array<string | null> {
  return [
    record.cluster ?? null,
    record.category,
    record.actionType,
    record.workload,
    record.outcome,
    record.at,
    record.sessionId,
    record.actionId ?? null,
  ];
}

export function outcomeFromRow(
  row: Record<string, unknown>,
  timestamp: (value: unknown) => string,
): OutcomeRecord {
  const text = (value: unknown) => (value === null || value === undefined ? undefined : String(value));
  const cluster = text(row['cluster']);
  const actionId = text(row['action_id']);
  return {
    ...(cluster ? { cluster } : {}),
    category: String(row['category']),
    actionType: String(row['action_type']),
    workload: String(row['workload']),
    outcome: String(row['outcome']) as OutcomeRecord['outcome'],
    at: timestamp(row['at']),
    sessionId: String(row['session_id']),
    ...(actionId ? { actionId } : {}),
  };
}
