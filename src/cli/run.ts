import { UserFacingError, EXIT_SYNC_FAILED } from '../util/errors.js';
import { createLogger, redact, type Logger, type LogLevel } from '../util/log.js';

/**
 * Runs a command handler and turns its failure into the contract's exit: one `CRITICAL` line on
 * stderr (redacted), the error's exit code, and a stack trace only at --log-level debug.
 */
export async function runCommand(level: LogLevel, handler: (logger: Logger) => Promise<number | void>): Promise<never> {
  const logger = createLogger(level);
  let code = 0;
  try {
    code = (await handler(logger)) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(redact(`CRITICAL ${message.split('\n')[0]}`) + '\n');
    if (level === 'debug' && error instanceof Error && error.stack) process.stderr.write(redact(error.stack) + '\n');
    code = error instanceof UserFacingError ? error.exitCode : EXIT_SYNC_FAILED;
  }
  await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', resolve) : resolve()));
  process.exit(code);
}
