import type { AppContext } from '../context.js';
import type { ApiScope } from '../db/types.js';
import { migrateDown, migrateToLatest } from '../db/migrator.js';
import { API_SCOPES } from '../services/tokens.js';
import { DELIVERABILITY_COMMANDS } from '../deliverability/commands.js';
import { HISTORY_COMMANDS } from '../history/commands.js';

// The operator's commands (DESIGN §5), written once against a context: the CLI runs them on its
// own context, or, when the embedded database is held by the running service, the service runs
// them on its context through the control socket (src/control). Each returns what it prints:
// notes first, the result on the last line.

export class UsageError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

export interface CommandOutput {
  /** Lines printed before the result (e.g. "shown only once:"). */
  notes: string[];
  /** The last line of stdout: what a script reads. */
  result: string;
}

export interface Command {
  summary: string;
  options?: Record<string, { type: 'string' | 'boolean' }>;
  /** Needs the topic index (matching); the running service has it built already. */
  matcher?: boolean;
  /** Runs on a database that may not be migrated yet (the CLI's own context migrates first otherwise). */
  unmigrated?: boolean;
  /**
   * Why the command must not run inside the running service, if so (e.g. rolling back the schema
   * under it); the operator is told to stop the service first.
   */
  notWhileRunning?(values: Values): string | undefined;
  /** Checks the arguments before anything is opened or sent; throws UsageError. */
  check?(values: Values, ctx: { isProduction: boolean }): void;
  run(ctx: AppContext, values: Values): Promise<CommandOutput>;
}

const only = (result: string): CommandOutput => ({ notes: [], result });
const text = (v: string | boolean | undefined) => (typeof v === 'string' ? v.trim() : '');

function devOnly(name: string) {
  return (_values: Values, env: { isProduction: boolean }) => {
    if (env.isProduction) throw new UsageError(`${name} is for development only`);
  };
}

function parseScopes(values: Values): ApiScope[] {
  const scopes = String(values.scope ?? 'admin').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = scopes.filter((s) => !API_SCOPES.includes(s as ApiScope));
  if (bad.length > 0 || scopes.length === 0) throw new UsageError(`--scope takes ${API_SCOPES.join(', ')} (comma-separated); got "${values.scope}"`);
  return scopes as ApiScope[];
}

type PasswordChange = { user: { id: number; email: string }; password: string; generated: boolean; verb: string; extra?: string };

/** admin:create and admin:password: --email, an optional --password, a generated one shown once. */
function adminPasswordCommand(summary: string, missing: string, change: (ctx: AppContext, email: string, given: string | undefined) => Promise<PasswordChange>): Command {
  return {
    summary,
    options: { email: { type: 'string' }, password: { type: 'string' } },
    check(values) {
      if (!text(values.email)) throw new UsageError(missing);
    },
    async run(ctx, values) {
      const r = await change(ctx, text(values.email), typeof values.password === 'string' ? values.password : undefined);
      const head = `admin ${r.user.email} ${r.verb} (id ${r.user.id})${r.extra ?? ''}`;
      return r.generated ? { notes: [`${head}; the generated password is shown only once:`], result: r.password } : only(head);
    },
  };
}

export const COMMANDS: Record<string, Command> = {
  migrate: {
    summary: 'apply all pending migrations, or roll back the last one with --down',
    options: { down: { type: 'boolean' } },
    unmigrated: true,
    notWhileRunning: (values) => (values.down ? 'rolling back a migration under the running service would break it' : undefined),
    async run(ctx, values) {
      const outcome = values.down ? await migrateDown(ctx.database.db) : await migrateToLatest(ctx.database.db);
      if (outcome.applied.length === 0) return only(values.down ? 'nothing to roll back' : 'database is up to date');
      return only(`${values.down ? 'rolled back' : 'applied'}: ${outcome.applied.join(', ')}`);
    },
  },

  'token:create': {
    summary: 'create an API token: --name N --scope admin,ingest,bounces (printed once)',
    options: { name: { type: 'string' }, scope: { type: 'string' } },
    check(values) {
      if (!text(values.name)) throw new UsageError('token:create needs --name NAME');
      parseScopes(values);
    },
    async run(ctx, values) {
      const { token, record } = await ctx.services.tokens.create(text(values.name), parseScopes(values), 'cli');
      return { notes: [`token "${record.name}" (id ${record.id}) with scopes ${record.scopes.join(',')}; it is shown only once:`], result: token };
    },
  },

  'admin:create': adminPasswordCommand(
    'create a console admin: --email E [--password P] (a generated password is printed once)',
    'admin:create needs --email EMAIL',
    async (ctx, email, given) => {
      const r = await ctx.services.admin.createAdmin(email, given, 'cli');
      return { ...r, verb: 'created' };
    },
  ),

  'admin:password': adminPasswordCommand(
    "set a console admin's password: --email E [--password P] (a generated one is printed once); logs that admin out everywhere",
    'admin:password needs --email EMAIL (the development account is admin@localhost)',
    async (ctx, email, given) => {
      const r = await ctx.services.admin.resetPassword(email, given, 'cli');
      return { ...r, verb: 'has a new password', extra: r.sessionsEnded > 0 ? `, ${r.sessionsEnded} session${r.sessionsEnded === 1 ? '' : 's'} ended` : '' };
    },
  ),

  'digests:run': {
    summary: 'run the digest scheduler once now (queues due digests; the worker sends them)',
    matcher: true,
    async run(ctx) {
      const r = await ctx.services.scheduler.run('cli');
      return only(r.skipped ? 'another process is scheduling right now; nothing done' : `run ${r.runId}: ${r.scanned} subscribers scanned, ${r.queued} digests queued in ${r.ms} ms`);
    },
  },

  'demo:publish': {
    summary: 'publish a few fresh sample articles (development only)',
    matcher: true,
    check: devOnly('demo:publish'),
    async run(ctx) {
      const r = await ctx.services.demo.publishSamples(ctx.clock.now());
      return only(`published ${r.published} sample articles, matched: ${r.matched.join(', ') || 'none'}`);
    },
  },

  'demo:seed': {
    summary: 'create the demo topics and ingest the sample article (development only)',
    matcher: true,
    check: devOnly('demo:seed'),
    async run(ctx) {
      const r = await ctx.services.demo.seed('cli');
      return only(`demo: ${r.topicsCreated} topics created, ${r.articles} article(s) ingested, matched: ${r.matched.join(', ') || 'none'}`);
    },
  },

  ...DELIVERABILITY_COMMANDS,
  ...HISTORY_COMMANDS,
};
