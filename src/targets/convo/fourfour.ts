import { stringify } from 'csv-stringify/sync';
import { TextBody } from '../../http/client.js';
import type { JsonRecord } from '../../protocol/messages.js';
import { fourfour, type FourfourConfig } from '../../providers/fourfour/provider.js';
import { InputError, SyncError } from '../../util/errors.js';
import { apiRefusal, type Change, type ObjectWriter, type Outcome, type WriteChannel } from './writers.js';

/**
 * Four/Four's CRM import API (https://help.alchemer.com/help/crm-import-api): `PUT /import/crm/{type}`
 * creates or updates the CSV's rows by `id`, `DELETE /import/crm/{type}` deletes the ids its CSV lists,
 * and each submission is a job whose progress `GET /import/job/{job}` tells. The answer and job
 * shapes are not documented; what is read of them is in docs/sources.md#fourfour-crm-import.
 */

/** Rows per submission: the documentation states no limit; a batch this size stays far below any plausible one. */
const ROWS_PER_IMPORT = 500;

/** Looks at a job before giving up on it; at the longest wait between looks, about half an hour. */
const MOST_JOB_POLLS = 400;

/** Job states that end a job, and those of them that mean nothing was imported (the words an import job plausibly uses). */
const FINISHED = new Set(['completed', 'complete', 'succeeded', 'success', 'done', 'finished', 'failed', 'error']);
const FAILED = new Set(['failed', 'error']);

/** A row a finished job could not import: its 1-based data row in the CSV, or its id, and why. */
interface RowError {
  row?: number;
  id?: string;
  message?: string;
}

/** The import API takes a personal access token with the import scope, which an OAuth client cannot hold (help.alchemer.com "API access tokens and OAuth clients"). */
function importCredentials(config: FourfourConfig): FourfourConfig {
  const token = config.import_token ?? config.access_token;
  if (!token) throw new InputError('Four/Four imports take a personal access token with the Import data scope: set fourfour.import_token (OAuth clients cannot hold that scope)');
  return { ...config, access_token: token };
}

/** A CSV with a header row: `id`, then every other column any row gives; an empty cell leaves that field as Four/Four holds it. */
function csvOf(rows: readonly JsonRecord[]): string {
  const columns = [...new Set(['id', ...rows.flatMap((row) => Object.keys(row))])];
  // RFC 4180 line ends; booleans as words, not csv-stringify's default 1 and empty.
  return stringify(rows as JsonRecord[], { header: true, columns, record_delimiter: 'windows', cast: { boolean: (value) => String(value) } });
}

/** Polls an import job until it ends; its final answer. */
async function finishedJob(answer: unknown, endpoint: string, channel: WriteChannel): Promise<JsonRecord> {
  const submitted = answer as JsonRecord | undefined;
  const job = submitted?.job ?? submitted?.job_id ?? submitted?.jobId ?? submitted?.id;
  if (typeof job !== 'string' && typeof job !== 'number') throw new SyncError(`Four/Four answered ${endpoint} without a job id: ${JSON.stringify(answer)?.slice(0, 200)}`);
  for (let attempt = 1; attempt <= MOST_JOB_POLLS; attempt++) {
    await channel.pause(attempt);
    const state = (await channel.send({ method: 'GET', path: `/import/job/${encodeURIComponent(String(job))}` })) as JsonRecord;
    if (FINISHED.has(String(state.status).toLowerCase())) return state;
  }
  throw new SyncError(`Four/Four import job ${String(job)} (${endpoint}) had not finished after ${MOST_JOB_POLLS} looks; its rows stay unwritten in the state, so a rerun submits them again`, 'transient_error');
}

/** Each row's outcome from a finished job: a failed job refuses every row with its message, else the rows it names as failed are refused. */
function outcomesOf(job: JsonRecord, changes: readonly Change[]): Outcome[] {
  const status = String(job.status).toLowerCase();
  const message = typeof job.message === 'string' ? job.message : `import job ${String(job.job ?? '')} ${status}`;
  if (FAILED.has(status)) return changes.map(() => ({ refused: { message } }));
  const errors = Array.isArray(job.errors) ? (job.errors as RowError[]) : [];
  return changes.map((change, i) => {
    const error = errors.find((row) => row.row === i + 1 || (row.row === undefined && row.id === change.key));
    return error ? { refused: { message: error.message ?? message } } : { id: change.key };
  });
}

/** Four/Four CRM objects, upserted and deleted in batches through the import API; an upsert by id is safe to send again. */
function importWriter(stream: string, type: string, schemaFile: string): ObjectWriter<FourfourConfig> {
  return {
    stream,
    provider: fourfour,
    key: 'id',
    schemaFile,
    batchSize: ROWS_PER_IMPORT,
    credentials: importCredentials,
    async write(changes, channel) {
      const outcomes: Outcome[] = [];
      const indexed = changes.map((change, i) => ({ change, i }));
      for (const deleting of [false, true]) {
        const group = indexed.filter(({ change }) => change.deleting === deleting);
        if (!group.length) continue;
        const method = deleting ? 'DELETE' : 'PUT';
        const rows = group.map(({ change }) => (deleting ? { id: change.key } : change.payload));
        const body = new TextBody('text/csv', csvOf(rows));
        const endpoint = `${method} /import/crm/${type}`;
        let results: Outcome[];
        try {
          const answer = await channel.send({ method, path: `/import/crm/${type}`, body });
          results = channel.dryRun ? group.map(({ change }) => ({ id: change.key })) : outcomesOf(await finishedJob(answer, endpoint, channel), group.map(({ change }) => change));
        } catch (error) {
          // A submission refused as a whole (a malformed CSV, too large) refuses each of its rows.
          const refusal = apiRefusal(error);
          if (!refusal) throw error;
          results = group.map(() => ({ refused: refusal }));
        }
        group.forEach(({ i }, n) => (outcomes[i] = results[n]!));
      }
      return outcomes;
    },
  };
}

export const fourfourWriters: ObjectWriter<FourfourConfig>[] = [
  importWriter('fourfour_accounts', 'account', 'accounts'),
  importWriter('fourfour_contacts', 'contact', 'contacts'),
  importWriter('fourfour_opportunities', 'opportunity', 'opportunities'),
  importWriter('fourfour_leads', 'lead', 'leads'),
  importWriter('fourfour_users', 'user', 'users'),
];
