export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export interface Logger {
  level: LogLevel;
  log(level: LogLevel, message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Singer metric line: `INFO METRIC: {...}` (singer-python metrics format). */
  metric(metric: Record<string, unknown>): void;
}

/** Strings that must never be printed; every logger line passes through `redact`. */
const secrets = new Set<string>();

export function registerSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

export type LogSink = (level: LogLevel, line: string) => void;

const stderrSink: LogSink = (_level, line) => process.stderr.write(line + '\n');

export function createLogger(level: LogLevel = 'info', sink: LogSink = stderrSink): Logger {
  const logger: Logger = {
    level,
    log(messageLevel, message) {
      if (ORDER[messageLevel] < ORDER[logger.level]) return;
      sink(messageLevel, redact(`${messageLevel.toUpperCase()} ${message}`));
    },
    debug: (m) => logger.log('debug', m),
    info: (m) => logger.log('info', m),
    warn: (m) => logger.log('warning', m),
    error: (m) => logger.log('error', m),
    metric: (metric) => logger.log('info', `METRIC: ${JSON.stringify(metric)}`),
  };
  return logger;
}

export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];
