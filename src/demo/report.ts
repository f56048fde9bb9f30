import { DuckDBInstance } from '@duckdb/node-api';
import type { DemoResult } from './pipeline.js';

/** Example questions a new user can ask of the loaded tables; each runs only if its tables exist. */
const EXAMPLES: ReadonlyArray<{ title: string; tables: string[]; sql: string }> = [
  {
    title: 'Gong talk time per user (minutes)',
    tables: ['gong_calls', 'gong_users'],
    sql: `SELECT coalesce(u."firstName" || ' ' || u."lastName", s.user_id) AS user, round(sum(s.talk) / 60, 1) AS talk_minutes, count(*) AS calls
          FROM (SELECT unnest(from_json(interaction->'speakers', '[{"userId":"VARCHAR","talkTime":"DOUBLE"}]')) AS sp FROM gong_calls) t,
               LATERAL (SELECT t.sp.userId AS user_id, t.sp.talkTime AS talk) s
          LEFT JOIN gong_users u ON u.id = s.user_id
          WHERE s.user_id IS NOT NULL GROUP BY 1 ORDER BY talk_minutes DESC LIMIT 5`,
  },
  {
    title: 'Gong calls per week',
    tables: ['gong_calls'],
    sql: `SELECT strftime(date_trunc('week', started), '%Y-%m-%d') AS week, count(*) AS calls FROM gong_calls GROUP BY 1 ORDER BY 1 DESC LIMIT 5`,
  },
  {
    title: 'Gong average overall scorecard score per reviewed user',
    tables: ['gong_answered_scorecards', 'gong_users'],
    sql: `SELECT coalesce(u."firstName" || ' ' || u."lastName", s.user_id) AS user, round(avg(s.score), 2) AS average_score, count(*) AS scorecards
          FROM (SELECT "reviewedUserId" AS reviewed, unnest(from_json(answers, '[{"isOverall":"BOOLEAN","score":"INTEGER"}]')) AS a FROM gong_answered_scorecards) t,
               LATERAL (SELECT t.reviewed AS user_id, t.a.score AS score, t.a.isOverall AS overall) s
          LEFT JOIN gong_users u ON u.id = s.user_id
          WHERE s.overall GROUP BY 1 ORDER BY average_score DESC LIMIT 5`,
  },
  {
    title: 'Clari Copilot calls by status',
    tables: ['clari_copilot_calls'],
    sql: `SELECT status, count(*) AS calls FROM clari_copilot_calls GROUP BY 1 ORDER BY 2 DESC LIMIT 5`,
  },
];

function table(rows: Record<string, unknown>[]): string {
  if (!rows.length) return '  (no rows)';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => '  ' + values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Rows per table, elapsed time, and the example queries with their answers. */
export async function demoReport(database: string, result: DemoResult): Promise<string> {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  try {
    const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    const tables = (await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`)).map((r) => String(r.table_name));
    const counts = [];
    for (const name of tables) counts.push({ table: name, rows: Number((await query(`SELECT count(*) AS n FROM "${name}"`))[0]!.n) });
    const parts = [
      '',
      `Loaded ${database} in ${result.elapsedSeconds.toFixed(1)} s (${result.incremental ? 'incremental run from the saved state' : 'first run: full history'}).`,
      '',
      table(counts),
    ];
    for (const example of EXAMPLES.filter((e) => e.tables.every((t) => tables.includes(t)))) {
      parts.push('', `${example.title}:`, table(await query(example.sql)));
    }
    parts.push('', `State saved to ${result.statePath}; run \`tap-convo demo\` again for an incremental load.`, `Explore: duckdb ${database}`);
    return parts.join('\n');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
