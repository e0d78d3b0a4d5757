/**
 * Numbered schema migrations, shared by the SQLite and PostgreSQL stores (sessions and audit).
 * Migrations are numbered per component (`sessions`, `audit`), so both stores can live in one
 * database file or schema without coordinating their numbers. A database that has a migration
 * newer than this code knows is refused rather than used.
 */
import { KubemendError } from '../domain/errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export function checkNumbering(component: string, migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new KubemendError(
        'internal',
        `${component} migrations must be numbered 1, 2, 3, ...: found ${migration.version} at position ${index + 1}`,
      );
    }
  });
}

export function refuseNewer(
  component: string,
  applied: readonly number[],
  migrations: readonly Migration[],
): void {
  const newest = Math.max(0, ...applied);
  if (newest > migrations.length) {
    throw new KubemendError(
      'configuration-invalid',
      `the database's ${component} schema is at migration ${newest}, newer than this kubemend knows ` +
        `(${migrations.length}); run a kubemend at least as new as the one that migrated it`,
    );
  }
}
