import { join } from 'node:path';
import { queryDatabase } from '../helpers/duckdb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllSandboxes } from '../../src/sandbox/index.js';
import type { RunningSandbox } from '../../src/sandbox/server.js';
import { runBinary, tempDir, writeJson, type BinaryRun } from '../helpers/binary.js';
import { TEST_NOW } from '../helpers/sync.js';
import { validator } from '../../src/util/schema.js';

/**
 * Issue 7, bad-input corpus: every case runs the real binary and must end with the exit code of the
 * contract (README.md#commands), one CRITICAL line naming what to fix, no stack trace, no secret
 * (runBinary scans every run), and nothing lost.
 */

type Expectation =
  /** Rejected before any work: exit 2, one CRITICAL line, nothing on stdout. */
  | { exit: 2; critical: RegExp }
  /** The target stops at a bad line: exit 1, one CRITICAL line; `check` looks at what was kept. */
  | { exit: 1; critical: RegExp }
  /** Airbyte read/discover: a TRACE ERROR with failure_type config_error saying the same as the CRITICAL line. */
  | { exit: 2; trace: RegExp }
  /** Airbyte check: a FAILED CONNECTION_STATUS is its answer to bad config (docs/sources.md#airbyte), exit 0. */
  | { exit: 0; status: RegExp }
  /** Input that is odd but valid: exit 0 and no error line. */
  | { exit: 0 };

interface BadInputCase {
  name: string;
  bin?: 'tap-convo' | 'target-convo-duckdb';
  args: () => string[];
  env?: Record<string, string>;
  input?: () => string;
  /** Credentials the run must not print that no readable config holds. */
  secrets?: string[];
  expect: Expectation;
  /** What must hold of the run beyond the common checks (state kept, rows committed). */
  check?: (run: BinaryRun) => void | Promise<void>;
}

const GONG = { access_key: 'gong-key-7f3a', access_key_secret: 'gong-secret-91bd', base_url: 'http://127.0.0.1:9/gong' };
const CLARI = { api_key: 'clari-key-22c1', api_password: 'clari-password-5e0f', base_url: 'http://127.0.0.1:9/clari' };
/** Selects nothing, so a run with it reads its inputs and stops before any request. */
const NO_STREAMS = { streams: [] };
const selected = (stream: string, extra: Record<string, unknown> = {}) => ({ tap_stream_id: stream, metadata: [{ breadcrumb: [], metadata: { selected: true, ...extra } }] });
const BOOKMARK = { replication_key: 'started', replication_key_value: '2026-05-01T00:00:00Z' };

let dir: string;
let sandbox: RunningSandbox;
/** A file in the case directory holding `value` (a string is written as is). */
const file = (name: string, value: unknown) => writeJson(dir, name, value);
let configCount = 0;
const gongConfig = (extra: Record<string, unknown> = {}, gong: Record<string, unknown> = {}) => file(`config-${++configCount}.json`, { gong: { ...GONG, ...gong }, ...extra });
const ok = () => gongConfig();

/** One STATE line emitted by a tap run that read no stream: the state it was given, kept whole. */
function finalState(run: BinaryRun): unknown {
  const states = run.lines.filter((line) => line.type === 'STATE');
  return states.at(-1)?.value;
}

