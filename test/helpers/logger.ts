import { createLogger, type Logger, type LogLevel } from '../../src/util/log.js';

/** A logger that keeps its lines, for asserting on warnings and for checking no secret leaks. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger(level, (_level, line) => lines.push(line)), { lines });
}
