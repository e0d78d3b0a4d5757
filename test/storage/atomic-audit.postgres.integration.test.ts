// Defect 3 of issue 14 on a real PostgreSQL: the audit table made unwritable by revoking INSERT
// from the role kubemend connects as (`scripts/postgres/with-postgres.sh`).
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { Client } from 'pg';
import { openStorage } from '../../src/sessions/factory.js';
import { type AtomicStorage, describeAtomicAudit } from '../service/atomic-audit.scenario.js';
import { requirePostgres } from './support.js';

const roles: string[] = [];
let admin: Client | undefined;

async function adminClient(): Promise<Client> {
  if (admin === undefined) {
    admin = new Client({ connectionString: await requirePostgres() });
    await admin.connect();
  }
  return admin;
}

afterAll(async () => {
  if (admin === undefined) return;
  for (const role of roles) {
    await admin.query(`DROP SCHEMA IF EXISTS ${role} CASCADE`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
  }
  await admin.end();
});

describeAtomicAudit('PostgreSQL', async () => {
  const client = await adminClient();
  // A login role of its own (owning its schema), so a REVOKE binds it as it binds kubemend.
  const role = `km_atomic_${randomBytes(4).toString('hex')}`;
  roles.push(role);
  await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${role}'`);
  await client.query(`CREATE SCHEMA ${role} AUTHORIZATION ${role}`);
  const url = new URL(await requirePostgres());
  url.username = role;
  url.password = role;
  const opened = async (): Promise<AtomicStorage> => {
    const storage = await openStorage({
      driver: 'postgres',
      url: url.toString(),
      schema: role,
      maxConnections: 4,
    });
    return {
      sessions: storage.sessions,
      audit: storage.audit,
      // The owner's own privileges are revocable too: INSERT on the audit table is refused.
      breakAudit: async () =>
        void (await client.query(`REVOKE INSERT ON ${role}.audit_records FROM ${role}`)),
      repairAudit: async () => void (await client.query(`GRANT INSERT ON ${role}.audit_records TO ${role}`)),
      reopen: async () => {
        await storage.close();
        return opened();
      },
      close: () => storage.close(),
    };
  };
  return opened();
});
