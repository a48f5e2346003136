import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, readEnvironment, type Config } from './config/index.js';
import { embeddedDatabaseHolder } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import { createContext } from './context.js';
import { createLogger } from './logger.js';
import { COMMANDS, UsageError, type Command, type CommandOutput, type Values } from './cli/commands.js';
import { controlSocketPath } from './control/socket-path.js';
import { ControlUnavailable, runThroughService } from './control/client.js';

// The operator's command line (DESIGN §5). Each command prints its result on the last line of
// stdout and exits non-zero with a one-line error. On PostgreSQL it opens its own context; on
// the embedded database while the service runs (PGlite is one process's database) it asks the
// service to run the command instead, so the README's second-terminal commands work.

/** A full context on this process's own database, quiet logs, closed afterwards. */
async function runLocally(config: Config, command: Command, values: Values): Promise<CommandOutput> {
  const ctx = await createContext(config, { logger: createLogger('warn') });
  try {
    if (!command.unmigrated) await migrateToLatest(ctx.database.db);
    if (command.matcher) await ctx.matcher.start();
    return await command.run(ctx, values);
  } finally {
    await ctx.close();
  }
}

async function runThroughHolder(config: Config, name: string, command: Command, values: Values, holder: number): Promise<CommandOutput> {
  const refused = command.notWhileRunning?.(values);
  if (refused) throw new UsageError(`the embedded database is in use by the service (process ${holder}); ${refused}: stop it first`);
  const socket = controlSocketPath(config.database.pgliteDir);
  try {
    const out = await runThroughService(socket, name, values);
    process.stderr.write(`(run by the service that holds the embedded database, process ${holder})\n`);
    return out;
  } catch (err) {
    if (!(err instanceof ControlUnavailable)) throw err;
    throw new Error(
      `the embedded database in ${config.database.pgliteDir} is in use by process ${holder}, which does not answer on ${socket} ` +
        '(still starting, or not a topic-alerts service): try again in a moment, or stop that process',
    );
  }
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: npm run cli -- <command> [options]\ncommands:\n${lines.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}"; run "npm run cli -- help" for the list`);
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: command.options ?? {}, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
  const config = loadConfig(readEnvironment());
  command.check?.(values, { isProduction: config.isProduction });
  const holder = config.database.url ? undefined : embeddedDatabaseHolder(config.database.pgliteDir);
  const out = holder ? await runThroughHolder(config, name, command, values, holder) : await runLocally(config, command, values);
  for (const note of out.notes) process.stdout.write(note + '\n');
  process.stdout.write(out.result + '\n');
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
