import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineWriter } from '../../src/protocol/singer.js';

/** A stream that keeps what it was given, as the reader of stdout would have it. */
function sink(): { out: Writable; received: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { out, received: () => chunks.join('') };
}

describe('LineWriter', () => {
  afterEach(() => vi.useRealTimers());

  it('writes a line with writeNow at once, with every line queued before it', async () => {
    const { out, received } = sink();
    const writer = new LineWriter(out);
    await writer.write({ type: 'RECORD', n: 1 });
    expect(received()).toBe('');
    await writer.writeNow({ type: 'STATE', value: 1 });
    expect(received()).toBe('{"type":"RECORD","n":1}\n{"type":"STATE","value":1}\n');
  });

  it('writes queued lines once they have waited a second, without another write', async () => {
    vi.useFakeTimers();
    const { out, received } = sink();
    const writer = new LineWriter(out);
    await writer.write({ n: 1 });
    await vi.advanceTimersByTimeAsync(999);
    expect(received()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(received()).toBe('{"n":1}\n');
  });

  it('writes as soon as 64 KiB are queued', async () => {
    const { out, received } = sink();
    const writer = new LineWriter(out);
    const line = { text: 'x'.repeat(1_000) };
    for (let i = 0; i < 70; i++) await writer.write(line);
    expect(received().length).toBeGreaterThanOrEqual(65_536);
  });
});
