import { createLogger, type Logger, type LogLevel } from '../../src/util/log.js';
import { secretLeak } from './binary.js';

export interface MemoryLogger extends Logger {
  lines: string[];
  /** Throws if any kept line holds one of `secrets` (issue 7: logs never carry a credential). */
  expectNoSecrets(secrets: readonly string[]): void;
}

/** A logger that keeps its lines, for asserting on warnings and for checking no secret leaks. */
export function memoryLogger(level: LogLevel = 'debug'): MemoryLogger {
  const lines: string[] = [];
  return Object.assign(createLogger(level, (_level, line) => lines.push(line)), {
    lines,
    expectNoSecrets(secrets: readonly string[]) {
      const leak = secretLeak(lines.join('\n'), secrets, 'the in-process logger');
      if (leak) throw leak;
    },
  });
}
