import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startTestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { testEngine } from '../helpers/db.js';
import { spawnService, waitFor200 } from '../helpers/process.js';

const fixture = JSON.parse(readFileSync(new URL('../../src/demo/articles.json', import.meta.url), 'utf8'))[0];
const workDir = mkdtempSync(path.join(tmpdir(), 'topic-alerts-xproc-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

// Two processes on one PostgreSQL: a topic created through one is matched by the other within
// seconds (LISTEN/NOTIFY, with version polling as the fallback).
describe.runIf(testEngine() === 'postgres')('topic changes across processes', () => {
  it('a topic created in one process is matched by another within seconds', async () => {
    const app = await startTestApp();
    const port = await freePort();
    const other = spawnService(
      { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: app.db.url!, LOG_LEVEL: 'warn', ROLES: 'web', TOPIC_SYNC_INTERVAL_MS: '60000', DEMO_SEED: 'false' },
      workDir,
    );
    try {
      await waitFor200(`http://127.0.0.1:${port}/readyz`, 30_000, other);
      const api = await apiClient(app);

      const created = await api.post('/api/v1/topics', { slug: 'cross', name: 'Cross', query: 'zakharova' });
      expect(created.status).toBe(201);

      // Polling is set to a minute, so a match within seconds shows the notification at work.
      const started = Date.now();
      let matched: string[] = [];
      let attempt = 0;
      while (Date.now() - started < 10_000) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/articles`, {
          method: 'POST',
          headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...fixture, externalId: `cross-${attempt}`, url: `${fixture.url}?attempt=${attempt++}` }),
        });
        matched = ((await res.json()) as { matchedTopics: string[] }).matchedTopics;
        if (matched.includes('cross')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(matched).toContain('cross');
      console.log(`topic change seen by the other process after ${Date.now() - started} ms`);

      // Archiving travels the same way: the other process stops matching it.
      await api.delete('/api/v1/topics/cross');
      await new Promise((r) => setTimeout(r, 1500));
      const after = await fetch(`http://127.0.0.1:${port}/api/v1/articles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...fixture, externalId: 'cross-final', url: `${fixture.url}?final` }),
      });
      expect(((await after.json()) as { matchedTopics: string[] }).matchedTopics).not.toContain('cross');
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
      await app.close();
    }
  }, 60_000);
});

describe.runIf(testEngine() === 'postgres')('the topic change listener', () => {
  it('survives its connection being killed, then stops cleanly', async () => {
    const app = await startTestApp();
    try {
      const { sql } = await import('kysely');
      const killed = await sql<{ pid: number }>`
        SELECT pg_terminate_backend(pid)::int AS pid FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%'`.execute(app.db.db);
      expect(killed.rows.length).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      // Topics still reach the index by polling the version.
      const api = await apiClient(app);
      await api.post('/api/v1/topics', { slug: 'after-kill', name: 'After kill', query: 'zakharova' });
      const r = await api.post('/api/v1/articles', { ...fixture, externalId: 'after-kill', url: `${fixture.url}?after-kill` });
      expect(r.body.matchedTopics).toContain('after-kill');
    } finally {
      await app.close();
    }
  });
});
