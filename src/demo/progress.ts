import type { SyncEvent } from '../core/events.js';

/**
 * Records per stream on stderr: a live line redrawn in place on a terminal, and one line per
 * finished stream otherwise (logs and CI output stay readable).
 */
export function createProgress(out: NodeJS.WriteStream) {
  const counts = new Map<string, number>();
  const interactive = out.isTTY === true;
  const started = performance.now();
  let current = '';
  let lastDraw = 0;
  const width = 24;

  function draw(force = false): void {
    const now = performance.now();
    if (!interactive || (!force && now - lastDraw < 100)) return;
    lastDraw = now;
    const finished = [...counts.keys()].indexOf(current) + 1;
    const filled = Math.round((finished / Math.max(counts.size, 1)) * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    out.write(`\r\x1b[K${bar} ${current} ${counts.get(current) ?? 0} · ${total} records · ${((now - started) / 1000).toFixed(1)} s`);
  }

  return {
    onEvent(event: SyncEvent): void {
      if (event.type === 'stream-status' && event.status === 'STARTED') {
        counts.set(event.stream, 0);
        current = event.stream;
        draw(true);
      } else if (event.type === 'record') {
        counts.set(event.stream, (counts.get(event.stream) ?? 0) + 1);
        draw();
      } else if (event.type === 'stream-status' && event.status === 'COMPLETE' && !interactive) {
        out.write(`${event.stream}: ${counts.get(event.stream) ?? 0} records\n`);
      }
    },
    done(): void {
      if (interactive) out.write('\r\x1b[K');
    },
  };
}
