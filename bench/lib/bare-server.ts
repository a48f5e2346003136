// The baselines of bench:http: bare express handlers doing the least the real endpoints must
// do — return a fixed JSON from memory; run one INSERT in a transaction on the same database.
import express from 'express';
import pg from 'pg';

const [port, databaseUrl, configJson] = [Number(process.argv[2]), process.argv[3]!, process.argv[4]!];
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query('CREATE TABLE IF NOT EXISTS bench_bare_signups (id bigserial PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
const config = JSON.parse(configJson) as unknown;

const app = express();
app.use(express.json());
app.get('/config', (_req, res) => {
  res.json(config);
});
app.post('/signup', async (req, res) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('INSERT INTO bench_bare_signups (email) VALUES ($1)', [String((req.body as { email?: string }).email)]);
    await client.query('COMMIT');
    res.status(202).json({ status: 'pending' });
  } catch (err) {
    await client.query('ROLLBACK');
    res.status(500).json({ error: String(err) });
  } finally {
    client.release();
  }
});
app.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
