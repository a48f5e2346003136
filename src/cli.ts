import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, readEnvironment, type Config } from './config/index.js';
import { openDatabase } from './db/database.js';
import { migrateDown, migrateToLatest } from './db/migrator.js';
import { createContext, type AppContext } from './context.js';
import { createLogger } from './logger.js';
import { API_SCOPES } from './services/tokens.js';
import type { ApiScope } from './db/types.js';

// The operator's command line (DESIGN §5). Each command prints its result on the last line of
// stdout and exits non-zero with a one-line error.

class UsageError extends Error {}

interface Command {
  summary: string;
  options?: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(config: Config, values: Record<string, string | boolean | undefined>): Promise<string>;
}

const commands: Record<string, Command> = {
  migrate: {
    summary: 'apply all pending migrations, or roll back the last one with --down',
    options: { down: { type: 'boolean' } },
    async run(config, values) {
      const database = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir });
      try {
        const outcome = values.down ? await migrateDown(database.db) : await migrateToLatest(database.db);
        if (outcome.applied.length === 0) return values.down ? 'nothing to roll back' : 'database is up to date';
        return `${values.down ? 'rolled back' : 'applied'}: ${outcome.applied.join(', ')}`;
      } finally {
        await database.close();
      }
    },
  },
};

/** A full context on a migrated database, quiet logs, closed afterwards. */
async function withContext<T>(config: Config, fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await createContext(config, { logger: createLogger('warn') });
  try {
    await migrateToLatest(ctx.database.db);
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

commands['token:create'] = {
  summary: 'create an API token: --name N --scope admin,ingest,bounces (printed once)',
  options: { name: { type: 'string' }, scope: { type: 'string' } },
  async run(config, values) {
    const name = typeof values.name === 'string' ? values.name.trim() : '';
    if (!name) throw new UsageError('token:create needs --name NAME');
    const scopes = String(values.scope ?? 'admin').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = scopes.filter((s) => !API_SCOPES.includes(s as ApiScope));
    if (bad.length > 0 || scopes.length === 0) throw new UsageError(`--scope takes ${API_SCOPES.join(', ')} (comma-separated); got "${values.scope}"`);
    return withContext(config, async (ctx) => {
      const { token, record } = await ctx.services.tokens.create(name, scopes as ApiScope[], 'cli');
      process.stdout.write(`token "${record.name}" (id ${record.id}) with scopes ${record.scopes.join(',')}; it is shown only once:\n`);
      return token;
    });
  },
};

commands['digests:run'] = {
  summary: 'run the digest scheduler once now (queues due digests; the worker sends them)',
  async run(config) {
    return withContext(config, async (ctx) => {
      await ctx.matcher.start();
      const r = await ctx.services.scheduler.run('cli');
      return r.skipped ? 'another process is scheduling right now; nothing done' : `run ${r.runId}: ${r.scanned} subscribers scanned, ${r.queued} digests queued in ${r.ms} ms`;
    });
  },
};

commands['admin:create'] = {
  summary: 'create a console admin: --email E [--password P] (a generated password is printed once)',
  options: { email: { type: 'string' }, password: { type: 'string' } },
  async run(config, values) {
    const email = typeof values.email === 'string' ? values.email.trim() : '';
    if (!email) throw new UsageError('admin:create needs --email EMAIL');
    const given = typeof values.password === 'string' ? values.password : undefined;
    return withContext(config, async (ctx) => {
      const { user, password, generated } = await ctx.services.admin.createAdmin(email, given, 'cli');
      if (!generated) return `admin ${user.email} created (id ${user.id})`;
      process.stdout.write(`admin ${user.email} created (id ${user.id}); the generated password is shown only once:\n`);
      return password;
    });
  },
};

commands['demo:publish'] = {
  summary: 'publish a few fresh sample articles (development only)',
  async run(config) {
    if (config.isProduction) throw new UsageError('demo:publish is for development only');
    return withContext(config, async (ctx) => {
      await ctx.matcher.start();
      const r = await ctx.services.demo.publishSamples(ctx.clock.now());
      return `published ${r.published} sample articles, matched: ${r.matched.join(', ') || 'none'}`;
    });
  },
};

commands['demo:seed'] = {
  summary: 'create the demo topics and ingest the sample article (development only)',
  async run(config) {
    if (config.isProduction) throw new UsageError('demo:seed is for development only');
    return withContext(config, async (ctx) => {
      await ctx.matcher.start();
      const r = await ctx.services.demo.seed('cli');
      return `demo: ${r.topicsCreated} topics created, ${r.articles} article(s) ingested, matched: ${r.matched.join(', ') || 'none'}`;
    });
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: npm run cli -- <command> [options]\ncommands:\n${lines.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; run "npm run cli -- help" for the list`);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: command.options ?? {}, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
  const config = loadConfig(readEnvironment());
  const result = await command.run(config, values);
  process.stdout.write(result + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(err.message + '\n');
    else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
