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

/**
 * Writes JSON lines to a stream in 64 KiB chunks, waiting for the reader when it falls behind,
 * so stdout never holds more than one chunk in memory.
 */
export class LineWriter {
  private buffer: string[] = [];
  private size = 0;

  constructor(private readonly out: Writable) {}

  async write(message: unknown): Promise<void> {
    const line = JSON.stringify(message) + '\n';
    this.buffer.push(line);
    this.size += line.length;
    if (this.size >= 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.size) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (!this.out.write(chunk)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
}
