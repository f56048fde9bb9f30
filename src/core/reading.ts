import type { DateTime } from 'luxon';
import { HttpStatusError, type HttpClient, type HttpRequest, type HttpResponse } from '../http/client.js';
import { paginate, type Page } from '../pagination/index.js';
import type { JsonRecord } from '../protocol/messages.js';
import { SyncError } from '../util/errors.js';
import { valueAt } from '../util/json.js';
import type { Logger } from '../util/log.js';
import { absoluteRequest } from './provider-client.js';
import { QuotaExhausted, type QuotaLedger } from './quota.js';
import type { ProviderConfig, ProviderDefinition, RequestContext, Scratch, StreamDefinition } from './definitions.js';

/** One provider's part of a run: what every request to it needs. */
export interface ProviderRun {
  provider: ProviderDefinition;
  config: ProviderConfig;
  client: HttpClient;
  ledger?: QuotaLedger;
  /** The error meanings whose note was told this run. */
  noted: Set<string>;
  logger: Logger;
  /** The run's signpost: what every request context names as `until`. */
  until: DateTime;
  /** The config's start_date: what every request context names as `since`. */
  since: DateTime | undefined;
  /** This run's scratch for the provider's hooks, also handed to its auth. */
  scratch: Scratch;
}

/** Restart the current window from its first page (e.g. Gong's expired cursor). */
export class RestartWindow extends Error {}

/** A child request the provider says to leave out ('skip'): its parents get no records. */
export class SkipParents extends Error {
  constructor(readonly refusal: HttpStatusError) {
    super(refusal.message);
  }
}

/** A stream the credentials may not read ('skip-stream'): it and the streams that hang off it are left out. */
export class StreamRefused extends Error {
  constructor(refusal: HttpStatusError, said: string | undefined) {
    super(said ? `HTTP ${refusal.status} on ${refusal.endpoint}: ${said}` : refusal.message);
  }
}

/** The context of a window's or a parent batch's requests, with the run's bounds and a scratch of its own. */
export function requestContext(run: ProviderRun, of: Pick<RequestContext<ProviderConfig>, 'window' | 'range' | 'parents'>): RequestContext<ProviderConfig> {
  return { config: run.config, ...of, until: run.until, since: run.since, scratch: new Map() };
}

/** Every record a request (and its pages) returns, transformed. */
export async function readAll(stream: StreamDefinition, context: RequestContext<ProviderConfig>, run: ProviderRun): Promise<JsonRecord[]> {
  const out: JsonRecord[] = [];
  for await (const page of readPages(stream, context, run)) out.push(...transformed(stream, page, context));
  return out;
}

/**
 * The pages of a stream's requests for one context, each request split where the stream says so.
 * A final HTTP error is read as the provider's `interpretError` says: no records, a window to read
 * again, parents or a stream to leave out; a 429 the client hands back is the quota spent.
 */
export async function* readPages(stream: StreamDefinition, context: RequestContext<ProviderConfig>, run: ProviderRun): AsyncGenerator<Page> {
  const send = async (request: HttpRequest, peek?: (text: string) => void): Promise<HttpResponse> => {
    run.ledger?.spend();
    try {
      return await run.client.send(run.provider.beforeSend?.(request, { traffic: run.client.requests, logger: run.logger, scratch: run.scratch }) ?? request, peek);
    } catch (error) {
      if (!(error instanceof HttpStatusError)) throw named(error, stream);
      // The client retries every 429 it can wait out; one it hands back is the quota (a long Retry-After, or the provider's quota answer).
      if (error.status === 429 && run.ledger) throw run.ledger.refused(error.message, error.retryAfterMs);
      const meaning = run.provider.interpretError?.(error, stream);
      const note = meaning && meaning !== 'skip' ? run.provider.errorNotes?.[meaning] : undefined;
      if (note && !run.noted.has(meaning!)) {
        run.noted.add(meaning!);
        run.logger.warn(`${run.provider.title}: ${note}`);
      }
      if (meaning === 'skip' && context.parents.length) throw new SkipParents(error);
      if (meaning === 'skip-stream') throw new StreamRefused(error, run.provider.describeRefusal?.(error));
      if (meaning === 'empty') {
        run.logger.debug(`${stream.name}: HTTP ${error.status} on ${error.endpoint}, read as no records`);
        return { status: error.status, headers: {}, body: null };
      }
      if (meaning === 'restart-window') throw new RestartWindow(error.message);
      throw named(error, stream);
    }
  };
  const recordsAt = (body: unknown): unknown[] => {
    for (const path of stream.recordsAt) {
      const found = valueAt(body, path);
      if (Array.isArray(found)) return found;
      if (found !== null && typeof found === 'object') return [found];
    }
    return [];
  };
  const paginator = stream.paginator ?? run.provider.paginator;
  async function* read(request: HttpRequest): AsyncGenerator<Page> {
    let first = true;
    for await (const page of paginate(send, request, paginator, recordsAt)) {
      const narrower = first ? stream.split?.(page.request, page.response.body) : undefined;
      first = false;
      if (narrower) {
        for (const part of narrower) yield* read(part);
        return;
      }
      yield page;
    }
  }
  for (const spec of [stream.request(context)].flat()) yield* read(absoluteRequest(run.provider, run.config, spec, run.scratch));
}

/** A page's records as the stream's transform reshapes them. */
export function transformed(stream: StreamDefinition, page: Page, context: RequestContext<ProviderConfig>): JsonRecord[] {
  if (!stream.transform) return page.records as JsonRecord[];
  return page.records.flatMap((raw) => stream.transform!(raw as JsonRecord, context, page.request) ?? []);
}

/** A request failure the user sees (retries spent, credentials refused), told with the stream it stopped. */
function named(error: unknown, stream: StreamDefinition): unknown {
  if (error instanceof SyncError && !(error instanceof QuotaExhausted)) error.message = `${stream.name}: ${error.message}`;
  return error;
}
