import { ConfigError, loadConfig, readEnvironment } from './config/index.js';
import { startService } from './runtime.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(1);
    }
    throw err;
  }

  const service = await startService(config);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    // A hard ceiling: whatever hangs, the process is gone before orchestrators escalate to SIGKILL.
    setTimeout(() => {
      service.ctx.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1500).unref();
    service.ctx.logger.info({ signal }, 'signal received');
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        service.ctx.logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  // Start-up failures (database unreachable, a migration failing) get one line, no stack.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`topic-alerts failed to start: ${message}\n`);
  process.exit(1);
});
