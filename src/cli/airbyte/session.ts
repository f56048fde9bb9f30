import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { isSecretSetting, readJsonFile } from '../../core/config.js';
import type { JsonRecord } from '../../protocol/messages.js';
import { controlMessage, errorTrace, logMessage, type AirbyteMessage } from '../../protocol/airbyte.js';
import { LineWriter } from '../../protocol/singer.js';
import { PROVIDERS } from '../../providers/index.js';
import { InputError } from '../../util/errors.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../../util/log.js';
import { runCommand } from '../run.js';

export interface AirbyteArgs {
  config: string;
  catalog: string;
  state?: string;
  'log-level': LogLevel;
}

/** The options an Airbyte command takes; the platform always passes `--config` (and `--catalog` to read). */
export function airbyteOptions(yargs: Argv, { config = false, catalog = false } = {}): Argv<AirbyteArgs> {
  let out = yargs.option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Least severe log level sent as LOG messages' });
  if (config) out = out.option('config', { type: 'string', demandOption: true, describe: 'The connection config JSON file (see spec)' });
  if (catalog) {
    out = out
      .option('catalog', { type: 'string', demandOption: true, describe: 'The configured catalog JSON file' })
      .option('state', { type: 'string', describe: 'State JSON file: the per-stream STATE messages of an earlier read' });
  }
  return out as Argv<AirbyteArgs>;
}

/** What a command writes through: one stdout writer for every message, so logs keep their place. */
export interface AirbyteSession {
  logger: Logger;
  send(message: AirbyteMessage): Promise<void>;
  /** The stream a failure belongs to, when known, for the error trace. */
  failedStream?: string;
}

/**
 * Runs an Airbyte command: every line on stdout is an Airbyte message, logs included (see
 * docs/sources.md#airbyte). A failure is reported as a TRACE ERROR with its failure_type, then as the contract's CRITICAL
 * line on stderr and exit code (README.md#commands).
 */
export function runAirbyte(level: LogLevel, body: (session: AirbyteSession) => Promise<void>): Promise<never> {
  return runCommand(level, async () => {
    const writer = new LineWriter(process.stdout);
    const session: AirbyteSession = {
      // The sink cannot wait; the writer queues the line in order and drains with the next message.
      logger: createLogger(level, (lineLevel, line) => void writer.write(logMessage(lineLevel, line))),
      // A STATE, and a rotated config the platform must store, reach it at once: a kill loses neither.
      send: (message) => (message.type === 'STATE' || message.type === 'CONTROL' ? writer.writeNow(message) : writer.write(message)),
    };
    try {
      await body(session);
    } catch (error) {
      await writer.write(errorTrace(error, session.failedStream));
      throw error;
    } finally {
      await writer.flush();
    }
  });
}

export interface PlatformConfig {
  /** The config exactly as the platform passed it: rotated settings are sent back merged into it. */
  document: JsonRecord;
  /** What to hand the engine's config loader in its place. */
  sources: string[];
  /** Removes the trimmed copy, if one was written. */
  dispose(): void;
}

/**
 * Reads the config Airbyte passes. Its form fills every provider block with that provider's defaults,
 * even for providers the user left out, and tap-convo syncs every block present (README.md#configuration); so a
 * block holding no credential at all is dropped. The engine loads configs from files, so a trimmed
 * config goes to a private temporary file for the run.
 */
export function readPlatformConfig(path: string, logger: Logger): PlatformConfig {
  const document = readJsonFile(path, 'config');
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new InputError(`config ${path} must be a JSON object`);
  const unused = PROVIDERS.filter((provider) => {
    const block = (document as JsonRecord)[provider.key];
    if (block === null || typeof block !== 'object' || Array.isArray(block)) return false;
    return !Object.entries(block).some(([name, value]) => isSecretSetting(name) && typeof value === 'string' && value !== '');
  });
  if (!unused.length) return { document: document as JsonRecord, sources: [path], dispose: () => undefined };
  for (const provider of unused) logger.info(`${provider.key}: no credentials in the config, so ${provider.title} is not synced`);
  const trimmed = Object.fromEntries(Object.entries(document).filter(([key]) => !unused.some((p) => p.key === key)));
  const dir = mkdtempSync(join(tmpdir(), 'tap-convo-airbyte-'));
  const trimmedPath = join(dir, 'config.json');
  writeFileSync(trimmedPath, JSON.stringify(trimmed), { mode: 0o600 });
  return { document: document as JsonRecord, sources: [trimmedPath], dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The persist callback for engine work outside a sync (check, discover): a rotated setting, already
 * written into `engineConfig` by the provider's client, goes to the platform as CONTROL.
 */
export function announceRotation(session: AirbyteSession, platform: PlatformConfig, engineConfig: JsonRecord): () => Promise<void> {
  return () => session.send(controlMessage(platform.document, engineConfig));
}
