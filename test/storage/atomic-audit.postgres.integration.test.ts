// Defect 3 of issue 14 on a real PostgreSQL (`scripts/postgres/with-postgres.sh`): the audit table
// made unwritable by a trigger that refuses every insert.
import { afterAll } from 'vitest';
import { Client } from 'pg';
import { openStorage } from '../../src/sessions/factory.js';
import { type AtomicStorage, describeAtomicAudit } from '../service/atomic-audit.scenario.js';
import { requirePostgres, uniqueSchema } from './support.js';

const schemas: string[] = [];
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
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describeAtomicAudit('PostgreSQL', async () => {
  const client = await adminClient();
  const url = await requirePostgres();
  const schema = uniqueSchema();
  schemas.push(schema);
  const opened = async (): Promise<AtomicStorage> => {
    const storage = await openStorage({ driver: 'postgres', url, schema, maxConnections: 4 });
    return {
      sessions: storage.sessions,
      audit: storage.audit,
      // The audit table refuses every insert, as a full tablespace or a lost grant would.
      breakAudit: async () =>
        void (await client.query(`
          CREATE FUNCTION ${schema}.audit_unwritable() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'could not extend file (test)'; END $$;
          CREATE TRIGGER audit_unwritable BEFORE INSERT ON ${schema}.audit_records
            FOR EACH ROW EXECUTE FUNCTION ${schema}.audit_unwritable();`)),
      repairAudit: async () =>
        void (await client.query(`DROP TRIGGER audit_unwritable ON ${schema}.audit_records`)),
      reopen: async () => {
        await storage.close();
        return opened();
      },
      close: () => storage.close(),
    };
  };
  return opened();
});
