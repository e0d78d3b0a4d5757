/**
 * The machine's floor for `npm run bench:http -- --mode floor`: the least any server on this
 * machine could do with a `POST /v1/remediate` of the bench's body, and nothing of kubemend's. The
 * same HTTP framework and body parser (fastify, secure-json-parse), the request stored as one
 * SQLite row (WAL, synchronous=NORMAL: kubemend's default durability; one commit per request),
 * and a fixed answer of kubemend's answer's size. No validation, analysis, plan, audit chain or
 * authentication. Whatever it serves per second is an upper bound for kubemend on this machine.
 *
 *   node bench/floor-server.mjs <port> <database file> <answer bytes>
 */
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const [port, file, answerBytes] = process.argv.slice(2);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, input TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO requests (input) VALUES (?)');
const answer = JSON.stringify({
  status: 'pending',
  padding: 'x'.repeat(Math.max(0, Number(answerBytes) - 40)),
});

const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
app.get('/readyz', async () => ({ status: 'ready' }));
app.post('/v1/remediate', async (request, reply) => {
  insert.run(JSON.stringify(request.body));
  return reply.type('application/json').send(answer);
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});
