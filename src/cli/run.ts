import { Interrupted, UserFacingError, EXIT_SYNC_FAILED } from '../util/errors.js';
import { createLogger, redact, type Logger, type LogLevel } from '../util/log.js';

/**
 * Runs a command handler and turns its failure into the contract's exit: one `CRITICAL` line on
 * stderr (redacted), the error's exit code, and a stack trace only at --log-level debug.
 */
export async function runCommand(level: LogLevel, handler: (logger: Logger) => Promise<number | void>): Promise<never> {
  const logger = createLogger(level);
  process.stdout.on('error', stdoutFailed);
  // A closed stderr has nowhere to report to; it must not crash the run either.
  process.stderr.on('error', () => undefined);
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

/**
 * The reader of stdout went away (`tap-convo | head`, a target that stopped on a bad line): nothing
 * more can be delivered, so the run ends at once. Node ignores SIGPIPE, so this arrives as EPIPE.
 */
function stdoutFailed(error: NodeJS.ErrnoException): void {
  const what = error.code === 'EPIPE' ? 'stdout was closed by the program reading it (EPIPE)' : `cannot write to stdout (${error.code ?? error.message})`;
  process.stderr.write(`CRITICAL ${what}: stopped; see that program's own error, then rerun from the last STATE it saved\n`);
  process.exit(EXIT_SYNC_FAILED);
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const STOPPED = Symbol('stopped');

/**
 * Yields a sync's events until SIGINT or SIGTERM arrives, then throws `Interrupted` at once, without
 * waiting for the event being read (a request under the rate limit can take seconds); the caller
 * writes what it holds and exits. Only the first signal is caught: a second one ends the process
 * the default way, for when the reader of stdout no longer reads and the final write cannot finish.
 */
export async function* untilInterrupted<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
  let caught: Interrupted | undefined;
  let stopWaiting: ((value: typeof STOPPED) => void) | undefined;
  const onSignal = (signal: (typeof SIGNALS)[number]): void => {
    for (const name of SIGNALS) process.off(name, onSignal);
    caught = new Interrupted(signal);
    stopWaiting?.(STOPPED);
  };
  for (const name of SIGNALS) process.on(name, onSignal);
  const iterator = events[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      if (caught) throw caught;
      // A new promise per event: racing one long-lived promise would keep a reaction per event.
      const next = await new Promise<IteratorResult<T> | typeof STOPPED>((resolve, reject) => {
        stopWaiting = resolve;
        iterator.next().then(resolve, reject);
      });
      if (next === STOPPED) throw caught!;
      if ((done = next.done === true)) return;
      yield next.value;
    }
  } finally {
    stopWaiting = undefined;
    for (const name of SIGNALS) process.off(name, onSignal);
    // A caller that stops early still lets the sync close its clients; an interrupted one is not waited for.
    if (!done && !caught) await iterator.return?.(undefined);
  }
}
