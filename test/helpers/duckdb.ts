import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** Opens a DuckDB file for one piece of work and closes it again, so a binary can open it next. */
export async function withDatabaseFile<T>(database: string, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The rows of one query against a DuckDB file, as JSON-friendly objects. */
export function queryDatabase(database: string, sql: string): Promise<Record<string, unknown>[]> {
  return withDatabaseFile(database, async (connection) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
}
