import { createHmac } from 'node:crypto';
import type { DateTime, Duration } from 'luxon';
import { badRequest } from './errors.js';

/** Where the next page starts, and what the first page reported (Gong keeps `total` in its cursor). */
export interface CursorPosition {
  /** The endpoint the cursor belongs to; a cursor is refused elsewhere. */
  kind: string;
  /** The next index (calls) or offset (lists) to serve from. */
  position: number;
  total: number;
  pageNumber: number;
}

interface CursorPayload extends CursorPosition {
  pageSize: number;
  /** Issue time in epoch milliseconds, and expiry in epoch seconds, as in Gong's cursor. */
  time: number;
  exp: number;
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256' }));

/**
 * Cursors as Gong issues them: HS256 JWTs whose payload carries the position, `total`, `pageNumber`,
 * `pageSize`, `time` and `exp` (gong-openapi.json `GET /v2/calls` shows an HS256 example cursor; a whole
 * payload is in github.com/amp-labs/connectors providers/gong/test/read_cursor.json). Gong does not
 * document the lifetime; the sandbox measures it on the injected clock.
 */
export class CursorCodec {
  constructor(
    private readonly secret: string,
    private readonly lifetime: Duration,
    private readonly now: () => DateTime,
    readonly pageSize: number,
  ) {}

  issue(position: CursorPosition): string {
    const issued = this.now();
    const payload: CursorPayload = {
      ...position,
      pageSize: this.pageSize,
      time: issued.toMillis(),
      exp: Math.floor(issued.plus(this.lifetime).toSeconds()),
    };
    const unsigned = `${HEADER}.${base64url(JSON.stringify(payload))}`;
    return `${unsigned}.${this.sign(unsigned)}`;
  }

  /** The position a cursor carries; a forged, garbled or foreign cursor and an expired one fail as Gong's do. */
  read(cursor: string, kind: string): CursorPosition {
    const payload = this.verify(cursor);
    if (!payload || payload.kind !== kind) throw badRequest('Failed to verify cursor');
    if (payload.exp * 1000 <= this.now().toMillis()) throw badRequest('cursor has expired');
    return { kind: payload.kind, position: payload.position, total: payload.total, pageNumber: payload.pageNumber };
  }

  private verify(cursor: string): CursorPayload | undefined {
    const parts = cursor.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
    const unsigned = `${parts[0]}.${parts[1]}`;
    if (this.sign(unsigned) !== parts[2]) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as CursorPayload;
      return Number.isSafeInteger(payload.position) && Number.isSafeInteger(payload.exp) ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(unsigned: string): string {
    return createHmac('sha256', this.secret).update(unsigned).digest('base64url');
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