const tapCases: BadInputCase[] = [
  // Config files
  { name: 'config with an unquoted value', args: () => ['--config', file('unquoted.json', '{"gong": {"access_key": gong-unquoted-secret}}')], secrets: ['gong-unquoted-secret', 'gong-unquo'], expect: { exit: 2, critical: /^CRITICAL config .*unquoted\.json is not valid JSON: Unexpected token 'g'$/ } },
  { name: 'config cut short', args: () => ['--config', file('cut.json', '{"gong": {"access_key": "gong-key-7f3a"')], expect: { exit: 2, critical: /^CRITICAL config .*cut\.json is not valid JSON: .*position \d+/ } },
  { name: 'config that is an array', args: () => ['--config', file('array.json', [GONG])], expect: { exit: 2, critical: /^CRITICAL config .*array\.json must be a JSON object$/ } },
  { name: 'empty config file', args: () => ['--config', file('empty.json', '')], expect: { exit: 2, critical: /^CRITICAL config .*empty\.json is empty; it must hold a JSON object$/ } },
  { name: 'missing config file', args: () => ['--config', join(dir, 'no-such-config.json')], expect: { exit: 2, critical: /^CRITICAL cannot read config .*no-such-config\.json: ENOENT$/ } },
  { name: 'directory given as config', args: () => ['--config', dir], expect: { exit: 2, critical: /^CRITICAL cannot read config .*: EISDIR$/ } },
  // Wrong types
  { name: 'provider block that is a string', args: () => ['--config', file('block-string.json', { gong: 'gong-key-7f3a' })], expect: { exit: 2, critical: /^CRITICAL config: gong must be object$/ } },
  { name: 'credential that is a number', args: () => ['--config', gongConfig({}, { access_key: 12345678 })], expect: { exit: 2, critical: /^CRITICAL config: gong\.access_key must be string$/ } },
  { name: 'requests_per_second that is a word', args: () => ['--config', gongConfig({}, { requests_per_second: 'fast' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.requests_per_second must be number$/ } },
  { name: 'include_private that is a string', args: () => ['--config', file('private.json', { clari_copilot: { ...CLARI, include_private: 'yes' } })], expect: { exit: 2, critical: /^CRITICAL config: clari_copilot\.include_private must be boolean$/ } },
  // Unknown settings
  { name: 'unknown top-level setting', args: () => ['--config', gongConfig({ start_dat: '2026-01-01T00:00:00Z' })], expect: { exit: 2, critical: /^CRITICAL config: start_dat is not a known setting$/ } },
  { name: 'unknown setting inside a provider block', args: () => ['--config', gongConfig({}, { acces_key_secret: 'gong-typo-secret' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.acces_key_secret is not a known setting$/ } },
  // Keys that name a prototype: refused as the unknown settings they are, never merged into Object.prototype (issue 13.8)
  { name: 'config with a __proto__ key', args: () => ['--config', file('proto.json', `{"__proto__": {"polluted": "yes"}, "gong": ${JSON.stringify(GONG)}}`)], expect: { exit: 2, critical: /^CRITICAL config: __proto__ is not a known setting$/ } },
  { name: 'provider block with a __proto__ key', args: () => ['--config', file('block-proto.json', `{"gong": {"__proto__": {"base_url": "http://127.0.0.1:9/elsewhere"}, "access_key": "gong-key-7f3a", "access_key_secret": "gong-secret-91bd"}}`)], expect: { exit: 2, critical: /^CRITICAL config: gong\.__proto__ is not a known setting$/ } },
  { name: 'config with constructor.prototype', args: () => ['--config', gongConfig({ constructor: { prototype: { polluted: 'yes' } } })], expect: { exit: 2, critical: /^CRITICAL config: constructor is not a known setting$/ } },
  { name: 'ENV with a __proto__ variable', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG__ACCESS_TOKEN: 'gong-token-c4d2', TAP_CONVO___PROTO____POLLUTED: 'yes' }, expect: { exit: 2, critical: /^CRITICAL config: environment variable TAP_CONVO___PROTO____POLLUTED is not a known setting$/ } },
  { name: 'ENV with a constructor variable', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG__ACCESS_TOKEN: 'gong-token-c4d2', TAP_CONVO_CONSTRUCTOR__ASSIGN: 'yes' }, expect: { exit: 2, critical: /^CRITICAL config: constructor is not a known setting$/ } },
  { name: 'ENV with constructor.prototype inside a provider', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG__ACCESS_TOKEN: 'gong-token-c4d2', TAP_CONVO_GONG__CONSTRUCTOR__PROTOTYPE__POLLUTED: 'yes' }, expect: { exit: 2, critical: /^CRITICAL config: environment variable TAP_CONVO_GONG__CONSTRUCTOR__PROTOTYPE__POLLUTED is not a known setting$/ } },
  // Duplicate keys: JSON.parse's rule, the last one wins (issue 13.14)
  { name: 'config with a duplicate key, the last one valid', args: () => ['--config', file('duplicate-valid.json', `{"gong": {"access_key": "gong-key-7f3a", "access_key_secret": "gong-secret-91bd", "base_url": "http://127.0.0.1:9/gong", "requests_per_second": "fast", "requests_per_second": 2}}`), '--catalog', file('none-duplicate.json', NO_STREAMS)], expect: { exit: 0 } },
  { name: 'config with a duplicate key, the last one wrong', args: () => ['--config', file('duplicate-wrong.json', `{"gong": {"access_key": "gong-key-7f3a", "access_key_secret": "gong-secret-91bd", "requests_per_second": 2, "requests_per_second": "fast"}}`)], expect: { exit: 2, critical: /^CRITICAL config: gong\.requests_per_second must be number$/ } },
  // Values a request would fail on, refused before any output (issue 13.11)
  { name: 'requests_per_second too small to schedule', args: () => ['--config', gongConfig({}, { requests_per_second: 1e-9 })], expect: { exit: 2, critical: /^CRITICAL config: gong\.requests_per_second must be >= 0\.01$/ } },
  { name: 'ENV with a request_timeout beyond any timer', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG__ACCESS_TOKEN: 'gong-token-c4d2', TAP_CONVO_GONG__REQUEST_TIMEOUT: '1e308' }, expect: { exit: 2, critical: /^CRITICAL config: gong\.request_timeout must be <= 3600$/ } },
  { name: 'base_url with a port out of range', args: () => ['--config', gongConfig({}, { base_url: 'http://127.0.0.1:99999/gong' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.base_url is not a URL that can be requested; check the host name and that the port is from 1 to 65535$/ } },
  { name: 'base_url with a query string', args: () => ['--config', gongConfig({}, { base_url: 'http://127.0.0.1:9/gong?region=eu' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.base_url must be the API root, without a query string or fragment$/ } },
  { name: 'base_url with a fragment', args: () => ['--config', gongConfig({}, { base_url: 'http://127.0.0.1:9/gong#v2' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.base_url must be the API root, without a query string or fragment$/ } },
  // Credentials
  { name: 'half a credential pair', args: () => ['--config', file('half.json', { gong: { access_key: 'gong-key-7f3a' } })], expect: { exit: 2, critical: /^CRITICAL config: gong\.access_key_secret is required when gong\.access_key is set$/ } },
  { name: 'two kinds of credentials', args: () => ['--config', gongConfig({}, { access_token: 'gong-token-c4d2' })], expect: { exit: 2, critical: /^CRITICAL config: gong: set only one kind of credentials/ } },
  { name: 'no provider at all', args: () => ['--config', file('no-provider.json', { start_date: '2026-01-01T00:00:00Z' })], expect: { exit: 2, critical: /^CRITICAL config: no provider is configured; add a block for one of gong, clari_copilot, fourfour$/ } },
  // base_url and token_url: credentials travel only over https, except to loopback (README.md#configuration)
  { name: 'plain-http base_url on a public host', args: () => ['--config', gongConfig({}, { base_url: 'http://api.gong.io' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.base_url must use https \(plain http is allowed only for loopback hosts such as 127\.0\.0\.1\)$/ } },
  { name: 'plain-http base_url on a host dressed as loopback', args: () => ['--config', gongConfig({}, { base_url: 'http://127.0.0.1.example.com/gong' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.base_url must use https/ } },
  { name: 'base_url that is not a URL', args: () => ['--config', gongConfig({}, { base_url: 'api.gong.io' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.base_url must be a valid uri$/ } },
  {
    name: 'plain-http token_url on a public host',
    args: () => ['--config', file('token-url.json', { fourfour: { client_id: 'ff-client', client_secret: 'ff-secret-3b7e', refresh_token: 'ff-refresh-8d21', token_url: 'http://auth.example.com/oauth/token' } })],
    expect: { exit: 2, critical: /^CRITICAL config: fourfour\.token_url must use https/ },
  },
  // Dates and durations
  { name: 'start_date after end_date', args: () => ['--config', gongConfig({ start_date: '2026-05-01T00:00:00Z', end_date: '2026-01-01T00:00:00Z' })], expect: { exit: 2, critical: /^CRITICAL config: start_date 2026-05-01T00:00:00Z is after end_date 2026-01-01T00:00:00Z; swap them or remove end_date$/ } },
  { name: 'start_date that is not ISO-8601', args: () => ['--config', gongConfig({ start_date: '01/02/2026' })], expect: { exit: 2, critical: /^CRITICAL config: start_date must be a valid date-time$/ } },
  { name: 'lookback with an unknown unit', args: () => ['--config', gongConfig({}, { lookback: 'P1X' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.lookback must be an ISO-8601 duration of zero or more, such as P1D or PT12H$/ } },
  { name: 'negative lookback', args: () => ['--config', file('negative.json', { clari_copilot: { ...CLARI, lookback: 'P-7D' } })], expect: { exit: 2, critical: /^CRITICAL config: clari_copilot\.lookback must be an ISO-8601 duration/ } },
  { name: 'lookback in words', args: () => ['--config', gongConfig({}, { lookback: '1 day' })], expect: { exit: 2, critical: /^CRITICAL config: gong\.lookback must be an ISO-8601 duration of zero or more, such as P1D or PT12H$/ } },
  // --config ENV
  { name: 'ENV with a number setting that is a word', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG__ACCESS_KEY: GONG.access_key, TAP_CONVO_GONG__ACCESS_KEY_SECRET: GONG.access_key_secret, TAP_CONVO_GONG__REQUESTS_PER_SECOND: 'fast' }, expect: { exit: 2, critical: /^CRITICAL config: gong\.requests_per_second must be number$/ } },
  { name: 'ENV with a boolean setting that is neither', args: () => ['--config', 'ENV'], env: { TAP_CONVO_CLARI_COPILOT__API_KEY: CLARI.api_key, TAP_CONVO_CLARI_COPILOT__API_PASSWORD: CLARI.api_password, TAP_CONVO_CLARI_COPILOT__INCLUDE_PRIVATE: 'maybe' }, expect: { exit: 2, critical: /^CRITICAL config: clari_copilot\.include_private must be boolean$/ } },
  { name: 'ENV with an unknown variable', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG__ACCESS_KEY: GONG.access_key, TAP_CONVO_GONG__ACCESS_KEY_SECRET: GONG.access_key_secret, TAP_CONVO_GONG__ACESS_KEY: 'gong-typo-key-1' }, expect: { exit: 2, critical: /^CRITICAL config: gong\.acess_key is not a known setting$/ } },
  { name: 'ENV with a provider variable holding a secret', args: () => ['--config', 'ENV'], env: { TAP_CONVO_GONG: 'gong-flat-secret-77' }, secrets: ['gong-flat-secret-77'], expect: { exit: 2, critical: /^CRITICAL config: gong must be object$/ } },
  // State
  { name: 'state that is not JSON', args: () => ['--config', ok(), '--state', file('state-broken.json', '{"bookmarks": {')], expect: { exit: 2, critical: /^CRITICAL state .*state-broken\.json is not valid JSON/ } },
  { name: 'empty state file', args: () => ['--config', ok(), '--state', file('state-empty.json', '')], expect: { exit: 2, critical: /^CRITICAL state .*state-empty\.json is empty/ } },
  { name: 'missing state file', args: () => ['--config', ok(), '--state', join(dir, 'no-such-state.json')], expect: { exit: 2, critical: /^CRITICAL cannot read state .*no-such-state\.json: ENOENT$/ } },
  { name: 'directory given as state', args: () => ['--config', ok(), '--state', dir], expect: { exit: 2, critical: /^CRITICAL cannot read state .*: EISDIR$/ } },
  { name: 'state that is a string', args: () => ['--config', ok(), '--state', file('state-string.json', '"2026-05-01T00:00:00Z"')], expect: { exit: 2, critical: /^CRITICAL state .*: must be a JSON object; pass the last STATE value a sync emitted, or no --state for a full sync$/ } },
  { name: 'state that is a list of numbers', args: () => ['--config', ok(), '--state', file('state-list.json', [1, 2])], expect: { exit: 2, critical: /^CRITICAL state .*: an Airbyte state entry lacks stream\.stream_descriptor\.name/ } },
  {
    name: 'state that is an Airbyte GLOBAL state',
    args: () => ['--config', ok(), '--state', file('state-global.json', [{ type: 'GLOBAL', global: { shared_state: { cursor: 7 }, stream_states: [{ stream_descriptor: { name: 'gong_calls' }, stream_state: BOOKMARK }] } }])],
    expect: { exit: 2, critical: /^CRITICAL state .*: an Airbyte GLOBAL state cannot be read; tap-convo reads Airbyte per-stream states \(type STREAM\), a Singer state \{"bookmarks": …\} or Airbyte's legacy \{"data": …\}; pass the last STATE/ },
  },
  { name: 'state in a flat shape of another tap', args: () => ['--config', ok(), '--state', file('state-flat.json', { gong_calls: { started: '2026-05-01T00:00:00Z' } })], expect: { exit: 2, critical: /^CRITICAL state .*: has no "bookmarks" object/ } },
  { name: 'bookmark that is a bare date', args: () => ['--config', ok(), '--state', file('state-bare.json', { bookmarks: { gong_calls: '2026-05-01' } })], expect: { exit: 2, critical: /^CRITICAL state .*: bookmark of gong_calls must be an object/ } },
  { name: 'bookmark value that is not a date-time', args: () => ['--config', ok(), '--state', file('state-words.json', { bookmarks: { gong_calls: { ...BOOKMARK, replication_key_value: 'last tuesday' } } })], expect: { exit: 2, critical: /^CRITICAL state .*: bookmark of gong_calls has replication_key_value "last tuesday", not a date-time/ } },
  // State shapes that are valid: kept whole, never dropped (the state contract: any earlier release's state is accepted)
  ...(
    [
      ['a bookmark of another stream', { bookmarks: { gong_calls: BOOKMARK, other_tap_stream: { replication_key: 'updated', replication_key_value: '2025-01-01T00:00:00Z' } } }],
      ['a whole STATE message (a target’s last output line)', { type: 'STATE', value: { bookmarks: { gong_calls: BOOKMARK } } }],
      ['Airbyte per-stream states', [{ type: 'STREAM', stream: { stream_descriptor: { name: 'gong_calls' }, stream_state: BOOKMARK } }]],
      ['one Airbyte per-stream state on its own', { type: 'STREAM', stream: { stream_descriptor: { name: 'gong_calls' }, stream_state: BOOKMARK } }],
      ['Airbyte’s legacy data blob', { data: { bookmarks: { gong_calls: BOOKMARK } } }],
    ] as const
  ).map(([shape, state], index): BadInputCase => ({
    name: `state holding ${shape}`,
    args: () => ['--config', ok(), '--catalog', file('none.json', NO_STREAMS), '--state', file(`state-shape-${index}.json`, state)],
    expect: { exit: 0 },
    check: (run) => expect((finalState(run) as { bookmarks: Record<string, unknown> }).bookmarks.gong_calls).toEqual(BOOKMARK),
  })),
  // Catalogs
  { name: 'catalog that is not JSON', args: () => ['--config', ok(), '--catalog', file('catalog-broken.json', '{"streams": [')], expect: { exit: 2, critical: /^CRITICAL catalog .*catalog-broken\.json is not valid JSON/ } },
  { name: 'empty catalog file', args: () => ['--config', ok(), '--catalog', file('catalog-empty.json', '')], expect: { exit: 2, critical: /^CRITICAL catalog .*catalog-empty\.json is empty/ } },
  { name: 'directory given as catalog', args: () => ['--config', ok(), '--properties', dir], expect: { exit: 2, critical: /^CRITICAL cannot read catalog .*: EISDIR$/ } },
  { name: 'catalog without streams', args: () => ['--config', ok(), '--catalog', file('catalog-nostreams.json', { stream: [] })], expect: { exit: 2, critical: /^CRITICAL catalog .*: streams is required; run --discover to produce a valid catalog$/ } },
  { name: 'catalog selecting an unknown stream', args: () => ['--config', ok(), '--catalog', file('catalog-unknown.json', { streams: [selected('gong_meetings')] })], expect: { exit: 2, critical: /^CRITICAL catalog .* selects unknown stream gong_meetings; run --discover for the current list$/ } },
  { name: 'catalog with metadata that is not a list', args: () => ['--config', ok(), '--catalog', file('catalog-metadata.json', { streams: [{ tap_stream_id: 'gong_users', metadata: { selected: true } }] })], expect: { exit: 2, critical: /^CRITICAL catalog .*: streams\.0\.metadata must be array/ } },
  { name: 'catalog with a breadcrumb that is a string', args: () => ['--config', ok(), '--catalog', file('catalog-breadcrumb.json', { streams: [{ tap_stream_id: 'gong_users', metadata: [{ breadcrumb: '', metadata: { selected: true } }] }] })], expect: { exit: 2, critical: /^CRITICAL catalog .*: streams\.0\.metadata\.0\.breadcrumb must be array/ } },
  { name: 'catalog with "selected": "yes"', args: () => ['--config', ok(), '--catalog', file('catalog-selected.json', { streams: [selected('gong_users', { selected: 'yes' })] })], expect: { exit: 2, critical: /^CRITICAL catalog .*: streams\.0\.metadata\.0\.metadata\.selected must be boolean/ } },
  { name: 'catalog with an unsupported replication-method', args: () => ['--config', ok(), '--catalog', file('catalog-logbased.json', { streams: [selected('gong_calls', { 'replication-method': 'LOG_BASED' })] })], expect: { exit: 2, critical: /replication-method must be one of INCREMENTAL, FULL_TABLE/ } },
  {
    name: 'catalog listing an unknown stream it does not select',
    args: () => ['--config', ok(), '--catalog', file('catalog-stale.json', { streams: [{ tap_stream_id: 'gong_meetings', metadata: [] }] })],
    expect: { exit: 0 },
    check: (run) => expect(run.lines.map((line) => line.type)).toEqual(['STATE']),
  },
  {
    name: 'catalog selecting a stream of a provider the config lacks',
    args: () => ['--config', ok(), '--catalog', file('catalog-unconfigured.json', { streams: [selected('clari_copilot_users')] })],
    expect: { exit: 0 },
    check: (run) => {
      expect(run.stderr.split('\n').filter((line) => line.startsWith('WARNING'))).toEqual(['WARNING catalog selects clari_copilot_users, but the config has no clari_copilot block: skipped']);
      expect(run.lines.map((line) => line.type)).toEqual(['STATE']);
    },
  },
  // Flags
  { name: 'an unknown flag', args: () => ['--config', ok(), '--catalgo', 'x.json'], expect: { exit: 2, critical: /^CRITICAL Unknown argument: catalgo; see tap-convo --help$/ } },
  { name: '--about with an unknown format', args: () => ['--about', '--format', 'yaml'], expect: { exit: 2, critical: /^CRITICAL Invalid values: Argument: format, Given: "yaml", Choices: "text", "json", "markdown"; see tap-convo --help$/ } },
];

const airbyteCatalog = { streams: [{ stream: { name: 'gong_users' }, sync_mode: 'full_refresh' }] };
const airbyteCases: BadInputCase[] = [
  { name: 'check with a config that is not JSON', args: () => ['check', '--config', file('ab-broken.json', '{"gong": {"access_key_secret": gong-ab-secret-1}}')], secrets: ['gong-ab-secret-1', 'gong-ab-se'], expect: { exit: 0, status: /^config .*ab-broken\.json is not valid JSON: Unexpected token 'g'$/ } },
  { name: 'check with an unknown setting', args: () => ['check', '--config', gongConfig({}, { workspace: '123' })], expect: { exit: 0, status: /^config: gong\.workspace is not a known setting$/ } },
  { name: 'check with a plain-http public base_url', args: () => ['check', '--config', gongConfig({}, { base_url: 'http://api.gong.io' })], expect: { exit: 0, status: /^config: gong\.base_url must use https/ } },
  { name: 'discover with an empty config', args: () => ['discover', '--config', file('ab-empty.json', '')], expect: { exit: 2, trace: /^config .*ab-empty\.json is empty/ } },
  { name: 'discover with wrong-typed settings', args: () => ['discover', '--config', gongConfig({}, { requests_per_second: '3' })], expect: { exit: 2, trace: /^config: gong\.requests_per_second must be number$/ } },
  { name: 'read with dates the wrong way round', args: () => ['read', '--config', gongConfig({ start_date: '2026-05-01T00:00:00Z', end_date: '2026-01-01T00:00:00Z' }), '--catalog', file('ab-catalog.json', airbyteCatalog)], expect: { exit: 2, trace: /^config: start_date .* is after end_date/ } },
  { name: 'read with a sync_mode Airbyte does not have', args: () => ['read', '--config', ok(), '--catalog', file('ab-mode.json', { streams: [{ stream: { name: 'gong_users' }, sync_mode: 'cdc' }] })], expect: { exit: 2, trace: /^catalog .*: streams\.0\.sync_mode must be one of full_refresh, incremental/ } },
  { name: 'read with incremental on a full-table stream', args: () => ['read', '--config', ok(), '--catalog', file('ab-incremental.json', { streams: [{ stream: { name: 'gong_users' }, sync_mode: 'incremental' }] })], expect: { exit: 2, trace: /^catalog: stream gong_users supports only full_refresh; change its sync mode$/ } },
  { name: 'read with a cursor field the stream does not offer', args: () => ['read', '--config', ok(), '--catalog', file('ab-cursor.json', { streams: [{ stream: { name: 'gong_calls' }, sync_mode: 'incremental', cursor_field: ['id'] }] })], expect: { exit: 2, trace: /^catalog: stream gong_calls has the source-defined cursor started; cursor field id cannot be used$/ } },
  { name: 'read with an empty catalog file', args: () => ['read', '--config', ok(), '--catalog', file('ab-catalog-empty.json', '')], expect: { exit: 2, trace: /^catalog .*ab-catalog-empty\.json is empty/ } },
  { name: 'read with a state that is not a date', args: () => ['read', '--config', ok(), '--catalog', file('ab-catalog.json', airbyteCatalog), '--state', file('ab-state.json', [{ type: 'STREAM', stream: { stream_descriptor: { name: 'gong_calls' }, stream_state: { ...BOOKMARK, replication_key_value: 'soon' } } }])], expect: { exit: 2, trace: /^state .*: bookmark of gong_calls has replication_key_value "soon", not a date-time/ } },
];

/** The sandbox is product code too: its usage errors exit 2 with one CRITICAL line before anything is served. */
const sandboxCases: BadInputCase[] = [
  { name: 'sandbox on a port in use', args: () => ['sandbox', '--port', new URL(sandbox.url).port], expect: { exit: 2, critical: /^CRITICAL --port (\d+): 127\.0\.0\.1:\1 is already in use; pick another port, or 0 for a free one$/ } },
  { name: 'sandbox on a port above 65535', args: () => ['sandbox', '--port', '70000'], expect: { exit: 2, critical: /^CRITICAL --port must be a whole number from 0 to 65535 \(0 picks a free one\)$/ } },
  { name: 'sandbox on a port that is a word', args: () => ['sandbox', '--port', 'http'], expect: { exit: 2, critical: /^CRITICAL --port must be a whole number from 0 to 65535/ } },
  { name: 'sandbox with --port and no value', args: () => ['sandbox', '--port'], expect: { exit: 2, critical: /^CRITICAL Not enough arguments following: port; see tap-convo --help$/ } },
  { name: 'sandbox with --port given twice', args: () => ['sandbox', '--port', '0', '--port', '0'], expect: { exit: 2, critical: /^CRITICAL --port was given more than once; give it once$/ } },
  { name: 'sandbox with a seed that is a word', args: () => ['sandbox', '--seed', 'seven'], expect: { exit: 2, critical: /^CRITICAL --seed must be a whole number$/ } },
  { name: 'sandbox with a scope no API has', args: () => ['sandbox', '--scopes', 'api:calls:read:everything'], expect: { exit: 2, critical: /^CRITICAL --scopes: "api:calls:read:everything" is no scope of the sandbox; they are api:/ } },
  { name: 'sandbox with scopes both granted and taken away', args: () => ['sandbox', '--scopes=api:users:read,-api:logs:read'], expect: { exit: 2, critical: /^CRITICAL --scopes takes either scopes to grant or -scopes to take away, not both$/ } },
  { name: 'sandbox writing its config into a missing directory', args: () => ['sandbox', '--config-out', join(dir, 'no-such-dir', 'sandbox.json')], expect: { exit: 2, critical: /^CRITICAL cannot write --config-out .*no-such-dir\/sandbox\.json: ENOENT$/ } },
  { name: 'sandbox writing its config over a directory', args: () => ['sandbox', '--config-out', dir], expect: { exit: 2, critical: /^CRITICAL cannot write --config-out .*: EISDIR$/ } },
];

const SCHEMA = JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } } }, key_properties: ['id'] });
const record = (id: string, n: unknown = 1) => JSON.stringify({ type: 'RECORD', stream: 'users', record: { id, n } });
const state = (last: string) => JSON.stringify({ type: 'STATE', value: { bookmarks: { users: { last } } } });
const lines = (...items: string[]) => items.join('\n') + '\n';


/** A target case: the database is named after the case, so its rows can be read afterwards. */
function targetCase(name: string, input: string[], expectation: Expectation, kept?: { ids: string[]; states: unknown[] }): BadInputCase {
  const database = () => join(dir, `${name.replace(/\W+/g, '-')}.duckdb`);
  return {
    name,
    bin: 'target-convo-duckdb',
    // batch_size_rows 1: each record commits alone, so "kept" is what came before the bad line, not a batch's luck.
    args: () => ['--config', file(`${name.replace(/\W+/g, '-')}.json`, { database: database(), batch_size_rows: 1 })],
    input: () => lines(...input),
    expect: expectation,
    check: kept
      ? async (run) => {
          expect(run.lines.map((line) => line.value)).toEqual(kept.states);
          expect(await queryDatabase(database(), 'SELECT id FROM users ORDER BY id')).toEqual(kept.ids.map((id) => ({ id })));
        }
      : undefined,
  };
}

const targetCases: BadInputCase[] = [
  targetCase('target line that is not JSON', [SCHEMA, record('1'), state('1'), '{"type": "RECORD", "stream": "users", "record": {"id": "2"'], { exit: 1, critical: /^CRITICAL line 4: not valid JSON/ }, { ids: ['1'], states: [{ bookmarks: { users: { last: '1' } } }] }),
  targetCase('target RECORD before its SCHEMA', [record('1'), SCHEMA], { exit: 1, critical: /^CRITICAL line 1: RECORD before its SCHEMA \(stream users\)$/ }),
  targetCase('target RECORD of a stream never described', [SCHEMA, record('1'), state('1'), JSON.stringify({ type: 'RECORD', stream: 'ghosts', record: { id: 'g' } })], { exit: 1, critical: /^CRITICAL line 4: RECORD before its SCHEMA \(stream ghosts\)$/ }, { ids: ['1'], states: [{ bookmarks: { users: { last: '1' } } }] }),
  targetCase('target record that does not fit its schema', [SCHEMA, record('1'), record('2'), state('2'), record('3', 'three'), state('3')], { exit: 1, critical: /^CRITICAL line 5: record does not match its schema: record\.n must be integer \(stream users\)$/ }, { ids: ['1', '2'], states: [{ bookmarks: { users: { last: '2' } } }] }),
  targetCase('target message that is a list', [SCHEMA, record('1'), '[1, 2]'], { exit: 1, critical: /^CRITICAL line 3: a Singer message must be a JSON object$/ }, { ids: ['1'], states: [] }),
  targetCase('target SCHEMA without key_properties', [JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { type: 'object' } })], { exit: 1, critical: /^CRITICAL line 1: SCHEMA needs "key_properties"/ }),
  targetCase('target SCHEMA that does not compile', [JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { type: 'strin' }, key_properties: [] })], { exit: 1, critical: /^CRITICAL line 1: the schema does not compile/ }),
  targetCase('target record without its key', [SCHEMA, record('1'), state('1'), JSON.stringify({ type: 'RECORD', stream: 'users', record: { n: 2 } }), JSON.stringify({ type: 'RECORD', stream: 'users', record: { n: 3 } })], { exit: 1, critical: /^CRITICAL line 4: record lacks key property id \(stream users\)$/ }, { ids: ['1'], states: [{ bookmarks: { users: { last: '1' } } }] }),
  targetCase('target number beyond a double', [SCHEMA, record('1'), state('1'), '{"type": "RECORD", "stream": "users", "record": {"id": "2", "n": 1e400}}'], { exit: 1, critical: /^CRITICAL line 4: a number is beyond the range of a double \(such as 1e400\) and would become Infinity \(stream users\)$/ }, { ids: ['1'], states: [{ bookmarks: { users: { last: '1' } } }] }),
  // JSON.parse's rule, which the schema check sees too: the last of a repeated key wins.
  targetCase('target record repeating a key', [SCHEMA, '{"type": "RECORD", "stream": "users", "record": {"id": "first", "n": 1, "id": "last"}}', state('1')], { exit: 0 }, { ids: ['last'], states: [{ bookmarks: { users: { last: '1' } } }] }),
  // Singer SPEC.md: any other type is permitted, so a target skips what it does not know.
  targetCase('target message of an unknown type', [SCHEMA, record('1'), JSON.stringify({ type: 'BATCH', stream: 'users' }), record('2'), state('2')], { exit: 0 }, { ids: ['1', '2'], states: [{ bookmarks: { users: { last: '2' } } }] }),
  {
    name: 'target database in a missing directory',
    bin: 'target-convo-duckdb',
    args: () => ['--database', join(dir, 'no-such-dir', 'x.duckdb')],
    input: () => lines(SCHEMA),
    expect: { exit: 2, critical: /^CRITICAL cannot open DuckDB database .*no-such-dir\/x\.duckdb: .*No such file or directory$/ },
  },
  { name: 'target database that is a directory', bin: 'target-convo-duckdb', args: () => ['--database', dir], input: () => lines(SCHEMA), expect: { exit: 2, critical: /^CRITICAL cannot open DuckDB database .*Is a directory$/ } },
  { name: 'target config with a wrong-typed database', bin: 'target-convo-duckdb', args: () => ['--config', file('target-number.json', { database: 5 })], expect: { exit: 2, critical: /^CRITICAL bad target config: config\.database must be string$/ } },
  { name: 'target config with an unknown setting', bin: 'target-convo-duckdb', args: () => ['--config', file('target-unknown.json', { database: join(dir, 'unknown.duckdb'), batch_size: 10 })], expect: { exit: 2, critical: /^CRITICAL bad target config: config\.batch_size is not a known setting$/ } },
  { name: 'target config that is not JSON', bin: 'target-convo-duckdb', args: () => ['--config', file('target-broken.json', '{"database": ')], expect: { exit: 2, critical: /^CRITICAL config .*target-broken\.json is not valid JSON/ } },
];

/** Lines that are errors: the CRITICAL line of the contract, or an ERROR log said on the way out. */
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => /^(CRITICAL|ERROR) /.test(line));

async function runCase(testCase: BadInputCase): Promise<BinaryRun> {
  const run = await runBinary(testCase.bin ?? 'tap-convo', testCase.args(), { env: testCase.env, input: testCase.input?.(), secrets: testCase.secrets, timeoutMs: 30_000 });
  const context = `stdout:\n${run.stdout.slice(0, 2000)}\nstderr:\n${run.stderr}`;
  expect(run.code, context).toBe(testCase.expect.exit);
  // No stack trace: no `    at ` frames, no `Error:` dump, on either stream.
  expect(run.stderr).not.toMatch(/^\s+at |^\w*Error:/m);
  expect(run.stdout).not.toMatch(/"stack_trace"|\n\s+at /);
  const expectation = testCase.expect;
  if ('critical' in expectation) {
    expect(errorLines(run.stderr), context).toHaveLength(1);
    expect(errorLines(run.stderr)[0]).toMatch(expectation.critical);
    // Rejected input stops before the first message: there is no STATE that could pass undelivered data.
    if (expectation.exit === 2) expect(run.stdout).toBe('');
  } else if ('trace' in expectation) {
    // https://docs.airbyte.com/understanding-airbyte/airbyte-protocol: every stdout line is an Airbyte message.
    const traces = run.lines.filter((line) => line.type === 'TRACE') as Array<{ trace: { type: string; error: { message: string; failure_type: string } } }>;
    expect(traces.map((t) => t.trace.type)).toEqual(['ERROR']);
    expect(traces[0]!.trace.error.failure_type).toBe('config_error');
    expect(traces[0]!.trace.error.message).toMatch(expectation.trace);
    expect(errorLines(run.stderr)).toEqual([`CRITICAL ${traces[0]!.trace.error.message}`]);
    expect(run.lines.some((line) => line.type === 'STATE' || line.type === 'RECORD')).toBe(false);
  } else if ('status' in expectation) {
    const statuses = run.lines.filter((line) => line.type === 'CONNECTION_STATUS') as Array<{ connectionStatus: { status: string; message: string } }>;
    expect(statuses).toHaveLength(1);
    expect(statuses[0]!.connectionStatus.status).toBe('FAILED');
    expect(statuses[0]!.connectionStatus.message).toMatch(expectation.status);
    expect(errorLines(run.stderr)).toEqual([]);
  } else {
    expect(errorLines(run.stderr), context).toEqual([]);
  }
  await testCase.check?.(run);
  return run;
}

beforeAll(async () => {
  dir = tempDir('tap-convo-bad-input-');
  sandbox = await startAllSandboxes({ seed: 7, now: () => TEST_NOW, unlimited: true });
});

afterAll(async () => {
  await sandbox?.close();
});

describe('bad input corpus', () => {
  it('has at least 40 cases', () => {
    expect(tapCases.length + airbyteCases.length + targetCases.length).toBeGreaterThanOrEqual(40);
  });

  describe.concurrent('tap-convo (Singer)', () => {
    it.each(tapCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
      await runCase(testCase);
    });
  });

  describe.concurrent('tap-convo (Airbyte)', () => {
    it.each(airbyteCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
      await runCase(testCase);
    });
  });

  describe.concurrent('tap-convo sandbox', () => {
    it.each(sandboxCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
      await runCase(testCase);
    });
  });

  describe.concurrent('target-convo-duckdb', () => {
    it.each(targetCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
      await runCase(testCase);
    });
  });

  it('clamps a bookmark in the future to the sync start with a warning, for every provider', async () => {
    const config = writeJson(dir, 'sandbox-future.json', sandbox.tapConfig());
    const streams = { gong_calls: 'started', clari_copilot_calls: 'last_modified_time', fourfour_insights: 'created_at' };
    const future = '2099-01-01T00:00:00Z';
    const state = file('state-future.json', { bookmarks: Object.fromEntries(Object.entries(streams).map(([stream, key]) => [stream, { replication_key: key, replication_key_value: future }])) });
    const catalog = file('catalog-future.json', { streams: Object.keys(streams).map((stream) => selected(stream)) });
    const started = Date.now();
    const run = await runCase({ name: 'future bookmark', args: () => ['--config', config, '--catalog', catalog, '--state', state], expect: { exit: 0 } });
    const bookmarks = (finalState(run) as { bookmarks: Record<string, { replication_key_value: string }> }).bookmarks;
    for (const stream of Object.keys(streams)) {
      expect(run.stderr).toMatch(new RegExp(`^WARNING ${stream}: the state's bookmark ${future} lies in the future; reading from \\S+ instead$`, 'm'));
      const value = Date.parse(bookmarks[stream]!.replication_key_value);
      expect(value, stream).toBeGreaterThanOrEqual(started - 1000);
      expect(value, stream).toBeLessThanOrEqual(Date.now());
    }
  });

  it('keeps the built-in schema of keys and replication keys that a catalog drops or retypes, so records match their SCHEMA', async () => {
    const config = writeJson(dir, 'sandbox-keys.json', sandbox.tapConfig());
    const catalog = file('catalog-keys.json', {
      streams: [
        { tap_stream_id: 'gong_users', schema: { type: 'object', properties: { emailAddress: { type: ['string', 'null'] } } }, metadata: [{ breadcrumb: [], metadata: { selected: true } }] },
        { tap_stream_id: 'gong_calls', schema: { type: 'object', properties: { id: { type: 'integer' }, started: { type: 'integer' }, title: { type: ['string', 'null'] } } }, metadata: [{ breadcrumb: [], metadata: { selected: true } }] },
      ],
    });
    const run = await runCase({ name: 'retyped keys', args: () => ['--config', config, '--catalog', catalog], expect: { exit: 0 } });
    const schemas = new Map(run.lines.filter((line) => line.type === 'SCHEMA').map((line) => [line.stream as string, line.schema as { properties: Record<string, unknown> }]));
    expect(schemas.get('gong_users')!.properties.id).toEqual({ type: 'string' });
    expect(schemas.get('gong_calls')!.properties.id).toMatchObject({ type: 'string' });
    expect(schemas.get('gong_calls')!.properties.started).toMatchObject({ type: 'string', format: 'date-time' });
    const checks = new Map([...schemas].map(([stream, schema]) => [stream, validator(schema, 'record')]));
    const records = run.lines.filter((line) => line.type === 'RECORD');
    expect(new Set(records.map((line) => line.stream))).toEqual(new Set(['gong_users', 'gong_calls']));
    for (const line of records) expect(checks.get(line.stream as string)!(line.record)).toBeUndefined();
  });

  it('syncs a catalog whose selected stream names fields and properties the stream does not have', async () => {
    const config = writeJson(dir, 'sandbox.json', sandbox.tapConfig());
    const usersSchema = { type: 'object', properties: { id: { type: 'string' }, no_such_property: { type: ['string', 'null'] } } };
    const catalog = file('catalog-extra-fields.json', {
      streams: [{ tap_stream_id: 'gong_users', schema: usersSchema, metadata: [{ breadcrumb: [], metadata: { selected: true } }, { breadcrumb: ['properties', 'no_such_field'], metadata: { selected: true } }] }],
    });
    const run = await runCase({ name: 'extra fields', args: () => ['--config', config, '--catalog', catalog], expect: { exit: 0 } });
    const records = run.lines.filter((line) => line.type === 'RECORD');
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((line) => line.stream))).toEqual(new Set(['gong_users']));
    expect(run.lines.at(-1)!.type).toBe('STATE');
  });
});
