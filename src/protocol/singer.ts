import type { Writable } from 'node:stream';
import type { SyncEvent } from '../core/events.js';
import type { SingerMessage } from './messages.js';

/** The Singer message for an event; events with no Singer form give undefined. */
export function toSinger(event: SyncEvent): SingerMessage | undefined {
  switch (event.type) {
    case 'schema':
      return { type: 'SCHEMA', stream: event.stream, schema: event.schema, key_properties: event.keyProperties, bookmark_properties: event.bookmarkProperties };
    case 'record':
      return { type: 'RECORD', stream: event.stream, record: event.record, time_extracted: event.timeExtracted, ...(event.version === undefined ? {} : { version: event.version }) };
    case 'state':
      return { type: 'STATE', value: event.state };
    case 'activate-version':
      return { type: 'ACTIVATE_VERSION', stream: event.stream, version: event.version };
    default:
      return undefined;
  }
}

/** Lines are written in chunks of this size at most, so stdout never holds more than one in memory. */
const CHUNK_BYTES = 65_536;
/** How long a queued line may wait for its chunk: a killed run has written what it read this long ago. */
const MAX_DELAY_MS = 1_000;

/**
 * Writes JSON lines to a stream in chunks, waiting for the reader when it falls behind. A line
 * waits at most a second for its chunk to fill, and `writeNow` sends a line with everything queued
 * before it at once: a STATE reaches the reader as soon as it is emitted, so a sync killed at any
 * moment resumes from its last page or window (a write counts once the stream has taken it, i.e. it
 * has drained, not while it sits in the process's memory).
 */
export class LineWriter {
  private buffer: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly maxDelayMs = MAX_DELAY_MS,
  ) {}

  async write(message: unknown): Promise<void> {
    this.queue(message);
    if (this.size >= CHUNK_BYTES) await this.flush();
    // Unref'd: a queued line never keeps the process alive; the command's own exit path flushes it.
    else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs).unref();
  }

  /** Writes `message` and every line queued before it now, returning once the stream has taken them. */
  async writeNow(message: unknown): Promise<void> {
    this.queue(message);
    await this.flush();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.size) {
      const chunk = this.buffer.join('');
      this.buffer = [];
      this.size = 0;
      this.out.write(chunk);
    }
    // Also after a timed flush wrote more than the stream could take: its lines are not yet delivered.
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }

  private queue(message: unknown): void {
    const line = JSON.stringify(message) + '\n';
    this.buffer.push(line);
    this.size += line.length;
  }
}
